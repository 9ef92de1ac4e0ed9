"""The product's words, looked up and formatted, in English and French.

The four reasons, their meaning and the advice come from the article "4 reasons to part
ways with a prospect" (the texts themselves are in :mod:`~prospect_predictor.language.words`);
outcomes and recommendations get short labels; :func:`ui` gives the short interface
strings; :func:`describe_feature` says a feature and its value in an advisor's words ("3
postponements", "actifs 40 000 EUR"); French follows French typography (:func:`typeset`).

Standard library only: this module is on the scoring path, which must start fast. Numbers
from numpy or pandas are accepted by duck typing (``float(value)``, ``value != value``).

French numbers use a plain space as the thousands separator and a decimal comma
("40 000 EUR", "4,5 jours"); a plain space keeps the text searchable and copy-pasteable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prospect_predictor.errors import ProspectError
from prospect_predictor.language.words import (
    ADVICE,
    OUTCOME_LABELS,
    OUTCOME_MEANINGS,
    REASON_LABELS,
    REASON_MEANINGS,
    RECOMMENDATION_LABELS,
    RECOMMENDATION_MEANINGS,
    UI,
    WATCH,
    Texts,
)

LANGUAGES: tuple[str, ...] = ("en", "fr")
"""The languages of every text, in the order of the error message."""

KINDS: tuple[str, ...] = ("int", "float", "bool", "category", "string", "date")
"""The schema column types :func:`describe_feature` understands."""


# The kind of phrase a feature's schema type takes (a pipeline's [phrases]).
_PHRASE_KINDS = {"int": "number", "float": "number", "bool": "bool", "category": "category"}
_PHRASE_KINDS["string"] = "category"
_NEEDS = {"number": ("one", "many"), "bool": ("true", "false"), "category": ("text",)}

_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "oui", "vrai"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "non", "faux"})


# --- public API ---------------------------------------------------------------------------


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else a :class:`ProspectError`."""
    if isinstance(lang, str) and lang in LANGUAGES:
        return lang
    raise ProspectError(f"unknown language {lang!r}: expected {' or '.join(LANGUAGES)}")


def reason_label(reason: str, lang: str) -> str:
    """A reason's short name ("Strung along"); ``context`` included."""
    return _lookup(REASON_LABELS, reason, lang, "reason")


def reason_meaning(reason: str, lang: str) -> str:
    """One sentence: what the reason means, as the article puts it."""
    return _lookup(REASON_MEANINGS, reason, lang, "reason")


def outcome_label(outcome: str, lang: str) -> str:
    """A short human label for ``win_win``, ``win_lose``, ``stalled`` or ``declined``."""
    return _lookup(OUTCOME_LABELS, outcome, lang, "outcome")


def outcome_meaning(outcome: str, lang: str) -> str:
    """What the outcome means for the prospect ("becomes a client, then ... turns bad")."""
    return _lookup(OUTCOME_MEANINGS, outcome, lang, "outcome")


def recommendation_label(recommendation: str, lang: str) -> str:
    """A short label for ``pursue``, ``qualify`` or ``walk_away``."""
    return _lookup(RECOMMENDATION_LABELS, recommendation, lang, "recommendation")


def recommendation_meaning(recommendation: str, lang: str) -> str:
    """What the recommendation means ("worth one more meeting to find out")."""
    return _lookup(RECOMMENDATION_MEANINGS, recommendation, lang, "recommendation")


def watch(reason: str, lang: str) -> str:
    """What to watch for ``reason`` when the prospect is worth pursuing."""
    return _lookup(WATCH, reason, lang, "reason")


def advice(reason: str, lang: str) -> str:
    """The article's advice for a reason; a neutral sentence for ``context``."""
    return _lookup(ADVICE, reason, lang, "reason")


def ui(key: str, lang: str, **values: Any) -> str:
    """A short interface string, ``str.format``-ed with ``values``.

    ``ui("unknown_fields", "en", fields="assets, income")`` gives
    ``"unknown (not given): assets, income"``.
    """
    text = _lookup(UI, key, lang, "interface text")
    try:
        return typeset(text.format(**values), lang)
    except KeyError as exc:
        raise KeyError(f"interface text {key!r} needs the value {exc.args[0]!r}") from None


