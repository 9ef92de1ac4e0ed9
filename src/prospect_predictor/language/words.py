"""The product's own words, in English and French, as data: the four reasons, what each
means, the article's advice and what to watch when pursuing, outcomes, recommendations
and the short interface strings. :mod:`prospect_predictor.language.texts` looks them up.

Each entry is ``key -> language -> text``, the translation beside the original. Standard
library only.
"""

from __future__ import annotations

from collections.abc import Mapping

Texts = Mapping[str, Mapping[str, str]]
"""``key -> language -> text``: each text beside its translation."""

# --- the four reasons (and context) -------------------------------------------------------

REASON_LABELS: Texts = {
    "poor_fit": {"en": "Poor fit", "fr": "Hors cible"},
    "difficult_expectations": {
        "en": "Difficult or unrealistic expectations",
        "fr": "Attentes difficiles ou irréalistes",
    },
    "product_mismatch": {"en": "Product mismatch", "fr": "Produit inadapté"},
    "strung_along": {"en": "Strung along", "fr": "Mené en bateau"},
    "context": {"en": "Context", "fr": "Contexte"},
}

REASON_MEANINGS: Texts = {
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

ADVICE: Texts = {
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
WATCH: Texts = {
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

OUTCOME_LABELS: Texts = {
    "win_win": {"en": "Win-win client", "fr": "Client gagnant-gagnant"},
    "win_lose": {"en": "Win-lose client", "fr": "Client gagnant-perdant"},
    "stalled": {"en": "Stalled", "fr": "Enlisé"},
    "declined": {"en": "Declined", "fr": "Refus"},
}

OUTCOME_MEANINGS: Texts = {
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

RECOMMENDATION_LABELS: Texts = {
    "pursue": {"en": "Pursue", "fr": "Poursuivre"},
    "qualify": {"en": "Qualify", "fr": "Qualifier"},
    "walk_away": {"en": "Walk away", "fr": "Renoncer"},
}

RECOMMENDATION_MEANINGS: Texts = {
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

UI: Texts = {
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
    "unit": {
        "en": "log-odds against win_win",
        "fr": "effet sur la cote face à un client gagnant-gagnant (log, win_win)",
    },
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
    "waterfall_block": {
        "en": "a reason's net effect (bracket)",
        "fr": "effet net d'une raison (crochet)",
    },
    "waterfall_probability": {"en": "chance {p}", "fr": "probabilité {p}"},
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
