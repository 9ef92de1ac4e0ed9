"""The model: one scikit-learn Pipeline (encoding + estimator) and its calibration.

Encoding keeps one column per feature (categories become ordinal codes, not native
categorical splits: shap's TreeExplainer mis-explains those, shap issue #3436), so
each SHAP value belongs to exactly one feature and thus to one reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from prospect_predictor.errors import ConfigError
from prospect_predictor.explaining.scoring_form import softmax  # noqa: F401 - defined without sklearn

FAMILIES = ("hgb", "hgb_default", "logistic")


# The Pipeline's FunctionTransformers pickle these by name (prospect_predictor.model.as_float):
# they stay here so that bundles unpickle with every version of the package.
def as_float(frame: pd.DataFrame) -> np.ndarray:
    """Booleans (nullable) and numbers as floats; missing becomes NaN."""
    return frame.astype("float64").to_numpy()


def as_object(frame: pd.DataFrame) -> np.ndarray:
    """Categories as Python objects with NaN for missing, as scikit-learn's encoders expect."""
    return frame.astype(object).where(frame.notna(), np.nan).to_numpy()


def _split_types(feature_types: Mapping[str, str]) -> tuple[list[str], list[str]]:
    categorical = [n for n, t in feature_types.items() if t in ("category", "string")]
    numeric = [n for n in feature_types if n not in categorical]
    return numeric, categorical


def tree_encoder(
    feature_types: Mapping[str, str], categories: Mapping[str, list[str]], rare_share: float
) -> ColumnTransformer:
    """Numbers and booleans as floats (NaN kept: the trees route missing values), categories
    as ordinal codes; rare categories share one code, unseen ones become missing."""
    numeric, categorical = _split_types(feature_types)
    parts = [("numbers", FunctionTransformer(as_float, feature_names_out="one-to-one"), numeric)]
    if categorical:
        encoder = OrdinalEncoder(
            categories=[list(categories[c]) for c in categorical],
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            min_frequency=rare_share if rare_share > 0 else None,
        )
        parts.append(
            (
                "categories",
                make_pipeline(
                    FunctionTransformer(as_object, feature_names_out="one-to-one"), encoder
                ),
                categorical,
            )
        )
    return ColumnTransformer(parts, verbose_feature_names_out=False)


def linear_encoder(
    feature_types: Mapping[str, str], categories: Mapping[str, list[str]], rare_share: float
) -> ColumnTransformer:
    """Scaled numbers with missing indicators, one-hot categories: the baseline's input."""
    numeric, categorical = _split_types(feature_types)
    parts = [
        (
            "numbers",
            make_pipeline(
                FunctionTransformer(as_float, feature_names_out="one-to-one"),
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler(),
            ),
            numeric,
        )
    ]
    if categorical:
        parts.append(
            (
                "categories",
                make_pipeline(
                    FunctionTransformer(as_object, feature_names_out="one-to-one"),
                    SimpleImputer(
                        strategy="constant", fill_value="(missing)", missing_values=np.nan
                    ),
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        min_frequency=rare_share if rare_share > 0 else None,
                        sparse_output=False,
                    ),
                ),
                categorical,
            )
        )
    return ColumnTransformer(parts, verbose_feature_names_out=False)


DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "hgb": {
        "max_depth": 2,
        "learning_rate": 0.1,
        "max_iter": 500,
        "early_stopping": True,
        "validation_fraction": 0.1,
        "n_iter_no_change": 20,
        "l2_regularization": 1.0,
    },
    "hgb_default": {},
    "logistic": {"C": 1.0, "max_iter": 2000},
}


def build_pipeline(
    family: str,
    params: Mapping[str, Any],
    feature_types: Mapping[str, str],
    categories: Mapping[str, list[str]],
    rare_share: float,
    seed: int,
) -> Pipeline:
    """The unfitted scikit-learn Pipeline for a model family; unknown params are errors."""
    if family in ("hgb", "hgb_default"):
        estimator = HistGradientBoostingClassifier(random_state=seed)
        encoder = tree_encoder(feature_types, categories, rare_share)
    elif family == "logistic":
        estimator = LogisticRegression()
        encoder = linear_encoder(feature_types, categories, rare_share)
    else:
        raise ConfigError(f"model.family: unknown family {family!r}; expected one of {FAMILIES}")
    merged = {**DEFAULT_PARAMS[family], **params}
    known = estimator.get_params()
    unknown = sorted(set(merged) - set(known))
    if unknown:
        raise ConfigError(
            f"model.params: unknown parameter(s) {', '.join(unknown)} "
            f"for {type(estimator).__name__}"
        )
    try:
        estimator.set_params(**merged)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"model.params: {exc}") from None
    return Pipeline([("encode", encoder), ("model", estimator)])


def raw_logits(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The estimator's raw scores as one column per class (in ``classes_`` order).

    A binary model's single score s is the logit of its second class: as a softmax input
    that is the pair (0, s).
    """
    scores = pipeline.decision_function(frame)
    if scores.ndim == 1:
        return np.column_stack([np.zeros_like(scores), scores])
    return scores


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> tuple[float, np.ndarray]:
    """Scale ``a`` and per-class bias ``b`` minimising the log loss of softmax(a·logits + b).

    An affine map of the logits keeps SHAP values additive (each is multiplied by ``a``)
    while correcting over- or under-confidence and the class-prior shift of class weights.
    """
    from scipy.optimize import minimize

    k = logits.shape[1]
    rows = np.arange(len(y_index))

    def loss(theta: np.ndarray) -> float:
        z = theta[0] * logits + np.concatenate([[0.0], theta[1:]])
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[rows, y_index] - np.log(np.exp(z).sum(axis=1))).mean())

    result = minimize(
        loss,
        np.concatenate([[1.0], np.zeros(k - 1)]),
        method="L-BFGS-B",
        bounds=[(0.05, 20.0)] + [(-10.0, 10.0)] * (k - 1),
    )
    return float(result.x[0]), np.concatenate([[0.0], result.x[1:]])


class ProspectModel(BaseEstimator, ClassifierMixin):
    """A fitted Pipeline plus its calibration, with classes in the product's outcome order.

    ``predict_proba`` = softmax(scale · raw logits + bias), columns in ``classes_`` order
    (a subset of win_win, win_lose, stalled, declined, in that order).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        classes: list[str],
        scale: float = 1.0,
        bias: np.ndarray | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.classes = classes
        self.scale = scale
        self.bias = bias

    @property
    def classes_(self) -> np.ndarray:
        return np.array(self.classes, dtype=object)

    @property
    def feature_names(self) -> list[str]:
        return list(self.pipeline.feature_names_in_)

    def _order(self) -> np.ndarray:
        fitted = list(self.pipeline.classes_)
        return np.array([fitted.index(c) for c in self.classes])

    def fit(self, X, y):  # noqa: N803 - scikit-learn's signature
        raise NotImplementedError("ProspectModel wraps a fitted pipeline; see train.fit_model")

    def logits(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated logits, one column per class in ``classes`` order."""
        raw = raw_logits(self.pipeline, frame)[:, self._order()]
        bias = np.zeros(raw.shape[1]) if self.bias is None else self.bias
        return self.scale * raw + bias

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return softmax(self.logits(frame))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(frame).argmax(axis=1)]
