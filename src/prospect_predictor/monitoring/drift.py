"""Drift warnings: how far new data has moved from the training data, in plain words.

Before retraining and before scoring a file, :func:`drift_report` compares each feature of
the new frame with the training data's profile
(:func:`prospect_predictor.data.profile.data_profile`, stored in every bundle as
``profile.json``) and, for labelled data, the outcome mix with the
training outcome shares.

**PSI** (population stability index) measures how much a distribution moved:
``PSI = sum over buckets of (now - before) * ln(now / before)``, with every share floored at
:data:`PSI_FLOOR` so that an empty bucket does not give infinity. The usual reading:

- below 0.10 (:data:`PSI_MODERATE`): stable, no warning;
- 0.10 to 0.25: a moderate shift, "somewhat";
- 0.25 (:data:`PSI_MAJOR`) and above: a major shift, "much".

Buckets: numeric features use the profile's own bin edges, re-counted with
:func:`~prospect_predictor.data.profile.numeric_bin_shares` (the open end bins hold values beyond
the training range); booleans use false/true; categories use the training categories plus one
bucket for values never seen in training. Missing values are left out of PSI: they have their
own check (a change of :data:`MISSING_CHANGE` or more in the share of missing rows).

**Small files.** PSI is biased upwards on few rows: with ``k`` buckets and ``n`` new known
values, sampling noise alone gives a PSI of about ``(k - 1) * (1/n + 1/N)`` (0.09 for ten bins
and a hundred rows), and an empty bucket, common on few rows, adds ``share * ln(share / floor)``
(0.7 for a decile). A PSI or missing-rate warning is therefore only raised when the change is
also beyond sampling noise: a two-sample chi-square test on the same buckets (a two-proportion
test for the missing rate) at :data:`NOISE_ALPHA` (``FeatureDrift.beyond_noise``). On thousands
of rows any PSI above 0.10 passes it, so the thresholds alone decide. Values never seen in
training are facts, not estimates: they warn from :data:`UNSEEN_SHARE` of known values.

Pure numpy/pandas and vectorised: one pass per column, fine on a million rows.

Its length (about 550 lines) is one cohesive thing: one report, with a check per feature
type that shares the PSI, the noise test and the plain-word wording.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prospect_predictor.data.profile import numeric_bin_shares
from prospect_predictor.language.texts import column_label, format_number, format_percent

PSI_MODERATE = 0.10
"""PSI from which a distribution has shifted (< 0.10 stable, 0.10-0.25 moderate shift)."""
PSI_MAJOR = 0.25
"""PSI from which the shift is major (> 0.25)."""
PSI_FLOOR = 1e-4
"""Every share is at least this in PSI, so an empty bucket gives a large but finite term."""
MISSING_CHANGE = 0.10
"""Warn when the share of missing rows moves by this much (10 percentage points) or more."""
MISSING_FAR = 0.20
"""From this change in the missing share, "far more (less) often"."""
UNSEEN_SHARE = 0.01
"""Warn when this share of a category's known values was never seen in training."""
NOISE_ALPHA = 0.001
"""Each noise test lets through this share of no-drift samples (20 features: ~2 % of files)."""
_Z_ONE_SIDED = 3.090232306167813  # standard normal quantile at 1 - NOISE_ALPHA
_Z_TWO_SIDED = 3.290526731491926  # at 1 - NOISE_ALPHA / 2
_UNKNOWN_ROWS = 1e12  # a profile without n_rows: as if the training data were endless
UNSEEN_LABEL = "values never seen in training"
MAX_EXAMPLES = 3
MAX_CHANGES_NAMED = 2


@dataclass
class FeatureDrift:
    """One feature: its PSI, missing rates, unseen categories and the warnings they raise."""

    feature: str
    kind: str  # the profile's type: int, float, bool or category
    psi: float | None  # None when either side has no known value
    missing_before: float  # share of rows missing in the training data
    missing_now: float  # share of rows missing in the new data
    unseen_share: float  # categories: share of known values never seen in training
    unseen_examples: list[str]  # the most frequent of those values
    mean_before: float | None  # numerics: the mean of known values, for the direction
    mean_now: float | None
    warnings: list[str]
    beyond_noise: bool | None = None  # the PSI buckets differ beyond sampling noise (chi-square)


