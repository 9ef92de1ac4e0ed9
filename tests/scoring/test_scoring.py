"""Behaviour of scores and explanations: additivity, direction, invariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.data.leads import read_leads
from prospect_predictor.domain import CONTEXT, REASONS
from prospect_predictor.registry.bundle import load_bundle
from prospect_predictor.scoring.score import score, to_frame


@pytest.fixture(scope="module")
def scored(trained_folder):
    folder, _ = trained_folder
    bundle = load_bundle(folder / "models" / "prospects")
    leads = read_leads(folder / "leads.csv", bundle.metadata)
    return bundle, leads.frame


def _score(bundle, frame):
    return score(bundle.model, bundle.metadata, frame)


def test_reasons_add_up_to_the_model_output_for_every_row(scored):
    bundle, frame = scored
    scores = _score(bundle, frame)
    reference = scores.classes.index("win_win")
    log_odds = np.log(scores.proba) - np.log(scores.proba[:, [reference]])
    rebuilt = scores.base + sum(scores.reasons[r] for r in (*REASONS, CONTEXT))
    assert np.abs(rebuilt - log_odds).max() < 1e-6
    assert np.abs(scores.base + scores.values.sum(axis=1) - log_odds).max() < 1e-6


def test_more_postponements_raise_stalled_and_strung_along(scored):
    bundle, frame = scored
    few, many = frame.copy(), frame.copy()
    few["postponements"], many["postponements"] = 0.0, 6.0
    low, high = _score(bundle, few), _score(bundle, many)
    k = low.classes.index("stalled")
    assert (high.proba[:, k] > low.proba[:, k]).mean() > 0.95
    assert (high.reasons["strung_along"][:, k] > low.reasons["strung_along"][:, k]).all()
    assert high.proba[:, k].mean() > low.proba[:, k].mean() + 0.1


def test_unrealistic_expected_return_raises_difficult_expectations(scored):
    bundle, frame = scored
    modest, greedy = frame.copy(), frame.copy()
    modest["expected_return_pct"], greedy["expected_return_pct"] = 5.0, 20.0
    low, high = _score(bundle, modest), _score(bundle, greedy)
    k = low.classes.index("win_lose")
    lift = (
        high.reasons["difficult_expectations"][:, k] - low.reasons["difficult_expectations"][:, k]
    )
    assert (lift > 0).all()
    assert (high.proba[:, k] > low.proba[:, k]).mean() > 0.95


def _frame_of(bundle, frame, **kwargs):
    return to_frame(_score(bundle, frame), bundle.metadata, "en").drop(columns="prospect_id")


def test_id_row_order_and_batch_size_change_nothing(scored):
    bundle, frame = scored
    reference = _frame_of(bundle, frame)
    renamed = frame.assign(prospect_id=[f"X{i}" for i in range(len(frame))])
    pd.testing.assert_frame_equal(_frame_of(bundle, renamed), reference)
    order = np.random.default_rng(0).permutation(len(frame))
    shuffled = _frame_of(bundle, frame.iloc[order]).iloc[np.argsort(order)].reset_index(drop=True)
    pd.testing.assert_frame_equal(shuffled, reference)
    one_by_one = pd.concat(
        [_frame_of(bundle, frame.iloc[[i]]) for i in range(25)], ignore_index=True
    )
    pd.testing.assert_frame_equal(one_by_one, reference.head(25))


def test_top_reason_is_the_largest_positive_bad_contribution(scored):
    bundle, frame = scored
    out = to_frame(_score(bundle, frame), bundle.metadata, "en")
    for _, row in out.head(50).iterrows():
        candidates = {
            (r, o): row[f"reason_{r}__{o}"] for r in REASONS for o in ("win_lose", "stalled")
        }
        (reason, outcome), best = max(candidates.items(), key=lambda kv: kv[1])
        if best > 0:
            assert (row["top_reason"], row["top_reason_outcome"]) == (reason, outcome)
            assert row["top_drivers"]
        else:
            assert row["top_reason"] == ""
