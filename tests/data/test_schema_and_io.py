"""The schema file and the table reader/writer."""

from __future__ import annotations

import pytest

from prospect_predictor.config.schema import load_schema
from prospect_predictor.data.tableio import detect_delimiter, read_table, write_table
from prospect_predictor.errors import ConfigError, InputFileError, ProspectError


def test_builtin_schema_roles():
    schema = load_schema("prospects")
    assert schema.id_column == "prospect_id"
    assert schema.date_column == "first_contact_date"
    assert schema.outcome_column == "outcome"
    assert set(schema.columns_with_role("protected")) == {"age_years", "marital_status"}
    assert schema.columns["referral_source"].categories[:6] == (
        "client_referral",
        "professional_referral",
        "seminar",
        "website",
        "cold_call",
        "bought_list",
    )


def test_every_schema_column_is_documented_in_data_readme():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "data" / "README.md").read_text()
    for name in load_schema().columns:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize(
    "body, fragments",
    [
        ('name = "x"\ncolour = "red"\n[columns.a]\ntype = "int"\n', ["colour: unknown key"]),
        (
            'name = "x"\n[columns.a]\ntype = "int"\nmin = 5\nmax = 1\n',
            ["columns.a", "min (5.0) is larger than max (1.0)"],
        ),
        ('name = "x"\n[columns.a]\ntype = "category"\n', ["columns.a", "non-empty 'categories'"]),
        ('name = "x"\n[columns.a]\ntype = "decimal"\n', ["columns.a.type", "'decimal'"]),
        ('[columns.a]\ntype = "int"\n', ["name: required key is missing"]),
        ('name = "x"\n[columns.a\n', ["not valid TOML"]),
    ],
)
def test_schema_errors_name_the_key(tmp_path, body, fragments):
    path = tmp_path / "schema.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_schema(path)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert str(path) in str(caught.value)


def test_unknown_schema_name():
    with pytest.raises(ConfigError, match="built-in schemas"):
        load_schema("no_such_schema")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(tmp_path, delimiter):
    path = tmp_path / "f.csv"
    path.write_text(delimiter.join(["a", "b", "c"]) + "\n" + delimiter.join("123") + "\n")
    assert detect_delimiter(path) == delimiter
    assert list(read_table(path).frame.columns) == ["a", "b", "c"]


def test_quoted_semicolon_file_like_a_bank_export(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text('"age";"job";"y"\n58;"management";"no"\n44;"tech; and more";"yes"\n')
    frame = read_table(path).frame
    assert frame["job"].tolist() == ["management", "tech; and more"]
    assert frame["age"].tolist() == ["58", "44"]  # text until validated against a schema


def test_write_table_keeps_other_files_and_reports_unchanged(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2]})
    path = tmp_path / "t.csv"
    assert write_table(frame, path) == "written"
    assert write_table(frame, path) == "unchanged"
    with pytest.raises(ProspectError, match="already exists with other contents"):
        write_table(pd.DataFrame({"a": [3]}), path)
    assert path.read_text() == "a\n1\n2\n"
    assert write_table(pd.DataFrame({"a": [3]}), path, overwrite=True) == "replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "x.csv"
    folder.mkdir()
    with pytest.raises(InputFileError, match="is a folder"):
        read_table(folder)
