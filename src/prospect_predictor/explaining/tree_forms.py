"""The scoring forms of HistGradientBoosting models over ordinal-encoded categories.

Both kinds read their input the same way: numbers and booleans as floats (missing stays
NaN), each category as the code the fitted OrdinalEncoder gives it (rare levels pooled
into one code), plus the codes it gives an unknown and a missing value.

- ``depth2-hgb-ordinal`` (:class:`Depth2Form`, the default model): the trees as
  :mod:`prospect_predictor.explaining.fastshap` lookup tables, which give both the raw
  scores and the exact SHAP values, with NumPy alone.
- ``trees-hgb-ordinal`` (:class:`TreeForm`, deeper trees): the trees as node arrays, per
  class per boosting iteration (children, the child a missing value goes to, feature,
  threshold, value, training cover). Raw scores come from our own vectorised traversal,
  summed in scikit-learn's order (the baseline, then each iteration's leaf), so they equal
  ``decision_function`` to the last bit; the exact SHAP values from shap's TreeExplainer
  (path-dependent TreeSHAP, imported on first use) over the same arrays laid out as shap
  lays out the estimator itself, so they equal what it gives for the Pipeline bit for bit.
"""

from __future__ import annotations

import numpy as np

from prospect_predictor.explaining.fastshap import CompiledTrees
from prospect_predictor.explaining.form_base import (
    Columns,
    FormError,
    ScoringForm,
    as_float,
    calibrated,
    category_index,
    consistent,
    read_calibration,
    read_columns,
    read_header,
    row_count,
)

# Rows traversed at once: bounds the (rows, trees) index arrays (~8 MB at 400 trees).
TRAVERSAL_ROWS = 2_500
NODE_FIELDS = ("left", "right", "default", "feature", "threshold", "value", "weight")


class OrdinalInputs:
    """The tree kinds' input: numbers, then category codes (as the ColumnTransformer)."""

    numeric: list[str]
    categorical: list[tuple[str, list[str]]]
    codes: list[np.ndarray]
    encoded_names: list[str]

    def read_inputs(self, spec: dict, arrays) -> None:
        self.numeric, self.categorical = read_columns(spec)
        # per category column: one code per category, then an unknown's, a missing's
        codes = np.asarray(arrays["codes"], dtype=float)
        ends = np.cumsum([len(cats) + 2 for _, cats in self.categorical], dtype=np.int64)
        if codes.shape != (int(ends[-1]) if len(ends) else 0,):
            raise ValueError(f"codes has shape {codes.shape}")
        self.codes = np.split(codes, ends[:-1]) if len(ends) else []
        self.encoded_names = self.numeric + [c for c, _ in self.categorical]

    def feature_contributions(self, frame: Columns, with_logits: bool = False):
        """As :func:`~prospect_predictor.explaining.contributions.feature_contributions`
        (``explain``: the kind's raw SHAP values, base values and raw scores)."""
        explained = self.explain(self.encode(frame))
        return self.calibrated_output(explained, self.encoded_names, with_logits)

    def encode(self, frame: Columns) -> np.ndarray:
        """The matrix the trees read, columns in ``encoded_names`` order (as the Pipeline's
        ColumnTransformer: numbers first, then categories)."""
        parts = [as_float(frame, self.numeric)] if self.numeric else []
        for (column, categories), codes in zip(self.categorical, self.codes, strict=True):
            parts.append(codes[category_index(frame[column], categories)][:, None])
        return np.hstack(parts) if parts else np.empty((row_count(frame), 0))

    def logits(self, frame: Columns) -> np.ndarray:
        """Calibrated logits from the raw scores alone (``raw``): no SHAP value is computed
        to predict."""
        raw = self.raw(self.encode(frame))
        empty = np.zeros((len(raw), 0, raw.shape[1]))
        _, _, logits = calibrated(
            empty,
            np.zeros(raw.shape[1]),
            raw,
            self.fitted_classes,
            self.classes,
            [],
            [],
            self.scale,
            self.bias,
        )
        return logits


