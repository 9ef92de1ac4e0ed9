"""Charts and the data profile (prospect_predictor.reporting.charts) on small synthetic inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.data.profile import data_profile, numeric_bin_shares
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.monitoring import metrics
from prospect_predictor.reporting import beeswarm, charts, waterfall

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_bytes: int = 5_000) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > min_bytes, f"{path.name} is only {len(data)} bytes"


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture
def predictions():
    """300 rows over the four outcomes; 'stalled' is never predicted."""
    rng = np.random.default_rng(0)
    y_true = rng.choice(OUTCOMES, size=300, p=[0.4, 0.2, 0.25, 0.15])
    proba = rng.dirichlet(np.ones(4), size=300)
    ranked = proba.copy()
    ranked[:, OUTCOMES.index("stalled")] = -1.0  # never the prediction
    y_pred = [OUTCOMES[k] for k in np.argmax(ranked, axis=1)]
    assert "stalled" not in y_pred
    return [str(y) for y in y_true], y_pred, proba


@pytest.fixture
def frame():
    """Typed columns as the validator returns them, with gaps and a heavy tail."""
    rng = np.random.default_rng(1)
    n = 400
    assets = rng.lognormal(11, 1.5, size=n)
    assets[:40] = np.nan  # 10 % missing
    age = rng.integers(18, 90, size=n).astype("float64")
    age[:4] = np.nan
    score = rng.integers(1, 8, size=n).astype("float64")
    flag = pd.array(rng.random(n) < 0.3, dtype="boolean")
    flag[:20] = pd.NA  # 5 % missing
    need = pd.Series(rng.choice(["retirement", "growth", "tax"], size=n), dtype=object)
    need[:100] = None  # 25 % missing
    return pd.DataFrame(
        {
            "investable_assets_eur": assets,
            "age_years": age,
            "risk_tolerance_score": score,
            "has_existing_advisor": flag,
            "primary_need": need,
            "prospect_id": [f"p{i}" for i in range(n)],  # not a feature: ignored
        }
    )


FEATURE_TYPES = {
    "investable_assets_eur": "float",
    "age_years": "int",
    "risk_tolerance_score": "int",
    "has_existing_advisor": "bool",
    "primary_need": "category",
}


# --------------------------------------------------------------------------- confusion


def test_confusion_matrix_png_writes_a_png_with_an_unpredicted_class(tmp_path, predictions):
    y_true, y_pred, _ = predictions
    path = charts.confusion_matrix_png(y_true, y_pred, OUTCOMES, tmp_path / "cm.png")
    assert path == tmp_path / "cm.png"
    assert_png(path)


def test_confusion_counts_rows_are_true_columns_are_predicted():
    counts = charts._confusion_counts(["a", "a", "b", "c"], ["b", "b", "b", "a"], ["a", "b", "c"])
    assert counts.tolist() == [[0, 2, 0], [0, 1, 0], [1, 0, 0]]


def test_confusion_cells_show_count_and_row_share():
    fig = charts._confusion_figure(["a", "a", "a", "b"], ["a", "a", "b", "b"], ["a", "b", "c"])
    cells = texts(fig)
    assert "2\n67%" in cells  # true a, predicted a: 2 of 3
    assert "1\n33%" in cells
    assert "1\n100%" in cells  # true b, predicted b
    assert cells.count("0\n—") == 3  # 'c' never true: its row has no share


def test_confusion_rejects_unknown_labels(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        charts.confusion_matrix_png(["a", "z"], ["a", "a"], ["a", "b"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# --------------------------------------------------------------------------- calibration


def test_calibration_curves_png_writes_a_png_with_ece_in_the_legend(tmp_path, predictions):
    y_true, _, proba = predictions
    path = charts.calibration_curves_png(y_true, proba, OUTCOMES, tmp_path / "cal.png")
    assert_png(path)
    fig = charts._calibration_figure(y_true, proba, OUTCOMES, 10)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for k, outcome in enumerate(OUTCOMES):
        ece = metrics.calibration_bins(np.asarray(y_true) == outcome, proba[:, k], 10)[3]
        assert f"{outcome} (ECE {ece:.3f})" in labels


def test_calibration_curves_skip_empty_bins():
    p = np.array([0.05, 0.05, 0.95, 0.95])
    mean_p, observed, counts, _ = metrics.calibration_bins(
        np.array([False, False, True, True]), p, 10
    )
    assert mean_p.tolist() == [0.05, 0.95]
    assert observed.tolist() == [0.0, 1.0]
    assert counts.tolist() == [2, 2]


def test_ece_is_zero_for_perfectly_calibrated_bins():
    # In each group of 10 rows, p(a) is constant and exactly that share of rows is 'a';
    # p(b) = 1 - p(a) is then calibrated too. The five groups fall in five distinct bins.
    y, pa = [], []
    for tenths in (1, 3, 5, 7, 9):
        y += ["a"] * tenths + ["b"] * (10 - tenths)
        pa += [tenths / 10] * 10
    pa = np.array(pa)
    proba = np.column_stack([pa, 1 - pa])
    assert metrics.expected_calibration_error(y, proba, ["a", "b"]) == pytest.approx(0, abs=1e-12)
    # Shifting every probability by 0.05 inside the same bins costs exactly 0.05.
    shifted = np.column_stack([pa - 0.05, 1 - pa + 0.05])
    assert metrics.expected_calibration_error(y, shifted, ["a", "b"]) == pytest.approx(0.05)


def test_ece_matches_a_hand_computation():
    # bins=2: [0, 0.5) and [0.5, 1].
    # a: p=[.7,.4,.2], y=[1,0,0]: |.7-1|*1/3 + |.3-0|*2/3 = 0.1 + 0.2        = 0.3
    # b: p=[.2,.4,.2], y=[0,1,0]: |.8/3 - 1/3| * 1                            = 1/15
    # c: p=[.1,.2,.6], y=[0,0,1]: |.15-0|*2/3 + |.6-1|*1/3 = 0.1 + 0.4/3      = 7/30
    # mean: (0.3 + 1/15 + 7/30) / 3 = 0.2
    proba = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.2, 0.2, 0.6]])
    ece = metrics.expected_calibration_error(["a", "b", "c"], proba, ["a", "b", "c"], bins=2)
    assert ece == pytest.approx(0.2)


def test_calibration_bins_are_half_open_with_one_in_the_last_bin():
    # bins=2: [0, 0.5) and [0.5, 1]; 0.5 opens the upper bin, 1.0 closes it.
    p = np.array([0.0, 0.49, 0.5, 1.0])
    mean_p, _, counts, _ = metrics.calibration_bins(np.zeros(4, dtype=bool), p, 2)
    assert counts.tolist() == [2, 2]
    assert mean_p.tolist() == pytest.approx([0.245, 0.75])


def test_ece_counts_probability_one_with_its_neighbours():
    # bins=10, y=[b, a, a]. a: p=[1, .9, .9] share one bin: |0.9333 - 2/3| = 0.2667.
    # b: p=[0, .1, .1]: |0 - 1| * 1/3 + |0.1 - 0| * 2/3 = 0.4. Mean: 1/3.
    # (Were p=1 alone in an eleventh bin, 'a' would cost 1/3 + 0.1 * 2/3 = 0.4.)
    proba = np.array([[1.0, 0.0], [0.9, 0.1], [0.9, 0.1]])
    ece = metrics.expected_calibration_error(["b", "a", "a"], proba, ["a", "b"])
    assert ece == pytest.approx(1 / 3)


def test_ece_rejects_a_misshapen_proba():
    with pytest.raises(ValueError, match="shape"):
        metrics.expected_calibration_error(["a", "b"], np.ones((2, 3)) / 3, ["a", "b"])


# --------------------------------------------------------------------------- importance


def test_reason_importance_png_with_a_reason_without_data(tmp_path):
    importance = {
        "poor_fit": {o: 0.1 * (i + 1) for i, o in enumerate(OUTCOMES)},
        "difficult_expectations": {o: 0.05 for o in OUTCOMES},
        "product_mismatch": None,  # no feature speaks to it
        "strung_along": {o: None for o in OUTCOMES},  # present but empty
        CONTEXT: {o: 0.02 for o in OUTCOMES},
    }
    path = charts.reason_importance_png(importance, tmp_path / "reasons.png")
    assert_png(path)
    fig = charts._reason_figure(importance, "t")
    ax = fig.axes[0]
    assert texts(fig).count(charts.NO_REASON_DATA) == 2
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [r.replace("_", " ") for r in (*REASONS, CONTEXT)]
    assert len(ax.patches) == 3 * len(OUTCOMES)  # bars only for the three reasons with data
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == list(OUTCOMES)


def test_reason_importance_orders_reasons_and_shows_only_those_present(tmp_path):
    importance = {CONTEXT: {"win_win": 0.3}, "strung_along": {"win_win": 0.1}}
    fig = charts._reason_figure(importance, "t")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["strung along", "context"]
    all_missing = {"poor_fit": None}
    assert_png(charts.reason_importance_png(all_missing, tmp_path / "none.png"), 2_000)


def test_feature_importance_png_panels_and_reason_colours(tmp_path):
    rng = np.random.default_rng(2)
    features = [f"feature_{i:02d}" for i in range(30)]
    reason_of = {f: (*REASONS, CONTEXT)[i % 5] for i, f in enumerate(features[:-1])}
    importance = {o: dict(zip(features, rng.random(30), strict=True)) for o in OUTCOMES}
    path = charts.feature_importance_png(importance, reason_of, tmp_path / "feat.png", top=12)
    assert_png(path)
    fig = charts._feature_figure(importance, reason_of, top=12)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == [f"{o}: top 12 features" for o in OUTCOMES]
    first = panels[0]
    shown = [t.get_text() for t in first.get_yticklabels()]
    expected = sorted(features, key=lambda f: -importance["win_win"][f])[:12]
    assert shown == expected
    colours = {tuple(p.get_facecolor()) for p in first.patches}
    assert len(colours) > 1  # coloured by reason, not one colour
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[: len(REASONS)] == [r.replace("_", " ") for r in REASONS]
    if features[-1] in expected:
        assert charts.UNASSIGNED in legend


# --------------------------------------------------------------------------- profile


def _plain_only(value) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _plain_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_only(v) for v in value)
    return value is None or type(value) in (int, float, str, bool)


def test_data_profile_shares_bins_and_missing(frame):
    profile = data_profile(frame, FEATURE_TYPES)
    assert profile["n_rows"] == len(frame)
    features = profile["features"]
    assert list(features) == list(FEATURE_TYPES)
    assert features["investable_assets_eur"]["missing_share"] == pytest.approx(0.10)
    assert features["age_years"]["missing_share"] == pytest.approx(0.01)
    assert features["has_existing_advisor"]["missing_share"] == pytest.approx(0.05)
    assert features["primary_need"]["missing_share"] == pytest.approx(0.25)
    assert features["risk_tolerance_score"]["missing_share"] == 0.0
    for name, entry in features.items():
        shares = entry["shares"]
        total = sum(shares.values()) if isinstance(shares, dict) else sum(shares)
        assert total == pytest.approx(1.0), name
    for name in ("investable_assets_eur", "age_years", "risk_tolerance_score"):
        entry = features[name]
        known = frame[name].dropna().to_numpy()
        edges = entry["edges"]
        assert edges == sorted(set(edges))
        assert edges[0] == entry["min"] == known.min()
        assert edges[-1] == entry["max"] == known.max()
        assert len(entry["shares"]) == len(edges) - 1
        assert entry["mean"] == pytest.approx(known.mean())
        assert entry["std"] == pytest.approx(known.std(ddof=1))
    assets = features["investable_assets_eur"]
    assert len(assets["edges"]) == 11  # continuous: ten deciles
    assert assets["shares"] == pytest.approx([0.1] * 10)
    # 1..7 in whole numbers: the ties collapse edges, so fewer, uneven bins.
    assert len(features["risk_tolerance_score"]["edges"]) < 11
    flag = frame["has_existing_advisor"].dropna()
    assert features["has_existing_advisor"]["share_true"] == pytest.approx(flag.mean())
    need = frame["primary_need"].dropna()
    assert features["primary_need"]["shares"] == pytest.approx(
        (need.value_counts() / len(need)).to_dict()
    )
    assert "prospect_id" not in features


def test_data_profile_is_plain_json(frame):
    profile = data_profile(frame, FEATURE_TYPES)
    assert _plain_only(profile)
    text = json.dumps(profile, allow_nan=False)
    assert json.loads(text) == profile


def test_data_profile_edge_cases():
    frame = pd.DataFrame(
        {
            "empty": [np.nan, np.nan, np.nan],
            "constant": [5.0, 5.0, np.nan],
            "no_flag": pd.array([pd.NA, pd.NA, pd.NA], dtype="boolean"),
            "no_cat": pd.Series([None, None, None], dtype=object),
        }
    )
    types = {"empty": "float", "constant": "int", "no_flag": "bool", "no_cat": "category"}
    profile = data_profile(frame, types)["features"]
    assert profile["empty"]["missing_share"] == 1.0
    assert profile["empty"]["edges"] == [] and profile["empty"]["mean"] is None
    assert profile["constant"]["edges"] == [5.0, 5.0]
    assert profile["constant"]["shares"] == [1.0]
    assert profile["constant"]["missing_share"] == pytest.approx(1 / 3)
    assert profile["no_flag"]["share_true"] is None
    assert profile["no_cat"]["shares"] == {}
    json.dumps(profile, allow_nan=False)


def test_data_profile_rejects_absent_features_and_unknown_types(frame):
    with pytest.raises(ValueError, match="not in the frame"):
        data_profile(frame, {"nope": "float"})
    with pytest.raises(ValueError, match="unknown feature types"):
        data_profile(frame, {"investable_assets_eur": "money"})


def test_numeric_bin_shares_reproduces_the_profile_and_keeps_outliers(frame):
    entry = data_profile(frame, FEATURE_TYPES)["features"]["age_years"]
    assert numeric_bin_shares(frame["age_years"], entry["edges"]) == entry["shares"]
    edges = [0.0, 1.0, 2.0, 3.0]
    # below the range -> first bin, above -> last, an edge -> the bin it opens, NaN ignored
    shares = numeric_bin_shares([-5.0, 1.0, 2.5, 3.0, 99.0, math.nan], edges)
    assert shares == pytest.approx([0.2, 0.2, 0.6])


def test_data_profile_png_with_gaps(tmp_path, frame):
    path = charts.data_profile_png(frame, FEATURE_TYPES, tmp_path / "profile.png")
    assert_png(path, 20_000)
    fig = charts._profile_figure(frame, FEATURE_TYPES)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == len(FEATURE_TYPES)
    assert titles[0].startswith("investable_assets_eur (float)\nmissing 10.0%")
    assert "clipped to p1–p99" in titles[0]
    assert "missing 25.0%" in titles[4]


def test_charts_leave_no_pyplot_figure_open(tmp_path, predictions, frame):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    y_true, y_pred, proba = predictions
    charts.confusion_matrix_png(y_true, y_pred, OUTCOMES, tmp_path / "a.png")
    charts.calibration_curves_png(y_true, proba, OUTCOMES, tmp_path / "b.png")
    charts.data_profile_png(frame, FEATURE_TYPES, tmp_path / "c.png")
    values = np.zeros((len(frame), len(FEATURE_TYPES), 3))
    beeswarm.beeswarm_png(values, frame, list(FEATURE_TYPES), OUTCOMES[1:], tmp_path / "d.png")
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- waterfall

WATERFALL = [  # (feature label, reason, value), deliberately out of order
    ("region: Lyon", CONTEXT, 0.05),
    ("3 postponements", "strung_along", 0.62),
    ("expects 15 % a year", "difficult_expectations", 0.42),
    ("no reply to the last two emails", "strung_along", 0.22),
    ("investable assets 40 k€", "poor_fit", -0.30),
    ("wants guaranteed capital", "difficult_expectations", -0.10),
    ("met at a seminar", "a_new_reason", 0.07),
    ("age 34", "poor_fit", 0.12),
]
WATERFALL_BASE = -0.75
WATERFALL_TOTAL = WATERFALL_BASE + math.fsum(v for *_, v in WATERFALL)


def waterfall_bars(fig):
    (container,) = fig.axes[0].containers
    return [(p.get_x(), p.get_width()) for p in container.patches]


def yticks(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_waterfall_png_writes_a_png_and_leaves_no_pyplot_figure(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    path = waterfall.waterfall_png(
        WATERFALL_BASE, WATERFALL, WATERFALL_TOTAL, tmp_path / "w" / "wf.png", title="P-1"
    )
    assert path == tmp_path / "w" / "wf.png"
    assert_png(path)
    assert plt.get_fignums() == before


def test_waterfall_groups_by_reason_in_order_with_block_sums():
    fig = waterfall._waterfall_figure(
        WATERFALL_BASE,
        WATERFALL,
        WATERFALL_TOTAL,
        title="P-1: stalled",
        unit="log-odds of stalled against win_win",
        reason_labels={"strung_along": "fait traîner"},
    )
    assert yticks(fig) == [
        "average prospect",
        "poor fit  -0.18",
        "investable assets 40 k€",  # |-0.30| before |0.12|
        "age 34",
        "difficult expectations  +0.32",
        "expects 15 % a year",
        "wants guaranteed capital",
        "fait traîner  +0.84",
        "3 postponements",
        "no reply to the last two emails",
        "context  +0.05",
        "region: Lyon",
        "a new reason  +0.07",  # not one of the product's reasons: last
        "met at a seminar",
        "this prospect",
    ]
    values = [-0.30, 0.12, 0.42, -0.10, 0.62, 0.22, 0.05, 0.07]
    bars = waterfall_bars(fig)
    assert [width for _, width in bars] == pytest.approx(values)
    # each bar starts where the previous one ended, from base to total
    starts = WATERFALL_BASE + np.concatenate([[0.0], np.cumsum(values)[:-1]])
    assert [left for left, _ in bars] == pytest.approx(starts.tolist())
    assert bars[-1][0] + bars[-1][1] == pytest.approx(WATERFALL_TOTAL)
    from matplotlib.colors import to_rgb

    (container,) = fig.axes[0].containers
    colours = [p.get_facecolor()[:3] for p in container.patches]
    up, down = (to_rgb(waterfall.WATERFALL_UP), to_rgb(waterfall.WATERFALL_DOWN))
    assert colours == [down, up, up, down, up, up, up, up]
    labels = texts(fig)
    for value in ("-0.30", "+0.12", "+0.42", "-0.10", "+0.62", "+0.22", "+0.05", "+0.07"):
        assert value in labels
    assert f"{WATERFALL_BASE:+.2f}" in labels and f"{WATERFALL_TOTAL:+.2f}" in labels
    ax = fig.axes[0]
    assert ax.get_xlabel() == "log-odds of stalled against win_win"
    assert ax.get_title() == "P-1: stalled"
    vertical = [line.get_xdata()[0] for line in ax.lines if list(line.get_ydata()) == [0, 1]]
    assert WATERFALL_BASE in vertical and pytest.approx(WATERFALL_TOTAL) in vertical


def test_waterfall_merges_features_beyond_the_maximum_per_reason():
    many = [(f"f{i}", "poor_fit", v) for i, v in enumerate([0.01, -0.5, 0.2, -0.03, 0.3])]
    many.append(("expects 15 % a year", "difficult_expectations", 0.4))
    total = 1.0 + math.fsum(v for *_, v in many)
    fig = waterfall._waterfall_figure(1.0, many, total, title="t", max_features_per_reason=2)
    assert yticks(fig) == [
        "average prospect",
        "poor fit  -0.02",  # the sum of all five, merged or not
        "f1",
        "f4",
        "3 other features",
        "difficult expectations  +0.40",
        "expects 15 % a year",
        "this prospect",
    ]
    assert [w for _, w in waterfall_bars(fig)] == pytest.approx([-0.5, 0.3, 0.18, 0.4])
    # a single leftover keeps its name: merging it would save no row
    three = many[2:5]
    fig = waterfall._waterfall_figure(
        0.0, three, math.fsum(v for *_, v in three), title="t", max_features_per_reason=2
    )
    assert yticks(fig)[2:5] == ["f4", "f2", "f3"]
    with pytest.raises(ValueError, match="at least 1"):
        waterfall._waterfall_figure(0.0, three, 0.47, title="t", max_features_per_reason=0)


def test_waterfall_rejects_contributions_that_do_not_add_up(tmp_path):
    path = tmp_path / "wf.png"
    with pytest.raises(ValueError, match=r"-0\.65.*but total = -0\.6499") as caught:
        waterfall.waterfall_png(-0.75, [("age 34", "poor_fit", 0.1)], -0.6499, path, title="t")
    assert "do not add up" in str(caught.value)
    assert not path.exists()
    with pytest.raises(ValueError, match="finite"):
        waterfall.waterfall_png(0.0, [("age", "poor_fit", math.nan)], 0.0, path, title="t")
    assert not path.exists()
    # float noise within the tolerance is accepted
    waterfall.waterfall_png(-0.75, [("age 34", "poor_fit", 0.1)], -0.65 + 1e-9, path, title="t")
    assert_png(path)


def test_waterfall_without_contributions_goes_from_base_to_total(tmp_path):
    path = waterfall.waterfall_png(0.3, [], 0.3, tmp_path / "empty.png", title="nothing to say")
    assert_png(path, 2_000)
    fig = waterfall._waterfall_figure(0.3, [], 0.3, title="t")
    assert yticks(fig) == ["average prospect", "this prospect"]
    assert waterfall_bars(fig) == []
    assert "no feature contributions" in texts(fig)
    with pytest.raises(ValueError, match="do not add up"):
        waterfall._waterfall_figure(0.3, [], 0.5, title="t")


def test_waterfall_gathers_small_features_and_never_writes_minus_zero():
    """As in shap's waterfall, features that barely move the value share one row; a value
    that rounds to zero reads 0.00, never -0.00."""
    items = [("a", "poor_fit", 0.5), ("b", "poor_fit", -0.004), ("c", "poor_fit", 0.003)]
    rows = waterfall._waterfall_rows(0.0, items, 0.499, None, 6, None)
    labels = [r.label for r in rows]
    assert "a" in labels and "b" not in labels and "c" not in labels
    assert "2 other features" in labels
    alone = waterfall._waterfall_rows(
        0.0, [("a", "poor_fit", 0.5), ("b", "poor_fit", 0.004)], 0.504
    )
    assert "b" in [r.label for r in alone]  # a single small one keeps its row
    assert waterfall.signed(-0.004) == "0.00" and waterfall.signed(0.004) == "0.00"
    assert waterfall.signed(-0.25) == "-0.25" and waterfall.signed(1.0) == "+1.00"


# --------------------------------------------------------------------------- against win_win


def test_beeswarm_has_one_panel_per_unwanted_outcome_and_one_dot_per_prospect(tmp_path, frame):
    rng = np.random.default_rng(3)
    features = list(FEATURE_TYPES)
    unwanted = list(OUTCOMES[1:])
    values = rng.normal(size=(len(frame), len(features), len(unwanted)))
    values[:, features.index("age_years"), 1] *= 10  # the largest for stalled
    path = beeswarm.beeswarm_png(values, frame, features, unwanted, tmp_path / "bee.png", top=3)
    assert_png(path)
    fig = beeswarm._beeswarm_figure(values, frame, features, unwanted, 3, "win_win")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [f"{o} against win_win" for o in unwanted]
    assert all("log-odds against win_win" in ax.get_xlabel() for ax in panels)
    stalled = panels[1]
    assert stalled.get_yticklabels()[0].get_text() == "age_years"
    dots = stalled.collections
    assert len(dots) == 3 and all(len(d.get_offsets()) == len(frame) for d in dots)
    x = np.asarray(dots[0].get_offsets())[:, 0]
    assert np.allclose(np.sort(x), np.sort(values[:, features.index("age_years"), 1]))


def test_beeswarm_colours_numbers_low_to_high_and_categories_grey(frame):
    from matplotlib.colors import to_rgba

    assets = beeswarm.beeswarm_colours(frame["investable_assets_eur"])
    known = frame["investable_assets_eur"].notna().to_numpy()
    low = frame["investable_assets_eur"].idxmin()
    high = frame["investable_assets_eur"].idxmax()
    assert assets[high][0] > assets[high][2] and assets[low][2] > assets[low][0]  # red, blue
    grey = np.array(to_rgba(beeswarm.NO_VALUE_COLOR))
    assert (assets[~known] == grey).all()
    assert (beeswarm.beeswarm_colours(frame["primary_need"]) == grey).all()
    flags = beeswarm.beeswarm_colours(frame["has_existing_advisor"])
    assert (flags[:20] == grey).all() and len({tuple(c) for c in flags[20:]}) == 2


def test_swarm_offsets_stack_crowded_dots_within_the_row():
    x = np.r_[np.zeros(50), np.linspace(1, 2, 10)]
    offsets = beeswarm.swarm_offsets(x)
    assert np.abs(offsets).max() == pytest.approx(0.4)
    assert len(set(np.round(offsets[:50], 9))) == 50  # the crowded bin spreads out
    assert np.allclose(offsets[50:], 0)  # lone dots stay on the line
    assert (beeswarm.swarm_offsets(np.ones(5)) != 0).any()


def test_global_charts_are_log_odds_against_win_win(trained_folder, tmp_path):
    """The importance drawn and written is |contribution| to each unwanted outcome's
    log-odds against win_win (what the advisor reads), win_win itself left out."""
    from prospect_predictor.explaining.contributions import feature_contributions
    from prospect_predictor.modeling.train import load_history
    from prospect_predictor.registry.bundle import load_bundle
    from prospect_predictor.reporting.artifacts import importance_charts

    folder, report = trained_folder
    bundle = load_bundle(folder / "models" / "prospects")
    features, reasons = bundle.metadata["features"], bundle.metadata["feature_reasons"]
    sample = load_history(report.pipeline, folder / "history.csv").features.head(300)
    by_feature, by_reason = importance_charts(
        tmp_path, bundle.model, sample, features, reasons, list(OUTCOMES)
    )
    assert list(by_feature) == list(OUTCOMES[1:])
    values, _ = feature_contributions(bundle.model, sample)
    assert np.abs(values[:, :, 0]).max() > 0.01  # win_win's own logit moves
    for k, outcome in enumerate(OUTCOMES[1:], start=1):
        against = np.abs(values[:, :, k] - values[:, :, 0]).mean(axis=0)
        own = np.abs(values[:, :, k]).mean(axis=0)  # what the charts used to show
        drawn = np.array([by_feature[outcome][f] for f in features])
        assert np.allclose(drawn, against) and not np.allclose(drawn, own)
    assert all(set(v) == set(OUTCOMES[1:]) for v in by_reason.values() if v)
    for name in ("reason_importance.png", "shap_beeswarm.png"):
        assert_png(tmp_path / name)


def test_importance_chart_labels_say_against_win_win():
    importance = {"poor_fit": {"stalled": 0.2}}
    fig = charts._reason_figure(importance, "t")
    assert fig.axes[0].get_xlabel().endswith("log-odds against win_win")
    features = charts._feature_figure({"stalled": {"a": 0.1}}, {"a": "poor_fit"}, 5)
    assert "log-odds against win_win" in features.get_suptitle()
