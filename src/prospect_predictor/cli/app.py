"""The `prospect` command line: parses arguments, calls the library, renders results.

Heavy libraries (pandas, scikit-learn, shap, mlflow) are imported inside the commands
that use them, so that `prospect --help` starts fast.

Its length (about 990 lines) is one cohesive thing: the commands, each a parameter list,
its --help and a few lines of calling a job and rendering.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from prospect_predictor import __version__
from prospect_predictor.cli import render
from prospect_predictor.cli.process import pause_gc_for_one_lead
from prospect_predictor.errors import ProspectError

app = typer.Typer(
    name="prospect",
    help=(
        "Predict how a relationship with a prospect will turn out — win_win, win_lose, "
        "stalled or declined — and why, in terms of the four reasons to part ways with a "
        "prospect: poor_fit, difficult_expectations, product_mismatch, strung_along.\n\n"
        "Start with `prospect demo`. Every command has its own --help."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"prospect-predictor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Root options."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="File to write: .csv or .parquet.")],
    rows: Annotated[int, typer.Option("--rows", min=1, help="Number of prospects.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 7,
    truth_out: Annotated[
        Path | None,
        typer.Option(
            "--truth-out",
            help="Also write the true outcome probabilities and each "
            "reason's true contribution to each outcome's logit to this separate file.",
        ),
    ] = None,
    new_leads: Annotated[
        bool,
        typer.Option(
            "--new-leads",
            help="Write prospects to score: later dates, ids "
            "starting with L, and no outcome column.",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an existing --out or --truth-out file with other contents.",
        ),
    ] = False,
    french_crm: Annotated[
        bool,
        typer.Option(
            "--french-crm",
            help="Write the same prospects as a French CRM exports them, to practise on: "
            "semicolons, decimal commas, '2 237 000 €', dates day first, oui/non, French "
            "outcome labels, a form's placeholder, several spellings, open deals, a few bad "
            "cells (docs/bring-your-own-data.md).",
        ),
    ] = False,
) -> None:
    """Write a synthetic history of prospects drawn from a documented causal model.

    The columns are those of a wealth-management firm's CRM export; the outcome
    (win_win, win_lose, stalled, declined) is drawn from four latent reason drivers
    computed from those columns. data/README.md documents the firm, the columns and
    the equations.

    \b
    Example:
      prospect generate --rows 20000 --seed 7 --out history.csv --truth-out truth.csv
    """
    from prospect_predictor.synthetic.generate import write_history

    status = write_history(rows, seed, out, truth_out, new_leads, overwrite, french_crm)
    console = render.console()
    kind = "new leads" if new_leads else "prospects with their outcome"
    console.print(f"{rows:,} {kind}, seed {seed}:")
    for path, state in status.items():
        console.print(f"  {path}: {state}")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="CSV (comma or semicolon) or Parquet file.")],
    leads: Annotated[
        bool,
        typer.Option(
            "--leads", help="The file holds new leads to score: no outcome column is expected."
        ),
    ] = False,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema", help="Built-in schema name or path to a schema TOML. Default: prospects."
        ),
    ] = None,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline",
            help="Validate against this pipeline's schema (inline or referenced), e.g. one "
            "just drafted by init-pipeline.",
        ),
    ] = None,
) -> None:
    """Check a file against the schema and report every problem at once.

    Each problem names the file, the column, the first rows where it occurs (row 1 is
    the first row after the header), what was expected and what was found. Exits with
    status 1 when there is an error; warnings (e.g. an extra column, which is ignored)
    do not fail.

    \b
    Examples:
      prospect validate data/demo/leads_1000_seed7.csv --leads
      prospect validate export.csv --pipeline pipelines/firm.toml
    """
    from prospect_predictor.config.schema import load_schema
    from prospect_predictor.data.leads import CHUNK_ROWS
    from prospect_predictor.data.validate import check_file

    if schema is not None and pipeline is not None:
        raise typer.BadParameter("give --schema or --pipeline, not both", param_hint="'--pipeline'")
    if pipeline is not None:
        from prospect_predictor.config.pipeline import pipeline_schema

        checked = pipeline_schema(pipeline)
    else:
        checked = load_schema(schema or "prospects")
    optional = frozenset()
    if leads:  # what leads may leave out, as scoring says (docs/scoring.md)
        from prospect_predictor.data.leads import optional_when_scoring, pipeline_inputs

        inputs = pipeline_inputs(pipeline) if pipeline is not None else None
        optional = optional_when_scoring(checked, inputs)
    # read a chunk at a time (memory does not grow with the file); leads are judged as
    # scoring judges them: a category the schema does not list is scored as unknown,
    # with a warning (a history's unlisted category is an error)
    report = check_file(
        file,
        checked,
        CHUNK_ROWS,
        require_outcome=not leads,
        optional=optional,
        unseen="unknown" if leads else "error",
    )
    console = render.console(stderr=False)
    for line in report.lines():
        console.print(line, markup=False)
    kind = "leads" if leads else "prospects"
    summary = (
        f"{file}: {report.n_rows:,} {kind}, {len(report.errors)} error(s), "
        f"{len(report.warnings)} warning(s)"
    )
    if not report.ok:
        bad = int(report.bad_rows.sum()) if report.bad_rows is not None else 0
        console.print(f"{summary}; {bad:,} row(s) with a row-level error — not valid", markup=False)
        raise typer.Exit(1)
    console.print(f"{summary} — valid", markup=False)


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", help="Labelled history: CSV or Parquet.")],
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline",
            help="Pipeline TOML. Default: pipelines/prospects.toml in the "
            "working directory, else the one shipped with the package.",
        ),
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            "--family", help="Override the pipeline's model family: hgb, hgb_default or logistic."
        ),
    ] = None,
) -> None:
    """Learn from a history how prospects turned out; record the run in MLflow.

    Validates the history against the pipeline's schema, refuses too little data or a
    leaking feature, cross-validates on the older prospects, measures on the newest
    (time-based holdout), calibrates, and refits on every row. The run (params, metrics,
    charts, the model) goes to MLflow (experiments/mlflow.db unless MLFLOW_TRACKING_URI
    is set); the model is registered under the pipeline's name, and the first version
    becomes champion and is exported to models/NAME/ for scoring.

    \b
    Example:
      prospect train --data data/demo/prospects_20000_seed7.csv
    """
    from prospect_predictor.jobs.train import run_training

    report = run_training(data, pipeline, family, progress=render.progress_printer())
    render.print_training_summary(report)


@app.command()
def compare(
    data: Annotated[Path, typer.Option("--data", help="Labelled history: CSV or Parquet.")],
    pipeline: Annotated[
        Path | None, typer.Option("--pipeline", help="Pipeline TOML (default as for train).")
    ] = None,
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            help="A family to compare (repeat the option): hgb, "
            "hgb_default, logistic. Default: the pipeline's family and its "
            "model.compare_with list.",
        ),
    ] = None,
) -> None:
    """Compare model families on the same folds and the same holdout.

    Each family is trained exactly as `prospect train` would (same cross-validation folds,
    same time-based holdout, same calibration) and recorded as one run of the MLflow
    experiment NAME-comparison. Nothing is registered or exported: choose the family in
    the pipeline's [model] section from this evidence.

    \b
    Example:
      prospect compare --data data/demo/prospects_20000_seed7.csv --family hgb --family logistic
    """
    from rich.table import Table

    from prospect_predictor.jobs.compare import run_comparison

    config, candidates = run_comparison(data, pipeline, family, progress=render.progress_printer())
    table = Table(
        title=f"{config.name}: model families on the same folds and holdout", title_justify="left"
    )
    for column in (
        "family",
        "cv log_loss",
        "holdout log_loss",
        "holdout roc_auc_macro",
        "holdout ece",
        "uncalibrated ece",
        "seconds",
        "MLflow run",
    ):
        table.add_column(column, justify="left" if column in ("family", "MLflow run") else "right")
    for c in candidates:
        m = c.result.holdout.metrics
        table.add_row(
            c.family,
            f"{c.result.cv_metrics['log_loss']:.4f}",
            f"{m['log_loss']:.4f}",
            f"{m.get('roc_auc_macro', float('nan')):.4f}",
            f"{m['ece']:.4f}",
            f"{c.result.uncalibrated_holdout_metrics['ece']:.4f}",
            f"{sum(c.result.seconds.values()):.1f}",
            c.run_id,
        )
    render.console(stderr=False).print(table)


ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="Model bundle folder. Default: models/prospects/."),
]
Language = Literal["en", "fr"]  # = language.texts.LANGUAGES (not imported: --help stays light)
Format = Literal["table", "csv", "json", "jsonl", "parquet"]  # = scoring.writers.FORMATS
LangOption = Annotated[
    Language | None,
    typer.Option(
        "--lang",
        help="Language of texts: en or fr. Default: the "
        "pipeline's language, recorded in the bundle.",
    ),
]
LeadOption = Annotated[
    str | None,
    typer.Option(
        "--lead",
        help='One prospect as JSON, e.g. \'{"postponements": 3, '
        '"expected_return_pct": 15}\'; @FILE reads the JSON from a file, - from standard '
        "input. Fields left out, null or NaN are unknown (and listed); a field given twice "
        "is refused.",
    ),
]


@app.command()
def score(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Leads to score: CSV (comma or semicolon) or Parquet; - reads standard input."
        ),
    ] = None,
    lead: LeadOption = None,
    model: ModelOption = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            help="table, csv, json (one array), jsonl (one object per line) or parquet. "
            "Default: from the extension of --out; else table when stdout is a terminal, "
            "csv when it is piped or redirected.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    lang: LangOption = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an existing --out file, and the rejects file, with other contents "
            "(never the input).",
        ),
    ] = False,
    engine: Annotated[
        Literal["local", "spark"],
        typer.Option(
            "--engine",
            help="local (this process, streamed) or spark: a FILE scored by Spark with the "
            "same code, to --out OUT.parquet, a folder of Parquet files (needs the [spark] "
            "extra; docs/scale.md).",
        ),
    ] = "local",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="With --engine spark: the master URL (local[4], spark://host:7077, yarn, "
            "k8s://…). Default: spark.master from spark-submit or spark-defaults.conf, else "
            "local[*].",
        ),
    ] = None,
) -> None:
    """Score leads: each outcome's probability, a recommendation, the top reason and advice.

    Recommendation: walk_away, qualify (worth one more meeting to find out) or pursue,
    from each outcome's odds against its usual odds in the training history; the top
    reason is the one adding the most to the unwanted outcome behind it, named from 5
    points, with advice that fits the recommendation (docs/scoring.md). Contributions are
    SHAP values in log-odds against win_win, summed per reason. A file is validated like
    training data: bad rows are reported and written to a rejects file next to the output
    (or the input, when writing to stdout) and the good rows are still scored. Data goes to
    stdout, messages to stderr.

    \b
    Examples:
      prospect score data/demo/leads_1000_seed7.csv --out scored.csv
      prospect score --lead '{"postponements": 4}' --lang fr
    """
    pause_gc_for_one_lead(lead)
    if engine == "spark" or spark_master is not None:
        return _score_with_spark(file, lead, model, fmt, out, lang, overwrite, engine, spark_master)
    from prospect_predictor.scoring.rows import FORMATS

    if (file is None) == (lead is None):
        raise ProspectError("give either a FILE of leads or --lead JSON (one of the two)")
    from_stdin = file is not None and str(file) == "-"
    if from_stdin:  # read like a file; its rejects are listed, not written next to it
        import tempfile

        from prospect_predictor.data.tableio import spool_stdin

        spooled = tempfile.TemporaryDirectory(prefix="prospect-stdin-")
        file = spool_stdin(Path(spooled.name))
    if fmt is None and out is not None:
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in FORMATS or fmt == "table":
            raise typer.BadParameter(
                f"cannot tell the format from {out.name!r}: give --format "
                f"({', '.join(f for f in FORMATS if f != 'table')}) or end the name with one",
                param_hint="'--out'",
            )
    fmt = fmt or ("table" if sys.stdout.isatty() else "csv")
    if fmt == "table" and out is not None:
        raise ProspectError("--out needs --format csv, json, jsonl or parquet")
    if fmt == "parquet" and out is None:
        raise ProspectError("--format parquet needs --out FILE (Parquet is not for a terminal)")
    lead_read = None
    if lead is not None and out is None:  # one lead to the terminal or stdout: no pandas
        lead_read = _score_one_lead(lead, model, fmt, lang)
        if lead_read is None:
            return
    from prospect_predictor.jobs.score import run_file_scoring, run_scoring
    from prospect_predictor.scoring.writers import write_scores

    if out is not None:  # before any work: not a folder, not a file this command reads
        from prospect_predictor.data.leads import lead_file
        from prospect_predictor.data.tableio import check_output

        check_output(out, [file, lead_file(lead)])

    console = render.console()
    if file is not None:
        # a file to a file, to stdout or to the table: streamed, in bounded memory (stdout
        # gets the bytes the file would hold, once every row is scored; the table, the
        # first rows); rejects go next to the output, else next to the input, and leads
        # from standard input only list theirs

        def before_output(report) -> None:
            render.print_notices(report.notices)
            render.print_drift(report.drift_warnings, "these leads")
            render.print_rejects(
                console, report.rejected, report.rejects_path, report.first_rejects
            )

        streamed = run_file_scoring(
            model,
            file,
            out,
            fmt,
            lang,
            overwrite,
            progress=render.count_progress("scoring"),
            before_output=before_output,
            rejects_next_to=None if out is not None or from_stdin else file,
        )
        if fmt == "table":
            render.print_table(streamed.shown, streamed.scored, streamed.lang, streamed.metadata)
        elif out is not None:
            console.print(f"{streamed.scored:,} prospect(s) scored, written to {out}", markup=False)
        return

    # one lead (--lead), held in memory: to --out, or what the path without pandas
    # handed back (a value only pandas' validation can judge)
    report = run_scoring(
        model,
        None,
        lead,
        lang,
        progress=render.count_progress("scoring"),
        rejects_next_to=out,
        overwrite=overwrite,
        lead_read=lead_read,
    )
    render.print_notices(report.notices)
    render.print_unknown_fields(report.leads.unknown_fields, report.lang)
    if fmt == "table":
        render.print_table(report.frame, len(report.frame), report.lang, report.metadata)
        return
    text = write_scores(report.frame, fmt, out, report.records, overwrite)
    if text is not None:
        sys.stdout.write(text)
    else:
        console.print(f"{len(report.frame):,} prospect(s) scored, written to {out}", markup=False)


def _score_one_lead(lead: str, model, fmt: str, lang) -> tuple[str, str] | None:
    """``prospect score --lead JSON`` to the terminal or stdout without pandas
    (:mod:`prospect_predictor.jobs.score_lead`), printing what the frame's path prints; or
    the JSON read and its name, when a value needs that path's validation."""
    from prospect_predictor.jobs.score_lead import run_one_lead

    report = run_one_lead(model, lead, lang)
    if isinstance(report, tuple):  # a value needs the frame's validation
        return report
    if not render.print_one_lead(report, fmt):  # a carriage return in a CSV cell
        return report.lead
    return None


