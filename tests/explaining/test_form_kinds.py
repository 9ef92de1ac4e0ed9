"""Every model family offered has a scoring form, read back from its bytes, equal to the
scikit-learn Pipeline: probabilities, logits, per-feature SHAP values and base values, on
new prospects and on blanks, unseen and rare categories, split thresholds and extremes."""

from __future__ import annotations

import functools
import io
import json

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.data.derived import add_derived
from prospect_predictor.data.validate import validate_frame
from prospect_predictor.explaining import fastshap
from prospect_predictor.explaining.compile_form import Unsupported, compile_files, disagreement
from prospect_predictor.explaining.contributions import feature_contributions
from prospect_predictor.explaining.scoring_form import (
    ARRAYS_FILE,
    EXACT,
    JSON_FILE,
    Depth2Form,
    FormError,
    LinearForm,
    ScoringForm,
    TreeForm,
    UnknownForm,
)
from prospect_predictor.modeling.calibration import softmax
from prospect_predictor.modeling.families import FAMILIES
from prospect_predictor.modeling.train import fit_uncalibrated
from prospect_predictor.synthetic.generate import generate

ADDITIVE = 1e-9
# family, its params, the form's kind; small fits so that the tests stay fast
CASES = {
    "hgb-depth2": ("hgb", {"max_iter": 60}, Depth2Form),
    "hgb-depth4": ("hgb", {"max_depth": 4, "max_iter": 30}, TreeForm),
    "hgb_default": ("hgb_default", {}, TreeForm),
    "logistic": ("logistic", {}, LinearForm),
    "hgb-depth4-binary": ("hgb", {"max_depth": 4, "max_iter": 20}, TreeForm),
    "logistic-binary": ("logistic", {}, LinearForm),
}


def typed(rows: int, seed: int, pipeline) -> tuple[pd.DataFrame, np.ndarray]:
    export, _ = generate(rows, seed)
    frame = validate_frame(export, pipeline.schema, "generated").frame
    frame = add_derived(frame, pipeline.derived, pipeline.schema)
    return frame[pipeline.features], frame["outcome"].to_numpy(object)


@pytest.fixture(scope="module")
def pipeline():
    return load_pipeline(None)


@functools.cache
def fit_case(name: str):
    """A model of the case's family on 1,500 generated prospects, calibrated by hand (a
    scale and per-class biases, as training's temperature gives), and its form read back
    from the bytes export writes; fitted once per test session."""
    pipeline = load_pipeline(None)
    family, params, kind = CASES[name]
    features, outcomes = typed(1_500, 31, pipeline)
    if name.endswith("binary"):
        outcomes = np.where(outcomes == "win_win", "win_win", "declined").astype(object)
    classes = [c for c in ("win_win", "win_lose", "stalled", "declined") if c in set(outcomes)]
    model = fit_uncalibrated(pipeline, family, params, features, outcomes, classes)
    model.scale, model.bias = 0.93, np.linspace(-0.3, 0.2, len(classes))
    files = compile_files(model)
    form = ScoringForm.from_bytes(files[JSON_FILE], files[ARRAYS_FILE])
    return name, kind, model, files, form


def cases_of(*kinds) -> list[str]:
    return [name for name, (_, _, kind) in CASES.items() if kind in kinds]


@pytest.fixture(params=list(CASES))
def fitted(request):
    return fit_case(request.param)


def assert_same(model, form, frame: pd.DataFrame, exact_logits: bool = False) -> None:
    expected = feature_contributions(model, frame, with_logits=True)
    got = feature_contributions(form, frame, with_logits=True)
    for name, a, b in zip(("values", "base", "logits"), got, expected, strict=True):
        assert a.shape == b.shape, name
        assert np.abs(a - b).max() <= EXACT, (name, np.abs(a - b).max())
    # against scikit-learn's own prediction too, which none of the explainers computes
    assert np.abs(form.logits(frame) - model.logits(frame)).max() <= EXACT
    assert np.abs(form.predict_proba(frame) - model.predict_proba(frame)).max() <= EXACT
    if exact_logits:  # our traversal sums the leaves in decision_function's order
        assert np.array_equal(form.logits(frame), model.logits(frame))
    values, base, logits = got
    # predicting alone gives the explained scores' own bits: a lead's probabilities do not
    # depend on whether it was explained
    assert np.array_equal(form.logits(frame), logits)
    assert np.abs(base + values.sum(axis=1) - logits).max() < ADDITIVE  # SHAP additivity
    assert values.shape == (len(frame), len(model.feature_names), len(model.classes))


