"""The model registry's versions: registering one, the ``champion`` alias, descriptions,
and a version's files read back as JSON and arrays (never unpickled).

Split from :mod:`~prospect_predictor.registry.tracking` (runs and the store), whose MLflow
client and error wording it uses; like it, it is one of the two modules that call MLflow.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from prospect_predictor.errors import ProspectError
from prospect_predictor.registry.tracking import (
    CHAMPION,
    FORM_FILES,
    TrackedModel,
    _client,
    _first_line,
    said,
    tracking_uri,
)


def describe_version(model_name: str, version: str, text: str, model_text: str) -> None:
    """Descriptions of a version (``text``) and of the registered model (``model_text``,
    rewritten only when it differs: the registry keeps no history of it)."""
    _, client = _client()
    with said(f"failed to describe version {version} of {model_name!r}"):
        client.update_model_version(model_name, str(version), description=text)
        if (client.get_registered_model(model_name).description or "") != model_text:
            client.update_registered_model(model_name, description=model_text)


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
