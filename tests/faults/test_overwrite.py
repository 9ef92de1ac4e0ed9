"""Nothing lost: no command writes over a file it reads, or over an existing file without
--overwrite, whatever the path's spelling or links; a folder given as an output is a clear
error. Through the real CLI, checking the bytes left on disk."""

from __future__ import annotations

import os

import pandas as pd
import pytest

PNG = b"\x89PNG\r\n\x1a\n"


def _with_rejects(folder, name: str, rows: int = 50, bad: int = 5) -> bytes:
    """``rows`` leads of which ``bad`` have an unreadable number; the file's bytes."""
    frame = pd.read_csv(folder / "leads.csv", dtype=str, keep_default_na=False).head(rows)
    frame.loc[: bad - 1, "postponements"] = "three"
    frame.to_csv(folder / name, index=False)
    return (folder / name).read_bytes()


def _no_temp_files(folder) -> bool:
    return not list(folder.glob(".*.tmp"))


def test_explain_plot_never_replaces_its_input(run_cli, work):
    folder, model = work
    before = (folder / "leads.csv").read_bytes()
    for overwrite in ([], ["--overwrite"]):
        result = run_cli(
            "explain", "L000003", "--input", "leads.csv", "--plot", "leads.csv", *model, *overwrite
        )
        assert result.exit_code == 1, result.output
        assert "--plot leads.csv: is the input file leads.csv" in result.stderr
        assert "Traceback" not in result.output and "internal error" not in result.output
    assert (folder / "leads.csv").read_bytes() == before


@pytest.mark.parametrize("link", ["symlink", "hardlink", "spelling"])
def test_an_input_under_another_name_is_still_the_input(run_cli, work, link):
    folder, model = work
    before = (folder / "leads.csv").read_bytes()
    (folder / "sub").mkdir()
    if link == "symlink":
        os.symlink(folder / "leads.csv", folder / "alias.csv")
        alias = "alias.csv"
    elif link == "hardlink":
        os.link(folder / "leads.csv", folder / "alias.csv")
        alias = "alias.csv"
    else:
        alias = "sub/../leads.csv"
    scored = run_cli("score", "leads.csv", "--out", alias, "--overwrite", *model)
    assert scored.exit_code == 1, scored.output
    assert f"--out {alias}: is the input file leads.csv" in scored.stderr
    plotted = run_cli(
        "explain", "L000003", "--input", "leads.csv", "--plot", alias, "--overwrite", *model
    )
    assert plotted.exit_code == 1, plotted.output
    assert "is the input file" in plotted.stderr
    assert (folder / "leads.csv").read_bytes() == before
    assert _no_temp_files(folder)


def test_plot_keeps_an_existing_file_unless_overwrite(run_cli, work):
    folder, model = work
    (folder / "chart.png").write_bytes(b"an analyst's chart")
    kept = run_cli("explain", "L000003", "--input", "leads.csv", "--plot", "chart.png", *model)
    assert kept.exit_code == 1
    assert "chart.png: already exists with other contents" in kept.stderr
    assert "--overwrite" in kept.stderr
    assert (folder / "chart.png").read_bytes() == b"an analyst's chart"
    assert _no_temp_files(folder)
    replaced = run_cli(
        "explain", "L000003", "--input", "leads.csv", "--plot", "chart.png", "--overwrite", *model
    )
    assert replaced.exit_code == 0, replaced.output
    assert "chart chart.png: replaced" in replaced.stderr
    assert (folder / "chart.png").read_bytes()[:8] == PNG


def test_a_folder_as_an_output_is_a_clear_error(run_cli, work):
    folder, model = work
    (folder / "charts").mkdir()
    plotted = run_cli("explain", "L000003", "--input", "leads.csv", "--plot", "charts", *model)
    assert plotted.exit_code == 1
    assert "--plot charts: is a folder; expected a file name" in plotted.stderr
    (folder / "out.csv").mkdir()
    scored = run_cli("score", "leads.csv", "--out", "out.csv", "--overwrite", *model)
    assert scored.exit_code == 1
    assert "--out out.csv: is a folder" in scored.stderr
    one = run_cli("score", "--lead", "{}", "--out", "out.csv", "--overwrite", *model)
    assert one.exit_code == 1 and "--out out.csv: is a folder" in one.stderr
    generated = run_cli("generate", "--rows", "300", "--out", "out.csv")
    assert generated.exit_code == 1 and "--out out.csv: is a folder" in generated.stderr
    under = run_cli("score", "leads.csv", "--out", "leads.csv/scores.csv", *model)
    assert under.exit_code == 1 and "leads.csv is a file, not a folder" in under.stderr
    for result in (plotted, scored, one, generated, under):
        assert "internal error" not in result.output and "Traceback" not in result.output
    assert list((folder / "charts").iterdir()) == [] and list((folder / "out.csv").iterdir()) == []


