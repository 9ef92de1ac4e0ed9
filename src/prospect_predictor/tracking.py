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


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the embedded SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{STORE_FILE.as_posix()}"


def ui_command() -> str:
    """How to open the MLflow UI on the store in use."""
    uri = tracking_uri()
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
    if uri.startswith("sqlite:///") and "MLFLOW_TRACKING_URI" not in os.environ:
        EXPERIMENTS_DIR.mkdir(exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow, MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(client, name: str) -> str:
    """The experiment's id, creating it (with artifacts under experiments/) if needed."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if "MLFLOW_TRACKING_URI" not in os.environ:
        location = ARTIFACTS_DIR.resolve().as_uri()
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
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, CHAMPION).version
    except MlflowException:
        return None


def typical_input_example(features: pd.DataFrame, feature_types: dict[str, str]) -> pd.DataFrame:
    """One made-up, typical prospect (medians and most frequent values): an input example
    for MLflow that carries nobody's personal data."""
    row: dict[str, Any] = {}
    for name, kind in feature_types.items():
        column = features[name].dropna()
        if kind in ("int", "float"):
            row[name] = float(column.median()) if len(column) else float("nan")
        elif kind == "bool":
            row[name] = bool(column.astype(bool).mean() >= 0.5) if len(column) else False
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
    promote_first: bool = True,
) -> TrackedModel:
    """One training run: params, metrics, the files in ``artifacts_dir``, the model
    (signature + input example) registered under ``model_name``; the first registered
    version becomes ``champion``."""
    mlflow, client = _client()
    from mlflow.models import infer_signature

    try:
        exp_id = experiment_id(client, experiment)
        with mlflow.start_run(experiment_id=exp_id, tags=tags) as run:
            for start in range(0, len(params), 100):  # the store takes params in batches
                mlflow.log_params(dict(list(params.items())[start : start + 100]))
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
            mlflow.log_artifacts(str(artifacts_dir))
            signature = infer_signature(input_example, model.predict_proba(input_example))
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
            if champion is None and promote_first:
                client.set_registered_model_alias(model_name, CHAMPION, version)
                champion = version
            mlflow.set_tag("model_version", version)
            return TrackedModel(
                run.info.run_id,
                experiment,
                model_name,
                version,
                champion or "",
                champion == version,
                tracking_uri(),
            )
    except ProspectError:
        raise
    except Exception as exc:  # an unreachable server, a locked store…: say where and what
        raise ProspectError(
            f"MLflow at {tracking_uri()} failed: {type(exc).__name__}: {exc}"
        ) from None


def new_artifacts_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="prospect-artifacts-")
