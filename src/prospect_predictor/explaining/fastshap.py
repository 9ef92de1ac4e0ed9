"""Exact path-dependent TreeSHAP for depth-2 HistGradientBoosting models, as lookup tables.

Our default trees have depth 2: each tree routes a row by at most three yes/no questions
(the root's and one child's), so its output and its exact SHAP values take at most 8
distinct values, one per combination of answers (a *cell*). We compile, once per model,
each tree's SHAP values per cell — the Shapley values of the tree's game
``v(S) = E[tree(x) | x_S]``, the expectation taken over each node's training cover exactly
as shap's path-dependent TreeExplainer does — and explaining rows becomes a gather and a
matrix product: fast enough to explain every scored row, without importing shap.
Tests compare the values with shap's TreeExplainer and with ``decision_function``.

Relies on scikit-learn's private tree layout (``_predictors``, ``_baseline_prediction``,
node fields): a layout it does not recognise, a deeper tree or a native categorical split
raises :class:`Unsupported`, and the caller falls back to shap instead of guessing.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np

REQUIRED_FIELDS = (
    "value",
    "count",
    "feature_idx",
    "num_threshold",
    "missing_go_to_left",
    "left",
    "right",
    "is_leaf",
    "is_categorical",
)
POSITIONS = 3  # root, its left child, its right child
CELLS = 8  # combinations of the three answers


class Unsupported(Exception):
    """The estimator cannot be compiled (the caller falls back to shap)."""


def _tree_tables(nodes: np.ndarray):
    """Per position: (feature, threshold, missing_go_to_left); per cell: SHAP values per
    position (each distinct feature's value sits at its first position) and the output."""
    if any(name not in nodes.dtype.names for name in REQUIRED_FIELDS):
        raise Unsupported("unknown tree layout")
    if nodes["is_categorical"].any():
        raise Unsupported("native categorical splits")
    root = 0
    position_nodes = [root]
    if not nodes[root]["is_leaf"]:
        position_nodes += [int(nodes[root]["left"]), int(nodes[root]["right"])]
        for child in position_nodes[1:]:
            if not nodes[child]["is_leaf"]:
                grand = (int(nodes[child]["left"]), int(nodes[child]["right"]))
                if not all(nodes[g]["is_leaf"] for g in grand):
                    raise Unsupported("a tree deeper than 2")
    position_nodes += [None] * (POSITIONS - len(position_nodes))
    internal = [p if p is not None and not nodes[p]["is_leaf"] else None for p in position_nodes]
    features = [int(nodes[p]["feature_idx"]) if p is not None else -1 for p in internal]
    thresholds = [float(nodes[p]["num_threshold"]) if p is not None else 0.0 for p in internal]
    missing_left = [
        bool(nodes[p]["missing_go_to_left"]) if p is not None else False for p in internal
    ]
    players = sorted({f for f in features if f >= 0})
    m = len(players)
    subsets = [frozenset(c) for size in range(m + 1) for c in combinations(players, size)]
    phi = np.zeros((CELLS, POSITIONS))
    output = np.zeros(CELLS)
    base = 0.0
    for cell in range(CELLS):
        answers = {p: bool(cell >> i & 1) for i, p in enumerate(internal) if p is not None}

        def expect(index: int, known: frozenset, answers: dict = answers) -> float:
            node = nodes[index]
            if node["is_leaf"]:
                return float(node["value"])
            left, right = int(node["left"]), int(node["right"])
            if int(node["feature_idx"]) in known:
                return expect(left if answers[index] else right, known)
            c_left, c_right = float(nodes[left]["count"]), float(nodes[right]["count"])
            return (c_left * expect(left, known) + c_right * expect(right, known)) / (
                c_left + c_right
            )

        worth = {s: expect(root, s) for s in subsets}
        output[cell] = worth[frozenset(players)]
        base = worth[frozenset()]
        for j in players:
            value = sum(
                factorial(len(s))
                * factorial(m - len(s) - 1)
                / factorial(m)
                * (worth[s | {j}] - worth[s])
                for s in subsets
                if j not in s
            )
            phi[cell, features.index(j)] = value
    return features, thresholds, missing_left, phi, output, base


class CompiledTrees:
    """A fitted HistGradientBoostingClassifier with depth-2 trees, compiled into tables."""

    def __init__(self, estimator) -> None:
        try:
            predictors = estimator._predictors
            baseline = np.asarray(estimator._baseline_prediction, dtype=float).ravel()
            n_features = int(estimator.n_features_in_)
        except AttributeError as exc:
            raise Unsupported(f"not a fitted HistGradientBoosting model ({exc})") from None
        self.baseline, self.n_features, self.n_outputs = baseline, n_features, len(baseline)
        self.outputs = []
        for k in range(self.n_outputs):
            tables = [_tree_tables(iteration[k].nodes) for iteration in predictors]
            features = np.array([t[0] for t in tables], dtype=np.int64).reshape(-1, POSITIONS)
            self.outputs.append(
                {
                    "positions": features,  # -1 where a position holds no split
                    "thresholds": np.array([t[1] for t in tables]),
                    "missing_left": np.array([t[2] for t in tables], dtype=bool),
                    "phi": np.stack([t[3] for t in tables]),  # (trees, cells, 3)
                    "output": np.stack([t[4] for t in tables]),  # (trees, cells)
                    "base": float(sum(t[5] for t in tables)),
                }
            )
        self._derive()

    # The tables as plain arrays (for a bundle's scoring form) and back: ``from_arrays``
    # needs neither scikit-learn nor the estimator.
    # Shapes of the stored tables per output: trees route by 3 positions into 8 cells.
    STORED = {
        "positions": (POSITIONS,),
        "thresholds": (POSITIONS,),
        "missing_left": (POSITIONS,),
        "phi": (CELLS, POSITIONS),
        "output": (CELLS,),
    }

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The tables as a few plain arrays, one axis per output (every output has a tree
        per boosting iteration)."""
        arrays = {
            f"trees_{name}": np.stack([tables[name] for tables in self.outputs])
            for name in self.STORED
        }
        arrays["trees_base"] = np.array([tables["base"] for tables in self.outputs])
        arrays["trees_baseline"] = self.baseline
        arrays["trees_n_features"] = np.array(self.n_features)
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> CompiledTrees:
        """Tables written by :meth:`to_arrays`; raises ``ValueError`` if they do not fit."""
        self = cls.__new__(cls)
        self.baseline = np.asarray(arrays["trees_baseline"], dtype=float).ravel()
        self.n_features = int(arrays["trees_n_features"])
        self.n_outputs = len(self.baseline)
        dtypes = {"positions": np.int64, "missing_left": bool}
        stored = {
            name: np.asarray(arrays[f"trees_{name}"], dtype=dtypes.get(name, float))
            for name in self.STORED
        }
        base = np.asarray(arrays["trees_base"], dtype=float)
        trees = stored["positions"].shape[1] if stored["positions"].ndim == 3 else -1
        for name, shape in self.STORED.items():
            if stored[name].shape != (self.n_outputs, trees, *shape):
                raise ValueError(f"trees_{name} has shape {stored[name].shape}")
        if base.shape != (self.n_outputs,):
            raise ValueError(f"trees_base has shape {base.shape}")
        if stored["positions"].size and stored["positions"].max() >= self.n_features:
            raise ValueError(f"a tree splits on a feature beyond {self.n_features}")
        self.outputs = [
            {**{name: stored[name][k] for name in self.STORED}, "base": float(base[k])}
            for k in range(self.n_outputs)
        ]
        self._derive()
        return self

    def _derive(self) -> None:
        """The arrays ``explain`` works with, computed from the stored tables."""
        for tables in self.outputs:
            positions = tables["positions"]
            trees = len(positions)
            scatter = np.zeros((trees * POSITIONS, self.n_features))
            flat = positions.ravel()
            scatter[np.flatnonzero(flat >= 0), flat[flat >= 0]] = 1.0
            tables["features"] = np.where(positions >= 0, positions, 0)
            tables["scatter"] = scatter  # (trees * 3, features): position -> its feature
            tables["phi_flat"] = tables["phi"].reshape(-1, POSITIONS)
            tables["output_flat"] = tables["output"].ravel()
            tables["cell_offset"] = (np.arange(trees) * CELLS).astype(np.int64)

    def explain(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """SHAP values ``(rows, features, outputs)``, base values ``(outputs,)`` and raw
        scores ``(rows, outputs)`` (= ``decision_function``) for an encoded matrix."""
        X = np.asarray(X, dtype=float)
        n = X.shape[0]
        values = np.zeros((n, self.n_features, self.n_outputs))
        raw = np.empty((n, self.n_outputs))
        base = np.empty(self.n_outputs)
        for k, tables in enumerate(self.outputs):
            x = X[:, tables["features"]]  # (rows, trees, 3)
            answers = np.where(np.isnan(x), tables["missing_left"], x <= tables["thresholds"])
            # flat index of (tree, cell) into the tables, one per row and tree
            index = (
                answers[..., 0] + 2 * answers[..., 1] + 4 * answers[..., 2] + tables["cell_offset"]
            )
            phi = np.take(tables["phi_flat"], index, axis=0)  # (rows, trees, 3)
            values[:, :, k] = phi.reshape(n, phi.shape[1] * POSITIONS) @ tables["scatter"]
            raw[:, k] = self.baseline[k] + np.take(tables["output_flat"], index).sum(axis=1)
            base[k] = self.baseline[k] + tables["base"]
        return values, base, raw
