"""`prospect score --lead` without pandas (jobs/score_lead.py) prints what the frame's path
(jobs/score.run_scoring + scoring/writers) prints: the same CSV bytes, JSON, table and
notes, for hundreds of generated leads given as JSON (text as a CRM writes it, numbers
as JSON numbers, fields left out or blank, unseen categories), with the default pipeline
and with a French CRM's; and the command imports neither pandas nor the other heavy
libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from prospect_predictor.errors import ProspectError
from prospect_predictor.jobs.score import run_scoring
from prospect_predictor.jobs.score_lead import OneLeadReport, run_one_lead
from prospect_predictor.scoring.one_lead import csv_text
from prospect_predictor.scoring.rows import json_text
from prospect_predictor.scoring.rows import table as rows_table
from prospect_predictor.scoring.writers import table, write_scores
from prospect_predictor.synthetic.generate import write_history

HEAVY = ("pandas", "pyarrow", "sklearn", "scipy", "shap", "mlflow", "matplotlib")


def lead_jsons(path: Path, sep: str, count: int) -> list[str]:
    """``count`` leads of a generated file, each as one JSON object in a different way:
    cells as written (text), numbers as JSON numbers, some fields left out, given blank or
    null, an id or not, a category never seen in training."""
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False).head(count)
    leads = []
    for i, row in enumerate(frame.drop(columns=["outcome"], errors="ignore").to_dict("records")):
        lead: dict = {}
        for k, (name, cell) in enumerate(row.items()):
            if (i + k) % 11 == 0:
                continue  # left out
            if (i + k) % 13 == 0:
                lead[name] = None if i % 2 else ""
            elif i % 3 == 1:
                try:
                    number = float(cell)
                except ValueError:
                    lead[name] = cell
                else:
                    lead[name] = int(number) if number.is_integer() else number
            else:
                lead[name] = cell
        if i % 4 == 0:
            lead.pop("prospect_id", None)
        if i % 17 == 5:
            lead["referral_source"] = "TikTok"
        leads.append(json.dumps(lead, ensure_ascii=i % 2 == 0))
    return leads


def rendered(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def assert_same_output(model: Path, lead: str) -> OneLeadReport | None:
    """Every format of one lead, both paths; or the same refusal (None)."""
    try:
        report = run_scoring(model, lead_json=lead)
    except ProspectError as exc:
        with pytest.raises(ProspectError) as refused:
            run_one_lead(model, lead)
        assert str(refused.value) == str(exc)
        return None
    fast = run_one_lead(model, lead)
    assert isinstance(fast, OneLeadReport), lead
    assert fast.drift_warnings == report.drift_warnings
    assert fast.unknown_fields == report.leads.unknown_fields
    assert fast.notices == report.notices
    assert csv_text(fast.row) == write_scores(report.frame, "csv", None, report.records, False)
    for fmt in ("json", "jsonl"):
        expected = write_scores(report.frame, fmt, None, report.records, False)
        assert json_text([fast.record], fmt) == expected
    classes = list(report.metadata["classes"])
    for width in (160, 80):  # the table, and one block per lead in a narrow terminal
        expected = rendered(table(report.frame, report.lang, classes, width), width)
        assert rendered(rows_table([fast.row], fast.lang, classes, width), width) == expected
    return fast


def test_three_hundred_generated_leads_print_the_same(trained_folder):
    folder, _ = trained_folder
    model = folder / "models" / "prospects"
    leads = lead_jsons(folder / "leads.csv", ",", 300)
    reports = [assert_same_output(model, lead) for lead in leads]
    assert None not in reports  # every field of the default schema may be left blank
    # the leads cover what matters: unknown fields, unseen categories, every recommendation
    assert sum(bool(r.unknown_fields) for r in reports) > 100
    assert sum(bool(r.drift_warnings) for r in reports) >= 10
    assert {r.row["recommendation"] for r in reports} == {"pursue", "qualify", "walk_away"}
    assert sum(r.row["incomplete_record"] for r in reports) > 0


def test_one_lead_is_explained_the_same(trained_folder):
    """`prospect explain --lead` (no chart) shows what the frame's path shows."""
    from prospect_predictor.reporting.explain_view import render_explanation, render_prospect

    folder, _ = trained_folder
    model = folder / "models" / "prospects"
    for lead in lead_jsons(folder / "leads.csv", ",", 40):
        fast = run_one_lead(model, lead)
        report = run_scoring(model, lead_json=lead)
        for width in (160, 80):
            mine = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
            theirs = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
            render_prospect(fast.scores, fast.row, fast.metadata, fast.lang, mine)
            render_explanation(report, theirs)
            assert mine.export_text() == theirs.export_text()


def test_a_lead_in_french_prints_the_same(trained_folder):
    folder, _ = trained_folder
    lead = '{"postponements": "3", "decision_maker_present": "oui", "region": "Mars"}'
    french = run_one_lead(folder / "models" / "prospects", lead, "fr")
    report = run_scoring(folder / "models" / "prospects", lead_json=lead, lang="fr")
    assert french.lang == "fr" and french.drift_warnings == report.drift_warnings
    assert csv_text(french.row) == write_scores(report.frame, "csv", None, report.records, False)