def _score_with_spark(file, lead, model, fmt, out, lang, overwrite, engine, master) -> None:
    """``prospect score FILE --engine spark --out OUT.parquet``: scored by Spark."""
    if engine != "spark":
        raise ProspectError("--spark-master needs --engine spark")
    if file is None or lead is not None or str(file) == "-" or out is None:
        raise ProspectError("--engine spark scores a FILE (not --lead, not -) to --out OUT.parquet")
    if (fmt or Path(out).suffix.lower().lstrip(".")) != "parquet":
        raise ProspectError("--engine spark writes Parquet: --out OUT.parquet (a folder of parts)")
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise ProspectError("--engine spark needs PySpark: pip install 'prospect-predictor[spark]'")
    from prospect_predictor.jobs.spark_score import run_spark_scoring

    console = render.console()

    def before_output(report) -> None:
        render.print_notices(report.notices)
        render.print_drift(report.drift_warnings, "these leads")
        render.print_rejects(console, report.rejected, report.rejects_path, report.first_rejects)

    report = run_spark_scoring(
        model, file, out, lang, overwrite, master, before_output=before_output
    )
    console.print(
        f"{report.scored:,} prospect(s) scored by Spark ({report.master}, "
        f"{report.partitions} partition(s)), written to {report.out}",
        markup=False,
    )