def column_label(name: str, lang: str, phrases: Mapping | None = None) -> str:
    """A column's name in words: its label in the pipeline's ``phrases`` ("actifs
    investissables"), else the name with underscores as spaces ("last contact")."""
    lang = check_language(lang)
    entry = (phrases or {}).get(name)
    if entry and entry.get(lang, {}).get("label"):
        return entry[lang]["label"]
    return _spaced(name)


def format_number(value: Any, lang: str, *, decimals: int = 2) -> str:
    """A number for an advisor: thousands separated, at most ``decimals`` decimals, no
    trailing zeros ("40,000", "4.5"; French "40 000", "4,5"). Anything that is not a
    number comes back as ``str(value)``."""
    lang = check_language(lang)
    number = _as_number(value)
    if number is None:
        return str(value)
    if isinstance(number, int):
        text = f"{number:,}"
    else:
        text = f"{number:,.{max(decimals, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").replace(",", "").replace(".", "").strip("0") == "":
        text = "0"  # no "-0" for a small negative rounded away
    if lang == "fr":
        text = text.replace(",", " ").replace(".", ",")
    return text


def format_percent(share: Any, lang: str, *, decimals: int = 0) -> str:
    """A share in [0, 1] as a percentage: ``0.623`` -> "62 %" (in French with a no-break
    space before the sign)."""
    number = _as_number(share)
    if number is None:
        check_language(lang)
        return str(share)
    return typeset(f"{format_number(number * 100, lang, decimals=decimals)} %", lang)


def describe_feature(
    name: str,
    value: Any,
    lang: str,
    *,
    kind: str,
    unit: str | None = None,
    phrases: Mapping | None = None,
) -> str:
    """The feature and its value in plain words: "3 postponements", "actifs 40 000 EUR",
    "decision maker absent", "investable assets: unknown".

    ``kind`` is the column's schema type (int, float, bool, category, string, date).
    ``phrases`` are the pipeline's (``[phrases]``, kept in the bundle's metadata): a
    feature with phrases for its kind reads with them; any other reads "balance: 1,234
    EUR" (``unit`` appended). ``None`` and NaN mean unknown. An unexpected value never
    raises: it is shown as ``str(value)``.
    """
    lang = check_language(lang)
    if kind not in KINDS:
        raise ValueError(f"unknown column kind {kind!r}: expected one of {', '.join(KINDS)}")
    entry = (phrases or {}).get(name)
    phrase = _PHRASE_KINDS.get(kind)
    words = (entry or {}).get(lang) or {}
    if phrase and words and all(words.get(k) for k in _NEEDS[phrase]):
        if _is_missing(value):
            return typeset(
                words.get("missing") or _join(words["label"], _unknown(lang), lang), lang
            )
        described = _phrase(phrase, int(entry.get("decimals", 0)), words, value, lang)
        if described is not None:
            return typeset(described, lang)
        return typeset(_join(words["label"], str(value), lang), lang)
    return typeset(_generic(name, value, lang, kind, unit, phrases), lang)


# --- helpers ------------------------------------------------------------------------------


def _lookup(table: Texts, key: str, lang: str, what: str) -> str:
    lang = check_language(lang)
    try:
        entry = table[key]
    except (KeyError, TypeError):
        raise KeyError(f"unknown {what} {key!r}: expected one of {', '.join(table)}") from None
    return typeset(entry[lang], lang)


NBSP, NARROW_NBSP = "\u00a0", "\u202f"
_FRENCH_SPACES = (
    (" :", NBSP + ":"),
    (" %", NBSP + "%"),
    (" ;", NARROW_NBSP + ";"),
    (" ?", NARROW_NBSP + "?"),
    (" !", NARROW_NBSP + "!"),
    ("« ", "«" + NBSP),
    (" »", NBSP + "»"),
)


def listed(items: list[str], lang: str) -> str:
    """Items separated by semicolons ("a; b"; French "a ; b" with a narrow no-break space)."""
    return (NARROW_NBSP + "; " if lang == "fr" else "; ").join(items)


def labelled(label: str, value: str, lang: str) -> str:
    """``label: value`` ("conseil : …" in French, with a no-break space)."""
    return typeset(f"{label} : {value}", lang) if lang == "fr" else f"{label}: {value}"


