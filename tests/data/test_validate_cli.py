"""`prospect validate`: every kind of bad input gets its own clear message, never a traceback."""

from __future__ import annotations

import pandas as pd
import pytest

from prospect_predictor.synthetic.generate import generate


@pytest.fixture(scope="module")
def good_rows():
    export, _ = generate(40, seed=4)
    return export


def _write(tmp_path, frame: pd.DataFrame, name="f.csv", **kwargs):
    path = tmp_path / name
    frame.to_csv(path, index=False, **kwargs)
    return path


def _assert_clean_failure(result, *expected_fragments):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for fragment in expected_fragments:
        assert fragment in result.output, (fragment, result.output)


def test_a_valid_file_passes(run_cli, tmp_path, good_rows):
    result = run_cli("validate", _write(tmp_path, good_rows))
    assert result.exit_code == 0, result.output
    assert "40 prospects, 0 error(s), 0 warning(s) — valid" in result.stdout


def test_semicolon_file_with_bom_passes(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows, sep=";", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = run_cli("validate", path)
    assert result.exit_code == 0, result.output


def test_parquet_passes(run_cli, tmp_path, good_rows):
    path = tmp_path / "f.parquet"
    good_rows.to_parquet(path, index=False)
    assert run_cli("validate", path).exit_code == 0


def test_empty_file(run_cli, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    _assert_clean_failure(run_cli("validate", path), "empty.csv", "the file is empty")


def test_header_only(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows.head(0))
    _assert_clean_failure(run_cli("validate", path), "f.csv", "has a header but no rows")


def test_missing_column_is_named(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows.drop(columns=["postponements"]))
    _assert_clean_failure(
        run_cli("validate", path), "f.csv", "column 'postponements' is missing", "a whole number"
    )


def test_misspelt_column_gets_a_hint(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows.rename(columns={"no_shows": "no_show"}))
    _assert_clean_failure(
        run_cli("validate", path), "column 'no_shows' is missing", "found a column 'no_show'"
    )


def test_missing_outcome_points_to_leads_mode(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows.drop(columns=["outcome"]))
    _assert_clean_failure(run_cli("validate", path), "column 'outcome' is missing", "--leads")
    assert run_cli("validate", path, "--leads").exit_code == 0


def test_unknown_extra_column_is_a_warning_and_ignored(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows.assign(notes="called twice"))
    result = run_cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stdout
    assert "column 'notes' is not in schema 'prospects' and is ignored" in result.stdout


def test_wrong_type_names_column_rows_expected_and_found(run_cli, tmp_path, good_rows):
    frame = good_rows.astype({"meetings_held": object, "decision_maker_present": object})
    frame.loc[[2, 6], "meetings_held"] = "two"
    frame.loc[4, "decision_maker_present"] = "maybe"
    result = run_cli("validate", _write(tmp_path, frame))
    _assert_clean_failure(
        result,
        "column 'meetings_held': expected a whole number from 0 to 100; found 'two' in 2 rows "
        "(rows 3, 7)",
        "column 'decision_maker_present': expected true or false; found 'maybe' in 1 row (row 5)",
    )


def test_fraction_in_a_whole_number_column(run_cli, tmp_path, good_rows):
    frame = good_rows.astype({"postponements": object})
    frame.loc[0, "postponements"] = "1.5"
    _assert_clean_failure(
        run_cli("validate", _write(tmp_path, frame)),
        "column 'postponements': expected a whole number; found '1.5'",
    )


def test_out_of_range(run_cli, tmp_path, good_rows):
    frame = good_rows.astype({"age_years": object})
    frame.loc[9, "age_years"] = 250
    _assert_clean_failure(
        run_cli("validate", _write(tmp_path, frame)),
        "column 'age_years': expected a whole number from 18 to 110; found '250' in 1 row (row 10)",
    )


def test_unknown_category_with_case_hint(run_cli, tmp_path, good_rows):
    frame = good_rows.copy()
    frame.loc[0, "referral_source"] = "tv_advert"
    frame.loc[1, "referral_source"] = "Seminar"
    result = run_cli("validate", _write(tmp_path, frame))
    _assert_clean_failure(
        result,
        "column 'referral_source': expected one of client_referral",
        "'Seminar' should be written 'seminar'",
        "'tv_advert'",
        "rows 1, 2",
    )


def test_duplicated_ids(run_cli, tmp_path, good_rows):
    frame = good_rows.copy()
    frame.loc[5, "prospect_id"] = frame.loc[1, "prospect_id"]
    result = run_cli("validate", _write(tmp_path, frame))
    _assert_clean_failure(
        result,
        "column 'prospect_id': ids must be unique",
        f"{frame.loc[1, 'prospect_id']!r} in rows 2, 6",
    )


def test_missing_required_value(run_cli, tmp_path, good_rows):
    frame = good_rows.copy()
    frame.loc[3, "first_contact_date"] = None
    _assert_clean_failure(
        run_cli("validate", _write(tmp_path, frame)),
        "column 'first_contact_date': a value is required; missing in 1 row (row 4)",
    )


def test_bad_date(run_cli, tmp_path, good_rows):
    frame = good_rows.copy()
    frame.loc[0, "first_contact_date"] = "31/02/2024"
    _assert_clean_failure(
        run_cli("validate", _write(tmp_path, frame)),
        "column 'first_contact_date': expected a date (YYYY-MM-DD); found '31/02/2024'",
    )


def test_every_problem_is_reported_at_once(run_cli, tmp_path, good_rows):
    frame = good_rows.drop(columns=["region"]).astype({"no_shows": object})
    frame.loc[0, "no_shows"] = -1
    frame.loc[1, "outcome"] = "maybe_later"
    result = run_cli("validate", _write(tmp_path, frame))
    _assert_clean_failure(
        result, "column 'region' is missing", "column 'no_shows'", "column 'outcome'", "3 error(s)"
    )


def test_not_utf8(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows)
    path.write_bytes(path.read_bytes().replace(b"seminar", b"s\xe9minar", 1))
    _assert_clean_failure(run_cli("validate", path), "not UTF-8 text")


def test_file_not_found_and_unsupported_type(run_cli, tmp_path):
    _assert_clean_failure(run_cli("validate", tmp_path / "nope.csv"), "nope.csv: file not found")
    other = tmp_path / "history.xlsx"
    other.write_bytes(b"PK")
    _assert_clean_failure(run_cli("validate", other), "unsupported file type '.xlsx'")


def test_malformed_csv(run_cli, tmp_path, good_rows):
    path = _write(tmp_path, good_rows)
    with path.open("a") as handle:
        handle.write('P999,"unclosed quote\n')
    result = run_cli("validate", path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "f.csv" in result.output


def test_a_pipeline_just_drafted_validates_its_file(run_cli, tmp_path, good_rows):
    """init-pipeline drafts a pipeline with an inline schema and TODO reasons: the analyst
    can already validate the export against it; --schema with a pipeline says so."""
    data = _write(tmp_path, good_rows)
    drafted = tmp_path / "firm.toml"
    assert run_cli("init-pipeline", "--data", data, "--out", drafted).exit_code == 0
    assert '"TODO"' in drafted.read_text()
    result = run_cli("validate", data, "--pipeline", drafted)
    assert result.exit_code == 0, result.output
    assert "40 prospects, 0 error(s)" in result.stdout
    wrong = run_cli("validate", data, "--schema", drafted)
    _assert_clean_failure(wrong, "is a pipeline, not a schema: validate against it with --pipeline")
    both = run_cli("validate", data, "--schema", "prospects", "--pipeline", drafted)
    assert both.exit_code == 2 and "--schema or --pipeline, not both" in both.stderr
    bad = good_rows.astype({"postponements": object})
    bad.loc[3, "postponements"] = "many"
    failed = run_cli("validate", _write(tmp_path, bad, "bad.csv"), "--pipeline", drafted)
    _assert_clean_failure(failed, "column 'postponements'")


def test_a_category_never_seen_is_unknown_for_leads_and_an_error_for_training(good_rows):
    """Leads to score: the cell becomes unknown and a warning names the rows; training
    data: it stays a row error (the schema is the history's contract)."""
    from prospect_predictor.config.schema import load_schema
    from prospect_predictor.data.validate import validate_frame

    frame = good_rows.astype({"referral_source": object})
    frame.loc[[2, 9], "referral_source"] = "tv_advert"
    schema = load_schema("prospects")
    leads = validate_frame(frame, schema, "f.csv", require_outcome=False, unseen="unknown")
    assert leads.ok and not leads.bad_rows.any()
    (warning,) = [p for p in leads.warnings if p.kind == "unseen_category"]
    assert warning.rows.tolist() == [3, 10] and "'tv_advert'" in warning.message
    assert leads.frame["referral_source"].isna().tolist()[2] is True
    history = validate_frame(frame, schema, "f.csv")
    assert not history.ok and history.bad_rows.tolist().count(True) == 2


def test_validate_leads_judges_a_new_category_as_scoring_does(run_cli, tmp_path, good_rows):
    """`prospect validate --leads` says what `prospect score` will do: a category the
    schema does not list is scored as unknown (a warning); in a history it is an error."""
    frame = good_rows.drop(columns="outcome").astype({"referral_source": object})
    frame.loc[[2, 9], "referral_source"] = "tv_advert"
    path = _write(tmp_path, frame)
    leads = run_cli("validate", path, "--leads")
    assert leads.exit_code == 0, leads.output
    assert "warning: " in leads.stdout and "scored as unknown; found 'tv_advert'" in leads.stdout
    assert "(rows 3, 10)" in leads.stdout and "0 error(s), 1 warning(s) — valid" in leads.stdout
    history = run_cli("validate", _write(tmp_path, good_rows.assign(referral_source="tv_advert")))
    assert history.exit_code == 1 and "expected one of" in history.stdout


def test_numbers_written_the_french_way_are_read_as_declared(tmp_path, good_rows):
    """Decimal commas and spaces (no-break ones too) between thousands, declared per column;
    undeclared, the error says how to declare them; French booleans read as booleans."""
    from prospect_predictor.config.schema import ColumnSpec, load_schema
    from prospect_predictor.data.validate import validate_frame

    frame = good_rows.astype(object).head(4).copy()
    frame["investable_assets_eur"] = ["2 237 000,5", "54\u00a0000", "1\u202f000,25", ""]
    frame["expected_return_pct"] = ["7,1", "5", "-0,5", ""]
    frame["decision_maker_present"] = ["oui", "non", "Oui", ""]
    schema = load_schema("prospects")
    undeclared = validate_frame(frame, schema, "fr.csv")
    messages = " ".join(p.message for p in undeclared.errors)
    assert 'declare decimal = ",", thousands = " " for column \'investable_assets_eur\'' in messages
    assert "declare decimal = \",\" for column 'expected_return_pct'" in messages
    assert "decision_maker_present" not in messages
    columns = dict(schema.columns)
    columns["investable_assets_eur"] = columns["investable_assets_eur"].model_copy(
        update={"decimal": ",", "thousands": " "}
    )
    columns["expected_return_pct"] = columns["expected_return_pct"].model_copy(
        update={"decimal": ","}
    )
    declared = validate_frame(frame, schema.model_copy(update={"columns": columns}), "fr.csv")
    assert declared.ok, declared.lines()
    assert declared.frame["investable_assets_eur"].tolist()[:3] == [2_237_000.5, 54_000.0, 1_000.25]
    assert declared.frame["expected_return_pct"].tolist()[:3] == [7.1, 5.0, -0.5]
    assert declared.frame["decision_maker_present"].tolist()[:3] == [True, False, True]
    with pytest.raises(ValueError, match="decimal/thousands apply to int or float columns"):
        ColumnSpec(type="category", categories=("a",), decimal=",")


def test_init_pipeline_detects_french_numbers_and_declares_them(run_cli, tmp_path, good_rows):
    frame = good_rows.astype(object).copy()
    frame["investable_assets_eur"] = [
        "" if pd.isna(v) else f"{v:,.0f}".replace(",", " ")
        for v in good_rows["investable_assets_eur"]
    ]
    frame["expected_return_pct"] = [
        "" if pd.isna(v) else f"{v:.1f}".replace(".", ",") for v in good_rows["expected_return_pct"]
    ]
    data = tmp_path / "fr.csv"
    frame.to_csv(data, sep=";", index=False)
    drafted = tmp_path / "fr.toml"
    result = run_cli("init-pipeline", "--data", data, "--out", drafted)
    assert result.exit_code == 0, result.output
    text = drafted.read_text()
    assert 'thousands = " "' in text and 'decimal = ","' in text
    assert "expected_return_pct: numbers written with a decimal comma" in result.output
    checked = run_cli("validate", data, "--pipeline", drafted)
    assert checked.exit_code == 0, checked.output


def test_a_crm_exports_ways_of_writing_are_declared_per_column(good_rows):
    """Placeholders for blanks, currency and percent signs, day-first dates, categories in
    another case or with accents, and aliases — each declared on its column."""
    from prospect_predictor.config.schema import load_schema
    from prospect_predictor.data.validate import validate_frame

    frame = good_rows.astype(object).head(4).copy()
    frame["referral_source"] = ["Select", " Website", "séminaire", "Bought List"]
    frame["annual_income_eur"] = ["65 000 €", "EUR 1200", "Select", "70000"]
    frame["expected_return_pct"] = ["7,1 %", "5%", "-", "12 %"]
    frame["first_contact_date"] = ["25/12/2024", "01/02/2023", "31/01/2025", "15/06/2022"]
    schema = load_schema("prospects")
    strict = validate_frame(frame, schema, "crm.csv")
    messages = " ".join(p.message for p in strict.errors)
    assert "declare normalise = true for column 'referral_source'" in messages
    update = {
        "referral_source": {
            "missing_values": ("Select",),
            "normalise": True,
            "aliases": {"séminaire": "seminar"},
        },
        "annual_income_eur": {
            "symbols": ("€", "EUR"),
            "thousands": " ",
            "missing_values": ("Select",),
        },
        "expected_return_pct": {"symbols": ("%",), "decimal": ",", "missing_values": ("-",)},
        "first_contact_date": {"date_format": "%d/%m/%Y"},
    }
    columns = {
        name: spec.model_copy(update=update.get(name, {})) for name, spec in schema.columns.items()
    }
    declared = validate_frame(frame, schema.model_copy(update={"columns": columns}), "crm.csv")
    assert declared.ok, declared.lines()
    typed = declared.frame
    assert typed["referral_source"].tolist()[1:] == ["website", "seminar", "bought_list"]
    assert typed["referral_source"].isna().tolist()[0]
    assert typed["annual_income_eur"].tolist()[:2] == [65_000.0, 1_200.0]
    assert typed["expected_return_pct"].tolist()[:2] == [7.1, 5.0]
    assert typed["expected_return_pct"].isna().tolist()[2]
    assert typed["first_contact_date"].dt.strftime("%Y-%m-%d").tolist()[:2] == [
        "2024-12-25",
        "2023-02-01",
    ]


def test_init_pipeline_detects_a_crm_exports_ways_and_the_draft_validates(
    run_cli, tmp_path, good_rows
):
    """Signs with the numbers, day-first dates, a form's 'Select', categories in several
    spellings: detected, written in the drafted schema, and the export then validates."""
    frame = good_rows.astype(object).copy()
    frame["annual_income_eur"] = [
        "" if pd.isna(v) else f"{v:,.0f} €".replace(",", " ")
        for v in good_rows["annual_income_eur"]
    ]
    frame["first_contact_date"] = pd.to_datetime(good_rows["first_contact_date"]).dt.strftime(
        "%d/%m/%Y"
    )
    frame["referral_source"] = [
        "Select" if i % 7 == 0 else (s.replace("_", " ").upper() if i % 2 else s)
        for i, s in enumerate(good_rows["referral_source"])
    ]
    data = tmp_path / "crm.csv"
    frame.to_csv(data, sep=";", index=False)
    drafted = tmp_path / "crm.toml"
    assert run_cli("init-pipeline", "--data", data, "--out", drafted).exit_code == 0
    text = drafted.read_text()
    assert 'symbols = ["€"]' in text and 'thousands = " "' in text
    assert 'date_format = "%d/%m/%Y"' in text
    assert 'missing_values = ["Select"]' in text and "normalise = true" in text
    checked = run_cli("validate", data, "--pipeline", drafted)
    assert checked.exit_code == 0, checked.output


def test_the_files_formats_apply_to_every_column_unless_it_says_otherwise():
    from prospect_predictor.config.schema import Schema

    schema = Schema.model_validate(
        {
            "name": "crm",
            "formats": {"decimal": ",", "thousands": " ", "missing_values": ["Select"]},
            "columns": {
                "assets": {"type": "float"},
                "rate": {"type": "float", "decimal": "."},
                "source": {"type": "category", "categories": ["web"], "missing_values": ["?"]},
                "day": {"type": "date"},
            },
        }
    )
    columns = schema.columns
    assert (columns["assets"].decimal, columns["assets"].thousands) == (",", " ")
    assert (columns["rate"].decimal, columns["rate"].thousands) == (".", " ")
    assert set(columns["source"].missing_values) == {"?", "Select"}
    assert columns["day"].decimal == "."  # numbers' formats leave a date column alone
    assert Schema.model_validate(schema.model_dump()) == schema  # a bundle reads it back


def test_validate_reads_a_chunk_at_a_time_and_finds_what_the_whole_file_holds(
    run_cli, tmp_path, good_rows, monkeypatch
):
    """`prospect validate` keeps a chunk in memory, not the file: the same problems, rows
    and counts as the whole file validated at once, a problem met in several chunks once."""
    import prospect_predictor.data.leads as leads_module
    import prospect_predictor.data.validate as validate_module
    from prospect_predictor.config.schema import load_schema
    from prospect_predictor.data.validate import check_file, validate_file

    frame = good_rows.astype(object)
    frame.loc[[3, 30], "postponements"] = ["three", "four"]  # one problem, two chunks
    frame.loc[12, "no_shows"] = "-1"
    frame.loc[25, "prospect_id"] = frame.loc[2, "prospect_id"]  # a duplicate across chunks
    frame["notes"] = "x"  # an unknown column: one warning
    path = _write(tmp_path, frame)
    schema = load_schema("prospects")
    whole = validate_file(path, schema)
    chunked = check_file(path, schema, 8)  # 40 rows: five chunks
    assert sorted(chunked.lines()) == sorted(whole.lines()) and len(whole.lines()) == 4
    assert chunked.n_rows == 40 and chunked.bad_rows.tolist() == whole.bad_rows.tolist()
    monkeypatch.setattr(leads_module, "CHUNK_ROWS", 8)

    def whole_file(*args, **kwargs):
        raise AssertionError("validate read the whole file")

    monkeypatch.setattr(validate_module, "read_table", whole_file)
    result = run_cli("validate", path)
    assert result.exit_code == 1, result.output
    bad = int(whole.bad_rows.sum())
    assert f"40 prospects, 3 error(s), 1 warning(s); {bad} row(s) with a row-level" in result.stdout
    assert "rows 4, 31" in result.stdout and "'three', 'four'" in result.stdout
