"""Training end to end: the MLflow run an analyst reviews, the registry, the bundle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.data.leads import read_leads
from prospect_predictor.domain import OUTCOMES
from prospect_predictor.errors import ConfigError, InputFileError
from prospect_predictor.jobs.train import run_training
from prospect_predictor.modeling.guards import LeakageError, NotEnoughDataError
from prospect_predictor.modeling.train import load_history, train
from prospect_predictor.registry.bundle import BundleError, load_bundle, read_metadata
from prospect_predictor.scoring.score import score
from prospect_predictor.synthetic.generate import write_history
from tests.conftest import write_pipeline

KEY_METRICS = ("log_loss", "brier", "roc_auc_macro", "balanced_accuracy", "ece")
ARTIFACTS = (
    "confusion_matrix.png",
    "calibration_curves.png",
    "shap_summary.png",
    "reason_importance.png",
    "data_profile.png",
    "data_profile.json",
    "pipeline.toml",
    "tiers.json",
)


@pytest.fixture(scope="module")
def trained(trained_folder):
    return trained_folder


def _client(folder):
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / 'experiments' / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_run_records_params_metrics_and_artifacts(trained, monkeypatch):
    folder, report = trained
    monkeypatch.chdir(folder)  # artifact locations are relative to the work folder
    run = _client(folder).get_run(report.run_id)
    params, metrics = run.data.params, run.data.metrics
    sha = hashlib.sha256((folder / "history.csv").read_bytes()).hexdigest()
    assert params["data.sha256"] == sha
    assert params["pipeline.model.family"] == "hgb"
    assert params["pipeline.validation.folds"] == "3"
    assert params["data.holdout_kind"] == "time"
    assert "version.scikit-learn" in params
    counts = {c: int(params[f"data.rows_{c}"]) for c in OUTCOMES}
    assert sum(counts.values()) == 3_000
    for name in KEY_METRICS:
        assert np.isfinite(metrics[name]) and np.isfinite(metrics[f"cv_{name}"])
    for outcome in OUTCOMES:
        assert 0.5 < metrics[f"roc_auc_{outcome}"] <= 1
        assert 0 < metrics[f"pr_auc_{outcome}"] <= 1
    assert metrics["log_loss"] < np.log(4)  # better than knowing nothing
    listed = {a.path for a in _client(folder).list_artifacts(report.run_id)}
    for name in ARTIFACTS:
        assert name in listed, name
    png = folder / "experiments" / "artifacts"
    assert any(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in png.rglob("*.png"))
    shares = [metrics[f"tier_share_{t}"] for t in ("pursue", "qualify", "walk_away")]
    assert sum(shares) == pytest.approx(1.0)


def test_the_holdout_tier_table_shows_that_pursue_wins_more(trained):
    """Training measures its tiers on the holdout: share per tier, realised outcomes."""
    _, report = trained
    tiers, holdout = report.tiers, report.result.holdout
    assert tiers.rows == len(holdout.y_true)
    assert sum(tiers.counts.values()) == tiers.rows
    for tier, mix in tiers.outcome_mix.items():
        if tiers.counts[tier]:
            assert sum(mix.values()) == pytest.approx(1.0)
    assert tiers.outcome_mix["pursue"]["win_win"] > tiers.outcome_mix["walk_away"]["win_win"]
    assert all(tiers.share(t) < 0.95 for t in tiers.counts) and not tiers.warnings


def test_first_version_is_champion_and_exported(trained):
    folder, report = trained
    client = _client(folder)
    assert report.is_champion
    assert str(client.get_model_version_by_alias("prospects", "champion").version) == "1"
    bundle = load_bundle(folder / "models" / "prospects")
    assert bundle.metadata["mlflow"]["run_id"] == report.run_id
    assert bundle.metadata["mlflow"]["model_version"] == "1"
    assert bundle.metadata["classes"] == list(OUTCOMES)
    assert set(bundle.metadata["metrics"]["holdout"]) >= set(KEY_METRICS)


def test_mlflow_model_has_a_signature_and_agrees_with_the_bundle(trained, monkeypatch):
    import mlflow

    folder, _ = trained
    monkeypatch.chdir(folder)  # artifact locations are relative to the work folder
    store = f"sqlite:///{folder / 'experiments' / 'mlflow.db'}"
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)  # other tests may have pointed the registry elsewhere
    logged = mlflow.pyfunc.load_model("models:/prospects@champion")
    inputs = logged.metadata.get_input_schema().input_names()
    assert inputs[0] == "prospect_id"  # to name each answer; never a feature
    assert not {"age_years", "marital_status"} & set(inputs)
    history = pd.read_csv(folder / "history.csv")
    pipeline = load_pipeline(folder / "pipeline.toml")
    features = load_history(pipeline, folder / "history.csv").features.head(20)
    bundle = load_bundle(folder / "models" / "prospects")
    answer = logged.predict(history.head(20))  # raw export rows, as pandas reads them
    proba = answer[[f"p_{c}" for c in bundle.metadata["classes"]]].to_numpy(float)
    assert np.allclose(proba, bundle.model.predict_proba(features), rtol=0, atol=1e-12)
    assert len(history) == 3_000


def test_protected_attributes_never_reach_the_model(trained):
    folder, _ = trained
    model = load_bundle(folder / "models" / "prospects").model
    assert not {"age_years", "marital_status"} & set(model.feature_names)
    assert "prospect_id" not in model.feature_names


def test_a_later_training_is_registered_but_does_not_replace_the_champion(trained, monkeypatch):
    folder, first = trained
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    manifest = (folder / "models" / "prospects" / "manifest.json").read_bytes()
    second = run_training(folder / "history.csv", folder / "pipeline.toml")
    assert second.model_version == "2"
    assert not second.is_champion and second.champion_version == "1"
    assert (folder / "models" / "prospects" / "manifest.json").read_bytes() == manifest


def test_tampered_bundle_is_refused(trained, tmp_path):
    import shutil

    folder, _ = trained
    copy = tmp_path / "prospects"
    shutil.copytree(folder / "models" / "prospects", copy)
    with open(copy / "scoring.npz", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=r"scoring\.npz was modified after export"):
        load_bundle(copy)
    assert read_metadata(folder / "models" / "prospects")["name"] == "prospects"


def test_binary_yes_no_history_trains(tmp_path, isolated_store):
    """A firm with only yes/no outcomes: yes -> win_win, no -> declined."""
    write_history(1_200, 5, tmp_path / "four.csv")
    frame = pd.read_csv(tmp_path / "four.csv", dtype=str, keep_default_na=False)
    frame["outcome"] = np.where(frame["outcome"] == "win_win", "yes", "no")
    frame.to_csv(tmp_path / "binary.csv", index=False)
    schema = load_pipeline(None).schema.model_dump(mode="json")
    schema["columns"]["outcome"]["categories"] = ["yes", "no"]
    (tmp_path / "binary_schema.json").write_text(json.dumps(schema))
    _write_toml_schema(tmp_path / "binary_schema.toml", schema)
    pipeline = write_pipeline(
        tmp_path,
        "binary.toml",
        folds="folds = 3",
        name='name = "binary"',
        schema='schema = "binary_schema.toml"',
        labels='labels = { yes = "win_win", no = "declined" }',
    )
    report = run_training(tmp_path / "binary.csv", pipeline)
    assert report.result.classes == ["win_win", "declined"]
    assert report.result.holdout.proba.shape[1] == 2
    assert 0.5 < report.result.holdout.metrics["roc_auc_macro"] <= 1
    bundle = load_bundle(tmp_path / "models" / "binary")
    assert bundle.metadata["outcome_labels"] == {"yes": "win_win", "no": "declined"}
    # declined, the only unwanted outcome, is what every lead's decision explains
    leads = read_leads(tmp_path / "binary.csv", bundle.metadata).frame.head(200)
    scores = score(bundle.model, bundle.metadata, leads)
    assert set(scores.top_reason_outcome) == {"declined"}
    assert set(scores.recommendation) == {"pursue", "qualify", "walk_away"}
    assert (scores.top_reason != "").any()


def test_three_class_history_trains(tmp_path):
    write_history(1_200, 6, tmp_path / "h.csv")
    pipeline = load_pipeline(
        write_pipeline(
            tmp_path,
            folds="folds = 3",
            labels='labels = { win_win = "win_win", win_lose = "win_lose", stalled = "declined", '
            'declined = "declined" }',
        )
    )
    result = train(pipeline, load_history(pipeline, tmp_path / "h.csv"))
    assert result.classes == ["win_win", "win_lose", "declined"]
    assert np.allclose(result.holdout.proba.sum(axis=1), 1)


def _write_toml_schema(path, schema: dict) -> None:
    lines = [f'name = "{schema["name"]}"']
    for name, spec in schema["columns"].items():
        lines.append(f"[columns.{name}]")
        for key, value in spec.items():
            if value is not None:
                lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")


def test_unknown_config_key_is_an_error_naming_it(tmp_path, run_cli):
    path = write_pipeline(tmp_path, colour='colour = "blue"')
    with pytest.raises(ConfigError, match="colour: unknown key"):
        load_pipeline(path)
    write_history(300, 1, tmp_path / "h.csv")
    result = run_cli("train", "--data", tmp_path / "h.csv", "--pipeline", path)
    assert result.exit_code == 1
    assert "colour: unknown key" in result.stderr
    assert "Traceback" not in result.output


def test_protected_attribute_as_feature_is_refused_unless_allowed(tmp_path):
    path = write_pipeline(tmp_path)
    path.write_text(
        path.read_text().replace("[features]\n", '[features]\nage_years = "poor_fit"\n')
    )
    with pytest.raises(ConfigError, match="'age_years' is a protected attribute"):
        load_pipeline(path)
    allowed = path.read_text().replace("allow_protected = []", 'allow_protected = ["age_years"]')
    path.write_text(allowed)
    assert "age_years" in load_pipeline(path).features


def test_config_naming_todo_and_unmapped_columns(tmp_path):
    path = write_pipeline(
        tmp_path, region='region = "TODO"', newsletter_opt_in="# newsletter_opt_in removed"
    )
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    message = str(caught.value)
    assert "features.region: still TODO" in message
    assert "no decision for column(s) 'newsletter_opt_in'" in message


def test_too_little_data_is_refused_before_training(tmp_path, run_cli):
    write_history(150, 1, tmp_path / "tiny.csv")
    pipeline = load_pipeline(None)
    with pytest.raises(NotEnoughDataError, match="150 rows in all, fewer than the 200"):
        train(pipeline, load_history(pipeline, tmp_path / "tiny.csv"))
    write_history(2_000, 1, tmp_path / "h.csv")
    frame = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False)
    rare = frame[frame["outcome"] == "win_lose"].head(12)
    frame = pd.concat([frame[frame["outcome"] != "win_lose"], rare]).sort_values("prospect_id")
    frame.to_csv(tmp_path / "few.csv", index=False)
    result = run_cli("train", "--data", tmp_path / "few.csv")
    assert result.exit_code == 1
    assert "class 'win_lose' has 12 examples, fewer than the 30 needed" in result.stderr
    assert not (tmp_path / "experiments").exists()


def test_invalid_history_is_refused_with_every_problem(tmp_path, run_cli):
    write_history(400, 1, tmp_path / "h.csv")
    frame = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False)
    frame.loc[3, "no_shows"] = "many"
    frame.drop(columns=["region"]).to_csv(tmp_path / "bad.csv", index=False)
    result = run_cli("train", "--data", tmp_path / "bad.csv")
    assert result.exit_code == 1
    assert "column 'region' is missing" in result.stderr
    assert "column 'no_shows'" in result.stderr and "row 4" in result.stderr


def test_fits_in_worker_processes_give_the_same_models_as_in_this_process(tmp_path):
    """`[model] processes`: the 7 fits in 2 worker processes (one OpenMP thread each) or in
    this process give the same calibration, metrics and final model, to the last bit."""
    write_history(2_500, 17, tmp_path / "h.csv")
    results = {}
    for processes in ("1", "2"):
        path = write_pipeline(
            tmp_path, f"p{processes}.toml", processes=f"processes = {processes}", folds="folds = 3"
        )
        pipeline = load_pipeline(path)
        progress: list[str] = []
        results[processes] = train(
            pipeline, load_history(pipeline, tmp_path / "h.csv"), progress=progress.append
        )
        assert results[processes].processes == int(processes)
        assert sum(p.strip().startswith("fitted") for p in progress) == 5  # 3 folds + 2
        fitting = [p for p in progress if p.startswith("fitting 5 models")]
        assert fitting and ("2 processes" in fitting[0]) == (processes == "2")
    one, two = results["1"], results["2"]
    assert np.array_equal(one.oof_logits, two.oof_logits)
    assert one.model.scale == two.model.scale and np.array_equal(one.model.bias, two.model.bias)
    assert one.cv_metrics == two.cv_metrics and one.holdout.metrics == two.holdout.metrics
    frame = load_history(load_pipeline(None), tmp_path / "h.csv").features
    assert np.array_equal(one.model.predict_proba(frame), two.model.predict_proba(frame))


def test_how_many_processes_fit_the_models(tmp_path):
    from prospect_predictor.modeling.train import PARALLEL_MIN_ROWS, processes_for, usable_cores

    assert processes_for(PARALLEL_MIN_ROWS - 1, "auto", 7) == 1  # workers cost more
    assert processes_for(PARALLEL_MIN_ROWS, "auto", 7) == min(usable_cores(), 7)
    assert processes_for(1_000, 3, 7) == 3  # a number is taken as given
    assert processes_for(1_000, 16, 7) == 7  # never more than the fits
    with pytest.raises(ConfigError, match="model.processes"):
        load_pipeline(write_pipeline(tmp_path, processes="processes = 0"))


def _with_blanks(tmp_path, blank) -> Path:
    """A generated history where ``blank(frame)`` empties some cells."""
    write_history(2_000, 9, tmp_path / "four.csv")
    frame = pd.read_csv(tmp_path / "four.csv", dtype=str, keep_default_na=False)
    blank(frame)
    frame.to_csv(tmp_path / "blanks.csv", index=False)
    return tmp_path / "blanks.csv"


def test_blanks_that_tell_the_outcome_stop_training_unless_allowed(tmp_path):
    """A CRM that fills a field only once a deal is won: its blanks give the outcome away."""

    def filled_when_won(frame):
        frame.loc[frame["outcome"] != "win_win", "annual_income_eur"] = ""

    data = _with_blanks(tmp_path, filled_when_won)
    pipeline = load_pipeline(write_pipeline(tmp_path, folds="folds = 3"))
    with pytest.raises(
        LeakageError, match=r"'annual_income_eur' blank or not: ROC AUC 0\.\d+ for win_win"
    ):
        train(pipeline, load_history(pipeline, data))
    allowed = write_pipeline(
        tmp_path,
        "allowed.toml",
        folds="folds = 3",
        allow_missingness='allow_missingness = ["annual_income_eur"]',
    )
    result = train(load_pipeline(allowed), load_history(load_pipeline(allowed), data))
    assert result.classes == list(OUTCOMES)


def test_a_pattern_of_blanks_that_tells_the_outcome_stops_training(tmp_path):
    """Neither column's blanks alone tell declined apart, but which one is blank does."""

    def one_or_the_other(frame):
        rng = np.random.default_rng(0)
        declined = frame["outcome"] == "declined"
        first = rng.random(len(frame)) < 0.5
        both = ~declined & (rng.random(len(frame)) < 0.5)
        frame.loc[(declined & first) | both, "region"] = ""
        frame.loc[(declined & ~first) | both, "preferred_channel"] = ""

    data = _with_blanks(tmp_path, one_or_the_other)
    pipeline = load_pipeline(write_pipeline(tmp_path, folds="folds = 3"))
    history = load_history(pipeline, data)
    from prospect_predictor.modeling.guards import missingness_auc

    measured = missingness_auc(history.features, history.outcomes)
    assert (
        measured["columns"]["region"][0] < 0.6 and measured["columns"]["preferred_channel"][0] < 0.6
    )
    with pytest.raises(
        LeakageError, match=r"which of 'region', 'preferred_channel' are blank.* for declined"
    ):
        train(pipeline, history)


