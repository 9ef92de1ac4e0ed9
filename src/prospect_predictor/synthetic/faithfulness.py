"""Do the explanations name the true reason? Measured against the generator's truth.

For each prospect whose realised outcome is one of the unwanted ones (win_lose, stalled,
declined), the truth file gives each reason's true contribution to that outcome's
log-odds against win_win. Centred over the rows measured (SHAP values are relative to the
average prospect), the largest is the true reason — when it is positive and ahead of the
runner-up by at least ``margin`` nats, so that there is one to find. The prospect counts as
explained faithfully when the product's largest reason contribution *to the same
outcome* is that reason. Shares are reported per outcome and pooled over the three.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from prospect_predictor.domain import REASONS

UNWANTED = ("win_lose", "stalled", "declined")


def centred(truth: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The truth file's ``<reason>__<outcome>`` columns minus their mean over the rows."""
    return {name: np.asarray(v, dtype=float) - np.mean(v) for name, v in truth.items()}


def faithfulness(
    true_contributions: Mapping[str, np.ndarray],
    explained: Mapping[str, np.ndarray],
    realised: np.ndarray,
    margin: float,
) -> dict:
    """``true_contributions`` (centred) and ``explained`` map ``<reason>__<outcome>`` to one
    value per row; ``realised`` is each row's outcome. Returns, per outcome and pooled,
    the rows that qualify, the share explained faithfully and the most frequent misses
    (true reason, reason named)."""
    realised = np.asarray(realised, dtype=object)
    reasons = np.array(REASONS, dtype=object)
    result: dict = {"margin": margin, "outcomes": {}}
    hits_all, rows_all, misses_all = 0, 0, Counter()
    for outcome in UNWANTED:
        rows = realised == outcome
        truth = np.column_stack([true_contributions[f"{r}__{outcome}"][rows] for r in REASONS])
        product = np.column_stack(
            [
                np.asarray(explained[f"{r}__{outcome}"])[rows]
                if f"{r}__{outcome}" in explained
                else np.full(int(rows.sum()), -np.inf)
                for r in REASONS
            ]
        )
        ordered = np.sort(truth, axis=1) if len(truth) else np.zeros((0, 2))
        clear = (ordered[:, -1] > 0) & (ordered[:, -1] - ordered[:, -2] >= margin)
        true_reason = reasons[truth.argmax(axis=1)][clear] if len(truth) else reasons[:0]
        named = reasons[product.argmax(axis=1)][clear] if len(product) else reasons[:0]
        hits = int((true_reason == named).sum())
        misses = Counter(
            (str(t), str(n)) for t, n in zip(true_reason, named, strict=True) if t != n
        )
        result["outcomes"][outcome] = {
            "realised": int(rows.sum()),
            "qualifying": int(clear.sum()),
            "share": hits / int(clear.sum()) if clear.any() else None,
            "true_reasons": {r: int((true_reason == r).sum()) for r in REASONS},
            "misses": [{"true": t, "named": n, "rows": c} for (t, n), c in misses.most_common(5)],
        }
        hits_all += hits
        rows_all += int(clear.sum())
        misses_all += misses
    result["pooled"] = {
        "qualifying": rows_all,
        "share": hits_all / rows_all if rows_all else None,
        "misses": [{"true": t, "named": n, "rows": c} for (t, n), c in misses_all.most_common(5)],
    }
    return result
