"""The product's own words, in English and French: reasons, advice, outcomes, labels.

The four reasons, their meaning and the advice come from the article "4 reasons to part
ways with a prospect"; outcomes and recommendations get short labels; :func:`ui` holds the
short interface strings; :func:`describe_feature` says a feature and its value in an
advisor's words ("3 postponements", "actifs 40 000 EUR").

Standard library only: this module is on the scoring path, which must start fast. Numbers
from numpy or pandas are accepted by duck typing (``float(value)``, ``value != value``).

French numbers use a plain space as the thousands separator and a decimal comma
("40 000 EUR", "4,5 jours"); a plain space keeps the text searchable and copy-pasteable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prospect_predictor.errors import ProspectError
from prospect_predictor.language.columns import CATEGORIES_FR, COLUMNS, Texts

LANGUAGES: tuple[str, ...] = ("en", "fr")
"""The languages of every text, in the order of the error message."""

KINDS: tuple[str, ...] = ("int", "float", "bool", "category", "string", "date")
"""The schema column types :func:`describe_feature` understands."""


# --- the four reasons (and context) -------------------------------------------------------

_REASON_LABELS: Texts = {
    "poor_fit": {"en": "Poor fit", "fr": "Hors cible"},
    "difficult_expectations": {
        "en": "Difficult or unrealistic expectations",
        "fr": "Attentes difficiles ou irréalistes",
    },
    "product_mismatch": {"en": "Product mismatch", "fr": "Produit inadapté"},
    "strung_along": {"en": "Strung along", "fr": "Mené en bateau"},
    "context": {"en": "Context", "fr": "Contexte"},
}

_REASON_MEANINGS: Texts = {
    "poor_fit": {
        "en": "The prospect does not fit the firm's business model: their assets, needs or "
        "profile are not those of the clients you serve best.",
        "fr": "Le prospect ne correspond pas au modèle économique du cabinet : son patrimoine, "
        "ses besoins ou son profil ne sont pas ceux des clients que vous servez le mieux.",
    },
    "difficult_expectations": {
        "en": "The prospect would be unpleasant to work with or expects the impossible, such "
        "as high returns with no risk.",
        "fr": "Le prospect serait désagréable à accompagner ou attend l'impossible, comme des "
        "rendements élevés sans aucun risque.",
    },
    "product_mismatch": {
        "en": "The deal would be win-lose: the product on offer does not truly serve the "
        "need (when all you have is a hammer, everything looks like a nail).",
        "fr": "L'affaire serait gagnant-perdant : le produit proposé ne répond pas vraiment au "
        "besoin (quand on n'a qu'un marteau, tout ressemble à un clou).",
    },
    "strung_along": {
        "en": 'The prospect is stringing you along with disguised "no"s, such as "call me '
        'back in three months".',
        "fr": "Le prospect vous fait lanterner avec des « non » déguisés, comme « rappelez-moi "
        "dans trois mois ».",
    },
    "context": {
        "en": "Facts the model uses that speak to none of the four reasons.",
        "fr": "Des éléments que le modèle utilise mais qui ne relèvent d'aucune des quatre "
        "raisons.",
    },
}

_ADVICE: Texts = {
    "poor_fit": {
        "en": "Refer this prospect to a colleague or a firm that serves such clients well: "
        "they will be better served and will remember you for it. Then tell your best "
        "clients and centres of influence whom you serve best, so that the next referrals "
        "fit.",
        "fr": "Orientez ce prospect vers un confrère ou un cabinet qui sert bien ce type de "
        "clients : il sera mieux servi et vous en saura gré. Dites ensuite à vos meilleurs "
        "clients et à vos prescripteurs quels clients vous servez le mieux, pour que les "
        "prochaines recommandations vous correspondent.",
    },
    "difficult_expectations": {
        "en": "Treat the first meeting as a mutual interview: you are choosing them as much "
        "as they are choosing you. Trust the warning signs (unrealistic returns, demands "
        "for guarantees, missed meetings) and part ways before they become a client you "
        "dread.",
        "fr": "Abordez le premier rendez-vous comme un entretien réciproque : vous le "
        "choisissez autant qu'il vous choisit. Fiez-vous aux signaux d'alerte (rendements "
        "irréalistes, exigence de garanties, rendez-vous manqués) et séparez-vous avant "
        "qu'il ne devienne un client que vous redoutez.",
    },
    "product_mismatch": {
        "en": "Withdraw gracefully rather than sell something that is not a full win-win. A "
        "product that does not serve the need turns a client into a complaint.",
        "fr": "Retirez-vous avec élégance plutôt que de vendre ce qui n'est pas pleinement "
        "gagnant-gagnant. Un produit qui ne répond pas au besoin transforme un client en "
        "réclamation.",
    },
    "strung_along": {
        "en": 'Go for the "no" and ask directly: "Correct me if I\'m wrong, but I get the '
        "feeling that this isn't a priority for you right now. Would it be fair to close "
        'the file for now?" A clear no frees your time; a real yes will say so.',
        "fr": "Allez chercher le « non » et posez la question franchement : « Corrigez-moi si "
        "je me trompe, mais j'ai le sentiment que ce n'est pas une priorité pour vous en ce "
        "moment. Serait-il juste de clore le dossier pour l'instant ? » Un non clair libère "
        "votre temps ; un vrai oui saura se manifester.",
    },
    "context": {
        "en": "No advice here: these facts speak to none of the four reasons.",
        "fr": "Pas de conseil ici : ces éléments ne relèvent d'aucune des quatre raisons.",
    },
}


# What to watch when the tier is pursue: the same four reasons, worded for a prospect worth
# pursuing (never advice to part ways).
_WATCH: Texts = {
    "poor_fit": {
        "en": "Worth pursuing; check early that they fit the way you work (the clients you "
        "serve best, your minimum, your service model).",
        "fr": "À poursuivre ; vérifiez tôt qu'il correspond à votre façon de travailler (les "
        "clients que vous servez le mieux, votre minimum, votre modèle de service).",
    },
    "difficult_expectations": {
        "en": "Worth pursuing; set expectations in writing at the first meeting (returns, "
        "risk, how often you meet).",
        "fr": "À poursuivre ; fixez les attentes par écrit dès le premier rendez-vous "
        "(rendements, risque, fréquence des rendez-vous).",
    },
    "product_mismatch": {
        "en": "Worth pursuing; make sure what you propose is the product designed for their need.",
        "fr": "À poursuivre ; assurez-vous que ce que vous proposez est le produit conçu pour "
        "son besoin.",
    },
    "strung_along": {
        "en": "Worth pursuing; agree on the next step and a date for the decision.",
        "fr": "À poursuivre ; convenez de la prochaine étape et d'une date de décision.",
    },
}


# --- outcomes and recommendations ---------------------------------------------------------

_OUTCOME_LABELS: Texts = {
    "win_win": {"en": "Win-win client", "fr": "Client gagnant-gagnant"},
    "win_lose": {"en": "Win-lose client", "fr": "Client gagnant-perdant"},
    "stalled": {"en": "Stalled", "fr": "Enlisé"},
    "declined": {"en": "Declined", "fr": "Refus"},
}

_OUTCOME_MEANINGS: Texts = {
    "win_win": {
        "en": "becomes a healthy client",
        "fr": "devient un client avec qui la relation est saine",
    },
    "win_lose": {
        "en": "becomes a client, then the relationship turns bad",
        "fr": "devient client, puis la relation tourne mal",
    },
    "stalled": {
        "en": "strings you along without ever deciding",
        "fr": "vous fait lanterner sans jamais se décider",
    },
    "declined": {"en": "says no", "fr": "dit non"},
}

_RECOMMENDATION_LABELS: Texts = {
    "pursue": {"en": "Pursue", "fr": "Poursuivre"},
    "qualify": {"en": "Qualify", "fr": "Qualifier"},
    "walk_away": {"en": "Walk away", "fr": "Renoncer"},
}

_RECOMMENDATION_MEANINGS: Texts = {
    "pursue": {
        "en": "a likely win-win: worth your time",
        "fr": "un gagnant-gagnant probable : il mérite votre temps",
    },
    "qualify": {
        "en": "worth one more meeting to find out",
        "fr": "mérite un rendez-vous de plus pour en avoir le cœur net",
    },
    "walk_away": {
        "en": "a bad outcome or a refusal is likely: part ways politely",
        "fr": "une mauvaise issue ou un refus est probable : séparez-vous poliment",
    },
}


# --- short interface strings --------------------------------------------------------------

_UI: Texts = {
    "no_data": {"en": "no data for this reason", "fr": "aucune donnée pour cette raison"},
    "no_single_reason": {
        "en": "no single reason stands out",
        "fr": "aucune raison ne se détache",
    },
    "no_single_reason_walk_away": {
        "en": "No single reason stands out, but prospects like this one seldom became "
        "win-win clients. Ask plainly whether they mean to go ahead, and accept a no.",
        "fr": "Aucune raison ne se détache, mais les prospects comme celui-ci sont rarement "
        "devenus des clients gagnant-gagnant. Demandez-lui franchement s'il compte aller "
        "plus loin, et acceptez un non.",
    },
    "no_single_reason_qualify": {
        "en": "No single reason stands out: use the next meeting to find out whether this "
        "can become a win-win.",
        "fr": "Aucune raison ne se détache : profitez du prochain rendez-vous pour savoir si "
        "la relation peut devenir gagnant-gagnant.",
    },
    "no_single_reason_pursue": {
        "en": "No warning sign stands out.",
        "fr": "Aucun signal d'alerte ne se détache.",
    },
    "points": {"en": "{points} pts", "fr": "{points} points"},
    "incomplete_record": {"en": "incomplete record", "fr": "fiche incomplète"},
    "incomplete_advice": {
        "en": "Incomplete record: blank {fields}. The blanks, not what is known of the "
        "prospect, drive this score: complete them, then score again.",
        "fr": "Fiche incomplète : {fields} non renseignés. Ce sont ces blancs, et non ce que "
        "l'on sait du prospect, qui font ce score : complétez-les, puis relancez le score.",
    },
    "unknown_fields": {
        "en": "unknown (not given): {fields}",
        "fr": "inconnus (non renseignés) : {fields}",
    },
    "unit": {"en": "log-odds against win_win", "fr": "log-cote par rapport à win_win"},
    # the waterfall chart's own words (reports.WATERFALL_WORDS)
    "waterfall_base": {"en": "average prospect", "fr": "prospect moyen"},
    "waterfall_total": {"en": "this prospect", "fr": "ce prospect"},
    "waterfall_others": {"en": "{n} other features", "fr": "{n} autres caractéristiques"},
    "waterfall_empty": {
        "en": "no feature contributions",
        "fr": "aucune contribution des caractéristiques",
    },
    "waterfall_raises": {
        "en": "raises the value (pushes right)",
        "fr": "augmente la valeur (pousse à droite)",
    },
    "waterfall_lowers": {"en": "lowers it (pushes left)", "fr": "la diminue (pousse à gauche)"},
    "top_reason": {"en": "top reason", "fr": "raison principale"},
    "drivers": {"en": "main drivers", "fr": "principaux facteurs"},
    "advice": {"en": "advice", "fr": "conseil"},
    "recommendation": {"en": "recommendation", "fr": "recommandation"},
    "probability": {"en": "probability", "fr": "probabilité"},
    "outcome": {"en": "outcome", "fr": "issue"},
    "prospect": {"en": "prospect", "fr": "prospect"},
    "contribution": {"en": "contribution", "fr": "contribution"},
    "value": {"en": "value", "fr": "valeur"},
    "feature": {"en": "feature", "fr": "variable"},
    "reason": {"en": "reason", "fr": "raison"},
    "raises_risk": {"en": "raises the risk", "fr": "augmente le risque"},
    "lowers_risk": {"en": "lowers the risk", "fr": "réduit le risque"},
    "bad_outcome": {
        "en": "chance of a bad outcome (win-lose or stalled)",
        "fr": "risque d'une mauvaise issue (gagnant-perdant ou enlisé)",
    },
    "yes": {"en": "yes", "fr": "oui"},
    "no": {"en": "no", "fr": "non"},
    "unknown": {"en": "unknown", "fr": "non renseigné"},
}


# Which schema kinds a built-in phrase applies to; another kind gets the generic phrase.
_PHRASE_KINDS = {
    "number": ("int", "float"),
    "bool": ("bool",),
    "category": ("category", "string"),
}

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
    return _lookup(_REASON_LABELS, reason, lang, "reason")


def reason_meaning(reason: str, lang: str) -> str:
    """One sentence: what the reason means, as the article puts it."""
    return _lookup(_REASON_MEANINGS, reason, lang, "reason")


def outcome_label(outcome: str, lang: str) -> str:
    """A short human label for ``win_win``, ``win_lose``, ``stalled`` or ``declined``."""
    return _lookup(_OUTCOME_LABELS, outcome, lang, "outcome")


def outcome_meaning(outcome: str, lang: str) -> str:
    """What the outcome means for the prospect ("becomes a client, then ... turns bad")."""
    return _lookup(_OUTCOME_MEANINGS, outcome, lang, "outcome")


def recommendation_label(recommendation: str, lang: str) -> str:
    """A short label for ``pursue``, ``qualify`` or ``walk_away``."""
    return _lookup(_RECOMMENDATION_LABELS, recommendation, lang, "recommendation")


def recommendation_meaning(recommendation: str, lang: str) -> str:
    """What the recommendation means ("worth one more meeting to find out")."""
    return _lookup(_RECOMMENDATION_MEANINGS, recommendation, lang, "recommendation")


def watch(reason: str, lang: str) -> str:
    """What to watch for ``reason`` when the prospect is worth pursuing."""
    return _lookup(_WATCH, reason, lang, "reason")


def advice(reason: str, lang: str) -> str:
    """The article's advice for a reason; a neutral sentence for ``context``."""
    return _lookup(_ADVICE, reason, lang, "reason")


