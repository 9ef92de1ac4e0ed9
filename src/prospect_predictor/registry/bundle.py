"""The model bundle: the folder ``models/<name>/`` that advisors' machines read to score
prospects without MLflow.

A bundle holds the model's *scoring form* (``scoring.json`` + ``scoring.npz``: JSON and
NumPy arrays read with ``allow_pickle=False``, see
:mod:`prospect_predictor.explaining.scoring_form`), ``metadata.json`` (what training
recorded, which registered version the bundle is, the bundle format, when it was written
and the library versions it was written with), ``profile.json`` and any other extra files,
and ``manifest.json`` with the SHA-256 of every other file.

**Nothing in a bundle is code, and nothing is unpickled.** Bundles of format 1 also held
``model.joblib``, a pickle; it is never read any more (a bundle received from someone else
could run any code when unpickled). A format-1 bundle with a scoring form loads from its
form; one without is refused with the command that re-exports it. Loading still checks the
manifest first (exactly the listed files, matching hashes), so a bundle altered after
export is refused rather than silently scoring with other numbers.

Exporting builds the bundle in a hidden sibling folder (``.<name>.tmp-*``) and swaps it into
place with two renames, so a failed export never leaves a half-written bundle. A crash
between the two renames leaves the previous bundle in a hidden ``….previous`` folder:
:func:`clean_leftovers` (run before each export) puts it back and removes stale temporary
folders, and :func:`load_bundle` names the command that does so.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prospect_predictor import faults
from prospect_predictor.errors import ProspectError

if TYPE_CHECKING:
    from prospect_predictor.config.pipeline import Pipeline

BUNDLE_FORMAT = 2  # 2: no model.joblib; 1: with model.joblib (read for its form only)
OLD_MODEL_FILE = "model.joblib"  # format 1's pickle: hashed, never loaded
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
PROFILE_FILE = "profile.json"
FORM_FILES = ("scoring.json", "scoring.npz")  # = scoring_form.FILES (not imported: numpy)
RESERVED_FILES = (OLD_MODEL_FILE, METADATA_FILE, MANIFEST_FILE, *FORM_FILES)
# Keys export_bundle adds to the metadata; values given for them are replaced, because
# they describe this export (e.g. re-exporting a loaded bundle records the new write).
RECORDED_KEYS = ("format", "created_at", "library_versions")
VERSIONED_PACKAGES = ("numpy", "pandas", "scikit-learn", "joblib", "prospect-predictor")
MODELS_DIR = Path("models")
DEFAULT_BUNDLE = MODELS_DIR / "prospects"
HOW_TO_TRAIN = "Train one with: prospect train --data HISTORY.csv (or run prospect demo)."
TEMP_MARK = ".tmp-"
BACKUP_SUFFIX = ".previous"


class BundleError(ProspectError):
    """A model bundle that is missing, altered, or of a format this version cannot read."""


@dataclass
class Bundle:
    """A verified, loaded bundle."""

    path: Path
    model: object  # its ScoringForm: scores and explains like the trained model
    metadata: dict
    # the verified bytes the form and metadata were read from (metadata.json + FORM_FILES):
    # what a scorer on other machines receives, rebuilt there with bundle_from_files
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str | None:
        """The registered model version this bundle was exported from, if recorded."""
        return registered_version(self.metadata)


def registered_version(metadata: dict) -> str | None:
    version = (metadata.get("mlflow") or {}).get("model_version")
    return str(version) if version not in (None, "") else None


def library_versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    """The running Python and the installed versions of ``packages`` (by default the
    libraries training used); a missing one is reported as "not installed"."""
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
    """Compile ``model`` (a fitted ProspectModel) into its scoring form and write it with
    ``metadata`` as a bundle at ``target``, replacing any bundle there.

    A model that cannot be compiled exactly raises :class:`BundleError` before anything
    is written: a bundle without a form could only be scored by unpickling."""
    from prospect_predictor.explaining.compile_form import compile_files

    _check_extra_files(dict(extra_files or {}))
    try:
        form = compile_files(model)
    except Exception as exc:  # noqa: BLE001 - any reason the form cannot be made
        raise BundleError(f"{target}: the model cannot be exported ({exc})") from None
    if not form:
        raise BundleError(f"{target}: the model cannot be written as a scoring form")
    return write_bundle(target, metadata, {**(extra_files or {}), **form}, _form_ok=True)


def write_bundle(
    target: Path, metadata: dict, files: dict[str, bytes], _form_ok: bool = False
) -> Path:
    """Write a bundle from its files (the scoring form's two files and any extra ones, e.g.
    ``profile.json``) and ``metadata``, replacing any bundle at ``target``.

    Raises ``TypeError`` naming the key if ``metadata`` is not JSON-serialisable, and
    ``ValueError`` for a file name that is not a plain, unreserved file name; both before
    anything is written. Without ``_form_ok`` the form is read back first, so that a
    bundle that could not be loaded is never written."""
    target = Path(target)
    files = dict(files)
    missing = [name for name in FORM_FILES if name not in files]
    if missing:
        raise ValueError(f"a bundle needs its scoring form; {', '.join(missing)} not given")
    form = {name: files.pop(name) for name in FORM_FILES}
    _check_extra_files(files)
    if not _form_ok:
        _read_form(target, form)
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
    clean_leftovers(target)
    # Hidden (leading dot) so that anything listing bundles skips a crashed export's leftovers.
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_MARK}", dir=parent))
    backup = parent / f"{temp.name}{BACKUP_SUFFIX}"
    try:
        temp.chmod(0o777 & ~_umask())  # mkdtemp makes an owner-only folder; keep the usual mode
        (temp / METADATA_FILE).write_bytes(metadata_bytes)
        for name, content in {**files, **form}.items():
            (temp / name).write_bytes(content)
        names = sorted(p.name for p in temp.iterdir())
        manifest = {"format": BUNDLE_FORMAT, "files": {n: _sha256(temp / n) for n in names}}
        (temp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _fsync_folder(temp)
        faults.point("export_before_swap")
        _swap_into_place(temp, target, backup)
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # gone already after a successful swap
    # The new bundle is in place; a backup that cannot be deleted (e.g. a file held open on
    # Windows) is a hidden leftover, not a failed export.
    shutil.rmtree(backup, ignore_errors=True)
    return target


def clean_leftovers(target: Path) -> list[str]:
    """Repair what a crashed export left next to ``target``: a previous bundle moved aside
    and never replaced is put back; temporary folders are removed. Returns what was done.

    Only call it when no export of ``target`` can be running (under the store lock)."""
    target = Path(target)
    done: list[str] = []
    if not target.parent.is_dir():
        return done
    leftovers = sorted(target.parent.glob(f".{target.name}{TEMP_MARK}*"))
    if not (target.exists() or target.is_symlink()):
        backups = [p for p in leftovers if p.name.endswith(BACKUP_SUFFIX)]
        complete = [p for p in backups if (p / MANIFEST_FILE).is_file()]
        if complete:
            os.rename(complete[-1], target)
            leftovers.remove(complete[-1])
            done.append(f"put back {target} (an export was interrupted after moving it aside)")
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        done.append(f"removed {path.name}, left by an interrupted export")
    return done


def read_metadata(target: Path) -> dict:
    """The bundle's metadata, after verifying the manifest."""
    target = Path(target)
    contents = _verified_contents(target, keep=(METADATA_FILE,))
    return _parse_metadata(target, contents[METADATA_FILE])