@dataclass
class DriftReport:
    """Every feature's drift, the outcome mix (labelled data) and all warnings."""

    rows: int
    features: list[FeatureDrift]
    outcome_psi: float | None
    outcome_shares_before: dict | None
    outcome_shares_now: dict | None
    warnings: list[str]  # all warnings, most severe first
    outcome_warnings: list[str] = field(default_factory=list)

    @property
    def has_drift(self) -> bool:
        """True when any warning was raised."""
        return bool(self.warnings)

    def to_dict(self) -> dict:
        """JSON-serialisable: plain floats, ``None`` for NaN, ``has_drift`` included."""
        out = _plain(asdict(self))
        out["has_drift"] = self.has_drift
        return out


def drift_report(
    frame: pd.DataFrame,
    profile: Mapping[str, Any],
    outcomes: Sequence[str] | None = None,
    outcome_shares: Mapping[str, float] | None = None,
    *,
    noise_gate: bool = True,
) -> DriftReport:
    """Compare ``frame`` (typed, as :func:`~prospect_predictor.data.validate.validate_frame`
    returns it) with ``profile`` (as :func:`~prospect_predictor.data.profile.data_profile` returns
    it, or read back from ``profile.json``).

    Features come in ``frame``'s column order (``profile.json`` is stored with sorted keys):
    those of the profile absent from ``frame`` are skipped (the caller checks columns),
    columns of ``frame`` not in the profile are ignored. When both ``outcomes`` (the new
    rows' outcome labels; missing ones are ignored) and ``outcome_shares`` (the training
    share of each label) are given, the outcome mix is compared too. ``noise_gate=False``
    warns on the PSI and missing-rate thresholds alone, however few the rows (see the module
    docstring).
    """
    rows = len(frame)
    rows_before = int(profile.get("n_rows", 0) or 0)
    scored: list[tuple[float, int, str]] = []  # (severity, order, text)
    features: list[FeatureDrift] = []
    profiled = dict(profile.get("features", {}))
    for name in [c for c in frame.columns if c in profiled]:
        entry = profiled[name]
        drift, feature_scored = _feature_drift(name, entry, frame[name], rows_before, noise_gate)
        features.append(drift)
        for severity, text in feature_scored:
            scored.append((severity, len(scored), text))

    outcome_psi = None
    shares_before = shares_now = None
    outcome_warnings: list[str] = []
    if outcomes is not None:
        labels = pd.Series(np.asarray(outcomes, dtype=object)).dropna().astype(str)
        shares_now = _shares_of(labels.value_counts()) if len(labels) else {}
        if outcome_shares is not None:
            shares_before = _normalised(outcome_shares)
            outcome_psi, text, severity = _outcome_drift(
                shares_before, shares_now, len(labels), rows_before, noise_gate
            )
            if text:
                outcome_warnings.append(text)
                scored.append((severity, len(scored), text))
    elif outcome_shares is not None:
        shares_before = _normalised(outcome_shares)

    scored.sort(key=lambda item: (-item[0], item[1]))
    return DriftReport(
        rows=rows,
        features=features,
        outcome_psi=outcome_psi,
        outcome_shares_before=shares_before,
        outcome_shares_now=shares_now,
        warnings=[text for _, _, text in scored],
        outcome_warnings=outcome_warnings,
    )


def drift_warnings(features, profile, outcomes, metadata) -> list[str]:
    """The plain-word warnings of :func:`drift_report` against a bundle's training profile
    and outcome mix (from its metadata); none without a profile."""
    if not profile:
        return []
    rows = metadata.get("data", {}).get("rows_per_class") or {}
    total = sum(rows.values())
    shares = {k: v / total for k, v in rows.items()} if total and outcomes is not None else None
    return drift_report(features, profile, outcomes if shares else None, shares).warnings


