"""The decision rule on hand-made probabilities: tiers, the outcome explained, warnings."""

from __future__ import annotations

import numpy as np
import pytest

from prospect_predictor.config.pipeline import RecommendationConfig
from prospect_predictor.scoring.decision import recommend, tier_rules, tier_table

CLASSES = ["win_win", "win_lose", "stalled", "declined"]
RATES = {"win_win": 0.3, "win_lose": 0.1, "stalled": 0.2, "declined": 0.4}
RELATIVE = {
    "mode": "relative",
    "pursue_min_win_win_lift": 1.5,
    "walk_away_min_lift": 2.0,
    "base_rates": RATES,
}


def test_relative_tiers_follow_each_outcomes_usual_odds():
    proba = np.array(
        [
            [0.30, 0.10, 0.20, 0.40],  # the usual prospect: qualify
            [0.50, 0.05, 0.15, 0.30],  # win_win odds x2.3: pursue
            [0.20, 0.25, 0.15, 0.40],  # win_lose odds x3: walk away, about win_lose
            [0.10, 0.05, 0.10, 0.75],  # declined odds x4.5: walk away, about declined
        ]
    )
    tier, explained = recommend(proba, CLASSES, RELATIVE)
    assert list(tier) == ["qualify", "pursue", "walk_away", "walk_away"]
    assert [CLASSES[k] for k in explained[2:]] == ["win_lose", "declined"]


def test_the_same_lift_means_the_same_tier_whatever_the_base_rate():
    """A 12 % win rate history and a 40 % one: twice the usual odds of a win is pursue."""

    def odds(p):
        return p / (1 - p)

    for rate in (0.12, 0.40):
        p = odds(rate) * 2 / (1 + odds(rate) * 2)
        rules = {**RELATIVE, "base_rates": {"win_win": rate, "declined": 1 - rate}}
        tier, explained = recommend(np.array([[p, 1 - p]]), ["win_win", "declined"], rules)
        assert tier[0] == "pursue" and explained[0] == 1


def test_absolute_tiers_name_the_outcome_that_crossed_its_threshold():
    rules = tier_rules({"recommendation": {"walk_away_min_bad": 0.5}})
    assert rules["mode"] == "absolute" and rules["walk_away_min_declined"] == 0.75
    proba = np.array([[0.10, 0.35, 0.20, 0.35], [0.05, 0.05, 0.05, 0.85]])
    tier, explained = recommend(proba, CLASSES, rules)
    assert list(tier) == ["walk_away", "walk_away"]
    # the first crossed the bad-sum threshold only: win_lose, not the equally likely declined
    assert [CLASSES[k] for k in explained] == ["win_lose", "declined"]


def test_a_bundle_without_rates_compares_with_its_training_rows():
    rules = tier_rules(
        {"recommendation": {}, "data": {"rows_per_class": {"win_win": 30, "declined": 70}}}
    )
    assert rules["base_rates"] == {"win_win": 0.3, "declined": 0.7}


def test_one_crowded_tier_and_a_pursue_that_does_not_win_are_warned_about():
    proba = np.tile([0.30, 0.10, 0.20, 0.40], (100, 1))  # everyone usual: all qualify
    table = tier_table(proba, CLASSES, np.array(["win_win"] * 100), RELATIVE)
    assert table.share("qualify") == 1.0 and "100% of the holdout in qualify" in table.warnings[0]
    proba = np.array([[0.6, 0.1, 0.1, 0.2]] * 50 + [[0.3, 0.1, 0.2, 0.4]] * 50)
    outcomes = np.array(["declined"] * 50 + ["win_win"] * 50)
    table = tier_table(proba, CLASSES, outcomes, RELATIVE)
    assert table.outcome_mix["pursue"]["win_win"] == 0.0
    assert any("pursue prospects became win-win 0%" in w for w in table.warnings)


def test_a_config_mixing_relative_and_absolute_tiers_is_refused():
    assert RecommendationConfig().rules({"win_win": 1.0})["mode"] == "relative"
    assert RecommendationConfig(pursue_min_win_win=0.3).rules()["mode"] == "absolute"
    with pytest.raises(ValueError, match="walk_away_min_lift: not a setting of absolute"):
        RecommendationConfig(pursue_min_win_win=0.3, walk_away_min_lift=2.0)


def _decide(values, missing):
    """decide() on two outcomes (win_win, declined) and three features of two reasons."""
    from prospect_predictor.scoring.decision import decide

    features = ["assets", "source", "postponements"]
    reasons_of = {"assets": "poor_fit", "source": "poor_fit", "postponements": "strung_along"}
    values = np.asarray(values, dtype=float)[:, :, None] * np.array([0.0, 1.0])
    reasons = {
        r: values[:, [j for j, f in enumerate(features) if reasons_of[f] == r], :].sum(axis=1)
        for r in ("poor_fit", "strung_along")
    }
    base = np.array([0.0, 0.0])
    total = base + values.sum(axis=1)
    proba = np.exp(total) / np.exp(total).sum(axis=1, keepdims=True)
    metadata = {
        "recommendation": {**RELATIVE, "base_rates": {"win_win": 0.5, "declined": 0.5}},
        "explanation": {"min_reason_points": 5.0, "min_driver_points": 1.0, "max_drivers": 3},
    }
    return decide(
        proba,
        base,
        values,
        reasons,
        features,
        reasons_of,
        ["win_win", "declined"],
        "win_win",
        metadata,
        missing=np.asarray(missing, dtype=bool),
    )


def test_blanks_that_carry_the_explanation_make_an_incomplete_record():
    """A blank assets field pushing declined up reads as an incomplete record, not as a
    poor fit; the same push from a known value is a poor fit; small blanks change nothing."""
    blank = _decide([[1.5, 0.1, 0.2]], [[True, False, False]])
    assert blank.incomplete[0] and blank.top_reason[0] == ""
    assert [f for f, _ in blank.drivers[0]] == ["assets"]
    known = _decide([[1.5, 0.1, 0.2]], [[False, False, False]])
    assert not known.incomplete[0] and known.top_reason[0] == "poor_fit"
    small = _decide([[0.02, 1.5, 0.2]], [[True, False, False]])
    assert not small.incomplete[0] and small.top_reason[0] == "poor_fit"
    assert [f for f, _ in small.drivers[0]] == ["source"]


def test_an_incomplete_record_is_advised_to_be_completed():
    from prospect_predictor.language import texts
    from prospect_predictor.scoring.decision import advice

    said = advice("walk_away", "", "en", ["investable assets", "occupation"])
    assert said.startswith("Incomplete record: blank investable assets, occupation.")
    assert said != texts.advice("poor_fit", "en")
    assert "complétez" in advice("pursue", "", "fr", ["actifs"])


@pytest.mark.parametrize("classes", [2, 3, 4, 5])
def test_share_of_columns_is_softmax_to_the_last_bit(classes):
    """decide() computes its shares class by class on contiguous arrays; they must be the
    bits calibration.softmax gives row by row (the output's numbers must not move)."""
    from prospect_predictor.modeling.calibration import softmax
    from prospect_predictor.scoring.decision import share_of

    rng = np.random.default_rng(classes)
    logits = np.concatenate(
        [rng.normal(0, 3, (20_000, classes)), rng.normal(0, 300, (2_000, classes))]
    )
    logits[:5] = 0.0  # ties
    k = rng.integers(0, classes, len(logits))
    expected = softmax(logits)[np.arange(len(logits)), k]
    got = share_of([np.ascontiguousarray(logits[:, j]) for j in range(classes)], k)
    assert np.array_equal(got, expected)