def ui(key: str, lang: str, **values: Any) -> str:
    """A short interface string, ``str.format``-ed with ``values``.

    ``ui("unknown_fields", "en", fields="assets, income")`` gives
    ``"unknown (not given): assets, income"``.
    """
    text = _lookup(_UI, key, lang, "interface text")
    try:
        return text.format(**values)
    except KeyError as exc:
        raise KeyError(f"interface text {key!r} needs the value {exc.args[0]!r}") from None


def column_label(name: str, lang: str) -> str:
    """A column's name in words: the built-in columns translated ("actifs investissables"),
    any other column with underscores as spaces ("last contact")."""
    lang = check_language(lang)
    if name in COLUMNS:
        return COLUMNS[name][2][lang]["label"]
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
    """A share in [0, 1] as a percentage: ``0.623`` -> "62 %" ("62 %" in French too)."""
    number = _as_number(share)
    if number is None:
        check_language(lang)
        return str(share)
    return f"{format_number(number * 100, lang, decimals=decimals)} %"


def describe_feature(
    name: str, value: Any, lang: str, *, kind: str, unit: str | None = None
) -> str:
    """The feature and its value in plain words: "3 postponements", "actifs 40 000 EUR",
    "decision maker absent", "investable assets: unknown".

    ``kind`` is the column's schema type (int, float, bool, category, string, date). The
    built-in columns have their own phrases; any other column reads "balance: 1,234 EUR"
    (``unit`` appended). ``None`` and NaN mean unknown. An unexpected value never raises:
    it is shown as ``str(value)``.
    """
    lang = check_language(lang)
    if kind not in KINDS:
        raise ValueError(f"unknown column kind {kind!r}: expected one of {', '.join(KINDS)}")
    builtin = COLUMNS.get(name)
    if builtin is not None and kind in _PHRASE_KINDS[builtin[0]]:
        phrase, decimals, texts = builtin
        words = texts[lang]
        if _is_missing(value):
            return words["missing"]
        described = _builtin_phrase(name, phrase, decimals, words, value, lang)
        if described is not None:
            return described
        return _join(words["label"], str(value), lang)
    return _generic(name, value, lang, kind, unit)


# --- helpers ------------------------------------------------------------------------------


def _lookup(table: Texts, key: str, lang: str, what: str) -> str:
    lang = check_language(lang)
    try:
        entry = table[key]
    except (KeyError, TypeError):
        raise KeyError(f"unknown {what} {key!r}: expected one of {', '.join(table)}") from None
    return entry[lang]


def _builtin_phrase(
    name: str, phrase: str, decimals: int, words: Mapping[str, str], value: Any, lang: str
) -> str | None:
    """A built-in column's phrase, or None when the value does not suit it."""
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
    if lang == "fr":
        category = CATEGORIES_FR.get(name, {}).get(category, _spaced(category))
    else:
        category = _spaced(category)
    return words["text"].format(value=category)


def _generic(name: str, value: Any, lang: str, kind: str, unit: str | None) -> str:
    """ "{name with spaces}: {value}{ unit}" for a column that is not built in."""
    label = column_label(name, lang)
    if _is_missing(value):
        return _join(label, _UI["unknown"][lang], lang)
    if kind == "bool":
        flag = _as_bool(value)
        shown = str(value) if flag is None else _UI["yes" if flag else "no"][lang]
        return _join(label, shown, lang)
    if kind in ("int", "float"):
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
