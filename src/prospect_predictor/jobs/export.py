"""`prospect export`: a registered version written as a bundle; the champion's bundle repaired."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ExportReport:
    model_name: str
    version: str
    target: Path
    is_champion: bool
    repairs: list[str]


def run_export(
    pipeline_path: str | Path | None,
    version: str | None = None,
    out: Path | None = None,
    trust_pickle: bool = False,
    overwrite: bool = False,
) -> ExportReport:
    """Repair the champion's bundle (:func:`promotion.reconcile`), then export ``version``
    (default: the champion) to ``out`` (default: the champion's bundle folder, which only
    the champion may be exported to: it is what scoring uses). Another bundle already at
    ``out`` is replaced only with ``overwrite``."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.errors import ProspectError
    from prospect_predictor.registry import promotion, tracking, versions
    from prospect_predictor.registry.bundle import bundle_dir
    from prospect_predictor.registry.store import store_lock

    pipeline = load_pipeline(pipeline_path)
    target = bundle_dir(pipeline)
    if version is not None and not version.isdigit():
        raise ProspectError(f"--version {version!r}: expected a version number, e.g. 3")
    if out is not None and Path(out).resolve() != target.resolve():
        if Path(out).exists() and not Path(out).is_dir():
            raise ProspectError(f"--out {out}: is a file; a bundle is a folder")
        if (Path(out) / "manifest.json").exists() and not overwrite:
            raise ProspectError(
                f"--out {out}: holds a bundle already; it was left untouched. Give "
                "--overwrite to replace it, or choose another folder."
            )
    with store_lock():
        _, client = tracking._client()
        champion = versions.champion_version(client, pipeline.name)
        done = None
        if trust_pickle and version is not None and version == champion:
            # an old champion: its form is written first, so that reconcile can read it
            done = promotion.export_version(pipeline.name, version, out or target, True)
        repairs = promotion.reconcile(pipeline.name, target)
        champion = versions.champion_version(client, pipeline.name)
        chosen = version or champion
        if chosen is None:
            raise ProspectError(
                f"the registry at {tracking.tracking_uri()} has no champion for "
                f"{pipeline.name!r}; train one (prospect train --data HISTORY.csv) or give "
                "--version N --out FOLDER"
            )
        destination = Path(out) if out is not None else target
        if destination.resolve() == target.resolve() and chosen != champion:
            raise ProspectError(
                f"{target} is the champion's bundle (version {champion}); give --out FOLDER "
                f"to export version {chosen} elsewhere, or promote it with prospect retrain"
            )
        if done is None:
            promotion.export_version(pipeline.name, chosen, destination, trust_pickle)
    return ExportReport(pipeline.name, chosen, destination, chosen == champion, repairs)
