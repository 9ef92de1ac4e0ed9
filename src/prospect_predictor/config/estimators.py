"""Each model family's scikit-learn estimator and its default params, and the check of a
pipeline's ``[model.params]`` against the estimator's own declared constraints, so that
``max_depth = "two"`` is refused when the pipeline is loaded, naming the key and what was
expected, not after fitting. scikit-learn is imported only here, and only when a family's
estimator is built or checked (a command that never trains never pays for it)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any

from prospect_predictor.errors import ConfigError

FAMILIES = ("hgb", "hgb_default", "logistic")
ESTIMATORS = {  # family -> (module, class)
    "hgb": ("sklearn.ensemble", "HistGradientBoostingClassifier"),
    "hgb_default": ("sklearn.ensemble", "HistGradientBoostingClassifier"),
    "logistic": ("sklearn.linear_model", "LogisticRegression"),
}
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
SEEDED = ("hgb", "hgb_default")  # the families whose estimator takes the pipeline's seed


def estimator(family: str, params: Mapping[str, Any], seed: int | None = None):
    """The unfitted estimator of ``family`` with its default params and ``params`` over
    them; unknown params and bad values are :class:`ConfigError` naming the key."""
    problems = param_problems(family, params)
    if problems:
        raise ConfigError("model.params: " + "; ".join(problems))
    made = _estimator_class(family)(**{**DEFAULT_PARAMS[family], **params})
    if seed is not None and family in SEEDED and "random_state" not in params:
        made.set_params(random_state=seed)
    return made


def param_problems(family: str, params: Mapping[str, Any]) -> list[str]:
    """Every problem of ``params`` for ``family``'s estimator, one per key: unknown keys,
    and values its declared constraints refuse (``_validate_params``), each as
    ``max_depth: expected an int in the range [1, inf) or None (found: 'two')``."""
    cls = _estimator_class(family)
    known = cls().get_params()
    problems = [
        f"{key}: unknown parameter for {cls.__name__}" for key in params if key not in known
    ]
    for key, value in params.items():
        if key not in known:
            continue
        try:
            cls(**{**DEFAULT_PARAMS[family], key: value})._validate_params()
        except (ValueError, TypeError) as exc:  # sklearn's InvalidParameterError is both
            problems.append(f"{key}: {_expected(str(exc))} (found: {value!r})")
    return problems


def _expected(message: str) -> str:
    """scikit-learn's "The 'max_depth' parameter of X must be an int ... Got 'two'
    instead." as "expected an int ..."."""
    match = re.search(r"must be (.*?)\. Got .* instead\.?$", message, re.DOTALL)
    return f"expected {match[1]}" if match else message


def _estimator_class(family: str):
    if family not in ESTIMATORS:
        raise ConfigError(f"model.family: unknown family {family!r}; expected one of {FAMILIES}")
    module, name = ESTIMATORS[family]
    return getattr(importlib.import_module(module), name)
