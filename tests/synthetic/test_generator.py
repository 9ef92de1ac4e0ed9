"""The generator behaves as data/README.md documents it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.schema import load_schema
from prospect_predictor.data.validate import validate_file, validate_frame
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.synthetic.generate import (
    INTERCEPTS,
    MISSING_SHARE,
    generate,
    true_outcome_model,
    write_history,
)

# The class shares data/README.md promises.
SHARE_RANGES = {
    "win_win": (0.18, 0.32),
    "win_lose": (0.08, 0.18),
    "stalled": (0.20, 0.32),
    "declined": (0.30, 0.45),
}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, suffix):
    first, again, other = (tmp_path / f"{name}{suffix}" for name in ("first", "again", "other"))
    write_history(500, 5, first, tmp_path / f"first_truth{suffix}")
    write_history(500, 5, again, tmp_path / f"again_truth{suffix}")
    write_history(500, 6, other)
    assert first.read_bytes() == again.read_bytes()
    assert (tmp_path / f"first_truth{suffix}").read_bytes() == (
        tmp_path / f"again_truth{suffix}"
    ).read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_export_has_exactly_the_schema_columns_and_no_truth(history_20k):
    export, truth = history_20k
    schema = load_schema()
    assert list(export.columns) == list(schema.columns)
    truth_only = set(truth.columns) - {"prospect_id"}
    assert not truth_only & set(export.columns)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_written_history_and_leads_pass_the_schema(tmp_path, suffix):
    history, leads = tmp_path / f"h{suffix}", tmp_path / f"l{suffix}"
    write_history(2_000, 1, history)
    write_history(300, 1, leads, new_leads=True)
    schema = load_schema()
    history_report = validate_file(history, schema)
    assert history_report.ok, history_report.lines()
    assert history_report.n_rows == 2_000
    leads_report = validate_file(leads, schema, require_outcome=False)
    assert leads_report.ok, leads_report.lines()


def test_new_leads_have_no_outcome_later_dates_and_their_own_ids():
    history, _ = generate(1_000, seed=2)
    leads, truth = generate(1_000, seed=2, new_leads=True)
    assert "outcome" not in leads.columns
    assert leads["prospect_id"].str.startswith("L").all()
    assert history["prospect_id"].str.startswith("P").all()
    assert leads["first_contact_date"].min() > history["first_contact_date"].max()
    assert (truth["prospect_id"] == leads["prospect_id"]).all()


def test_class_shares_are_in_the_documented_ranges(history_20k):
    export, _ = history_20k
    shares = export["outcome"].value_counts(normalize=True)
    for outcome, (low, high) in SHARE_RANGES.items():
        assert low <= shares[outcome] <= high, (outcome, shares[outcome])


def test_truth_matches_the_export_row_by_row(history_20k):
    export, truth = history_20k
    assert len(truth) == len(export)
    assert (truth["prospect_id"].to_numpy() == export["prospect_id"].to_numpy()).all()
    probs = truth[[f"p_{o}" for o in OUTCOMES]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert ((probs > 0) & (probs < 1)).all()


def test_truth_logits_are_intercept_plus_reason_contributions(history_20k):
    _, truth = history_20k
    logits = [np.zeros(len(truth))]
    for outcome in OUTCOMES[1:]:
        parts = [truth[f"{reason}__{outcome}"] for reason in (*REASONS, CONTEXT)]
        rebuilt = INTERCEPTS[outcome] + np.sum(parts, axis=0)
        assert np.allclose(rebuilt, truth[f"logit_{outcome}"], atol=1e-12)
        logits.append(rebuilt)
    stacked = np.column_stack(logits)
    softmax = np.exp(stacked) / np.exp(stacked).sum(axis=1, keepdims=True)
    assert np.allclose(softmax, truth[[f"p_{o}" for o in OUTCOMES]], atol=1e-12)


def test_truth_is_a_function_of_the_written_columns_only(tmp_path):
    """Honesty: re-reading the export file alone gives back the true probabilities."""
    out, truth_out = tmp_path / "p.csv", tmp_path / "t.csv"
    write_history(3_000, 9, out, truth_out)
    report = validate_file(out, load_schema())
    recomputed = true_outcome_model(report.frame)
    written = pd.read_csv(truth_out)
    for outcome in OUTCOMES:
        assert np.allclose(recomputed[f"p_{outcome}"], written[f"p_{outcome}"], atol=1e-10)


@pytest.mark.parametrize(
    "column, new_value",
    [
        ("age_years", 30),
        ("marital_status", "single"),
        ("region", "north"),
        ("annual_income_eur", 1_000_000.0),
        ("preferred_channel", "video"),
        ("newsletter_opt_in", True),
        ("first_contact_date", "2024-06-01"),
    ],
)
def test_columns_documented_as_without_effect_do_not_move_the_truth(
    small_history, column, new_value
):
    export, truth = small_history
    changed = export.copy()
    changed[column] = new_value
    assert np.allclose(true_outcome_model(changed)["p_stalled"], truth["p_stalled"])
    assert np.allclose(true_outcome_model(changed)["p_win_lose"], truth["p_win_lose"])


def _share(export: pd.DataFrame, mask: pd.Series, outcome: str) -> float:
    return float((export.loc[mask.fillna(False).astype(bool), "outcome"] == outcome).mean())


def test_more_postponements_more_stalled(history_20k):
    export, _ = history_20k
    many, none = export["postponements"] >= 3, export["postponements"] == 0
    assert _share(export, many, "stalled") > _share(export, none, "stalled") + 0.15


def test_unrealistic_expected_return_more_win_lose(history_20k):
    export, _ = history_20k
    high, modest = export["expected_return_pct"] >= 12, export["expected_return_pct"] <= 6
    assert _share(export, high, "win_lose") > _share(export, modest, "win_lose") + 0.15


def test_assets_below_the_minimum_more_declined(history_20k):
    export, _ = history_20k
    small = export["investable_assets_eur"] < 50_000
    large = export["investable_assets_eur"] > 500_000
    assert _share(export, small, "declined") > _share(export, large, "declined") + 0.15


def test_proposed_product_that_misses_the_need_more_win_lose(history_20k):
    export, truth = history_20k
    mismatched = truth["driver_product_mismatch"] >= 1.2
    fitting = truth["driver_product_mismatch"] == 0
    assert _share(export, mismatched, "win_lose") > _share(export, fitting, "win_lose") + 0.10


def test_absent_decision_maker_more_stalled(history_20k):
    export, _ = history_20k
    absent = export["decision_maker_present"] == False  # noqa: E712
    present = export["decision_maker_present"] == True  # noqa: E712
    assert _share(export, absent, "stalled") > _share(export, present, "stalled") + 0.05


def test_missing_values_outliers_and_rare_categories_are_there(history_20k):
    export, _ = history_20k
    for column, share in MISSING_SHARE.items():
        assert abs(export[column].isna().mean() - share) < 0.02, column
    assets = export["investable_assets_eur"].dropna()
    assert assets.max() > 20 * assets.median()  # heavy tail
    assert (export["expected_return_pct"] > 40).sum() > 0  # typos like 80 for 8.0
    for column, rare in [
        ("referral_source", "partner_bank"),
        ("occupation", "student"),
        ("primary_need", "crypto_speculation"),
        ("region", "overseas"),
    ]:
        share = (export[column] == rare).mean()
        assert 0 < share < 0.02, (column, share)


def test_generated_frame_validates_in_memory(small_history):
    export, _ = small_history
    report = validate_frame(export, load_schema(), "in-memory")
    assert report.ok, report.lines()
