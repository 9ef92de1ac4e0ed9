"""The console script ``prospect`` and ``python -m prospect_predictor``: run the Typer app;
a user's error is one clear message and an exit status, never a traceback."""

from __future__ import annotations

import gc
import os
import sys

from prospect_predictor.cli.app import app
from prospect_predictor.cli.process import ONE_LEAD
from prospect_predictor.cli.render import console, print_error
from prospect_predictor.errors import ProspectError


def run() -> None:
    """The console script ``prospect``: :func:`main`, then, after a ``--lead`` command, the
    process ends as soon as its output is flushed, without the interpreter's teardown
    (freeing every object of pandas, NumPy, pyarrow and the rest one by one: about 0.1 s
    more than `import pandas` alone pays, in a command that takes about 1.2 s). Every file
    the command wrote is closed by then (written to a temporary file and renamed), and no
    exit handler of ours or of the libraries scoring imports has work left to do. Any
    other command exits normally."""
    try:
        main()
        status = 0
    except SystemExit as exc:
        if not ONE_LEAD["active"]:
            raise
        status = exc.code
    if not ONE_LEAD["active"]:
        return
    if status is not None and not isinstance(status, int):
        print(status, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing left to deliver
            status = status or 1
    os._exit(status or 0)


def main() -> None:
    """Entry point: user errors are one clear message and exit status 1, never a traceback."""
    gc_enabled = gc.isenabled()
    try:
        app()
    except ProspectError as exc:
        print_error("error: ", str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug of ours: say so, and keep the traceback one switch away
        if os.environ.get("PROSPECT_DEBUG"):
            raise
        print_error(
            "internal error: ",
            f"{type(exc).__name__}: {exc}\nThis is a bug in prospect-predictor. Run again "
            "with PROSPECT_DEBUG=1 to see the traceback, and report it.",
        )
        sys.exit(3)
    finally:
        if gc_enabled:  # paused for one lead; matters when main() runs inside a longer process
            gc.enable()


if __name__ == "__main__":
    run()