def rare_levels(model) -> dict[str, list[str]]:
    encoder = model.pipeline[0]
    name, _, columns = next(t for t in encoder.transformers_ if t[0] == "categories")
    last = encoder.named_transformers_[name][-1]
    return {
        c: [str(v) for v in levels]
        for c, levels in zip(columns, last.infrequent_categories_, strict=True)
        if levels is not None
    }


def test_every_offered_family_is_in_the_cases():
    assert {family for family, _, _ in CASES.values()} == set(FAMILIES)


def test_each_family_compiles_to_its_kind_with_nothing_pickled(fitted):
    _, kind, model, files, form = fitted
    assert type(form) is kind
    assert json.loads(files[JSON_FILE])["kind"] == kind.KIND
    assert form.classes == list(model.classes)
    assert form.feature_names == list(model.feature_names)
    with np.load(io.BytesIO(files[ARRAYS_FILE]), allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_the_form_equals_the_pipeline_on_new_prospects(fitted, pipeline):
    _, kind, model, _, form = fitted
    frame, _ = typed(500, 32, pipeline)
    assert_same(model, form, frame, exact_logits=kind is TreeForm)
    if kind is TreeForm:  # the same shap code over the same arrays: the same bits
        expected = feature_contributions(model, frame)
        got = feature_contributions(form, frame)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))


def test_the_depth2_form_predicts_without_computing_shap_values(monkeypatch, pipeline):
    _, _, model, _, form = fit_case("hgb-depth2")
    frame, _ = typed(200, 34, pipeline)
    explained = feature_contributions(form, frame, with_logits=True)[2]

    def no_shap(*args):
        raise AssertionError("SHAP values computed to predict")

    monkeypatch.setattr(fastshap, "_feature_sums", no_shap)
    assert np.array_equal(form.logits(frame), explained)
    assert np.array_equal(form.predict_proba(frame), softmax(explained))
    with pytest.raises(AssertionError, match="SHAP values computed"):
        form.feature_contributions(frame)  # the guard is live: explaining does compute them


def test_the_form_equals_the_pipeline_on_blanks_unseen_and_rare_values(fitted, pipeline):
    _, kind, model, _, form = fitted
    frame, _ = typed(300, 33, pipeline)
    frame = frame.reset_index(drop=True)
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    rare = rare_levels(model)
    assert rare, "the model pools no rare level; the test would not cover pooling"
    edited = frame.copy()
    for j, column in enumerate(frame.columns):
        missing = edited[column].isna().copy()
        missing[(np.arange(len(frame)) + j) % 5 == 0] = True  # every column blank somewhere
        edited[column] = edited[column].mask(missing)
        if column in categorical:
            unknown = (np.arange(len(frame)) + j) % 7 == 1
            edited[column] = edited[column].astype(object).where(~unknown, "never-seen level")
        if column in rare:
            edited.loc[(np.arange(len(frame)) + j) % 7 == 2, column] = rare[column][0]
    edited.loc[len(edited)] = [None] * len(edited.columns)  # a prospect we know nothing about
    assert_same(model, form, edited, exact_logits=kind is TreeForm)