def typeset(text: str, lang: str) -> str:
    """French typography: a no-break space before ``:`` and ``%`` and inside « », a narrow
    one before ``;``, ``?`` and ``!``, so a line never breaks before them. Other languages
    are returned as they are."""
    if lang != "fr":
        return text
    for plain, tied in _FRENCH_SPACES:
        text = text.replace(plain, tied)
    return text


def _unknown(lang: str) -> str:
    return UI["unknown"][lang]


def _phrase(
    phrase: str, decimals: int, words: Mapping[str, Any], value: Any, lang: str
) -> str | None:
    """A feature's phrase from its pipeline phrases, or None when the value does not suit
    it."""
    if phrase == "number":
        number = _as_number(value)
        if number is None:
            return None
        shown = format_number(number, lang, decimals=decimals)
        rounded = round(float(number), decimals)
        if rounded == 0 and "zero" in words:
            return words["zero"]
        singular = abs(rounded) < 2 if lang == "fr" else abs(rounded) == 1
        return words["one" if singular else "many"].format(n=shown)
    if phrase == "bool":
        flag = _as_bool(value)
        if flag is None:
            return None
        return words["true" if flag else "false"]
    category = str(value)
    category = (words.get("values") or {}).get(category) or _spaced(category)
    return words["text"].format(value=category)


def _generic(
    name: str, value: Any, lang: str, kind: str, unit: str | None, phrases: Mapping | None = None
) -> str:
    """ "{label}: {value}{ unit}" for a feature without phrases for its kind."""
    label = column_label(name, lang, phrases)
    if _is_missing(value):
        return _join(label, UI["unknown"][lang], lang)
    if kind == "bool":
        flag = _as_bool(value)
        shown = str(value) if flag is None else UI["yes" if flag else "no"][lang]
        return _join(label, shown, lang)
    if kind in ("int", "float") and _is_year(name, unit):
        number = _as_number(value)
        shown = (
            str(int(number))
            if isinstance(number, int) or float(number).is_integer()
            else (format_number(value, lang))
        )
    elif kind in ("int", "float"):
        shown = format_number(value, lang)
    elif kind == "category":
        shown = _spaced(str(value))
    elif kind == "date":
        shown = _date_text(value)
    else:
        shown = str(value)
    if unit:
        shown = f"{shown} {unit}"
    return _join(label, shown, lang)


def _is_year(name: str, unit: str | None) -> bool:
    """A calendar year is written 1998, never 1,998: a column with unit "year" or a name
    holding the word year (year_established, founded_year)."""
    words = name.lower().replace("-", "_").replace(" ", "_").split("_")
    return (unit or "").lower() in ("year", "years", "an", "année") or "year" in words


def _join(label: str, shown: str, lang: str) -> str:
    return f"{label} : {shown}" if lang == "fr" else f"{label}: {shown}"


def _spaced(text: str) -> str:
    return text.replace("_", " ")


def _is_missing(value: Any) -> bool:
    """None, NaN, NaT, pandas NA, or blank text."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        differs = value != value
    except Exception:
        return False
    try:
        return bool(differs)
    except Exception:  # pandas.NA: its comparisons are NA, whose truth is undefined
        return type(value).__name__ == "NAType"


def _as_number(value: Any) -> int | float | None:
    """An int (for whole-number types: int, numpy integers) or a finite float, else None."""
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "__index__") and not isinstance(value, str):
        try:
            return int(value.__index__())
        except Exception:
            pass
    try:
        number = float(value)
    except Exception:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


def _as_bool(value: Any) -> bool | None:
    """True/False from bools, numpy bools, 0/1 and words like "true"/"no"; else None."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        return None
    number = _as_number(value)
    if number == 1:
        return True
    if number == 0:
        return False
    return None


def _date_text(value: Any) -> str:
    """An ISO date, without a midnight time ("2024-03-01", not "2024-03-01 00:00:00")."""
    try:
        text = value.isoformat()
    except Exception:
        return str(value)
    if not isinstance(text, str):
        return str(value)
    for midnight in ("T00:00:00", " 00:00:00"):
        if text.endswith(midnight):
            return text[: -len(midnight)]
    return text
