"""Child-process side of ``benchmarks/run.py``: one measurement per process.

    python benchmarks/_measure.py TASK ARGS.json RESULT.json

Each task runs in a fresh interpreter so that its peak memory (``ru_maxrss``) is its own,
uses only the package's public functions, and writes one JSON result. ``run.py`` starts
these processes, times them and reads their peak RSS with ``os.wait4``; nothing here is
imported by the package or the tests.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 1e6


def peak_mb() -> float:
    """Peak resident set size of this process so far (Linux: ru_maxrss is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def clock() -> float:
    return time.perf_counter()


def profile_rows(profiler, top: int = 15) -> dict:
    """The top functions by cumulative and by own time, as plain rows (``profiler``: a
    ``cProfile.Profile`` or the path of a saved profile)."""
    stats = pstats.Stats(str(profiler) if isinstance(profiler, Path) else profiler)
    rows = []
    for (path, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        short = path
        for marker in ("site-packages/", "/src/", "/lib/python"):
            if marker in path:
                short = path.split(marker, 1)[1]
                break
        label = f"{short}:{line}({name})" if line else name
        rows.append({"function": label, "ncalls": ncalls, "tottime": tottime, "cumtime": cumtime})
    total = sum(r["tottime"] for r in rows)
    by_cum = sorted(rows, key=lambda r: -r["cumtime"])[:top]
    by_own = sorted(rows, key=lambda r: -r["tottime"])[:top]
    return {"total": total, "cumulative": by_cum, "own": by_own, "all": rows}


def keyed(rows: list[dict], patterns: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Cumulative seconds of named functions: label -> the largest cumtime among the
    functions whose label contains every given substring."""
    found = {}
    for label, parts in patterns.items():
        times = [r["cumtime"] for r in rows if all(p in r["function"] for p in parts)]
        found[label] = max(times) if times else 0.0
    return found


SCORE_KEYS = {
    "score.score (all of explained scoring)": ("prospect_predictor/scoring/score.py", "(score)"),
    "contributions.feature_contributions (encode + TreeSHAP)": (
        "contributions.py",
        "(feature_contributions)",
    ),
    "TreeSHAP: prospect_predictor.explaining.fastshap (lookup tables)": (
        "fastshap.py",
        "(explain)",
    ),
    "TreeSHAP: shap TreeExplainer.shap_values": ("shap/explainers/_tree.py", "(shap_values)"),
    "ProspectModel.predict_proba (plain probabilities)": ("model.py", "(predict_proba)"),
    "decision.decide (tier, outcome explained, reason points, drivers)": ("(decide)",),
    "score.to_frame (output columns, plain words, advice)": ("(to_frame)",),
    "score.describe_drivers (per row)": ("(describe_drivers)",),
}


# --- tasks ---------------------------------------------------------------------------------


def task_prepare(args: dict) -> dict:
    """Write every generated file the run needs (so measuring processes only read)."""
    from prospect_predictor.synthetic.generate import write_history

    written = {}
    for item in args["files"]:
        start = clock()
        write_history(
            item["rows"],
            item["seed"],
            Path(item["out"]),
            Path(item["truth_out"]) if item.get("truth_out") else None,
            new_leads=item.get("new_leads", False),
            overwrite=True,
        )
        written[item["out"]] = clock() - start
    return {"seconds": written}


def task_train(args: dict) -> dict:
    """``load_history`` (read + validate) and ``train`` (checks, 5-fold CV, calibration,
    holdout, refit) on a history file, next to the bare estimator's ``fit`` on the same
    encoded matrix; then export the last model as a bundle (the same files ``prospect
    train`` exports, without MLflow)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.data.profile import data_profile
    from prospect_predictor.modeling.families import DEFAULT_PARAMS, build_pipeline
    from prospect_predictor.modeling.train import category_levels, load_history, train
    from prospect_predictor.registry.bundle import export_bundle
    from prospect_predictor.registry.records import bundle_metadata

    pipeline = load_pipeline(None)
    config = pipeline.config
    rss_start = rss_mb()
    runs, bare, ratios = [], [], []
    peak_train = 0.0
    history = result = None
    for _ in range(args["repeats"]):
        start = clock()
        history = load_history(pipeline, args["csv"])
        loaded = clock()
        result = train(pipeline, history)
        done = clock()
        peak_train = peak_mb()
        total = done - start
        runs.append(
            {
                "total": total,
                "load_validate": loaded - start,
                "steps": result.seconds,
                "processes": result.processes,
                "n_iter_final": int(result.model.pipeline[-1].n_iter_),
                "holdout_log_loss": result.holdout.metrics["log_loss"],
            }
        )
        # The reference: the bare estimator, same parameters, on the same (encoded) matrix.
        encoder = build_pipeline(
            config.model.family,
            dict(config.model.params),
            pipeline.feature_types(),
            category_levels(pipeline),
            config.model.rare_category_share,
            config.validation.seed,
        )[0]
        matrix = encoder.fit_transform(history.features)
        params = {**DEFAULT_PARAMS[config.model.family], **dict(config.model.params)}
        estimator = HistGradientBoostingClassifier(random_state=config.validation.seed, **params)
        start = clock()
        estimator.fit(matrix, history.outcomes)
        seconds = clock() - start
        bare.append({"seconds": seconds, "n_iter": int(estimator.n_iter_)})
        ratios.append(total / seconds)
        del matrix, estimator
    assert history is not None and result is not None
    metadata = bundle_metadata(pipeline, result, history)
    profile = data_profile(history.features, pipeline.feature_types())
    export_bundle(
        Path(args["export_dir"]),
        result.model,
        metadata,
        extra_files={"profile.json": json.dumps(profile, indent=1, sort_keys=True).encode()},
    )
    return {
        "rows": len(history.outcomes),
        "runs": runs,
        "bare": bare,
        "ratios": ratios,
        "rss_start_mb": rss_start,
        "peak_train_mb": peak_train,
    }


def task_score(args: dict) -> dict:
    """Explained scoring (``score.score``: probabilities, exact TreeSHAP per feature, per
    reason, top reason and drivers) with the model as scoring loads it (its scoring form)
    next to plain probabilities from the same form (``predict_proba``) on the same frame,
    repeated and interleaved; the output frame (``to_frame``:
    plain-word drivers and advice) is timed separately. Optionally a cProfile of ``score`` +
    ``to_frame``."""
    from prospect_predictor.data.leads import read_leads
    from prospect_predictor.registry.bundle import load_bundle
    from prospect_predictor.scoring.score import score, to_frame

    bundle = load_bundle(Path(args["bundle"]))
    model, metadata = bundle.model, bundle.metadata
    scorer = model
    lang = metadata.get("language", "en")
    frame = read_leads(args["csv"], metadata).frame
    features = list(metadata["features"])
    # Warm-up (first calls build caches and import shap); not timed.
    warm = frame.iloc[:200]
    model.predict_proba(warm[features])
    to_frame(score(scorer, metadata, warm), metadata, lang)

    rss_before = rss_mb()
    peak_before = peak_mb()
    plain, explained, output = [], [], []
    for i in range(args["repeats"]):
        start = clock()
        model.predict_proba(frame[features])
        plain.append(clock() - start)
        start = clock()
        scores = score(scorer, metadata, frame)
        explained.append(clock() - start)
        if i < args["frame_repeats"]:
            start = clock()
            to_frame(scores, metadata, lang)
            output.append(clock() - start)
        del scores
    peak_after = peak_mb()
    result = {
        "rows": len(frame),
        "plain": plain,
        "explained": explained,
        "to_frame": output,
        "rss_before_mb": rss_before,
        "peak_before_mb": peak_before,
        "peak_mb": peak_after,
        "shap_imported": "shap" in sys.modules,
        # every kind of form is a ScoringForm subclass (Depth2Form for the default model)
        "scoring_form": any(c.__name__ == "ScoringForm" for c in type(scorer).__mro__),
    }
    if args.get("profile"):
        profiler = cProfile.Profile()
        profiler.enable()
        scores = score(scorer, metadata, frame)
        to_frame(scores, metadata, lang)
        profiler.disable()
        rows = profile_rows(profiler)
        rows["keys"] = keyed(rows.pop("all"), SCORE_KEYS)
        rows["trees"] = sum(len(tables["positions"]) for tables in model.trees.outputs)
        rows["rows"] = len(frame)
        result["profile"] = rows
    return result


def task_file_stages(args: dict) -> dict:
    """A stage profile (time, RSS after, peak so far) of what ``prospect score FILE --out
    OUT.csv`` runs: ``jobs.run_file_scoring``, which streams the file chunk by chunk, with
    the functions it calls wrapped to time them and read the memory after each."""
    import prospect_predictor.data.leads as leads_module
    import prospect_predictor.jobs.score as jobs
    import prospect_predictor.monitoring.drift as drift_module
    import prospect_predictor.registry.bundle as bundle_module
    import prospect_predictor.scoring.score as score_module
    import prospect_predictor.scoring.writers as output

    stages: dict[str, dict] = {}

    def wrap(owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*a, **k):
            start = clock()
            value = original(*a, **k)
            entry = stages.setdefault(label, {"seconds": 0.0, "calls": 0})
            entry["seconds"] += clock() - start
            entry["calls"] += 1
            entry["rss_after_mb"] = rss_mb()
            entry["peak_so_far_mb"] = peak_mb()
            return value

        setattr(owner, name, wrapper)

    chunk = f"{leads_module.CHUNK_ROWS:,}"
    batch = f"{jobs.SCORING_CHUNK_ROWS:,}"
    wrap(bundle_module, "load_bundle", "load bundle (verify, read the scoring form)")
    wrap(leads_module.LeadStream, "_duplicate_ids", "first pass: id column (duplicates, rows)")
    wrap(leads_module, "validate_frame", f"validate, per {chunk}-row chunk")
    wrap(score_module, "score", f"score (SHAP), per {batch}-row batch")
    wrap(score_module, "to_frame", "output frame (drivers, advice), per batch")
    wrap(output.ScoresWriter, "write", "append CSV to the output file, per batch")
    wrap(drift_module, "drift_warnings", "drift check (sample of valid rows)")
    wrap(output.ScoresWriter, "finish", "move the output into place")

    rss_start = rss_mb()
    start = clock()
    report = jobs.run_file_scoring(
        Path(args["bundle"]), Path(args["csv"]), Path(args["out"]), "csv", overwrite=True
    )
    total = clock() - start
    accounted = sum(s["seconds"] for s in stages.values())
    stages["other (reading CSV chunks, rejects, sampling, ...)"] = {
        "seconds": total - accounted,
        "calls": 1,
    }
    return {
        "rows": report.scored,
        "total": total,
        "stages": stages,
        "rss_start_mb": rss_start,
        "peak_mb": peak_mb(),
    }


def task_io_reference(args: dict) -> dict:
    """The I/O floor for file-to-file scoring: pandas reads the leads CSV and writes it."""
    import pandas as pd

    times = []
    for _ in range(args["repeats"]):
        start = clock()
        frame = pd.read_csv(args["csv"], dtype=str, keep_default_na=False)
        frame.to_csv(args["out"], index=False)
        times.append(clock() - start)
    return {"seconds": times, "peak_mb": peak_mb()}


def _spearman(a, b) -> float:
    import numpy as np
    import pandas as pd

    ra = pd.Series(a).rank().to_numpy()
    rb = pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def task_quality(args: dict) -> dict:
    """Log loss against the Bayes limit and ECE on a fresh labelled test set, then the
    faithfulness of the explanations on its first rows, for each trained bundle."""
    import numpy as np
    import pandas as pd

    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.data.derived import add_derived
    from prospect_predictor.data.validate import validate_file
    from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
    from prospect_predictor.monitoring.metrics import (
        expected_calibration_error,
        multiclass_log_loss,
    )
    from prospect_predictor.registry.bundle import load_bundle
    from prospect_predictor.scoring.score import score
    from prospect_predictor.synthetic.faithfulness import UNWANTED, faithfulness

    pipeline = load_pipeline(None)
    report = validate_file(args["test_csv"], pipeline.schema, require_outcome=True)
    assert report.ok, report.lines()[:5]
    # the features the pipeline derives from the columns ([derived]), as scoring adds them
    frame = add_derived(report.frame, pipeline.derived, pipeline.schema)
    truth = pd.read_csv(args["truth_csv"])
    assert (truth["prospect_id"].to_numpy() == frame["prospect_id"].to_numpy()).all()
    y = frame["outcome"].astype(object).map(pipeline.config.outcome.labels).to_numpy(dtype=object)
    classes = list(OUTCOMES)
    true_proba = truth[[f"p_{c}" for c in classes]].to_numpy()
    true_loss_rows = -np.log(true_proba[np.arange(len(y)), pd.Index(classes).get_indexer(y)])
    bayes = float(true_loss_rows.mean())
    prior = np.array([(y == c).mean() for c in classes])
    prior_loss = float(-np.log(prior[pd.Index(classes).get_indexer(y)]).mean())
    ece_truth = expected_calibration_error(y, true_proba, classes)

    n_faith = min(args["faith_rows"], len(frame))
    sub = frame.iloc[:n_faith]
    sub_truth = truth.iloc[:n_faith]
    sub_y = y[:n_faith]
    # True contributions relative to the average prospect: centred over these test rows.
    centred = {}
    for reason in (*REASONS, CONTEXT):
        for outcome in OUTCOMES[1:]:
            column = sub_truth[f"{reason}__{outcome}"].to_numpy(dtype=float)
            centred[(reason, outcome)] = column - column.mean()

    results = {}
    for size, path in args["bundles"].items():
        bundle = load_bundle(Path(path))
        model, metadata = bundle.model, bundle.metadata
        assert list(metadata["classes"]) == classes
        proba = model.predict_proba(frame[metadata["features"]])
        loss_rows = -np.log(
            np.clip(proba[np.arange(len(y)), pd.Index(classes).get_indexer(y)], 1e-15, 1.0)
        )
        model_loss = multiclass_log_loss(y, proba, classes)
        diff = loss_rows - true_loss_rows
        entry = {
            "log_loss": model_loss,
            "bayes": bayes,
            "prior_log_loss": prior_loss,
            "gap": model_loss / bayes - 1,
            "gap_se": float(diff.std(ddof=1) / np.sqrt(len(diff)) / bayes),
            "ece": expected_calibration_error(y, proba, classes),
            "ece_truth": ece_truth,
            "test_rows": len(y),
        }

        scores = score(model, metadata, sub)
        explained = {
            (reason, outcome): scores.reasons[reason][:, scores.classes.index(outcome)]
            for reason in (*REASONS, CONTEXT)
            for outcome in OUTCOMES[1:]
            if reason in scores.reasons
        }
        # Faithfulness (synthetic/faithfulness.py): for every realised unwanted outcome, the
        # largest explained reason for that outcome against the clearly dominant true one.
        faith = {}
        true_named = {
            f"{r}__{o}": centred[(r, o)] for r in (*REASONS, CONTEXT) for o in OUTCOMES[1:]
        }
        explained_named = {f"{r}__{o}": v for (r, o), v in explained.items()}
        realised = sub_y
        true_top = {
            o: np.array(REASONS, dtype=object)[
                np.column_stack([centred[(r, o)] for r in REASONS]).argmax(axis=1)
            ]
            for o in UNWANTED
        }
        top_reason = np.asarray(scores.top_reason, dtype=object)
        for margin in args["margins"]:
            measured = faithfulness(true_named, explained_named, realised, margin)
            # What the advisor reads: the decision's top_reason (about the outcome that
            # drives the tier, named only when it matters) against the realised outcome's
            # true reason, on the same qualifying rows.
            agree, rows = 0, 0
            for o in UNWANTED:
                truth_o = np.column_stack([centred[(r, o)] for r in REASONS])
                ordered = np.sort(truth_o, axis=1)
                clear = (
                    (realised == o)
                    & (ordered[:, -1] > 0)
                    & (ordered[:, -1] - ordered[:, -2] >= margin)
                )
                agree += int((top_reason[clear] == true_top[o][clear]).sum())
                rows += int(clear.sum())
            measured["advisor_top_reason_share"] = agree / rows if rows else None
            faith[str(margin)] = measured
        # Rank correlation between true and explained contributions, over all rows.
        rank = {}
        pooled_true, pooled_product = [], []
        for (reason, outcome), values in explained.items():
            truth_values = centred[(reason, outcome)]
            constant = float(np.ptp(truth_values)) == 0.0
            rank[f"{reason}__{outcome}"] = {
                "spearman": None if constant else _spearman(truth_values, values),
                "truth_constant": constant,
                "mean_abs_explained": float(np.abs(values).mean()),
                "mean_abs_true": float(np.abs(truth_values).mean()),
            }
            if not constant:
                pooled_true.append(truth_values)
                pooled_product.append(values)
        # Where each true reason's credit lands: the features whose SHAP values (same
        # outcome column) follow the true contribution most closely, with their reason.
        credit = {}
        feature_reasons = metadata["feature_reasons"]
        for reason in REASONS:
            for outcome in OUTCOMES[1:]:
                truth_values = centred[(reason, outcome)]
                if float(np.ptp(truth_values)) == 0.0:
                    continue
                k = scores.classes.index(outcome)
                ranked = sorted(
                    (
                        (float(np.corrcoef(scores.values[:, j, k], truth_values)[0, 1]), name)
                        for j, name in enumerate(scores.features)
                        if np.ptp(scores.values[:, j, k]) > 0
                    ),
                    reverse=True,
                )[:2]
                credit[f"{reason}__{outcome}"] = [
                    {
                        "feature": name,
                        "reason": feature_reasons.get(name, ""),
                        "correlation": corr,
                        "mean_abs": float(
                            np.abs(scores.values[:, scores.features.index(name), k]).mean()
                        ),
                    }
                    for corr, name in ranked
                ]
        entry["credit"] = credit
        entry["faithfulness"] = faith
        entry["rank"] = rank
        entry["rank_pooled"] = _spearman(
            np.concatenate(pooled_true), np.concatenate(pooled_product)
        )
        entry["faith_rows"] = n_faith
        results[size] = entry
    return {"models": results}


def task_spark_scaling(args: dict) -> dict:
    """``jobs.spark_score.run_spark_scoring`` in one process, one Spark session started
    once (its start-up timed apart): each run is one (file, partitions) pair, so the fixed
    cost per partition and the cost per row can be told apart (``benchmarks/spark.py``)."""
    import shutil

    from prospect_predictor.jobs.spark_score import run_spark_scoring, spark_session

    start = clock()
    spark = spark_session(args["master"], {"spark.ui.enabled": "false"})
    spark.range(10).count()  # the JVM and one job: what every run of the CLI pays first
    session_seconds = clock() - start
    runs = []
    for run in args["runs"]:
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(run["partition_bytes"]))
        spark.conf.set("spark.sql.files.openCostInBytes", "0")
        out = Path(run["out"])
        start = clock()
        report = run_spark_scoring(args["bundle"], run["csv"], out, overwrite=True, spark=spark)
        seconds = clock() - start
        shutil.rmtree(out, ignore_errors=True)
        if run.get("warm_up"):  # the Python workers' start and first imports: not kept
            continue
        runs.append(
            {
                "rows": report.scored + report.rejected,
                "partitions": report.partitions,
                "seconds": seconds,
            }
        )
    spark.stop()
    return {"session_seconds": session_seconds, "runs": runs}


TASKS = {
    "prepare": task_prepare,
    "train": task_train,
    "score": task_score,
    "file_stages": task_file_stages,
    "io_reference": task_io_reference,
    "quality": task_quality,
    "spark_scaling": task_spark_scaling,
}


def main() -> None:
    task, args_path, out_path = sys.argv[1:4]
    args = json.loads(Path(args_path).read_text())
    result = TASKS[task](args)
    result["process_peak_mb"] = peak_mb()
    Path(out_path).write_text(json.dumps(result, default=float, indent=1))


if __name__ == "__main__":
    main()
