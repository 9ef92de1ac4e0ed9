"""Derived features: computed the same way everywhere, checked against the schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.derived import input_columns
from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.config.schema import Schema
from prospect_predictor.data.derived import add_derived
from prospect_predictor.errors import ConfigError
from tests.conftest import DEFAULT_PIPELINE

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
SCHEMA = Schema.model_validate(
    {
        "name": "calls",
        "columns": {
            "month": {"type": "category", "categories": MONTHS},
            "month_number": {"type": "int", "min": 1, "max": 12},
            "day": {"type": "int", "min": 1, "max": 31},
            "need": {"type": "category", "categories": ["growth", "income"]},
            "product": {"type": "category", "categories": ["fund", "bond", "note"]},
            "age": {"type": "int", "role": "protected"},
            "called": {"type": "bool"},
        },
    }
)


def test_day_of_year_from_a_month_category_or_number():
    frame = pd.DataFrame(
        {
            "month": pd.Series(["jan", "feb", "may", "dec", None, "jan"], dtype=object),
            "month_number": [1.0, 2.0, 5.0, 12.0, 3.0, np.nan],
            "day": [1.0, 28.0, 15.0, 31.0, 2.0, 5.0],
        }
    )
    derived = {
        "by_name": {"kind": "day_of_year", "month": "month", "day": "day"},
        "by_number": {"kind": "day_of_year", "month": "month_number", "day": "day"},
    }
    out = add_derived(frame, derived, SCHEMA)
    assert out["by_name"].tolist()[:4] == [1.0, 59.0, 135.0, 365.0]
    assert out["by_number"].tolist()[:5] == [1.0, 59.0, 135.0, 365.0, 61.0]
    assert np.isnan(out["by_name"].iloc[4]), "a missing month gives a missing day of year"
    assert np.isnan(out["by_number"].iloc[5])
    assert out["by_name"].dtype == "float64"
    assert "by_name" not in frame.columns, "the caller's frame is left as it was"


def test_pair_in_is_true_for_the_listed_pairs_and_missing_when_an_input_is():
    frame = pd.DataFrame(
        {
            "need": pd.Series(["growth", "growth", "income", None], dtype=object),
            "product": pd.Series(["fund", "note", "bond", "fund"], dtype=object),
        }
    )
    derived = {
        "serves": {
            "kind": "pair_in",
            "columns": ["need", "product"],
            "pairs": [["growth", "fund"], ["income", "bond"]],
        }
    }
    out = add_derived(frame, derived, SCHEMA)["serves"]
    assert out.tolist()[:3] == [True, False, True]
    assert out.isna().tolist() == [False, False, False, True]


def test_value_in_is_true_for_the_listed_values_and_missing_when_the_input_is():
    frame = pd.DataFrame({"need": pd.Series(["growth", "crypto", None, "debt"], dtype=object)})
    derived = {"outside": {"kind": "value_in", "column": "need", "values": ["crypto", "debt"]}}
    out = add_derived(frame, derived, SCHEMA)["outside"]
    assert out.tolist()[:2] == [False, True] and out.tolist()[3] is True
    assert out.isna().tolist() == [False, False, True, False]
    assert input_columns(["outside"], derived) == ["need"]


def test_value_in_problems_are_named(tmp_path):
    from prospect_predictor.config.derived import ValueIn, check_specs

    wrong = check_specs(
        {
            "a": ValueIn(kind="value_in", column="day", values=["1"]),
            "b": ValueIn(kind="value_in", column="need", values=["growth", "lottery"]),
        },
        SCHEMA,
    )
    assert any("derived.a.column: 'day' is int; expected a category column" in p for p in wrong)
    assert any("derived.b.values[2]: 'lottery' is not a category of 'need'" in p for p in wrong)
    assert not any("values[1]" in p for p in wrong)


def test_the_input_columns_of_a_model_include_what_its_derived_features_need():
    derived = {"doy": {"kind": "day_of_year", "month": "month", "day": "day"}}
    assert input_columns(["need", "doy"], derived) == ["need", "month", "day"]
    assert input_columns(["day", "doy", "month"], derived) == ["day", "month"]
    assert input_columns(["need"], {}) == ["need"]


def _pipeline_with(tmp_path, derived: str, features: str = "") -> str:
    """The default pipeline plus derived features; returns its load error's message."""
    text = DEFAULT_PIPELINE.read_text()
    text = text.replace("[features]\n", "[features]\n" + features, 1)
    path = tmp_path / "pipeline.toml"
    path.write_text(text + "\n" + derived)
    with pytest.raises(ConfigError) as error:
        load_pipeline(path)
    return str(error.value)


