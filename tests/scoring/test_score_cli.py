"""`prospect score` and `prospect explain` as an advisor uses them."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from prospect_predictor.domain import REASONS
from prospect_predictor.scoring.score import output_columns

STABLE_COLUMNS = [
    "prospect_id",
    "p_win_win",
    "p_win_lose",
    "p_stalled",
    "p_declined",
    "recommendation",
    "top_reason",
    "top_reason_outcome",
    "top_reason_points",
    *[
        f"reason_{r}__{o}"
        for r in (*REASONS, "context")
        for o in ("win_lose", "stalled", "declined")
    ],
    "top_drivers",
    "advice",
    "incomplete_record",
    "no_data_reasons",
    "unknown_fields",
]


@pytest.fixture
def in_trained(trained_folder, monkeypatch):
    folder, _ = trained_folder
    monkeypatch.chdir(folder)
    return folder


def test_csv_output_has_the_documented_columns(run_cli, in_trained):
    result = run_cli("score", "leads.csv", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split(",") == STABLE_COLUMNS
    assert len(lines) == 401


def test_json_output_carries_every_reason_and_outcome(run_cli, in_trained):
    result = run_cli("score", "leads.csv", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)  # stdout holds data only
    assert len(records) == 400
    first = records[0]
    assert set(first["contributions"]) == {*REASONS, "context"}
    for reason in first["contributions"].values():
        assert set(reason) == {"win_win", "win_lose", "stalled", "declined"}
        assert reason["win_win"] == 0.0
    assert first["contribution_unit"] == "log-odds against win_win"
    assert (
        abs(sum(first[f"p_{o}"] for o in ("win_win", "win_lose", "stalled", "declined")) - 1) < 1e-9
    )


def test_parquet_and_csv_files_agree(run_cli, in_trained):
    assert run_cli("score", "leads.csv", "--out", "scored.parquet").exit_code == 0
    assert run_cli("score", "leads.csv", "--out", "scored.csv").exit_code == 0
    parquet = pd.read_parquet(in_trained / "scored.parquet")
    csv = pd.read_csv(in_trained / "scored.csv", keep_default_na=False)
    assert list(parquet.columns) == STABLE_COLUMNS
    assert [name for name, _ in output_columns()] == STABLE_COLUMNS  # what Spark declares
    assert (parquet["recommendation"] == csv["recommendation"]).all()
    assert (parquet["p_stalled"] - csv["p_stalled"]).abs().max() < 1e-12


def test_table_in_french_and_english(run_cli, in_trained):
    english = run_cli("score", "leads.csv", "--lang", "en", "--format", "table")
    french = run_cli("score", "leads.csv", "--lang", "fr", "--format", "table")
    assert english.exit_code == 0 and french.exit_code == 0
    assert "Correct me if I'm wrong" in english.stdout or "Refer" in english.stdout
    assert english.stdout != french.stdout


def test_the_table_shows_the_first_leads_and_says_how_to_get_them_all(
    run_cli, in_trained, monkeypatch
):
    import prospect_predictor.jobs.score as jobs
    import prospect_predictor.scoring.writers as writers

    whole = jobs.run_scoring(None, "leads.csv", lang="en")  # every row, in memory
    monkeypatch.setattr(writers, "TABLE_ROWS", 7)
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False).head(40)
    frame.loc[3, "no_shows"] = "-1"  # rejected: the table's first rows are the scored ones
    frame.to_csv(in_trained / "forty.csv", index=False)
    streamed = jobs.run_file_scoring(None, "forty.csv", None, "table", "en")
    assert streamed.scored == 39 and len(streamed.shown) == 7
    expected = whole.frame.drop(index=3).head(7).reset_index(drop=True)
    pd.testing.assert_frame_equal(streamed.shown, expected, check_exact=True)

    def whole_file_in_memory(*args, **kwargs):
        raise AssertionError("the table held the whole file in memory")

    monkeypatch.setattr(jobs, "run_scoring", whole_file_in_memory)
    shown = run_cli("score", "forty.csv", "--format", "table")
    assert shown.exit_code == 0, shown.output
    ids = frame["prospect_id"]
    assert all(pid in shown.stdout for pid in ids.drop(index=3).head(7))
    assert not any(pid in shown.stdout for pid in ids.iloc[8:])
    assert "showing the first 7 of 39 scored leads; for all of them, --out FILE" in shown.stderr
    assert "1 row(s) rejected, written to forty.rejects.csv" in shown.stderr
    monkeypatch.setattr(writers, "TABLE_ROWS", 39)
    all_shown = run_cli("score", "forty.csv", "--format", "table")
    assert all_shown.exit_code == 0 and "showing the first" not in all_shown.stderr
    assert all(pid in all_shown.stdout for pid in ids.drop(index=3))


@pytest.mark.parametrize(
    "option, value, listed", [("--lang", "de", "'en', 'fr'"), ("--format", "xml", "'jsonl'")]
)
def test_an_unlisted_choice_is_a_usage_error_listing_the_choices(
    run_cli, in_trained, option, value, listed
):
    result = run_cli("score", "leads.csv", option, value)
    assert result.exit_code == 2
    assert listed in result.stderr and "Traceback" not in result.output


def test_piped_output_is_csv_and_jsonl_is_one_object_per_line(run_cli, in_trained):
    """The table is for a terminal: captured or piped, the default is CSV."""
    piped = run_cli("score", "leads.csv")
    assert piped.exit_code == 0 and piped.stdout.startswith("prospect_id,p_win_win,")
    lines = run_cli("score", "leads.csv", "--format", "jsonl").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(pd.read_csv(in_trained / "leads.csv"))
    assert all(
        set(r) >= {"prospect_id", "recommendation", "advice", "contributions"} for r in records
    )
    assert run_cli("score", "leads.csv", "--out", "s.jsonl").exit_code == 0
    assert (in_trained / "s.jsonl").read_text().splitlines() == lines


def test_dash_reads_leads_from_standard_input(run_cli, in_trained, monkeypatch):
    import io
    import types

    data = (in_trained / "leads.csv").read_bytes()
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=io.BytesIO(data)))
    from_stdin = run_cli("score", "-", "--format", "csv")
    assert from_stdin.exit_code == 0, from_stdin.output
    assert from_stdin.stdout == run_cli("score", "leads.csv", "--format", "csv").stdout


def test_a_narrow_terminal_gets_one_block_per_lead_with_whole_ids(scored_frame):
    """In 80 columns the full table would squeeze the ids; each lead gets a block."""
    from rich.console import Console

    from prospect_predictor.scoring.writers import table

    frame = scored_frame.assign(
        prospect_id=[f"PROSPECT-2026-{i:06d}" for i in range(len(scored_frame))]
    )
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(table(frame, "en", ["win_win", "win_lose", "stalled", "declined"], 80))
    text = console.export_text()
    assert all(pid in text for pid in frame["prospect_id"]), text
    assert "┃" not in text  # blocks, not a table
    assert max(len(line) for line in text.splitlines()) <= 80
    wide = Console(width=200, record=True, file=io.StringIO())
    wide.print(table(frame, "en", ["win_win", "win_lose", "stalled", "declined"], 200))
    wide_text = wide.export_text()
    assert all(pid in wide_text for pid in frame["prospect_id"]), wide_text


def test_bad_rows_are_rejected_and_good_rows_scored(run_cli, in_trained):
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False).head(10)
    frame.loc[2, "postponements"] = "three"
    frame.loc[5, "no_shows"] = "-3"
    frame.loc[7, "referral_source"] = "tv_advert"  # never seen in training: unknown, scored
    frame.to_csv(in_trained / "some_bad.csv", index=False)
    result = run_cli("score", "some_bad.csv", "--out", "out.csv")
    assert result.exit_code == 0, result.output
    assert "2 row(s) rejected" in result.stderr
    assert "row 3: postponements" in result.stderr and "row 6: no_shows" in result.stderr
    assert (
        "referral_source: 1 value(s) never seen in training, in 1 lead(s), scored as unknown: "
        "'tv_advert'" in result.stderr
    )
    scored = pd.read_csv(in_trained / "out.csv")
    assert len(scored) == 8 and frame.loc[7, "prospect_id"] in scored["prospect_id"].tolist()
    rejects = pd.read_csv(in_trained / "out.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["3", "6"]
    assert rejects.loc[0, "postponements"] == "three"
    assert "wrong type" in rejects.loc[0, "problems"]


def test_a_file_without_any_usable_row_fails(run_cli, in_trained):
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False).head(3)
    frame["no_shows"] = "-1"
    frame.to_csv(in_trained / "all_bad.csv", index=False)
    result = run_cli("score", "all_bad.csv", "--format", "csv")
    assert result.exit_code == 1
    assert "no row can be scored" in result.stderr
    assert result.stdout == ""


def test_formula_like_cells_are_escaped(run_cli, in_trained):
    frame = pd.read_csv(in_trained / "leads.csv", dtype=str, keep_default_na=False).head(4)
    frame.loc[0, "prospect_id"] = '=HYPERLINK("http://x")'
    frame.loc[1, "prospect_id"] = "@SUM(A1)"
    frame.loc[2, "prospect_id"] = "+1-2"
    frame.to_csv(in_trained / "formulas.csv", index=False)
    result = run_cli("score", "formulas.csv", "--format", "csv")
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str)
    assert scored["prospect_id"].tolist()[:3] == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "'+1-2"]
    assert not scored["reason_poor_fit__stalled"].str.startswith("'").any()


def test_one_lead_as_json_reports_unknown_fields(run_cli, in_trained):
    lead = json.dumps(
        {"investable_assets_eur": 250000, "postponements": 5, "decision_maker_present": False}
    )
    result = run_cli("score", "--lead", lead, "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)[0]
    assert record["prospect_id"] == "lead"
    assert "referral_source" in record["unknown_fields"]
    assert "postponements" not in record["unknown_fields"]
    assert "unknown" in result.stderr


@pytest.mark.parametrize(
    "lead, message",
    [
        ("{not json", "not valid JSON"),
        ('{"postponement": 3}', "did you mean 'postponements'"),
        ('{"postponements": "many"}', "column 'postponements'"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_lead_gets_a_clear_message(run_cli, in_trained, lead, message):
    result = run_cli("score", "--lead", lead)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_bundle_says_how_to_train(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("score", "--lead", "{}")
    assert result.exit_code == 1
    assert "prospect train" in result.stderr


def test_input_is_never_overwritten(run_cli, in_trained):
    before = (in_trained / "leads.csv").read_bytes()
    result = run_cli("score", "leads.csv", "--out", "leads.csv")
    assert result.exit_code == 1
    assert "is the input file" in result.stderr
    assert (in_trained / "leads.csv").read_bytes() == before


def test_explain_shows_every_reason_and_saves_a_waterfall(run_cli, in_trained):
    result = run_cli("explain", "L000007", "--input", "leads.csv", "--plot", "l7.png")
    assert result.exit_code == 0, result.output
    for label in ("Poor fit", "Product mismatch", "Strung along", "advice"):
        assert label in result.stdout
    assert "= this prospect" in result.stdout
    assert (in_trained / "l7.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = run_cli("explain", "NOPE", "--input", "leads.csv")
    assert missing.exit_code == 1
    assert "no prospect with prospect_id 'NOPE'" in missing.stderr


def test_the_waterfall_speaks_the_advisors_language(run_cli, in_trained, monkeypatch):
    from prospect_predictor.reporting import charts

    drawn = {}

    def keep(figure, path):  # record the chart's words instead of writing the PNG
        drawn["texts"] = [t.get_text() for t in figure.axes[0].get_yticklabels()]
        drawn["legend"] = [t.get_text() for t in figure.legends[0].get_texts()]
        drawn["notes"] = [t.get_text() for t in figure.axes[0].texts]
        drawn["title"] = figure.axes[0].get_title()
        return path

    monkeypatch.setattr(charts, "save_png", keep)
    # not l7.png, drawn above: an existing chart is never replaced without --overwrite
    result = run_cli(
        "explain", "L000007", "--input", "leads.csv", "--plot", "l7_fr.png", "--lang", "fr"
    )
    assert result.exit_code == 0, result.output
    assert drawn["texts"][0] == "prospect moyen" and drawn["texts"][-1] == "ce prospect"
    assert any(t.startswith("Produit inadapté") for t in drawn["texts"])  # a block header
    assert drawn["legend"] == [
        "augmente la valeur (pousse à droite)",
        "la diminue (pousse à gauche)",
        "effet net d'une raison (crochet)",  # the brackets of the reason rows, explained
    ]
    assert not any("other features" in t or "average" in t for t in drawn["texts"])
    # the two ends say the chance beside the log-odds; no "-0.00" anywhere; the id whole
    assert sum("probabilité" in t for t in drawn["notes"]) == 2
    assert not any(t.startswith(("-0.00", "+0.00")) for t in drawn["notes"] + drawn["texts"])
    assert drawn["title"].startswith("L000007")


def test_one_lead_leaves_the_garbage_collector_as_it_found_it(run_cli, in_trained):
    """`--lead` pauses the cyclic GC while it runs (a start-up cost); main() restores it, so
    a longer process calling main() (these tests) keeps collecting."""
    import gc

    assert gc.isenabled()
    for command in ("score", "explain"):
        result = run_cli(command, "--lead", '{"postponements": 3}')
        assert result.exit_code == 0, result.output
        assert gc.isenabled()
    bad = run_cli("score", "--lead", "not json")
    assert bad.exit_code == 1 and gc.isenabled()


def _console_script(*args: str, cwd) -> subprocess.CompletedProcess:
    import sysconfig

    script = Path(sysconfig.get_path("scripts")) / "prospect"
    return subprocess.run([str(script), *args], capture_output=True, text=True, cwd=cwd)


def test_one_lead_through_the_console_script_delivers_all_its_output(in_trained):
    """`prospect score --lead` ends without the interpreter's teardown (cli.run): whatever it
    printed must still arrive whole, with the right exit status, and a file it wrote too."""
    lead = '{"investable_assets_eur": 250000, "postponements": 3}'
    done = _console_script("score", "--lead", lead, "--format", "json", cwd=in_trained)
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(done.stdout)  # the whole JSON document arrived
    assert record["prospect_id"] == "lead" and "unknown (not given)" in done.stderr
    written = _console_script(
        "score", "--lead", lead, "--out", "one.csv", "--format", "csv", cwd=in_trained
    )
    assert written.returncode == 0, written.stderr
    lines = (in_trained / "one.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[0].split(",") == STABLE_COLUMNS
    refused = _console_script("score", "--lead", '{"bogus": 1}', cwd=in_trained)
    assert refused.returncode == 1
    assert "unknown field(s) 'bogus'" in refused.stderr and "Traceback" not in refused.stderr
    explained = _console_script("explain", "--lead", lead, cwd=in_trained)
    assert explained.returncode == 0, explained.stderr
    assert "= this prospect" in explained.stdout


def test_other_commands_exit_normally_through_the_console_script(in_trained):
    done = _console_script("score", "leads.csv", "--format", "csv", cwd=in_trained)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 401
    missing = _console_script("score", "no-such.csv", cwd=in_trained)
    assert missing.returncode == 1 and "no-such.csv" in missing.stderr


@pytest.fixture
def scored_frame(run_cli, in_trained):
    out = run_cli("score", "leads.csv", "--format", "csv")
    return pd.read_csv(io.StringIO(out.stdout), keep_default_na=False).head(5)


def test_every_command_help_shows_an_example(run_cli):
    for command in (
        "generate",
        "validate",
        "train",
        "compare",
        "score",
        "explain",
        "evaluate",
        "retrain",
        "runs",
        "init-pipeline",
        "demo",
    ):
        shown = run_cli(command, "--help")
        assert shown.exit_code == 0 and "Example" in shown.stdout, command
    assert "--install-completion" in run_cli("--help").stdout
