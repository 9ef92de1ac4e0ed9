"""Training against a real MLflow tracking server, not the embedded SQLite store.

A ``mlflow server`` subprocess (SQLite backend and served artifacts in a temporary folder,
127.0.0.1 on a free port) receives one training run made with ``MLFLOW_TRACKING_URI``
pointing at it. Everything is then read back only through the server's REST API (urllib,
no MLflow client): the finished run and its metrics, its artifacts listed and one PNG
downloaded through the server, and the registered version aliased ``champion``. This proves
that ``tracking.py`` honours ``MLFLOW_TRACKING_URI`` end to end (runs, artifacts uploaded
over HTTP, registry, alias) and that nothing falls back to an embedded store in the
working folder. The server runs in its own process group and is always stopped.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from prospect_predictor.jobs.train import run_training
from prospect_predictor.synthetic.generate import write_history
from tests.conftest import write_pipeline

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
POLL_S = 0.25
STOP_TIMEOUT_S = 10.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRICS = ("log_loss", "roc_auc_macro", "ece", "cv_log_loss")
PNGS = ("confusion_matrix.png", "reason_importance.png")

# no proxy from the environment: only 127.0.0.1 is ever contacted
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _log_tail(log: Path, chars: int = 3_000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError as exc:
        return f"(no server log: {exc})"


def _get(url: str, timeout: float = 30.0) -> bytes:
    with _OPENER.open(url, timeout=timeout) as response:
        return response.read()


def _read(url: str) -> bytes:
    """GET ``url`` from the running server; an HTTP error fails with the server's answer."""
    try:
        return _get(url)
    except urllib.error.HTTPError as exc:
        pytest.fail(f"GET {url}: HTTP {exc.code}: {exc.read()[:500]!r}")


def _get_json(base: str, endpoint: str, **query: str) -> dict:
    return json.loads(_read(f"{base}{endpoint}?{urllib.parse.urlencode(query)}"))


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, then SIGKILL after STOP_TIMEOUT_S."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    # uvicorn workers share the group: make sure none outlives the leader
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """Base URL of a running ``mlflow server`` with its own SQLite store and artifacts."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    log = folder / "server.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    }
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        # MLflow 3 otherwise starts a job runner and ~7 huey consumers: too many for 2 cores
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
    )
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{(folder / 'server.db').as_posix()}",
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"mlflow server exited with {process.returncode} before answering "
                    f"/health; log tail:\n{_log_tail(log)}"
                )
            try:
                if _get(f"{base}/health", timeout=2).strip() == b"OK":
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server did not answer {base}/health within {START_TIMEOUT_S:.0f} s; "
                    f"log tail:\n{_log_tail(log)}"
                )
            time.sleep(POLL_S)
        yield base
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def trained(mlflow_server, tmp_path_factory):
    """One training run recorded on the server, from a fresh working folder."""
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        patch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
        patch.delenv("MLFLOW_REGISTRY_URI", raising=False)
        for name in ("no_proxy", "NO_PROXY"):  # MLflow's client must not go through a proxy
            patch.setenv(name, HOST)
        write_history(1_500, 21, work / "history.csv")
        report = run_training(work / "history.csv", write_pipeline(work, folds="folds = 3"))
    return mlflow_server, work, report


def test_run_is_finished_with_finite_metrics_on_the_server(trained):
    base, _, report = trained
    run = _get_json(base, "/api/2.0/mlflow/runs/get", run_id=report.run_id)["run"]
    assert run["info"]["run_id"] == report.run_id
    assert run["info"]["status"] == "FINISHED"
    # artifacts went through the server's proxy, not to a path the client wrote itself
    assert run["info"]["artifact_uri"].startswith("mlflow-artifacts:"), run["info"]
    metrics = {m["key"]: m["value"] for m in run["data"].get("metrics", [])}
    for name in METRICS:
        assert name in metrics, f"{name} missing from {sorted(metrics)}"
        assert math.isfinite(metrics[name]), (name, metrics[name])


def test_artifacts_are_listed_and_downloaded_through_the_server(trained):
    base, _, report = trained
    listed = _get_json(base, "/api/2.0/mlflow/artifacts/list", run_id=report.run_id)
    paths = {entry["path"] for entry in listed.get("files", [])}
    for name in PNGS:
        assert name in paths, f"{name} missing from {sorted(paths)}"
    png = _read(
        f"{base}/get-artifact?"
        + urllib.parse.urlencode({"path": PNGS[0], "run_uuid": report.run_id})
    )
    assert png[:8] == PNG_SIGNATURE, png[:40]


def test_champion_alias_points_at_the_training_run(trained):
    base, _, report = trained
    version = _get_json(
        base, "/api/2.0/mlflow/registered-models/alias", name="prospects", alias="champion"
    )["model_version"]
    assert version["run_id"] == report.run_id
    assert str(version["version"]) == report.model_version == "1"
    assert report.is_champion


def test_nothing_is_written_to_an_embedded_store(trained):
    base, work, report = trained
    assert not (work / "experiments" / "mlflow.db").exists()
    assert not (work / "experiments").exists()
    assert not (work / "mlflow.db").exists() and not (work / "mlruns").exists()
    assert base in report.ui_command