@app.command()
def explain(
    prospect_id: Annotated[
        str | None, typer.Argument(help="The prospect's id in --input (not needed with --lead).")
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="The file holding the prospect.")
    ] = None,
    lead: LeadOption = None,
    model: ModelOption = None,
    lang: LangOption = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Save a waterfall chart (PNG) of the main bad "
            "outcome, features grouped by reason.",
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace an existing --plot file with other contents."),
    ] = False,
) -> None:
    """The full picture for one prospect: every reason's signed contribution to every
    outcome, every feature's value and contribution, the top reason and the advice.

    Contributions are SHAP values in log-odds against win_win; the average prospect's
    value plus all contributions equals the prospect's value.

    \b
    Example:
      prospect explain L000042 --input data/demo/leads_1000_seed7.csv --plot L000042.png
    """
    pause_gc_for_one_lead(lead)
    if lead is None and (prospect_id is None or input_file is None):
        raise ProspectError("give PROSPECT_ID with --input FILE, or --lead JSON")
    if lead is not None and input_file is not None:
        raise ProspectError("give either --input FILE (with PROSPECT_ID) or --lead, not both")
    if plot is not None:  # before any work: not a folder, not a file this command reads
        from prospect_predictor.data.leads import lead_file
        from prospect_predictor.data.tableio import check_output

        check_output(plot, [input_file, lead_file(lead)], "--plot")
    lead_read = None
    if lead is not None and plot is None:  # one lead, no chart: without pandas
        from prospect_predictor.jobs.score_lead import run_one_lead
        from prospect_predictor.reporting.explain_view import render_prospect

        one = run_one_lead(model, lead, lang)
        if not isinstance(one, tuple):
            render.print_notices(one.notices)
            render_prospect(one.scores, one.row, one.metadata, one.lang, render.console(False))
            render.print_unknown_fields(one.unknown_fields, one.lang)
            return
        lead_read = one
    from prospect_predictor.jobs.score import run_scoring
    from prospect_predictor.reporting.explain_view import render_explanation, waterfall

    report = run_scoring(
        model,
        input_file,
        lead,
        lang,
        only_id=None if lead is not None else prospect_id,
        lead_read=lead_read,
    )
    render.print_notices(report.notices)
    render_explanation(report, render.console(stderr=False))
    render.print_unknown_fields(report.leads.unknown_fields, report.lang)
    if plot is not None:
        state = waterfall(report, plot, overwrite)
        render.console().print(f"chart {plot}: {state}", markup=False)


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option("--data", help="Labelled prospects: CSV or Parquet.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="champion (the exported bundle, default), a registered "
            "VERSION number, or a bundle folder.",
        ),
    ] = None,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline",
            help="Pipeline TOML: names the model in "
            "MLflow and its bundle folder (default as for train).",
        ),
    ] = None,
) -> None:
    """Measure a model on labelled prospects and log an evaluation run in MLflow.

    Reports log_loss, brier, roc_auc_macro, balanced_accuracy, ece and per-class ROC/PR
    AUC, with a confusion matrix, calibration curves and the four reasons' global
    importance as artifacts, linked to the model version evaluated. Warns when the file
    drifts from the model's training data.

    \b
    Example:
      prospect evaluate --data labelled.csv --model champion
    """
    from rich.table import Table

    from prospect_predictor.jobs.evaluate import run_evaluation

    report = run_evaluation(data, model, pipeline, progress=render.progress_printer())
    render.print_drift(report.drift_warnings, "these prospects")
    grid = Table(
        title=f"{report.model_label} (model version {report.model_version or '?'}) on "
        f"{report.rows:,} prospects",
        title_justify="left",
    )
    grid.add_column("metric")
    grid.add_column("value", justify="right")
    for name in (
        *render.KEY_METRICS,
        *[f"roc_auc_{c}" for c in report.classes],
        *[f"pr_auc_{c}" for c in report.classes],
        *[f"recall_{c}" for c in report.classes],
    ):
        if name in report.metrics:
            grid.add_row(name, f"{report.metrics[name]:.4f}")
    console = render.console(stderr=False)
    console.print(grid)
    importance = ", ".join(
        f"{reason} {max(v.values()):.2f}" if v else f"{reason} (no data)"
        for reason, v in report.reason_importance.items()
    )
    console.print(
        "Reasons' global importance (max mean |log-odds against "
        f"{report.classes[0]}| over outcomes): {importance}",
        markup=False,
    )
    console.print(f"MLflow evaluation run {report.run_id}", markup=False)


