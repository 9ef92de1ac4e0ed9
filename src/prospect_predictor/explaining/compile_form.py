"""Compiling a fitted model into its scoring form, at export (needs scikit-learn).

:func:`compile_files` turns a :class:`~prospect_predictor.model.ProspectModel` into the
files of :mod:`prospect_predictor.explaining.scoring_form` and keeps them only when they
reproduce the scikit-learn path exactly on probe rows (every category, unknown and missing
values, every split threshold and its neighbours).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from prospect_predictor.explaining.scoring_form import (
    ARRAYS_FILE,
    EXACT,
    FORM_FORMAT,
    JSON_FILE,
    KIND,
    ScoringForm,
)


def compile_files(model) -> dict[str, bytes]:
    """The scoring form's files for a ProspectModel, or ``{}`` when it cannot be compiled
    exactly (then the bundle is scored by unpickling, as before). The form is only a faster
    way to the same numbers, so nothing here may fail an export: any failure means no form.
    """
    try:
        spec, arrays, probe = _compile(model)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        files = {
            JSON_FILE: (json.dumps(spec, indent=2, sort_keys=True) + "\n").encode("utf-8"),
            ARRAYS_FILE: buffer.getvalue(),
        }
        form = ScoringForm.from_bytes(files[JSON_FILE], files[ARRAYS_FILE])
        return files if _agrees(form, model, probe) else {}
    except Exception:  # noqa: BLE001 - Unsupported, or a model shaped unlike ours
        return {}


class Unsupported(Exception):
    """Not a model the scoring form can reproduce exactly."""


def _compile(model) -> tuple[dict, dict, pd.DataFrame]:
    from prospect_predictor import model as model_module  # scikit-learn: loaded when exporting
    from prospect_predictor.explaining.contributions import _compiled

    try:
        pipeline = model.pipeline
        steps = list(pipeline.named_steps)
        encoder, estimator = pipeline[0], pipeline[-1]
        transformers = encoder.transformers_
        encoded_names = [str(n) for n in encoder.get_feature_names_out()]
        fitted_classes = [str(c) for c in pipeline.classes_]
        classes = [str(c) for c in model.classes]
        feature_names = [str(f) for f in model.feature_names]
    except (AttributeError, TypeError, IndexError, KeyError, ValueError) as exc:
        raise Unsupported(str(exc)) from None
    if steps != ["encode", "model"] or type(estimator).__name__ != "HistGradientBoostingClassifier":
        raise Unsupported("not an HGB pipeline")
    trees = _compiled(estimator)  # the tables explain uses, compiled once per model
    if trees is None:
        raise Unsupported("trees fastshap cannot compile (deeper than 2, or categorical)")

    numeric: list[str] = []
    categorical: list[tuple[str, object, int]] = []  # column, its transformer, its place
    for name, transformer, columns in transformers:
        if name == "remainder" and transformer == "drop":
            continue
        if name == "numbers" and getattr(transformer, "func", None) is model_module.as_float:
            numeric += [str(c) for c in columns]
        elif (
            name == "categories"
            and len(getattr(transformer, "steps", ())) == 2
            and getattr(transformer[0], "func", None) is model_module.as_object
            and type(transformer[1]).__name__ == "OrdinalEncoder"
        ):
            categorical += [(str(c), transformer, p) for p, c in enumerate(columns)]
        else:
            raise Unsupported(f"unknown encoding step {name!r}")
    if numeric + [c for c, _, _ in categorical] != encoded_names:
        raise Unsupported("encoded columns out of the expected order")

    spec_categorical, all_codes, arrays = [], [], {}
    probe_values: dict[str, list] = {c: [np.nan, 0.0, 1.0, -1.0] for c in numeric}
    for column, transformer, position in categorical:
        categories = [str(v) for v in transformer[1].categories_[position]]
        unknown = _unseen(categories)
        # every category, then an unseen one, then a missing one, alone in its column
        inputs = [c for c, t, _ in categorical if t is transformer]
        probe = pd.DataFrame({c: None for c in inputs}, index=range(len(categories) + 2))
        probe[column] = [*categories, unknown, None]
        try:
            codes = np.asarray(transformer.transform(probe))
        except Exception as exc:  # e.g. an encoder that refuses unknown values
            raise Unsupported(f"{column}: {exc}") from None
        all_codes.append(codes[:, position].astype(float))
        spec_categorical.append({"column": column, "categories": categories})
        probe_values[column] = [*categories, unknown, None]
    for tables in trees.outputs:  # each split threshold of a number and its neighbours
        for position, threshold in zip(
            tables["positions"].ravel(), tables["thresholds"].ravel(), strict=True
        ):
            if position >= 0 and position < len(numeric):
                column = numeric[position]
                probe_values[column] += [
                    threshold,
                    np.nextafter(threshold, -np.inf),
                    np.nextafter(threshold, np.inf),
                ]
    arrays["codes"] = np.concatenate(all_codes) if all_codes else np.empty(0)
    arrays.update(trees.to_arrays())
    bias = np.zeros(len(classes)) if model.bias is None else np.asarray(model.bias, dtype=float)
    arrays.update({"scale": np.array(float(model.scale)), "bias": bias})
    spec = {
        "format": FORM_FORMAT,
        "kind": KIND,
        "classes": classes,
        "fitted_classes": fitted_classes,
        "features": feature_names,
        "numeric": numeric,
        "categorical": spec_categorical,
    }
    return spec, arrays, _probe_frame(probe_values, numeric, feature_names)


def _unseen(categories: list[str]) -> str:
    unknown = "(unseen)"
    while unknown in categories:
        unknown += "_"
    return unknown


def _probe_frame(probe_values: dict[str, list], numeric: list[str], features: list[str]):
    """Rows that visit every probe value of every column, in two different pairings."""
    longest = max((len(v) for v in probe_values.values()), default=1)
    rows = 2 * longest
    columns = {}
    for j, name in enumerate(features):
        values = list(dict.fromkeys(probe_values[name]))  # unique (NaN kept once)
        picks = [values[i % len(values)] for i in range(longest)]
        picks += [values[(i * (j + 2) + j) % len(values)] for i in range(longest)]
        columns[name] = (
            np.array(picks, dtype=float) if name in numeric else np.array(picks, dtype=object)
        )
    return pd.DataFrame(columns, index=range(rows))


def _agrees(form: ScoringForm, model, probe: pd.DataFrame) -> bool:
    from prospect_predictor.explaining.contributions import feature_contributions

    expected = feature_contributions(model, probe, with_logits=True)
    got = form.feature_contributions(probe, with_logits=True)
    return all(
        a.shape == b.shape and np.allclose(a, b, rtol=0, atol=EXACT, equal_nan=False)
        for a, b in zip(got, expected, strict=True)
    )
