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


@pytest.fixture
def copied(trained_folder, tmp_path, monkeypatch):
    """A copy of the trained folder (store, bundle, history, leads), worked in. Its store's
    artifact locations are relative: what it logs stays in the copy."""
    source, _ = trained_folder
    folder = tmp_path / "work"
    shutil.copytree(source, folder)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from prospect_predictor.registry import tracking

    tracking._READY.clear()  # a new store for this process to check and prepare
    return folder
