"""Making a registered version the champion, in an order that survives a crash anywhere.

The model registry's ``champion`` alias is the source of truth; ``models/<name>/`` is its
exported copy, which advisors' machines score with. A promotion, always under the store
lock (:func:`prospect_predictor.registry.store.store_lock`), goes:

1. the challenger's version is registered (its run already holds the scoring form);
2. a journal ``models/.<name>.promotion.json`` records "version N is being promoted";
3. the alias moves to N;
4. the registry's files of version N are exported to ``models/<name>/`` (two renames);
5. the run is tagged promoted; the journal is removed.

A crash leaves either no journal (nothing was decided, or everything is done) or a journal
naming the version to finish; :func:`reconcile`, run under the lock by every command that
uses the registry before anything else, finishes it (alias, export, tags), puts back a
bundle an export moved aside, removes stale temporary folders, and re-exports the champion
when the bundle is missing, fails its checks, or holds another version of this registry.
``prospect score``, which does not load MLflow, reports a journal it finds in one line with
the fix.
``tests/faults`` kills the process at every step and checks the repair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prospect_predictor import faults
from prospect_predictor.errors import ProspectError
from prospect_predictor.registry import bundle as bundles
from prospect_predictor.registry import tracking, versions


@dataclass
class Champion:
    """The model a challenger is compared with, read without unpickling."""

    version: str  # its registered version ("" for a bundle of another store)
    model: object  # its ScoringForm
    metadata: dict
    profile: dict | None
    source: str  # "registry" or the bundle's folder


def export_version(model_name: str, version: str, target: Path, trust_pickle: bool = False):
    """Write the registry's version ``version`` as the bundle at ``target``."""
    registered = versions.download_version(model_name, version, trust_pickle=trust_pickle)
    return bundles.write_bundle(target, registered.metadata, registered.files)


def reconcile(model_name: str, target: Path) -> list[str]:
    """Repair what an interrupted promotion or export left; returns one line per repair.
    Call under the store lock."""
    target = Path(target)
    done = bundles.clean_leftovers(target)
    _, client = tracking._client()
    champion = versions.champion_version(client, model_name)
    entry = bundles.pending_promotion(target)
    if entry is not None:
        version = str(entry.get("version", ""))
        if not version.isdigit():
            raise ProspectError(
                f"{bundles.journal_path(target)} is unreadable: a promotion was interrupted. "
                f"Check `prospect runs`, then remove that file and run `prospect export`."
            )
        if champion != version:
            client.set_registered_model_alias(model_name, tracking.CHAMPION, version)
        export_version(model_name, version, target)
        if entry.get("run_id"):
            tracking.tag_run(entry["run_id"], {"promoted": "true", **entry.get("tags", {})})
        bundles.clear_journal(target)
        done.append(
            f"finished the promotion of version {version} of {model_name}, which was "
            "interrupted: champion alias and bundle now agree"
        )
        return done
    if champion is None:
        return done
    try:
        held = _bundle_version(target)
        if held is not None:
            bundles.load_bundle(target)
    except bundles.BundleError as exc:
        export_version(model_name, champion, target)
        done.append(
            f"{target} failed its checks ({exc}); re-exported the champion, version "
            f"{champion}, from the registry"
        )
        return done
    if held is None:
        export_version(model_name, champion, target)
        done.append(f"exported the champion, version {champion}, to {target} (it was missing)")
    elif held != champion and _same_store(client, target):
        export_version(model_name, champion, target)
        done.append(
            f"{target} held version {held} but the registry's champion is version "
            f"{champion}: re-exported version {champion}"
        )
    return done


def _bundle_version(target: Path) -> str | None:
    """The version the bundle at ``target`` holds; None when there is no bundle. A bundle
    that fails its checks raises BundleError."""
    if not (target / bundles.MANIFEST_FILE).is_file():
        return None
    return bundles.registered_version(bundles.read_metadata(target)) or ""


def _same_store(client, target: Path) -> bool:
    run_id = (bundles.read_metadata(target).get("mlflow") or {}).get("run_id")
    if not run_id:
        return False
    try:
        client.get_run(run_id)
    except Exception:  # noqa: BLE001 - not a run of this store
        return False
    return True


def current_champion(model_name: str, target: Path) -> Champion | None:
    """The champion to compare a challenger with: the registry's ``champion`` version; when
    the registry has none but ``target`` holds a bundle (e.g. a new store beside an old
    bundle), that bundle. None only when neither exists: a missing bundle never means
    "no champion" while the registry has one."""
    _, client = tracking._client()
    version = versions.champion_version(client, model_name)
    if version is not None:
        try:
            registered = versions.download_version(model_name, version)
        except ProspectError:
            if _bundle_version(target) == version:  # an old version re-exported with its form
                loaded = bundles.load_bundle(target)
                return Champion(
                    version, loaded.model, loaded.metadata, bundles.read_profile(target), "bundle"
                )
            raise
        from prospect_predictor.explaining.scoring_form import ScoringForm

        form = ScoringForm.from_bytes(*(registered.files[n] for n in bundles.FORM_FILES))
        profile = json.loads(registered.files["profile.json"])
        return Champion(version, form, registered.metadata, profile, "registry")
    if (target / bundles.MANIFEST_FILE).is_file():
        loaded = bundles.load_bundle(target)
        return Champion(
            loaded.version or "",
            loaded.model,
            loaded.metadata,
            bundles.read_profile(target),
            str(target),
        )
    return None


def promote(tracked, target: Path, tags: dict[str, str], previous: str | None = None) -> Path:
    """Steps 2–5 for a registered ``tracked`` version (under the store lock). ``previous``
    is the champion it replaces: an error (not a crash) on the way puts the alias back to
    it and leaves the bundle as it was; a crash leaves the journal for :func:`reconcile`."""
    target = Path(target)
    faults.point("after_register")
    bundles.write_journal(
        target,
        {
            "version": tracked.version,
            "run_id": tracked.run_id,
            "tags": tags,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    faults.point("after_journal")
    try:
        versions.set_champion(tracked)
        faults.point("after_alias")
        exported = export_version(tracked.model_name, tracked.version, target)
    except Exception:
        _undo(tracked, target, previous)
        raise
    faults.point("after_export")
    tracking.tag_run(tracked.run_id, {"promoted": "true", **tags})
    faults.point("after_tag")
    bundles.clear_journal(target)
    return exported


def _undo(tracked, target: Path, previous: str | None) -> None:
    """Put the alias back after a failed export (the bundle was left as it was)."""
    try:
        versions.move_champion(tracked.model_name, previous)
    except Exception:  # noqa: BLE001 - the journal stays: the next command finishes it
        return
    tracked.champion_version, tracked.is_champion = previous or "", False
    bundles.clear_journal(target)
