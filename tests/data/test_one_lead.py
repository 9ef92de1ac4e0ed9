"""One JSON lead validated value by value without pandas (data/one_lead.py) gives what the
frame's vectorised checks give (data/validate.py): the same typed value, or the same
problems worded the same, for many cells per column kind of the default schema and of a
French CRM's drafted schema; the same refusals of a whole lead; the same derived features."""

from __future__ import annotations

import json
import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.schema import Schema, load_schema
from prospect_predictor.data.derived import add_derived
from prospect_predictor.data.draft import draft_pipeline
from prospect_predictor.data.leads import lead_from_json
from prospect_predictor.data.one_lead import (
    NeedsFrame,
    check_lead,
    check_value,
    derived_values,
    read_lead,
)
from prospect_predictor.data.validate import _check_column
from prospect_predictor.errors import ProspectError
from prospect_predictor.synthetic.generate import write_history

NUMBER_CELLS = [
    0, 1, -3, 12, 250000, 10**30, 2.5, -0.0, 1e16, 2.5e-7, True, False,
    "12", " 12 ", "+5", "-0", "-0.0", "1e3", "1E-2", ".5", "5.", "1.5", "2.5", "inf", "-inf",
    "Infinity", "1,5", "7,1", "1.234,5", "1 234", "1 234,5", "2 237 000", "2\u202f237\u00a0000",
    "316 000 €", "12 €", "€ 12", "12€", "0,8 %", "-1,2 %", "12%", "abc", "12.5.3", "1_000",
    "0x10", "\u0661\u0662", "--1", "1e", "6e 4", "-6e 4", "1 2", "+1 2", "+6 ", "", " ",
    "n/a", "NaN", "null", "None", "#N/A",
    "Sélectionner", "-", "12345678901234567890", "999999999", "-1", "31", "13", "1,000",
]  # fmt: skip
BOOL_CELLS = [
    True, False, 1, 0, 1.0, 2, "true", "FALSE", "oui", "NON", "Vrai", "faux", "y", "T", "1",
    "0", " yes ", "maybe", "", "n/a", "Sélectionner", "si",
]  # fmt: skip
TEXT_CELLS = ["abc", " x ", 5, 2.5, "", "None", "=cmd()", "P000001", True, "é"]
DATE_CELLS = [
    "2024-01-05", "2024-02-30", "2024-13-01", "0001-01-01", "05/01/2024", "5/1/2024",
    "31/02/2024", "abc", "", "n/a", 20240105, True,
]  # fmt: skip


def category_cells(spec) -> list:
    levels = list(spec.categories or ())
    cells = [*levels, levels[0].upper(), f"  {levels[0]}  ", levels[-1].replace("_", " ").title()]
    cells += [levels[0].replace("_", "-"), "unheard_of", "Web site", "wébsite", "Website", ""]
    cells += [3, True, "None", "n/a", "Sélectionner", " Sélectionner ", *spec.aliases]
    return cells


def cells_for(spec) -> list:
    kind = spec.type
    if kind in ("int", "float"):
        return (
            NUMBER_CELLS
            + [spec.min, spec.max]
            + [v + d for v in (spec.min, spec.max) if v is not None for d in (-1, 1, 0.5)]
        )
    return {
        "bool": BOOL_CELLS,
        "category": category_cells(spec) if kind == "category" else [],
        "string": TEXT_CELLS,
        "date": DATE_CELLS,
    }[kind]


@pytest.fixture(scope="module")
def french_schema(tmp_path_factory) -> Schema:
    """The schema init-pipeline drafts from the French CRM export, with a column's
    spellings declared as aliases too (docs/bring-your-own-data.md)."""
    folder = tmp_path_factory.mktemp("crm")
    write_history(600, 5, folder / "crm.csv", french_crm=True)
    data = tomllib.loads(draft_pipeline(folder / "crm.csv", "crm").text)["schema"]
    occupation = data["columns"]["occupation"]
    occupation["aliases"] = {"Cadre": "executive", "Retraité": "retired"}
    return Schema.model_validate(data)


def typed(value):
    """A value of the frame's typed column, as the one-lead path holds it."""
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return type(a) is type(b) and a == b


def problems_of(problems) -> list[tuple]:
    return [(p.severity, p.kind, p.column, p.message) for p in problems]


@pytest.mark.parametrize("which", ["default", "french"])
def test_every_cell_is_typed_and_worded_as_the_frame_does(which, french_schema):
    schema = load_schema("prospects") if which == "default" else french_schema
    compared, by_frame = 0, []
    for name, spec in schema.columns.items():
        if spec.role == "outcome":
            continue
        for cell in [*cells_for(spec), *spec.missing_values, None]:
            raw = pd.Series([cell], dtype=object)
            values, problems = _check_column(raw, name, spec, unseen="unknown")
            try:
                value, mine = check_value(cell, name, spec)
            except NeedsFrame:
                by_frame.append((name, cell))
                continue
            compared += 1
            assert same(value, typed(values.iloc[0])), (name, cell, value, values.iloc[0])
            assert problems_of(mine) == problems_of(problems), (name, cell)
            for ours, theirs in zip(mine, problems, strict=True):
                assert list(ours.rows) == list(theirs.rows) and ours.expected == theirs.expected
                found = None if theirs.found is None else [str(v) for v in theirs.found]
                assert (None if ours.found is None else list(ours.found)) == found
    assert compared > 500
    # only dates the one-lead path does not parse itself go to the frame
    assert {schema.columns[n].type for n, _ in by_frame} <= {"date"}, by_frame


