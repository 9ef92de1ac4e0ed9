"""`prospect demo`: the main job on the built-in default, end to end.

Generate a history of prospects and a file of new leads, validate both against the
built-in schema, train on the history with the default pipeline (recorded in the embedded
MLflow store), export the champion bundle, and score the new leads with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prospect_predictor.config.schema import load_schema
from prospect_predictor.data.validate import ValidationReport, validate_file
from prospect_predictor.domain import OUTCOMES
from prospect_predictor.errors import ProspectError
from prospect_predictor.jobs.score import run_scoring
from prospect_predictor.jobs.train import Progress, TrainingReport, run_training
from prospect_predictor.scoring.writers import write_scores
from prospect_predictor.synthetic.generate import write_history

DEMO_DIR = Path("data") / "demo"
LEAD_ROWS = 1_000


@dataclass
class DemoResult:
    history: Path
    truth: Path
    leads: Path
    history_report: ValidationReport
    leads_report: ValidationReport
    outcome_shares: dict[str, float]
    file_status: dict[str, str]
    training: TrainingReport
    scored: Path | None = None
    scoring: object = None  # jobs.score.ScoringReport of the new leads, when a champion exists


def run_demo(
    rows: int = 20_000,
    seed: int = 7,
    folder: Path = DEMO_DIR,
    progress: Progress = lambda step: None,
) -> DemoResult:
    """Generate the demo files under ``folder`` (named by rows and seed), validate them,
    train on the history and export the champion."""
    progress("generating the history and new leads")
    history = folder / f"prospects_{rows}_seed{seed}.csv"
    truth = folder / f"prospects_{rows}_seed{seed}_truth.csv"
    leads = folder / f"leads_{LEAD_ROWS}_seed{seed}.csv"
    status = write_history(rows, seed, history, truth)
    status.update(write_history(LEAD_ROWS, seed, leads, new_leads=True))

    schema = load_schema("prospects")
    history_report = validate_file(history, schema)
    leads_report = validate_file(leads, schema, require_outcome=False)
    for report in (history_report, leads_report):
        if not report.ok:  # the generator and the schema disagree: a bug, say so plainly
            raise ProspectError(
                "the generated file does not pass its own schema:\n" + "\n".join(report.lines())
            )
    outcomes = history_report.frame[schema.outcome_column]
    shares = outcomes.value_counts(normalize=True).reindex(list(OUTCOMES), fill_value=0.0)
    training = run_training(history, pipeline_path=None, progress=progress)
    progress("scoring the new leads with the champion")
    scored = folder / f"leads_{LEAD_ROWS}_seed{seed}_scored.csv"
    scoring = run_scoring(None, leads)
    write_scores(scoring.frame, "csv", scored, scoring.records, overwrite=True)
    return DemoResult(
        history,
        truth,
        leads,
        history_report,
        leads_report,
        {k: float(v) for k, v in shares.items()},
        status,
        training,
        scored,
        scoring,
    )
