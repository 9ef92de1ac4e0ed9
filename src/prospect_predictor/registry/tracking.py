"""MLflow's store and runs: the client, the store's preparation, runs and what they log.
The registry's versions are in :mod:`~prospect_predictor.registry.versions`, the model file
MLflow runs in :mod:`~prospect_predictor.registry.pyfunc_model`; no other module calls
MLflow.

By default the tracking store and model registry are SQLite at ``experiments/mlflow.db``
with artifacts under ``experiments/artifacts``, relative to the working directory (the
artifact locations are stored relative, so a moved work folder still loads its models): no
server needed. ``MLFLOW_TRACKING_URI`` overrides both (a real MLflow server, PostgreSQL…).

The first use in a process checks the embedded store (:func:`store.check_store`), creates
it under the store lock if needed (concurrent creations race in MLflow's migrations), and
marks runs of this machine whose process is gone as KILLED. A run logs the model as a
models-from-code pyfunc whose artifacts are the scoring form (no pickle).

Its length (about 600 lines) is one cohesive thing: a run, from its start to what it logs,
and the store it goes to, with MLflow's errors translated into one line saying where and
what (:func:`said`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prospect_predictor import faults
from prospect_predictor.errors import ProspectError
from prospect_predictor.registry.store import EXPERIMENTS_DIR, STORE_FILE, check_store, store_lock

ARTIFACTS_DIR = EXPERIMENTS_DIR / "artifacts"
CHAMPION = "champion"
PID_TAG, HOST_TAG = "prospect.pid", "prospect.host"
FORM_FILES = ("scoring.json", "scoring.npz")
# MLflow 3's UI opens an experiment without this tag on its GenAI overview; the value is the
# UI's "Machine learning" kind (ExperimentKind.CUSTOM_MODEL_DEVELOPMENT in its JS constants)
EXPERIMENT_KIND_TAG, CLASSIC_ML = "mlflow.experimentKind", "custom_model_development"
NOTE_TAG = "mlflow.note.content"  # the run's description, markdown, in the UI
ERROR_TAG = "prospect.error"  # why a run ended FAILED
CONTEXT_TAG = "mlflow.data.context"  # a dataset input's role: training, evaluation


@dataclass
class TrackedModel:
    run_id: str
    experiment: str
    model_name: str
    version: str
    champion_version: str
    is_champion: bool
    tracking_uri: str
    model_uri: str = ""


EMBEDDED_URI = f"sqlite:///{STORE_FILE.as_posix()}"  # as shown to users, relative
URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def uses_embedded_store() -> bool:
    return not os.environ.get("MLFLOW_TRACKING_URI")


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the embedded SQLite store of the working
    directory (as an absolute path: MLflow caches stores by URI)."""
    if uses_embedded_store():
        return f"sqlite:///{(Path.cwd() / STORE_FILE).as_posix()}"
    return os.environ["MLFLOW_TRACKING_URI"]


def ui_command() -> str:
    """How to open the MLflow UI on the store in use."""
    uri = EMBEDDED_URI if uses_embedded_store() else tracking_uri()
    if uri.startswith(("http://", "https://")):
        return f"open {uri} in a browser"
    return f"mlflow ui --backend-store-uri {uri} --port 5000  (then open http://127.0.0.1:5000)"


def _client():
    import mlflow
    from mlflow import MlflowClient

    # MLflow configures its loggers on import; keep the user's terminal for our progress
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")

    # MLflow draws a progress bar on stderr for every download; ours say what happens
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri()
    if uses_embedded_store():
        EXPERIMENTS_DIR.mkdir(exist_ok=True)
        check_store()
    # set_tracking_uri() also exports the variables; keep the environment as the user set it
    saved = {name: os.environ.get(name) for name in URI_VARIABLES}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if uri in _READY:
        return mlflow, MlflowClient(tracking_uri=uri, registry_uri=uri)
    with store_lock():  # creating the client creates the store: MLflow's migrations
        client = _prepare(lambda: MlflowClient(tracking_uri=uri, registry_uri=uri))
    _READY.add(uri)
    return mlflow, client