@pytest.mark.parametrize("cell", ["+6e 4", "+6.5E -4", "+.5e\t1"])
def test_pandas_reading_of_a_plus_signed_exponent_after_spaces_is_left_to_it(cell):
    """pandas reads "+6e 4" as 60,000 (and "6e 4" as no number): the frame decides."""
    spec = load_schema("prospects").columns["postponements"]
    with pytest.raises(NeedsFrame):
        check_value(cell, "postponements", spec)
    assert check_value(cell.lstrip("+"), "postponements", spec)[1][0].kind == "wrong_type"


@pytest.mark.parametrize(
    "lead",
    [
        '{"postponements": 3}',
        '{"postponements": "abc", "no_shows": 2.5, "region": "mars", "meetings_held": -1}',
        '{"investable_assets_eur": "1 234,5", "expected_return_pct": "12 %"}',
        '{"postponements": 1, "postponements": 9}',
        '{"postpone": 3}',
        '{"outcome": "win_win"}',
        '{"no_shows": Infinity}',
        '{"no_shows": -Infinity, "postponements": 1}',
        '{"no_shows": NaN, "region": "n/a", "occupation": null}',
        '{"prospect_id": "", "postponements": 2}',
        '{"prospect_id": 17, "decision_maker_present": "oui"}',
        '{"decision_maker_present": "peut-être", "newsletter_opt_in": 2}',
        '{"referral_source": "TikTok", "primary_need": "Wealth Growth"}',
        "[1, 2]",
        "not json",
        '{"postponements": [1, 2], "region": {"a": 1}}',
        '{"first_contact_date": "2024-02-30"}',
        '{"first_contact_date": "2024-01-05", "age_years": 200}',
    ],
)
def test_a_whole_lead_is_refused_or_taken_alike(lead, trained_metadata):
    try:
        frame = lead_from_json(lead, trained_metadata, "--lead")
    except ProspectError as exc:
        with pytest.raises(ProspectError) as mine:
            check_lead(read_lead(lead, trained_metadata, "--lead"), "--lead")
        assert str(mine.value) == str(exc)
        return
    fields = read_lead(lead, trained_metadata, "--lead")
    checked = check_lead(fields, "--lead")
    assert fields.unknown == frame.unknown_fields
    expected = frame.frame.iloc[0].to_dict()
    values = checked.values | derived_values(
        checked.values, trained_metadata["derived"], fields.schema
    )
    assert set(values) == set(expected)
    for name, value in values.items():
        assert same(value, typed(expected[name])), (name, value, expected[name])
    unseen = [p for p in frame.report.problems if p.kind == "unseen_category"]
    assert problems_of(checked.unseen) == problems_of(unseen)


@pytest.fixture(scope="module")
def trained_metadata(trained_folder) -> dict:
    folder, _ = trained_folder
    return json.loads((folder / "models" / "prospects" / "metadata.json").read_text())


def test_derived_features_of_one_row_equal_the_frames():
    schema = Schema.model_validate(
        {
            "name": "bank",
            "columns": {
                "month": {"type": "category", "categories": list(MONTHS)},
                "month_number": {"type": "int"},
                "day": {"type": "int"},
                "need": {"type": "category", "categories": ["a", "b", "c"]},
                "product": {"type": "category", "categories": ["x", "y"]},
            },
        }
    )
    derived = {
        "doy": {"kind": "day_of_year", "month": "month", "day": "day"},
        "doy_n": {"kind": "day_of_year", "month": "month_number", "day": "day"},
        "fits": {"kind": "pair_in", "columns": ["need", "product"], "pairs": [["a", "x"]]},
        "outside": {"kind": "value_in", "column": "need", "values": ["b", "c"]},
    }
    rows = [
        {"month": m, "month_number": n, "day": d, "need": need, "product": product}
        for m, n, d, need, product in [
            ("jan", 1.0, 1.0, "a", "x"),
            ("dec", 12.0, 31.0, "a", "y"),
            ("mar", 13.0, 5.0, "b", None),
            (None, 0.0, 5.0, None, "x"),
            ("feb", math.nan, math.nan, "c", "y"),
            ("jun", -1.0, 30.0, "a", None),
        ]
    ]
    frame = pd.DataFrame(rows).astype({"month_number": "float64", "day": "float64"})
    frame["month"] = frame["month"].astype(object)
    expected = add_derived(frame, derived, schema)
    for i, row in enumerate(rows):
        mine = derived_values(row, derived, schema)
        for name, value in mine.items():
            assert same(value, typed(expected[name].iloc[i])), (i, name, value)


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
