"""The command line as a user meets it: help, start-up cost, generate, demo."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from prospect_predictor.cli.app import app
from tests.conftest import DEFAULT_PIPELINE

COMMANDS = [command.name or command.callback.__name__ for command in app.registered_commands]


def test_help_lists_every_command_and_explains_the_product(run_cli):
    result = run_cli("--help")
    assert result.exit_code == 0
    for word in ("win_win", "strung_along", *COMMANDS):
        assert word in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(run_cli, command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: prospect" in result.stdout
    assert len(result.stdout.splitlines()) > 6


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "sys.argv = ['prospect', '--help']\n"
        "from prospect_predictor.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'sklearn', 'shap', 'mlflow', 'pandas', 'numpy'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_console_script_is_installed():
    script = Path(sysconfig.get_path("scripts")) / "prospect"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "prospect-predictor" in out.stdout


def test_generate_twice_gives_identical_files(run_cli, tmp_path):
    args = ["generate", "--rows", "2000", "--seed", "7"]
    first = run_cli(*args, "--out", tmp_path / "p.csv", "--truth-out", tmp_path / "t.csv")
    assert first.exit_code == 0, first.output
    again = run_cli(*args, "--out", tmp_path / "p2.csv", "--truth-out", tmp_path / "t2.csv")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "p.csv").read_bytes() == (tmp_path / "p2.csv").read_bytes()
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "t2.csv").read_bytes()
    same_place = run_cli(*args, "--out", tmp_path / "p.csv", "--truth-out", tmp_path / "t.csv")
    assert same_place.exit_code == 0
    assert "unchanged" in same_place.stderr


def test_generate_never_replaces_a_different_file_unless_asked(run_cli, tmp_path):
    target = tmp_path / "mine.csv"
    target.write_text("an analyst's own work\n")
    result = run_cli("generate", "--rows", "300", "--out", target)
    assert result.exit_code == 1
    assert "already exists with other contents" in result.stderr
    assert target.read_text() == "an analyst's own work\n"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    assert run_cli("generate", "--rows", "300", "--out", target, "--overwrite").exit_code == 0
    assert target.read_text().startswith("prospect_id,")


def test_generate_refuses_truth_in_the_export_file(run_cli, tmp_path):
    result = run_cli(
        "generate", "--rows", "300", "--out", tmp_path / "p.csv", "--truth-out", tmp_path / "p.csv"
    )
    assert result.exit_code == 1
    assert "--truth-out must differ from --out" in result.stderr


def test_generate_rejects_bad_arguments_clearly(run_cli, tmp_path):
    result = run_cli("generate", "--rows", "0", "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "--rows" in result.stderr
    result = run_cli("generate", "--rows", "10", "--out", tmp_path / "p.xlsx")
    assert result.exit_code == 1
    assert "unsupported file type '.xlsx'" in result.stderr


def test_generate_parquet_and_leads(run_cli, tmp_path):
    result = run_cli("generate", "--rows", "300", "--new-leads", "--out", tmp_path / "l.parquet")
    assert result.exit_code == 0, result.output
    assert run_cli("validate", tmp_path / "l.parquet", "--leads").exit_code == 0
    assert run_cli("validate", tmp_path / "l.parquet").exit_code == 1


def test_demo_generates_validates_and_says_what_is_next(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("demo", "--rows", "1000")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "demo" / "prospects_1000_seed7.csv").exists()
    assert (tmp_path / "data" / "demo" / "prospects_1000_seed7_truth.csv").exists()
    assert (tmp_path / "data" / "demo" / "leads_1000_seed7.csv").exists()
    assert "valid" in result.stdout
    assert "Next" in result.stdout
    assert run_cli("demo", "--rows", "1000").exit_code == 0  # running it again is harmless


def test_shell_completion_completes_commands_and_choices(tmp_path):
    """What --install-completion installs: the shell asks the program for candidates."""
    import os
    import subprocess
    import sys

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_PROSPECT_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
        code = (
            "import sys; sys.argv[0] = 'prospect'\n"
            "from prospect_predictor.cli.main import run\nrun()"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        return done.stdout.split()

    assert "score" in complete("prospect sc")
    assert complete("prospect score --format j") == ["json", "jsonl"]
    assert complete("prospect score --lang ") == ["en", "fr"]


def test_runs_lists_every_pipelines_runs_unless_narrowed(run_cli, isolated_store):
    """Runs of a pipeline other than the default one are listed, with their pipeline."""
    import mlflow

    mlflow.set_tracking_uri("sqlite:///experiments/mlflow.db")
    mlflow.set_experiment("another_firm")
    with mlflow.start_run(tags={"kind": "training"}) as run:
        mlflow.log_metric("log_loss", 0.5)
    listed = run_cli("runs")
    assert listed.exit_code == 0, listed.output
    assert run.info.run_id in listed.stdout and "another_firm" in listed.stdout
    narrowed = run_cli("runs", "--pipeline", DEFAULT_PIPELINE)
    assert narrowed.exit_code == 0 and run.info.run_id not in narrowed.stdout
