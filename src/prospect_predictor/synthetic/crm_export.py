"""The generated history as a French CRM would export it: a messy file to practise on.

Same prospects, same outcomes as :func:`prospect_predictor.synthetic.generate.generate`
with the same seed, written the way a French CRM writes them (docs/bring-your-own-data.md
walks through it): semicolons between cells, decimal commas ("7,1 %"), amounts with spaces
between thousands and the euro sign ("2 237 000 €"), dates day first (25/12/2024),
booleans oui/non, outcome labels in French, a web form's "Sélectionner" for an unknown
referral source, referral sources in several spellings, deals still open ("en cours")
among the newest prospects, and a few bad cells. Nothing here changes what a prospect is
or how it turned out; only how it is written (and the open deals' outcomes, not known yet).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FRENCH_OUTCOMES = {
    "win_win": "gagné",
    "win_lose": "perdu après signature",
    "stalled": "sans suite",
    "declined": "refus",
}
OPEN_LABEL = "en cours"
PLACEHOLDER = "Sélectionner"
OPEN_SHARE = 0.30  # of the newest tenth of prospects: deals not decided yet
BAD_ROW_SHARE = 0.003  # rows with a cell typed wrong (set aside by training)
SPELLING_SHARE = 0.25  # referral sources written another way ("Website", " site web")
PLACEHOLDER_SHARE = 0.04  # referral sources left at the form's default


def as_french_crm_export(export: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The export's cells as text, written as described in the module docstring."""
    rng = np.random.default_rng([seed, 42])
    out = export.astype(object).copy()
    n = len(out)
    for money in ("investable_assets_eur", "annual_income_eur"):
        out[money] = [_number(v, 0) + " €" if _known(v) else "" for v in export[money]]
    out["expected_return_pct"] = [
        _number(v, 1) + " %" if _known(v) else "" for v in export["expected_return_pct"]
    ]
    out["median_reply_delay_days"] = [
        _number(v, 1) if _known(v) else "" for v in export["median_reply_delay_days"]
    ]
    dates = pd.to_datetime(export["first_contact_date"])
    out["first_contact_date"] = dates.dt.strftime("%d/%m/%Y")
    for flag in (
        "asked_guaranteed_returns",
        "decision_maker_present",
        "happy_with_current_provider",
        "newsletter_opt_in",
    ):
        out[flag] = [("oui" if v else "non") if _known(v) else "" for v in export[flag]]
    source = export["referral_source"].astype(object).to_numpy()
    spelled = rng.random(n) < SPELLING_SHARE
    written = np.array([_spelling(s, k) for k, s in enumerate(source)], dtype=object)
    source = np.where(spelled, written, source)
    source = np.where(rng.random(n) < PLACEHOLDER_SHARE, PLACEHOLDER, source)
    out["referral_source"] = source
    if "outcome" in out:
        labels = export["outcome"].map(FRENCH_OUTCOMES).to_numpy(dtype=object)
        newest = dates.rank(method="first").to_numpy() > 0.9 * n
        labels = np.where(newest & (rng.random(n) < OPEN_SHARE), OPEN_LABEL, labels)
        out["outcome"] = labels
    bad = np.flatnonzero(rng.random(n) < BAD_ROW_SHARE)
    out.loc[out.index[bad], "no_shows"] = "deux"
    return out


def _known(value) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and np.isnan(value))
        and not pd.isna(value)
    )


def _number(value, decimals: int) -> str:
    """French: spaces between thousands, a decimal comma."""
    return f"{float(value):,.{decimals}f}".replace(",", " ").replace(".", ",")


def _spelling(category: str, k: int) -> str:
    """Another way a person writes a category: title case, upper case, spaces, a leading
    space."""
    words = str(category).replace("_", " ")
    return (words.title(), words.upper(), " " + words, words.capitalize())[k % 4]
