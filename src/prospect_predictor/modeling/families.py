"""The model families: one unfitted scikit-learn Pipeline (encoding + estimator) per family.

Encoding keeps one column per feature (categories become ordinal codes, not native
categorical splits: shap's TreeExplainer mis-explains those, shap issue #3436), so
each SHAP value belongs to exactly one feature and thus to one reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from prospect_predictor.config.estimators import DEFAULT_PARAMS, FAMILIES, estimator
from prospect_predictor.model import as_float, as_object

__all__ = ["DEFAULT_PARAMS", "FAMILIES", "build_pipeline", "linear_encoder", "tree_encoder"]


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


def build_pipeline(
    family: str,
    params: Mapping[str, Any],
    feature_types: Mapping[str, str],
    categories: Mapping[str, list[str]],
    rare_share: float,
    seed: int,
) -> Pipeline:
    """The unfitted scikit-learn Pipeline for a model family; unknown params are errors
    (the estimator and its params: :mod:`prospect_predictor.config.estimators`)."""
    model = estimator(family, params, seed)
    encode = tree_encoder if family in ("hgb", "hgb_default") else linear_encoder
    return Pipeline([("encode", encode(feature_types, categories, rare_share)), ("model", model)])
