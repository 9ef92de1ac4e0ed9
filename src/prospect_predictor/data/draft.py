"""Draft a pipeline config from a firm's own export: the first step of bringing your own data.

:func:`draft_pipeline` reads a CSV or Parquet file, infers each column's type and role
(id, date, outcome, protected, feature), guesses the outcome column and how its labels map
onto the four outcomes, and writes a commented pipeline TOML with the schema inline. Every
feature's reason is left ``"TODO"``: only the analyst knows which of the four reasons a
column speaks to, and :func:`prospect_predictor.config.pipeline.load_pipeline` refuses the draft
until each one is decided. What the analyst must check is also returned as ``notes``.

Its length (about 960 lines) is one cohesive thing: one pass from a file to a commented
TOML over one private record per column (``_Column``): inferring each column, then writing
every key with the comment that tells the analyst what was seen. Splitting the writing
off would make that record public for no other user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor.config.pipeline import TODO
from prospect_predictor.data.tableio import read_table
from prospect_predictor.data.validate import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, fold
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.errors import ConfigError, InputFileError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # PipelineConfig.name
MAX_CATEGORIES = 50  # more distinct values than this is text, not categories...
MAX_CATEGORY_SHARE = 0.05  # ...as is more than this share of rows (unless <= ALWAYS_CATEGORY)
ALWAYS_CATEGORY = 12
OUTCOME_VALUES = (2, 6)  # an outcome column has this many distinct values (inclusive)
COMMENT_COLUMN = 33  # where a line's trailing comment starts, as in pipelines/prospects.toml
WIDTH = 96
MIN_ROWS, MIN_PER_CLASS = 200, 30  # the default [validation] thresholds

OUTCOME_WORDS = frozenset(
    {"outcome", "target", "label", "y", "result", "status", "converted", "won", "subscribed"}
    | {"churn", "churned", "conversion", "exited", "stage", "decision"}
)
ID_WORDS = frozenset({"id", "ids", "uuid", "guid", "identifier", "code", "number", "ref"})
ID_WORDS |= {"reference", "key", "nr", "no", "num"}
STRONG_ID_WORDS = frozenset({"id", "uuid", "guid", "identifier"})
# Protected attributes by name: long stems anywhere in the name, short words as whole words
# only (so that "stage", "manager", "average", "trace" and "Essex" are not protected).
PROTECTED_STEMS = (
    "gender",
    "marital",
    "religio",
    "ethnic",
    "nationalit",
    "citizenship",
    "disabilit",
    "disabled",
    "pregnan",
    "birth",
    "sexual",
)
PROTECTED_WORD = re.compile(r"^(age[sd]?|age(group|band|range|bracket|class|cat|years?)|sex|race)$")
# Names of columns that may be known only after the outcome (e.g. a call's duration).
LEAKAGE_STEMS = ("duration", "closed", "closing", "resolution", "resolved", "churn", "cancel")
LEAKAGE_STEMS += ("terminat", "converted", "conversion")
LEAKAGE_WORDS = frozenset({"outcome", "result", "results", "length", "close", "end", "ended"})
LEAKAGE_WORDS |= {"final", "won", "lost", "signed"}
# Names of counts and amounts, which cannot be negative.
AMOUNT_WORDS = frozenset(
    {"count", "counts", "amount", "amounts", "number", "num", "nb", "n", "qty", "quantity"}
    | {"total", "price", "cost", "costs", "fee", "fees", "income", "revenue", "salary"}
    | {"assets", "asset", "duration", "calls", "meetings", "visits", "contacts", "employees"}
    | {"days", "weeks", "months", "years", "hours", "minutes", "seconds", "eur", "usd", "gbp"}
    | {"chf", "pct", "percent", "size", "turnover", "wealth", "aum"}
)

_CLASS_LABELS = {
    "win_win": ("yes", "y", "true", "t", "1", "won", "win", "success", "successful", "converted")
    + ("client", "customer", "signed", "subscribed", "accepted", "closed won", "win win")
    + ("gagné", "gagne", "signé", "signe", "client satisfait", "oui"),
    "declined": ("no", "n", "false", "f", "0", "lost", "declined", "decline", "refused")
    + ("refusal", "rejected", "failure", "failed", "not interested", "closed lost")
    + ("not converted", "no deal", "lost deal", "refus", "refusé", "refuse", "non")
    + ("pas intéressé", "perdu avant signature"),
    "stalled": ("stalled", "no decision", "on hold", "strung along", "ghosted", "stale")
    + ("sans suite", "sans réponse", "en sommeil", "abandonné"),
    # not decided yet: kept out of training (outcome.open_as_stalled_after can call the
    # ones without contact for long stalled)
    "open": ("open", "pending", "in progress", "undecided", "nurture", "follow up")
    + ("waiting", "en cours", "ouvert"),
    "win_lose": ("churned", "churn", "complaint", "complained", "lost client", "lost customer")
    + ("bad client", "win lose", "left", "cancelled", "canceled", "terminated", "defaulted")
    + ("perdu après signature", "résilié", "resilie", "réclamation", "client perdu"),
}
LABEL_CLASSES = {label: cls for cls, labels in _CLASS_LABELS.items() for label in labels}
# With an outcome named like "churn", yes means the client left (win-lose), no means stayed.
CHURN_CLASSES = {**dict.fromkeys(("yes", "y", "true", "t", "1", "churned"), "win_lose")}
CHURN_CLASSES |= dict.fromkeys(("no", "n", "false", "f", "0", "stayed", "retained"), "win_win")


@dataclass
class Draft:
    """A drafted pipeline TOML, the guessed outcome column and what the analyst must check."""

    text: str
    outcome: str | None
    notes: list[str]


@dataclass
class _Column:
    """What the file says about one column."""

    name: str
    type: str
    n_rows: int
    n_missing: int
    counts: pd.Series  # non-missing value -> rows, most frequent first (ties: file order)
    numbers: pd.Series | None = None  # the values as numbers, for int and float columns
    role: str = "feature"
    why_excluded: str | None = None  # set when the column is not a feature
    decimal: str = "."  # the separators the file writes its numbers with
    thousands: str | None = None
    symbols: tuple[str, ...] = ()  # currency or percent signs written around its numbers
    date_format: str | None = None  # a date written otherwise than ISO (day first...)
    placeholders: tuple[str, ...] = ()  # values that mean blank ("Select")
    normalise: bool = False  # categories written in several cases, spacings or accents
    aliases: dict[str, str] = field(default_factory=dict)  # "GTXPro" -> "GTX Pro"
    consecutive: bool = False  # integers 0..n-1 or 1..n: a row number
    notes: list[str] = field(default_factory=list)

    @property
    def n_distinct(self) -> int:
        return len(self.counts)

    @property
    def unique(self) -> bool:
        return self.n_missing == 0 and self.n_distinct == self.n_rows

    @property
    def words(self) -> list[str]:
        return name_words(self.name)


def draft_pipeline(path: Path, name: str) -> Draft:
    """Read ``path`` (CSV or Parquet) and draft a pipeline named ``name`` for it."""
    path = Path(path)
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"pipeline name {name!r}: use letters, digits, '_', '.' or '-', starting with a "
            f"letter or digit (for example {_slug(name) or suggest_name(path)!r})"
        )
    frame = read_table(path).frame
    if len(frame) == 0:
        raise InputFileError(f"{path}: has a header but no rows; a draft needs example rows")
    columns = [_infer(frame[c], c) for c in frame.columns]
    outcome = _guess_outcome(columns)
    _assign_roles(columns, outcome)
    notes = _notes(columns, outcome, len(frame))
    text = _render(path, name, columns, outcome, len(frame))
    return Draft(text=text, outcome=outcome.name if outcome else None, notes=notes)


def suggest_name(path: Path) -> str:
    """A valid pipeline name from a file name: ``bank-full.csv`` -> ``bank-full``."""
    return _slug(Path(path).stem) or "prospects"


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._")
    return slug if NAME_PATTERN.fullmatch(slug) else ""


def name_words(name: str) -> list[str]:
    """A column name's words, lower case: ``customerID`` and ``customer_id`` -> customer, id."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


