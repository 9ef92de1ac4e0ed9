"""Phrases for the columns of the built-in schema (``config/schemas/prospects.toml``):
how :func:`prospect_predictor.language.texts.describe_feature` says each of the generated
history's columns and its value in words, in English and French, and the French words
for its categories. A firm's own columns get the generic phrases of ``texts``.

Data only, standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping

Texts = Mapping[str, Mapping[str, str]]
"""``key -> language -> text``: each text beside its translation."""

# Each column: its kind of phrase ("number", "bool" or "category"), the decimals shown for a
# number, and per language:
#   label    the column's name in words (for tables and generic phrases);
#   missing  the whole phrase when the value is unknown;
#   one/many a number's phrase, singular and plural ({n} is the formatted number);
#   zero     (optional) the phrase for 0;
#   true/false  a boolean's phrase;
#   text     a category's phrase ({value} is the category in words).
COLUMNS: dict[str, tuple[str, int, Texts]] = {
    "referral_source": (
        "category",
        0,
        {
            "en": {"label": "source", "missing": "source: unknown", "text": "source: {value}"},
            "fr": {
                "label": "source",
                "missing": "source : inconnue",
                "text": "source : {value}",
            },
        },
    ),
    "occupation": (
        "category",
        0,
        {
            "en": {
                "label": "occupation",
                "missing": "occupation: unknown",
                "text": "occupation: {value}",
            },
            "fr": {
                "label": "profession",
                "missing": "profession : inconnue",
                "text": "profession : {value}",
            },
        },
    ),
    "age_years": (
        "number",
        0,
        {
            "en": {
                "label": "age",
                "missing": "age: unknown",
                "one": "{n} year old",
                "many": "{n} years old",
            },
            "fr": {"label": "âge", "missing": "âge : inconnu", "one": "{n} an", "many": "{n} ans"},
        },
    ),
    "marital_status": (
        "category",
        0,
        {
            "en": {
                "label": "marital status",
                "missing": "marital status: unknown",
                "text": "marital status: {value}",
            },
            "fr": {
                "label": "situation familiale",
                "missing": "situation familiale : inconnue",
                "text": "situation familiale : {value}",
            },
        },
    ),
    "region": (
        "category",
        0,
        {
            "en": {"label": "region", "missing": "region: unknown", "text": "region: {value}"},
            "fr": {
                "label": "région",
                "missing": "région : inconnue",
                "text": "région : {value}",
            },
        },
    ),
    "investable_assets_eur": (
        "number",
        0,
        {
            "en": {
                "label": "investable assets",
                "missing": "investable assets: unknown",
                "one": "assets {n} EUR",
                "many": "assets {n} EUR",
            },
            "fr": {
                "label": "actifs investissables",
                "missing": "actifs investissables : inconnus",
                "one": "actifs {n} EUR",
                "many": "actifs {n} EUR",
            },
        },
    ),
    "annual_income_eur": (
        "number",
        0,
        {
            "en": {
                "label": "annual income",
                "missing": "annual income: unknown",
                "one": "income {n} EUR a year",
                "many": "income {n} EUR a year",
            },
            "fr": {
                "label": "revenu annuel",
                "missing": "revenu annuel : inconnu",
                "one": "revenu {n} EUR par an",
                "many": "revenu {n} EUR par an",
            },
        },
    ),
    "primary_need": (
        "category",
        0,
        {
            "en": {"label": "need", "missing": "need: unknown", "text": "need: {value}"},
            "fr": {"label": "besoin", "missing": "besoin : inconnu", "text": "besoin : {value}"},
        },
    ),
    "proposed_product": (
        "category",
        0,
        {
            "en": {
                "label": "proposed product",
                "missing": "proposed product: unknown",
                "text": "proposed product: {value}",
            },
            "fr": {
                "label": "produit proposé",
                "missing": "produit proposé : inconnu",
                "text": "produit proposé : {value}",
            },
        },
    ),
    "risk_tolerance_score": (
        "number",
        0,
        {
            "en": {
                "label": "risk tolerance",
                "missing": "risk tolerance: unknown",
                "one": "risk tolerance {n}/7",
                "many": "risk tolerance {n}/7",
            },
            "fr": {
                "label": "tolérance au risque",
                "missing": "tolérance au risque : inconnue",
                "one": "tolérance au risque {n}/7",
                "many": "tolérance au risque {n}/7",
            },
        },
    ),
    "meetings_held": (
        "number",
        0,
        {
            "en": {
                "label": "meetings held",
                "missing": "meetings held: unknown",
                "one": "{n} meeting held",
                "many": "{n} meetings held",
            },
            "fr": {
                "label": "rendez-vous tenus",
                "missing": "rendez-vous tenus : inconnus",
                "one": "{n} rendez-vous tenu",
                "many": "{n} rendez-vous tenus",
            },
        },
    ),
    "no_shows": (
        "number",
        0,
        {
            "en": {
                "label": "missed meetings",
                "missing": "missed meetings: unknown",
                "one": "{n} missed meeting",
                "many": "{n} missed meetings",
            },
            "fr": {
                "label": "rendez-vous manqués",
                "missing": "rendez-vous manqués : inconnus",
                "one": "{n} rendez-vous manqué",
                "many": "{n} rendez-vous manqués",
            },
        },
    ),
    "postponements": (
        "number",
        0,
        {
            "en": {
                "label": "postponements",
                "missing": "postponements: unknown",
                "one": "{n} postponement",
                "many": "{n} postponements",
            },
            "fr": {
                "label": "reports",
                "missing": "reports : inconnus",
                "one": "{n} report",
                "many": "{n} reports",
            },
        },
    ),
    "days_since_last_reply": (
        "number",
        0,
        {
            # The schema says: empty when the prospect never replied.
            "en": {
                "label": "days since the last reply",
                "missing": "never replied",
                "zero": "last reply today",
                "one": "last reply {n} day ago",
                "many": "last reply {n} days ago",
            },
            "fr": {
                "label": "jours depuis la dernière réponse",
                "missing": "n'a jamais répondu",
                "zero": "dernière réponse aujourd'hui",
                "one": "dernière réponse il y a {n} jour",
                "many": "dernière réponse il y a {n} jours",
            },
        },
    ),
    "median_reply_delay_days": (
        "number",
        1,
        {
            "en": {
                "label": "reply delay",
                "missing": "reply delay: unknown",
                "one": "replies after {n} day (median)",
                "many": "replies after {n} days (median)",
            },
            "fr": {
                "label": "délai de réponse",
                "missing": "délai de réponse : inconnu",
                "one": "répond après {n} jour (médiane)",
                "many": "répond après {n} jours (médiane)",
            },
        },
    ),
    "expected_return_pct": (
        "number",
        1,
        {
            "en": {
                "label": "expected return",
                "missing": "expected return: unknown",
                "one": "expects {n} % a year",
                "many": "expects {n} % a year",
            },
            "fr": {
                "label": "rendement attendu",
                "missing": "rendement attendu : inconnu",
                "one": "attend {n} % par an",
                "many": "attend {n} % par an",
            },
        },
    ),
    "meetings_per_year_wanted": (
        "number",
        0,
        {
            "en": {
                "label": "meetings wanted per year",
                "missing": "meetings wanted per year: unknown",
                "one": "wants {n} meeting a year",
                "many": "wants {n} meetings a year",
            },
            "fr": {
                "label": "rendez-vous souhaités par an",
                "missing": "rendez-vous souhaités par an : inconnus",
                "one": "souhaite {n} rendez-vous par an",
                "many": "souhaite {n} rendez-vous par an",
            },
        },
    ),
    "decision_maker_present": (
        "bool",
        0,
        {
            "en": {
                "label": "decision maker present",
                "missing": "decision maker present: unknown",
                "true": "decision maker present",
                "false": "decision maker absent",
            },
            "fr": {
                "label": "présence du décideur",
                "missing": "présence du décideur : inconnue",
                "true": "décideur présent",
                "false": "décideur absent",
            },
        },
    ),
    "need_outside_specialties": (  # derived in the default pipeline ([derived])
        "bool",
        0,
        {
            "en": {
                "label": "need outside the firm's specialties",
                "missing": "whether the firm serves the need: unknown",
                "true": "a need outside the firm's specialties",
                "false": "a need within the firm's specialties",
            },
            "fr": {
                "label": "besoin hors des spécialités du cabinet",
                "missing": "besoin dans les spécialités du cabinet : inconnu",
                "true": "un besoin hors des spécialités du cabinet",
                "false": "un besoin dans les spécialités du cabinet",
            },
        },
    ),
    "product_serves_need": (  # derived in the default pipeline ([derived])
        "bool",
        0,
        {
            "en": {
                "label": "product designed for the need",
                "missing": "whether the product serves the need: unknown",
                "true": "the product proposed is the one designed for this need",
                "false": "the product proposed is not the one designed for this need",
            },
            "fr": {
                "label": "produit conçu pour le besoin",
                "missing": "adéquation du produit au besoin : inconnue",
                "true": "le produit proposé est celui conçu pour ce besoin",
                "false": "le produit proposé n'est pas celui conçu pour ce besoin",
            },
        },
    ),
    "asked_guaranteed_returns": (
        "bool",
        0,
        {
            "en": {
                "label": "asked for guaranteed returns",
                "missing": "asked for guaranteed returns: unknown",
                "true": "asked for guaranteed returns",
                "false": "did not ask for guarantees",
            },
            "fr": {
                "label": "demande de rendements garantis",
                "missing": "demande de rendements garantis : inconnue",
                "true": "a demandé des rendements garantis",
                "false": "n'a pas demandé de garanties",
            },
        },
    ),
    "happy_with_current_provider": (
        "bool",
        0,
        {
            "en": {
                "label": "happy with the current provider",
                "missing": "happy with the current provider: unknown",
                "true": "happy with the current provider",
                "false": "not happy with the current provider",
            },
            "fr": {
                "label": "satisfaction envers le prestataire actuel",
                "missing": "satisfaction envers le prestataire actuel : inconnue",
                "true": "satisfait de son prestataire actuel",
                "false": "pas satisfait de son prestataire actuel",
            },
        },
    ),
    "preferred_channel": (
        "category",
        0,
        {
            "en": {
                "label": "preferred channel",
                "missing": "preferred channel: unknown",
                "text": "preferred channel: {value}",
            },
            "fr": {
                "label": "canal préféré",
                "missing": "canal préféré : inconnu",
                "text": "canal préféré : {value}",
            },
        },
    ),
    "newsletter_opt_in": (
        "bool",
        0,
        {
            "en": {
                "label": "newsletter subscription",
                "missing": "newsletter subscription: unknown",
                "true": "subscribed to the newsletter",
                "false": "not subscribed to the newsletter",
            },
            "fr": {
                "label": "abonnement à la lettre d'information",
                "missing": "abonnement à la lettre d'information : inconnu",
                "true": "abonné à la lettre d'information",
                "false": "non abonné à la lettre d'information",
            },
        },
    ),
}

# French words for the built-in categories; English shows the value with spaces.
CATEGORIES_FR: dict[str, Mapping[str, str]] = {
    "referral_source": {
        "client_referral": "recommandation d'un client",
        "professional_referral": "recommandation d'un professionnel",
        "seminar": "séminaire",
        "website": "site web",
        "cold_call": "démarchage téléphonique",
        "bought_list": "liste achetée",
        "partner_bank": "banque partenaire",
    },
    "occupation": {
        "employee": "salarié",
        "executive": "cadre",
        "business_owner": "chef d'entreprise",
        "liberal_profession": "profession libérale",
        "civil_servant": "fonctionnaire",
        "self_employed": "indépendant",
        "retired": "retraité",
        "student": "étudiant",
        "unemployed": "sans emploi",
    },
    "marital_status": {
        "single": "célibataire",
        "married": "marié",
        "divorced": "divorcé",
        "widowed": "veuf",
        "civil_partnership": "pacsé",
    },
    "region": {
        "capital_region": "capitale",
        "north": "nord",
        "south": "sud",
        "east": "est",
        "west": "ouest",
        "overseas": "outre-mer",
    },
    "primary_need": {
        "retirement_planning": "préparation de la retraite",
        "wealth_growth": "croissance du patrimoine",
        "succession_planning": "transmission du patrimoine",
        "tax_optimisation": "optimisation fiscale",
        "home_purchase": "achat immobilier",
        "debt_management": "gestion de dette",
        "crypto_speculation": "spéculation sur les cryptomonnaies",
    },
    "proposed_product": {
        "managed_portfolio": "gestion sous mandat",
        "retirement_plan": "plan d'épargne retraite",
        "life_insurance_wrapper": "assurance-vie",
        "structured_note": "produit structuré",
        "estate_planning": "planification successorale",
        "private_equity_fund": "fonds de capital-investissement",
    },
    "preferred_channel": {
        "email": "e-mail",
        "phone": "téléphone",
        "video": "visioconférence",
    },
}
