"""Training: from a validated history to a calibrated model and the evidence about it.

Pure steps (no MLflow, no bundle): load and check the history, refuse too little data or
a leaking feature, split off the newest prospects as the time-based holdout, cross-validate
on the older ones, calibrate on the out-of-fold predictions, measure on the holdout, and
refit on every row for the model that will be used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

from prospect_predictor.config.pipeline import OPEN, Pipeline
from prospect_predictor.data.derived import add_derived
from prospect_predictor.data.tableio import file_sha256, read_table
from prospect_predictor.data.validate import rejects_frame, validate_frame
from prospect_predictor.domain import OUTCOMES
from prospect_predictor.errors import InputFileError
from prospect_predictor.model import ProspectModel
from prospect_predictor.modeling.calibration import fit_temperature, softmax
from prospect_predictor.modeling.families import build_pipeline
from prospect_predictor.modeling.guards import (
    check_enough_data,
    check_leakage,
    check_missingness,
    single_feature_auc,
)
from prospect_predictor.monitoring.metrics import classification_metrics

Progress = Callable[[str], None]


@dataclass
class History:
    """A validated history: features, outcome classes, dates."""

    source: str
    features: pd.DataFrame
    outcomes: np.ndarray
    dates: pd.Series | None
    sha256: str
    warnings: list[str] = field(default_factory=list)
    rejects: pd.DataFrame | None = None  # rows set aside, as read, with row and problems
    rows_read: int = 0  # rows in the file, rejects included
    groups: np.ndarray | None = None  # validation.group_column: rows that stay together
    open_rows: int = 0  # not decided yet (a label mapped to open): not in features/outcomes
    open_as_stalled: int = 0  # open rows the open_as_stalled_after rule counted as stalled


@dataclass
class Evaluation:
    y_true: np.ndarray
    proba: np.ndarray
    features: pd.DataFrame
    metrics: dict[str, float]


@dataclass
class TrainingResult:
    model: ProspectModel
    classes: list[str]
    family: str
    params: dict
    holdout: Evaluation
    holdout_kind: str  # "time" (newest by date), "time (file order)" or "random"
    cv_metrics: dict[str, float]
    uncalibrated_holdout_metrics: dict[str, float]
    rows_per_class: dict[str, int]
    n_train: int
    single_feature_auc: dict[str, float]
    seconds: dict[str, float]
    holdout_drift: list[str] = field(default_factory=list)  # newest rows vs the older ones
    oof_logits: np.ndarray | None = None  # out-of-fold raw logits of the older rows
    processes: int = 1  # worker processes that fitted the models


def load_history(pipeline: Pipeline, path: str | Path) -> History:
    """Validate a labelled history and map its outcome labels onto the four outcomes.

    Rows with a problem (a wrong type, a value out of range, an unknown category, a
    duplicated id) are set aside with their row number and what is wrong, and training
    goes on with the others — unless they are more than ``validation.max_bad_row_share``
    of the file. A problem with the whole file (a missing column, no rows) stops it."""
    table = read_table(path)
    report = validate_frame(table.frame, pipeline.schema, str(path), require_outcome=True)
    whole_file = [p for p in report.errors if not p.rows.size]
    bad = report.bad_rows if report.bad_rows is not None else np.zeros(0, dtype=bool)
    limit = pipeline.config.validation.max_bad_row_share
    if whole_file or (bad.any() and bad.mean() > limit):
        why = (
            ""
            if whole_file
            else f"{int(bad.sum()):,} of {len(bad):,} rows ({bad.mean():.1%}) have a problem, "
            f"more than validation.max_bad_row_share ({limit:.1%}) allows to set aside:\n"
        )
        raise InputFileError(
            f"{path} cannot be used for training until these problems are fixed:\n"
            + why
            + "\n".join(report.lines())
        )
    rejects = rejects_frame(table.frame, report)
    if bad.any():
        report.frame = report.frame[~bad].reset_index(drop=True)
    frame = report.frame
    labels = frame[pipeline.outcome_column].astype(object)
    mapping = pipeline.config.outcome.labels
    outcomes = labels.map(mapping)
    unmapped = outcomes.isna().to_numpy()
    if unmapped.any():
        rows = np.flatnonzero(unmapped)[:5] + 1
        found = ", ".join(repr(v) for v in pd.unique(labels[unmapped])[:3])
        raise InputFileError(
            f"{path}: column {pipeline.outcome_column!r}: label(s) {found} have no class in the "
            f"pipeline's outcome.labels (rows {', '.join(map(str, rows))}); map each onto one "
            f"of {', '.join(OUTCOMES)}, or open"
        )
    outcomes, open_rows, called_stalled = decide_open(frame, outcomes, pipeline)
    if open_rows.any():  # not decided yet: out of training, of the holdout, of every metric
        frame = frame[~open_rows].reset_index(drop=True)
        outcomes = outcomes[~open_rows].reset_index(drop=True)
    dates = frame[pipeline.date_column] if pipeline.date_column else None
    group = pipeline.config.validation.group_column
    groups = None
    if group is not None:  # a row without a group is a group of its own
        values = frame[group].astype(object)
        alone = pd.Series([f"\0row{i}" for i in range(len(frame))], index=frame.index)
        groups = values.where(values.notna(), alone).astype(str).to_numpy(dtype=object)
    return History(
        source=str(path),
        features=add_derived(frame, pipeline.derived, pipeline.schema)[pipeline.features],
        outcomes=outcomes.to_numpy(dtype=object),
        dates=dates,
        sha256=file_sha256(path),
        warnings=[line for line in report.lines() if line.startswith("warning")],
        rejects=rejects,
        rows_read=report.n_rows,
        groups=groups,
        open_rows=int(open_rows.sum()),
        open_as_stalled=called_stalled,
    )


def decide_open(frame: pd.DataFrame, outcomes: pd.Series, pipeline: Pipeline):
    """Open rows (a label mapped to ``open``): by the optional rule
    ``outcome.open_as_stalled_after``, those without contact for that many days become
    stalled; the rest stay open. Returns the outcomes, the open rows' mask and how many
    became stalled."""
    is_open = (outcomes == OPEN).to_numpy()
    rule = pipeline.config.outcome.open_as_stalled_after
    if rule is None or not is_open.any():
        return outcomes, is_open, 0
    since = frame[rule.column]
    if pd.api.types.is_datetime64_any_dtype(since):
        days = (since.max() - since).dt.days.to_numpy(dtype=float, na_value=np.nan)
    else:
        days = pd.to_numeric(since, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    stale = is_open & (days >= rule.days)  # unknown time since contact: left open
    outcomes = outcomes.where(~stale, "stalled")
    return outcomes, is_open & ~stale, int(stale.sum())


def split_holdout(history: History, pipeline: Pipeline) -> tuple[np.ndarray, np.ndarray, str]:
    """The newest ``holdout_share`` of rows by date; a stratified random share without dates.
    With ``validation.group_column``, whole groups: by the date of their newest row (or
    their last row in file order), or drawn at random."""
    rules = pipeline.config.validation
    n = len(history.outcomes)
    n_holdout = max(int(round(n * rules.holdout_share)), 1)
    if history.groups is not None:
        return _group_holdout(history, rules, n_holdout)
    if history.dates is not None:
        order = np.argsort(history.dates.to_numpy(), kind="stable")
        return np.sort(order[: n - n_holdout]), np.sort(order[n - n_holdout :]), "time"
    if rules.rows_in_time_order:  # the file itself runs oldest -> newest
        return np.arange(n - n_holdout), np.arange(n - n_holdout, n), "time (file order)"
    train, holdout = train_test_split(
        np.arange(n), test_size=n_holdout, random_state=rules.seed, stratify=history.outcomes
    )
    return np.sort(train), np.sort(holdout), "random"


def _group_holdout(history: History, rules, n_holdout: int):
    """Whole groups into the holdout, newest first (or at random), until it holds about
    ``n_holdout`` rows: a group is never on both sides."""
    codes = pd.factorize(pd.Series(history.groups))[0]
    if history.dates is not None or rules.rows_in_time_order:
        if history.dates is not None:
            when = pd.Series(history.dates.to_numpy()).groupby(codes).max()
            kind = "time, by group"
        else:
            when = pd.Series(np.arange(len(codes))).groupby(codes).max()
            kind = "time (file order), by group"
        order = when.sort_values(kind="stable").index.to_numpy()[::-1]  # newest group first
    else:
        order = np.random.default_rng(rules.seed).permutation(codes.max() + 1)
        kind = "random, by group"
    sizes = np.bincount(codes)
    taken = np.cumsum(sizes[order])
    chosen = order[: int(np.searchsorted(taken, n_holdout)) + 1]
    first = np.isin(codes, chosen)
    return np.flatnonzero(~first), np.flatnonzero(first), kind


def fold_splits(x: pd.DataFrame, y: np.ndarray, groups: np.ndarray | None, rules):
    """Stratified k-fold, or, with groups, stratified group k-fold: every row of a group in
    the same fold."""
    if groups is None:
        folds = StratifiedKFold(rules.folds, shuffle=True, random_state=rules.seed)
        return list(folds.split(x, y))
    folds = StratifiedGroupKFold(rules.folds, shuffle=True, random_state=rules.seed)
    return list(folds.split(x, y, groups))


def holdout_drift_warnings(
    pipeline: Pipeline,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_hold: pd.DataFrame,
    y_hold: np.ndarray,
) -> list[str]:
    """How the holdout (the newest prospects) differs from the rows the model learnt from:
    the reason a time-based holdout can score worse than cross-validation."""
    from prospect_predictor.data.profile import data_profile
    from prospect_predictor.monitoring.drift import drift_report

    profile = data_profile(x_train, pipeline.feature_types())
    shares = {c: float((y_train == c).mean()) for c in pd.unique(y_train)}
    return drift_report(x_hold, profile, y_hold, shares).warnings


def category_levels(pipeline: Pipeline) -> dict[str, list[str]]:
    return {
        name: list(pipeline.schema.columns[name].categories or ())
        for name, kind in pipeline.feature_types().items()
        if kind == "category"
    }


def fit_uncalibrated(
    pipeline: Pipeline,
    family: str,
    params: dict,
    features: pd.DataFrame,
    outcomes: np.ndarray,
    classes: list[str],
) -> ProspectModel:
    estimator = build_pipeline(
        family,
        params,
        pipeline.feature_types(),
        category_levels(pipeline),
        pipeline.config.model.rare_category_share,
        pipeline.config.validation.seed,
    )
    estimator.fit(features, outcomes)
    model = ProspectModel(estimator, classes)
    if family == "logistic":  # linear SHAP needs the training means of the encoded columns
        model.encoded_mean = np.asarray(estimator[:-1].transform(features), dtype=float).mean(
            axis=0
        )
    return model


PARALLEL_MIN_ROWS = 50_000
"""Below this many rows ``processes = "auto"`` fits the models one after the other in this
process: starting worker processes (each imports scikit-learn) costs about 3 s. Measured on
the 2-core machine, generated histories, one OpenMP thread per fit, whole ``train``:
5,000 rows 2.3 s in this process vs 5.6 s with 2 new workers; 20,000 rows 8-11 s vs 8.3 s;
100,000 rows 54-57 s vs 36 s, the same models to the last bit."""


def processes_for(rows: int, setting: int | str, fits: int) -> int:
    """How many worker processes fit the models: 1 (this process) for small histories or
    ``processes = 1``; else the setting, ``"auto"`` being the usable cores, never more
    than the fits."""
    if setting == "auto":
        if rows < PARALLEL_MIN_ROWS:
            return 1
        setting = usable_cores()
    return max(1, min(int(setting), fits))


def usable_cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


Part = tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]  # fit on x, y; predict rows


def fit_and_predict(pipeline, family, params, x, y, to_predict, classes):
    """A model fitted on ``x``, ``y`` and its raw logits on ``to_predict`` (or None)."""
    model = fit_uncalibrated(pipeline, family, params, x, y, classes)
    return model, None if to_predict is None else model.logits(to_predict)


def fit_many(
    pipeline: Pipeline,
    family: str,
    params: dict,
    parts: list[Part],
    classes: list[str],
    processes: int,
    progress: Progress = lambda step: None,
) -> list[tuple[ProspectModel, np.ndarray | None]]:
    """For each part ``(x, y, to_predict)``, in the parts' order: a model fitted on ``x``,
    ``y`` and its raw logits on ``to_predict``. With several processes each part runs in
    its own worker with one OpenMP thread (threads of several fits on the same cores spin
    against each other; processes do not), largest first. Every fit is seeded: the models
    and logits are the same either way (tests hold them equal)."""
    if processes <= 1:
        done = []
        for i, (x, y, to_predict) in enumerate(parts, start=1):
            done.append(fit_and_predict(pipeline, family, params, x, y, to_predict, classes))
            progress(f"  fitted {i}/{len(parts)}")
        return done
    from joblib import Parallel, delayed, parallel_config

    order = sorted(range(len(parts)), key=lambda i: -len(parts[i][1]))
    found: list = [None] * len(parts)
    with parallel_config(backend="loky", inner_max_num_threads=1):
        results = Parallel(n_jobs=processes, return_as="generator")(
            delayed(fit_and_predict)(pipeline, family, params, *parts[i], classes) for i in order
        )
        for count, (i, result) in enumerate(zip(order, results, strict=True), start=1):
            found[i] = result
            progress(f"  fitted {count}/{len(parts)}")
    return found


def train(
    pipeline: Pipeline,
    history: History,
    family: str | None = None,
    params: dict | None = None,
    progress: Progress = lambda step: None,
) -> TrainingResult:
    """Cross-validate, calibrate, measure on the holdout, refit on all rows."""
    config = pipeline.config
    family = family or config.model.family
    if params is None:  # the config's params belong to the config's family
        params = dict(config.model.params) if family == config.model.family else {}
    seconds: dict[str, float] = {}
    current = {"name": "checks", "start": time.perf_counter()}

    def step(name: str) -> None:
        """End the current step (recording its duration) and start the next."""
        now = time.perf_counter()
        seconds[current["name"]] = now - current["start"]
        current.update(name=name, start=now)
        progress(name)

    rows_per_class = check_enough_data(history.outcomes, pipeline)
    classes = [c for c in OUTCOMES if c in rows_per_class]
    step("leakage check")
    check_missingness(history.features, history.outcomes, pipeline)
    auc = single_feature_auc(
        history.features, history.outcomes, ignore_blanks=set(config.leakage.allow_missingness)
    )
    check_leakage(auc, pipeline)

    train_rows, holdout_rows, holdout_kind = split_holdout(history, pipeline)
    x_train, y_train = history.features.iloc[train_rows], history.outcomes[train_rows]
    x_hold, y_hold = history.features.iloc[holdout_rows], history.outcomes[holdout_rows]

    groups = history.groups[train_rows] if history.groups is not None else None
    splits = fold_splits(x_train, y_train, groups, config.validation)
    parts: list[Part] = [
        (x_train.iloc[fit_rows], y_train[fit_rows], x_train.iloc[test_rows])
        for fit_rows, test_rows in splits
    ]
    parts += [(x_train, y_train, x_hold), (history.features, history.outcomes, None)]
    processes = processes_for(len(history.outcomes), config.model.processes, len(parts))
    where = "in this process" if processes == 1 else f"in {processes} processes"
    step(
        f"fitting {len(parts)} models: {len(splits)} cross-validation folds, the holdout "
        f"model, the final model ({where})"
    )
    *folds_done, (on_older, hold_logits), (final, _) = fit_many(
        pipeline, family, params, parts, classes, processes, progress
    )

    step("calibration, holdout metrics, drift")
    oof = np.zeros((len(y_train), len(classes)))
    for (_, logits), (_, test_rows) in zip(folds_done, splits, strict=True):
        oof[test_rows] = logits
    y_index = np.array([classes.index(c) for c in y_train])
    if config.model.calibration == "temperature":
        scale, bias = fit_temperature(oof, y_index)
    else:
        scale, bias = 1.0, np.zeros(len(classes))
    cv_metrics = classification_metrics(y_train, softmax(scale * oof + bias), classes)

    uncalibrated = classification_metrics(y_hold, softmax(hold_logits), classes)
    on_older.scale, on_older.bias = scale, bias
    holdout_proba = softmax(scale * hold_logits + bias)  # = on_older.predict_proba(x_hold)
    holdout = Evaluation(
        y_hold, holdout_proba, x_hold, classification_metrics(y_hold, holdout_proba, classes)
    )
    holdout_drift = holdout_drift_warnings(pipeline, x_train, y_train, x_hold, y_hold)
    final.scale, final.bias = scale, bias
    step("done")
    seconds.pop("done", None)
    return TrainingResult(
        model=final,
        classes=classes,
        family=family,
        params=params,
        holdout=holdout,
        holdout_kind=holdout_kind,
        cv_metrics=cv_metrics,
        uncalibrated_holdout_metrics=uncalibrated,
        rows_per_class=rows_per_class,
        n_train=len(train_rows),
        single_feature_auc=auc,
        seconds=seconds,
        holdout_drift=holdout_drift,
        oof_logits=oof,
        processes=processes,
    )
