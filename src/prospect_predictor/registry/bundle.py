"""The model bundle: the folder ``models/<name>/`` that advisors' machines read to score
prospects without MLflow.

A bundle holds ``model.joblib`` (the fitted object), ``metadata.json`` (what training
recorded, plus the bundle format, when it was written and the library versions it was
written with), any extra files, and ``manifest.json`` with the SHA-256 of every other file.
A model that :mod:`prospect_predictor.explaining.scoring_form` can compile exactly (the default
depth-2 trees) also gets its scoring form, ``scoring.json`` + ``scoring.npz``: plain
arrays, no pickle, from which scoring computes the same probabilities and SHAP values
without importing scikit-learn (``load_bundle(..., for_scoring=True)``).

Loading verifies everything it can *before* unpickling, because unpickling runs code: the
manifest must list exactly the files in the folder with matching hashes, and the recorded
scikit-learn and numpy versions must match the installed ones (pickled scikit-learn models
are not portable across versions). Exporting builds the bundle in a hidden sibling folder
and swaps it into place, so a failed export never leaves a half-written bundle and never
loses the previous one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prospect_predictor.errors import ProspectError

if TYPE_CHECKING:
    from prospect_predictor.config.pipeline import Pipeline

BUNDLE_FORMAT = 1
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
FORM_FILES = ("scoring.json", "scoring.npz")  # = scoring_form.FILES (not imported: numpy)
RESERVED_FILES = (MODEL_FILE, METADATA_FILE, MANIFEST_FILE, *FORM_FILES)
# Keys export_bundle adds to the metadata; values given for them are replaced, because
# they describe this export (e.g. re-exporting a loaded bundle records the new write).
RECORDED_KEYS = ("format", "created_at", "library_versions")
VERSIONED_PACKAGES = ("numpy", "pandas", "scikit-learn", "joblib", "prospect-predictor")
MODELS_DIR = Path("models")
DEFAULT_BUNDLE = MODELS_DIR / "prospects"
HOW_TO_TRAIN = "Train one with: prospect train --data HISTORY.csv (or run prospect demo)."


class BundleError(ProspectError):
    """A model bundle that is missing, altered, or written for other library versions."""


@dataclass
class Bundle:
    """A verified, loaded bundle."""

    path: Path
    model: object  # the unpickled model, or its ScoringForm when loaded for scoring
    metadata: dict


def library_versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    """The running Python and the installed versions of ``packages`` (by default the
    libraries a pickle depends on); a missing one is reported as "not installed"."""
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def export_bundle(
    target: Path,
    model: object,
    metadata: dict,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write ``model`` and ``metadata`` as a bundle at ``target``, replacing any bundle there.

    Raises ``TypeError`` naming the key if ``metadata`` is not JSON-serialisable, and
    ``ValueError`` for an extra file name that is not a plain, unreserved file name; both
    before anything is written. The model's scoring form is written with it when it can be
    compiled exactly.
    """
    import joblib  # imports numpy; only needed here and when loading

    from prospect_predictor.explaining.compile_form import compile_files

    target = Path(target)
    extra_files = dict(extra_files or {})
    _check_extra_files(extra_files)
    extra_files.update(compile_files(model))
    full_metadata = {
        **{k: v for k, v in metadata.items() if k not in RECORDED_KEYS},
        "format": BUNDLE_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "library_versions": library_versions(),
    }
    metadata_bytes = _metadata_json(full_metadata)
    _check_replaceable(target)

    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    # Hidden (leading dot) so that anything listing bundles skips a crashed export's leftovers.
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    backup = parent / f"{temp.name}.previous"
    try:
        temp.chmod(0o777 & ~_umask())  # mkdtemp makes an owner-only folder; keep the usual mode
        joblib.dump(model, temp / MODEL_FILE)
        (temp / METADATA_FILE).write_bytes(metadata_bytes)
        for name, content in extra_files.items():
            (temp / name).write_bytes(content)
        files = sorted(p.name for p in temp.iterdir())
        manifest = {"format": BUNDLE_FORMAT, "files": {n: _sha256(temp / n) for n in files}}
        (temp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _swap_into_place(temp, target, backup)
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # gone already after a successful swap
    # The new bundle is in place; a backup that cannot be deleted (e.g. a file held open on
    # Windows) is a hidden leftover, not a failed export.
    shutil.rmtree(backup, ignore_errors=True)
    return target


def read_metadata(target: Path) -> dict:
    """The bundle's metadata, after verifying the manifest; nothing is unpickled."""
    target = Path(target)
    contents = _verified_contents(target, keep=(METADATA_FILE,))
    return _parse_metadata(target, contents[METADATA_FILE])


def load_bundle(target: Path, for_scoring: bool = False) -> Bundle:
    """Verify the bundle (manifest, hashes, library versions), then unpickle its model.

    ``for_scoring``: if the bundle has a scoring form, load that instead (NumPy arrays and
    JSON, nothing unpickled, scikit-learn not imported, so the library versions need not
    match); it scores and explains exactly like the model. Bundles without one (older, or
    other model families) are unpickled.
    """
    target = Path(target)
    forms = FORM_FILES if for_scoring else ()
    contents = _verified_contents(target, keep=(METADATA_FILE, MODEL_FILE, *forms))
    with_form = all(name in contents for name in forms) if forms else False
    metadata = _parse_metadata(target, contents[METADATA_FILE])
    if with_form:
        # No version check: the form is not a pickle; its NumPy arrays and JSON read the
        # same with any scikit-learn and NumPy, and scoring imports no scikit-learn.
        from prospect_predictor.explaining.scoring_form import FormError, ScoringForm, UnknownForm

        try:
            form = ScoringForm.from_bytes(*(contents[name] for name in FORM_FILES))
        except UnknownForm:
            form = None  # written by another version: the pickle is still the model
        except FormError as exc:
            raise BundleError(
                f"{target}: its scoring form cannot be read ({exc}); re-export the bundle "
                "or train again"
            ) from None
        if form is not None:
            return Bundle(path=target, model=form, metadata=metadata)
    _check_versions(target, metadata)
    import joblib

    # Unpickle the very bytes that were hashed, so the file cannot change in between.
    model = joblib.load(io.BytesIO(contents[MODEL_FILE]))
    return Bundle(path=target, model=model, metadata=metadata)


# --- exporting ---------------------------------------------------------------------------


def _check_extra_files(extra_files: dict[str, bytes]) -> None:
    for name, content in extra_files.items():
        if not _is_plain_name(name):
            raise ValueError(f"extra file name {name!r} must be a plain file name, no folders")
        if name in RESERVED_FILES:
            raise ValueError(f"extra file name {name!r} is reserved for the bundle itself")
        if not isinstance(content, bytes):
            raise TypeError(f"extra file {name!r} must be bytes, not {type(content).__name__}")


def _is_plain_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def _metadata_json(metadata: dict) -> bytes:
    problem = _unserialisable(metadata, "")
    if problem:
        raise TypeError(f"metadata {problem}; metadata must be JSON-serialisable")
    return (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _unserialisable(value: Any, key: str) -> str | None:
    """Describe the first value json would reject or silently change, naming its key."""
    if value is None or isinstance(value, str | bool | int | float):
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):  # json would turn it into a string: no round trip
                return f"key {key + '.' if key else ''}{k!r} is not a string"
            problem = _unserialisable(v, f"{key}.{k}" if key else k)
            if problem:
                return problem
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problem = _unserialisable(item, f"{key}[{i}]")
            if problem:
                return problem
        return None
    return f"key {key!r} holds a {type(value).__name__}, which JSON cannot store"


def _check_replaceable(target: Path) -> None:
    """Refuse to replace anything but a bundle or an empty folder (it would be deleted)."""
    if not (target.exists() or target.is_symlink()):
        return
    if target.is_dir() and ((target / MANIFEST_FILE).is_file() or not any(target.iterdir())):
        return
    raise BundleError(
        f"{target} exists and is not a model bundle (no {MANIFEST_FILE}); it was left "
        "untouched. Choose another folder for the bundle, or move that one away."
    )


def _swap_into_place(temp: Path, target: Path, backup: Path) -> None:
    had_previous = target.exists() or target.is_symlink()
    if had_previous:
        os.rename(target, backup)
    try:
        os.rename(temp, target)
    except BaseException:
        if had_previous:
            os.rename(backup, target)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- verifying ---------------------------------------------------------------------------


def _verified_contents(target: Path, keep: tuple[str, ...]) -> dict[str, bytes]:
    """Check the manifest against the folder; return the bytes of the ``keep`` files.

    The kept files are hashed from the same bytes that are returned, so what the caller
    parses or unpickles is exactly what was verified. A kept file the manifest does not
    list is simply not returned.
    """
    manifest_path = target / MANIFEST_FILE
    if not manifest_path.is_file():
        raise BundleError(f"No model bundle at {target}. {HOW_TO_TRAIN}")
    listed = _read_manifest(target, manifest_path)

    for required in (MODEL_FILE, METADATA_FILE):
        if required not in listed:
            raise BundleError(
                f"{target}: {MANIFEST_FILE} does not list {required}; "
                "re-export the bundle or train again"
            )
    present = {p.name for p in target.iterdir()} - {MANIFEST_FILE}
    unlisted = sorted(present - set(listed))
    if unlisted:
        verb = "is" if len(unlisted) == 1 else "are"
        raise BundleError(
            f"{target}: {', '.join(unlisted)} {verb} not part of the exported bundle (not in "
            f"{MANIFEST_FILE}); remove {'it' if len(unlisted) == 1 else 'them'}, or re-export "
            "the bundle"
        )

    contents = {}
    for name, expected in listed.items():
        path = target / name
        if not path.is_file():
            raise BundleError(f"{target}: {name} is missing; re-export the bundle or train again")
        if name in keep:
            data = path.read_bytes()
            actual = hashlib.sha256(data).hexdigest()
            contents[name] = data
        else:
            actual = _sha256(path)
        if actual != expected.lower():
            raise BundleError(
                f"{target}: {name} was modified after export (sha256 mismatch); "
                "re-export the bundle or train again"
            )
    return contents


def _read_manifest(target: Path, manifest_path: Path) -> dict[str, str]:
    unreadable = BundleError(
        f"{target}: {MANIFEST_FILE} is not a readable bundle manifest; "
        "re-export the bundle or train again"
    )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise unreadable from None
    if not isinstance(manifest, dict):
        raise unreadable
    bundle_format = manifest.get("format")
    if not isinstance(bundle_format, int) or isinstance(bundle_format, bool) or bundle_format < 1:
        raise unreadable
    if bundle_format > BUNDLE_FORMAT:
        raise BundleError(
            f"{target}: the bundle has format {bundle_format}, but this version of "
            f"prospect-predictor reads format {BUNDLE_FORMAT} at most; upgrade "
            "prospect-predictor, or export the bundle again with this version"
        )
    files = manifest.get("files")
    if (
        not isinstance(files, dict)
        or MANIFEST_FILE in files
        or not all(
            _is_plain_name(name)
            and isinstance(digest, str)
            and re.fullmatch(r"[0-9a-fA-F]{64}", digest)
            for name, digest in files.items()
        )
    ):
        raise unreadable
    return files


def _parse_metadata(target: Path, data: bytes) -> dict:
    try:
        metadata = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        metadata = None
    if not isinstance(metadata, dict):
        raise BundleError(
            f"{target}: {METADATA_FILE} is not a JSON object; re-export the bundle or train again"
        )
    return metadata


def _check_versions(target: Path, metadata: dict) -> None:
    """Refuse a pickle written with another scikit-learn major.minor or numpy major."""
    recorded = metadata.get("library_versions")
    recorded = recorded if isinstance(recorded, dict) else {}
    checked = (("scikit-learn", 2), ("numpy", 1))
    installed = library_versions(tuple(package for package, _ in checked))
    for package, parts in checked:
        ours = installed[package]
        if not isinstance(recorded.get(package), str):
            raise BundleError(
                f"{target}: {METADATA_FILE} does not record the {package} version the model "
                "was exported with, so it cannot be loaded safely; re-export the bundle or "
                "train again"
            )
        theirs = recorded[package]
        if theirs == ours:
            continue
        their_release, our_release = _release(theirs, parts), _release(ours, parts)
        if their_release is not None and their_release == our_release:
            continue
        raise BundleError(
            f"{target}: the model was exported with {package} {theirs}, but {package} "
            f"{ours} is installed; pickled scikit-learn models are not portable across "
            f"versions. Train again with this installation (prospect train --data "
            f"HISTORY.csv), or install {package} {theirs} to use this bundle."
        )


def _release(version: str, parts: int) -> tuple[int, ...] | None:
    """The first ``parts`` numbers of a version (``"1.5.2"``, 2 -> ``(1, 5)``), if present."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    if not match:
        return None
    numbers = tuple(int(n) for n in match.group().split("."))
    return numbers[:parts] if len(numbers) >= parts else None


def bundle_dir(pipeline: Pipeline) -> Path:
    """Where a pipeline's champion bundle is exported: ``models/<name>/``."""
    return MODELS_DIR / pipeline.name


def default_bundle() -> Path:
    """models/prospects/; if it is absent but other bundles exist, say which to pick."""
    if (DEFAULT_BUNDLE / "manifest.json").exists() or not MODELS_DIR.is_dir():
        return DEFAULT_BUNDLE
    others = sorted(p.parent for p in MODELS_DIR.glob("*/manifest.json"))
    if others:
        choices = ", ".join(f"--model {p}" for p in others)
        raise ProspectError(f"no model bundle at {DEFAULT_BUNDLE}; this folder has: {choices}")
    return DEFAULT_BUNDLE


def read_profile(path: Path) -> dict | None:
    """The training data's profile kept in a bundle (``profile.json``), or None."""
    profile = path / "profile.json"
    return json.loads(profile.read_text()) if profile.exists() else None
