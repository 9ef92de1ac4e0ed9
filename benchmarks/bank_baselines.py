#!/usr/bin/env python
"""The product against two plain baselines on the UCI Bank Marketing history, side by side.

    python benchmarks/bank_baselines.py [--data PATH] [--out benchmarks/results/bank_baselines.md]

1. Trains the product exactly as ``prospect train`` does (``train(pipeline, history)`` with
   ``pipelines/bank_marketing.toml``): its CV and holdout metrics are the product's numbers.
2. On the same split (``split_holdout``: the newest 20 % of rows are the holdout), the same
   folds (``StratifiedKFold(folds, shuffle=True, random_state=seed)`` on the older rows) and
   the same feature columns, fits two plain baselines with default parameters and no
   calibration: ``lightgbm.LGBMClassifier`` (categories as pandas "category" dtype, split
   natively) and scikit-learn's ``HistGradientBoostingClassifier`` (categories as ordinal
   codes, declared with ``categorical_features``).
3. Measures every model with the package's ``classification_metrics`` (one definition of
   ROC AUC, log loss and ECE for all), prints one table and writes it as Markdown, with one
   computed sentence per criterion (the product's ROC AUC not below the best baseline's; its
   ECE below the best baseline's) and a paired bootstrap interval of each difference.

Not part of the test suite. Needs ``pip install lightgbm`` (not a dependency of the package).
Data: S. Moro, P. Cortez, P. Rita, Decision Support Systems 62 (2014) 22-31; UCI ML
Repository id 222; CC BY 4.0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines" / "bank_marketing.toml"
DEFAULT_DATA = Path("..") / "shared" / "data" / "bank-marketing" / "bank-full.csv"
DEFAULT_OUT = Path("benchmarks") / "results" / "bank_baselines.md"
BOOTSTRAP_REPS = 1000

CITATION = (
    'S. Moro, P. Cortez, P. Rita, "A Data-Driven Approach to Predict the Success of Bank '
    'Telemarketing", Decision Support Systems 62 (2014) 22–31; UCI ML Repository id 222, '
    "CC BY 4.0."
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The product against plain LightGBM and HistGradientBoosting baselines on "
        "the UCI Bank Marketing history (same split, same folds, same features, same metrics)."
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"bank-full.csv (default: {DEFAULT_DATA} relative to the repository root)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"Markdown results file (default: {DEFAULT_OUT} relative to the repository root)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit OpenMP threads (OMP_NUM_THREADS) for every model; default: the libraries' "
        "own default (all cores). The quality numbers do not depend on it.",
    )
    return parser.parse_args(argv)


def resolve(path: Path | None, default: Path) -> Path:
    """A path given on the command line is relative to the working directory; the defaults
    are relative to the repository root."""
    return (REPO / default).resolve() if path is None else path.resolve()


# --- the environment --------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} ({usable} usable)",
        "memory": memory,
        "os": platform.platform(),
        "load": load,
    }


def git_commit() -> str:
    """The checked-out commit (read-only); uncommitted changes are not reflected."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the baselines' inputs ----------------------------------------------------------------


def baseline_frames(pipeline, features, levels):
    """The pipeline's feature columns, as a practitioner would hand them to each library.

    LightGBM: categories as pandas "category" dtype with the schema's levels (split
    natively), booleans and numbers as floats. HGB: the same, with categories replaced by
    their ordinal codes (missing -> NaN), plus the mask for ``categorical_features``.
    Unlike the product (model.py), rare categories are not pooled: these are the plain
    baselines.
    """
    import numpy as np
    import pandas as pd

    # the export's columns only: a derived feature (pipeline [derived]) is the product's
    # own feature engineering, which a plain baseline does not get
    types = {n: k for n, k in pipeline.feature_types().items() if n not in pipeline.derived}
    native = {}
    for name, kind in types.items():
        column = features[name]
        if kind in ("category", "string"):
            values = column.astype(object).where(column.notna(), None)
            native[name] = pd.Categorical(values, categories=levels[name])
        else:
            native[name] = column.astype("float64").to_numpy()
    native = pd.DataFrame(native, index=features.index)
    is_category = np.array([types[n] in ("category", "string") for n in native.columns])
    codes = native.copy()
    for name in native.columns[is_category]:
        c = native[name].cat.codes.astype("float64")
        codes[name] = c.where(c >= 0, np.nan)
    return native, codes.astype("float64"), is_category


