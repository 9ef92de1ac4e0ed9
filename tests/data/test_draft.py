"""Drafting a pipeline config from a firm's own export (`prospect_predictor.data.draft`)."""

from __future__ import annotations

import csv
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from prospect_predictor.config.pipeline import load_pipeline
from prospect_predictor.data.draft import Draft, draft_pipeline, name_words, suggest_name
from prospect_predictor.data.validate import validate_file
from prospect_predictor.errors import ConfigError

BANK_CSV = Path(__file__).parents[3] / "shared" / "data" / "bank-marketing" / "bank-full.csv"
EXAMPLE = (
    Path(__file__).parents[2]
    / "src"
    / "prospect_predictor"
    / "config"
    / "pipelines"
    / "prospects.toml"
)
BANK_COLUMNS = [
    "age",
    "job",
    "marital",
    "education",
    "default",
    "balance",
    "housing",
    "loan",
    "contact",
    "day",
    "month",
    "duration",
    "campaign",
    "pdays",
    "previous",
    "poutcome",
    "y",
]
JOBS = ["blue-collar", "management", "technician", "admin.", "services", "retired", "unknown"]


def write_bank_like(path: Path, rows: int = 300, seed: int = 5) -> Path:
    """A semicolon-separated, quoted export shaped like the UCI bank file."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rows):
        poutcome = rng.choice(["unknown", "failure", "other", "success"], p=[0.7, 0.15, 0.05, 0.1])
        housing = rng.random() < 0.5
        duration = int(rng.gamma(2.0, 130))
        balance = int(rng.normal(1200, 2000))
        score = -1.0 + 1.5 * (poutcome == "success") - 0.6 * housing + duration / 1000
        score += rng.normal(0, 1.0)
        out.append(
            [
                int(rng.integers(18, 90)),
                str(rng.choice(JOBS, p=[0.3, 0.2, 0.15, 0.13, 0.1, 0.07, 0.05])),
                str(rng.choice(["married", "single", "divorced"])),
                str(rng.choice(["secondary", "tertiary", "primary", "unknown"])),
                "yes" if rng.random() < 0.05 else "no",
                balance,
                "yes" if housing else "no",
                "yes" if rng.random() < 0.15 else "no",
                str(rng.choice(["cellular", "telephone", "unknown"], p=[0.6, 0.1, 0.3])),
                int(rng.integers(1, 32)),
                str(
                    rng.choice(
                        [
                            "jan",
                            "feb",
                            "mar",
                            "apr",
                            "may",
                            "jun",
                            "jul",
                            "aug",
                            "sep",
                            "oct",
                            "nov",
                            "dec",
                        ]
                    )
                ),
                duration,
                int(rng.integers(1, 8)),
                -1 if poutcome == "unknown" else int(rng.integers(1, 400)),
                0 if poutcome == "unknown" else int(rng.integers(1, 6)),
                str(poutcome),
                "yes" if score > 0 else "no",
            ]
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(BANK_COLUMNS)
        writer.writerows(out)
    return path


def decide_features(text: str, reason: str = "context") -> str:
    """What the analyst does: replace every feature's "TODO" with a reason."""
    head, sep, rest = text.partition("\n[features]\n")
    section, sep2, tail = rest.partition("\n[validation]\n")
    assert sep and sep2, "the draft has no [features] or [validation] section"
    decided = re.sub(r'^(\S.*?) = "TODO"', rf'\1 = "{reason}"', section, flags=re.M)
    assert decided != section, "no TODO feature to decide"
    return head + sep + decided + sep2 + tail


