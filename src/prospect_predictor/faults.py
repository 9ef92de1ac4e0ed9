"""Named crash points, so that tests can kill the process exactly where a crash would hurt.

``point("after_alias")`` ends the process at once (``os._exit``: no cleanup, no ``finally``,
like a power cut or ``kill -9``) when the environment variable ``PROSPECT_PREDICTOR_FAULT``
names that point, and does nothing otherwise. The points are the steps of a promotion
(:mod:`prospect_predictor.registry.promotion`) and of a bundle export; ``tests/faults``
kills the process at each and checks that the next command detects and repairs the state.
"""

from __future__ import annotations

import os

VARIABLE = "PROSPECT_PREDICTOR_FAULT"
EXIT_CODE = 86  # what a process killed at a fault point exits with


def point(name: str) -> None:
    """End the process here if ``PROSPECT_PREDICTOR_FAULT`` names this point."""
    if os.environ.get(VARIABLE) == name:
        os._exit(EXIT_CODE)
