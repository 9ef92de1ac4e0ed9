"""Process tricks for one lead, kept apart from parsing: a command that scores one lead
pauses the cyclic garbage collector and lets the console script skip the interpreter's
teardown (:func:`prospect_predictor.cli.main.run`)."""

from __future__ import annotations

import gc

ONE_LEAD = {"active": False}  # set by a --lead command; read by the console script (run)


def pause_gc_for_one_lead(lead: str | None) -> None:
    """One lead: pause the cyclic garbage collector until the command ends (``main``
    restores it), and let the console script skip the interpreter's teardown (``run``).
    The process imports pandas and the rest, scores one row and exits, so a collection
    finds next to nothing, yet scanning the imported libraries' objects took 0.13 s of a
    1.1 s `prospect score --lead` (measured). Files and training keep both."""
    if lead is not None:
        gc.disable()
        ONE_LEAD["active"] = True
