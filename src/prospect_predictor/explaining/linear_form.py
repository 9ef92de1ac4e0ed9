"""The scoring form of the ``logistic`` family (kind ``linear-logistic``).

A LogisticRegression's raw logit of each class is its intercept plus one *term* per
feature: what the feature's encoded columns (a scaled number and its missing indicator,
or a category's one-hot columns) add to it. So the form stores, per feature and class:

- for a number (or boolean): the term as ``slope * x + term_at_zero`` when present, and
  ``term_missing`` when missing (the imputed median and the indicator);
- for a category: the term of each category the encoder learnt (its infrequent levels
  pooled as it pools them), of an unknown value, and of a missing one;
- the intercept, and each feature's *expected term* (its term at the training means of
  its encoded columns, ``model.encoded_mean``).

Each SHAP value is then ``term(x) - expected term``, as
:func:`~prospect_predictor.explaining.contributions.linear_shap` gives it, and the base
value the intercept plus the expected terms. NumPy alone; the terms are computed at export
by :mod:`prospect_predictor.explaining.compile_form`.
"""

from __future__ import annotations

import numpy as np

from prospect_predictor.explaining.form_base import (
    Columns,
    FormError,
    ScoringForm,
    as_float,
    category_index,
    consistent,
    read_calibration,
    read_columns,
    read_header,
    row_count,
)


class LinearForm(ScoringForm):
    """A logistic regression as per-feature terms (see the module's docstring)."""

    KIND = "linear-logistic"

    def __init__(self, spec: dict, arrays) -> None:
        try:
            self.classes, self.fitted_classes, self.feature_names = read_header(spec)
            self.numeric, self.categorical = read_columns(spec)
            self.scale, self.bias = read_calibration(arrays, self.classes)
            self._read_terms(arrays)
        except (KeyError, TypeError, ValueError) as exc:
            raise FormError(f"incomplete scoring form ({exc})") from None
        self.encoded_names = self.numeric + [c for c, _ in self.categorical]
        if not consistent(
            self.classes,
            self.fitted_classes,
            self.feature_names,
            self.encoded_names,
            len(self.intercept),
        ):
            raise FormError("inconsistent scoring form")
        self._order = [self.encoded_names.index(f) for f in self.feature_names]

    def _read_terms(self, arrays) -> None:
        def read(name: str, rows: int) -> np.ndarray:
            array = np.asarray(arrays[name], dtype=float)
            if array.shape != (rows, outputs) or not np.isfinite(array).all():
                raise ValueError(f"{name} has shape {array.shape} or a value not finite")
            return array

        self.intercept = np.asarray(arrays["intercept"], dtype=float)
        outputs = len(self.intercept)
        if self.intercept.shape != (outputs,) or not outputs:
            raise ValueError(f"intercept has shape {self.intercept.shape}")
        n_numeric = len(self.numeric)
        slope = read("numeric_slope", n_numeric)
        at_zero = read("numeric_term_at_zero", n_numeric)
        missing = read("numeric_term_missing", n_numeric)
        sizes = [len(categories) + 2 for _, categories in self.categorical]
        terms = read("category_terms", sum(sizes))
        expected = read("expected_terms", n_numeric + len(self.categorical))
        self.terms = {
            "numeric_slope": slope,
            "numeric_term_at_zero": at_zero,
            "numeric_term_missing": missing,
            "category_terms": terms,
            "expected_terms": expected,
        }
        # SHAP values directly: each term less the feature's expected term
        self._slope = slope
        self._at_zero = at_zero - expected[:n_numeric]
        self._missing = missing - expected[:n_numeric]
        ends = np.cumsum(sizes, dtype=np.int64)
        self._categories = [
            part - expected[n_numeric + i]
            for i, part in enumerate(np.split(terms, ends[:-1]) if sizes else [])
        ]
        self.base = self.intercept + expected.sum(axis=0)

    def explain(self, frame: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw SHAP values ``(rows, features, outputs)`` in ``feature_names`` order, base
        values and raw logits (base plus values, summed in that order as ``linear_shap``)."""
        parts = []
        if self.numeric:
            x = as_float(frame, self.numeric)[:, :, None]
            present = x * self._slope + self._at_zero
            parts.append(np.where(np.isnan(x), self._missing, present))
        for (column, categories), table in zip(self.categorical, self._categories, strict=True):
            parts.append(table[category_index(frame[column], categories)][:, None, :])
        outputs = len(self.intercept)
        values = (
            np.concatenate(parts, axis=1) if parts else np.zeros((row_count(frame), 0, outputs))
        )
        values = values[:, self._order, :]
        return values, self.base, self.base + values.sum(axis=1)

    def feature_contributions(self, frame: Columns, with_logits: bool = False):
        """As :func:`~prospect_predictor.explaining.contributions.feature_contributions`."""
        return self.calibrated_output(self.explain(frame), self.feature_names, with_logits)