# ------------------------------------------------------------------------------ inference


def _infer(raw: pd.Series, name: str) -> _Column:
    text = raw.astype("string").str.strip()
    missing = raw.isna().to_numpy() | text.str.lower().isin(MISSING_TOKENS).fillna(True).to_numpy(
        dtype=bool
    )
    found = pd.unique(text[~missing].dropna())
    placeholders = tuple(str(v) for v in found if fold(v) in PLACEHOLDERS)
    if placeholders:  # a form's default: a blank, not a category
        missing |= text.isin(placeholders).fillna(False).to_numpy(dtype=bool)
    values = text[~missing].astype(str)
    counts = _counts(values)
    column = _Column(name, "string", len(raw), int(missing.sum()), counts)
    column.placeholders = placeholders
    if values.empty:
        return column
    distinct = pd.Series(counts.index, dtype=str)
    symbols = tuple(s for s in SYMBOLS if distinct.str.contains(s, regex=False).any())
    if symbols:  # "65 000 €", "7,1 %": the signs go, the numbers stay
        bare = distinct
        for symbol in symbols:
            bare = bare.str.replace(symbol, "", regex=False)
        if _as_numbers_written(bare.str.strip()) is not None:
            column.symbols = symbols
            distinct = bare.str.strip()
            values = values.map(dict(zip(counts.index, distinct, strict=True)))
    lowered = set(distinct.str.lower())
    if lowered <= TRUE_TOKENS | FALSE_TOKENS and not lowered <= {"0", "1"}:
        column.type = "bool"
        return column
    numbers, strays = _numbers_but_a_few(distinct, counts)
    if numbers is not None:
        column.decimal, column.thousands = _number_format(distinct[~distinct.isin(strays)])
        if strays:
            shown = ", ".join(repr(s) for s in strays[:3])
            rows = int(counts[strays].sum())
            column.notes.append(
                f"{name}: {rows:,} value(s) that are not numbers ({shown}): training sets "
                "those rows aside (validation.max_bad_row_share)"
            )
        known = ~distinct.isin(strays).to_numpy()
        as_numbers = values.map(dict(zip(distinct[known], numbers, strict=True))).astype(float)
        numbers = np.asarray(numbers)
        integral = bool((numbers == np.floor(numbers)).all())
        column.type = "int" if integral else "float"
        column.numbers = as_numbers
        if integral and column.n_missing == 0:
            ordered = np.sort(as_numbers.to_numpy())
            column.consecutive = column.unique and (
                ordered[0] in (0, 1) and bool((np.diff(ordered) == 1).all())
            )
        return column
    if _all_dates(distinct):
        column.type = "date"
        return column
    written_as = _date_format(distinct)
    if written_as:
        column.type, column.date_format = "date", written_as
        return column
    n_values = len(values)
    if len(counts) <= ALWAYS_CATEGORY or (
        len(counts) <= MAX_CATEGORIES and len(counts) <= MAX_CATEGORY_SHARE * n_values
    ):
        column.type = "category"
        _merge_spellings(column)
    return column


