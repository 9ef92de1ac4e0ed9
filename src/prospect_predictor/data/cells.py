"""The rules about one cell, defined once for the vectorised checks of a table
(:mod:`prospect_predictor.data.validate`, pandas) and for one JSON lead checked value by
value (:mod:`prospect_predictor.data.one_lead`, without pandas): the tokens that mean
blank, true and false; how a category's spellings are folded; how a number written with
the file's separators and symbols becomes one Python reads; the hint for numbers written
the French way; how a row problem is worded; which CSV cell a spreadsheet would run as a
formula. Plain Python and NumPy: importing this module imports neither pandas nor pyarrow.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from prospect_predictor.errors import shown

if TYPE_CHECKING:
    from prospect_predictor.config.schema import ColumnSpec

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})
TRUE_TOKENS = frozenset({"true", "yes", "y", "t", "1", "oui", "vrai"})
FALSE_TOKENS = frozenset({"false", "no", "n", "f", "0", "non", "faux"})
DECIMAL_COMMA = r"[+-]?\d{1,3}(?:[ .\u00a0\u202f]\d{3})*(?:,\d+)?|[+-]?\d+(?:,\d+)?"
SPACED = r"[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?"
DIGITS_SPACED = r"\d[ \u00a0\u202f]\d"
SPACES = r"[ \u00a0\u202f]"  # a thousands separator declared " ": any of these spaces
SHOW_ROWS = 5
SHOW_VALUES = 3


@dataclass
class Problem:
    """One thing wrong with a file: a whole column, or some of its rows."""

    severity: Literal["error", "warning"]
    kind: str
    column: str | None
    message: str
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    expected: str = ""  # row problems: what was expected (to word the problem again when
    found: object = None  # chunks are merged) and the distinct values found, in order


def missing_tokens(placeholders: tuple[str, ...] = ()) -> frozenset[str]:
    """The stripped, lower-case texts that mean a blank in a column: the usual tokens and
    the column's declared placeholders."""
    if not placeholders:
        return MISSING_TOKENS
    return MISSING_TOKENS | {p.strip().lower() for p in placeholders}


def fold(text: str) -> str:
    """A category compared loosely: lower case, no accents, no surrounding spaces, and
    spaces, underscores and hyphens inside alike ("Bought List" = "bought_list")."""
    decomposed = unicodedata.normalize("NFKD", str(text).strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_-]+", "_", plain)


def category_lookup(spec: ColumnSpec) -> dict[str, str]:
    """Folded spelling -> the category it means: the column's ``aliases``, and with
    ``normalise`` each category itself. A cell whose fold is absent stays as written."""
    lookup = {fold(a): c for a, c in spec.aliases.items()}
    if spec.normalise:
        lookup.update({fold(c): c for c in spec.categories or ()})
    return lookup


def number_text_steps(spec: ColumnSpec) -> list[tuple[str, str, str]]:
    """How a stripped number cell of ``spec`` becomes text Python reads, as ``(how,
    pattern, replacement)`` steps in order (``how``: ``text`` or ``regex`` to replace,
    ``strip``): the symbols dropped and the text stripped again, the thousands separator
    dropped, a decimal comma made a point."""
    steps = [("text", symbol, "") for symbol in spec.symbols]
    if spec.symbols:
        steps.append(("strip", "", ""))
    if spec.thousands == " ":
        steps.append(("regex", SPACES, ""))
    elif spec.thousands:
        steps.append(("text", spec.thousands, ""))
    if spec.decimal == ",":
        steps.append(("text", ",", "."))
    return steps


def plain_number(text: str, spec: ColumnSpec) -> str:
    """One stripped number cell as Python writes numbers (:func:`number_text_steps`)."""
    for how, pattern, replacement in number_text_steps(spec):
        if how == "strip":
            text = text.strip()
        elif how == "regex":
            text = re.sub(pattern, replacement, text)
        else:
            text = text.replace(pattern, replacement)
    return text


def separator_hint(cells: list[str], name: str) -> str:
    """How to declare the separators of numbers written the French (or another) way, when
    every unparsable (stripped) cell reads as a number that way; else nothing."""
    spaced = any(re.search(DIGITS_SPACED, c) for c in cells)
    commas = any("," in c for c in cells)
    if all(re.fullmatch(DECIMAL_COMMA, c) for c in cells) and commas:
        declare = 'decimal = ","' + (', thousands = " "' if spaced else "")
        seen = "a decimal comma"
    elif all(re.fullmatch(SPACED, c) for c in cells):
        declare, seen = 'thousands = " "', "spaces between thousands"
    else:
        return ""
    return (
        f" (these look like numbers written with {seen}: declare {declare} for column "
        f"{name!r} in the schema)"
    )


def row_message(name: str, expected: str, found, rows: np.ndarray) -> str:
    """A row problem in words: what was expected, the distinct values found (``None``:
    the cells were missing) and the rows."""
    noun = "row" if rows.size == 1 else "rows"
    message = f"column {name!r}: {expected}"
    if found is not None:
        quoted = ", ".join(shown(str(v)) for v in found[:SHOW_VALUES])
        more = f" and {found.size - SHOW_VALUES} other value(s)" if found.size > SHOW_VALUES else ""
        message += f"; found {quoted}{more}"
    else:
        message += "; missing"
    return message + f" in {rows.size:,} {noun} ({noun} {list_rows(rows)})"


def list_rows(rows: np.ndarray) -> str:
    listed = ", ".join(str(r) for r in rows[:SHOW_ROWS])
    return listed + (f" and {rows.size - SHOW_ROWS:,} more" if rows.size > SHOW_ROWS else "")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that is only a number (signed, with separators, an exponent or a percent sign) is
# data, not a formula, even when it starts with a sign: "-3", "+1,5", "-2 237 000".
PLAIN_NUMBER = r"[+-]?(?:\d[\d .,\u00a0\u202f]*|[.,]\d+)(?:[eE][+-]?\d+)?%?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def is_formula(cell: str) -> bool:
    r"""Whether a spreadsheet would run ``cell`` as a formula (OWASP "CSV injection"): it
    starts with =, +, -, @, a tab or a carriage return and is not only a number (Python's
    digits, any script, as before). The one rule of every CSV the product writes
    (``data/csvwriter``, ``data/tableio``, one lead's CSV)."""
    return cell.startswith(FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(cell) is None


def escaped_cell(cell: str) -> str:
    """A CSV text cell as written: prefixed by a quote when :func:`is_formula`."""
    return "'" + cell if is_formula(cell) else cell
