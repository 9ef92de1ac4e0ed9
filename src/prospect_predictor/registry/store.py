"""The embedded MLflow store's health and the lock that serialises what must not interleave.

:func:`check_store` looks at ``experiments/mlflow.db`` with SQLite alone (no MLflow import,
so it is cheap and runs before any work): an emptied, truncated, damaged or foreign file is
reported with what is wrong and how to recover, instead of MLflow quietly starting a new
history over it ("No runs yet") or failing after a whole training.

:func:`store_lock` is one inter-process lock per working folder (``experiments/.lock``,
or ``models/.lock`` with a tracking server, through ``filelock``, which works on Linux,
macOS and Windows). It is held while a store is created (two MLflow processes creating
the same SQLite store race in its migrations), while the model registry assigns a
version, and during a promotion (reading the champion, the gate, the alias and the bundle
export), so that of several ``train`` or ``retrain`` started together exactly one becomes
the first champion and each later one is compared with the champion of the moment.
Training itself runs outside the lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prospect_predictor.errors import ProspectError

EXPERIMENTS_DIR = Path("experiments")
STORE_FILE = EXPERIMENTS_DIR / "mlflow.db"
LOCK_NAME = ".lock"
LOCK_TIMEOUT_SECONDS = 600.0
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(ProspectError):
    """The embedded MLflow store cannot be used as it is."""


def _recover(store: Path) -> str:
    aside = store.with_name(store.name + ".broken")
    return (
        f"Restore {store} from a backup if you have one; or move it aside "
        f"(mv {store} {aside}) to start a new, empty history. Bundles in models/ are "
        "kept and still score."
    )


def check_store(store: Path = STORE_FILE) -> None:
    """Refuse an embedded store that is emptied, truncated, damaged or not MLflow's.

    A store that does not exist yet is fine (the first run creates it)."""
    if not store.exists():
        return
    if store.is_dir():
        raise StoreError(f"{store} is a folder, not an MLflow store. {_recover(store)}")
    size = store.stat().st_size
    if size == 0:
        raise StoreError(
            f"{store} is empty (0 bytes): the run history and model registry it held are "
            f"gone, and using it would start a new history silently. {_recover(store)}"
        )
    with store.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreError(f"{store} is not an SQLite database. {_recover(store)}")
    try:
        connection = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{store} is damaged (SQLite: {exc}). {_recover(store)}") from None
    if problems != ["ok"]:
        first = "; ".join(str(p) for p in problems[:2])
        raise StoreError(f"{store} is damaged (SQLite: {first}). {_recover(store)}")
    if tables and "alembic_version" not in tables:
        raise StoreError(
            f"{store} is an SQLite file but not a complete MLflow store (no alembic_version "
            f"table: not MLflow's, or its creation was interrupted). {_recover(store)}"
        )


_LOCKS: dict = {}


@contextmanager
def store_lock(timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the working folder's lock (re-entrant within a process): ``experiments/.lock``
    with the embedded store, ``models/.lock`` with a tracking server (whose store is not
    ours to lock; the bundles in models/ are)."""
    import os

    from filelock import FileLock, Timeout

    embedded = not os.environ.get("MLFLOW_TRACKING_URI")
    lock_file = (EXPERIMENTS_DIR if embedded else Path("models")) / LOCK_NAME
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    path = str(lock_file.resolve())
    # One lock object per file and process: a FileLock re-enters its own lock, while a
    # second object on the same file would wait for the first.
    lock = _LOCKS.setdefault(path, FileLock(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise StoreError(
            f"another prospect command has held {lock_file} for over {timeout:.0f} s; "
            "wait for it to finish (a crashed one releases the lock when it ends)"
        ) from None
    try:
        yield
    finally:
        lock.release()
