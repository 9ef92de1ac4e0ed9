"""A synthetic history of prospects drawn from a documented causal model.

Every column is what an advisory firm's CRM would hold at the qualification stage. The
outcome is drawn from a multinomial logit whose inputs are four latent *reason drivers*
(one per reason to part ways), each computed only from columns of the export itself, so
the true probabilities are a function of what a model can see: the log loss of those
probabilities is the Bayes limit a model can approach. ``data/README.md`` documents the
firm profile, every column and every equation below; keep the two in step.

The truth (true probabilities, every reason's contribution to every outcome's logit) is
returned separately and never enters the export.

Its length (about 520 lines) is one cohesive thing: the causal model, whose columns,
drivers and truth must be read together against ``data/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.errors import ProspectError


@dataclass(frozen=True)
class FirmProfile:
    """The firm whose history we simulate: whom it serves and how."""

    min_assets_eur: float = 250_000
    specialties: tuple[str, ...] = (
        "retirement_planning",
        "wealth_growth",
        "succession_planning",
        "tax_optimisation",
    )
    meetings_per_year_offered: int = 4
    realistic_return_pct: float = 7.0  # above this, an expected return is unrealistic


FIRM = FirmProfile()

# --- The outcome model: logit(outcome) - logit(win_win) = intercept + sum of weighted drivers.
INTERCEPTS = {"win_lose": -2.4, "stalled": -1.55, "declined": -0.55}
WEIGHTS = {  # outcome -> reason -> weight of that reason's driver
    "win_lose": {"poor_fit": 0.3, "difficult_expectations": 1.0, "product_mismatch": 1.1},
    "stalled": {"difficult_expectations": 0.2, "strung_along": 1.0},
    "declined": {"poor_fit": 0.9, "product_mismatch": 0.3, "strung_along": 0.4},
}
MEETINGS_HELD_ON_DECLINED = -0.35  # context: per meeting held (up to 6), engagement

# --- Reason drivers' ingredients.
NEED_OUTSIDE_SPECIALTIES = {"home_purchase": 1.0, "debt_management": 1.4, "crypto_speculation": 1.6}
SOURCE_FIT = {
    "client_referral": -0.3,
    "professional_referral": -0.2,
    "seminar": 0.1,
    "website": 0.2,
    "cold_call": 0.5,
    "bought_list": 0.8,
    "partner_bank": 0.0,
}
OCCUPATION_FIT = {"student": 1.2, "unemployed": 1.0}
PRODUCTS = (
    "managed_portfolio",
    "retirement_plan",
    "life_insurance_wrapper",
    "structured_note",
    "estate_planning",
    "private_equity_fund",
)
# need -> mismatch of each product in PRODUCTS' order (0 = the product serves the need)
PRODUCT_MISMATCH = {
    "retirement_planning": (0.3, 0.0, 0.3, 1.2, 1.0, 1.5),
    "wealth_growth": (0.0, 0.8, 0.5, 0.6, 1.2, 0.4),
    "succession_planning": (0.8, 1.0, 0.2, 1.3, 0.0, 1.2),
    "tax_optimisation": (0.8, 0.3, 0.0, 1.0, 0.5, 0.9),
    "home_purchase": (1.0, 1.2, 1.0, 1.5, 1.5, 1.8),
    "debt_management": (1.5, 1.5, 1.5, 2.0, 1.5, 2.0),
    "crypto_speculation": (1.0, 1.2, 1.0, 1.2, 1.5, 0.8),
}
RISKY_PRODUCTS = ("structured_note", "private_equity_fund")

# --- Categorical columns and their shares.
OCCUPATIONS = {
    "employee": 0.31,
    "executive": 0.18,
    "business_owner": 0.14,
    "liberal_profession": 0.13,
    "civil_servant": 0.11,
    "self_employed": 0.117,
    "student": 0.007,
    "unemployed": 0.006,
}
REFERRAL_SOURCES = {
    "client_referral": 0.18,
    "professional_referral": 0.12,
    "seminar": 0.15,
    "website": 0.25,
    "cold_call": 0.15,
    "bought_list": 0.14,
    "partner_bank": 0.01,
}
NEEDS = {  # base shares, shifted by age and occupation
    "retirement_planning": 0.22,
    "wealth_growth": 0.29,
    "succession_planning": 0.08,
    "tax_optimisation": 0.14,
    "home_purchase": 0.12,
    "debt_management": 0.082,
    "crypto_speculation": 0.008,
}
BEST_PRODUCT = {
    "retirement_planning": "retirement_plan",
    "wealth_growth": "managed_portfolio",
    "succession_planning": "estate_planning",
    "tax_optimisation": "life_insurance_wrapper",
    "home_purchase": "managed_portfolio",
    "debt_management": "managed_portfolio",
    "crypto_speculation": "private_equity_fund",
}
ADVISOR_HABIT = (0.35, 0.15, 0.2, 0.15, 0.1, 0.05)  # the product mix when the hammer comes out
MARITAL = {
    "single": 0.28,
    "married": 0.48,
    "divorced": 0.12,
    "widowed": 0.05,
    "civil_partnership": 0.07,
}
REGIONS = {
    "capital_region": 0.3,
    "north": 0.17,
    "south": 0.2,
    "east": 0.15,
    "west": 0.17,
    "overseas": 0.01,
}
CHANNELS = {"email": 0.45, "phone": 0.35, "video": 0.2}
MEETINGS_WANTED = {1: 0.12, 2: 0.3, 4: 0.33, 6: 0.12, 12: 0.09, 24: 0.03, 52: 0.01}

HISTORY_DATES = ("2022-01-01", "2025-12-31")
LEAD_DATES = ("2026-01-01", "2026-06-30")


def generate(rows: int, seed: int, new_leads: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(export, truth)`` for ``rows`` prospects; the same seed gives the same frames.

    ``new_leads`` draws prospects to score (later dates, ``L`` ids, no ``outcome``
    column); their truth is still returned, for measuring a model on them.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    columns_rng, outcome_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, int(new_leads)]).spawn(2)
    )
    export = _draw_columns(rows, columns_rng, new_leads)
    truth = true_outcome_model(export)
    if not new_leads:
        export["outcome"] = _draw_outcomes(truth, outcome_rng)
    return export, truth


def _draw_columns(n: int, rng: np.random.Generator, new_leads: bool) -> pd.DataFrame:
    first, last = (
        pd.Timestamp(LEAD_DATES[0] if new_leads else HISTORY_DATES[0]),
        pd.Timestamp(LEAD_DATES[1] if new_leads else HISTORY_DATES[1]),
    )
    span_days = (last - first).days
    dates = first + pd.to_timedelta(np.sort(rng.integers(0, span_days + 1, n)), unit="D")

    age = np.clip(np.round(rng.normal(50, 13, n)), 22, 90)
    occupation = _choice(rng, OCCUPATIONS, n)
    retired = rng.random(n) < 0.8 / (1 + np.exp(-(age - 63) / 2))
    occupation = np.where(retired, "retired", occupation)
    marital = _choice(rng, MARITAL, n)
    region = _choice(rng, REGIONS, n)
    source = _choice(rng, REFERRAL_SOURCES, n)

    log_assets = (
        np.log(180_000)
        + 1.1 * rng.normal(size=n)
        + _lookup(
            occupation,
            {
                "business_owner": 0.5,
                "executive": 0.3,
                "liberal_profession": 0.3,
                "retired": 0.2,
                "student": -1.5,
                "unemployed": -1.2,
            },
        )
        + _lookup(
            source, {"client_referral": 0.3, "professional_referral": 0.2, "bought_list": -0.3}
        )
        + 0.01 * (age - 50)
    )
    assets = np.exp(log_assets)
    ultra_rich = rng.random(n) < 0.002  # the heavy tail's far end: a few family fortunes
    assets = np.where(ultra_rich, assets * rng.uniform(20, 100, n), assets)
    assets = np.round(assets, -3)
    log_income = (
        np.log(65_000)
        + 0.3 * (log_assets - np.log(180_000))
        + 0.4 * rng.normal(size=n)
        + _lookup(
            occupation, {"retired": -0.4, "student": -1.8, "unemployed": -1.5, "executive": 0.3}
        )
    )
    income = np.round(np.exp(log_income), -2)

    need = _choice_per_row(
        rng,
        NEEDS,
        shift={
            "retirement_planning": 0.06 * (age - 50),
            "succession_planning": np.where(occupation == "business_owner", 1.3, 0.0)
            + 0.03 * (age - 50),
            "home_purchase": -0.05 * (age - 45),
            "crypto_speculation": -0.05 * (age - 40),
        },
    )
    fits_habit = rng.random(n) < 0.6
    habit = rng.choice(np.array(PRODUCTS), size=n, p=ADVISOR_HABIT)
    product = np.where(fits_habit, _lookup(need, BEST_PRODUCT, default=""), habit)

    risk = np.clip(
        np.round(
            4.2
            - 0.04 * (age - 50)
            + np.where(need == "crypto_speculation", 2.0, 0.0)
            + 1.2 * rng.normal(size=n)
        ),
        1,
        7,
    )
    meetings_held = np.minimum(rng.poisson(1.6, n), 12)
    no_shows = np.minimum(rng.poisson(0.35, n), 10)
    postponements = np.minimum(rng.poisson(0.9, n), 12)
    days_since_reply = np.round(rng.exponential(18, n) + 5 * postponements)
    long_silence = rng.random(n) < 0.002  # forgotten leads
    days_since_reply = np.where(long_silence, rng.integers(400, 1500, n), days_since_reply)
    reply_delay = np.round(
        np.exp(np.log(1.5) + 0.9 * rng.normal(size=n)) * (1 + 0.3 * postponements), 1
    )
    unrealistic = rng.random(n) < 0.2
    expected_return = np.where(unrealistic, rng.normal(11, 4, n), rng.normal(5, 1.8, n))
    expected_return = np.round(np.maximum(expected_return, -5), 1)
    typo = rng.random(n) < 0.003  # "8.0" typed as "80"
    expected_return = np.where(typo, np.abs(expected_return) * 10, expected_return)
    meetings_wanted = rng.choice(
        np.array(list(MEETINGS_WANTED)), size=n, p=list(MEETINGS_WANTED.values())
    )
    decision_maker = rng.random(n) < 0.78
    p_guarantee = 0.12 + 0.1 * (need == "retirement_planning") + 0.12 * (risk <= 2)
    guarantees = rng.random(n) < p_guarantee
    happy_elsewhere = rng.random(n) < 0.35
    channel = _choice(rng, CHANNELS, n)
    newsletter = rng.random(n) < 0.4

    id_prefix = "L" if new_leads else "P"
    frame = pd.DataFrame(
        {
            "prospect_id": [f"{id_prefix}{i:06d}" for i in range(1, n + 1)],
            "first_contact_date": dates.strftime("%Y-%m-%d"),
            "referral_source": source,
            "occupation": occupation,
            "age_years": age,
            "marital_status": marital,
            "region": region,
            "investable_assets_eur": assets,
            "annual_income_eur": income,
            "primary_need": need,
            "proposed_product": product,
            "risk_tolerance_score": risk,
            "meetings_held": meetings_held,
            "no_shows": no_shows,
            "postponements": postponements,
            "days_since_last_reply": days_since_reply,
            "median_reply_delay_days": reply_delay,
            "expected_return_pct": expected_return,
            "meetings_per_year_wanted": meetings_wanted,
            "decision_maker_present": decision_maker,
            "asked_guaranteed_returns": guarantees,
            "happy_with_current_provider": happy_elsewhere,
            "preferred_channel": channel,
            "newsletter_opt_in": newsletter,
        }
    )
    return _blank_unknowns(frame, rng)


# Share of each column left blank, as in a CRM where not every field gets filled in.
MISSING_SHARE = {
    "occupation": 0.03,
    "region": 0.02,
    "investable_assets_eur": 0.07,
    "annual_income_eur": 0.15,
    "risk_tolerance_score": 0.10,
    "days_since_last_reply": 0.04,  # never replied
    "median_reply_delay_days": 0.12,
    "expected_return_pct": 0.15,
    "meetings_per_year_wanted": 0.10,
    "decision_maker_present": 0.08,
    "asked_guaranteed_returns": 0.20,
    "happy_with_current_provider": 0.30,
    "preferred_channel": 0.05,
}
INT_COLUMNS = (
    "age_years",
    "risk_tolerance_score",
    "meetings_held",
    "no_shows",
    "postponements",
    "days_since_last_reply",
    "meetings_per_year_wanted",
)
BOOL_COLUMNS = (
    "decision_maker_present",
    "asked_guaranteed_returns",
    "happy_with_current_provider",
    "newsletter_opt_in",
)


def _blank_unknowns(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    blanks = {col: rng.random(len(frame)) < share for col, share in MISSING_SHARE.items()}
    for col in INT_COLUMNS:
        frame[col] = pd.array(frame[col].astype("int64"), dtype="Int64")
    for col in BOOL_COLUMNS:
        frame[col] = pd.array(frame[col], dtype="boolean")
    for col, blank in blanks.items():
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].where(~blank, None)
        else:
            frame.loc[blank, col] = pd.NA
    return frame


def reason_drivers(export: pd.DataFrame) -> pd.DataFrame:
    """Each reason's latent driver, computed only from the export's columns.

    A driver is 0 for a prospect in whom that reason is absent and grows with it;
    a few ingredients are negative (a client referral makes a good fit more likely).
    """
    assets = _num(export["investable_assets_eur"])
    assets_gap = np.log(FIRM.min_assets_eur / np.maximum(assets, 1_000)).clip(min=0)
    poor_fit = (
        np.where(np.isnan(assets), 0.6, 0.9 * np.nan_to_num(assets_gap))
        + _lookup(export["primary_need"], NEED_OUTSIDE_SPECIALTIES)
        + _lookup(export["referral_source"], SOURCE_FIT)
        + _lookup(export["occupation"], OCCUPATION_FIT)
        # interaction: a business owner planning succession is the firm's ideal client
        - 0.7
        * (
            (export["occupation"] == "business_owner")
            & (export["primary_need"] == "succession_planning")
        ).to_numpy()
    )

    expected = _num(export["expected_return_pct"])
    excess_return = np.nan_to_num(np.clip(expected, None, 40) - FIRM.realistic_return_pct)
    guarantees = _flag(export["asked_guaranteed_returns"])
    wanted = _num(export["meetings_per_year_wanted"])
    extra_meetings = np.nan_to_num(np.clip(wanted, None, 52) - FIRM.meetings_per_year_offered)
    difficult = (
        0.3 * excess_return.clip(min=0)
        + 0.8 * guarantees
        # interaction: guarantees *and* high returns is a promise nobody can keep
        + 0.6 * guarantees * (excess_return > 1)
        + 0.45 * np.minimum(_num(export["no_shows"]), 5)
        + 0.3 * np.sqrt(extra_meetings.clip(min=0))
    )

    need = export["primary_need"].to_numpy(dtype=object)
    product = export["proposed_product"].to_numpy(dtype=object)
    table = np.array([PRODUCT_MISMATCH[nd] for nd in PRODUCT_MISMATCH])
    need_idx = pd.Index(list(PRODUCT_MISMATCH)).get_indexer(need)
    product_idx = pd.Index(PRODUCTS).get_indexer(product)
    known = (need_idx >= 0) & (product_idx >= 0)
    mismatch = np.where(known, table[need_idx.clip(0), product_idx.clip(0)], 0.0)
    risk = _num(export["risk_tolerance_score"])
    risky = np.isin(product, RISKY_PRODUCTS)
    mismatch = (
        mismatch
        # interaction: a risky product for a cautious prospect
        + 1.2 * (risky & (risk <= 3))
        + 0.4 * ((product == "managed_portfolio") & (risk <= 2))
        # a risky product sold without knowing the prospect's risk tolerance
        + 0.2 * (risky & np.isnan(risk))
    )

    postponements = np.minimum(_num(export["postponements"]), 8)
    silence = _num(export["days_since_last_reply"])
    delay = _num(export["median_reply_delay_days"])
    decision_maker = export["decision_maker_present"]
    absent = (decision_maker == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    unknown_dm = decision_maker.isna().to_numpy()
    strung = (
        0.45 * postponements
        + np.where(np.isnan(silence), 0.9, 0.5 * np.log1p(np.nan_to_num(silence) / 14))
        + 0.25 * np.log1p(np.nan_to_num(delay, nan=1.5))
        + 0.7 * absent
        + 0.3 * unknown_dm
        + 0.6 * _flag(export["happy_with_current_provider"])
        # interaction: postponing while the real decision maker never shows up
        + 0.2 * postponements * absent
    )
    return pd.DataFrame(
        {
            "poor_fit": poor_fit,
            "difficult_expectations": difficult,
            "product_mismatch": mismatch,
            "strung_along": strung,
        },
        index=export.index,
    )


def true_outcome_model(export: pd.DataFrame) -> pd.DataFrame:
    """True probabilities and each reason's contribution to each outcome's logit.

    Contributions are to ``logit(outcome) - logit(win_win)`` and relative to a prospect in
    whom that reason is absent (driver 0); ``context__declined`` is the meetings-held
    effect, which belongs to no reason.
    """
    drivers = reason_drivers(export)
    meetings = np.minimum(_num(export["meetings_held"]), 6)
    truth = pd.DataFrame({"prospect_id": export["prospect_id"].to_numpy()}, index=export.index)
    logits = {"win_win": np.zeros(len(export))}
    contributions = {}
    for outcome in OUTCOMES[1:]:
        logit = np.full(len(export), INTERCEPTS[outcome])
        for reason in REASONS:
            part = WEIGHTS[outcome].get(reason, 0.0) * drivers[reason].to_numpy()
            contributions[f"{reason}__{outcome}"] = part
            logit = logit + part
        weight = MEETINGS_HELD_ON_DECLINED if outcome == "declined" else 0.0
        context = weight * meetings + 0.0  # + 0.0 turns -0.0 into 0.0 in the written file
        contributions[f"{CONTEXT}__{outcome}"] = context
        logits[outcome] = logit + context
    stacked = np.column_stack([logits[o] for o in OUTCOMES])
    stacked -= stacked.max(axis=1, keepdims=True)
    probs = np.exp(stacked)
    probs /= probs.sum(axis=1, keepdims=True)
    for i, outcome in enumerate(OUTCOMES):
        truth[f"p_{outcome}"] = probs[:, i]
    for outcome in OUTCOMES[1:]:
        truth[f"logit_{outcome}"] = logits[outcome]
    for name, values in contributions.items():
        truth[name] = values
    for reason in REASONS:
        truth[f"driver_{reason}"] = drivers[reason].to_numpy()
    return truth


def _draw_outcomes(truth: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    cumulative = truth[[f"p_{o}" for o in OUTCOMES]].to_numpy().cumsum(axis=1)
    u = rng.random(len(truth))[:, None]
    index = (u > cumulative).sum(axis=1).clip(max=len(OUTCOMES) - 1)
    return np.array(OUTCOMES, dtype=object)[index]


def _choice(rng: np.random.Generator, shares: dict, n: int) -> np.ndarray:
    p = np.array(list(shares.values()), dtype=float)
    return rng.choice(np.array(list(shares), dtype=object), size=n, p=p / p.sum())


def _choice_per_row(rng: np.random.Generator, shares: dict, shift: dict) -> np.ndarray:
    """Draw one category per row from base shares moved by per-row log-odds shifts."""
    n = len(next(iter(shift.values())))
    names = list(shares)
    logits = np.log(np.array([shares[k] for k in names]))[None, :].repeat(n, axis=0)
    for j, name in enumerate(names):
        if name in shift:
            logits[:, j] += shift[name]
    gumbel = -np.log(-np.log(rng.random(logits.shape)))
    return np.array(names, dtype=object)[np.argmax(logits + gumbel, axis=1)]


def _lookup(values, table: dict, default: float | str = 0.0) -> np.ndarray:
    series = pd.Series(np.asarray(values, dtype=object))
    mapped = series.map(table)
    if isinstance(default, str):
        return mapped.fillna(default).to_numpy(dtype=object)
    return mapped.fillna(default).to_numpy(dtype=float)


def _num(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _flag(series: pd.Series) -> np.ndarray:
    return series.fillna(False).to_numpy(dtype=float)


def write_history(
    rows: int,
    seed: int,
    out: Path,
    truth_out: Path | None = None,
    new_leads: bool = False,
    overwrite: bool = False,
    french_crm: bool = False,
) -> dict[str, str]:
    """Generate and write the export (and the truth, separately); return each file's status.
    ``french_crm``: the same prospects written as a French CRM exports them
    (:mod:`prospect_predictor.synthetic.crm_export`), semicolon-separated CSV."""
    from prospect_predictor.data.tableio import (
        check_output,
        same_file,
        table_format,
        table_writer,
        write_files_atomically,
    )

    out, truth_out = Path(out), Path(truth_out) if truth_out is not None else None
    table_format(out)  # refuse an unsupported extension before spending time generating
    check_output(out)
    if truth_out is not None:
        table_format(truth_out)
        check_output(truth_out, what="--truth-out")
        if same_file(truth_out, out):
            raise ProspectError(
                "--truth-out must differ from --out: the truth never goes into the export"
            )
    export, truth = generate(rows, seed, new_leads)
    if french_crm:
        from prospect_predictor.synthetic.crm_export import as_french_crm_export

        export = as_french_crm_export(export, seed)
    files = [(out, table_writer(export, out, sep=";" if french_crm else ","))]
    if truth_out is not None:
        # 12 significant digits: exact enough for any metric, and the same bytes on any CPU
        files.append((truth_out, table_writer(truth, truth_out, float_format="%.12g")))
    states = write_files_atomically(files, overwrite)  # both checked before either moves
    return {str(path): state for (path, _), state in zip(files, states, strict=True)}
