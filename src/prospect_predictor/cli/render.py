"""What the commands print: Rich consoles, progress, the training summary, rejects and
drift warnings, error lines. Rendering only: what to print comes from the jobs."""

from __future__ import annotations


def console(stderr: bool = True):
    from rich.console import Console

    # emoji=False: data such as an id ":cat:" is printed as written (and rich's emoji table
    # is not imported)
    terminal = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not terminal.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
        terminal = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False, width=160)
    return terminal


def progress_printer():
    """Print each step with the time since the start, on stderr."""
    import time

    stderr, start = console(), time.perf_counter()

    def progress(step: str) -> None:
        stderr.print(f"[{time.perf_counter() - start:6.1f}s] {step}", markup=False)

    return progress


KEY_METRICS = ("log_loss", "brier", "roc_auc_macro", "balanced_accuracy", "ece")


def print_training_summary(report) -> None:
    from rich.table import Table

    result = report.result
    out = console(stderr=False)
    holdout = (
        "time-based holdout (newest prospects)"
        if result.holdout_kind.startswith("time")
        else ("random holdout (no date column)")
    )
    table = Table(
        title=f"{report.pipeline.name}: {result.family}, classes {', '.join(result.classes)}",
        title_justify="left",
    )
    table.add_column("metric")
    folds = report.pipeline.config.validation.folds
    table.add_column(f"{folds}-fold cross-validation (older rows)", justify="right")
    table.add_column(holdout, justify="right")
    for name in KEY_METRICS:
        table.add_row(
            name,
            f"{result.cv_metrics.get(name, float('nan')):.4f}",
            f"{result.holdout.metrics.get(name, float('nan')):.4f}",
        )
    out.print(table)
    rejects = report.history.rejects
    if rejects is not None and len(rejects):
        out.print(
            f"{len(rejects):,} of {report.history.rows_read:,} rows set aside (a problem in each; "
            "kept with the run as rejects.csv), for example:",
            markup=False,
        )
        for row, problems in zip(rejects["row"].head(3), rejects["problems"].head(3), strict=True):
            out.print(f"  row {row}: {problems}", markup=False)
    history = report.history
    if history.open_rows or history.open_as_stalled:
        stalled = (
            f"; {history.open_as_stalled:,} open without contact for too long counted as "
            "stalled (outcome.open_as_stalled_after)"
            if history.open_as_stalled
            else ""
        )
        out.print(
            f"{history.open_rows:,} open prospect(s), not decided yet, left out of training and "
            f"of every metric{stalled}",
            markup=False,
        )
    if report.tiers is not None:
        print_tiers(out, report.tiers, result.classes)
    if result.holdout_drift:
        out.print(
            "The holdout's prospects differ from the older ones the model learnt "
            "from (why the two columns can disagree):",
            markup=False,
        )
        for line in result.holdout_drift[:8]:
            out.print(f"  drift: {line}", markup=False)
    out.print(
        f"MLflow run {report.run_id}: model {report.pipeline.name!r} version "
        f"{report.model_version}",
        markup=False,
    )
    print_repairs(report.repairs)
    if report.is_champion:
        out.print(
            f"Champion: version {report.model_version}, exported to {report.bundle_dir}/",
            markup=False,
        )
    elif report.not_promoted_because:
        out.print(f"Not promoted: {report.not_promoted_because}.", markup=False)
    else:
        out.print(
            f"The champion stays version {report.champion_version}; this version is "
            f"registered for review and was not exported.",
            markup=False,
        )
    out.print(f"Review the run: {report.ui_command}", markup=False)


