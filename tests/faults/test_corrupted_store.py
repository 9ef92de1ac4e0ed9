"""An emptied, truncated or foreign `experiments/mlflow.db` is reported before any work,
with what is wrong and how to recover; the champion's bundle is never touched."""

from __future__ import annotations

import hashlib

import pytest


def digest(folder) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "models" / "prospects").iterdir())
    }


def damage(store, how: str) -> None:
    data = store.read_bytes()
    if how == "emptied":
        store.write_bytes(b"")
    elif how == "truncated":
        store.write_bytes(data[: len(data) // 2])
    elif how == "overwritten":
        store.write_bytes(b"id,name\n1,not a database\n" * 100)
    elif how == "scrambled":  # pages past the header overwritten
        store.write_bytes(data[:4096] + bytes(len(data) - 4096))


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("emptied", "is empty (0 bytes)"),
        ("truncated", "is damaged"),
        ("overwritten", "is not an SQLite database"),
        ("scrambled", "is damaged"),
    ],
)
@pytest.mark.parametrize("command", ["runs", "train", "retrain", "export"])
def test_a_damaged_store_is_reported_before_any_work(copied, run_cli, how, said, command):
    store = copied / "experiments" / "mlflow.db"
    damage(store, how)
    damaged = store.read_bytes()
    before = digest(copied)
    args = {
        "runs": ("runs",),
        "train": ("train", "--data", "history.csv", "--pipeline", "pipeline.toml"),
        "retrain": ("retrain", "--data", "history.csv", "--pipeline", "pipeline.toml"),
        "export": ("export", "--pipeline", "pipeline.toml"),
    }[command]
    result = run_cli(*args)
    assert result.exit_code == 1, result.output
    assert said in result.stderr
    assert "experiments/mlflow.db" in result.stderr
    assert "mv experiments/mlflow.db experiments/mlflow.db.broken" in result.stderr
    assert "No runs yet" not in result.output and "Traceback" not in result.output
    assert "leakage check" not in result.output  # refused before training
    assert store.read_bytes() == damaged  # left for the user to recover
    assert digest(copied) == before  # the champion's bundle untouched


def test_scoring_does_not_need_the_store(copied, run_cli):
    (copied / "experiments" / "mlflow.db").write_bytes(b"")
    result = run_cli("score", "leads.csv", "--format", "csv")
    assert result.exit_code == 0, result.output
