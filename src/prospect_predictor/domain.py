"""The product's vocabulary: the four outcomes and the four reasons to part ways.

Kept here, import-free, so every module (and the fast CLI start-up path) shares one
spelling of each name.
"""

OUTCOMES: tuple[str, ...] = ("win_win", "win_lose", "stalled", "declined")
"""How a relationship turned out. ``win_win`` is the reference outcome of the logits."""

BAD_OUTCOMES: tuple[str, ...] = ("win_lose", "stalled")
"""The outcomes an advisor most wants to avoid spending time on."""

REASONS: tuple[str, ...] = (
    "poor_fit",
    "difficult_expectations",
    "product_mismatch",
    "strung_along",
)
"""The article's four reasons to part ways with a prospect."""

CONTEXT = "context"
"""A feature that the model uses but that speaks to none of the four reasons."""