_READY: set[str] = set()  # stores this process has prepared


def prepare() -> None:
    """Check the store (a damaged one is reported before any work), create it if needed
    and mark abandoned runs KILLED: what the first use does, done early on purpose."""
    _client()


def _prepare(make_client):
    """Create the store's tables if needed (under the lock: MLflow's migrations are not
    safe to run twice at once), mark this machine's abandoned runs as KILLED and make the
    embedded store's artifact locations relative (:func:`_relative_artifacts`)."""
    try:
        client = make_client()
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
        mark_killed_runs(client)
        if uses_embedded_store():  # a folder moved here: its models load from here
            for experiment in client.search_experiments():
                _relative_artifacts(experiment.artifact_location)
        return client
    except ProspectError:
        raise
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} cannot be used: {type(exc).__name__}: {_first_line(exc)}"
        ) from None


@contextmanager
def said(what: str = "failed") -> Iterator[None]:
    """MLflow's errors (an unreachable server, a locked store…) as one line saying where
    and what; ours go through as they are."""
    try:
        yield
    except ProspectError:
        raise
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} {what}: {type(exc).__name__}: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def run_tags() -> dict[str, str]:
    """Tags that let the next start tell a run whose process died from one still going."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: _host()}


def _host() -> str:
    import socket

    return socket.gethostname()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def mark_killed_runs(client) -> list[str]:
    """Runs still RUNNING that were started on this machine by a process that is gone (a
    crash, ``kill -9``, a closed laptop): set to KILLED, so that ``prospect runs`` shows
    them as such. Runs of other machines are left alone (their processes cannot be seen)."""
    import time

    host = _host()
    killed = []
    for experiment in client.search_experiments():
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string="attributes.status = 'RUNNING'",
            max_results=1000,
        )
        for run in runs:
            tags = run.data.tags
            pid = tags.get(PID_TAG, "")
            if tags.get(HOST_TAG) != host or not pid.isdigit() or _alive(int(pid)):
                continue
            client.set_tag(run.info.run_id, "prospect.ended", "killed: its process was gone")
            client.set_terminated(run.info.run_id, "KILLED", end_time=int(time.time() * 1000))
            killed.append(run.info.run_id)
    return killed


def experiment_id(client, name: str) -> str:
    """The experiment's id, creating it if needed, marked as classic ML for MLflow's UI and,
    in the embedded store, with artifacts at the relative ``experiments/artifacts`` (see
    :func:`_relative_artifacts`); under the store lock, so that two processes cannot both
    create it."""
    found = client.get_experiment_by_name(name)
    if found is not None and _settled(found):
        return found.experiment_id
    with store_lock():
        found = client.get_experiment_by_name(name)
        if found is None:
            location = ARTIFACTS_DIR.resolve().as_uri() if uses_embedded_store() else None
            exp_id = client.create_experiment(
                name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: CLASSIC_ML}
            )
        else:
            exp_id = found.experiment_id
            if EXPERIMENT_KIND_TAG not in found.tags:  # made before the tag was set
                client.set_experiment_tag(exp_id, EXPERIMENT_KIND_TAG, CLASSIC_ML)
        if uses_embedded_store():  # a new one; the others were at the store's preparation
            _relative_artifacts(client.get_experiment(exp_id).artifact_location)
        return exp_id


def _settled(experiment) -> bool:
    if EXPERIMENT_KIND_TAG not in experiment.tags:
        return False
    return not uses_embedded_store() or not _absolute(experiment.artifact_location)


def _absolute(location: str) -> bool:
    return location.startswith("file:") or Path(location).is_absolute()


def _relative_artifacts(location: str) -> None:
    """Make an embedded store's artifact locations relative to the working folder, like the
    store itself, so that a work folder moved or copied whole still loads its models.

    MLflow resolves a relative location to an absolute one when it creates an experiment,
    and every run, logged model and model version then copies that prefix; it reads a
    relative one as relative to the working directory. So the prefix is rewritten in the
    SQLite file, for this folder's own ``experiments/artifacts`` or for the one of a folder
    that was moved here (gone from where it was, present here). Other locations, chosen by
    someone on purpose, are left alone. Call under the store lock."""
    import sqlite3

    from mlflow.utils.file_utils import local_file_uri_to_path

    relative = ARTIFACTS_DIR.as_posix()
    if not _absolute(location):
        return
    path = Path(local_file_uri_to_path(location))
    here = ARTIFACTS_DIR.resolve()
    moved_here = path.parts[-2:] == here.parts[-2:] and not path.exists()
    if path != here and not moved_here:
        return
    columns = (
        ("experiments", "artifact_location"),
        ("runs", "artifact_uri"),
        ("logged_models", "artifact_location"),
        ("model_versions", "storage_location"),
        ("model_versions", "source"),
    )
    with sqlite3.connect(STORE_FILE, timeout=60) as connection:
        for prefix in {location.rstrip("/"), path.as_posix(), path.as_uri()}:
            for table, column in columns:
                connection.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                    f"WHERE {column} = ? OR substr({column}, 1, ?) = ?",
                    (relative, len(prefix) + 1, prefix, len(prefix) + 1, f"{prefix}/"),
                )


@contextmanager
def open_run(*, experiment: str, name: str, tags: dict[str, str]) -> Iterator[str]:
    """A run that spans the ``with`` block (a training, from before its first fit to its
    last file logged), so that its duration in MLflow is the work's. It carries
    :func:`run_tags` from its start: a process that dies inside leaves it RUNNING, and the
    next command marks it KILLED. An error inside ends it FAILED with the message as the
    ``prospect.error`` tag (KILLED for Ctrl-C), then goes on up; else it ends FINISHED."""
    _, client = _client()
    with said():
        run = client.create_run(
            experiment_id(client, experiment), run_name=name, tags={**tags, **run_tags()}
        )
    run_id = run.info.run_id
    try:
        yield run_id
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        with suppress(Exception):  # the error itself is what the user must see
            client.set_tag(run_id, ERROR_TAG, (f"{type(exc).__name__}: {exc}")[:4000])
            client.set_terminated(run_id, status)
        raise
    client.set_terminated(run_id, "FINISHED")


def describe_run(run_id: str, note: str) -> None:
    """The run's description (markdown, shown at the top of the run's page)."""
    tag_run(run_id, {NOTE_TAG: note})


def log_dataset(
    run_id: str,
    *,
    file: str,
    sha256: str,
    rows: int,
    columns: pd.DataFrame,
    context: str,
) -> None:
    """The data file as an MLflow dataset input of the run: its name, where it was read,
    its digest (the file's sha256; MLflow's digest holds 36 characters, so the first 32,
    the whole hash as the input's ``sha256`` tag), its columns' schema and its row count.
    No row is stored: the dataset is built from these facts, not from the frame (which
    ``mlflow.data.from_pandas`` would hash and profile). ``columns`` gives the names and
    types only."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    _, client = _client()
    dataset = Dataset(
        name=Path(file).name,
        digest=sha256[:32],
        source_type="local",
        source=json.dumps({"uri": str(file)}),
        schema=json.dumps({"mlflow_colspec": _input_schema(columns).to_dict()}),
        profile=json.dumps({"num_rows": int(rows)}),
    )
    tags = [InputTag(CONTEXT_TAG, context), InputTag("sha256", sha256)]
    with said():
        client.log_inputs(run_id, datasets=[DatasetInput(dataset, tags)])


def log_values(run_id: str, params: dict[str, str], metrics: dict[str, float]) -> None:
    """Params (in the store's batches of 100) and finite metrics, into an open run."""
    import time

    from mlflow.entities import Metric, Param

    _, client = _client()
    now = int(time.time() * 1000)
    items = list(params.items())
    with said():
        for start in range(0, len(items), 100):
            batch = [Param(k, v) for k, v in items[start : start + 100]]
            client.log_batch(run_id, params=batch, synchronous=True)
        values = [Metric(k, float(v), now, 0) for k, v in metrics.items() if np.isfinite(v)]
        client.log_batch(run_id, metrics=values, synchronous=True)


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> ``{"model.params.max_depth": "2"}``; lists as JSON."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple | dict):
            flat[name] = json.dumps(value)
        else:
            flat[name] = str(value)
    return flat


def model_signature(example: pd.DataFrame, output: pd.DataFrame):
    """Inputs: the raw export columns the model reads, every one optional (a CRM leaves
    fields blank) and of any type (text, booleans, numbers as the export has them: the
    model validates them itself, naming a wrong field, rather than MLflow refusing an
    int where it expected a double). Outputs: the columns of ``prospect score``."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = Schema([ColSpec(AnyType(), c, required=False) for c in example.columns])
    return ModelSignature(inputs=inputs, outputs=infer_signature(example, output).outputs)


def _input_schema(frame: pd.DataFrame):
    """A dataset's columns, each optional, as a double (numbers, booleans) or a string."""
    from mlflow.types.schema import ColSpec, Schema

    return Schema(
        [
            ColSpec(
                "double" if pd.api.types.is_numeric_dtype(frame[c]) else "string",
                c,
                required=False,
            )
            for c in frame.columns
        ]
    )


def raw_input_example(
    features: pd.DataFrame, feature_types: dict[str, str], columns: list[str], id_column: str
) -> pd.DataFrame:
    """One made-up, typical prospect as an export row (medians and most frequent values,
    integers as integers, booleans as booleans): an input example for MLflow that carries
    nobody's personal data. ``columns``: the export columns the model reads."""
    row: dict[str, Any] = {id_column: "P-EXAMPLE"} if id_column else {}
    for name in columns:
        if name not in features:
            continue  # a column only derived features read: left blank in the example
        column = features[name].dropna()
        kind = feature_types.get(name)
        if not len(column):
            row[name] = None
        elif kind == "int":
            row[name] = int(round(float(column.median())))
        elif kind == "float":
            row[name] = float(column.median())
        elif kind == "bool":
            row[name] = bool(column.astype(bool).mean() >= 0.5)
        else:
            row[name] = str(column.mode().iloc[0])
    return pd.DataFrame([row])


MODEL_PACKAGES = ("mlflow", "numpy", "pandas", "pyarrow", "pydantic")
TREE_PACKAGES = ("shap", "scipy")  # deeper trees are explained by shap


def _requirements(kind: str) -> list[str]:
    """What the logged model needs besides its own code: the versions installed here."""
    from prospect_predictor.registry.bundle import library_versions

    packages = MODEL_PACKAGES + (TREE_PACKAGES if kind == "trees-hgb-ordinal" else ())
    versions = library_versions(packages)
    return [f"{name}=={v}" for name, v in versions.items() if name != "python" and "not" not in v]


def log_training_run(
    *,
    run_id: str,
    experiment: str,
    model_name: str,
    params: dict[str, str],
    metrics: dict[str, float],
    artifacts_dir: Path,
    model_files: dict[str, bytes],
    input_example: pd.DataFrame,
) -> TrackedModel:
    """Into the training's open run (:func:`open_run`): params, metrics, the files in
    ``artifacts_dir``, and the model as a models-from-code pyfunc
    (:mod:`~prospect_predictor.registry.pyfunc_model`) whose artifacts are ``model_files``
    (the scoring form, ``metadata.json``, ``profile.json``) and whose code includes this
    package: no pickle, and it loads where the package is not installed. The version is
    registered later, under the store lock (:func:`register_version`); the alias is moved
    by :func:`set_champion`."""
    from prospect_predictor.registry import pyfunc_model

    mlflow, _ = _client()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="prospect-model-") as folder,
            mlflow.start_run(run_id=run_id) as run,  # resumed: open_run ends it
        ):
            for start in range(0, len(params), 100):  # the store takes params in batches
                mlflow.log_params(dict(list(params.items())[start : start + 100]))
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
            faults.point("during_run")
            mlflow.log_artifacts(str(artifacts_dir))
            artifacts = {}
            names = {**pyfunc_model.FORM_ARTIFACTS}
            names.update([pyfunc_model.METADATA_ARTIFACT, pyfunc_model.PROFILE_ARTIFACT])
            for key, name in names.items():
                (Path(folder) / name).write_bytes(model_files[name])
                artifacts[key] = str(Path(folder) / name)
            output = _example_output(model_files, input_example)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=pyfunc_model.__file__,
                artifacts=artifacts,
                code_paths=[str(Path(pyfunc_model.__file__).parents[1])],
                signature=model_signature(input_example, output),
                input_example=input_example,
                pip_requirements=_requirements(json.loads(model_files["scoring.json"])["kind"]),
            )
            return TrackedModel(
                run.info.run_id,
                experiment,
                model_name,
                "",
                "",
                False,
                tracking_uri(),
                info.model_uri,
            )
    except ProspectError:
        raise
    except Exception as exc:  # an unreachable server, a locked store…: say where and what
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed: {type(exc).__name__}: {_first_line(exc)}"
        ) from None


