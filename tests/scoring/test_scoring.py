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


def _without(total, part, k):
    """The log-odds with ``part``'s contribution to outcome k's own odds taken out."""
    changed = total.copy()
    changed[k] -= part[k]
    return changed


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_the_top_reason_adds_the_most_points_to_the_outcome_explained(scored):
    """A reason is named only from min_reason_points, it is the reason that adds the most
    probability to the outcome the decision is about, and its points are what that
    outcome would lose without the reason's contribution to its own odds (recomputed here
    from the reason columns); every driver raises those odds."""
    bundle, frame = scored
    scores = _score(bundle, frame)
    out = to_frame(scores, bundle.metadata, "en")
    minimum = bundle.metadata["explanation"]["min_reason_points"]
    total = scores.base + scores.values.sum(axis=1)
    named = 0
    for i, row in out.iterrows():
        outcome = row["top_reason_outcome"]
        assert outcome in ("win_lose", "stalled", "declined")
        k = scores.classes.index(outcome)

        points = {
            r: 100
            * (_softmax(total[i])[k] - _softmax(_without(total[i], scores.reasons[r][i], k))[k])
            for r in REASONS
        }
        best = max(points, key=points.get)
        if row["incomplete_record"]:  # blanks carry it: no reason, the blank fields as drivers
            assert row["top_reason"] == "" and np.isnan(row["top_reason_points"])
            assert all(pd.isna(frame.iloc[i][f]) for f, _ in scores.top_drivers[i])
        elif points[best] >= minimum:
            named += 1
            assert row["top_reason"] == best
            assert row["top_reason_points"] == pytest.approx(points[best], abs=1e-9)
            drivers = scores.top_drivers[i]
            assert all(bundle.metadata["feature_reasons"][f] == best for f, _ in drivers)
            assert all(p >= bundle.metadata["explanation"]["min_driver_points"] for _, p in drivers)
        else:
            assert row["top_reason"] == "" and np.isnan(row["top_reason_points"])
            assert row["top_drivers"] == ""
    assert 0 < named < len(out)  # both cases occur on 400 leads


def test_one_story_per_lead(scored):
    """The tier, the outcome explained, the reason and the advice never contradict: a
    pursue lead never gets advice to part ways; walk_away and qualify get the article's
    advice for the reason named; walk_away is about an outcome far above its usual odds."""
    from prospect_predictor.language import texts
    from prospect_predictor.scoring.decision import lifts, tier_rules

    bundle, frame = scored
    scores = _score(bundle, frame)
    out = to_frame(scores, bundle.metadata, "en")
    part_ways = {texts.advice(r, "en") for r in REASONS}
    rules = tier_rules(bundle.metadata)
    assert rules["mode"] == "relative" and set(rules["base_rates"]) == set(scores.classes)
    lift = lifts(scores.proba, scores.classes, rules["base_rates"])
    seen = set()
    for i, row in out.iterrows():
        tier, reason, outcome = row["recommendation"], row["top_reason"], row["top_reason_outcome"]
        seen.add(tier)
        if row["incomplete_record"]:
            assert row["advice"].startswith("Incomplete record: blank ")
        elif tier == "pursue":
            assert row["advice"] not in part_ways
            assert row["advice"] == (
                texts.watch(reason, "en") if reason else texts.ui("no_single_reason_pursue", "en")
            )
        elif reason:
            assert row["advice"] == texts.advice(reason, "en")
        else:
            assert row["advice"] == texts.ui(f"no_single_reason_{tier}", "en")
        unwanted = [scores.classes.index(c) for c in ("win_lose", "stalled", "declined")]
        k = scores.classes.index(outcome)
        assert lift[i, k] == lift[i, unwanted].max()  # the most raised unwanted outcome
        if tier == "walk_away":
            assert lift[i, k] >= rules["walk_away_min_lift"]
        else:
            assert lift[i, unwanted].max() < rules["walk_away_min_lift"]
    assert seen == {"pursue", "qualify", "walk_away"}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_text_columns_gathered_per_distinct_value_say_what_each_row_says(scored, lang):
    """The output's drivers and advice are worded once per distinct value and gathered;
    they must read exactly as each row worded on its own (``describe_drivers``,
    ``advice_for``), blanks and incomplete records included."""
    from prospect_predictor.language import texts
    from prospect_predictor.scoring.score import (
        advice_for,
        column_units,
        describe_drivers,
        driver_texts,
    )

    bundle, frame = scored
    holed = frame.copy()
    rng = np.random.default_rng(3)
    for column in ("investable_assets_eur", "annual_income_eur", "primary_need", "postponements"):
        holed.loc[rng.random(len(holed)) < 0.3, column] = None
    scores = _score(bundle, holed)
    out = to_frame(scores, bundle.metadata, lang)
    metadata = bundle.metadata
    units = column_units(metadata)
    assert scores.incomplete.any() and (scores.top_reason != "").any()
    for i in range(len(out)):
        words = describe_drivers(scores, i, metadata["feature_types"], units, lang)
        assert out["top_drivers"].iloc[i] == texts.listed(words, lang)
        assert out["advice"].iloc[i] == advice_for(scores, i, lang)
    # a batch in which no lead has a driver (e.g. every lead pursued, nothing to say)
    scores.decision.driver_index[:] = -1
    assert (driver_texts(scores, metadata, lang) == "").all()
