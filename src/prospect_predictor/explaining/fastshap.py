"""Exact path-dependent TreeSHAP for depth-2 HistGradientBoosting models, as lookup tables.

Our default trees have depth 2: each tree routes a row by at most three yes/no questions
(the root's and one child's), so its output and its exact SHAP values take at most 8
distinct values, one per combination of answers (a *cell*). We compile, once per model,
each tree's SHAP values per cell — the Shapley values of the tree's game
``v(S) = E[tree(x) | x_S]``, the expectation taken over each node's training cover exactly
as shap's path-dependent TreeExplainer does — and explaining rows becomes comparisons
(each distinct question of the model asked once per row), gathers and sums in a fixed
order: fast enough to explain every scored row, without importing shap.
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
            features = np.where(positions >= 0, positions, 0)
            # A missing value goes left as -inf would (-inf <= any threshold) and right as
            # NaN does (NaN <= anything is false): the columns are read from
            # [x | x with NaN as -inf], so one comparison answers every position.
            tables["features"] = features
            tables["read"] = features + self.n_features * tables["missing_left"]
            tables["output_flat"] = tables["output"].ravel()
            tables["cell_offset"] = (np.arange(trees) * CELLS).astype(np.int64)
            # the SHAP tables position-major: (3, trees * cells), flat
            tables["phi_by_position"] = np.ascontiguousarray(
                tables["phi"].reshape(-1, POSITIONS).T
            ).ravel()
            tables["sums"] = _summation_plan(positions, trees)
        # Every question a tree asks, asked once: the same column against the same
        # threshold recurs across trees and outputs (measured on the default model: 358
        # distinct questions of 1,536 positions), so each row answers the distinct ones and
        # each tree gathers its answers (bytes) from them.
        reads = np.concatenate([tables["read"].ravel() for tables in self.outputs])
        thresholds = np.concatenate([tables["thresholds"].ravel() for tables in self.outputs])
        questions, asked = np.unique(
            np.stack([reads.astype(float), thresholds]), axis=1, return_inverse=True
        )
        self._question_read = questions[0].astype(np.int64)
        self._question_column = self._question_read % max(self.n_features, 1)
        self._question_threshold = questions[1]
        asked = asked.reshape(-1)
        start = 0
        for tables in self.outputs:
            size = tables["thresholds"].size
            # position-major (3, trees): each position's answers gathered contiguous
            tables["asks"] = np.ascontiguousarray(
                asked[start : start + size].reshape(-1, POSITIONS).T
            )
            start += size

    def explain(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """SHAP values ``(rows, features, outputs)``, base values ``(outputs,)`` and raw
        scores ``(rows, outputs)`` (= ``decision_function``) for an encoded matrix.

        Each row's values depend on that row alone, to the last bit: a lead gets the same
        bytes scored alone or in a file, in a batch of any size (:func:`_summation_plan`)."""
        X = np.asarray(X, dtype=float)
        values = np.zeros((X.shape[0], self.n_features, self.n_outputs))
        raw = np.empty((X.shape[0], self.n_outputs))
        base = np.empty(self.n_outputs)
        answers = self._answers(X)
        # the answers question-major: each tree's cells then come as contiguous rows of
        # bytes, which the SHAP sums gather by tree (a strided gather of the row-major
        # index was the largest part of them)
        by_question = np.ascontiguousarray(answers.T)
        for k, tables in enumerate(self.outputs):
            by_tree = self._cell_bytes(by_question, tables)  # (trees, rows)
            values[:, :, k] = _feature_sums(tables, by_tree, self.n_features).T
            raw[:, k] = self._raw(k, tables, self._cell_index(answers, tables))
            base[k] = self.baseline[k] + tables["base"]
        return values, base, raw

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The raw scores alone ``(rows, outputs)``: the bits :meth:`explain` gives, without
        the SHAP values (a third of the work: one table read per tree instead of four)."""
        X = np.asarray(X, dtype=float)
        raw = np.empty((X.shape[0], self.n_outputs))
        answers = self._answers(X)
        for k, tables in enumerate(self.outputs):
            raw[:, k] = self._raw(k, tables, self._cell_index(answers, tables))
        return raw

    def _raw(self, k: int, tables: dict, index: np.ndarray) -> np.ndarray:
        return self.baseline[k] + np.take(tables["output_flat"], index).sum(axis=1)

    def _answers(self, X: np.ndarray) -> np.ndarray:
        """Each row's answer to each distinct question, as bytes ``(rows, questions)``."""
        missing = np.isnan(X)
        if missing.any():
            either = np.hstack([X, np.where(missing, -np.inf, X)])
            asked = either[:, self._question_read]
        else:  # the same values whichever way a missing value would go
            asked = X[:, self._question_column]
        return (asked <= self._question_threshold).view(np.uint8)

    @staticmethod
    def _cell_index(answers: np.ndarray, tables: dict) -> np.ndarray:
        """The flat index of each row's cell in each of an output's trees ``(rows, trees)``
        into its tables (``output_flat``)."""
        first, second, third = (answers[:, ask] for ask in tables["asks"])
        cell = first + 2 * second + 4 * third  # in bytes, widened once (25 % faster)
        return cell + tables["cell_offset"]

    @staticmethod
    def _cell_bytes(by_question: np.ndarray, tables: dict) -> np.ndarray:
        """Each row's cell in each of an output's trees, ``(trees, rows)`` bytes, from the
        answers question-major."""
        first, second, third = (by_question[ask] for ask in tables["asks"])
        return first + 2 * second + 4 * third