def _example_output(model_files: dict[str, bytes], example: pd.DataFrame) -> pd.DataFrame:
    """What the logged model answers for ``example``: the output half of its signature."""
    from prospect_predictor.explaining.scoring_form import ScoringForm
    from prospect_predictor.scoring.score import explain_rows

    form = ScoringForm.from_bytes(model_files["scoring.json"], model_files["scoring.npz"])
    return explain_rows(form, json.loads(model_files["metadata.json"]), example)


def tag_run(run_id: str, tags: dict[str, str]) -> None:
    _, client = _client()
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


def add_to_run(run_id: str, metrics: dict[str, float], files: dict[str, object]) -> None:
    """Metrics and JSON files added to a finished run (the gate's, measured under the lock
    after the run was logged)."""
    _, client = _client()
    for key, value in metrics.items():
        if np.isfinite(value):
            client.log_metric(run_id, key, float(value))
    with tempfile.TemporaryDirectory(prefix="prospect-gate-") as folder:
        for name, content in files.items():
            path = Path(folder) / name
            path.write_text(json.dumps(content, indent=2, sort_keys=True, default=float) + "\n")
            client.log_artifact(run_id, str(path))


def new_artifacts_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="prospect-artifacts-")


def log_evaluation_run(
    *,
    experiment: str,
    name: str,
    note: str,
    params: dict[str, str],
    metrics: dict[str, float],
    artifacts_dir: Path,
    tags: dict[str, str],
    dataset: dict[str, Any],
) -> str:
    """An evaluation run: params, metrics, charts and the labelled file as its dataset
    (``dataset``: :func:`log_dataset`'s arguments, context "evaluation"), no model."""
    with open_run(experiment=experiment, name=name, tags=tags) as run_id:
        log_dataset(run_id, **dataset, context="evaluation")
        log_values(run_id, params, metrics)
        _, client = _client()
        with said():
            client.log_artifacts(run_id, str(artifacts_dir))
        describe_run(run_id, note)
    return run_id


def recent_runs(experiments: list[str] | None, limit: int) -> pd.DataFrame:
    """Runs of these experiments (``None``: every experiment of the store), newest first,
    as MLflow's search_runs frame plus an ``experiment`` column with each run's name."""
    mlflow, client = _client()
    known = {e.name: e.experiment_id for e in client.search_experiments()}
    names = [e for e in (experiments if experiments is not None else known) if e in known]
    if not names:
        return pd.DataFrame()
    frame = mlflow.search_runs(
        experiment_names=names, max_results=limit, order_by=["attributes.start_time DESC"]
    )
    by_id = {v: k for k, v in known.items()}
    if not frame.empty:
        frame.insert(0, "experiment", frame["experiment_id"].map(by_id))
    return frame


def get_run(run_id: str):
    _, client = _client()
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException:
        raise ProspectError(f"no run {run_id!r} in {tracking_uri()}") from None
