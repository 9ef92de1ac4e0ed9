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


def keyed(rows: list[dict], patterns: dict[str, tuple[str, ...]]) -> dict[str, float | None]:
    """Cumulative seconds of named functions: label -> the largest cumtime among the
    functions whose label contains every given substring (None: no such function ran, e.g.
    it was renamed or moved; the report says "absent", never fails)."""
    found = {}
    for label, parts in patterns.items():
        times = [r["cumtime"] for r in rows if all(p in r["function"] for p in parts)]
        found[label] = max(times) if times else None
    return found


SCORE_KEYS = {
    "jobs.score.score_batch (a batch: scores + output columns)": ("(score_batch)",),
    "score.score (probabilities, SHAP, decision)": (
        "prospect_predictor/scoring/score.py",
        "(score)",
    ),
    "contributions.feature_contributions (encode + TreeSHAP)": (
        "contributions.py",
        "(feature_contributions)",
    ),
    "TreeSHAP: prospect_predictor.explaining.fastshap (lookup tables)": (
        "fastshap.py",
        "(explain)",
    ),
    "TreeSHAP: shap TreeExplainer.shap_values": ("shap/explainers/_tree.py", "(shap_values)"),
    "decision.decide (tier, outcome explained, reason points, drivers)": ("(decide)",),
    "score.batch_columns (output columns, plain words, advice)": ("(batch_columns)",),
    "score.driver_texts (drivers in plain words)": ("(driver_texts)",),
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


def scoring_steps(bundle, metadata: dict, lang: str) -> dict:
    """What part 1 times on one batch, as the product runs it: the one place to point at
    new functions when the scorer is rewritten. Each takes (frame, row numbers).

    - ``plain``: probabilities alone, from the same scoring form (``predict_proba``);
    - ``explained``: probabilities + SHAP + the decision (``scoring.score.score``);
    - ``whole``: the file scorer's own step for a batch, the explained scores and their
      output columns (``jobs.score.score_batch``)."""
    import prospect_predictor.jobs.score as jobs
    from prospect_predictor.scoring.score import score

    model = bundle.model
    features = list(metadata["features"])
    return {
        "plain": lambda frame, rows: model.predict_proba(frame[features]),
        "explained": lambda frame, rows: score(model, metadata, frame, rows),
        "whole": lambda frame, rows: jobs.score_batch(bundle, metadata, frame, rows, lang),
    }


def task_score(args: dict) -> dict:
    """Part 1 on one file of leads, cut into the batches the file scorer scores
    (``jobs.score.SCORING_CHUNK_ROWS``): plain probabilities, explained scores, and the
    whole batch with its output columns (:func:`scoring_steps`), each over every batch,
    repeated and interleaved (the order rotates); optionally a cProfile of the whole
    batches."""
    import prospect_predictor.jobs.score as jobs
    from prospect_predictor.data.leads import read_leads
    from prospect_predictor.registry.bundle import load_bundle

    bundle = load_bundle(Path(args["bundle"]))
    metadata = bundle.metadata
    lang = metadata.get("language", "en")
    leads = read_leads(args["csv"], metadata)
    frame, numbers = leads.frame, leads.rows
    size = int(getattr(jobs, "SCORING_CHUNK_ROWS", 5_000))
    batches = [
        (frame.iloc[start : start + size], numbers[start : start + size])
        for start in range(0, len(frame), size)
    ]
    steps = scoring_steps(bundle, metadata, lang)
    for step in steps.values():  # warm-up: first calls build caches; not timed
        step(*batches[0])

    rss_before = rss_mb()
    peak_before = peak_mb()
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for i in range(args["repeats"]):
        for name in names[i % 3 :] + names[: i % 3]:
            step = steps[name]
            start = clock()
            for batch, rows in batches:
                step(batch, rows)
            times[name].append(clock() - start)
    result = {
        "rows": len(frame),
        "batch_rows": size,
        "batches": len(batches),
        **times,
        "rss_before_mb": rss_before,
        "peak_before_mb": peak_before,
        "peak_mb": peak_mb(),
        "shap_imported": "shap" in sys.modules,
        # every kind of form is a ScoringForm subclass (Depth2Form for the default model)
        "scoring_form": any(c.__name__ == "ScoringForm" for c in type(bundle.model).__mro__),
    }
    if args.get("profile"):
        profiler = cProfile.Profile()
        whole = steps["whole"]
        profiler.enable()
        for batch, rows in batches:
            whole(batch, rows)
        profiler.disable()
        rows = profile_rows(profiler)
        rows["keys"] = keyed(rows.pop("all"), SCORE_KEYS)
        try:
            rows["trees"] = sum(len(t["positions"]) for t in bundle.model.trees.outputs)
        except (AttributeError, KeyError, TypeError):  # another kind of form
            rows["trees"] = None
        rows["rows"] = len(frame)
        result["profile"] = rows
    return result


# The file scorer's stages, timed by wrapping these functions where the scorer looks them
# up: (module, attribute or Class.attribute, label). Point them at new functions when the
# scorer is rewritten; one that is not found is reported as absent, one never called in
# the measuring process (e.g. run in a worker process) as not called. A stage's time
# excludes the stages it calls (each is timed apart), so the times add up; a generator's
# time is the time spent getting its items.
FILE_STAGES = (
    ("prospect_predictor.registry.bundle", "load_bundle", "load bundle (verify, read the form)"),
    ("prospect_predictor.data.leads", "LeadStream._duplicate_ids", "first pass: id column"),
    ("prospect_predictor.data.leads", "iter_table", "read CSV chunks (text cells; both passes)"),
    ("prospect_predictor.data.leads", "validate_frame", "validate, per chunk"),
    ("prospect_predictor.data.leads", "with_derived", "derived features, per chunk"),
    (
        "prospect_predictor.jobs.score",
        "scored_chunk",
        "a chunk's valid rows: drift-sample candidates, batches",
    ),
    ("prospect_predictor.scoring.score", "score", "score (SHAP, decision), per batch"),
    ("prospect_predictor.scoring.score", "batch_columns", "output columns (drivers, advice)"),
    ("prospect_predictor.scoring.writers", "encode_batch", "output text (CSV, JSON), per batch"),
    ("prospect_predictor.scoring.writers", "ScoresWriter.append", "write the output, per batch"),
    ("prospect_predictor.monitoring.drift", "RowSample.add", "drift sample, per chunk"),
    ("prospect_predictor.monitoring.drift", "drift_warnings", "drift check (sample)"),
    ("prospect_predictor.scoring.writers", "ScoresWriter.finish", "move the output into place"),
)


class StageTimer:
    """Wraps functions to time them, each stage's own time (nested stages subtracted)."""

    def __init__(self) -> None:
        self.stages: dict[str, dict] = {}
        self._nested: list[float] = []  # per open stage: time spent in stages it called

    def wrap(self, module_name: str, attribute: str, label: str) -> None:
        import importlib
        import inspect

        entry = self.stages.setdefault(label, {"seconds": 0.0, "calls": 0})
        entry["function"] = f"{module_name.rsplit('.', 1)[-1]}.{attribute}"
        try:
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
        except (ImportError, AttributeError):
            entry["absent"] = True
            return
        if isinstance(inspect.getattr_static(owner, name), staticmethod | classmethod):
            entry["absent"] = True  # not wrapped: would change how it binds
            return
        timer = self

        if inspect.isgeneratorfunction(original):

            def wrapper(*a, **k):
                return timer.items(label, original(*a, **k))
        else:

            def wrapper(*a, **k):
                return timer.timed(label, original, a, k)

        setattr(owner, name, wrapper)

    def timed(self, label: str, call, a=(), k=None):
        self._nested.append(0.0)
        start = clock()
        try:
            return call(*a, **(k or {}))
        finally:
            elapsed = clock() - start
            nested = self._nested.pop()
            if self._nested:
                self._nested[-1] += elapsed
            entry = self.stages[label]
            entry["seconds"] += elapsed - nested
            entry["calls"] += 1
            entry["rss_after_mb"] = rss_mb()
            entry["peak_so_far_mb"] = peak_mb()

    def items(self, label: str, generator):
        while True:
            try:
                item = self.timed(label, next, (generator,))
            except StopIteration:
                self.stages[label]["calls"] -= 1  # the call that found no item
                return
            yield item


def run_cli(argv: list[str]) -> None:
    """``prospect ARGV`` in this process (the console script's ``main``), as the advisor
    runs it; a non-zero exit raises."""
    from prospect_predictor.cli.main import main

    saved = sys.argv
    sys.argv = ["prospect", *argv]
    try:
        main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise RuntimeError(f"prospect {' '.join(argv)}: exit status {exc.code}") from None
    finally:
        sys.argv = saved


def file_command(args: dict) -> list[str]:
    return ["score", args["csv"], "--out", args["out"], "--model", args["bundle"], "--overwrite"]


def task_file_stages(args: dict) -> dict:
    """A stage profile (own time, RSS after, peak so far) of ``prospect score FILE --out
    OUT.csv`` run in this process, with the functions of :data:`FILE_STAGES` wrapped."""
    timer = StageTimer()
    for module_name, attribute, label in FILE_STAGES:
        timer.wrap(module_name, attribute, label)
    import prospect_predictor.cli.main  # noqa: F401  (imports before the clock starts)

    rss_start = rss_mb()
    start = clock()
    run_cli(file_command(args))
    total = clock() - start
    stages = timer.stages
    accounted = sum(s["seconds"] for s in stages.values())
    stages["other (CLI, checks, rejects, what no stage above covers)"] = {
        "seconds": total - accounted,
        "calls": 1,
    }
    return {
        "rows": args["rows"],
        "total": total,
        "stages": stages,
        "rss_start_mb": rss_start,
        "peak_mb": peak_mb(),
    }


def task_file_profile(args: dict) -> dict:
    """cProfile of ``prospect score FILE --out OUT.csv`` run in this process (functions run
    by worker processes, if any, are not seen)."""
    import contextlib
    import importlib

    # what the command imports lazily, imported first: the profile is the scorer's work
    modules = ["prospect_predictor.cli.main", "prospect_predictor.jobs.score"]
    for module_name in modules + [stage[0] for stage in FILE_STAGES]:
        with contextlib.suppress(ImportError):
            importlib.import_module(module_name)
    profiler = cProfile.Profile()
    profiler.enable()
    run_cli(file_command(args))
    profiler.disable()
    top = args.get("top", 15)
    rows = profile_rows(profiler, top=top)
    every = rows.pop("all")
    # the package's own functions by cumulative time (the CLI's wrappers above them say
    # nothing), the scorer's stages as cProfile sees them
    own = [r for r in every if r["function"].startswith("prospect_predictor/")]
    rows["package_cumulative"] = sorted(own, key=lambda r: -r["cumtime"])[:top]
    rows["rows"] = args["rows"]
    return rows


def task_read_floor(args: dict) -> dict:
    """The read half of the I/O floor: pyarrow reads the leads CSV, whole
    (``pyarrow.csv.read_csv``) or batch by batch (``pyarrow.csv.open_csv``, the streaming
    reader), types inferred, its default threads. Import time excluded."""
    import pyarrow.csv as pacsv

    start = clock()
    if args["reader"] == "whole":
        rows = pacsv.read_csv(args["csv"]).num_rows
    else:
        rows = 0
        for batch in pacsv.open_csv(args["csv"]):
            rows += batch.num_rows
    return {"seconds": clock() - start, "rows": rows, "peak_mb": peak_mb()}


def output_like(sample: str, rows: int):
    """A table of the output's shape: a real scored output (``sample``, CSV) read with its
    types (text, numbers, flags; an all-blank text column as text), repeated to ``rows``
    rows. Repeating shares the buffers, so it costs no memory to speak of."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(sample)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):  # an all-blank text column
            table = table.set_column(i, field.name, pa.array([""] * table.num_rows))
    copies = -(-rows // table.num_rows)
    return pa.concat_tables([table] * copies).slice(0, rows)


def task_write_floor(args: dict) -> dict:
    """The write half of the I/O floor: pyarrow writes a table of the output's shape
    (:func:`output_like`) as CSV (``pyarrow.csv.write_csv``) or Parquet (snappy). Only the
    write is timed."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = output_like(args["sample"], args["rows"])
    start = clock()
    if args["format"] == "csv":
        pacsv.write_csv(table, args["out"])
    else:
        pq.write_table(table, args["out"], compression="snappy")
    seconds = clock() - start
    size = Path(args["out"]).stat().st_size
    Path(args["out"]).unlink()
    return {"seconds": seconds, "rows": table.num_rows, "bytes": size, "peak_mb": peak_mb()}


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
    "file_profile": task_file_profile,
    "read_floor": task_read_floor,
    "write_floor": task_write_floor,
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
