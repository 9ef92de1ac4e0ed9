"""The model bundle: export, verification before unpickling, version checks, atomic swaps."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

from prospect_predictor.errors import ProspectError
from prospect_predictor.registry import bundle as bundle_module
from prospect_predictor.registry.bundle import (
    BUNDLE_FORMAT,
    MANIFEST_FILE,
    METADATA_FILE,
    MODEL_FILE,
    BundleError,
    export_bundle,
    library_versions,
    load_bundle,
    read_metadata,
)

UNPICKLED: list[str] = []


class Canary:
    """Records every time it is unpickled, to prove whether a load ran the pickle."""

    def __init__(self) -> None:
        self.name = "canary"

    def __setstate__(self, state: dict) -> None:
        UNPICKLED.append(state["name"])
        self.__dict__.update(state)


@pytest.fixture(autouse=True)
def _reset_canary():
    UNPICKLED.clear()


@pytest.fixture(autouse=True)
def _toy_models_have_no_scoring_form(monkeypatch):
    """These tests export toy objects (a LogisticRegression fitted on arrays, a Canary) to
    test the bundle's files. compile_files rightly refuses them, being no family of ours
    (tests/explaining covers that), so here export writes them without a scoring form."""
    from prospect_predictor.explaining import compile_form

    monkeypatch.setattr(compile_form, "compile_files", lambda model: {})


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20, 3))
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(int)
    return features, labels


@pytest.fixture
def model(data):
    return LogisticRegression().fit(*data)


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything calls joblib.load."""

    def forbidden(*args, **kwargs):
        pytest.fail("joblib.load was called on a bundle that should have been refused")

    monkeypatch.setattr(joblib, "load", forbidden)


def rewrite_manifest_hash(folder, name):
    """Make the manifest agree with ``name`` again, so only later checks can fail."""
    manifest_path = folder / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def edit_metadata(folder, change):
    path = folder / METADATA_FILE
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))


def test_round_trip_preserves_predictions_and_metadata(tmp_path, model, data):
    target = tmp_path / "models" / "demo"  # the parent does not exist yet
    given = {"name": "demo", "classes": ["a", "b"], "metrics": {"log_loss": 0.31}, "rows": 20}

    assert export_bundle(target, model, given) == target
    loaded = load_bundle(target)

    assert loaded.path == target
    assert isinstance(loaded.model, LogisticRegression)
    np.testing.assert_array_equal(loaded.model.predict_proba(data[0]), model.predict_proba(data[0]))
    for key, value in given.items():
        assert loaded.metadata[key] == value
    assert loaded.metadata["format"] == BUNDLE_FORMAT
    created = datetime.fromisoformat(loaded.metadata["created_at"])
    assert created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    assert loaded.metadata["library_versions"] == library_versions()
    assert read_metadata(target) == loaded.metadata

    manifest = json.loads((target / MANIFEST_FILE).read_text())
    assert manifest["format"] == BUNDLE_FORMAT
    assert set(manifest["files"]) == {MODEL_FILE, METADATA_FILE}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]  # no leftovers


def test_library_versions_names_every_library_a_pickle_depends_on():
    versions = library_versions()
    assert set(versions) == {
        "python",
        "numpy",
        "pandas",
        "scikit-learn",
        "joblib",
        "prospect-predictor",
    }
    assert versions["scikit-learn"] == sklearn.__version__
    assert versions["numpy"] == np.__version__


def test_metadata_json_is_sorted_and_indented(tmp_path, model):
    export_bundle(tmp_path / "b", model, {"zeta": 1, "alpha": 2})
    text = (tmp_path / "b" / METADATA_FILE).read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_recorded_keys_describe_this_export_even_if_given(tmp_path, model):
    export_bundle(tmp_path / "a", model, {"name": "a"})
    first = load_bundle(tmp_path / "a")
    # Re-exporting a loaded bundle passes its recorded keys back in; they are replaced.
    stale = {**first.metadata, "format": 99, "library_versions": {"scikit-learn": "0.1"}}
    export_bundle(tmp_path / "b", first.model, stale)
    second = read_metadata(tmp_path / "b")
    assert second["format"] == BUNDLE_FORMAT
    assert second["library_versions"] == library_versions()
    assert second["name"] == "a"


def test_read_metadata_does_not_unpickle(tmp_path, no_unpickling):
    export_bundle(tmp_path / "b", Canary(), {"name": "b"})
    assert read_metadata(tmp_path / "b")["name"] == "b"
    assert UNPICKLED == []


def test_load_bundle_does_unpickle_the_canary(tmp_path):
    # The check that the refusal tests below rely on: a real load runs the pickle.
    export_bundle(tmp_path / "b", Canary(), {})
    assert isinstance(load_bundle(tmp_path / "b").model, Canary)
    assert UNPICKLED == ["canary"]