@pytest.fixture(scope="module")
def french_crm_bundle(tmp_path_factory, run_cli_module):
    """A model trained on the French CRM export with the finished draft pipeline
    (docs/bring-your-own-data.md), and new leads exported the same way."""
    from tests.synthetic.test_crm_export import _finish

    folder = tmp_path_factory.mktemp("crm")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        write_history(3_000, 7, folder / "crm.csv", french_crm=True)
        write_history(300, 8, folder / "leads.csv", new_leads=True, french_crm=True)
        drafted = run_cli_module("init-pipeline", "--data", "crm.csv", "--out", "draft.toml")
        assert drafted.exit_code == 0, drafted.output
        finished = _finish(folder / "draft.toml", folder / "crm.toml")
        text = finished.read_text().replace("folds = 5", "folds = 3")
        finished.write_text(text)
        trained = run_cli_module("train", "--data", "crm.csv", "--pipeline", "crm.toml")
        assert trained.exit_code == 0, trained.output
    bundles = list((folder / "models").iterdir())
    assert len(bundles) == 1
    return folder, bundles[0]


@pytest.fixture(scope="module")
def run_cli_module():
    """The real entry point in this process, for a module's fixture (run_cli is per test)."""
    from prospect_predictor.cli.main import main

    def run(*args: str):
        argv = sys.argv
        sys.argv = ["prospect", *map(str, args)]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = argv
        return type("Result", (), {"exit_code": code, "output": ""})()

    return run


def test_leads_of_a_french_crm_print_the_same(french_crm_bundle):
    folder, model = french_crm_bundle
    leads = lead_jsons(folder / "leads.csv", ";", 150)
    reports = [assert_same_output(model, lead) for lead in leads]
    assert 10 <= reports.count(None) <= 100  # a required field given blank: refused alike
    reports = [r for r in reports if r is not None]
    assert any("€" in lead for lead in leads) and any("oui" in lead for lead in leads)
    assert sum(bool(r.unknown_fields) for r in reports) >= 30


def _prospect(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "prospect_predictor", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def imported(stderr: str) -> set[str]:
    """The top-level packages ``-X importtime`` says were imported."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "jsonl", "explain"])
def test_one_lead_from_the_command_line_imports_no_pandas(trained_folder, fmt):
    folder, _ = trained_folder
    lead = '{"investable_assets_eur": 250000, "postponements": 3, "region": "Mars"}'
    if fmt == "explain":
        done = _prospect("explain", "--lead", lead, cwd=folder)
        assert done.returncode == 0, done.stderr[-2000:]
        assert not imported(done.stderr) & set(HEAVY)
        assert "3 postponements" in done.stdout
        return
    done = _prospect("score", "--lead", lead, "--format", fmt, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    names = imported(done.stderr)
    assert "numpy" in names and "prospect_predictor" in names  # the hook saw the imports
    assert not names & set(HEAVY), names & set(HEAVY)
    report = run_scoring(folder / "models" / "prospects", lead_json=lead)
    if fmt == "table":
        assert "Walk away" in done.stdout or "Qualify" in done.stdout or "Pursue" in done.stdout
    else:
        assert done.stdout == write_scores(report.frame, fmt, None, report.records, False)
    assert "region: 1 value(s) never seen in training" in done.stderr
    assert "unknown (not given): referral_source" in done.stderr


def test_a_value_only_pandas_reads_goes_through_the_frame(trained_folder, run_cli, monkeypatch):
    """pandas reads "+6e 0" as 6: that lead is scored by the frame's path, same output."""
    folder, _ = trained_folder
    monkeypatch.chdir(folder)
    lead = '{"postponements": "+6e 0", "no_shows": 1}'
    assert isinstance(run_one_lead(folder / "models" / "prospects", lead), tuple)
    result = run_cli("score", "--lead", lead, "--format", "csv")
    assert result.exit_code == 0, result.output
    report = run_scoring(folder / "models" / "prospects", lead_json=lead)
    assert report.frame["top_drivers"].str.contains("6 postponements").all()
    assert result.stdout == write_scores(report.frame, "csv", None, report.records, False)


def test_a_bad_lead_is_refused_alike_from_the_command_line(trained_folder, run_cli, monkeypatch):
    folder, _ = trained_folder
    monkeypatch.chdir(folder)
    lead = '{"postponements": "abc", "no_shows": 2.5, "meetings_held": -1}'
    result = run_cli("score", "--lead", lead)
    assert result.exit_code == 1
    with pytest.raises(ProspectError) as frame_path:
        run_scoring(folder / "models" / "prospects", lead_json=lead)
    assert result.stderr.replace("\n", " ").split() == (
        f"error: {frame_path.value}".replace("\n", " ").split()
    )


def test_a_carriage_return_in_a_csv_cell_is_written_by_the_frames_writer(
    trained_folder, run_cli, monkeypatch
):
    """The frame's CSV writer quotes every text cell when one holds a carriage return."""
    folder, _ = trained_folder
    monkeypatch.chdir(folder)
    lead = json.dumps({"prospect_id": "=a\rb", "postponements": 2})
    fast = run_one_lead(folder / "models" / "prospects", lead)
    assert csv_text(fast.row) is None
    result = run_cli("score", "--lead", lead, "--format", "csv")
    assert result.exit_code == 0, result.output
    report = run_scoring(folder / "models" / "prospects", lead_json=lead)
    assert result.stdout == write_scores(report.frame, "csv", None, report.records, False)
    assert result.stdout.count("unknown (not given)") == 0
    assert result.stderr.count("unknown (not given)") == 1  # said once, not by both paths
