"""Everything that talks to MLflow lives here (and the model file MLflow runs,
:mod:`prospect_predictor.registry.pyfunc_model`).

By default the tracking store and model registry are SQLite at ``experiments/mlflow.db``
with artifacts under ``experiments/artifacts``, relative to the working directory: no
server needed. ``MLFLOW_TRACKING_URI`` overrides both (a real MLflow server, PostgreSQL…).

The first use in a process checks the embedded store (:func:`store.check_store`), creates
it under the store lock if needed (concurrent creations race in MLflow's migrations), and
marks runs of this machine whose process is gone as KILLED. Registered versions hold the
scoring form as artifacts of a models-from-code pyfunc: they are read back as JSON and
arrays (:func:`download_version`), never unpickled.

Its length (about 570 lines) is that of every MLflow call the product makes, kept in one
place so that MLflow's quirks (URIs exported to the environment, loggers, progress bars,
migrations that race) are handled once.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
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
    safe to run twice at once) and mark this machine's abandoned runs as KILLED."""
    try:
        client = make_client()
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
        mark_killed_runs(client)
        return client
    except ProspectError:
        raise
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} cannot be used: {type(exc).__name__}: {_first_line(exc)}"
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
    """The experiment's id, creating it (with artifacts under experiments/) if needed;
    under the store lock, so that two processes cannot both create it."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    with store_lock():
        found = client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        location = ARTIFACTS_DIR.resolve().as_uri() if uses_embedded_store() else None
        return client.create_experiment(name, artifact_location=location)


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


def champion_version(client, model_name: str) -> str | None:
    """The version with the ``champion`` alias; None only when there is none yet (any other
    failure, e.g. an unreachable server, is raised rather than read as "no champion")."""
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(model_name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = (model.aliases or {}).get(CHAMPION)
    return str(version) if version is not None else None


def model_signature(example: pd.DataFrame, output: pd.DataFrame):
    """Inputs: the raw export columns the model reads, every one optional (a CRM leaves
    fields blank) and of any type (text, booleans, numbers as the export has them: the
    model validates them itself, naming a wrong field, rather than MLflow refusing an
    int where it expected a double). Outputs: the columns of ``prospect score``."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = Schema([ColSpec(AnyType(), c, required=False) for c in example.columns])
    return ModelSignature(inputs=inputs, outputs=infer_signature(example, output).outputs)


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
    experiment: str,
    model_name: str,
    params: dict[str, str],
    metrics: dict[str, float],
    artifacts_dir: Path,
    model_files: dict[str, bytes],
    input_example: pd.DataFrame,
    tags: dict[str, str],
) -> TrackedModel:
    """One training run: params, metrics, the files in ``artifacts_dir``, and the model as a
    models-from-code pyfunc (:mod:`~prospect_predictor.registry.pyfunc_model`) whose
    artifacts are ``model_files`` (the scoring form, ``metadata.json``, ``profile.json``)
    and whose code includes this package: no pickle, and it loads where the package is not
    installed. The version is registered later, under
    the store lock (:func:`register_version`); the alias is moved by :func:`set_champion`."""
    from prospect_predictor.registry import pyfunc_model

    mlflow, client = _client()
    try:
        exp_id = experiment_id(client, experiment)
        with (
            tempfile.TemporaryDirectory(prefix="prospect-model-") as folder,
            mlflow.start_run(experiment_id=exp_id, tags={**tags, **run_tags()}) as run,
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


def register_version(tracked: TrackedModel) -> TrackedModel:
    """Register the run's model as the next version of ``tracked.model_name`` (call under
    the store lock: the registry numbers versions by reading the last one)."""
    mlflow, client = _client()
    try:
        found = mlflow.register_model(tracked.model_uri, tracked.model_name)
        tracked.version = str(found.version)
        client.set_tag(tracked.run_id, "model_version", tracked.version)
        client.set_model_version_tag(
            tracked.model_name, tracked.version, "scoring_form", "artifacts (no pickle)"
        )
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed to register the model: "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from None
    tracked.champion_version = champion_version(client, tracked.model_name) or ""
    return tracked


def set_champion(tracked: TrackedModel, tags: dict[str, str] | None = None) -> TrackedModel:
    """Move the ``champion`` alias to ``tracked``'s version and tag its run."""
    _, client = _client()
    try:
        client.set_registered_model_alias(tracked.model_name, CHAMPION, tracked.version)
        for key, value in (tags or {}).items():
            client.set_tag(tracked.run_id, key, value)
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed to move the champion alias to version "
            f"{tracked.version}: {type(exc).__name__}: {_first_line(exc)}"
        ) from None
    tracked.champion_version, tracked.is_champion = tracked.version, True
    return tracked