def test_tampered_model_is_refused_before_unpickling(tmp_path, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, Canary(), {})
    with (target / MODEL_FILE).open("ab") as handle:
        handle.write(b"\0")

    with pytest.raises(BundleError) as caught:
        load_bundle(target)
    message = str(caught.value)
    assert f"{MODEL_FILE} was modified after export (sha256 mismatch)" in message
    assert str(target) in message
    assert "re-export the bundle or train again" in message
    assert UNPICKLED == []


@pytest.mark.parametrize("reader", [load_bundle, read_metadata])
def test_tampered_metadata_is_refused(tmp_path, model, no_unpickling, reader):
    target = tmp_path / "b"
    export_bundle(target, model, {"threshold": 0.5})
    edit_metadata(target, lambda m: m.update(threshold=0.1))

    with pytest.raises(BundleError, match=f"{METADATA_FILE} was modified after export"):
        reader(target)


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_unlisted_entry_is_refused_and_named(tmp_path, model, no_unpickling, kind):
    target = tmp_path / "b"
    export_bundle(target, model, {})
    if kind == "file":
        (target / "other_model.joblib").write_bytes(b"not from the export")
    else:
        (target / "other_model.joblib").mkdir()

    with pytest.raises(BundleError, match=r"other_model\.joblib is not part of the exported"):
        load_bundle(target)


def test_listed_file_that_is_missing_is_refused(tmp_path, model, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, model, {}, extra_files={"notes.txt": b"hello"})
    (target / "notes.txt").unlink()
    with pytest.raises(BundleError, match=r"notes\.txt is missing"):
        load_bundle(target)


@pytest.mark.parametrize("reader", [load_bundle, read_metadata])
@pytest.mark.parametrize("state", ["absent", "empty folder", "no manifest"])
def test_missing_bundle_says_how_to_train(tmp_path, model, reader, state):
    target = tmp_path / "models" / "demo"
    if state == "empty folder":
        target.mkdir(parents=True)
    elif state == "no manifest":
        export_bundle(target, model, {})
        (target / MANIFEST_FILE).unlink()

    with pytest.raises(BundleError) as caught:
        reader(target)
    assert str(caught.value) == (
        f"No model bundle at {target}. "
        "Train one with: prospect train --data HISTORY.csv (or run prospect demo)."
    )
    assert isinstance(caught.value, ProspectError)  # so the CLI shows it without a traceback


@pytest.mark.parametrize(
    "manifest_text",
    ["not json", "[]", '{"files": {}}', '{"format": 1, "files": []}', '{"format": 1}'],
)
def test_unreadable_manifest_is_refused(tmp_path, model, no_unpickling, manifest_text):
    target = tmp_path / "b"
    export_bundle(target, model, {})
    (target / MANIFEST_FILE).write_text(manifest_text)
    with pytest.raises(BundleError, match=f"{MANIFEST_FILE} is not a readable bundle manifest"):
        load_bundle(target)


def test_manifest_pointing_outside_the_bundle_is_refused(tmp_path, model, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, model, {})
    (tmp_path / "elsewhere.txt").write_bytes(b"x")
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest["files"]["../elsewhere.txt"] = hashlib.sha256(b"x").hexdigest()
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="not a readable bundle manifest"):
        load_bundle(target)


def test_newer_bundle_format_is_refused(tmp_path, model, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, model, {})
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest["format"] = BUNDLE_FORMAT + 1
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=f"format {BUNDLE_FORMAT + 1}.*upgrade"):
        read_metadata(target)


@pytest.mark.parametrize(
    ("package", "version"),
    [("scikit-learn", "0.24.2"), ("scikit-learn", "1.0.0"), ("numpy", "1.26.4")],
)
def test_incompatible_library_version_is_refused(tmp_path, model, no_unpickling, package, version):
    installed = library_versions()[package]
    assert installed.split(".")[:2] != version.split(".")[:2]  # the premise of the test
    target = tmp_path / "b"
    export_bundle(target, model, {})
    edit_metadata(target, lambda m: m["library_versions"].update({package: version}))
    rewrite_manifest_hash(target, METADATA_FILE)  # only the version check can fail now

    assert read_metadata(target)["library_versions"][package] == version  # reading is safe
    with pytest.raises(BundleError) as caught:
        load_bundle(target)
    message = str(caught.value)
    assert f"{package} {version}" in message
    assert f"{package} {installed} is installed" in message
    assert "not portable across versions" in message
    assert "Train again" in message
    assert f"install {package} {version}" in message


def test_other_scikit_learn_patch_release_is_accepted(tmp_path, model, data):
    major, minor = sklearn.__version__.split(".")[:2]
    other_patch = f"{major}.{minor}.999"
    target = tmp_path / "b"
    export_bundle(target, model, {})
    edit_metadata(target, lambda m: m["library_versions"].update({"scikit-learn": other_patch}))
    rewrite_manifest_hash(target, METADATA_FILE)

    loaded = load_bundle(target)
    np.testing.assert_array_equal(loaded.model.predict(data[0]), model.predict(data[0]))


