"""The texts of explanations: complete in English and French, and features in plain words."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.config.schema import load_schema
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.errors import ProspectError
from prospect_predictor.language import texts
from prospect_predictor.language.texts import (
    LANGUAGES,
    advice,
    check_language,
    format_number,
    outcome_label,
    reason_label,
    reason_meaning,
    recommendation_label,
    recommendation_meaning,
    ui,
    watch,
)

# The built-in columns' phrases live in the default pipeline ([phrases]), as a firm's do.
DEFAULT = load_pipeline(None)
PHRASES = DEFAULT.phrases_metadata()
describe_feature = partial(texts.describe_feature, phrases=PHRASES)
column_label = partial(texts.column_label, phrases=PHRASES)

ALL_REASONS = (*REASONS, CONTEXT)
RECOMMENDATIONS = ("pursue", "qualify", "walk_away")
UI_KEYS = (
    "no_data",
    "no_single_reason",
    "no_single_reason_walk_away",
    "no_single_reason_qualify",
    "no_single_reason_pursue",
    "points",
    "unknown_fields",
    "unit",
    "top_reason",
    "drivers",
    "advice",
    "recommendation",
    "probability",
    "outcome",
    "prospect",
    "contribution",
    "value",
    "feature",
    "reason",
)
# Words that only a French sentence would contain.
FRENCH_MARKERS = (" le ", " la ", " les ", " des ", " de ", " du ", " vous ", " à ", " une ")


# --- languages ----------------------------------------------------------------------------


def test_languages_are_english_and_french():
    assert LANGUAGES == ("en", "fr")
    assert check_language("en") == "en"
    assert check_language("fr") == "fr"


@pytest.mark.parametrize("lang", ["de", "EN", "", None])
def test_check_language_refuses_other_languages(lang):
    with pytest.raises(ProspectError) as caught:
        check_language(lang)
    assert str(caught.value) == f"unknown language {lang!r}: expected en or fr"


@pytest.mark.parametrize(
    "call",
    [
        lambda lang: reason_label("poor_fit", lang),
        lambda lang: reason_meaning("poor_fit", lang),
        lambda lang: advice("poor_fit", lang),
        lambda lang: outcome_label("win_win", lang),
        lambda lang: recommendation_label("qualify", lang),
        lambda lang: recommendation_meaning("qualify", lang),
        lambda lang: ui("advice", lang),
        lambda lang: describe_feature("postponements", 3, lang, kind="int"),
        lambda lang: describe_feature("balance", 3, lang, kind="int"),
    ],
)
def test_every_function_refuses_an_unknown_language(call):
    with pytest.raises(ProspectError, match="unknown language 'de'"):
        call("de")


# --- reasons, outcomes, recommendations ----------------------------------------------------


@pytest.mark.parametrize("function", [reason_label, reason_meaning, advice])
@pytest.mark.parametrize("reason", ALL_REASONS)
def test_every_reason_has_its_texts_in_both_languages(function, reason):
    english, french = function(reason, "en"), function(reason, "fr")
    assert english.strip() and french.strip()
    assert english != french


@pytest.mark.parametrize("function", [reason_meaning, advice])
@pytest.mark.parametrize("reason", ALL_REASONS)
def test_french_sentences_are_french_and_english_ones_are_not(function, reason):
    french = f" {function(reason, 'fr').lower()} "
    english = f" {function(reason, 'en').lower()} "
    assert any(marker in french for marker in FRENCH_MARKERS), french
    assert not any(marker in english for marker in (" le ", " vous ", " les ")), english


@pytest.mark.parametrize("reason", REASONS)
def test_what_to_watch_is_never_advice_to_part_ways(reason):
    """pursue leads get what to watch: in both languages, distinct from the article's
    advice, and without its words for leaving (refer, withdraw, part ways, close)."""
    for lang, leaving in (
        ("en", ("refer", "withdraw", "part ways", "close the file")),
        ("fr", ("orientez", "retirez", "séparez", "clore le dossier")),
    ):
        text = watch(reason, lang)
        assert text and text != advice(reason, lang)
        assert not any(word in text.lower() for word in leaving), text
    assert watch(reason, "en") != watch(reason, "fr")


def test_reason_labels_are_distinct_within_a_language():
    for lang in LANGUAGES:
        labels = [reason_label(r, lang) for r in ALL_REASONS]
        assert len(set(labels)) == len(labels), labels


def test_meanings_follow_the_article():
    assert "business model" in reason_meaning("poor_fit", "en")
    assert "modèle économique" in reason_meaning("poor_fit", "fr")
    assert "hammer" in reason_meaning("product_mismatch", "en")
    assert "marteau" in reason_meaning("product_mismatch", "fr")
    assert "call me back in three months" in reason_meaning("strung_along", "en")
    assert "rappelez-moi dans trois mois" in reason_meaning("strung_along", "fr")


def test_strung_along_advice_holds_the_script_in_both_languages():
    english = advice("strung_along", "en")
    french = advice("strung_along", "fr")
    assert "Correct me if I'm wrong, but I get the feeling that this isn't a priority" in english
    assert "close the file" in english
    assert "Corrigez-moi si je me trompe, mais j'ai le sentiment que" in french
    assert "clore le dossier" in french


@pytest.mark.parametrize(
    "reason, english, french",
    [
        ("poor_fit", ["colleague", "centres of influence"], ["confrère", "prescripteurs"]),
        (
            "difficult_expectations",
            ["mutual interview", "warning signs", "guarantees", "missed meetings"],
            ["entretien réciproque", "signaux d'alerte", "garanties", "rendez-vous manqués"],
        ),
        (
            "product_mismatch",
            ["Withdraw gracefully", "win-win", "complaint"],
            ["Retirez-vous", "gagnant-gagnant", "réclamation"],
        ),
    ],
)
def test_advice_says_what_the_article_advises(reason, english, french):
    for fragment in english:
        assert fragment in advice(reason, "en"), fragment
    for fragment in french:
        assert fragment in advice(reason, "fr"), fragment


def test_context_advice_is_neutral():
    for lang in LANGUAGES:
        neutral = advice(CONTEXT, lang)
        assert neutral not in {advice(r, lang) for r in REASONS}
        assert "Correct" not in neutral and "Corrigez" not in neutral


@pytest.mark.parametrize("function", [outcome_label, texts.outcome_meaning])
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_outcome_has_a_label_in_both_languages(function, outcome):
    english, french = function(outcome, "en"), function(outcome, "fr")
    assert english.strip() and french.strip() and english != french


@pytest.mark.parametrize("function", [recommendation_label, recommendation_meaning])
@pytest.mark.parametrize("recommendation", RECOMMENDATIONS)
def test_every_recommendation_has_texts_in_both_languages(function, recommendation):
    english, french = function(recommendation, "en"), function(recommendation, "fr")
    assert english.strip() and french.strip() and english != french


def test_qualify_means_one_more_meeting():
    assert recommendation_meaning("qualify", "en") == "worth one more meeting to find out"
    assert "un rendez-vous de plus" in recommendation_meaning("qualify", "fr")


@pytest.mark.parametrize(
    "function, key",
    [
        (reason_label, "bad_fit"),
        (reason_meaning, "bad_fit"),
        (advice, "bad_fit"),
        (outcome_label, "win"),
        (recommendation_label, "maybe"),
        (recommendation_meaning, "maybe"),
        (ui, "colour"),
    ],
)
def test_an_unknown_key_is_named(function, key):
    with pytest.raises(KeyError, match=repr(key)):
        function(key, "en")


# --- interface strings --------------------------------------------------------------------


@pytest.mark.parametrize("key", UI_KEYS)
def test_every_ui_key_exists_in_both_languages(key):
    english = ui(key, "en", fields="x", points="x")
    french = ui(key, "fr", fields="x", points="x")
    assert english.strip() and french.strip()


def test_ui_texts_are_translated():
    translated = [
        k
        for k in UI_KEYS
        if ui(k, "en", fields="x", points="x") != ui(k, "fr", fields="x", points="x")
    ]
    # "prospect" and "contribution" are the same word in French.
    assert set(UI_KEYS) - set(translated) <= {"prospect", "contribution"}


def test_ui_texts_that_others_rely_on():
    assert ui("no_data", "en") == "no data for this reason"
    assert ui("unit", "en") == "log-odds against win_win"
    assert "win_win" in ui("unit", "fr")
    assert ui("unknown_fields", "en", fields="assets, income") == (
        "unknown (not given): assets, income"
    )
    assert ui("unknown_fields", "fr", fields="actifs") == "inconnus (non renseignés)\u00a0: actifs"


def test_a_ui_text_missing_its_value_names_it():
    with pytest.raises(KeyError, match="'fields'"):
        ui("unknown_fields", "en")


# --- features in plain words --------------------------------------------------------------

BUILTIN_EXAMPLES = [
    ("postponements", 3, "int", "3 postponements", "3 reports"),
    ("postponements", 1, "int", "1 postponement", "1 report"),
    ("postponements", 0, "int", "0 postponements", "0 report"),
    ("expected_return_pct", 15.0, "float", "expects 15 % a year", "attend 15\u00a0% par an"),
    ("expected_return_pct", 7.25, "float", "expects 7.2 % a year", "attend 7,2\u00a0% par an"),
    ("investable_assets_eur", 40000.0, "float", "assets 40,000 EUR", "actifs 40 000 EUR"),
    (
        "investable_assets_eur",
        1234567.89,
        "float",
        "assets 1,234,568 EUR",
        "actifs 1 234 568 EUR",
    ),
    (
        "annual_income_eur",
        85000,
        "float",
        "income 85,000 EUR a year",
        "revenu 85 000 EUR par an",
    ),
    ("no_shows", 2, "int", "2 missed meetings", "2 rendez-vous manqués"),
    ("no_shows", 1, "int", "1 missed meeting", "1 rendez-vous manqué"),
    (
        "meetings_per_year_wanted",
        12,
        "int",
        "wants 12 meetings a year",
        "souhaite 12 rendez-vous par an",
    ),
    (
        "days_since_last_reply",
        45,
        "int",
        "last reply 45 days ago",
        "dernière réponse il y a 45 jours",
    ),
    (
        "days_since_last_reply",
        1,
        "int",
        "last reply 1 day ago",
        "dernière réponse il y a 1 jour",
    ),
    (
        "median_reply_delay_days",
        4.5,
        "float",
        "replies after 4.5 days (median)",
        "répond après 4,5 jours (médiane)",
    ),
    (
        "median_reply_delay_days",
        1.5,
        "float",
        "replies after 1.5 days (median)",
        "répond après 1,5 jour (médiane)",
    ),
    ("decision_maker_present", False, "bool", "decision maker absent", "décideur absent"),
    ("decision_maker_present", True, "bool", "decision maker present", "décideur présent"),
    (
        "asked_guaranteed_returns",
        True,
        "bool",
        "asked for guaranteed returns",
        "a demandé des rendements garantis",
    ),
    (
        "asked_guaranteed_returns",
        False,
        "bool",
        "did not ask for guarantees",
        "n'a pas demandé de garanties",
    ),
    (
        "happy_with_current_provider",
        True,
        "bool",
        "happy with the current provider",
        "satisfait de son prestataire actuel",
    ),
    (
        "referral_source",
        "bought_list",
        "category",
        "source: bought list",
        "source\u00a0: liste achetée",
    ),
    (
        "primary_need",
        "debt_management",
        "category",
        "need: debt management",
        "besoin\u00a0: gestion de dette",
    ),
    (
        "proposed_product",
        "structured_note",
        "category",
        "proposed product: structured note",
        "produit proposé\u00a0: produit structuré",
    ),
    (
        "product_serves_need",
        False,
        "bool",
        "the product proposed is not the one designed for this need",
        "le produit proposé n'est pas celui conçu pour ce besoin",
    ),
    ("risk_tolerance_score", 2, "int", "risk tolerance 2/7", "tolérance au risque 2/7"),
    ("meetings_held", 3, "int", "3 meetings held", "3 rendez-vous tenus"),
    (
        "occupation",
        "business_owner",
        "category",
        "occupation: business owner",
        "profession\u00a0: chef d'entreprise",
    ),
    ("region", "north", "category", "region: north", "région\u00a0: nord"),
    (
        "preferred_channel",
        "phone",
        "category",
        "preferred channel: phone",
        "canal préféré\u00a0: téléphone",
    ),
    (
        "newsletter_opt_in",
        True,
        "bool",
        "subscribed to the newsletter",
        "abonné à la lettre d'information",
    ),
]


@pytest.mark.parametrize("name, value, kind, english, french", BUILTIN_EXAMPLES)
def test_builtin_columns_in_plain_words(name, value, kind, english, french):
    assert describe_feature(name, value, "en", kind=kind) == english
    assert describe_feature(name, value, "fr", kind=kind) == french


@pytest.mark.parametrize(
    "value, kind, english",
    [
        (np.int64(1), "int", "1 postponement"),
        (np.int64(4), "int", "4 postponements"),
        (np.float64(2.0), "int", "2 postponements"),
        ("3", "int", "3 postponements"),
    ],
)
def test_numpy_scalars_and_text_numbers_are_accepted(value, kind, english):
    assert describe_feature("postponements", value, "en", kind=kind) == english


@pytest.mark.parametrize("value", [np.bool_(False), 0, 0.0, "false", "no"])
def test_false_in_its_many_spellings(value):
    assert describe_feature("decision_maker_present", value, "en", kind="bool") == (
        "decision maker absent"
    )


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, np.float64("nan"), pd.NA, ""])
def test_unknown_values_are_said_to_be_unknown(missing):
    assert describe_feature("investable_assets_eur", missing, "en", kind="float") == (
        "investable assets: unknown"
    )
    assert describe_feature("investable_assets_eur", missing, "fr", kind="float") == (
        "actifs investissables\u00a0: inconnus"
    )
    assert describe_feature("decision_maker_present", missing, "en", kind="bool") == (
        "decision maker present: unknown"
    )
    assert describe_feature("balance", missing, "en", kind="int", unit="EUR") == (
        "balance: unknown"
    )
    assert describe_feature("balance", missing, "fr", kind="int", unit="EUR") == (
        "balance\u00a0: non renseigné"
    )


def test_no_reply_at_all_is_said_plainly():
    # The schema: days_since_last_reply is empty when the prospect never replied.
    assert describe_feature("days_since_last_reply", None, "en", kind="int") == "never replied"
    assert describe_feature("days_since_last_reply", np.nan, "fr", kind="int") == (
        "n'a jamais répondu"
    )


@pytest.mark.parametrize(
    "name, value, kind, unit, english, french",
    [
        ("balance", 1234.0, "int", "EUR", "balance: 1,234 EUR", "balance\u00a0: 1 234 EUR"),
        (
            "balance",
            -1234567.891,
            "float",
            None,
            "balance: -1,234,567.89",
            "balance\u00a0: -1 234 567,89",
        ),
        ("campaign", np.int64(3), "int", None, "campaign: 3", "campaign\u00a0: 3"),
        ("emp.var.rate", 1.10, "float", None, "emp.var.rate: 1.1", "emp.var.rate\u00a0: 1,1"),
        ("pdays", 999, "int", "days", "pdays: 999 days", "pdays\u00a0: 999 days"),
        (
            "poutcome",
            "non_existent",
            "category",
            None,
            "poutcome: non existent",
            "poutcome\u00a0: non existent",
        ),
        ("housing", True, "bool", None, "housing: yes", "housing\u00a0: oui"),
        ("housing", np.bool_(False), "bool", None, "housing: no", "housing\u00a0: non"),
        ("job_title", "blue-collar", "string", None, "job title: blue-collar", None),
        (
            "last_contact",
            pd.Timestamp("2024-03-01"),
            "date",
            None,
            "last contact: 2024-03-01",
            None,
        ),
    ],
)
def test_columns_that_are_not_built_in_get_a_generic_phrase(
    name, value, kind, unit, english, french
):
    assert describe_feature(name, value, "en", kind=kind, unit=unit) == english
    if french is not None:
        assert describe_feature(name, value, "fr", kind=kind, unit=unit) == french


@pytest.mark.parametrize(
    "name, value, kind, english",
    [
        ("postponements", "abc", "int", "postponements: abc"),
        ("decision_maker_present", "maybe", "bool", "decision maker present: maybe"),
        ("decision_maker_present", 2, "bool", "decision maker present: 2"),
        ("housing", "maybe", "bool", "housing: maybe"),
        ("balance", "n/a", "float", "balance: n/a"),
        ("balance", float("inf"), "float", "balance: inf"),
        ("balance", [1, 2], "float", "balance: [1, 2]"),
        ("referral_source", "carrier_pigeon", "category", "source: carrier pigeon"),
    ],
)
def test_an_unexpected_value_never_raises(name, value, kind, english):
    assert describe_feature(name, value, "en", kind=kind) == english


def test_a_builtin_name_with_another_type_gets_the_generic_phrase():
    # A firm's own "region" held as a number is not the built-in category.
    assert describe_feature("region", 75, "en", kind="int") == "region: 75"


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="'decimal'"):
        describe_feature("balance", 1, "en", kind="decimal")


def test_every_builtin_feature_has_its_own_phrase():
    for name, kind in DEFAULT.feature_types().items():
        # Not the generic fallback: the French name is translated, and unknown is agreed.
        assert column_label(name, "fr") != name.replace("_", " "), name
        missing = describe_feature(name, None, "fr", kind=kind)
        assert not missing.endswith("non renseigné"), (name, missing)


def test_without_phrases_a_feature_reads_label_and_value():
    """A firm's column with no [phrases]: its name as the label, the value as written."""
    assert texts.describe_feature("postponements", 3, "en", kind="int") == "postponements: 3"
    assert texts.column_label("days_since_last_reply", "fr") == "days since last reply"


