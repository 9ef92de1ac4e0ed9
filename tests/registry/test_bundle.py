"""The model bundle: export, verification, no pickle ever loaded, atomic swaps, repairs."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from datetime import UTC, datetime

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn

from prospect_predictor.errors import ProspectError
from prospect_predictor.explaining.scoring_form import ScoringForm
from prospect_predictor.registry import bundle as bundle_module
from prospect_predictor.registry.bundle import (
    BUNDLE_FORMAT,
    FORM_FILES,
    MANIFEST_FILE,
    METADATA_FILE,
    OLD_MODEL_FILE,
    BundleError,
    clean_leftovers,
    export_bundle,
    library_versions,
    load_bundle,
    read_metadata,
    write_bundle,
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


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"a": rng.normal(size=300), "b": rng.choice(["x", "y", "z"], size=300).astype(object)}
    )
    labels = np.where(frame["a"] + (frame["b"] == "x") > 0.3, "win_win", "declined")
    return frame, labels


@pytest.fixture(scope="module")
def model(data):
    from prospect_predictor.model import ProspectModel
    from prospect_predictor.modeling.families import build_pipeline

    pipeline = build_pipeline(
        "hgb", {"max_iter": 20}, {"a": "float", "b": "category"}, {"b": ["x", "y", "z"]}, 0.0, 0
    )
    return ProspectModel(pipeline.fit(*data), ["win_win", "declined"])


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything unpickles."""

    def forbidden(*args, **kwargs):
        pytest.fail("a pickle was loaded")

    monkeypatch.setattr(joblib, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)


def rewrite_manifest_hash(folder, name):
    """Make the manifest agree with ``name`` again, so only later checks can fail."""
    manifest_path = folder / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def old_bundle(target, model, with_form: bool):
    """A bundle as version 0.1 wrote it: format 1, model.joblib (here a canary), and the
    scoring form only when the model could be compiled."""
    export_bundle(target, model, {"name": "old", "mlflow": {"model_version": "4"}})
    joblib.dump(Canary(), target / OLD_MODEL_FILE)
    if not with_form:
        for name in FORM_FILES:
            (target / name).unlink()
    names = sorted(p.name for p in target.iterdir() if p.name != MANIFEST_FILE)
    files = {n: hashlib.sha256((target / n).read_bytes()).hexdigest() for n in names}
    (target / MANIFEST_FILE).write_text(json.dumps({"format": 1, "files": files}))


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
    assert isinstance(loaded.model, ScoringForm)
    np.testing.assert_allclose(
        loaded.model.predict_proba(data[0]), model.predict_proba(data[0]), rtol=0, atol=1e-12
    )
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
    assert set(manifest["files"]) == {METADATA_FILE, *FORM_FILES}  # no pickle
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]  # no leftovers


def test_library_versions_names_the_libraries_training_used():
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
    write_bundle(tmp_path / "b", stale, {n: (tmp_path / "a" / n).read_bytes() for n in FORM_FILES})
    second = read_metadata(tmp_path / "b")
    assert second["format"] == BUNDLE_FORMAT
    assert second["library_versions"] == library_versions()
    assert second["name"] == "a"


def test_an_old_bundle_with_a_form_loads_its_form_and_never_its_pickle(
    tmp_path, model, data, no_unpickling
):
    old_bundle(tmp_path / "b", model, with_form=True)
    loaded = load_bundle(tmp_path / "b")
    assert isinstance(loaded.model, ScoringForm)
    assert loaded.model.predict_proba(data[0]).shape == (300, 2)
    assert UNPICKLED == []


def test_an_old_bundle_without_a_form_is_refused_with_the_command_that_reexports_it(
    tmp_path, model, no_unpickling
):
    old_bundle(tmp_path / "b", model, with_form=False)
    with pytest.raises(BundleError) as caught:
        load_bundle(tmp_path / "b")
    message = str(caught.value)
    assert "has no scoring form" in message and "never loaded" in message
    assert "prospect export --version 4 --trust-pickle" in message
    assert "Re-export it where it was trained: prospect export" in message
    assert UNPICKLED == []