def move_champion(model_name: str, version: str | None) -> None:
    """Point the ``champion`` alias at ``version``, or remove it (None)."""
    _, client = _client()
    if version:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    else:
        client.delete_registered_model_alias(model_name, CHAMPION)


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


def log_plain_run(
    *, experiment: str, params: dict[str, str], metrics: dict[str, float], tags: dict[str, str]
) -> str:
    """A run with params and metrics only (e.g. one candidate of a comparison)."""
    mlflow, client = _client()
    try:
        with mlflow.start_run(experiment_id=experiment_id(client, experiment), tags=tags) as run:
            for start in range(0, len(params), 100):
                mlflow.log_params(dict(list(params.items())[start : start + 100]))
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
            return run.info.run_id
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed: {type(exc).__name__}: {exc}"
        ) from None


def new_artifacts_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="prospect-artifacts-")


def log_evaluation_run(
    *,
    experiment: str,
    params: dict[str, str],
    metrics: dict[str, float],
    artifacts_dir: Path,
    tags: dict[str, str],
) -> str:
    """An evaluation run: params, metrics and charts, no model."""
    mlflow, client = _client()
    try:
        with mlflow.start_run(experiment_id=experiment_id(client, experiment), tags=tags) as run:
            mlflow.log_params(params)
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
            mlflow.log_artifacts(str(artifacts_dir))
            return run.info.run_id
    except Exception as exc:
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed: {type(exc).__name__}: {exc}"
        ) from None


@dataclass
class RegisteredVersion:
    """A registered version's files as the bundle holds them, read without unpickling."""

    model_name: str
    version: str
    run_id: str
    files: dict[str, bytes]  # scoring.json, scoring.npz, profile.json
    metadata: dict  # the bundle metadata, with its "mlflow" block


def download_version(model_name: str, version: str, trust_pickle: bool = False):
    """Version ``version``'s scoring form, metadata and profile, from the registry.

    Versions logged before the form was registered hold only a pickled scikit-learn model:
    they are refused unless ``trust_pickle`` (then the pickle is loaded once and compiled
    into its form; only for a model your own firm trained)."""
    mlflow, client = _client()
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_model_version(model_name, str(version))
    except MlflowException:
        raise ProspectError(
            f"no version {version} of model {model_name!r} in {tracking_uri()}; "
            "`prospect runs` lists the runs and their versions"
        ) from None
    with tempfile.TemporaryDirectory(prefix="prospect-version-") as folder:
        try:
            root = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=f"models:/{model_name}/{version}", dst_path=folder
                )
            )
        except Exception as exc:
            raise ProspectError(
                f"the files of version {version} of {model_name!r} cannot be read from "
                f"{tracking_uri()}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        stored = root / "artifacts"
        names = (*FORM_FILES, "metadata.json", "profile.json")
        if all((stored / n).is_file() for n in names):
            files = {n: (stored / n).read_bytes() for n in names}
            metadata = json.loads(files.pop("metadata.json"))
        elif trust_pickle:
            files, metadata = _from_pickle(mlflow, model_name, version, found.run_id, folder)
        else:
            raise ProspectError(
                f"version {version} of {model_name!r} was registered before models were "
                "stored without pickles; it is not loaded (unpickling runs the file's code). "
                f"Re-export it once with: prospect export --version {version} --trust-pickle "
                "(only for a model your firm trained), or train again"
            )
    metadata["mlflow"] = {
        "run_id": found.run_id,
        "model_name": model_name,
        "model_version": str(version),
        "tracking_uri": tracking_uri(),
    }
    return RegisteredVersion(model_name, str(version), found.run_id, files, metadata)


def _from_pickle(mlflow, model_name: str, version: str, run_id: str, folder: str):
    """An old version's pickled model, compiled into its form (``--trust-pickle`` only)."""
    from prospect_predictor.explaining.compile_form import compile_files

    model = mlflow.sklearn.load_model(f"models:/{model_name}/{version}")
    path = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="bundle_metadata.json", dst_path=folder
    )
    metadata = json.loads(Path(path).read_text())
    try:
        profile = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="data_profile.json", dst_path=folder
        )
        profile_bytes = Path(profile).read_bytes()
    except Exception:  # noqa: BLE001 - older runs: no profile, drift is not measured
        profile_bytes = b"null\n"
    return {**compile_files(model), "profile.json": profile_bytes}, metadata


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
