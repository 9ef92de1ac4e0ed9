"""Fixtures of the cross-stage fault suite."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def work(trained_folder, tmp_path, monkeypatch):
    """A fresh working folder holding a copy of the trained folder's 400 leads, and the
    arguments that name the trained bundle (``--model DIR``): each test's files, and what
    a command leaves on disk, are its own."""
    folder, _ = trained_folder
    shutil.copy(folder / "leads.csv", tmp_path / "leads.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path, ["--model", str(folder / "models" / "prospects")]