def write_toml(folder: Path, text: str, name: str = "draft.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def features_section(text: str) -> str:
    return text.split("\n[features]\n")[1].split("\n[validation]\n")[0]


@pytest.fixture(scope="module")
def bank_like(tmp_path_factory) -> tuple[Path, Draft]:
    path = write_bank_like(tmp_path_factory.mktemp("bank") / "bank.csv")
    return path, draft_pipeline(path, "bank-like")


# ------------------------------------------------------------------------ bank-like export


def test_bank_like_draft_parses_and_guesses_the_outcome(bank_like):
    _, draft = bank_like
    data = tomllib.loads(draft.text)
    assert draft.outcome == "y"
    assert data["name"] == "bank-like"
    assert data["language"] == "en"
    assert data["outcome"] == {"column": "y", "labels": {"yes": "win_win", "no": "declined"}}
    assert re.search(r'^column = "y" +# GUESSED: check this is the outcome$', draft.text, re.M)
    assert any("'y'" in note and "GUESSED" in note for note in draft.notes)
    columns = data["schema"]["columns"]
    assert list(columns) == BANK_COLUMNS  # every column, in file order
    assert columns["y"]["role"] == "outcome"
    assert columns["y"]["type"] == "category"  # labels are mapped as text, even yes/no


def test_bank_like_types_and_roles(bank_like):
    _, draft = bank_like
    columns = tomllib.loads(draft.text)["schema"]["columns"]
    assert {n for n, c in columns.items() if c["role"] == "protected"} == {"age", "marital"}
    assert {n for n, c in columns.items() if c["type"] == "bool"} == {"default", "housing", "loan"}
    categories = {n for n, c in columns.items() if c["type"] == "category"}
    assert categories == {"job", "marital", "education", "contact", "month", "poutcome", "y"}
    for name in ("job", "education", "contact", "poutcome"):
        assert "unknown" in columns[name]["categories"], name  # a value, not a missing cell
    assert columns["job"]["categories"][0] == "blue-collar"  # most frequent first
    assert len(columns["month"]["categories"]) == 12
    ints = {"age", "balance", "day", "duration", "campaign", "pdays", "previous"}
    assert {n for n, c in columns.items() if c["type"] == "int"} == ints
    assert all(c["nullable"] is False for c in columns.values())
    # no upper bounds; a floor only for a count or amount that is never negative
    assert not any("max" in c for c in columns.values())
    assert columns["duration"]["min"] == 0
    assert "min" not in columns["balance"] and "min" not in columns["pdays"]


def test_bank_like_features_are_todo_with_leakage_comment_on_duration(bank_like):
    _, draft = bank_like
    data = tomllib.loads(draft.text)
    features = data["features"]
    assert list(features) == [
        c for c in BANK_COLUMNS if c not in ("age", "marital", "y")
    ]  # protected attributes and the outcome are not features
    assert set(features.values()) == {"TODO"}
    assert data["excluded"] == [] and data["protected"] == [] and data["allow_protected"] == []
    section = features_section(draft.text)
    leak = "# may be known only after the outcome: check before using (leakage)"
    assert f'{leak}\nduration = "TODO"' in section
    assert section.count(leak) == 1  # poutcome (an earlier campaign's outcome) is not flagged
    assert re.search(r'^job = "TODO" +# category, 7 values: blue-collar, ', section, re.M)
    assert re.search(r'^default = "TODO" +# bool: no, yes$', section, re.M)
    assert any(note.startswith("leakage: duration") for note in draft.notes)
    assert any(note.startswith("protected: age, marital") for note in draft.notes)


def test_bank_like_sections_match_the_example_pipeline(bank_like):
    _, draft = bank_like
    data = tomllib.loads(draft.text)
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section in ("model", "recommendation", "promotion", "leakage"):
        assert data[section] == example[section], section
    assert data["validation"] == {"rows_in_time_order": False, **example["validation"]}
    assert "rows_in_time_order = false" in draft.text
    assert any("rows_in_time_order = true" in note for note in draft.notes)  # no date column
    assert all(len(line) <= 100 for line in draft.text.splitlines())


def test_bank_like_draft_is_refused_until_every_feature_is_decided(bank_like, tmp_path):
    _, draft = bank_like
    with pytest.raises(ConfigError) as caught:
        load_pipeline(write_toml(tmp_path, draft.text))
    message = str(caught.value)
    for name in tomllib.loads(draft.text)["features"]:
        assert f"features.{name}: still TODO" in message
    assert message.count("still TODO") == 14


def test_bank_like_draft_trains_once_decided(bank_like, tmp_path):
    from prospect_predictor.modeling.train import load_history, train

    csv_path, draft = bank_like
    text = decide_features(draft.text)
    assert text.count("folds = 5") == 1
    text = text.replace("folds = 5", "folds = 2")
    pipeline = load_pipeline(write_toml(tmp_path, text))
    assert pipeline.outcome_column == "y"
    assert pipeline.protected == ["age", "marital"]
    assert "age" not in pipeline.features and "duration" in pipeline.features
    history = load_history(pipeline, csv_path)
    assert not history.warnings
    with threadpool_limits(1):  # small fits: extra OpenMP threads only spin on a busy machine
        result = train(pipeline, history)
    assert result.classes == ["win_win", "declined"]
    assert result.rows_per_class["win_win"] >= 30
    assert math.isfinite(result.holdout.metrics["log_loss"])
    assert result.holdout_kind == "random"


# ------------------------------------------------------------------------ other exports


@pytest.fixture
def crm_export(tmp_path) -> Path:
    rng = np.random.default_rng(2)
    n = 240
    frame = pd.DataFrame(
        {
            "id": [f"P{i:05d}" for i in range(n)],
            "first contact": pd.date_range("2022-01-03", periods=n, freq="D").strftime("%Y-%m-%d"),
            "notes": [
                f'Met at event {i}; said "call me" in {rng.integers(2, 9)} weeks' for i in range(n)
            ],
            "assets.eur": rng.integers(10_000, 900_000, n),
            "flag": rng.choice(["0", "1"], n),
            "postcode": rng.choice(["01234", "75001", "09000"], n),
            "Deal Stage": rng.choice(["Closed Won", "Closed Lost", "Open"], n),
        }
    )
    path = tmp_path / "crm.csv"
    frame.to_csv(path, index=False)
    return path


def test_id_free_text_and_date_columns_are_excluded(crm_export, tmp_path):
    draft = draft_pipeline(crm_export, "crm")
    data = tomllib.loads(draft.text)
    columns = data["schema"]["columns"]
    assert columns["id"] == {"type": "string", "role": "id", "nullable": False}
    assert columns["first contact"]["type"] == "date"
    assert columns["first contact"]["role"] == "date"
    assert columns["notes"]["type"] == "string" and columns["notes"]["role"] == "feature"
    assert data["excluded"] == ["id", "first contact", "notes"]
    assert re.search(r'^    "id", +# id-like', draft.text, re.M)
    assert re.search(r'^    "notes", +# free text', draft.text, re.M)
    assert re.search(r'^    "first contact", +# date', draft.text, re.M)
    assert list(data["features"]) == ["assets.eur", "flag", "postcode"]
    assert columns["flag"]["type"] == "int"  # numeric 0/1 stays a number
    assert columns["postcode"]["type"] == "category"  # leading zeros: a code, not a number
    assert columns["assets.eur"]["min"] == 0
    assert draft.outcome == "Deal Stage"
    assert data["outcome"]["labels"] == {
        "Closed Won": "win_win",
        "Closed Lost": "declined",
        "Open": "open",  # not decided yet: left out of training
    }
    assert "# open_as_stalled_after = " in draft.text
    # keys that are not bare TOML keys are quoted
    assert '[schema.columns."first contact"]' in draft.text
    assert '[schema.columns."assets.eur"]' in draft.text
    assert '"assets.eur" = "TODO"' in draft.text
    assert '"Closed Won" = "win_win"' in draft.text
    # and it loads, with the id and date roles, once the features are decided
    pipeline = load_pipeline(write_toml(tmp_path, decide_features(draft.text, "poor_fit")))
    assert (pipeline.id_column, pipeline.date_column) == ("id", "first contact")
    assert pipeline.features == ["assets.eur", "flag", "postcode"]
    assert validate_file(crm_export, pipeline.schema).ok


def test_long_integer_ids_stay_text_and_repeated_ids_are_not_ids(tmp_path):
    path = tmp_path / "ids.csv"
    n = 60
    pd.DataFrame(
        {
            "lead_uuid": [str(123456789012345678 + i) for i in range(n)],
            "household_id": [i // 2 for i in range(n)],
            "won": ["yes", "no", "no"] * (n // 3),
        }
    ).to_csv(path, index=False)
    draft = draft_pipeline(path, "ids")
    data = tomllib.loads(draft.text)
    columns = data["schema"]["columns"]
    assert columns["lead_uuid"] == {"type": "string", "role": "id", "nullable": False}
    assert columns["household_id"]["role"] == "feature"
    assert data["excluded"] == ["lead_uuid", "household_id"]
    assert any(note.startswith("household_id: looks like an id but") for note in draft.notes)


def test_awkward_names_and_values_are_escaped(tmp_path):
    path = tmp_path / "odd.csv"
    frame = pd.DataFrame(
        {
            'say "hi"': ['a "b"', "c\\d", "tab\there"] * 20,
            "back\\slash": [i % 5 for i in range(60)],
            "résumé": ["oui", "non", "oui"] * 20,
            "outcome": ["won", "lost", "stalled", "churned"] * 15,
        }
    )
    frame.to_csv(path, index=False)
    draft = draft_pipeline(path, "odd")
    data = tomllib.loads(draft.text)
    columns = data["schema"]["columns"]
    assert list(columns) == list(frame.columns)
    assert columns['say "hi"']["categories"] == ['a "b"', "c\\d", "tab\there"]
    assert columns["résumé"]["type"] == "bool"  # oui/non: French booleans (issue 13)
    assert data["outcome"]["labels"] == {
        "won": "win_win",
        "lost": "declined",
        "stalled": "stalled",
        "churned": "win_lose",
    }
    assert set(data["features"]) == {'say "hi"', "back\\slash", "résumé"}
    load_pipeline(write_toml(tmp_path, decide_features(draft.text)))


def test_unknown_labels_stay_todo_and_are_refused(tmp_path):
    path = tmp_path / "h.csv"
    pd.DataFrame({"x": [i % 7 for i in range(60)], "result": ["A", "B", "C"] * 20}).to_csv(
        path, index=False
    )
    draft = draft_pipeline(path, "h")
    assert tomllib.loads(draft.text)["outcome"]["labels"] == dict.fromkeys("ABC", "TODO")
    assert any("choose a class for 'A', 'B', 'C'" in note for note in draft.notes)
    with pytest.raises(ConfigError, match=r"outcome\.labels\.A: .*found: 'TODO'"):
        load_pipeline(write_toml(tmp_path, decide_features(draft.text)))


def test_churn_outcome_maps_yes_to_win_lose(tmp_path):
    path = tmp_path / "telco.csv"
    pd.DataFrame(
        {"tenure_months": [i % 13 for i in range(40)], "Churn": ["Yes", "No"] * 20}
    ).to_csv(path, index=False)
    draft = draft_pipeline(path, "telco")
    assert tomllib.loads(draft.text)["outcome"] == {
        "column": "Churn",
        "labels": {"Yes": "win_lose", "No": "win_win"},
    }


@pytest.mark.parametrize(
    "columns, expected",
    [
        # two outcome-like names: the later one (outcomes tend to come last)
        ({"status": ["active", "dormant"], "x": [1, 2], "converted": ["yes", "no"]}, "converted"),
        # a whole-name match beats a word in a longer name
        ({"y": ["yes", "no"], "result_code": ["a", "b"]}, "y"),
        # no outcome-like name: the last low-cardinality text column, not a small number
        ({"answer": ["accepted", "refused"], "children": [0, 3]}, "answer"),
    ],
)
def test_outcome_guess(tmp_path, columns, expected):
    path = tmp_path / "o.csv"
    pd.DataFrame({k: v * 20 for k, v in columns.items()}).to_csv(path, index=False)
    assert draft_pipeline(path, "o").outcome == expected


def test_without_an_outcome_like_column_the_draft_says_so(tmp_path):
    path = tmp_path / "n.csv"
    pd.DataFrame({"amount": range(50), "ratio": np.linspace(0, 1, 50)}).to_csv(path, index=False)
    draft = draft_pipeline(path, "n")
    assert draft.outcome is None
    assert tomllib.loads(draft.text)["outcome"] == {"column": "TODO", "labels": {}}
    assert draft.notes[0].startswith("outcome: no column looks like an outcome")


def test_parquet_typed_columns(tmp_path):
    path = tmp_path / "t.parquet"
    n = 80
    pd.DataFrame(
        {
            "row": np.arange(n),
            "signed_on": pd.date_range("2021-01-01", periods=n, freq="D"),
            "newsletter": [True, False] * (n // 2),
            "meetings": np.where(np.arange(n) % 9 == 0, np.nan, np.arange(n) % 4),
            "gender": ["f", "m"] * (n // 2),
            "converted": [1, 0, 0, 1] * (n // 4),
        }
    ).to_parquet(path)
    draft = draft_pipeline(path, "pq")
    columns = tomllib.loads(draft.text)["schema"]["columns"]
    assert columns["row"]["role"] == "id"  # 0..n-1: a row number
    assert columns["signed_on"]["role"] == "date"
    assert columns["newsletter"]["type"] == "bool"
    assert columns["meetings"] == {"type": "int", "role": "feature", "nullable": True, "min": 0}
    assert columns["gender"]["role"] == "protected"
    assert draft.outcome == "converted"
    pipeline = load_pipeline(write_toml(tmp_path, decide_features(draft.text)))
    assert validate_file(path, pipeline.schema).ok


def test_bad_name_is_refused_with_a_suggestion(tmp_path):
    path = tmp_path / "bank export.csv"
    path.write_text("a,y\n1,yes\n2,no\n")
    with pytest.raises(ConfigError, match=r"pipeline name 'my firm'.*'my-firm'"):
        draft_pipeline(path, "my firm")
    with pytest.raises(ConfigError, match="pipeline name"):
        draft_pipeline(path, "bank\n")
    assert suggest_name(path) == "bank-export"


def test_name_words():
    assert name_words("customerID") == ["customer", "id"]
    assert name_words("Deal Stage") == ["deal", "stage"]
    assert name_words("HTTPStatus_code") == ["http", "status", "code"]


@pytest.mark.parametrize(
    "name, protected",
    [
        ("age", True),
        ("Age_Years", True),
        ("customerAge", True),
        ("date_of_birth", True),
        ("MaritalStatus", True),
        ("stage", False),
        ("account_manager", False),
        ("average_balance", False),
    ],
)
def test_protected_by_name(tmp_path, name, protected):
    path = tmp_path / "p.csv"
    pd.DataFrame({name: [1, 2, 3] * 10, "y": ["yes", "no"] * 15}).to_csv(path, index=False)
    columns = tomllib.loads(draft_pipeline(path, "p").text)["schema"]["columns"]
    assert (columns[name]["role"] == "protected") is protected


# ------------------------------------------------------------------------ the real bank export


def test_real_bank_export_drafts_and_validates(tmp_path):
    if not BANK_CSV.exists():
        pytest.skip(f"the bank marketing history is not at {BANK_CSV}")
    draft = draft_pipeline(BANK_CSV, "bank")
    assert draft.outcome == "y"
    data = tomllib.loads(draft.text)
    assert data["outcome"]["labels"] == {"no": "declined", "yes": "win_win"}
    columns = data["schema"]["columns"]
    assert list(columns) == BANK_COLUMNS
    assert {n for n, c in columns.items() if c["type"] == "bool"} == {"default", "housing", "loan"}
    assert len(columns["job"]["categories"]) == 12
    pipeline = load_pipeline(write_toml(tmp_path, decide_features(draft.text)))
    report = validate_file(BANK_CSV, pipeline.schema)
    assert report.ok and not report.problems


def test_spellings_of_one_category_are_declared(tmp_path):
    """Case and spacing: normalise = true; the same letters without a separator: an alias."""
    frame = pd.DataFrame(
        {
            "deal": ["won", "lost"] * 30,
            "product": (["GTX Pro"] * 5 + ["gtx pro"] * 2 + ["GTXPro"] * 2 + ["Basic"] * 6) * 4,
        }
    )
    path = tmp_path / "deals.csv"
    frame.to_csv(path, index=False)
    draft = draft_pipeline(path, "deals")
    assert "normalise = true" in draft.text
    assert 'aliases = { GTXPro = "GTX Pro" }' in draft.text
    columns = tomllib.loads(draft.text)["schema"]["columns"]
    assert columns["product"]["categories"] == ["GTX Pro", "Basic"]
