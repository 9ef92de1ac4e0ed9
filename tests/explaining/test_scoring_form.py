"""The bundle's scoring form (plain arrays, no scikit-learn) against the model it was
compiled from: the same probabilities and SHAP values, on every kind of input."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.data.leads import read_leads, schema_of, with_derived
from prospect_predictor.data.validate import validate_frame
from prospect_predictor.explaining import scoring_form
from prospect_predictor.explaining.compile_form import Unsupported, compile_files
from prospect_predictor.explaining.contributions import feature_contributions
from prospect_predictor.explaining.scoring_form import (
    ARRAYS_FILE,
    JSON_FILE,
    Depth2Form,
    ScoringForm,
)
from prospect_predictor.registry.bundle import (
    MANIFEST_FILE,
    BundleError,
    export_bundle,
    load_bundle,
)
from prospect_predictor.scoring.score import score
from prospect_predictor.synthetic.generate import generate

EXACT = 1e-12
HEAVY = ("sklearn", "scipy", "shap", "mlflow", "matplotlib", "joblib")


@pytest.fixture(scope="module")
def both(trained_folder):
    """The trained model as training left it (the reference: the scikit-learn Pipeline)
    and the bundle exported from it, as scoring loads it (its scoring form)."""
    folder, report = trained_folder
    form = load_bundle(folder / "models" / "prospects")
    reference = SimpleNamespace(model=report.result.model, metadata=form.metadata)
    return folder, reference, form


def assert_same(model, form, frame: pd.DataFrame) -> None:
    expected = feature_contributions(model, frame, with_logits=True)
    got = feature_contributions(form, frame, with_logits=True)
    for name, a, b in zip(("values", "base", "logits"), got, expected, strict=True):
        assert a.shape == b.shape, name
        assert np.abs(a - b).max() <= EXACT, name
    # and against scikit-learn's own prediction, which does not use the lookup tables
    assert np.abs(form.predict_proba(frame) - model.predict_proba(frame)).max() <= EXACT
    values, base, logits = got
    assert np.abs(base + values.sum(axis=1) - logits).max() < 1e-9  # SHAP additivity


def typed_features(rows: int, seed: int, metadata: dict) -> pd.DataFrame:
    export, _ = generate(rows, seed)
    frame = validate_frame(export, schema_of(metadata), "generated", require_outcome=False).frame
    return with_derived(frame, metadata)[metadata["features"]]  # as scoring sees them


def test_bundle_has_a_scoring_form_listed_in_its_manifest(both):
    folder, _, form = both
    path = folder / "models" / "prospects"
    assert isinstance(form.model, ScoringForm)
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    for name in (JSON_FILE, ARRAYS_FILE):
        assert manifest["files"][name] == hashlib.sha256((path / name).read_bytes()).hexdigest()
    with np.load(path / ARRAYS_FILE, allow_pickle=False) as arrays:  # nothing pickled
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_form_equals_the_model_on_generated_prospects(both):
    _, reference, form = both
    frame = typed_features(3_000, 77, reference.metadata)
    assert_same(reference.model, form.model, frame)
    a = score(reference.model, reference.metadata, frame)
    b = score(form.model, form.metadata, frame)
    assert np.abs(a.proba - b.proba).max() <= EXACT
    assert np.abs(a.values - b.values).max() <= EXACT
    assert (a.top_reason == b.top_reason).all() and a.top_drivers == b.top_drivers


def test_form_equals_the_model_on_missing_unknown_and_rare_values(both):
    _, reference, form = both
    model, metadata = reference.model, reference.metadata
    frame = typed_features(400, 78, metadata).reset_index(drop=True)
    encoder = model.pipeline[0].named_transformers_["categories"][-1]
    columns = model.pipeline[0].transformers_[1][2]
    rare = {
        c: list(levels)
        for c, levels in zip(columns, encoder.infrequent_categories_, strict=True)
        if levels is not None
    }
    assert rare, "the fixture's model pools no rare level; the test would not cover pooling"
    edited = frame.copy()
    for j, column in enumerate(frame.columns):
        missing = edited[column].isna().copy()
        missing[(np.arange(len(frame)) + j) % 5 == 0] = True  # every column missing somewhere
        edited[column] = edited[column].mask(missing)
        if column in columns:
            unknown = (np.arange(len(frame)) + j) % 7 == 1
            edited[column] = edited[column].astype(object).where(~unknown, "never-seen level")
        if column in rare:
            pooled = (np.arange(len(frame)) + j) % 7 == 2
            edited.loc[pooled, column] = rare[column][0]
    edited.loc[len(edited)] = [None] * len(edited.columns)  # a prospect we know nothing about
    assert_same(model, form.model, edited)
    # a numeric value exactly on every split threshold, and just beside it
    trees = form.model.trees
    numeric = form.model.numeric
    probe = pd.concat([frame.head(1)] * 3, ignore_index=True)
    for tables in trees.outputs:
        for position, threshold in zip(
            tables["positions"].ravel(), tables["thresholds"].ravel(), strict=True
        ):
            if 0 <= position < len(numeric) and str(frame[numeric[position]].dtype) != "boolean":
                column = numeric[position]
                row = frame.head(1).copy()
                for value in (threshold, np.nextafter(threshold, -np.inf)):
                    row[column] = value
                    probe = pd.concat([probe, row], ignore_index=True)
    assert len(probe) > 10
    assert_same(model, form.model, probe)


def test_scoring_loads_the_form_without_unpickling(both, monkeypatch):
    import joblib

    folder, reference, _ = both

    def forbidden(*args, **kwargs):
        pytest.fail("the scoring path unpickled the model although the bundle has a form")

    monkeypatch.setattr(joblib, "load", forbidden)
    loaded = load_bundle(folder / "models" / "prospects")
    assert isinstance(loaded.model, ScoringForm)
    assert loaded.metadata == reference.metadata


def without_form(source, target):
    """A copy of a bundle as exported before scoring forms existed."""
    shutil.copytree(source, target)
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    for name in (JSON_FILE, ARRAYS_FILE):
        (target / name).unlink()
        del manifest["files"][name]
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    return target


def test_a_bundle_without_a_form_is_refused_not_unpickled(both, tmp_path, monkeypatch):
    import joblib

    from prospect_predictor.jobs.score import run_scoring

    folder, _, _ = both
    old = without_form(folder / "models" / "prospects", tmp_path / "old")
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(BundleError, match="has no scoring form"):
        run_scoring(old, folder / "leads.csv")


def test_a_tampered_form_is_refused(both, tmp_path):
    folder, _, _ = both
    copy = tmp_path / "tampered"
    shutil.copytree(folder / "models" / "prospects", copy)
    with open(copy / ARRAYS_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match="scoring.npz was modified"):
        load_bundle(copy)


def test_a_form_of_another_format_is_refused_with_what_to_do(both, tmp_path):
    folder, _, _ = both
    copy = tmp_path / "newer"
    shutil.copytree(folder / "models" / "prospects", copy)
    spec = json.loads((copy / JSON_FILE).read_text())
    spec["format"] = scoring_form.FORM_FORMAT + 1
    (copy / JSON_FILE).write_text(json.dumps(spec))
    manifest = json.loads((copy / MANIFEST_FILE).read_text())
    manifest["files"][JSON_FILE] = hashlib.sha256((copy / JSON_FILE).read_bytes()).hexdigest()
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="of a kind this version cannot read.*upgrade"):
        load_bundle(copy)


def test_no_bundle_is_written_when_its_form_would_not_agree(both, monkeypatch, tmp_path):
    _, reference, _ = both
    real = Depth2Form.encode
    monkeypatch.setattr(Depth2Form, "encode", lambda self, frame: real(self, frame) + 1.0)
    with pytest.raises(Unsupported, match=r"disagrees with the model by \S+ on probe rows"):
        compile_files(reference.model)
    with pytest.raises(BundleError, match="disagrees with the model"):
        export_bundle(tmp_path / "b", reference.model, {"name": "b"})
    assert not (tmp_path / "b").exists()


def test_compile_files_refuses_a_model_it_cannot_write():
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(Unsupported, match="not a fitted model of ours"):
        compile_files(model)


LEAD = json.dumps({"investable_assets_eur": 250000, "postponements": 3})


@pytest.mark.parametrize(
    "args",
    [
        ["score", "--lead", LEAD],
        ["explain", "--lead", LEAD],
        ["score", "leads.csv", "--format", "csv"],  # with the drift check
    ],
    ids=["score-lead", "explain-lead", "score-file"],
)
def test_scoring_in_a_fresh_process_imports_no_training_library(trained_folder, args):
    folder, _ = trained_folder
    code = (
        "import sys\n"
        f"sys.argv = ['prospect', *{args!r}]\n"
        "from prospect_predictor.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=folder, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-500:]


def test_reading_leads_and_scoring_a_file_agree_with_the_model(both):
    folder, reference, form = both
    leads = read_leads(folder / "leads.csv", reference.metadata)
    frame = leads.frame[reference.metadata["features"]]
    assert_same(reference.model, form.model, frame)


def test_the_form_does_not_depend_on_the_scikit_learn_version(both, tmp_path):
    """The form is not a pickle: scoring reads it whatever scikit-learn is installed."""
    folder, _, _ = both
    copy = tmp_path / "other-sklearn"
    shutil.copytree(folder / "models" / "prospects", copy)
    metadata = json.loads((copy / "metadata.json").read_text())
    metadata["library_versions"]["scikit-learn"] = "0.1.0"
    (copy / "metadata.json").write_text(json.dumps(metadata))
    manifest = json.loads((copy / MANIFEST_FILE).read_text())
    manifest["files"]["metadata.json"] = hashlib.sha256(
        (copy / "metadata.json").read_bytes()
    ).hexdigest()
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert isinstance(load_bundle(copy).model, ScoringForm)


def test_category_rows_are_the_same_from_a_column_or_from_plain_values():
    """A frame's column (pandas, each distinct value looked up once) and plain values (one
    lead, no pandas) give each cell the same table row: its category's, then an unknown
    value's, then a blank's."""
    import pandas as pd

    from prospect_predictor.explaining.form_base import category_index

    categories = ["email", "referral", "event"]
    cells = ["event", None, "tv_advert", "email", float("nan"), "", "referral", "event"]
    expected = [2, 4, 3, 0, 4, 3, 1, 2]
    assert category_index(cells, categories).tolist() == expected
    assert category_index(pd.Series(cells, dtype=object), categories).tolist() == expected
    with_na = pd.Series(["email", pd.NA, "event"], dtype="string")
    assert category_index(with_na, categories).tolist() == [0, 4, 2]
    assert category_index(pd.Series([], dtype=object), categories).tolist() == []
