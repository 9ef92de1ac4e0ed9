"""The product on a real export: the UCI Bank Marketing history (skipped where absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.modeling.guards import LeakageError
from prospect_predictor.modeling.train import load_history, train

ROOT = Path(__file__).parents[2]
BANK = ROOT.parent / "shared" / "data" / "bank-marketing" / "bank-full.csv"
PIPELINE = ROOT / "pipelines" / "bank_marketing.toml"

pytestmark = pytest.mark.skipif(
    not BANK.exists(), reason=f"the UCI bank history is not at {BANK} (see shared/data/README)"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """Every 10th row of the real file, as published (semicolons, quotes), still in date
    order: 4,522 prospects."""
    lines = BANK.read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("bank") / "bank-sample.csv"
    path.write_text("\n".join([lines[0], *lines[1::10]]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained_bank(sample, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bank-train")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        from prospect_predictor.jobs.train import run_training

        report = run_training(sample, PIPELINE)
    return folder, report


def test_config_loads_with_protected_attributes_kept_out():
    pipeline = load_pipeline(PIPELINE)
    assert pipeline.outcome_column == "y"
    assert pipeline.config.outcome.labels == {"yes": "win_win", "no": "declined"}
    assert set(pipeline.protected) >= {"age", "marital"}
    assert not {"age", "marital", "duration"} & set(pipeline.features)
    assert pipeline.reasons_without_features() == ["difficult_expectations"]


def test_trains_with_a_time_holdout_and_scores_with_reasons(
    trained_bank, sample, run_cli, monkeypatch
):
    folder, report = trained_bank
    result = report.result
    assert result.classes == ["win_win", "declined"]
    assert result.holdout_kind == "time (file order)"
    assert result.holdout.metrics["roc_auc_macro"] > 0.6
    assert not {"age", "marital", "duration"} & set(result.model.feature_names)
    monkeypatch.chdir(folder)
    scored = run_cli("score", sample, "--model", "models/bank_marketing", "--format", "json")
    assert scored.exit_code == 0, scored.output
    records = json.loads(scored.stdout)
    assert len(records) == 4_522
    assert all(r["no_data_reasons"] == ["difficult_expectations"] for r in records)
    assert all(r["contributions"]["difficult_expectations"]["declined"] is None for r in records)
    assert any(r["top_reason"] == "strung_along" for r in records)
    assert records[0]["p_win_lose"] is None  # a yes/no history does not model win_lose
    explained = run_cli("explain", "7", "--input", sample, "--model", "models/bank_marketing")
    assert explained.exit_code == 0, explained.output
    assert "no data for this reason" in explained.stdout


def test_scoring_form_equals_the_model_on_the_bank_columns(trained_bank, sample):
    """A yes/no model on real columns: the bundle's plain-array form (what scoring loads)
    gives the trained model's probabilities and SHAP values, also for missing values,
    levels the model never saw and pooled rare levels."""
    import numpy as np

    from prospect_predictor.explaining.contributions import feature_contributions
    from prospect_predictor.explaining.scoring_form import ScoringForm
    from prospect_predictor.registry.bundle import load_bundle

    folder, report = trained_bank
    model = report.result.model  # the fitted scikit-learn Pipeline, as training left it
    form = load_bundle(folder / "models" / "bank_marketing").model
    assert isinstance(form, ScoringForm)
    features = load_history(load_pipeline(PIPELINE), sample).features.reset_index(drop=True)
    edited = features.copy()
    rows = np.arange(len(edited))
    for j, column in enumerate(edited.columns):
        edited[column] = edited[column].mask((rows + j) % 9 == 0)
        if column in form.numeric:
            continue
        edited[column] = edited[column].astype(object).where((rows + j) % 9 != 1, "no such level")
    pooled = [
        levels
        for levels in model.pipeline[0].named_transformers_["categories"][-1].infrequent_categories_
        if levels is not None
    ]
    assert pooled, "no rare level is pooled in the bank model: pooling would go untested"
    for frame in (features, edited):
        expected = feature_contributions(model, frame, with_logits=True)
        got = feature_contributions(form, frame, with_logits=True)
        for a, b in zip(got, expected, strict=True):
            assert np.abs(a - b).max() <= 1e-12
        assert np.abs(form.predict_proba(frame) - model.predict_proba(frame)).max() <= 1e-12


def test_holdout_drift_is_reported_between_older_and_newest_rows(trained_bank):
    _, report = trained_bank
    assert report.result.holdout_drift, "the late campaigns differ from the early ones"
    assert any("outcome mix" in line for line in report.result.holdout_drift)


def test_evaluate_on_a_labelled_holdout(trained_bank, sample, run_cli, monkeypatch):
    folder, _ = trained_bank
    monkeypatch.chdir(folder)
    lines = sample.read_text().splitlines()
    holdout = folder / "newest.csv"
    holdout.write_text("\n".join([lines[0], *lines[-900:]]) + "\n")
    result = run_cli("evaluate", "--data", holdout, "--pipeline", PIPELINE)
    assert result.exit_code == 0, result.output
    assert "roc_auc_macro" in result.stdout and "drift" in result.stderr


def test_leakage_guard_stops_duration_unless_allowed(sample, tmp_path, trained_bank):
    text = PIPELINE.read_text().replace('excluded = ["duration"]', "excluded = []")
    text = text.replace("[features]\n", '[features]\nduration = "strung_along"\n')
    leaky = tmp_path / "leaky.toml"
    leaky.write_text(text)
    pipeline = load_pipeline(leaky)
    with pytest.raises(LeakageError, match="'duration'"):
        train(pipeline, load_history(pipeline, sample))
    allowed = tmp_path / "allowed.toml"
    allowed.write_text(text.replace("allow = []", 'allow = ["duration"]'))
    pipeline = load_pipeline(allowed)
    assert "duration" in pipeline.features
    result = train(pipeline, load_history(pipeline, sample))  # allowed: the guard lets it by
    honest = trained_bank[1].result.holdout.metrics["roc_auc_macro"]
    # knowing how long the call lasted makes the model look far better than it can be
    assert result.holdout.metrics["roc_auc_macro"] > honest + 0.05


def test_the_file_is_read_as_published():
    frame = pd.read_csv(BANK, sep=";", nrows=3)
    assert list(frame.columns)[-1] == "y"


def test_the_derived_day_of_year_is_computed_when_scoring_one_lead(trained_bank, run_cli):
    folder, report = trained_bank
    assert "day_of_year" in report.result.model.feature_names
    model = folder / "models" / "bank_marketing"
    lead = {"month": "may", "day": 15, "campaign": 3, "poutcome": "failure", "balance": 120}
    scored = run_cli("score", "--lead", json.dumps(lead), "--model", model, "--format", "json")
    assert scored.exit_code == 0, scored.output
    (record,) = json.loads(scored.stdout)
    assert "day_of_year" not in record["unknown_fields"]
    later = run_cli(
        "score",
        "--lead",
        json.dumps({**lead, "month": "oct"}),
        "--model",
        model,
        "--format",
        "json",
    )
    (moved,) = json.loads(later.stdout)
    # the same prospect called in October instead of May: the date changes the score
    assert moved["p_win_win"] != record["p_win_win"]
    # the derived feature is the product's, not a field of the export
    given = run_cli("score", "--lead", json.dumps({**lead, "day_of_year": 135}), "--model", model)
    assert given.exit_code != 0
    assert "unknown field(s) 'day_of_year'" in given.output