def test_the_generated_historys_blanks_do_not_tell_the_outcome(history_20k):
    """Its blanks are drawn at random (data/README.md): the guard lets them through."""
    from prospect_predictor.modeling.guards import missingness_auc

    pipeline = load_pipeline(None)
    export, _ = history_20k
    from prospect_predictor.data.validate import validate_frame

    frame = validate_frame(export, pipeline.schema, "generated").frame
    measured = missingness_auc(
        frame[[c for c in pipeline.features if c in frame]], frame["outcome"].to_numpy(object)
    )
    assert max(a for a, _ in measured["columns"].values()) < 0.6
    assert measured["pattern"][0] < pipeline.config.leakage.max_missingness_auc


def test_a_history_with_a_few_bad_rows_trains_on_the_others(tmp_path, isolated_store, run_cli):
    """Five bad cells in 1,200 rows: those rows are set aside, counted, kept with the run."""
    write_history(1_200, 12, tmp_path / "h.csv")
    frame = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False)
    frame.loc[[3, 10, 200, 700, 1199], "no_shows"] = "many"
    frame.to_csv(tmp_path / "few_bad.csv", index=False)
    pipeline = write_pipeline(tmp_path, folds="folds = 3")
    result = run_cli("train", "--data", tmp_path / "few_bad.csv", "--pipeline", pipeline)
    assert result.exit_code == 0, result.output
    assert "5 of 1,200 rows set aside" in result.stdout
    assert "row 4: no_shows: wrong type (found 'many')" in result.stdout
    client = _client(tmp_path)
    (run,) = client.search_runs([client.get_experiment_by_name("prospects").experiment_id])
    assert run.data.params["data.rows_rejected"] == "5"
    assert run.data.params["data.rows"] == "1195"
    rejects = tmp_path / "rejects.csv"
    client.download_artifacts(run.info.run_id, "rejects.csv", str(tmp_path))
    kept = pd.read_csv(rejects, dtype=str)
    assert kept["row"].tolist() == ["4", "11", "201", "701", "1200"]
    assert (kept["no_shows"] == "many").all()