def count_progress(label: str):
    """A progress bar on stderr for files of more than a few thousand rows; ``total`` may
    be None (not known before the end of a streamed file): the bar then pulses."""
    state = {"bar": None, "task": None, "done": False}

    def update(done: int, total: int | None) -> None:
        if state["done"] or (state["bar"] is None and (total or done) <= 5_000):
            return
        if state["bar"] is None:
            from rich.progress import Progress

            state["bar"] = Progress(console=console(), transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task(label, total=total)
        state["bar"].update(state["task"], completed=done, total=total)
        if total is not None and done >= total:
            state["bar"].stop()
            state["done"] = True

    return update


def print_rejects(console, count: int, path, first: list) -> None:
    """The rows set aside, where they were written (``path`` None: nowhere, for leads read
    from standard input without --out), and the first few with their problems."""
    if not count:
        return
    where = (
        f"written to {path}"
        if path is not None
        else "not written (standard input: give --out to keep them beside the output)"
    )
    console.print(f"{count:,} row(s) rejected, {where}:", markup=False)
    for row, problems in first:
        console.print(f"  row {row}: {problems}", markup=False)


def print_repairs(repairs: list[str] | None) -> None:
    """What an interrupted command had left and this one repaired, on stderr."""
    for line in repairs or ():
        console().print(f"repaired: {line}", markup=False)


def print_notices(lines: list[str]) -> None:
    """What a command says once about its model or input (an interrupted promotion,
    columns left out), on stderr."""
    if lines:
        stderr = console()
        for line in lines:
            stderr.print(f"note: {line}", markup=False)


def print_drift(warnings: list[str], what: str) -> None:
    if not warnings:
        return
    stderr = console()
    stderr.print(f"drift: {what} differ from the model's training data:", markup=False)
    for line in warnings:
        stderr.print(f"  warning: {line}", markup=False)


def print_table(frame, scored: int, lang: str, metadata: dict) -> None:
    """The scored leads' table on stdout (one block per lead in a narrow terminal): the
    rows of ``frame``, the first of ``scored``; when some are not shown, how to get them
    all, on stderr."""
    from prospect_predictor.scoring.writers import table

    terminal = console(stderr=False)
    terminal.print(table(frame, lang, list(metadata["classes"]), terminal.width))
    if scored > len(frame):
        console().print(
            f"showing the first {len(frame):,} of {scored:,} scored leads; for all of them, "
            "--out FILE (csv, json, jsonl or parquet) or --format csv",
            markup=False,
        )


def print_unknown_fields(fields: list[str], lang: str) -> None:
    """One lead's features not given (or given blank), on stderr."""
    if fields:
        from prospect_predictor.language import texts

        console().print(texts.ui("unknown_fields", lang, fields=", ".join(fields)), markup=False)


def print_one_lead(report, fmt: str) -> bool:
    """One lead scored without pandas (``jobs.score_lead.OneLeadReport``) as the frame's
    path prints it: notes on stderr, then the table, CSV, JSON or JSON lines on stdout.
    False, having printed nothing, for CSV with a carriage return in a text cell (the
    frame's writer quotes every text cell then)."""
    import sys

    if fmt == "csv":
        from prospect_predictor.scoring.one_lead import csv_text

        text = csv_text(report.row)
        if text is None:
            return False
    print_notices(report.notices)
    print_drift(report.drift_warnings, "these leads")
    print_unknown_fields(report.unknown_fields, report.lang)
    if fmt == "table":
        from prospect_predictor.scoring.rows import table

        terminal = console(stderr=False)
        classes = list(report.metadata["classes"])
        terminal.print(table([report.row], report.lang, classes, terminal.width))
        return True
    if fmt in ("json", "jsonl"):
        from prospect_predictor.scoring.rows import json_text

        text = json_text([report.record], fmt)
    sys.stdout.write(text)
    return True


def cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_error(label: str, message: str) -> None:
    from rich.text import Text

    console().print(Text.assemble((label, "bold red"), message))


def print_tiers(out, tiers, classes: list[str]) -> None:
    """The holdout in the recommendation tiers: each tier's share and realised outcomes."""
    from rich.table import Table

    grid = Table(
        title=f"Recommendation tiers on the holdout ({tiers.rows:,} prospects): how each "
        "tier's prospects turned out",
        title_justify="left",
    )
    grid.add_column("tier")
    grid.add_column("share", justify="right")
    for outcome in classes:
        grid.add_column(outcome, justify="right")
    for tier in ("pursue", "qualify", "walk_away"):
        mix = tiers.outcome_mix[tier]
        grid.add_row(
            tier,
            f"{tiers.share(tier):.0%}",
            *[f"{mix[c]:.0%}" if tiers.counts[tier] else "—" for c in classes],
        )
    out.print(grid)
    for warning in tiers.warnings:
        out.print(f"warning: {warning}", markup=False)