def test_every_builtin_category_is_translated_into_french():
    schema = load_schema("prospects")
    for name, spec in schema.columns.items():
        if spec.type != "category" or name not in DEFAULT.features:
            continue
        fallback = f"{column_label(name, 'fr')}\u00a0: {{}}"
        for category in spec.categories:
            english = describe_feature(name, category, "en", kind="category")
            french = describe_feature(name, category, "fr", kind="category")
            assert english.endswith(": " + category.replace("_", " ")), english
            assert french != fallback.format(category.replace("_", " ")), (name, french)


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, decimals, english, french",
    [
        (1234567.5, 2, "1,234,567.5", "1 234 567,5"),
        (40000.0, 2, "40,000", "40 000"),
        (np.int64(12345), 2, "12,345", "12 345"),
        (4.567, 1, "4.6", "4,6"),
        (-0.001, 2, "0", "0"),
        (0.5, 0, "0", "0"),
        (999, 0, "999", "999"),
        ("abc", 2, "abc", "abc"),
    ],
)
def test_format_number(value, decimals, english, french):
    assert format_number(value, "en", decimals=decimals) == english
    assert format_number(value, "fr", decimals=decimals) == french


def test_french_typography_ties_signs_to_their_words():
    """French: a no-break space before : and %, inside « », a narrow one before ; ? !"""
    assert texts.typeset("inconnus : a ; b ? c ! 5 % « oui »", "fr") == (
        "inconnus\u00a0: a\u202f; b\u202f? c\u202f! 5\u00a0% «\u00a0oui\u00a0»"
    )
    assert texts.typeset("a : b", "en") == "a : b"
    french = texts.advice("strung_along", "fr")
    assert " :" not in french and " ;" not in french and " ?" not in french
    assert "«\u00a0Corrigez" in french


def test_format_percent():
    assert texts.format_percent(0.623, "en") == "62 %"
    assert texts.format_percent(np.float64(0.0575), "fr", decimals=1) == "5,8\u00a0%"


# --- start-up cost ------------------------------------------------------------------------


def test_importing_texts_loads_neither_pandas_nor_numpy():
    code = (
        "import sys, prospect_predictor.language.texts; "
        "print(sorted(m for m in ('numpy', 'pandas', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_year_is_written_without_a_thousands_separator():
    assert describe_feature("year_established", 1998, "en", kind="int") == "year established: 1998"
    assert describe_feature("founded", 2004, "fr", kind="int", unit="year").endswith("2004 year")
    assert describe_feature("balance", 1998, "en", kind="int") == "balance: 1,998"


def test_lists_and_labels_follow_each_languages_punctuation():
    assert texts.listed(["a", "b"], "en") == "a; b"
    assert texts.listed(["a", "b"], "fr") == "a\u202f; b"
    assert texts.labelled("conseil", "x", "fr") == "conseil\u00a0: x"
    assert texts.labelled("advice", "x", "en") == "advice: x"