def test_the_rejects_file_never_replaces_the_input(run_cli, work):
    """The tester's case: scoring o.rejects.csv to o.csv would write its rejects over it."""
    folder, model = work
    before = _with_rejects(folder, "o.rejects.csv")
    for overwrite in ([], ["--overwrite"]):
        result = run_cli("score", "o.rejects.csv", "--out", "o.csv", *model, *overwrite)
        assert result.exit_code == 1, result.output
        assert "the rejects file o.rejects.csv: is the input file o.rejects.csv" in result.stderr
    assert (folder / "o.rejects.csv").read_bytes() == before
    assert not (folder / "o.csv").exists()
    # scored to the terminal, the rejects go beside the input: the same rule holds
    (folder / "x.csv").write_bytes(before)
    os.symlink(folder / "x.csv", folder / "x.rejects.csv")
    beside = run_cli("score", "x.csv", "--format", "csv", "--overwrite", *model)
    assert beside.exit_code == 1 and "is the input file x.csv" in beside.stderr
    assert beside.stdout == ""
    assert (folder / "x.csv").read_bytes() == before


def test_an_existing_rejects_file_is_kept_unless_overwrite(run_cli, work):
    folder, model = work
    _with_rejects(folder, "bad.csv")
    (folder / "o.rejects.csv").write_text("last week's rejects\n")
    kept = run_cli("score", "bad.csv", "--out", "o.csv", *model)
    assert kept.exit_code == 1
    assert "o.rejects.csv: already exists with other contents" in kept.stderr
    assert (folder / "o.rejects.csv").read_text() == "last week's rejects\n"
    assert not (folder / "o.csv").exists()  # checked before either file is moved
    assert _no_temp_files(folder)
    replaced = run_cli("score", "bad.csv", "--out", "o.csv", "--overwrite", *model)
    assert replaced.exit_code == 0, replaced.output
    rejects = pd.read_csv(folder / "o.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["1", "2", "3", "4", "5"]
    assert len(pd.read_csv(folder / "o.csv")) == 45
    # to the terminal, the rejects beside the input follow the same rule
    (folder / "bad.rejects.csv").write_text("mine\n")
    beside = run_cli("score", "bad.csv", "--format", "csv", *model)
    assert beside.exit_code == 1 and "bad.rejects.csv: already exists" in beside.stderr
    assert (folder / "bad.rejects.csv").read_text() == "mine\n"
    again = run_cli("score", "bad.csv", "--format", "csv", "--overwrite", *model)
    assert again.exit_code == 0, again.output
    assert (folder / "bad.rejects.csv").read_bytes() == (folder / "o.rejects.csv").read_bytes()


def test_an_existing_out_is_kept_unless_overwrite_and_the_rejects_with_it(run_cli, work):
    folder, model = work
    _with_rejects(folder, "bad.csv")
    (folder / "o.csv").write_text("last week's scores\n")
    kept = run_cli("score", "bad.csv", "--out", "o.csv", *model)
    assert kept.exit_code == 1 and "o.csv: already exists with other contents" in kept.stderr
    assert (folder / "o.csv").read_text() == "last week's scores\n"
    assert not (folder / "o.rejects.csv").exists()  # neither file moved


def test_lead_file_is_never_the_output(run_cli, work):
    folder, model = work
    (folder / "lead.json").write_text('{"postponements": 3}')
    result = run_cli("score", "--lead", "@lead.json", "--out", "lead.json", "--overwrite", *model)
    assert result.exit_code == 1 and "is the input file lead.json" in result.stderr
    assert (folder / "lead.json").read_text() == '{"postponements": 3}'


def test_generate_writes_neither_file_when_one_is_refused(run_cli, tmp_path):
    (tmp_path / "t.csv").write_text("a truth kept elsewhere\n")
    result = run_cli(
        "generate", "--rows", "300", "--out", tmp_path / "p.csv", "--truth-out", tmp_path / "t.csv"
    )
    assert result.exit_code == 1 and "t.csv: already exists" in result.stderr
    assert not (tmp_path / "p.csv").exists()  # both checked before either is moved
    assert (tmp_path / "t.csv").read_text() == "a truth kept elsewhere\n"
    os.symlink(tmp_path / "p.csv", tmp_path / "same.csv")
    linked = run_cli(
        "generate",
        "--rows",
        "300",
        "--out",
        tmp_path / "p.csv",
        "--truth-out",
        tmp_path / "same.csv",
    )
    assert linked.exit_code == 1 and "--truth-out must differ from --out" in linked.stderr
    assert _no_temp_files(tmp_path)


def test_init_pipeline_never_writes_over_its_data(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli("generate", "--rows", "300", "--out", "export.csv").exit_code == 0
    before = (tmp_path / "export.csv").read_bytes()
    result = run_cli("init-pipeline", "--data", "export.csv", "--out", "export.csv", "--overwrite")
    assert result.exit_code == 1 and "--out export.csv: is the input file" in result.stderr
    assert (tmp_path / "export.csv").read_bytes() == before
    (tmp_path / "drafts").mkdir()
    folder = run_cli("init-pipeline", "--data", "export.csv", "--out", "drafts")
    assert folder.exit_code == 1 and "--out drafts: is a folder" in folder.stderr
    (tmp_path / "firm.toml").write_text("# an analyst's finished pipeline\n")
    kept = run_cli("init-pipeline", "--data", "export.csv", "--out", "firm.toml")
    assert kept.exit_code == 1 and "already exists with other contents" in kept.stderr
    assert (tmp_path / "firm.toml").read_text() == "# an analyst's finished pipeline\n"


@pytest.mark.parametrize("command", ["score", "explain", "generate", "init-pipeline", "export"])
def test_every_writer_offers_overwrite(run_cli, command):
    result = run_cli(command, "--help")
    assert "--overwrite" in result.stdout
