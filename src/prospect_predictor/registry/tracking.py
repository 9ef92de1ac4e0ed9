"""Everything that talks to MLflow lives here.

By default the tracking store and model registry are SQLite at ``experiments/mlflow.db``
with artifacts under ``experiments/artifacts``, relative to the working directory: no
server needed. ``MLFLOW_TRACKING_URI`` overrides both (a real MLflow server, PostgreSQL…).
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

from prospect_predictor.errors import ProspectError

EXPERIMENTS_DIR = Path("experiments")
STORE_FILE = EXPERIMENTS_DIR / "mlflow.db"
ARTIFACTS_DIR = EXPERIMENTS_DIR / "artifacts"
CHAMPION = "champion"


@dataclass
class TrackedModel:
    run_id: str
    experiment: str
    model_name: str
    version: str
    champion_version: str
    is_champion: bool
    tracking_uri: str


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

    uri = tracking_uri()
    if uses_embedded_store():
        EXPERIMENTS_DIR.mkdir(exist_ok=True)
    # set_tracking_uri() also exports the variables; keep the environment as the user set it
    saved = {name: os.environ.get(name) for name in URI_VARIABLES}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return mlflow, MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(client, name: str) -> str:
    """The experiment's id, creating it (with artifacts under experiments/) if needed."""
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


def model_signature(example: pd.DataFrame, model):
    """Every input optional (a CRM leaves fields blank). Booleans are declared as doubles
    (1 = true, 0 = false, NaN = unknown): MLflow's schema enforcement cannot carry a missing
    boolean, and the model reads both forms."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import ColSpec, Schema

    inputs = Schema(
        [
            ColSpec(
                "double" if pd.api.types.is_numeric_dtype(example[c]) else "string",
                c,
                required=False,
            )
            for c in example.columns
        ]
    )
    outputs = infer_signature(example, model.predict_proba(example)).outputs
    return ModelSignature(inputs=inputs, outputs=outputs)


def typical_input_example(features: pd.DataFrame, feature_types: dict[str, str]) -> pd.DataFrame:
    """One made-up, typical prospect (medians and most frequent values): an input example
    for MLflow that carries nobody's personal data."""
    row: dict[str, Any] = {}
    for name, kind in feature_types.items():
        column = features[name].dropna()
        if kind in ("int", "float"):
            row[name] = float(column.median()) if len(column) else float("nan")
        elif kind == "bool":  # as a double: see model_signature
            row[name] = float(column.astype(bool).mean() >= 0.5) if len(column) else 0.0
        else:
            row[name] = str(column.mode().iloc[0]) if len(column) else ""
    return pd.DataFrame([row])


def log_training_run(
    *,
    experiment: str,
    model_name: str,
    params: dict[str, str],
    metrics: dict[str, float],
    artifacts_dir: Path,
    model,
    input_example: pd.DataFrame,
    tags: dict[str, str],
) -> TrackedModel:
    """One training run: params, metrics, the files in ``artifacts_dir``, the model
    (signature + input example) registered under ``model_name``. The ``champion`` alias is
    not touched here: see :func:`set_champion`."""
    mlflow, client = _client()
    try:
        exp_id = experiment_id(client, experiment)
        with mlflow.start_run(experiment_id=exp_id, tags=tags) as run:
            for start in range(0, len(params), 100):  # the store takes params in batches
                mlflow.log_params(dict(list(params.items())[start : start + 100]))
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
            mlflow.log_artifacts(str(artifacts_dir))
            signature = model_signature(input_example, model)
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=signature,
                input_example=input_example,
                registered_model_name=model_name,
                pyfunc_predict_fn="predict_proba",
                # skops (MLflow's default) refuses our own classes; the bundle, not this
                # copy, is what advisors load, and it is verified before unpickling
                serialization_format="cloudpickle",
            )
            version = str(info.registered_model_version)
            champion = champion_version(client, model_name)
            mlflow.set_tag("model_version", version)
            return TrackedModel(
                run.info.run_id,
                experiment,
                model_name,
                version,
                champion or "",
                False,
                tracking_uri(),
            )
    except ProspectError:
        raise
    except Exception as exc:  # an unreachable server, a locked store…: say where and what
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed: {type(exc).__name__}: {exc}"
        ) from None


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
            f"{tracked.version}: {type(exc).__name__}: {exc}"
        ) from None
    tracked.champion_version, tracked.is_champion = tracked.version, True
    return tracked


def tag_run(run_id: str, tags: dict[str, str]) -> None:
    _, client = _client()
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


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


def load_registered(model_name: str, version: str):
    """A registered version's model and the bundle metadata logged with its run."""
    mlflow, client = _client()
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_model_version(model_name, str(version))
    except MlflowException:
        raise ProspectError(
            f"no version {version} of model {model_name!r} in {tracking_uri()}; "
            "`prospect runs` lists the runs and their versions"
        ) from None
    model = mlflow.sklearn.load_model(f"models:/{model_name}/{version}")
    with tempfile.TemporaryDirectory() as folder:
        path = mlflow.artifacts.download_artifacts(
            run_id=found.run_id, artifact_path="bundle_metadata.json", dst_path=folder
        )
        metadata = json.loads(Path(path).read_text())
    metadata["mlflow"] = {
        "run_id": found.run_id,
        "model_name": model_name,
        "model_version": str(version),
        "tracking_uri": tracking_uri(),
    }
    return model, metadata


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