PLACEHOLDERS = frozenset(
    fold(v)
    for v in ("Select", "Please select", "-- Select --", "Choose", "Choisir", "Sélectionner")
    + ("-", "--", "?", "n.a.", "NC", "Non renseigné", "À renseigner", "(blank)", "(none)")
)
SYMBOLS = ("€", "EUR", "$", "USD", "£", "GBP", "CHF", "%")
DATE_FORMATS = (("%d/%m/%Y", "/"), ("%d.%m.%Y", "."), ("%d-%m-%Y", "-"))


def _plain(distinct: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Numbers as Python writes them, from the separators a column writes them with."""
    if (decimal, thousands) == (".", None):
        return distinct
    written = distinct.str.replace(r"[ \u00a0\u202f]", "", regex=True)
    if thousands and thousands != " ":
        written = written.str.replace(thousands, "", regex=False)
    return written.str.replace(",", ".", regex=False) if decimal == "," else written


def _as_numbers_written(distinct: pd.Series) -> np.ndarray | None:
    return _as_numbers(_plain(distinct, *_number_format(distinct)))


STRAY_SHARE = 0.01  # a number column may hold this share of cells typed wrong ("deux")


def _numbers_but_a_few(distinct: pd.Series, counts: pd.Series) -> tuple[np.ndarray | None, list]:
    """The distinct values as numbers (written with the separators they use), allowing a
    few cells that are not numbers at all — one bad cell must not make a number column
    text. Returns (numbers of the others, those few values), or (None, []) for text."""
    whole = _as_numbers_written(distinct)
    if whole is not None:
        return whole, []
    one_by_one = pd.Series([_as_numbers_written(pd.Series([v], dtype=str)) for v in distinct])
    strays = [v for v, n in zip(distinct, one_by_one, strict=True) if n is None]
    if not strays or len(strays) == len(distinct):
        return None, []
    if counts[strays].sum() > STRAY_SHARE * counts.sum():
        return None, []
    rest = distinct[~distinct.isin(strays)]
    numbers = _as_numbers_written(rest)
    return (numbers, strays) if numbers is not None else (None, [])


def _date_format(distinct: pd.Series) -> str | None:
    """dd/mm/yyyy and the like (day first, unless a middle part passes 12 and no first
    part does: then month first)."""
    for day_first, sep in DATE_FORMATS:
        pattern = rf"\d{{1,2}}{re.escape(sep)}\d{{1,2}}{re.escape(sep)}\d{{4}}"
        if not distinct.str.fullmatch(pattern).all():
            continue
        parts = distinct.str.split(re.escape(sep), regex=True, expand=True).astype(int)
        if (parts[0] <= 12).all() and (parts[1] > 12).any():
            written = day_first.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m")
        else:
            written = day_first
        parsed = pd.to_datetime(distinct, errors="coerce", format=written)
        if not parsed.isna().any():
            return written
    return None


def _merge_spellings(column: _Column) -> None:
    """Categories written in several ways ("Website", "website ", "wébsite") become one,
    spelt as most often, and the schema declares normalise = true; spellings that differ
    only without any separator ("GTXPro", "GTX Pro") become aliases of the most frequent."""
    keys = pd.Series([fold(v) for v in column.counts.index], index=column.counts.index)
    if keys.nunique() < len(keys):
        merged = column.counts.groupby(keys.to_numpy(), sort=False).sum()
        spelling = {k: column.counts.index[keys.to_numpy() == k][0] for k in merged.index}
        column.counts = pd.Series(
            merged.to_numpy(), index=pd.Index([spelling[k] for k in merged.index], dtype=object)
        ).sort_values(ascending=False, kind="stable")
        column.normalise = True
    bare = [re.sub(r"[\W_]+", "", fold(v)) for v in column.counts.index]
    first: dict[str, str] = {}
    for value, key in zip(column.counts.index, bare, strict=True):
        if key and key in first:
            column.aliases[str(value)] = first[key]
        else:
            first.setdefault(key, str(value))
    if column.aliases:
        counts = column.counts.copy()
        for alias, target in column.aliases.items():
            counts[target] += counts[alias]
        column.counts = counts[~counts.index.isin(list(column.aliases))]


def _number_format(distinct: pd.Series) -> tuple[str, str | None]:
    """The separators a column's numbers are written with: ("," , " ") for "2 237 000,50",
    (",", None) for "7,1", (".", " ") for "2 237 000", else (".", None). Only when every
    value reads as a number that way."""
    plain = r"[+-]?\d+"
    spaced = r"[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+"
    dotted = r"[+-]?\d{1,3}(?:\.\d{3})+"
    for decimal, thousands, pattern in (
        (",", None, rf"{plain}(?:,\d+)?"),
        (",", " ", rf"(?:{spaced}|{plain})(?:,\d+)?"),
        (",", ".", rf"(?:{dotted}|{plain})(?:,\d+)?"),
        (".", " ", rf"(?:{spaced}|{plain})(?:\.\d+)?"),
    ):
        matches = distinct.str.fullmatch(pattern)
        used = distinct.str.contains("," if decimal == "," else r"\d[ \u00a0\u202f]\d", regex=True)
        if thousands:
            used &= distinct.str.contains(
                r"\d[ \u00a0\u202f]\d" if thousands == " " else r"\d\.\d{3}", regex=True
            )
        if matches.all() and used.any():
            return decimal, thousands
    return ".", None


_SEPARATOR_WORDS = {" ": "spaces", ".": "dots", ",": "commas", "'": "apostrophes"}


def _counts(values: pd.Series) -> pd.Series:
    """Value -> rows, most frequent first; equal counts keep the order of first appearance."""
    counts = values.value_counts(sort=False).to_dict()
    first = pd.Series(np.arange(len(values)), index=values.to_numpy()).groupby(level=0).min()
    first = first.to_dict()
    order = sorted(counts, key=lambda v: (-counts[v], first[v]))
    return pd.Series([counts[v] for v in order], index=pd.Index(order, dtype=object), dtype=int)


def _as_numbers(distinct: pd.Series) -> np.ndarray | None:
    """The distinct values as finite numbers, or None when one is not a plain number. Codes
    with leading zeros (a postcode '0123') and integers too long for a float (18-digit ids)
    stay text."""
    if distinct.str.match(r"^[+-]?0\d").any():
        return None
    numbers = pd.to_numeric(distinct, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(numbers).all() or np.abs(numbers).max() > 2**53:
        return None
    return numbers


def _all_dates(distinct: pd.Series) -> bool:
    iso = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
    if not distinct.str.fullmatch(iso).all():
        return False
    parsed = pd.to_datetime(distinct, errors="coerce", format="ISO8601")
    return not parsed.isna().any()


def _guess_outcome(columns: list[_Column]) -> _Column | None:
    low, high = OUTCOME_VALUES
    candidates = [
        c
        for c in columns
        if low <= c.n_distinct <= high
        and c.type != "date"
        and not _is_protected(c.name)
        and not STRONG_ID_WORDS & set(c.words)
    ]

    def rank(column: _Column) -> int:
        whole = re.sub(r"[^a-z0-9]", "", column.name.lower())
        if whole in OUTCOME_WORDS:
            return 2
        return 1 if OUTCOME_WORDS & set(column.words) else 0

    named = [c for c in candidates if rank(c) > 0]
    if named:
        best = max(rank(c) for c in named)
        return [c for c in named if rank(c) == best][-1]  # outcomes tend to come last
    text = [c for c in candidates if c.type not in ("int", "float")]
    return (text or candidates or [None])[-1]


def _id_named(column: _Column) -> bool:
    return bool(ID_WORDS & set(column.words))


def _is_protected(name: str) -> bool:
    lowered = name.lower()
    if any(stem in lowered for stem in PROTECTED_STEMS):
        return True
    return any(PROTECTED_WORD.match(w) for w in name_words(name))


def _may_leak(name: str) -> bool:
    lowered = name.lower()
    if any(stem in lowered for stem in LEAKAGE_STEMS):
        return True
    return bool(LEAKAGE_WORDS & set(name_words(name)))


def _is_amount(column: _Column) -> bool:
    words = set(column.words)
    return bool(AMOUNT_WORDS & words) or any(w.startswith(("num", "nb")) for w in words)


def _assign_roles(columns: list[_Column], outcome: _Column | None) -> None:
    id_taken = date_taken = False
    for column in columns:
        if column is outcome:
            column.role = "outcome"
            column.type = "category"  # labels are mapped as text, whatever they look like
            continue
        id_like = column.unique and column.type in ("int", "string", "category")
        id_like = id_like and (_id_named(column) or column.consecutive)
        if id_like:
            column.why_excluded = "id-like: a different value in every row"
            if not id_taken:
                column.role, id_taken = "id", True
            continue
        if _is_protected(column.name):
            column.role = "protected"
            continue
        if column.type == "date":
            if not date_taken:
                column.role, date_taken = "date", True
                column.why_excluded = "date: orders the time-based holdout (role date)"
            else:
                column.why_excluded = "date: dates are not features"
            continue
        if STRONG_ID_WORDS & set(column.words) and column.type in ("int", "string", "category"):
            repeated = column.n_rows - column.n_missing - column.n_distinct
            column.why_excluded = "id-like name, but not unique: check"
            column.notes.append(
                f"{column.name}: looks like an id but is not unique ({repeated:,} repeated, "
                f"{column.n_missing:,} missing); it is excluded, not used as the id"
            )
            continue
        if column.n_distinct == 0:
            column.why_excluded = "empty: no value in the file"
        elif column.n_distinct == 1:
            column.why_excluded = "constant: one value in every row"
        elif column.type == "string":
            column.why_excluded = (
                f"free text: {column.n_distinct:,} distinct values, too many for categories"
            )


# ------------------------------------------------------------------------------ labels


def _label_classes(outcome: _Column) -> dict[str, str]:
    """Each label -> a class, or TODO when nothing obvious fits."""
    churn = any("churn" in w or w == "exited" for w in outcome.words)
    mapping = {}
    for label in outcome.counts.index:
        key = re.sub(r"[\s_-]+", " ", str(label).strip().lower())
        guess = (CHURN_CLASSES.get(key) if churn else None) or LABEL_CLASSES.get(key)
        mapping[str(label)] = guess or TODO
    return mapping


# ------------------------------------------------------------------------------ notes


def _notes(columns: list[_Column], outcome: _Column | None, n_rows: int) -> list[str]:
    notes: list[str] = []
    if outcome is None:
        notes.append(
            'outcome: no column looks like an outcome; set outcome.column (now "TODO"), its '
            'labels, and role = "outcome" in the schema'
        )
    else:
        shown = ", ".join(f"{v!r} {n:,}" for v, n in outcome.counts.items())
        notes.append(f"outcome: GUESSED {outcome.name!r} ({shown}); check this is the outcome")
        labels = _label_classes(outcome)
        mapped = ", ".join(f"{k!r} -> {v}" for k, v in labels.items() if v != TODO)
        todo = [k for k, v in labels.items() if v == TODO]
        if mapped:
            notes.append(f"outcome.labels: guessed {mapped}; check each")
        if todo:
            notes.append(
                f"outcome.labels: choose a class for {', '.join(map(repr, todo))} (still TODO; "
                f"one of {', '.join(OUTCOMES)})"
            )
        per_class: dict[str, int] = {}
        for label, cls in labels.items():
            per_class[cls] = per_class.get(cls, 0) + int(outcome.counts[label])
        rare = [f"{c} {n:,}" for c, n in per_class.items() if c != TODO and n < MIN_PER_CLASS]
        if n_rows < MIN_ROWS or rare:
            notes.append(
                f"validation: {n_rows:,} rows"
                + (f", rare classes ({', '.join(rare)})" if rare else "")
                + f": training refuses fewer than min_rows ({MIN_ROWS}) rows or min_per_class "
                f"({MIN_PER_CLASS}) examples of a class"
            )
        if outcome.n_missing:
            notes.append(
                f"{outcome.name}: {outcome.n_missing:,} row(s) have no outcome; training "
                "refuses them: remove those rows from the history"
            )
    features = [c.name for c in columns if c.role == "feature" and c.why_excluded is None]
    if features:
        notes.append(
            f"features: {len(features)} column(s) still TODO: map each to one of "
            f"{', '.join((*REASONS, CONTEXT))}, or move it to excluded"
        )
    leaky = [n for n in features if _may_leak(n)]
    if leaky:
        notes.append(
            f"leakage: {', '.join(leaky)} may be known only after the outcome; check before "
            "using (exclude it if so)"
        )
    protected = [c.name for c in columns if c.role == "protected"]
    if protected:
        notes.append(
            f"protected: {', '.join(protected)} (by name): never features unless listed in "
            "allow_protected; mark other protected attributes in protected"
        )
    excluded = [f"{c.name} ({c.why_excluded.split(':')[0]})" for c in columns if c.why_excluded]
    if excluded:
        notes.append(f"excluded: {', '.join(excluded)}; check none of them is needed")
    date = next((c.name for c in columns if c.role == "date"), None)
    if date:
        notes.append(f"date: {date!r} orders the prospects; the newest are the holdout")
    else:
        notes.append(
            "date: no date column; if the rows run oldest -> newest, set "
            "validation.rows_in_time_order = true (else the holdout is a random share)"
        )
    for column in columns:
        notes.extend(column.notes)
        if (column.decimal, column.thousands) != (".", None):
            written = {",": "a decimal comma", ".": "a decimal point"}[column.decimal]
            if column.thousands:
                written += f" and {_SEPARATOR_WORDS[column.thousands]} between thousands"
            notes.append(
                f"{column.name}: numbers written with {written}; declared in the schema "
                f"(decimal = {_string(column.decimal)}"
                + (f", thousands = {_string(column.thousands)}" if column.thousands else "")
                + ")"
            )
    return notes


# ------------------------------------------------------------------------------ rendering


def _render(
    path: Path, name: str, columns: list[_Column], outcome: _Column | None, n_rows: int
) -> str:
    source = _comment_text(path.name, 80)
    out: list[str] = [
        f"# Pipeline drafted by `prospect draft` from {source} ({n_rows:,} rows, "
        f"{len(columns)} columns).",
        "# A draft, not a decision: check every line marked TODO or GUESSED. Training refuses",
        '# this file while any feature is still "TODO". Types and roles were inferred from the',
        "# file; the schema is at the end. Unknown keys are errors.",
        "",
        _line(f"name = {_string(name)}", "also the MLflow model name and models/<name>/"),
        f"description = {_string(f'Drafted from {path.name}; describe the history here.')}",
        _line("language = " + _string("en"), "language of explanations and advice: en or fr"),
        '# id_column / date_column default to the schema\'s columns with role "id" / "date".',
        "",
    ]
    excluded = [c for c in columns if c.why_excluded]
    out.append("# Columns in the export that are not features, and why.")
    if excluded:
        out.append("excluded = [")
        for column in excluded:
            out.append(_line(f"    {_string(column.name)},", column.why_excluded))
        out.append("]")
    else:
        out.append("excluded = []")
    protected = [c.name for c in columns if c.role == "protected"]
    out.append("# Protected attributes are never features unless listed in allow_protected.")
    if protected:
        out.append(
            '# By their names, the schema marks these as protected (role "protected"): '
            + _comment_text(", ".join(protected), WIDTH - 60)
            + "."
        )
    else:
        out.append("# No column looks like a protected attribute by its name.")
    out += ["# List more here (age, gender, nationality… under other names).", "protected = []"]
    out += ["allow_protected = []", ""]

    out += _render_outcome(outcome)
    out += _render_features(columns)
    out += _render_settings(columns)
    out += _render_phrases(columns)
    out += _render_schema(name, path, columns, n_rows)
    return "\n".join(out) + "\n"


def _render_outcome(outcome: _Column | None) -> list[str]:
    out = ["[outcome]"]
    if outcome is None:
        out += [
            _line(f"column = {_string(TODO)}", "name the outcome column; give it role outcome"),
            "# label in the file -> one of win_win, win_lose, stalled, declined, open",
            "labels = {}",
            "",
        ]
        return out
    classes = _label_classes(outcome)
    out += [_line(f"column = {_string(outcome.name)}", "GUESSED: check this is the outcome")]
    if "open" in classes.values():
        out += [
            "# Deals not decided yet map to open: counted, and left out of training and of",
            "# every metric. To count the open ones without contact for long as stalled",
            "# (strung along), name a column of days since the last contact (or its date):",
            '# open_as_stalled_after = { column = "TODO", days = 90 }',
        ]
    out += [
        "",
        "# Each label in the file -> one of win_win (a healthy client), win_lose (became a",
        "# client, then turned bad), stalled (strung along) or declined, or open (not decided",
        '# yet). A firm with only some classes maps onto those (yes = "win_win", no = "declined").',
        "[outcome.labels]",
    ]
    total = int(outcome.counts.sum())
    for label, cls in classes.items():
        rows = int(outcome.counts[label])
        comment = f"{rows:,} rows ({100 * rows / total:.1f} %)"
        comment += "; decide: one of " + ", ".join(OUTCOMES) if cls == TODO else "; GUESSED"
        out.append(_line(f"{_key(label)} = {_string(cls)}", comment))
    out.append("")
    return out


def _render_features(columns: list[_Column]) -> list[str]:
    out = [
        "# Which of the four reasons each feature speaks to: poor_fit, difficult_expectations,",
        "# product_mismatch, strung_along, or context (used by the model, belongs to no reason).",
        '# Replace every "TODO", or move the column to `excluded`. Each comment shows what the',
        "# file holds: the inferred type, its range or values.",
        "[features]",
    ]
    features = [c for c in columns if c.role == "feature" and not c.why_excluded]
    for column in features:
        if _may_leak(column.name):
            out.append("# may be known only after the outcome: check before using (leakage)")
        out.append(_line(f"{_key(column.name)} = {_string(TODO)}", _describe(column)))
    if not features:
        out.append("# (no column left to use as a feature: check the roles and `excluded`)")
    out.append("")
    return out


def _render_settings(columns: list[_Column]) -> list[str]:
    has_date = any(c.role == "date" for c in columns)
    order = (
        "the schema's date column orders the rows, so this is ignored"
        if has_date
        else "set true when the rows run oldest -> newest"
    )
    return [
        "[validation]",
        _line("folds = 5", "stratified k-fold cross-validation on the older rows"),
        _line("holdout_share = 0.2", "the newest 20 % (by date) are the time-based holdout"),
        "# Without a date column the holdout is a random share, unless the file itself runs",
        "# oldest -> newest: then set rows_in_time_order = true and the last rows are the holdout.",
        _line("rows_in_time_order = false", order),
        "seed = 42",
        _line(f"min_rows = {MIN_ROWS}", "training refuses fewer rows than this..."),
        _line(f"min_per_class = {MIN_PER_CLASS}", "...or fewer examples than this of any class"),
        _line("max_bad_row_share = 0.01", "rows with a problem set aside, up to this share"),
        "",
        "[model]",
        _line('family = "hgb"', "hgb (gradient-boosted trees) or logistic (baseline)"),
        _line('calibration = "temperature"', "fitted on out-of-fold predictions, or none"),
        _line("rare_category_share = 0.005", "rarer categories are grouped together"),
        _line('compare_with = ["hgb_default", "logistic"]', "what `prospect compare` also runs"),
        _line('processes = "auto"', "worker processes for the 7 fits (auto: cores, 50k+ rows)"),
        "",
        _line("[model.params]", "passed to scikit-learn's HistGradientBoostingClassifier"),
        "max_depth = 2",
        "learning_rate = 0.1",
        "max_iter = 500",
        "early_stopping = true",
        "validation_fraction = 0.1",
        "n_iter_no_change = 20",
        "l2_regularization = 1.0",
        "",
        "[recommendation]",
        "# Tiers relative to this history's outcome rates: an outcome's lift is its odds for",
        "# the prospect over its odds in the history. walk_away when an unwanted outcome has a",
        "# lift >= walk_away_min_lift; else pursue when win_win's lift >= pursue_min_win_win_lift;",
        "# otherwise qualify. Training prints how the holdout falls into the tiers.",
        "pursue_min_win_win_lift = 1.5",
        "walk_away_min_lift = 2.0",
        "",
        "[explanation]",
        _line("min_reason_points = 5.0", "a reason is named from this many percentage points"),
        _line("min_driver_points = 1.0", "a driver is listed from this many points"),
        "",
        "[promotion]",
        "# A challenger replaces the champion only when, on the same holdout (the newest rows):",
        _line("max_log_loss_increase = 0.01", "its log loss is at most this much worse,"),
        _line("max_roc_auc_drop = 0.02", "no outcome's ROC AUC falls by more than this,"),
        _line("min_roc_auc_macro = 0.55", "and it tells outcomes apart (macro ROC AUC floor)."),
        "",
        "[leakage]",
        "# A feature that alone predicts the outcome very well, or far better than every other",
        "# feature (a call's duration), stops training: it is probably known only afterwards.",
        _line("max_single_feature_auc = 0.95", "a feature this predictive alone stops training"),
        _line("allow = []", "features allowed past that guard, explicitly"),
        "# Blanks that alone tell the outcome (a field the CRM fills only when a deal closes)",
        "# stop training too: a model would read the blanks, not the prospect.",
        _line("max_missingness_auc = 0.80", "a column's blanks, or their pattern, this telling"),
        _line("allow_missingness = []", "columns whose blanks are known before the outcome"),
        "",
    ]


def _render_phrases(columns: list[_Column]) -> list[str]:
    """Default phrases for each feature, from its name: the analyst makes them read well
    ("3 postponements" rather than "postponements: 3") and translates the labels."""
    features = [c for c in columns if c.role == "feature" and not c.why_excluded]
    if not features:
        return []
    out = [
        "# How the output says each feature and its value, in English and French, drafted",
        "# from the column's name: edit the labels and templates ({n}: the number, {value}:",
        "# the category; `values` gives a category's words). Without phrases a feature",
        '# reads "label: value".',
    ]
    for column in features:
        label = " ".join(name_words(column.name)) or column.name
        templates = {"en": {}, "fr": {}}
        for lang, colon, yes, no in (("en", ": ", "yes", "no"), ("fr", " : ", "oui", "non")):
            said = templates[lang]
            said["label"] = label
            if column.type in ("int", "float"):
                said["one"] = said["many"] = f"{label}{colon}{{n}}"
            elif column.type == "bool":
                said["true"], said["false"] = f"{label}{colon}{yes}", f"{label}{colon}{no}"
            elif column.type in ("category", "string"):
                said["text"] = f"{label}{colon}{{value}}"
            else:
                break
        else:
            out.append(f"[phrases.{_key(column.name)}]")
            for lang in ("en", "fr"):
                pairs = ", ".join(f"{k} = {_string(v)}" for k, v in templates[lang].items())
                out.append(f"{lang} = {{ {pairs} }}")
            out.append("")
    return ["", *out] if len(out) > 4 else []


def _render_schema(name: str, path: Path, columns: list[_Column], n_rows: int) -> list[str]:
    out = [
        "# The schema of the export, inferred from the file: each column's type (string, int,",
        "# float, bool, category, date), role (id, date, feature, outcome, protected), whether it",
        "# may be empty, and the allowed categories. Add `unit` and `description` as you like.",
        "# Validation refuses a value outside a column's categories: add new ones here.",
        "[schema]",
        f"name = {_string(name)}",
        "description = "
        + _string(f"Inferred from {path.name} ({n_rows:,} rows); check the types and roles."),
    ]
    for column in columns:
        out += ["", f"[schema.columns.{_key(column.name)}]"]
        out.append(_line(f"type = {_string(column.type)}", _type_comment(column)))
        out.append(_line(f"role = {_string(column.role)}", _role_comment(column)))
        out.append(
            _line(
                f"nullable = {'true' if column.n_missing else 'false'}",
                f"{column.n_missing:,} missing" if column.n_missing else "no missing value",
            )
        )
        if column.placeholders:
            out += _array("missing_values = ", [_string(v) for v in column.placeholders])
            out[-1] = _line(out[-1], "a form's default in the file: read as blank")
        if column.symbols:
            out.append(
                _line(
                    "symbols = [" + ", ".join(_string(s) for s in column.symbols) + "]",
                    "signs written with the numbers in the file; dropped",
                )
            )
        if column.date_format:
            out.append(
                _line(
                    f"date_format = {_string(column.date_format)}",
                    "day first" if column.date_format.startswith("%d") else "month first",
                )
            )
        if column.normalise:
            out.append(_line("normalise = true", "the file writes some categories in several ways"))
        if column.aliases:
            pairs = ", ".join(f"{_key(a)} = {_string(c)}" for a, c in column.aliases.items())
            out.append(_line(f"aliases = {{ {pairs} }}", "other spellings in the file"))
        if column.decimal != ".":
            out.append(_line(f"decimal = {_string(column.decimal)}", "as written in the file"))
        if column.thousands:
            out.append(
                _line(
                    f"thousands = {_string(column.thousands)}",
                    f"{_SEPARATOR_WORDS[column.thousands]} between thousands, as in the file",
                )
            )
        numeric = column.type in ("int", "float") and column.numbers is not None
        if numeric and column.numbers.min() >= 0 and _is_amount(column):
            out.append(_line("min = 0", "a count or amount; no max, so larger values still pass"))
        if column.type == "category":
            out += _array("categories = ", [_string(str(v)) for v in column.counts.index])
    return out


def _type_comment(column: _Column) -> str:
    if column.type == "category":
        return f"{_plural(column.n_distinct, 'value')}, most frequent first"
    if column.type == "string":
        return f"text, {column.n_distinct:,} distinct values"
    if column.type in ("int", "float"):
        low, high = column.numbers.min(), column.numbers.max()
        return f"from {_number(low)} to {_number(high)} in this file"
    if column.type == "bool":
        return ", ".join(str(v) for v in column.counts.index[:4])
    return f"{column.counts.index.min()} to {column.counts.index.max()}"


def _role_comment(column: _Column) -> str:
    return {
        "outcome": "GUESSED: check this is the outcome",
        "id": "id-like: unique in every row",
        "date": "orders the prospects: the newest are the holdout",
        "protected": "by its name: never a feature unless allow_protected lists it",
    }.get(column.role, column.why_excluded or "")


def _describe(column: _Column) -> str:
    """The type and a few example values, for a feature's comment."""
    tail = f"; {column.n_missing:,} missing" if column.n_missing else ""
    values = [_comment_text(str(v), 20) for v in column.counts.index]
    if column.type == "category":
        head, shown = f"category, {_plural(column.n_distinct, 'value')}: ", values
    elif column.type == "bool":
        head, shown = "bool: ", values
    elif column.type in ("int", "float"):
        low, high = column.numbers.min(), column.numbers.max()
        head = f"{column.type} from {_number(low)} to {_number(high)}, e.g. "
        examples = pd.unique(column.numbers.to_numpy())[:3]
        shown = [_number(v, grouped=False) for v in examples]
    else:
        head, shown = f"{column.type}, e.g. ", values[:3]
    return _fit(head, shown, tail, WIDTH - COMMENT_COLUMN - 2)


def _fit(head: str, values: list[str], tail: str, limit: int) -> str:
    """``head`` and as many whole ``values`` as fit in ``limit`` characters, then ``tail``."""
    text = head + values[0]
    for i, value in enumerate(values[1:], start=1):
        more = ", …" if i < len(values) - 1 else ""
        if len(text + ", " + value + more + tail) > limit:
            return text + ", …" + tail
        text += ", " + value
    return text + tail


# ------------------------------------------------------------------------------ TOML text


def _line(code: str, comment: str | None) -> str:
    """``code`` with a trailing comment aligned like the example pipeline's."""
    if not comment:
        return code
    pad = COMMENT_COLUMN - len(code) if len(code) < COMMENT_COLUMN else 2
    room = max(WIDTH + 4 - len(code) - pad - 2, 30)  # lines of at most 100 when possible
    return f"{code}{' ' * pad}# {_comment_text(comment, room)}"


def _string(value: str) -> str:
    """A TOML basic string."""
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n"}
    escapes |= {"\f": "\\f", "\r": "\\r"}
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(name: str) -> str:
    """A TOML key: bare when it may be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _string(name)


def _comment_text(text: str, limit: int) -> str:
    """Text safe inside a TOML comment (no control characters), at most ``limit`` long."""
    clean = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _array(prefix: str, items: Iterable[str]) -> list[str]:
    items = list(items)
    one_line = prefix + "[" + ", ".join(items) + "]"
    if len(one_line) <= WIDTH:
        return [one_line]
    lines, current = [prefix + "["], "   "
    for item in items:
        if len(current) + len(item) + 2 > WIDTH:
            lines.append(current.rstrip())
            current = "   "
        current += f" {item},"
    lines += [current.rstrip(), "]"]
    return lines


def _number(value: float, grouped: bool = True) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}" if grouped else str(int(value))
    return f"{value:,.6g}" if grouped else f"{value:.6g}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