@app.command()
def retrain(
    data: Annotated[Path, typer.Option("--data", help="The new labelled history.")],
    pipeline: Annotated[
        Path | None, typer.Option("--pipeline", help="Pipeline TOML (default as for train).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if the gate refuses (needs --reason).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why --force was used; recorded in the run.")
    ] = None,
) -> None:
    """Train a challenger and promote it only if it passes the promotion gate.

    The challenger and the current champion are measured on the same holdout (the newest
    prospects of the new history). The challenger replaces the champion (the champion
    alias moves, a fresh bundle is exported atomically) only when its log loss is not
    worse than the champion's by more than promotion.max_log_loss_increase, no outcome's
    ROC AUC falls by more than promotion.max_roc_auc_drop, and its macro ROC AUC reaches
    promotion.min_roc_auc_macro. Otherwise the champion stays and the failing rules are
    shown with both numbers. With no champion
    yet, the first model is promoted. Drift against the champion's training data is
    reported and logged.

    \b
    Example:
      prospect retrain --data new_history.csv
    """
    from prospect_predictor.jobs.retrain import run_retrain

    report = run_retrain(data, pipeline, force, reason, progress=render.progress_printer())
    render.print_drift(report.drift_warnings, "the new history")
    if report.champion_source not in (None, "registry"):
        render.console().print(
            f"note: the registry has no champion; compared with the bundle in "
            f"{report.champion_source}",
            markup=False,
        )
    render.print_training_summary(report.training)
    console = render.console(stderr=False)
    if report.gate is not None:
        console.print("Promotion gate (same holdout for both):", markup=False)
        for rule in report.gate.rules:
            console.print(f"  {rule.sentence()}", markup=False)
    if report.promoted:
        how = (
            f"forced: {reason}"
            if report.forced and report.gate is not None and (not report.gate.passed)
            else ("first model" if report.gate is None else "gate passed")
        )
        console.print(
            f"Promoted ({how}): version {report.training.model_version} is champion "
            f"(was {report.previous_version or 'none'}).",
            markup=False,
        )
    else:
        failed = "; ".join(rule.sentence() for rule in report.gate.failed)
        console.print(
            f"Not promoted: the champion stays version {report.previous_version}. {failed}",
            markup=False,
        )


