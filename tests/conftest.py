"""Shared fixtures: generated histories and an in-process runner for the real CLI entry point."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from prospect_predictor.cli import main
from prospect_predictor.generate import generate


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