@pytest.mark.parametrize("name", cases_of(Depth2Form, TreeForm))
def test_the_tree_forms_route_split_thresholds_like_the_pipeline(name, pipeline):
    _, kind, model, _, form = fit_case(name)
    frame, _ = typed(1, 34, pipeline)
    numeric = form.numeric
    if kind is Depth2Form:
        tables = form.trees.outputs
        splits = {
            (int(p), float(t))
            for o in tables
            for p, t in zip(o["positions"].ravel(), o["thresholds"].ravel(), strict=True)
        }
    else:
        split = form.nodes["left"] >= 0
        splits = set(zip(form.nodes["feature"][split], form.nodes["threshold"][split], strict=True))
    rows = []
    for position, threshold in sorted(splits)[:: max(1, len(splits) // 200)]:
        column = numeric[position] if 0 <= position < len(numeric) else None
        if column is None or str(frame[column].dtype) == "boolean":
            continue
        for value in (threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)):
            rows.append(frame.assign(**{column: value}))
    assert len(rows) > 30
    assert_same(model, form, pd.concat(rows, ignore_index=True), exact_logits=kind is TreeForm)


def test_every_form_holds_for_extreme_numbers(fitted, pipeline):
    _, kind, model, _, form = fitted
    frame, _ = typed(40, 35, pipeline)
    frame = frame.reset_index(drop=True).copy()
    extremes = np.array([0.0, -1.0, 1e6, -1e6, 1e12, -1e12, 3.5e-7, 2.0**40])
    for j, column in enumerate(c for c in frame.columns if frame[c].dtype == "float64"):
        frame[column] = extremes[(np.arange(len(frame)) + j) % len(extremes)]
    # relative to the row's largest logit or value: 1e12 EUR moves a logit by about 1e7
    assert disagreement(form, model, frame) <= EXACT
    values, base, logits = feature_contributions(form, frame, with_logits=True)
    scale = np.maximum(1, np.abs(logits).max(axis=1))
    assert (np.abs(base + values.sum(axis=1) - logits).max(axis=1) / scale).max() < ADDITIVE
    if kind is LinearForm:
        assert np.abs(logits).max() > 1e3  # the extremes did reach the logits


def without(files: dict[str, bytes], change) -> tuple[bytes, bytes]:
    """The form's files with ``change(spec, arrays)`` applied."""
    spec = json.loads(files[JSON_FILE])
    with np.load(io.BytesIO(files[ARRAYS_FILE]), allow_pickle=False) as npz:
        arrays = {name: npz[name].copy() for name in npz.files}
    change(spec, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return json.dumps(spec).encode(), buffer.getvalue()


def test_an_incomplete_or_tampered_form_is_refused(fitted):
    _, kind, _, files, _ = fitted
    first = next(iter(np.load(io.BytesIO(files[ARRAYS_FILE])).files))
    for change in (
        lambda spec, arrays: arrays.pop(first),
        lambda spec, arrays: arrays.update(bias=arrays["bias"][:-1]),
        lambda spec, arrays: spec.update(features=spec["features"][:-1]),
        lambda spec, arrays: spec.update(classes=spec["classes"][:1]),
        lambda spec, arrays: spec["categorical"][0]["categories"].append("extra level"),
    ):
        with pytest.raises(FormError) as caught:
            ScoringForm.from_bytes(*without(files, change))
        assert not isinstance(caught.value, UnknownForm)
    with pytest.raises(FormError, match="unreadable"):
        ScoringForm.from_bytes(files[JSON_FILE], files[ARRAYS_FILE][:-10])
    for change in (
        lambda spec, arrays: spec.update(kind="a-kind-from-the-future"),
        lambda spec, arrays: spec.update(format=spec["format"] + 1),
    ):
        with pytest.raises(UnknownForm):
            ScoringForm.from_bytes(*without(files, change))


@pytest.mark.parametrize("name", cases_of(TreeForm))
def test_a_tree_form_that_is_not_trees_is_refused(name):
    _, kind, _, files, _ = fit_case(name)

    def loop(spec, arrays):  # a split whose child is its own parent: a walk that never ends
        arrays["nodes_left"][0, 0, 0] = 0

    def stray(spec, arrays):  # a split on a feature the form has not got
        split = np.argwhere(arrays["nodes_left"] >= 0)[0]
        arrays["nodes_feature"][tuple(split)] = len(spec["features"])

    def default(spec, arrays):  # missing values sent to neither child
        split = np.argwhere(arrays["nodes_left"] >= 0)[0]
        arrays["nodes_default"][tuple(split)] = -1

    for change in (loop, stray, default):
        with pytest.raises(FormError, match="not trees"):
            ScoringForm.from_bytes(*without(files, change))


@pytest.mark.parametrize("name", cases_of(LinearForm))
def test_a_linear_form_with_a_non_finite_term_is_refused(name):
    _, kind, _, files, _ = fit_case(name)
    change = lambda spec, arrays: arrays["numeric_slope"].__setitem__((0, 0), np.nan)  # noqa: E731
    with pytest.raises(FormError, match="not finite"):
        ScoringForm.from_bytes(*without(files, change))


def test_compile_files_raises_for_models_it_cannot_write(pipeline):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    from prospect_predictor.model import ProspectModel

    _, _, model, _, _ = fit_case("logistic")
    features, outcomes = typed(300, 36, pipeline)
    other = Pipeline(
        [("encode", model.pipeline[0]), ("model", RandomForestClassifier(n_estimators=3))]
    ).fit(features, outcomes)
    with pytest.raises(Unsupported, match="RandomForestClassifier cannot be written"):
        compile_files(ProspectModel(other, list(model.classes)))
    old = ProspectModel(model.pipeline, list(model.classes))  # trained before encoded_mean
    with pytest.raises(Unsupported, match="retrain"):
        compile_files(old)


def test_the_depth2_form_keeps_the_format_of_existing_bundles():
    """Bundles exported before the other kinds existed must still load: the default kind
    writes exactly the entries it always wrote."""
    _, _, _, files, _ = fit_case("hgb-depth2")
    spec = json.loads(files[JSON_FILE])
    assert sorted(spec) == [
        "categorical",
        "classes",
        "features",
        "fitted_classes",
        "format",
        "kind",
        "numeric",
    ]
    assert (spec["format"], spec["kind"]) == (1, "depth2-hgb-ordinal")
    with np.load(io.BytesIO(files[ARRAYS_FILE]), allow_pickle=False) as arrays:
        assert arrays.files == [
            "codes",
            "trees_positions",
            "trees_thresholds",
            "trees_missing_left",
            "trees_phi",
            "trees_output",
            "trees_base",
            "trees_baseline",
            "trees_n_features",
            "scale",
            "bias",
        ]


def test_every_family_exports_a_bundle_that_scores_from_its_form(fitted, tmp_path, monkeypatch):
    import joblib

    from prospect_predictor.registry.bundle import export_bundle, load_bundle

    _, kind, model, _, _ = fitted
    export_bundle(tmp_path / "b", model, {"name": "b"})
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled the model"))
    loaded = load_bundle(tmp_path / "b").model
    assert type(loaded) is kind
    frame, _ = typed(50, 37, load_pipeline(None))
    assert np.abs(loaded.predict_proba(frame) - model.predict_proba(frame)).max() <= EXACT


def test_a_form_is_made_as_its_kind_from_its_parts(fitted):
    _, kind, _, files, _ = fitted
    spec = json.loads(files[JSON_FILE])
    with np.load(io.BytesIO(files[ARRAYS_FILE]), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    assert type(ScoringForm(spec, arrays)) is kind
    other = next(k for k in (Depth2Form, TreeForm, LinearForm) if k is not kind)
    with pytest.raises(UnknownForm):
        other.from_bytes(files[JSON_FILE], files[ARRAYS_FILE])


def test_a_form_reads_a_mapping_of_columns_as_it_reads_the_frame(fitted):
    """One lead is scored without pandas from a mapping of column -> values (floats with
    NaN, booleans and categories with None when unknown): the same arrays as from the
    one-row frame, bit for bit."""
    _, _, _, _, form = fitted
    frame, _ = typed(40, 41, load_pipeline(None))
    blank = np.arange(len(frame))[:, None] % 7 == np.arange(len(frame.columns)) % 7
    frame = frame.mask(blank)  # some cells of every column blank
    assert frame.isna().any().all()
    for i, row in enumerate(frame.to_dict(orient="records")):
        one = {c: [None if v is pd.NA else v] for c, v in row.items()}
        got = form.feature_contributions(one, with_logits=True)
        expected = form.feature_contributions(frame.iloc[[i]], with_logits=True)
        for a, b in zip(got, expected, strict=True):
            assert np.array_equal(a, b)