def test_too_many_bad_rows_refuse_training_naming_the_share(tmp_path):
    write_history(600, 13, tmp_path / "h.csv")
    frame = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False)
    frame.loc[:11, "no_shows"] = "many"  # 12 of 600: 2 %, over the 1 % default
    frame.to_csv(tmp_path / "bad.csv", index=False)
    pipeline = load_pipeline(write_pipeline(tmp_path, folds="folds = 3"))
    with pytest.raises(
        InputFileError,
        match=r"12 of 600 rows \(2\.0%\) have a problem, more than "
        r"validation\.max_bad_row_share \(1\.0%\)",
    ):
        load_history(pipeline, tmp_path / "bad.csv")
    allowing = write_pipeline(
        tmp_path,
        "loose.toml",
        folds="folds = 3",
        max_bad_row_share="max_bad_row_share = 0.05",
    )
    history = load_history(load_pipeline(allowing), tmp_path / "bad.csv")
    assert len(history.outcomes) == 588 and len(history.rejects) == 12


def _with_open_deals(tmp_path, stalled_rule: str | None = None):
    """A history whose newest 150 prospects are still open (label 'open')."""
    write_history(1_500, 14, tmp_path / "four.csv")
    frame = pd.read_csv(tmp_path / "four.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.index[-150:], "outcome"] = "open"
    frame.to_csv(tmp_path / "open.csv", index=False)
    schema = load_pipeline(None).schema.model_dump(mode="json")
    schema["columns"]["outcome"]["categories"] = [*OUTCOMES, "open"]
    _write_toml_schema(tmp_path / "open_schema.toml", schema)
    labels = ", ".join(f'{o} = "{o}"' for o in (*OUTCOMES, "open"))
    changes = {
        "folds": "folds = 3",
        "schema": 'schema = "open_schema.toml"',
        "labels": f"labels = {{ {labels} }}",
    }
    if stalled_rule:
        changes["column"] = f'column = "outcome"\nopen_as_stalled_after = {stalled_rule}'
    pipeline = load_pipeline(write_pipeline(tmp_path, "open.toml", **changes))
    return pipeline, frame


def test_open_deals_are_counted_and_kept_out_of_training_and_the_holdout(tmp_path):
    pipeline, _ = _with_open_deals(tmp_path)
    history = load_history(pipeline, tmp_path / "open.csv")
    assert history.open_rows == 150 and history.rows_read == 1_500
    assert len(history.outcomes) == 1_350 and "open" not in set(history.outcomes)
    result = train(pipeline, history)
    assert result.classes == list(OUTCOMES)
    assert len(result.holdout.y_true) == 270  # 20 % of the decided rows, the newest of them
    assert sum(result.rows_per_class.values()) == 1_350


def test_open_deals_without_contact_for_long_count_as_stalled_by_the_rule(tmp_path):
    rule = '{ column = "days_since_last_reply", days = 60 }'
    pipeline, frame = _with_open_deals(tmp_path, rule)
    days = pd.to_numeric(frame["days_since_last_reply"].tail(150), errors="coerce")
    stale = int((days >= 60).sum())
    assert 0 < stale < 150
    history = load_history(pipeline, tmp_path / "open.csv")
    assert history.open_as_stalled == stale and history.open_rows == 150 - stale
    assert len(history.outcomes) == 1_350 + stale
    assert (history.outcomes[-stale:] == "stalled").sum() > 0


def test_a_group_stays_in_one_fold_and_on_one_side_of_the_holdout(tmp_path):
    """Rows of one household never sit on both sides of a fold or of the holdout."""
    from prospect_predictor.modeling.train import fold_splits, split_holdout

    write_history(1_200, 15, tmp_path / "four.csv")
    frame = pd.read_csv(tmp_path / "four.csv", dtype=str, keep_default_na=False)
    sizes = np.random.default_rng(1).integers(1, 5, size=len(frame))
    frame["household"] = [
        f"H{i:04d}" for i in np.repeat(np.arange(len(frame)), sizes)[: len(frame)]
    ]
    frame.loc[7, "household"] = ""  # a row without a household is a group of its own
    frame.to_csv(tmp_path / "households.csv", index=False)
    schema = load_pipeline(None).schema.model_dump(mode="json")
    schema["columns"]["household"] = {"type": "string", "role": "feature"}
    _write_toml_schema(tmp_path / "hh_schema.toml", schema)
    pipeline = load_pipeline(
        write_pipeline(
            tmp_path,
            "hh.toml",
            folds="folds = 3",
            schema='schema = "hh_schema.toml"',
            excluded='excluded = ["household"]',
            seed='seed = 42\ngroup_column = "household"',
        )
    )
    history = load_history(pipeline, tmp_path / "households.csv")
    train_rows, holdout_rows, kind = split_holdout(history, pipeline)
    assert kind == "time, by group"
    assert not set(history.groups[train_rows]) & set(history.groups[holdout_rows])
    assert abs(len(holdout_rows) - 240) <= 4  # whole groups: about 20 %
    groups = history.groups[train_rows]
    folds = fold_splits(
        history.features.iloc[train_rows],
        history.outcomes[train_rows],
        groups,
        pipeline.config.validation,
    )
    for fit, test in folds:
        assert not set(groups[fit]) & set(groups[test])
    assert train(pipeline, history).holdout_kind == "time, by group"
    as_feature = write_pipeline(
        tmp_path,
        "bad.toml",
        schema='schema = "hh_schema.toml"',
        seed='seed = 42\ngroup_column = "household"',
    )
    text = as_feature.read_text().replace("[features]\n", '[features]\nhousehold = "context"\n', 1)
    as_feature.write_text(text)
    with pytest.raises(ConfigError, match="validation.group_column: 'household' is also a feature"):
        load_pipeline(as_feature)