# How a feature's SHAP value is summed from the positions that split on it. It was a
# matrix product (the positions' values times a 0/1 matrix) whose last bits followed the
# BLAS kernel: on OpenBLAS they differed for the last row of a batch of odd size, so a
# lead's values depended on the rows scored with it. The sum is now written out in the
# order OpenBLAS's x86-64 (Haswell) kernel adds for the other rows -- the positions in
# tree order, in blocks cut as its driver cuts the inner dimension, each block summed from
# zero and the blocks added in turn -- so files scored before keep their bytes, and every
# row's sum is its own.
SUM_BLOCK = 256  # OpenBLAS's GEMM_Q for double precision on Haswell
SUM_UNROLL = 4  # its GEMM_UNROLL_M


def _sum_blocks(length: int) -> list[int]:
    """Where the inner dimension of ``length`` is cut: OpenBLAS ``driver/level3``."""
    cuts, start = [0], 0
    while start < length:
        size = length - start
        if size >= 2 * SUM_BLOCK:
            size = SUM_BLOCK
        elif size > SUM_BLOCK:
            size = (size // 2 + SUM_UNROLL - 1) // SUM_UNROLL * SUM_UNROLL
        start += size
        cuts.append(start)
    return cuts


def _summation_plan(positions: np.ndarray, trees: int) -> list[tuple]:
    """Per block: the positions that split, ordered by (feature, position), as the offset
    of their table row and their tree; where each feature's run starts and ends; the
    features."""
    flat = positions.ravel()
    cuts = _sum_blocks(flat.size)
    plan = []
    for start, end in zip(cuts[:-1], cuts[1:], strict=True):
        order = [p for p in range(start, end) if flat[p] >= 0]
        order.sort(key=lambda p: (flat[p], p))
        order = np.array(order, dtype=np.int64)
        if not len(order):
            continue
        tree, position = np.divmod(order, POSITIONS)
        features = flat[order]
        starts = np.flatnonzero(np.r_[True, features[1:] != features[:-1]])
        ends = np.r_[starts[1:], len(order)]
        plan.append(
            (
                ((position * trees + tree) * CELLS)[:, None],
                tree,
                list(zip(features[starts].tolist(), starts.tolist(), ends.tolist(), strict=True)),
            )
        )
    return plan


def _feature_sums(tables: dict, by_tree: np.ndarray, n_features: int) -> np.ndarray:
    """``(features, rows)``: each feature's SHAP value, summed as :func:`_summation_plan`
    orders it (``np.add.reduce`` over the first axis adds the rows in turn), from each
    row's cell in each tree ``(trees, rows)`` (:meth:`CompiledTrees._cell_bytes`)."""
    if by_tree.shape[1] == 1:  # one column would be summed pairwise, not in turn: make two
        return _feature_sums(tables, np.hstack([by_tree, by_tree]), n_features)[:, :1]
    sums = np.zeros((n_features, by_tree.shape[1]))
    for offset, tree, runs in tables["sums"]:
        index = by_tree[tree].astype(np.intp)  # widened, then offset in place: twice as
        index += offset  # fast as adding the bytes to the offsets
        gathered = np.take(tables["phi_by_position"], index)
        for feature, start, end in runs:
            sums[feature] += np.add.reduce(gathered[start:end], axis=0)
    return sums