def test_pipeline_problems_with_derived_features_are_named(tmp_path):
    message = _pipeline_with(
        tmp_path,
        '[derived.unused]\nkind = "pair_in"\ncolumns = ["primary_need", "proposed_product"]\n'
        'pairs = [["retirement_planning", "retirement_plan"]]\n'
        '[derived.bad_pair]\nkind = "pair_in"\ncolumns = ["primary_need", "proposed_product"]\n'
        'pairs = [["retirement", "retirement_plan"]]\n'
        '[derived.no_such]\nkind = "day_of_year"\nmonth = "month"\nday = "day"\n'
        '[derived.postponements]\nkind = "day_of_year"\nmonth = "month"\nday = "day"\n',
        features='bad_pair = "product_mismatch"\nno_such = "context"\n',
    )
    assert "derived.unused: not used; map it" in message
    assert "derived.bad_pair.pairs[1]: 'retirement' is not a category of 'primary_need'" in message
    assert "derived.no_such: 'month' is not a column of schema" in message
    assert "derived.postponements: 'postponements' is already a column" in message


def test_a_derived_feature_cannot_bring_back_an_excluded_or_protected_column(tmp_path):
    from prospect_predictor.config.derived import DayOfYear, PairIn, check_specs

    schema = SCHEMA
    ok = check_specs({"doy": DayOfYear(kind="day_of_year", month="month", day="day")}, schema)
    assert ok == []
    wrong = check_specs(
        {
            "doy": DayOfYear(kind="day_of_year", month="called", day="need"),
            "pair": PairIn(kind="pair_in", columns=("need", "day"), pairs=[("growth", "1")]),
        },
        schema,
    )
    assert any("derived.doy.month: column 'called' is bool" in p for p in wrong)
    assert any("derived.doy.day: column 'need' is category" in p for p in wrong)
    assert any("derived.pair.columns: 'day' is int" in p for p in wrong)
    pipeline = DEFAULT_PIPELINE.read_text()
    pipeline = pipeline.replace("excluded = []", 'excluded = ["occupation"]', 1)
    pipeline = pipeline.replace('occupation = "poor_fit"\n', "", 1)
    pipeline = pipeline.replace("[features]\n", '[features]\nwho = "poor_fit"\n', 1)
    pipeline += (
        '\n[derived.who]\nkind = "pair_in"\ncolumns = ["marital_status", "occupation"]\n'
        'pairs = [["married", "employee"]]\n'
    )
    path = tmp_path / "pipeline.toml"
    path.write_text(pipeline)
    with pytest.raises(ConfigError) as error:
        load_pipeline(path)
    message = str(error.value)
    assert "derived.who: computed from 'occupation', which is excluded" in message
    assert "derived.who: computed from 'marital_status', a protected attribute" in message


def test_months_out_of_calendar_order_are_refused():
    from prospect_predictor.config.derived import DayOfYear, check_specs

    shuffled = Schema.model_validate(
        {
            "name": "calls",
            "columns": {
                "month": {"type": "category", "categories": sorted(MONTHS)},
                "day": {"type": "int"},
                "season": {"type": "category", "categories": ["summer", "winter"]},
            },
        }
    )
    spec = DayOfYear(kind="day_of_year", month="month", day="day")
    (problem,) = check_specs({"doy": spec}, shuffled)
    assert "not in calendar order" in problem and "jan ... dec" in problem
    spec = DayOfYear(kind="day_of_year", month="season", day="day")
    (problem,) = check_specs({"doy": spec}, shuffled)
    assert "has 2 categories; expected the 12 months" in problem


def test_pair_in_and_value_in_agree_with_every_row_judged_alone():
    """Each distinct value (pair) is judged once and gathered: on random columns with
    blanks of both kinds, the same as judging every row's own value (pair)."""
    rng = np.random.default_rng(5)
    needs = ["growth", "income", "crypto", "debt", None, np.nan]
    products = ["fund", "note", "bond", None]
    frame = pd.DataFrame(
        {
            "need": pd.Series([needs[i] for i in rng.integers(0, 6, 3_000)], dtype=object),
            "product": pd.Series([products[i] for i in rng.integers(0, 4, 3_000)], dtype=object),
        },
        index=rng.permutation(3_000) + 10,  # not 0..n-1: the rows keep their labels
    )
    pairs = [["growth", "fund"], ["income", "bond"], ["crypto", "nothing"]]
    derived = {
        "serves": {"kind": "pair_in", "columns": ["need", "product"], "pairs": pairs},
        "outside": {"kind": "value_in", "column": "need", "values": ["crypto", "debt"]},
    }
    out = add_derived(frame, derived, SCHEMA)
    blank_pair = frame["need"].isna() | frame["product"].isna()
    listed = {tuple(p) for p in pairs}
    each_pair = zip(frame["need"], frame["product"], strict=True)
    for name, blank, judged in [
        ("serves", blank_pair, [pair in listed for pair in each_pair]),
        ("outside", frame["need"].isna(), [v in {"crypto", "debt"} for v in frame["need"]]),
    ]:
        column = out[name]
        assert column.dtype == "boolean"
        assert column.index.equals(frame.index)
        assert column.isna().tolist() == blank.tolist()
        kept = ~blank.to_numpy()
        assert column[kept].tolist() == list(np.asarray(judged)[kept])
        assert column[kept].any() and not column[kept].all()
    empty = add_derived(frame.iloc[:3].assign(need=None), derived, SCHEMA)  # every need blank
    assert empty["outside"].isna().all() and empty["serves"].isna().all()