runs_app = typer.Typer(
    help="Review recent training and evaluation runs.\n\n\b\nExamples:\n  prospect runs\n"
    "  prospect runs compare RUN_A RUN_B",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(runs_app, name="runs")


@runs_app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline", help="Only this pipeline's runs. Default: every pipeline's runs."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs.")] = 20,
) -> None:
    """List recent training, retraining, comparison and evaluation runs, newest first,
    with their key metrics side by side. `prospect runs compare RUN_A RUN_B` shows what
    differs between two runs.

    \b
    Examples:
      prospect runs
      prospect runs compare RUN_A RUN_B
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from prospect_predictor.jobs.runs import RUN_COLUMNS, list_runs

    frame = list_runs(pipeline, limit)
    console = render.console(stderr=False)
    if frame.empty:
        console.print(
            "No runs yet: train a model with prospect train (or prospect demo).", markup=False
        )
        return
    grid = Table()
    whole = {  # never folded: run ids are copied into `prospect runs compare`
        "run": 32,
        "pipeline": max([len(str(n)) for n in frame.get("experiment", [])] + [8]),
    }
    for column in ("run", "pipeline", "started", "kind", "version", "family", *RUN_COLUMNS, "rows"):
        grid.add_column(
            column,
            justify="right" if column in RUN_COLUMNS else "left",
            overflow="fold",
            min_width=whole.get(column, len(column)),
            no_wrap=column in whole,
        )
    for _, row in frame.iterrows():
        cells = [
            row["run_id"],
            str(row.get("experiment") or ""),
            str(row["start_time"])[:19],
            str(row.get("tags.kind") or "") + _status(row),
            str(row.get("tags.model_version") or ""),
            str(row.get("tags.family") or ""),
        ]
        for metric in RUN_COLUMNS:
            value = row.get(f"metrics.{metric}")
            cells.append("" if value is None or value != value else f"{value:.4f}")
        cells.append(str(row.get("params.data.rows") or ""))
        grid.add_row(*cells)
    console.print(grid)


def _status(row) -> str:
    """A run that did not finish, as the store has it: " (killed)", " (failed)",
    " (running)"; nothing for a finished run."""
    status = str(row.get("status") or "FINISHED")
    return "" if status == "FINISHED" else f" ({status.lower()})"


@runs_app.command("compare")
def runs_compare(
    run_a: Annotated[str, typer.Argument(help="First run id.")],
    run_b: Annotated[str, typer.Argument(help="Second run id.")],
) -> None:
    """Show the params and metrics that differ between two runs.

    \b
    Example:
      prospect runs compare RUN_A RUN_B
    """
    from rich.table import Table

    from prospect_predictor.jobs.runs import compare_runs

    params, metrics = compare_runs(run_a, run_b)
    console = render.console(stderr=False)
    for title, rows in (("params that differ", params), ("metrics that differ", metrics)):
        grid = Table(title=title, title_justify="left")
        grid.add_column("name", no_wrap=True)
        for column in (run_a[:12], run_b[:12]):
            grid.add_column(column, overflow="fold")
        for name, (a, b) in rows.items():
            grid.add_row(name, render.cell(a), render.cell(b))
        console.print(grid)


@app.command()
def export(
    pipeline: Annotated[
        Path | None, typer.Option("--pipeline", help="Pipeline TOML (default as for train).")
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="The registered version to export (must be the champion unless --out is "
            "given). Default: the champion.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Bundle folder to write. Default: models/NAME/, the champion's bundle "
            "(which export keeps in step with the registry).",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a bundle already in --out.")
    ] = False,
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="For a version registered before 0.2, whose model is only a pickle: load it "
            "once to write its scoring form. Unpickling runs code: only for a model your firm "
            "trained.",
        ),
    ] = False,
) -> None:
    """Export a registered version from the MLflow registry as a bundle, and repair.

    The registry's champion alias is the source of truth; models/NAME/ is its copy. This
    first finishes what an interrupted train or retrain left (a promotion half done, a
    bundle moved aside, temporary folders), then writes the bundle from the registry's
    files (the scoring form: JSON and arrays, no pickle).

    \b
    Examples:
      prospect export                      # models/NAME/ = the champion
      prospect export --version 3 --out models/v3
    """
    from prospect_predictor.jobs.export import run_export

    report = run_export(pipeline, version, out, trust_pickle, overwrite)
    render.print_repairs(report.repairs)
    render.console(stderr=False).print(
        f"{report.target}/ holds version {report.version} of {report.model_name}"
        + (" (the champion)" if report.is_champion else ""),
        markup=False,
    )


@app.command("init-pipeline")
def init_pipeline(
    data: Annotated[Path, typer.Option("--data", help="A CRM export: CSV or Parquet.")],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the draft, e.g. pipelines/my_firm.toml.")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="The model's name (default: from --out).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing file at --out.")
    ] = False,
) -> None:
    """Draft a pipeline config from a data file, for an analyst to finish.

    Infers each column's type and categories (an inline schema), detects the delimiter,
    guesses the outcome column and flags it, excludes id-like, date and free-text columns
    with a comment, flags likely protected attributes, and leaves each feature's reason as
    "TODO". Training refuses the config until every TODO is replaced.

    \b
    Example:
      prospect init-pipeline --data export.csv --out pipelines/firm.toml
    """
    from prospect_predictor.data.draft import draft_pipeline
    from prospect_predictor.data.tableio import check_output, write_file_atomically

    check_output(out, [data])
    draft = draft_pipeline(data, name or out.stem)
    state = write_file_atomically(
        out, lambda target: target.write_text(draft.text, encoding="utf-8"), overwrite
    )
    console = render.console()
    console.print(f"{out}: {state}. Check before training:", markup=False)
    for note in draft.notes:
        console.print(f"  - {note}", markup=False)
    console.print(f"Then: prospect train --pipeline {out} --data {data}", markup=False)


@app.command()
def demo(
    rows: Annotated[
        int, typer.Option("--rows", min=500, help="Prospects in the history.")
    ] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
) -> None:
    """Run the main job on the built-in default, end to end.

    Generates a history of prospects and 1,000 new leads under data/demo/, validates
    both, trains with the default pipeline (runs recorded in experiments/mlflow.db),
    exports the champion to models/prospects/, scores the new leads with it, and shows
    what to do next.

    \b
    Example:
      prospect demo
    """
    from prospect_predictor.jobs.demo import run_demo

    result = run_demo(rows, seed, progress=render.progress_printer())
    console = render.console(stderr=False)
    console.print(
        f"History: {result.history} — {result.history_report.n_rows:,} prospects, "
        "valid against the built-in schema",
        markup=False,
    )
    shares = ", ".join(f"{k} {v:.0%}" for k, v in result.outcome_shares.items())
    console.print(f"  outcomes: {shares}", markup=False)
    console.print(f"  truth (kept apart from the export): {result.truth}", markup=False)
    console.print(
        f"New leads: {result.leads} — {result.leads_report.n_rows:,} prospects to score, valid",
        markup=False,
    )
    render.print_training_summary(result.training)
    from prospect_predictor.scoring.writers import table

    scoring = result.scoring
    counts = scoring.frame["recommendation"].value_counts()
    console.print(
        f"\nScored {len(scoring.frame):,} new leads with the champion -> {result.scored}: "
        + ", ".join(f"{k} {counts.get(k, 0):,}" for k in ("pursue", "qualify", "walk_away")),
        markup=False,
    )
    console.print(
        table(scoring.frame.head(3), scoring.lang, list(scoring.metadata["classes"]), console.width)
    )
    first = scoring.frame["prospect_id"].iloc[0]
    console.print(
        "\nNext\n"
        f"  - score leads: prospect score {result.leads}   (--format csv|json|jsonl|parquet, "
        "--out FILE, --lang fr)\n"
        f'  - one lead: prospect score --lead \'{{"postponements": 4, '
        f'"expected_return_pct": 15}}\'\n'
        f"  - the full picture for one prospect: prospect explain {first} --input "
        f"{result.leads} --plot {first}.png\n"
        f"  - review runs and charts in MLflow: {result.training.ui_command}\n"
        "  - train on your own file: prospect train --data FILE [--pipeline PIPELINE.toml]\n"
        f"  - compare model families: prospect compare --data {result.history}\n"
        "  - read data/README.md (the firm, the columns, the causal model) and "
        "docs/scoring.md (the output columns, units and thresholds)",
        markup=False,
    )