def load_bundle(target: Path) -> Bundle:
    """Verify the bundle (manifest, hashes) and read its scoring form: JSON and NumPy
    arrays only, nothing unpickled, scikit-learn not imported; it scores and explains
    exactly like the trained model, whatever scikit-learn is installed."""
    target = Path(target)
    contents = _verified_contents(target, keep=(METADATA_FILE, *FORM_FILES))
    return bundle_from_files(target, contents)


def bundle_from_files(target: Path, contents: dict[str, bytes]) -> Bundle:
    """The bundle from its files' bytes (``metadata.json`` and the form's), as
    :func:`load_bundle` verified them: a worker that was sent the bytes rebuilds the same
    scoring form without reading the folder (``target`` only names it in messages)."""
    metadata = _parse_metadata(target, contents[METADATA_FILE])
    if not all(name in contents for name in FORM_FILES):
        raise BundleError(f"{target}: {_no_form(metadata)}")
    files = {name: contents[name] for name in (METADATA_FILE, *FORM_FILES)}
    return Bundle(target, _read_form(target, contents), metadata, files)


def _read_form(target: Path, contents: dict[str, bytes]):
    from prospect_predictor.explaining.scoring_form import FormError, ScoringForm, UnknownForm

    try:
        return ScoringForm.from_bytes(*(contents[name] for name in FORM_FILES))
    except UnknownForm as exc:
        raise BundleError(
            f"{target}: its scoring form is of a kind this version cannot read ({exc}); "
            "upgrade prospect-predictor, or export it again with this version"
        ) from None
    except FormError as exc:
        raise BundleError(
            f"{target}: its scoring form cannot be read ({exc}); re-export the bundle "
            "(prospect export) or train again"
        ) from None


