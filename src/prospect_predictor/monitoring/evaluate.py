"""Evaluation of a model on labelled prospects, and the promotion gate.

Pure: a model, its bundle metadata and a labelled frame in; metrics and a verdict out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor.data.leads import schema_of, with_derived
from prospect_predictor.data.validate import validate_file
from prospect_predictor.errors import InputFileError
from prospect_predictor.monitoring.metrics import classification_metrics


@dataclass
class Labelled:
    features: pd.DataFrame
    outcomes: np.ndarray
    source: str
    sha256: str


def read_labelled(path: str | Path, metadata: dict) -> Labelled:
    """A labelled file validated with the model's schema, labels mapped as in training."""
    from prospect_predictor.data.tableio import file_sha256

    report = validate_file(path, schema_of(metadata), require_outcome=True)
    if not report.ok:
        raise InputFileError(
            f"{path} cannot be evaluated until these problems are fixed:\n"
            + "\n".join(report.lines())
        )
    frame = report.frame
    labels = frame[metadata["outcome_column"]].astype(object)
    outcomes = labels.map(metadata["outcome_labels"])
    decided = (outcomes != "open").to_numpy()  # not decided yet: no outcome to measure
    frame, labels, outcomes = frame[decided], labels[decided], outcomes[decided]
    outside = ~outcomes.isin(metadata["classes"]).to_numpy()
    if outside.any():
        rows = ", ".join(str(r) for r in np.flatnonzero(outside)[:5] + 1)
        found = ", ".join(repr(v) for v in pd.unique(labels[outside])[:3])
        raise InputFileError(
            f"{path}: column {metadata['outcome_column']!r}: label(s) {found} map onto no "
            f"outcome this model predicts ({', '.join(metadata['classes'])}); rows {rows}"
        )
    return Labelled(
        with_derived(frame, metadata)[metadata["features"]],
        outcomes.to_numpy(dtype=object),
        str(path),
        file_sha256(path),
    )


def evaluate(
    model, metadata: dict, features: pd.DataFrame, outcomes: np.ndarray
) -> tuple[dict[str, float], np.ndarray]:
    proba = model.predict_proba(features[metadata["features"]])
    return classification_metrics(outcomes, proba, list(metadata["classes"])), proba


@dataclass
class Rule:
    name: str
    passed: bool
    challenger: float
    champion: float
    limit: str

    def sentence(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"{verdict}: {self.name}: challenger {self.challenger:.4f} vs champion "
            f"{self.champion:.4f} ({self.limit})"
        )


@dataclass
class GateResult:
    rules: list[Rule] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(rule.passed for rule in self.rules)

    @property
    def failed(self) -> list[Rule]:
        return [rule for rule in self.rules if not rule.passed]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "rules": [rule.__dict__ for rule in self.rules]}


def promotion_gate(
    challenger: dict[str, float],
    champion: dict[str, float],
    classes: list[str],
    max_log_loss_increase: float,
    max_roc_auc_drop: float,
    min_roc_auc_macro: float,
) -> GateResult:
    """Both models measured on the same holdout. The challenger passes when its log loss is
    no worse than the champion's by more than ``max_log_loss_increase``, no outcome's
    one-vs-rest ROC AUC falls by more than ``max_roc_auc_drop``, and its macro ROC AUC
    reaches ``min_roc_auc_macro`` (a model that cannot tell outcomes apart is never
    promoted, however the champion fares on the same labels).

    Per-outcome ROC AUC rather than recall: recall depends on the argmax, which shifts
    between classes when a better model redistributes probability (measured: a challenger
    with log loss 1.171 vs 1.207 lost 0.16 of `declined` recall), and recommendations use
    thresholds on probabilities, not the argmax.
    """
    gate = GateResult()
    gate.rules.append(
        Rule(
            "log_loss",
            challenger["log_loss"] <= champion["log_loss"] + max_log_loss_increase,
            challenger["log_loss"],
            champion["log_loss"],
            f"may exceed the champion's by at most {max_log_loss_increase}",
        )
    )
    for name in classes:
        key = f"roc_auc_{name}"
        if key in challenger and key in champion:
            gate.rules.append(
                Rule(
                    key,
                    challenger[key] >= champion[key] - max_roc_auc_drop,
                    challenger[key],
                    champion[key],
                    f"may fall by at most {max_roc_auc_drop}",
                )
            )
    gate.rules.append(
        Rule(
            "roc_auc_macro floor",
            challenger.get("roc_auc_macro", 0.0) >= min_roc_auc_macro,
            challenger.get("roc_auc_macro", float("nan")),
            champion.get("roc_auc_macro", float("nan")),
            f"the challenger must reach {min_roc_auc_macro}",
        )
    )
    return gate