def derived_note(pipeline) -> str:
    """Which features the product computes itself (and the baselines do not get)."""
    if not pipeline.derived:
        return ""
    names = ", ".join(
        f"`{name}` from {' and '.join(f'`{c}`' for c in spec.inputs())}"
        for name, spec in pipeline.derived.items()
    )
    columns = len(pipeline.features) - len(pipeline.derived)
    return (
        f"derived by the product (pipeline `[derived]`): {names}; the baselines get the "
        f"export's {columns} feature columns, without the derived ones; "
    )


def category_levels(pipeline, features) -> dict[str, list[str]]:
    """The schema's declared levels; a column without declared levels (type "string") gets
    the sorted values seen in the whole history."""
    levels = {}
    for name, kind in pipeline.feature_types().items():
        if kind not in ("category", "string"):
            continue
        declared = list(pipeline.schema.columns[name].categories or ())
        if not declared:
            declared = sorted(map(str, features[name].dropna().unique()))
        levels[name] = declared
    return levels


# --- fitting and measuring ------------------------------------------------------------------


def ordered_proba(model, frame, classes):
    """Predicted probabilities with columns in the product's class order."""
    import numpy as np

    fitted = list(model.classes_)
    return model.predict_proba(frame)[:, np.array([fitted.index(c) for c in classes])]


def evaluate_baseline(make, x, y_train, train_rows, holdout_rows, folds, classes):
    """Out-of-fold probabilities on the older rows (pooled), and a model fitted on all older
    rows predicting the holdout."""
    import numpy as np

    x_train, x_hold = x.iloc[train_rows], x.iloc[holdout_rows]
    oof = np.zeros((len(train_rows), len(classes)))
    for fit_rows, test_rows in folds:
        model = make().fit(x_train.iloc[fit_rows], y_train[fit_rows])
        oof[test_rows] = ordered_proba(model, x_train.iloc[test_rows], classes)
    model = make().fit(x_train, y_train)
    return oof, ordered_proba(model, x_hold, classes)


def fast_auc(hit, score):
    """ROC AUC of a boolean target (ties count one half), via ranks."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n_pos = hit.sum()
    n_neg = len(hit) - n_pos
    return (ranks[hit].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def binary_ece(hit, score):
    """The package's ECE (classwise, averaged over both classes) of a binary prediction."""
    import numpy as np

    from prospect_predictor.monitoring.metrics import expected_calibration_error

    labels = np.where(hit, "a", "b").astype(object)
    return expected_calibration_error(labels, np.column_stack([score, 1 - score]), ["a", "b"])