class Depth2Form(OrdinalInputs, ScoringForm):
    """Depth-2 trees as lookup tables: scores and explains with NumPy alone."""

    KIND = "depth2-hgb-ordinal"

    def __init__(self, spec: dict, arrays) -> None:
        try:
            self.classes, self.fitted_classes, self.feature_names = read_header(spec)
            self.read_inputs(spec, arrays)
            self.scale, self.bias = read_calibration(arrays, self.classes)
            self.trees = CompiledTrees.from_arrays(arrays)
        except (KeyError, TypeError, ValueError) as exc:
            raise FormError(f"incomplete scoring form ({exc})") from None
        if self.trees.n_features != len(self.encoded_names) or not consistent(
            self.classes,
            self.fitted_classes,
            self.feature_names,
            self.encoded_names,
            self.trees.n_outputs,
        ):
            raise FormError("inconsistent scoring form")

    def explain(self, encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw SHAP values, base values and raw scores, from the lookup tables."""
        return self.trees.explain(encoded)

    def raw(self, encoded: np.ndarray) -> np.ndarray:
        """Raw scores ``(rows, outputs)``, the bits :meth:`explain` gives."""
        return self.trees.raw(encoded)


class TreeForm(OrdinalInputs, ScoringForm):
    """Trees of any depth as node arrays ``(outputs, iterations, nodes)``, padded after
    each tree's ``nodes_count`` nodes; a leaf's children are -1 and its feature -2 (as in
    shap). Every child comes after its parent, so a traversal always ends at a leaf."""

    KIND = "trees-hgb-ordinal"

    def __init__(self, spec: dict, arrays) -> None:
        try:
            self.classes, self.fitted_classes, self.feature_names = read_header(spec)
            self.read_inputs(spec, arrays)
            self.scale, self.bias = read_calibration(arrays, self.classes)
            self._read_trees(arrays)
        except (KeyError, TypeError, ValueError) as exc:
            raise FormError(f"incomplete scoring form ({exc})") from None
        if not consistent(
            self.classes,
            self.fitted_classes,
            self.feature_names,
            self.encoded_names,
            len(self.baseline),
        ):
            raise FormError("inconsistent scoring form")
        self._explainer = None

    def _read_trees(self, arrays) -> None:
        ints = ("left", "right", "default", "feature")
        nodes = {
            name: np.asarray(arrays[f"nodes_{name}"], dtype=np.int64 if name in ints else float)
            for name in NODE_FIELDS
        }
        count = np.asarray(arrays["nodes_count"], dtype=np.int64)
        self.baseline = np.asarray(arrays["baseline"], dtype=float)
        shape = nodes["left"].shape
        if len(shape) != 3 or 0 in shape or shape[0] != len(self.baseline):
            raise ValueError(f"nodes_left has shape {shape}")
        for name, array in nodes.items():
            if array.shape != shape:
                raise ValueError(f"nodes_{name} has shape {array.shape}")
        if count.shape != shape[:2] or count.min() < 1 or count.max() > shape[2]:
            raise ValueError("nodes_count does not fit the node arrays")
        if not (np.isfinite(nodes["value"]).all() and np.isfinite(nodes["weight"]).all()):
            raise ValueError("a node value or cover is not finite")
        index = np.arange(shape[2])
        real = index < count[..., None]  # (outputs, iterations, nodes)
        left, right, default = nodes["left"], nodes["right"], nodes["default"]
        feature = nodes["feature"]
        leaf = left < 0
        split = real & ~leaf
        within = (left < count[..., None]) & (right < count[..., None])
        if not (
            (split <= ((left > index) & (right > index) & within)).all()
            and (split <= ((default == left) | (default == right))).all()
            and (split <= ((feature >= 0) & (feature < len(self.encoded_names)))).all()
            and (split <= ~np.isnan(nodes["threshold"])).all()
            and ((real & leaf) <= ((right == -1) & (default == -1))).all()
            and (~real <= ((left == -1) & (right == -1) & (default == -1))).all()
        ):
            raise ValueError("the node arrays are not trees")
        self.nodes, self.count = nodes, count
        # For the traversal: flat arrays over every tree's nodes, where a leaf (and
        # padding) leads to itself, so that every row may take the same number of steps.
        self.n_outputs, self.n_iterations, width = shape
        flat = np.arange(left.size).reshape(shape)
        offset = flat[..., :1]  # first node of each tree
        self._left = np.where(leaf, flat, left + offset).ravel()
        self._right = np.where(leaf, flat, right + offset).ravel()
        self._missing_left = (default == left).ravel()
        self._feature = np.where(split, nodes["feature"], 0).ravel()
        self._threshold = nodes["threshold"].ravel()
        self._value = nodes["value"].ravel()
        self._roots = offset.reshape(-1)  # output-major: (outputs * iterations,)
        self._depth = self._max_depth()

    def _max_depth(self) -> int:
        """Steps from the root to the deepest leaf, over every tree."""
        frontier, steps = self._roots, 0
        while True:  # ends: every child comes after its parent
            split = frontier[self._left[frontier] != frontier]
            if not len(split):
                return steps
            frontier = np.unique(np.concatenate([self._left[split], self._right[split]]))
            steps += 1

    def leaves(self, encoded: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree ``(rows, outputs * iterations)``, as flat
        node indices: HGB's rule, ``x <= threshold`` to the left, NaN to the default."""
        node = np.broadcast_to(self._roots, (len(encoded), len(self._roots))).copy()
        for _ in range(self._depth):
            x = np.take_along_axis(encoded, self._feature[node], axis=1)
            left = np.where(np.isnan(x), self._missing_left[node], x <= self._threshold[node])
            node = np.where(left, self._left[node], self._right[node])
        return node

    def raw(self, encoded: np.ndarray) -> np.ndarray:
        """Raw scores ``(rows, outputs)`` = ``decision_function``, summed in its order."""
        raw = np.empty((len(encoded), self.n_outputs))
        for start in range(0, len(encoded), TRAVERSAL_ROWS):
            chunk = encoded[start : start + TRAVERSAL_ROWS]
            leaf = self._value[self.leaves(chunk)].reshape(len(chunk), self.n_outputs, -1)
            terms = np.concatenate(
                [np.broadcast_to(self.baseline[:, None], (len(chunk), self.n_outputs, 1)), leaf],
                axis=2,
            )
            raw[start : start + len(chunk)] = np.cumsum(terms, axis=2)[:, :, -1]
        return raw

    def shap_model(self) -> dict:
        """The trees as shap's TreeExplainer takes a model: one tree per class per iteration,
        iteration-major, each with one value column per class (zero but its own), as
        shap converts a HistGradientBoostingClassifier itself."""
        trees = []
        outputs = self.n_outputs
        for iteration in range(self.n_iterations):
            for k in range(outputs):
                n = self.count[k, iteration]
                part = {name: array[k, iteration, :n] for name, array in self.nodes.items()}
                values = np.zeros((n, outputs))
                values[:, k] = part["value"]
                trees.append(
                    {
                        "children_left": part["left"],
                        "children_right": part["right"],
                        "children_default": part["default"],
                        "features": part["feature"],
                        "thresholds": part["threshold"],
                        "values": values,
                        "node_sample_weight": part["weight"],
                    }
                )
        base_offset = self.baseline if outputs > 1 else float(self.baseline[0])
        return {
            "trees": trees,
            "base_offset": base_offset,
            "tree_output": "raw_value",
            "input_dtype": np.float64,
        }

    def explain(self, encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """SHAP values ``(rows, features, outputs)``, base values and raw scores."""
        if self._explainer is None:
            import shap  # only this kind needs it: about a second to import

            self._explainer = shap.TreeExplainer(self.shap_model())
        values = self._explainer.shap_values(encoded, check_additivity=False)
        values = np.asarray(values, dtype=float)
        if values.ndim == 2:
            values = values[:, :, None]
        base = np.atleast_1d(np.asarray(self._explainer.expected_value, dtype=float))
        return values, base, self.raw(encoded)