def psi(before: Sequence[float] | np.ndarray, now: Sequence[float] | np.ndarray) -> float:
    """``sum((now - before) * ln(now / before))`` with each share floored at :data:`PSI_FLOOR`."""
    b = np.maximum(np.asarray(before, dtype=float), PSI_FLOOR)
    n = np.maximum(np.asarray(now, dtype=float), PSI_FLOOR)
    return float(np.sum((n - b) * np.log(n / b)))


def beyond_noise(
    before: Sequence[float] | np.ndarray,
    now: Sequence[float] | np.ndarray,
    known_before: int,
    known_now: int,
) -> bool:
    """Whether two bucket distributions differ beyond sampling noise.

    A two-sample chi-square test of homogeneity on the shares and their sizes, at
    :data:`NOISE_ALPHA`; the chi-square quantile comes from the Wilson-Hilferty
    approximation (within 3 % of the exact one). An unknown training size
    (``known_before`` 0) counts as an endless one. False when no new value is known.
    """
    if known_now <= 0:
        return False
    n_before = float(known_before) if known_before > 0 else _UNKNOWN_ROWS
    n_now = float(known_now)
    b = np.asarray(before, dtype=float)
    n = np.asarray(now, dtype=float)
    pooled = (n_before * b + n_now * n) / (n_before + n_now)
    used = pooled > 0
    if np.count_nonzero(used) < 2:
        return False
    statistic = float(np.sum((n[used] - b[used]) ** 2 / pooled[used]))
    statistic /= 1.0 / n_now + 1.0 / n_before
    df = int(np.count_nonzero(used)) - 1
    a = 2.0 / (9.0 * df)
    quantile = df * (1.0 - a + _Z_ONE_SIDED * math.sqrt(a)) ** 3
    return statistic > quantile