def test_tampered_form_is_refused(tmp_path, model, no_unpickling):
    target = tmp_path / "b"
    export_bundle(target, model, {})
    with (target / "scoring.npz").open("ab") as handle:
        handle.write(b"\0")

    with pytest.raises(BundleError) as caught:
        load_bundle(target)
    message = str(caught.value)
    assert "scoring.npz was modified after export (sha256 mismatch)" in message
    assert str(target) in message


def test_a_model_without_a_form_is_not_exported(tmp_path):
    with pytest.raises(BundleError, match="cannot be"):
        export_bundle(tmp_path / "b", Canary(), {"name": "b"})
    assert list(tmp_path.iterdir()) == []


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


def test_reexport_replaces_the_previous_bundle(tmp_path, model):
    target = tmp_path / "b"
    export_bundle(target, model, {"run": "first"}, extra_files={"old.txt": b"old"})
    export_bundle(target, model, {"run": "second"})

    loaded = load_bundle(target)
    assert loaded.metadata["run"] == "second"
    assert not (target / "old.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # backup and temp removed


def _raise_in_write(*args, **kwargs):
    raise RuntimeError("disk full")


@pytest.mark.parametrize(
    ("metadata", "failing_write", "error", "match"),
    [
        ({"run": "second", "classes": {"a", "b"}}, False, TypeError, "'classes'.*set"),
        ({"run": "second", "metrics": {"n": np.int64(3)}}, False, TypeError, "'metrics.n'"),
        ({"run": "second"}, True, RuntimeError, "disk full"),
    ],
    ids=["set", "numpy-int", "write-fails"],
)
def test_failed_export_keeps_the_previous_bundle(
    tmp_path, model, monkeypatch, metadata, failing_write, error, match
):
    target = tmp_path / "b"
    export_bundle(target, model, {"run": "first"})
    if failing_write:
        monkeypatch.setattr(bundle_module, "_fsync_folder", _raise_in_write)

    with pytest.raises(error, match=match):
        export_bundle(target, model, metadata)

    monkeypatch.undo()
    loaded = load_bundle(target)
    assert loaded.metadata["run"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_failed_first_export_leaves_nothing(tmp_path, model, monkeypatch):
    monkeypatch.setattr(bundle_module, "_fsync_folder", _raise_in_write)
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
        export_bundle(target, model, {"run": "second"})
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
    assert set(manifest["files"]) == {METADATA_FILE, *FORM_FILES, *extras}
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
        (OLD_MODEL_FILE, b"x", ValueError),
        ("scoring.json", b"x", ValueError),
        (MANIFEST_FILE, b"x", ValueError),
        ("notes.txt", "text, not bytes", TypeError),
    ],
)
def test_bad_extra_files_are_refused_before_writing(tmp_path, model, name, content, error):
    with pytest.raises(error):
        export_bundle(tmp_path / "b", model, {}, extra_files={name: content})
    assert list(tmp_path.iterdir()) == []


def test_an_export_killed_between_its_renames_is_put_back(tmp_path, model, monkeypatch):
    """The state a crash between the two renames leaves: the previous bundle moved aside,
    the new one in its temporary folder. Loading names the fix; cleaning puts it back."""
    target = tmp_path / "b"
    export_bundle(target, model, {"run": "first"})
    real_rename = os.rename

    def crash_after_first(source, destination):
        real_rename(source, destination)
        raise SystemExit("killed")  # not an Exception: no restoring except-block runs

    monkeypatch.setattr(bundle_module.os, "rename", crash_after_first)
    monkeypatch.setattr(bundle_module.shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(SystemExit):
        export_bundle(target, model, {"run": "second"})
    monkeypatch.undo()
    assert not target.exists()
    with pytest.raises(BundleError, match="an export was interrupted.*prospect export"):
        load_bundle(target)

    done = clean_leftovers(target)
    assert any("put back" in line for line in done)
    assert load_bundle(target).metadata["run"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # temporary folders removed