def _no_form(metadata: dict) -> str:
    version = registered_version(metadata)
    old = (
        f"; a version registered before 0.2: prospect export --version {version} "
        "--trust-pickle, which unpickles it once: only for a model your firm trained"
        if version
        else ""
    )
    return (
        "this bundle has no scoring form (written before 0.2, or altered: its model is "
        "only a pickle, which is never loaded, since unpickling a file runs its code). "
        f"Re-export it where it was trained: prospect export{old}; or train again"
    )


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
        faults.point("export_between_renames")
    try:
        os.rename(temp, target)
    except BaseException:
        if had_previous:
            os.rename(backup, target)
        raise


def _fsync_folder(folder: Path) -> None:
    """Flush the new bundle's files to disk before it replaces the old one (POSIX; a
    no-op where folders cannot be opened, e.g. Windows)."""
    for path in [*folder.iterdir(), folder]:
        try:
            handle = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(handle)
        except OSError:
            pass
        finally:
            os.close(handle)


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
    parses is exactly what was verified. A kept file the manifest does not
    list is simply not returned.
    """
    manifest_path = target / MANIFEST_FILE
    if not manifest_path.is_file():
        if target.exists() and not target.is_dir():
            raise BundleError(f"{target} is a file; a model bundle is a folder")
        raise BundleError(_missing(target))
    listed = _read_manifest(target, manifest_path)

    for required in (METADATA_FILE,):
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


def _missing(target: Path) -> str:
    parent = target.parent
    backups = sorted(parent.glob(f".{target.name}{TEMP_MARK}*{BACKUP_SUFFIX}"))
    if parent.is_dir() and any((b / MANIFEST_FILE).is_file() for b in backups):
        return (
            f"No model bundle at {target}: an export was interrupted after moving the "
            f"previous bundle aside; `prospect export` puts the champion back."
        )
    return f"No model bundle at {target}. {HOW_TO_TRAIN}"


# --- the promotion journal ---------------------------------------------------------------


def journal_path(target: Path) -> Path:
    """Where a promotion under way records itself (``models/.<name>.promotion.json``)."""
    target = Path(target)
    return target.parent / f".{target.name}.promotion.json"


def pending_promotion(target: Path) -> dict | None:
    """The promotion of ``target`` that was started and not finished, if any (cheap: one
    file's existence; scoring checks it to say so)."""
    path = journal_path(target)
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        entry = None
    return entry if isinstance(entry, dict) else {"version": "?"}


def write_journal(target: Path, entry: dict) -> None:
    path = journal_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(entry, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temp, path)


def clear_journal(target: Path) -> None:
    journal_path(target).unlink(missing_ok=True)


def bundle_dir(pipeline: Pipeline) -> Path:
    """Where a pipeline's champion bundle is exported: ``models/<name>/``."""
    return MODELS_DIR / pipeline.name


def default_bundle() -> Path:
    """models/prospects/; if it is absent but other bundles exist, say which to pick."""
    if (DEFAULT_BUNDLE / "manifest.json").exists() or not MODELS_DIR.is_dir():
        return DEFAULT_BUNDLE
    others = sorted(
        p.parent for p in MODELS_DIR.glob("*/manifest.json") if not p.parent.name.startswith(".")
    )
    if others:
        choices = ", ".join(f"--model {p}" for p in others)
        raise ProspectError(f"no model bundle at {DEFAULT_BUNDLE}; this folder has: {choices}")
    return DEFAULT_BUNDLE


def read_profile(path: Path) -> dict | None:
    """The training data's profile kept in a bundle (``profile.json``), or None."""
    profile = path / "profile.json"
    return json.loads(profile.read_text()) if profile.exists() else None
