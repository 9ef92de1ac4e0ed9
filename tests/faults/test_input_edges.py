"""Input at its edges, through the real CLI: formula cells in every CSV written, columns
leads may leave out (score and validate --leads agree), --lead JSON's blanks, duplicate
keys, @file and standard input, a pipeline's model params checked at load, and a 1 MB cell
never echoed whole."""

from __future__ import annotations

import csv
import io
import json
import sys

import pandas as pd
import pytest

import prospect_predictor.data.leads as leads_module
from tests.conftest import write_pipeline

FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\t=1", "\r=1"]


def _leads(folder, rows: int = 10) -> pd.DataFrame:
    return pd.read_csv(folder / "leads.csv", dtype=str, keep_default_na=False).head(rows)


# ----------------------------------------------------------------- formulas in CSV files


def test_rejects_escape_formula_cells_and_keep_numbers(run_cli, work):
    folder, model = work
    frame = _leads(folder, 12)
    for i, cell in enumerate(FORMULAS):  # each row rejected by its postponements
        frame.loc[i, "postponements"] = "x"
        frame.loc[i, "occupation"] = cell
    frame.loc[6, "no_shows"] = "-3"  # out of range: a number, rejected, left as written
    frame.to_csv(folder / "f.csv", index=False, quoting=csv.QUOTE_ALL)  # "\r" kept in a cell
    result = run_cli("score", "f.csv", "--out", "f_scored.csv", *model)
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(folder / "f_scored.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["occupation"].tolist()[:6] == ["'" + cell for cell in FORMULAS]
    assert rejects.loc[6, "no_shows"] == "-3"
    assert rejects["row"].tolist() == [str(r) for r in range(1, 8)]
    # the problems column quotes the cells too, escaped where it would start a formula
    assert not any(p.startswith(("=", "+", "-", "@")) for p in rejects["problems"])
    # to the terminal, the rejects beside the input are escaped alike
    to_stdout = run_cli("score", "f.csv", "--format", "csv", *model)
    assert to_stdout.exit_code == 0, to_stdout.output
    beside = pd.read_csv(folder / "f.rejects.csv", dtype=str, keep_default_na=False)
    assert beside["occupation"].tolist()[:6] == ["'" + cell for cell in FORMULAS]


def test_every_csv_written_through_tableio_is_escaped(tmp_path):
    from prospect_predictor.data.tableio import CsvAppender, write_table

    frame = pd.DataFrame(
        {"text": ["=1+1", "-3", "ok", "@x"], "number": [-1.5, 2.0, -3.0, 4.0], "=head": 1}
    )
    write_table(frame, tmp_path / "w.csv")
    appender = CsvAppender(tmp_path / "a.csv")
    appender.append(frame.head(2))
    appender.append(frame.tail(2))
    appender.finish(overwrite=False)
    written = (tmp_path / "w.csv").read_text()
    assert written == (tmp_path / "a.csv").read_text()
    assert written.splitlines() == [
        "text,number,'=head",
        "'=1+1,-1.5,1",
        "-3,2.0,1",
        "ok,-3.0,1",
        "'@x,4.0,1",
    ]


# ----------------------------------------------------------- columns leads may leave out


def test_score_and_validate_agree_on_columns_leads_may_leave_out(run_cli, work, monkeypatch):
    folder, model = work
    frame = pd.read_csv(folder / "leads.csv", dtype=str, keep_default_na=False)
    frame = frame.drop(columns=["age_years", "marital_status", "first_contact_date"])
    frame.to_csv(folder / "lean.csv", index=False)
    monkeypatch.setattr(leads_module, "CHUNK_ROWS", 64)  # seven chunks: still said once
    scored = run_cli("score", "lean.csv", "--out", "lean_scored.csv", *model)
    assert scored.exit_code == 0, scored.output
    notes = [line for line in scored.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: lean.csv: column(s) 'age_years', 'first_contact_date', 'marital_status' not in "
        "the file; the model does not read them, so the leads are scored without them "
        "(docs/scoring.md)"
    ]
    assert len(pd.read_csv(folder / "lean_scored.csv")) == 400
    in_memory = run_cli("score", "lean.csv", "--format", "csv", *model)
    assert in_memory.exit_code == 0 and in_memory.stderr.count("note:") == 1
    validated = run_cli("validate", "lean.csv", "--leads")
    assert validated.exit_code == 0, validated.output
    for column in ("age_years", "marital_status", "first_contact_date"):
        assert f"warning: lean.csv: column {column!r} is absent" in validated.stdout
    assert "— valid" in validated.stdout


def test_a_column_the_model_reads_is_required_by_both(run_cli, work):
    folder, model = work
    _leads(folder).drop(columns=["postponements"]).to_csv(folder / "short.csv", index=False)
    scored = run_cli("score", "short.csv", "--format", "csv", *model)
    assert scored.exit_code == 1
    assert "short.csv" in scored.stderr and "column 'postponements' is missing" in scored.stderr
    validated = run_cli("validate", "short.csv", "--leads")
    assert validated.exit_code == 1
    assert "column 'postponements' is missing" in validated.stdout


# ------------------------------------------------------------------------- --lead JSON


@pytest.mark.parametrize("blank", ["NaN", "null", '"None"', '""', '"n/a"'])
def test_a_blank_lead_field_is_unknown_like_a_missing_one(run_cli, work, blank):
    _, model = work
    lead = f'{{"postponements": {blank}, "no_shows": 2}}'
    result = run_cli("score", "--lead", lead, "--format", "json", *model)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)[0]
    assert "postponements" in record["unknown_fields"]
    assert "no_shows" not in record["unknown_fields"]
    missing = run_cli("score", "--lead", '{"no_shows": 2}', "--format", "json", *model)
    assert json.loads(missing.stdout)[0]["p_win_win"] == record["p_win_win"]


