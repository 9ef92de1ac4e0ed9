"""Drift warnings: quiet on the same generator, loud and specific on shifted data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.config.schema import load_schema
from prospect_predictor.data.derived import add_derived
from prospect_predictor.data.profile import data_profile
from prospect_predictor.data.validate import validate_frame
from prospect_predictor.monitoring.drift import PSI_MODERATE, drift_report, psi
from prospect_predictor.synthetic.generate import generate

BANK_CSV = Path(__file__).parents[3] / "shared" / "data" / "bank-marketing" / "bank-full.csv"
BANK_NUMERIC = ["balance", "campaign", "pdays", "previous", "day"]
BANK_CATEGORIES = ["job", "education", "default", "housing", "loan", "contact", "month", "poutcome"]


def _typed(rows: int, seed: int) -> pd.DataFrame:
    """Generated rows as training and scoring see them: validated, derived features added."""
    export, _ = generate(rows, seed)
    frame = validate_frame(export, load_schema("prospects"), "x").frame
    pipeline = load_pipeline(None)
    return add_derived(frame, pipeline.derived, pipeline.schema)


@pytest.fixture(scope="module")
def pipeline():
    return load_pipeline(None)


@pytest.fixture(scope="module")
def training(pipeline):
    """A 20,000-row history, its profile as stored in a bundle, and its outcome shares."""
    frame = _typed(20_000, seed=101)
    profile = data_profile(frame[pipeline.features], pipeline.feature_types())
    stored = json.loads(json.dumps(profile, indent=1, sort_keys=True))  # as profile.json
    shares = frame["outcome"].value_counts(normalize=True).to_dict()
    return frame, stored, shares


@pytest.fixture(scope="module")
def later():
    """5,000 rows from the same generator, another seed."""
    return _typed(5_000, seed=202)


def _feature_warnings(report, name: str) -> list[str]:
    return [w for w in report.warnings if w.startswith(f"{name}:") or w.startswith(f"{name} (")]


# --------------------------------------------------------------------------- same generator


def test_same_generator_raises_no_warning(pipeline, training, later):
    _, profile, shares = training
    report = drift_report(later[pipeline.features], profile, later["outcome"].tolist(), shares)
    assert report.warnings == []
    assert not report.has_drift
    assert [f.feature for f in report.features] == pipeline.features  # the frame's order
    psis = {f.feature: f.psi for f in report.features}
    assert all(v is not None and 0 <= v < PSI_MODERATE for v in psis.values()), psis
    assert max(psis.values()) < 0.02  # sampling noise on 5,000 rows is far below 0.10
    assert report.outcome_psi is not None and report.outcome_psi < 0.01
    assert all(not f.warnings and f.unseen_share == 0 for f in report.features)


def test_the_stored_profile_and_the_fresh_one_give_the_same_report(pipeline, training, later):
    frame, stored, _ = training
    fresh = data_profile(frame[pipeline.features], pipeline.feature_types())
    a = drift_report(later, stored).to_dict()
    b = drift_report(later, fresh).to_dict()
    assert a == b


# --------------------------------------------------------------------------- shifted sample


@pytest.fixture(scope="module")
def shifted(later):
    rng = np.random.default_rng(5)
    frame = later.copy()
    n = len(frame)
    frame["postponements"] = frame["postponements"] + 3
    frame["expected_return_pct"] = frame["expected_return_pct"] * 1.6
    frame["days_since_last_reply"] = frame["days_since_last_reply"] * 0.3
    frame.loc[rng.random(n) < 0.8, "referral_source"] = "bought_list"
    frame.loc[rng.random(n) < 0.4, "investable_assets_eur"] = np.nan
    frame.loc[rng.random(n) < 0.05, "occupation"] = "astronaut"
    frame["newsletter_opt_in"] = pd.array(rng.random(n) < 0.9, dtype="boolean")
    return frame


def test_shifted_sample_names_each_feature_with_its_direction(training, shifted):
    _, profile, _ = training
    report = drift_report(shifted, profile)
    assert report.has_drift
    by_name = {f.feature: f for f in report.features}

    (post,) = _feature_warnings(report, "postponements")
    assert "much higher than in the training data" in post and "PSI" in post
    assert by_name["postponements"].mean_now > by_name["postponements"].mean_before + 2.5

    (ret,) = _feature_warnings(report, "expected_return_pct")
    assert "higher than in the training data" in ret

    (reply,) = _feature_warnings(report, "days_since_last_reply")
    assert "lower than in the training data" in reply

    (source,) = _feature_warnings(report, "referral_source")
    assert "mix is much different" in source and "more bought_list" in source

    (assets,) = _feature_warnings(report, "investable_assets_eur")
    assert "missing far more often" in assets
    assert by_name["investable_assets_eur"].missing_now > 0.4

    occupation = _feature_warnings(report, "occupation")
    assert any("never seen in training" in w and "'astronaut'" in w for w in occupation)
    assert by_name["occupation"].unseen_share == pytest.approx(0.05, abs=0.01)
    assert by_name["occupation"].unseen_examples == ["astronaut"]

    (news,) = _feature_warnings(report, "newsletter_opt_in")
    assert "true much more often" in news

    # the untouched features stay quiet, and the worst shift comes first
    shifted_names = {
        "postponements",
        "expected_return_pct",
        "days_since_last_reply",
        "referral_source",
        "investable_assets_eur",
        "occupation",
        "newsletter_opt_in",
    }
    assert all(not f.warnings for f in report.features if f.feature not in shifted_names)
    worst = max(report.features, key=lambda f: f.psi or 0.0)
    assert report.warnings[0] == worst.warnings[0]
    assert len(report.warnings) == sum(len(f.warnings) for f in report.features)


def test_report_is_plain_json(training, shifted):
    _, profile, shares = training
    shifted = shifted.copy()
    shifted["annual_income_eur"] = np.nan  # no known value: PSI and mean are None
    report = drift_report(shifted, profile, shifted["outcome"], shares)
    out = report.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["has_drift"] is True
    income = next(f for f in out["features"] if f["feature"] == "annual_income_eur")
    assert income["psi"] is None and income["mean_now"] is None
    assert income["missing_now"] == 1.0
    assert any(w.startswith("annual_income_eur") for w in out["warnings"])


def test_missing_features_are_skipped(training, later):
    _, profile, _ = training
    report = drift_report(later[["region", "prospect_id", "postponements"]], profile)
    assert [f.feature for f in report.features] == ["region", "postponements"]
    assert report.warnings == []


# --------------------------------------------------------------------------- outcome mix


def test_outcome_mix_same_seed_is_quiet_and_doubled_declined_warns(training, later):
    frame, profile, shares = training
    same = drift_report(frame, profile, frame["outcome"], shares)
    assert same.outcome_psi == pytest.approx(0.0, abs=1e-12)
    assert same.warnings == [] and same.outcome_warnings == []

    outcomes = later["outcome"].to_numpy(dtype=object).copy()
    declined = outcomes == "declined"
    others = np.flatnonzero(~declined)
    flip = np.random.default_rng(9).choice(others, size=int(declined.sum()), replace=False)
    outcomes[flip] = "declined"
    assert (outcomes == "declined").mean() == pytest.approx(2 * declined.mean())

    report = drift_report(later, profile, list(outcomes), shares)
    assert report.outcome_psi >= 0.25
    (warning,) = report.outcome_warnings
    assert warning in report.warnings
    assert warning.startswith("the outcome mix is much different") and "more declined" in warning
    assert report.outcome_shares_now["declined"] > 1.8 * report.outcome_shares_before["declined"]
    assert report.warnings == [warning]  # the features did not move


# --------------------------------------------------------------------------- small files


def test_small_files_do_not_warn_on_sampling_noise(pipeline, training):
    _, profile, _ = training
    tiny = _typed(60, seed=303)[pipeline.features]
    gated = drift_report(tiny, profile)
    raw = drift_report(tiny, profile, noise_gate=False)
    assert max(f.psi for f in gated.features) >= PSI_MODERATE  # the noise PSI alone shows
    assert raw.warnings  # and would warn without the gate
    assert gated.warnings == []


def test_psi_is_finite_with_empty_buckets_and_matches_its_formula():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = (0.7 - 0.5) * math.log(0.7 / 0.5) + (0.3 - 0.5) * math.log(0.3 / 0.5)
    assert psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(expected)
    empty = psi([0.5, 0.5, 0.0], [0.5, 0.0, 0.5])
    assert math.isfinite(empty) and empty > 1.0


# --------------------------------------------------------------------------- real bank data


def _bank_frame() -> tuple[pd.DataFrame, pd.Series]:
    raw = pd.read_csv(BANK_CSV, sep=";", quotechar='"')
    columns = {name: raw[name].astype("float64") for name in BANK_NUMERIC}
    columns |= {name: raw[name].astype(object) for name in BANK_CATEGORIES}
    return pd.DataFrame(columns), raw["y"].astype(object)


def test_bank_history_late_campaigns_drift_from_early_ones():
    if not BANK_CSV.exists():
        pytest.skip(f"the bank marketing history is not at {BANK_CSV}")
    frame, y = _bank_frame()
    types = {name: "int" for name in BANK_NUMERIC} | {name: "category" for name in BANK_CATEGORIES}
    cut = int(len(frame) * 0.8)  # the file is in date order: May 2008 to Nov 2010
    profile = data_profile(frame.iloc[:cut], types)
    shares = y.iloc[:cut].value_counts(normalize=True).to_dict()

    report = drift_report(frame.iloc[cut:], profile, y.iloc[cut:].tolist(), shares)
    assert report.rows == len(frame) - cut
    assert report.has_drift
    feature_warnings = [w for f in report.features for w in f.warnings]
    assert len(feature_warnings) >= 1
    assert max(f.psi for f in report.features) >= 0.25
    assert report.outcome_psi >= 0.25
    (outcome,) = report.outcome_warnings
    assert "more yes" in outcome
    json.dumps(report.to_dict(), allow_nan=False)