def test_missing_recorded_versions_are_refused(tmp_path, model, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, model, {})
    edit_metadata(target, lambda m: m.pop("library_versions"))
    rewrite_manifest_hash(target, METADATA_FILE)
    with pytest.raises(BundleError, match="does not record the scikit-learn version"):
        load_bundle(target)


def test_reexport_replaces_the_previous_bundle(tmp_path, model):
    target = tmp_path / "b"
    export_bundle(target, model, {"run": "first"}, extra_files={"old.txt": b"old"})
    export_bundle(target, Canary(), {"run": "second"})

    loaded = load_bundle(target)
    assert isinstance(loaded.model, Canary)
    assert loaded.metadata["run"] == "second"
    assert not (target / "old.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # backup and temp removed


def _raise_in_dump(*args, **kwargs):
    raise RuntimeError("disk full")


@pytest.mark.parametrize(
    ("metadata", "failing_dump", "error", "match"),
    [
        ({"run": "second", "classes": {"a", "b"}}, False, TypeError, "'classes'.*set"),
        ({"run": "second", "metrics": {"n": np.int64(3)}}, False, TypeError, "'metrics.n'"),
        ({"run": "second"}, True, RuntimeError, "disk full"),
    ],
    ids=["set", "numpy-int", "dump-fails"],
)
def test_failed_export_keeps_the_previous_bundle(
    tmp_path, model, monkeypatch, metadata, failing_dump, error, match
):
    target = tmp_path / "b"
    export_bundle(target, model, {"run": "first"})
    if failing_dump:
        monkeypatch.setattr(joblib, "dump", _raise_in_dump)

    with pytest.raises(error, match=match):
        export_bundle(target, Canary(), metadata)

    monkeypatch.undo()
    loaded = load_bundle(target)
    assert isinstance(loaded.model, LogisticRegression)
    assert loaded.metadata["run"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_failed_first_export_leaves_nothing(tmp_path, model, monkeypatch):
    monkeypatch.setattr(joblib, "dump", _raise_in_dump)
    with pytest.raises(RuntimeError):
        export_bundle(tmp_path / "b", model, {})
    assert list(tmp_path.iterdir()) == []


def test_failed_swap_restores_the_previous_bundle(tmp_path, model, monkeypatch):
    target = tmp_path / "b"
    export_bundle(target, model, {"run": "first"})
    real_rename = os.rename
    calls = []

    def rename(source, destination):
        calls.append((source, destination))
        if len(calls) == 2:  # 1: old bundle aside, 2: new bundle in (fails), 3: old one back
            raise OSError("rename failed")
        real_rename(source, destination)

    monkeypatch.setattr(bundle_module.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        export_bundle(target, Canary(), {"run": "second"})
    monkeypatch.undo()

    assert len(calls) == 3 and str(calls[1][1]) == str(calls[2][1]) == str(target)
    assert load_bundle(target).metadata["run"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_refuses_to_replace_a_folder_that_is_not_a_bundle(tmp_path, model):
    target = tmp_path / "documents"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(BundleError, match="is not a model bundle.*left untouched"):
        export_bundle(target, model, {})
    assert (target / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]


def test_exports_into_an_existing_empty_folder(tmp_path, model):
    target = tmp_path / "b"
    target.mkdir()
    export_bundle(target, model, {"run": "first"})
    assert read_metadata(target)["run"] == "first"


def test_extra_files_round_trip(tmp_path, model):
    target = tmp_path / "b"
    extras = {"feature_names.json": b'["a", "b", "c"]', "reference.bin": bytes(range(256))}
    export_bundle(target, model, {}, extra_files=extras)

    for name, content in extras.items():
        assert (target / name).read_bytes() == content
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    assert set(manifest["files"]) == {MODEL_FILE, METADATA_FILE, *extras}
    load_bundle(target)  # verifies the extra files too


def test_tampered_extra_file_is_refused(tmp_path, model, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, model, {}, extra_files={"feature_names.json": b'["a"]'})
    (target / "feature_names.json").write_bytes(b'["b"]')
    with pytest.raises(BundleError, match=r"feature_names\.json was modified after export"):
        load_bundle(target)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("sub/file.txt", b"x", ValueError),
        ("..", b"x", ValueError),
        ("", b"x", ValueError),
        (MODEL_FILE, b"x", ValueError),
        (MANIFEST_FILE, b"x", ValueError),
        ("notes.txt", "text, not bytes", TypeError),
    ],
)
def test_bad_extra_files_are_refused_before_writing(tmp_path, model, name, content, error):
    with pytest.raises(error):
        export_bundle(tmp_path / "b", model, {}, extra_files={name: content})
    assert list(tmp_path.iterdir()) == []