def test_a_lead_field_given_twice_is_refused(run_cli, work):
    _, model = work
    result = run_cli("score", "--lead", '{"postponements": 1, "postponements": 9}', *model)
    assert result.exit_code == 1
    assert "--lead: field 'postponements' is given more than once" in result.stderr
    infinite = run_cli("score", "--lead", '{"postponements": Infinity}', *model)
    assert infinite.exit_code == 1
    assert "field 'postponements': expected a whole number" in infinite.stderr
    assert "Infinity" in infinite.stderr


def test_a_lead_from_a_file_or_standard_input(run_cli, work, monkeypatch):
    folder, model = work
    text = '{"postponements": 4, "expected_return_pct": 15}'
    (folder / "lead.json").write_text(text)
    inline = run_cli("score", "--lead", text, "--format", "json", *model)
    from_file = run_cli("score", "--lead", "@lead.json", "--format", "json", *model)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    from_stdin = run_cli("score", "--lead", "-", "--format", "json", *model)
    assert inline.exit_code == from_file.exit_code == from_stdin.exit_code == 0
    assert inline.stdout == from_file.stdout == from_stdin.stdout
    (folder / "bad.json").write_text('{"postponements": 1, "postponements": 2}')
    bad = run_cli("score", "--lead", "@bad.json", *model)
    assert bad.exit_code == 1 and "bad.json: field 'postponements'" in bad.stderr
    absent = run_cli("score", "--lead", "@nowhere.json", *model)
    assert absent.exit_code == 1 and "--lead @nowhere.json: file nowhere.json not found" in (
        absent.stderr
    )
    explained = run_cli("explain", "--lead", "@lead.json", *model)
    assert explained.exit_code == 0, explained.output
    assert "--lead" in run_cli("score", "--help").stdout and "@FILE" in (
        run_cli("score", "--help").stdout
    )


# ------------------------------------------------------------------ pipeline model params


def test_a_bad_model_param_fails_at_load_naming_the_key(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pipeline = write_pipeline(tmp_path, max_depth='max_depth = "two"')
    history = tmp_path / "history.csv"
    history.write_text("not read: the pipeline is refused first\n")
    result = run_cli("train", "--data", history, "--pipeline", pipeline)
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert str(pipeline) in result.stderr
    assert "model.params.max_depth: expected an int in the range [1, inf) or None" in (
        result.stderr
    )
    assert "(found: 'two')" in result.stderr
    assert not (tmp_path / "experiments").exists()  # refused before any run was recorded
    unknown = write_pipeline(tmp_path, "p2.toml", max_depth="max_dept = 2")
    typo = run_cli("compare", "--data", history, "--pipeline", unknown)
    assert typo.exit_code == 1
    assert "model.params.max_dept: unknown parameter" in typo.stderr


# ---------------------------------------------------------------------- long bad cells


def test_a_huge_bad_cell_is_shortened_in_every_message(run_cli, work):
    folder, model = work
    huge = "x" * 1_048_576
    frame = _leads(folder, 5)
    frame.loc[1, "postponements"] = huge
    frame.to_csv(folder / "huge.csv", index=False)
    shortened = "'" + "x" * 60 + "…' (1,048,576 characters)"
    validated = run_cli("validate", "huge.csv", "--leads")
    assert validated.exit_code == 1
    assert shortened in validated.stdout and len(validated.stdout) < 2_000
    scored = run_cli("score", "huge.csv", "--out", "huge_scored.csv", *model)
    assert scored.exit_code == 0, scored.output[:500]
    assert shortened in scored.stderr and len(scored.stderr) < 2_000
    rejects = pd.read_csv(folder / "huge_scored.rejects.csv", dtype=str)
    assert rejects.loc[0, "problems"] == f"postponements: wrong type (found {shortened})"
    assert rejects.loc[0, "postponements"] == huge  # the data itself is kept whole
    lead = run_cli("score", "--lead", json.dumps({"postponements": huge}), *model)
    assert lead.exit_code == 1
    assert shortened in lead.stderr and len(lead.stderr) < 2_000
    key = run_cli("score", "--lead", json.dumps({huge: 1}), *model)
    assert key.exit_code == 1 and len(key.stderr) < 2_000