def row_keys(rows, seed: int = 0) -> np.ndarray:
    """Each row's sampling key in [0, 1), from its number in the file and ``seed`` alone
    (SplitMix64's mixing of the two): uniform, and the same wherever the row is read --
    in the process that samples or in a worker that only sends the rows that can make
    the sample (``jobs/score.scored_chunk``)."""
    with np.errstate(over="ignore"):
        z = np.asarray(rows, dtype=np.uint64) + np.uint64(seed) * np.uint64(_GOLDEN)
        z = z * np.uint64(_GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


_GOLDEN = 0x9E3779B97F4A7C15


class RowSample:
    """A uniform random sample of at most ``size`` rows of frames seen one after another
    (each row has a random key, :func:`row_keys` of its number in the file; the rows with
    the ``size`` smallest keys are kept), in the order they came. While fewer than
    ``size`` rows have come, it is all of them, so a small file's drift is that of the
    whole file. The same rows for a given file, whatever the sizes of the frames it is
    given and wherever their keys were computed.

    Rows are gathered and the sample cut to ``size`` only when a fifth more are held
    (and when :attr:`frame` is read); once full, a row whose key cannot make the sample is
    dropped as it comes (:attr:`limit`: a row whose key is at or above it cannot).
    Cutting at every frame copied the whole sample each time: a third of the main
    process's time on 1,000,000 leads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._parts: list[pd.DataFrame] = []
        self._keys: list[np.ndarray] = []
        self._held = 0
        self.limit = np.inf  # a key at or above it cannot make the sample any more

    def add(self, frame: pd.DataFrame, keys: np.ndarray) -> None:
        """Rows and their keys (:func:`row_keys`; rows whose keys are at or above
        :attr:`limit` may have been left out already)."""
        if self._parts and not len(frame):
            return
        if self._parts and self.limit < np.inf:
            kept = keys < self.limit
            if not kept.all():
                frame, keys = frame[kept], keys[kept]
        self._parts.append(frame)
        self._keys.append(keys)
        self._held += len(frame)
        if self._held > self.size + self.size // 5:
            self._cut()

    @property
    def frame(self) -> pd.DataFrame | None:
        """The sample (None before any frame came), text as Python objects again where it
        came as Arrow text (:func:`compact_text`)."""
        if not self._parts:
            return None
        self._cut()
        return text_objects(self._parts[0])

    def _cut(self) -> None:
        parts, keys = self._parts, self._keys
        combined = pd.concat(parts) if len(parts) > 1 else parts[0]
        keys = np.concatenate(keys) if len(keys) > 1 else keys[0]
        if len(combined) > self.size:
            keep = np.sort(np.argpartition(keys, self.size - 1)[: self.size])
            combined, keys = combined.iloc[keep], keys[keep]
            self.limit = float(keys.max())
        self._parts, self._keys, self._held = [combined], [keys], len(combined)


ARROW_TEXT = pd.StringDtype("pyarrow", na_value=pd.NA)  # text as Arrow buffers, blanks NA


def compact_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns (Python objects: ``str`` or None) as Arrow text: a
    few buffers to send between processes, cut and join, instead of an object per cell
    (a worker sends a file's sample rows so). :func:`text_objects` undoes it exactly."""
    text = [
        name
        for name, kind in frame.dtypes.items()
        if pd.api.types.is_object_dtype(kind)
        and pd.api.types.infer_dtype(frame[name], skipna=True) in ("string", "empty")
    ]  # only columns of str and blanks: Arrow would write any other value as text
    if not text:
        return frame
    return frame.assign(**{name: frame[name].astype(ARROW_TEXT) for name in text})


def text_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """The Arrow text columns of ``frame`` as Python objects, ``str`` or None."""
    arrow = [name for name, kind in frame.dtypes.items() if kind == ARROW_TEXT]
    if not arrow:
        return frame
    return frame.assign(
        **{
            name: pd.Series(
                frame[name].to_numpy(dtype=object, na_value=None), index=frame.index, dtype=object
            )
            for name in arrow
        }
    )


# --------------------------------------------------------------------------- per feature


def _feature_drift(
    name: str, entry: Mapping[str, Any], column: pd.Series, rows_before: int, noise_gate: bool
) -> tuple[FeatureDrift, list[tuple[float, str]]]:
    kind = str(entry.get("type", "category"))
    rows = len(column)
    missing_mask = column.isna().to_numpy(dtype=bool)
    missing_now = float(missing_mask.mean()) if rows else 0.0
    missing_before = float(entry.get("missing_share") or 0.0)
    known_before = int(round(rows_before * (1.0 - missing_before)))
    display = _display(name)
    drift = FeatureDrift(
        feature=name,
        kind=kind,
        psi=None,
        missing_before=missing_before,
        missing_now=missing_now,
        unseen_share=0.0,
        unseen_examples=[],
        mean_before=None,
        mean_now=None,
        warnings=[],
    )
    scored: list[tuple[float, str]] = []

    if kind in ("int", "float"):
        scored += _numeric_drift(drift, entry, column, known_before, noise_gate, display)
    elif kind == "bool":
        scored += _bool_drift(drift, entry, column, known_before, noise_gate, display)
    else:
        scored += _category_drift(drift, entry, column, known_before, noise_gate, display)

    missing = _missing_warning(display, missing_before, missing_now, rows, rows_before, noise_gate)
    if missing:
        scored.append(missing)
    scored.sort(key=lambda item: -item[0])
    drift.warnings = [text for _, text in scored]
    return drift, scored


def _numeric_drift(
    drift: FeatureDrift,
    entry: Mapping[str, Any],
    column: pd.Series,
    known_before: int,
    noise_gate: bool,
    display: str,
) -> list[tuple[float, str]]:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = values[~np.isnan(values)]
    drift.mean_before = _float_or_none(entry.get("mean"))
    drift.mean_now = float(values.mean()) if len(values) else None
    edges = list(entry.get("edges") or [])
    before = np.asarray(entry.get("shares") or [], dtype=float)
    if len(edges) < 2 or len(values) == 0 or len(before) != len(edges) - 1:
        return []
    now = np.asarray(numeric_bin_shares(values, edges), dtype=float)
    value = psi(before, now)
    drift.psi = value
    drift.beyond_noise = beyond_noise(before, now, known_before, len(values))
    if not _warns(value, drift.beyond_noise, noise_gate):
        return []
    direction = _numeric_direction(before, now, drift.mean_before, drift.mean_now)
    word = _degree(value)
    if direction == "differently":
        what = f"values are spread {word} differently from the training data"
    else:
        what = f"values are {word} {direction} than in the training data"
    detail = ""
    if drift.mean_before is not None and drift.mean_now is not None:
        detail = f" (mean {_number(drift.mean_now)} vs {_number(drift.mean_before)})"
    return [(value, f"{display}: {what}: PSI {value:.2f}{detail}")]


def _numeric_direction(
    before: np.ndarray, now: np.ndarray, mean_before: float | None, mean_now: float | None
) -> str:
    """ "higher" / "lower" when the bulk moved and the mean agrees, else "differently".

    The bulk's move is the change in the mean bin index (robust to a few extreme values);
    under a quarter of a bin, the shape changed rather than the level.
    """
    index = np.arange(len(before), dtype=float)
    moved = float(index @ now - index @ before)
    if abs(moved) < 0.25:
        return "differently"
    means_known = mean_before is not None and mean_now is not None
    if means_known and mean_now != mean_before and (mean_now > mean_before) != (moved > 0):
        return "differently"
    return "higher" if moved > 0 else "lower"


def _bool_drift(
    drift: FeatureDrift,
    entry: Mapping[str, Any],
    column: pd.Series,
    known_before: int,
    noise_gate: bool,
    display: str,
) -> list[tuple[float, str]]:
    shares = entry.get("shares") or {}
    if "true" not in shares and entry.get("share_true") is None:
        return []
    true_before = float(shares.get("true", entry.get("share_true")))
    known = column.dropna()
    if len(known) == 0:
        return []
    true_now = float(known.astype(bool).to_numpy(dtype=bool).mean())
    before = np.array([1.0 - true_before, true_before])
    now = np.array([1.0 - true_now, true_now])
    value = psi(before, now)
    drift.psi = value
    drift.beyond_noise = beyond_noise(before, now, known_before, len(known))
    if not _warns(value, drift.beyond_noise, noise_gate):
        return []
    direction = "more" if true_now > true_before else "less"
    return [
        (
            value,
            f"{display}: true {_degree(value)} {direction} often than in the training data: "
            f"PSI {value:.2f} ({_percent(true_now)} vs {_percent(true_before)})",
        )
    ]


def _category_drift(
    drift: FeatureDrift,
    entry: Mapping[str, Any],
    column: pd.Series,
    known_before: int,
    noise_gate: bool,
    display: str,
) -> list[tuple[float, str]]:
    before_shares = {str(k): float(v) for k, v in (entry.get("shares") or {}).items()}
    counts = column.value_counts(dropna=True)
    if len(counts) == 0 or not before_shares:
        return []
    counts.index = counts.index.map(str)
    counts = counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    known = int(counts.sum())
    seen = counts.index.isin(list(before_shares))
    unseen = counts[~seen]
    drift.unseen_share = float(unseen.sum() / known)
    drift.unseen_examples = [str(v) for v in unseen.index[:MAX_EXAMPLES]]

    categories = sorted(before_shares)  # one order whatever the profile's key order
    now_known = counts[seen].reindex(categories, fill_value=0).to_numpy(dtype=float) / known
    before = np.append(np.array([before_shares[c] for c in categories]), 0.0)
    now = np.append(now_known, drift.unseen_share)
    value = psi(before, now)
    drift.psi = value
    drift.beyond_noise = beyond_noise(before, now, known_before, known)

    scored: list[tuple[float, str]] = []
    if _warns(value, drift.beyond_noise, noise_gate):
        changes = _named_changes([*categories, UNSEEN_LABEL], before, now)
        scored.append(
            (
                value,
                f"{display}: the mix is {_degree(value)} different from the training data: "
                f"PSI {value:.2f} ({changes})",
            )
        )
    if drift.unseen_share >= UNSEEN_SHARE:
        examples = ", ".join(repr(v) for v in drift.unseen_examples)
        more = ", ..." if len(unseen) > MAX_EXAMPLES else ""
        scored.append(
            (
                psi([1.0, 0.0], [1.0 - drift.unseen_share, drift.unseen_share]),
                f"{display}: {_percent(drift.unseen_share)} of values were never seen in "
                f"training (e.g. {examples}{more})",
            )
        )
    return scored


def _missing_warning(
    display: str,
    before: float,
    now: float,
    rows: int,
    rows_before: int,
    noise_gate: bool,
) -> tuple[float, str] | None:
    change = now - before
    if rows == 0 or abs(change) < MISSING_CHANGE - 1e-12:
        return None
    if noise_gate and rows_before > 0:
        pooled = (now * rows + before * rows_before) / (rows + rows_before)
        noise = _Z_TWO_SIDED * math.sqrt(
            max(pooled * (1.0 - pooled), 0.0) * (1.0 / rows + 1.0 / rows_before)
        )
        if abs(change) <= noise:
            return None
    far = "far " if abs(change) >= MISSING_FAR else ""
    direction = "more" if change > 0 else "less"
    severity = psi([before, 1.0 - before], [now, 1.0 - now])
    return (
        severity,
        f"{display}: missing {far}{direction} often: {_percent(now)} of rows vs "
        f"{_percent(before)} in training",
    )


# --------------------------------------------------------------------------- outcome


def _outcome_drift(
    before: dict[str, float],
    now: dict[str, float],
    known_now: int,
    rows_before: int,
    noise_gate: bool,
) -> tuple[float | None, str | None, float]:
    if not before or not now:
        return None, None, 0.0
    labels = list(before) + [label for label in now if label not in before]
    b = np.array([before.get(label, 0.0) for label in labels])
    n = np.array([now.get(label, 0.0) for label in labels])
    value = psi(b, n)
    if not _warns(value, beyond_noise(b, n, rows_before, known_now), noise_gate):
        return value, None, value
    text = (
        f"the outcome mix is {_degree(value)} different from the training data: "
        f"PSI {value:.2f} ({_named_changes(labels, b, n)})"
    )
    return value, text, value


# --------------------------------------------------------------------------- helpers


def _warns(value: float, significant: bool, noise_gate: bool) -> bool:
    return value >= PSI_MODERATE and (significant or not noise_gate)


def _degree(value: float) -> str:
    return "much" if value >= PSI_MAJOR else "somewhat"


def _named_changes(labels: Sequence[str], before: np.ndarray, now: np.ndarray) -> str:
    """The largest moves in share, e.g. "more bought_list: 31 % vs 14 %; fewer seminar: ..."."""
    delta = now - before
    order = np.argsort(-np.abs(delta), kind="stable")
    parts = []
    for rank, i in enumerate(order[:MAX_CHANGES_NAMED]):
        if rank > 0 and abs(delta[i]) < max(0.02, abs(delta[order[0]]) / 3):
            break
        word = "more" if delta[i] > 0 else "fewer"
        parts.append(f"{word} {labels[i]}: {_percent(now[i])} vs {_percent(before[i])}")
    return "; ".join(parts)


def _display(name: str) -> str:
    """The raw column name (analysts grep for it), with its words when they say more."""
    label = column_label(name, "en")
    if label == name.replace("_", " "):
        return name
    return f"{name} ({label})"


def _percent(share: float) -> str:
    share = float(share)
    return format_percent(share, "en", decimals=1 if 0 < share < 0.095 else 0)


def _number(value: float) -> str:
    size = abs(value)
    decimals = 0 if size >= 100 else 1 if size >= 10 else 2
    return format_number(value, "en", decimals=decimals)


def _shares_of(counts: pd.Series) -> dict[str, float]:
    total = float(counts.sum())
    counts.index = counts.index.map(str)
    counts = counts.groupby(level=0, sort=False).sum()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {str(k): float(v) / total for k, v in ordered}


def _normalised(shares: Mapping[str, float]) -> dict[str, float]:
    total = float(sum(float(v) for v in shares.values()))
    if total <= 0:
        return {}
    return {str(k): float(v) / total for k, v in shares.items()}


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _plain(value: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN and infinities to ``None``."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value
