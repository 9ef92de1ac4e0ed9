"""Shared fixtures: generated histories and an in-process runner for the real CLI entry point."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from prospect_predictor.cli.main import main
from prospect_predictor.synthetic.generate import generate


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``prospect ARGS`` through ``main()``, as the console script does."""

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["prospect", *map(str, args)])
        # click names the program after `python -m PACKAGE` when __main__ is a package's
        # (`python -m pytest`); as the console script runs it, it is argv[0]
        monkeypatch.setattr(sys.modules["__main__"], "__package__", None, raising=False)
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def history_20k():
    """A 20,000-row generated history and its truth (seed 11)."""
    return generate(20_000, seed=11)


@pytest.fixture(scope="session")
def small_history():
    return generate(300, seed=3)


DEFAULT_PIPELINE = Path(__file__).parents[1] / "pipelines" / "prospects.toml"


def write_pipeline(folder: Path, filename: str = "pipeline.toml", **changes: str) -> Path:
    """A copy of the default pipeline with some ``key = value`` lines replaced or added.

    ``changes`` maps a TOML line's key (``folds``) to its new full line (``folds = 3``);
    a key not found is appended to the top-level section.
    """
    lines = DEFAULT_PIPELINE.read_text().splitlines()
    for key, new_line in changes.items():
        for i, line in enumerate(lines):
            if line.split("=")[0].strip() == key:
                lines[i] = new_line
                break
        else:
            lines.insert(0, new_line)
    path = folder / filename
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def isolated_store(tmp_path, monkeypatch):
    """Work in a fresh folder with the embedded MLflow store (no MLFLOW_TRACKING_URI)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def trained_folder(tmp_path_factory):
    """One real training run (3,000 generated prospects, 3 folds) in its own folder with its
    own embedded MLflow store, plus 400 new leads; shared by the scoring tests."""
    from prospect_predictor.jobs.train import run_training
    from prospect_predictor.synthetic.generate import write_history

    folder = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        write_history(3_000, 21, folder / "history.csv")
        write_history(400, 21, folder / "leads.csv", new_leads=True)
        pipeline = write_pipeline(folder, folds="folds = 3")
        report = run_training(folder / "history.csv", pipeline)
    return folder, report