def paired_bootstrap(hit, score_a, score_b, statistic, seed, reps=BOOTSTRAP_REPS):
    """Paired bootstrap (the same resampled rows for both) 95 % interval of
    statistic(a) - statistic(b)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(hit)
    diffs = []
    for _ in range(reps):
        rows = rng.integers(0, n, n)
        h = hit[rows]
        if h.all() or not h.any():
            continue
        diffs.append(statistic(h, score_a[rows]) - statistic(h, score_b[rows]))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


# --- the report -----------------------------------------------------------------------------


def fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def pct(share: float, digits: int = 1) -> str:
    return f"{100 * share:.{digits}f} %"


def criteria_sentences(results, splits, intervals) -> list[str]:
    """One computed sentence per criterion and split."""
    product = results["product"]
    baselines = {k: v for k, v in results.items() if k != "product"}
    sentences = []
    for split, label in (
        ("cv", "stratified 5-fold CV on the older rows"),
        ("holdout", "time-based holdout (newest 20 %)"),
    ):
        best_name = max(baselines, key=lambda k: baselines[k][split]["roc_auc_macro"])
        best = baselines[best_name][split]["roc_auc_macro"]
        mine = product[split]["roc_auc_macro"]
        low, high = intervals[split]["roc_auc_macro"]
        verdict = "holds" if mine >= best else "does not hold"
        relation = "not worse than" if mine >= best else "worse than"
        sentences.append(
            f"- **(i) ROC AUC, {label}: {verdict}.** The product's ROC AUC {fmt(mine)} is "
            f"{relation} the best plain baseline's ({best_name}, {fmt(best)}): difference "
            f"{mine - best:+.4f}, paired bootstrap 95 % interval [{low:+.4f}, {high:+.4f}] "
            f"({BOOTSTRAP_REPS} resamples of the {splits[split]:,} rows)."
        )
    for split, label in (
        ("cv", "stratified 5-fold CV on the older rows"),
        ("holdout", "time-based holdout (newest 20 %)"),
    ):
        best_name = min(baselines, key=lambda k: baselines[k][split]["ece"])
        best = baselines[best_name][split]["ece"]
        mine = product[split]["ece"]
        low, high = intervals[split]["ece"]
        verdict = "holds" if mine < best else "does not hold"
        relation = "lower than" if mine < best else "not lower than"
        sentences.append(
            f"- **(ii) calibration, {label}: {verdict}.** The product's ECE {fmt(mine)} is "
            f"{relation} the best-calibrated plain baseline's ({best_name}, {fmt(best)}): "
            f"difference {mine - best:+.4f}, paired bootstrap 95 % interval "
            f"[{low:+.4f}, {high:+.4f}]."
        )
    return sentences


def render(info, results, names, sentences, notes) -> str:
    lines = [
        "# The product against plain baselines — UCI Bank Marketing",
        "",
        "Written by `python benchmarks/bank_baselines.py` (see `benchmarks/README.md`); do not "
        "edit by hand.",
        "",
    ]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    lines += [
        "",
        "| model | CV ROC AUC | CV log loss | CV ECE | holdout ROC AUC | holdout log loss "
        "| holdout ECE |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, metrics in results.items():
        cells = [names[key]]
        for split in ("cv", "holdout"):
            cells += [fmt(metrics[split][m]) for m in ("roc_auc_macro", "log_loss", "ece")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Criteria (computed)", "", *sentences, "", "## Notes", "", *notes, ""]
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:  # before numpy / scikit-learn / lightgbm load OpenMP
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    data = resolve(args.data, DEFAULT_DATA)
    out = resolve(args.out, DEFAULT_OUT)
    if not data.is_file():
        sys.exit(
            f"error: the Bank Marketing history was not found at {data}.\n"
            "Download bank-full.csv (UCI ML Repository, id 222, inside bank.zip) and pass "
            "--data PATH, or place it at ../shared/data/bank-marketing/bank-full.csv next to "
            "the repository."
        )
    try:
        import lightgbm
    except ImportError:
        sys.exit(
            "error: this benchmark needs LightGBM, which the package does not depend on: "
            "pip install lightgbm"
        )
    try:
        import prospect_predictor  # noqa: F401
    except ImportError:
        sys.exit(
            "error: the package is not importable: run `pip install -e .` in the repository "
            "root first."
        )
    import numpy as np
    import pandas as pd
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.modeling.calibration import softmax
    from prospect_predictor.modeling.train import load_history, split_holdout, train
    from prospect_predictor.monitoring.metrics import classification_metrics

    started = time.perf_counter()
    env = machine()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    pipeline = load_pipeline(PIPELINE)
    rules = pipeline.config.validation
    say(f"loading {data}")
    history = load_history(pipeline, data)

    # 1. the product, trained exactly as `prospect train` does
    say("training the product (train(pipeline, history))")
    t0 = time.perf_counter()
    result = train(pipeline, history, progress=lambda step: say(f"  product: {step}"))
    seconds = {"product": time.perf_counter() - t0}
    classes = result.classes

    # 2. the same split, the same folds, the same features
    train_rows, holdout_rows, holdout_kind = split_holdout(history, pipeline)
    y = history.outcomes
    y_train, y_hold = y[train_rows], y[holdout_rows]
    if not np.array_equal(result.holdout.y_true, y_hold) or result.n_train != len(train_rows):
        sys.exit("error: the product's holdout differs from split_holdout's; cannot compare.")
    folds = list(
        StratifiedKFold(rules.folds, shuffle=True, random_state=rules.seed).split(
            history.features.iloc[train_rows], y_train
        )
    )
    levels = category_levels(pipeline, history.features)
    native, codes, is_category = baseline_frames(pipeline, history.features, levels)
    seed = rules.seed
    # LightGBM's default (n_jobs=None) ignored OMP_NUM_THREADS=1 in our runs: pass it on.
    lgbm_threads = {} if args.threads is None else {"n_jobs": args.threads}
    baselines = {
        "lightgbm": (
            lambda: lightgbm.LGBMClassifier(random_state=seed, verbose=-1, **lgbm_threads),
            native,
        ),
        "hgb": (
            lambda: HistGradientBoostingClassifier(
                random_state=seed, categorical_features=is_category
            ),
            codes,
        ),
    }
    names = {
        "product": f"**product** (`{result.family}`, `pipelines/bank_marketing.toml`, calibrated)",
        "lightgbm": f"plain LightGBM (`LGBMClassifier(random_state={seed}, verbose=-1)`, "
        "native categories)",
        "hgb": f"plain HGB (`HistGradientBoostingClassifier(random_state={seed}, "
        "categorical_features=…)`, ordinal codes)",
    }
    results = {"product": {"cv": result.cv_metrics, "holdout": result.holdout.metrics}}
    scores = {}  # probability of classes[0] per split, for the paired bootstrap
    for key, (make, frame) in baselines.items():
        say(f"fitting the plain baseline {key} ({rules.folds} folds + the holdout model)")
        t0 = time.perf_counter()
        oof, hold = evaluate_baseline(
            make, frame, y_train, train_rows, holdout_rows, folds, classes
        )
        seconds[key] = time.perf_counter() - t0
        results[key] = {
            "cv": classification_metrics(y_train, oof, classes),
            "holdout": classification_metrics(y_hold, hold, classes),
        }
        scores[key] = {"cv": oof[:, 0], "holdout": hold[:, 0]}

    oof_logits = result.oof_logits  # the raw out-of-fold logits train() calibrated on
    product_oof = softmax(result.model.scale * oof_logits + result.model.bias)
    check = classification_metrics(y_train, product_oof, classes)["roc_auc_macro"]
    if abs(check - result.cv_metrics["roc_auc_macro"]) > 1e-9:
        sys.exit(
            "error: the product's out-of-fold predictions do not reproduce train()'s CV: "
            f"ROC AUC {check} vs {result.cv_metrics['roc_auc_macro']}"
        )
    scores["product"] = {"cv": product_oof[:, 0], "holdout": result.holdout.proba[:, 0]}

    baseline_keys = [k for k in results if k != "product"]
    say(f"paired bootstrap of the differences ({BOOTSTRAP_REPS} resamples per split)")
    intervals = {}
    for split, truth in (("cv", y_train), ("holdout", y_hold)):
        hit = np.asarray(truth == classes[0])
        intervals[split] = {}
        for metric, statistic, pick in (
            ("roc_auc_macro", fast_auc, max),
            ("ece", binary_ece, min),
        ):
            best = pick(baseline_keys, key=lambda k: results[k][split][metric])
            intervals[split][metric] = paired_bootstrap(
                hit, scores["product"][split], scores[best][split], statistic, seed
            )

    total = time.perf_counter() - started
    n_train, n_hold = len(train_rows), len(holdout_rows)
    yes = classes[0]
    fold_sizes = ", ".join(f"{len(test):,}" for _, test in folds)
    info = {
        "date": stamp,
        "machine": f"{env['cpu']}; {env['cores']} cores; {env['memory']} memory; {env['os']}; "
        f"load average at start {env['load']}",
        "threads": (
            f"OMP_NUM_THREADS={args.threads} (and LightGBM n_jobs={args.threads})"
            if args.threads is not None
            else "libraries' default (all cores)"
        ),
        "versions": f"Python {platform.python_version()}, numpy {np.__version__}, pandas "
        f"{pd.__version__}, scikit-learn {sklearn.__version__}, lightgbm "
        f"{lightgbm.__version__}; prospect-predictor commit {git_commit()} (working tree as "
        "run, which may include uncommitted changes)",
        "data": f"`{data.name}`, sha256 `{history.sha256}`, {len(y):,} rows "
        f"({(y == yes).sum():,} yes = {pct((y == yes).mean())})",
        "pipeline": f"`pipelines/bank_marketing.toml`, sha256 `{sha256(PIPELINE)}`; "
        f"{len(pipeline.features)} features ({', '.join(pipeline.features)}); "
        + derived_note(pipeline)
        + "`duration` excluded (leakage), `age`, `marital` protected",
        "rows per split": f"older rows (CV and the holdout models' training) {n_train:,} "
        f"({pct((y_train == yes).mean())} yes), in {rules.folds} stratified folds of "
        f"{fold_sizes} (shuffle, seed {seed}); time-based holdout ({holdout_kind}: newest "
        f"{pct(rules.holdout_share, 0)}) {n_hold:,} ({pct((y_hold == yes).mean())} yes)",
        "runs": "1 (every model is seeded and deterministic: a rerun gives the same numbers, "
        "so the median of 1 run is the number)",
        "run time": f"{total:.0f} s in all (product {seconds['product']:.0f} s including its "
        "leakage check, drift report and final refit on all rows; LightGBM "
        f"{seconds['lightgbm']:.0f} s; HGB {seconds['hgb']:.0f} s; wall-clock, not a speed "
        "benchmark)",
        "data source": CITATION,
    }
    uncal = result.uncalibrated_holdout_metrics
    notes = [
        "- ROC AUC is the AUC of `yes` (for a binary history `roc_auc_macro` is the one AUC); "
        "log loss and ECE (classwise, 10 equal-width bins, averaged over both classes) come "
        "from `prospect_predictor.monitoring.metrics.classification_metrics` for every model.",
        "- CV: out-of-fold predictions on the older rows, pooled over the folds. Holdout: a "
        "model fitted on all older rows predicts the newest 20 %.",
        "- The product's CV numbers are after its affine logit calibration, which is fitted on "
        "those same out-of-fold predictions (2 parameters, scale "
        f"{result.model.scale:.4f}); its holdout numbers use that calibration unchanged. "
        f"Before calibration its holdout ECE was {fmt(uncal['ece'])} and log loss "
        f"{fmt(uncal['log_loss'])} (ROC AUC unchanged: {fmt(uncal['roc_auc_macro'])}).",
        "- The baselines are not calibrated and use default parameters: they are the plain "
        "baselines a practitioner would write first.",
        "- Categories: the product ordinal-encodes them with the schema's levels and pools "
        f"levels rarer than {pct(pipeline.config.model.rare_category_share)} "
        "(`rare_category_share`); LightGBM splits them natively; HGB gets the ordinal codes "
        "with `categorical_features`, without pooling.",
    ]
    if result.holdout_drift:
        notes.append(
            "- How the holdout differs from the older rows (the product's drift report): "
            + "; ".join(result.holdout_drift[:4])
            + "."
        )

    sentences = criteria_sentences(results, {"cv": n_train, "holdout": n_hold}, intervals)
    text = render(info, results, names, sentences, notes)
    write_atomically(out, text)
    print()
    print(text)
    say(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
