"""The pipeline configuration: how a firm's history maps onto the product.

A pipeline TOML names the schema of the history, how its outcome labels map onto the
four outcomes, which of the four reasons each feature speaks to, the protected
attributes kept out of the model, validation, the model and its thresholds. It is
checked in two passes: pydantic checks each key's type (unknown keys are errors), then
:func:`load_pipeline` checks the config against its schema and names every problem.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prospect_predictor.config.defaults import (
    ABSOLUTE_TIERS,
    EXPLANATION,
    RELATIVE_TIERS,
    tier_mode,
)
from prospect_predictor.config.derived import DERIVED_TYPES, DerivedSpec, check_specs
from prospect_predictor.config.schema import BUILTIN_SCHEMAS, Schema, load_schema
from prospect_predictor.config.toml import load_toml_model
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.errors import ConfigError

DEFAULT_PIPELINE = Path("pipelines") / "prospects.toml"
TODO = "TODO"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


OPEN = "open"  # an outcome label for deals not decided yet: kept out of training


class StalledAfter(_Strict):
    """Open prospects whose last contact is older than ``days`` count as stalled."""

    column: str = Field(
        description="how long since the last contact: a whole-number column of days, or a "
        "date column (days counted back from its newest date, the export's own 'today')"
    )
    days: int = Field(gt=0, description="open for this long without contact: stalled")


class OutcomeConfig(_Strict):
    column: str | None = Field(None, description="default: the schema's outcome column")
    labels: dict[str, Literal["win_win", "win_lose", "stalled", "declined", "open"]] = Field(
        default_factory=lambda: {o: o for o in OUTCOMES},
        description="label in the file -> one of the four outcomes, or open (not decided "
        "yet: counted and kept out of training and of every metric)",
    )
    open_as_stalled_after: StalledAfter | None = Field(
        None,
        description="optional: an open prospect with no contact for this long counts as "
        "stalled (strung along), instead of being left out",
    )


class ValidationConfig(_Strict):
    folds: int = Field(5, ge=2, le=20)
    holdout_share: float = Field(0.2, gt=0, lt=0.5)
    rows_in_time_order: bool = Field(
        False,
        description="no date column, but the file runs oldest -> newest: the last rows "
        "are the time-based holdout",
    )
    seed: int = 42
    group_column: str | None = Field(
        None,
        description="rows that belong together (a household, an account): all the rows of "
        "a group fall in one cross-validation fold and on one side of the holdout",
    )
    min_rows: int = Field(200, ge=20)
    min_per_class: int = Field(30, ge=5)
    max_bad_row_share: float = Field(
        0.01,
        ge=0,
        le=1,
        description="training sets rows with a problem aside (the run keeps them as "
        "rejects.csv) and refuses only when they are more than this share of the file",
    )


class ModelConfig(_Strict):
    family: Literal["hgb", "logistic"] = "hgb"
    params: dict[str, Any] = Field(default_factory=dict)
    calibration: Literal["temperature", "none"] = "temperature"
    rare_category_share: float = Field(
        0.005, ge=0, lt=0.5, description="categories rarer than this share are grouped"
    )
    compare_with: list[Literal["hgb", "hgb_default", "logistic"]] = Field(
        default_factory=list, description="families `prospect compare` runs beside this one"
    )
    processes: int | Literal["auto"] = Field(
        "auto",
        description="worker processes fitting the cross-validation, holdout and final "
        "models: auto (the usable cores, from 50,000 rows) or a number (1: this process)",
    )

    @field_validator("processes")
    @classmethod
    def _at_least_one(cls, value):
        if value != "auto" and value < 1:
            raise ValueError("expected auto or a whole number of at least 1")
        return value


class RecommendationConfig(_Strict):
    """The tiers ``pursue`` / ``qualify`` / ``walk_away`` (docs/scoring.md).

    ``relative`` (the default) compares each outcome's odds with its odds in the training
    history, so the tiers mean the same whatever the history's base rates; ``absolute``
    uses fixed probabilities (the keys of earlier versions; giving any of them without a
    ``mode`` selects it)."""

    mode: Literal["relative", "absolute"] | None = None
    pursue_min_win_win_lift: float | None = Field(None, gt=0)
    walk_away_min_lift: float | None = Field(None, gt=0)
    pursue_min_win_win: float | None = Field(None, ge=0, le=1)
    walk_away_min_bad: float | None = Field(None, ge=0, le=1)
    walk_away_min_declined: float | None = Field(None, ge=0, le=1)

    @property
    def resolved_mode(self) -> str:
        """``mode``, else absolute when any absolute threshold is given, else relative."""
        return tier_mode(self.model_dump())

    @model_validator(mode="after")
    def _one_mode(self):
        own = ABSOLUTE_TIERS if self.resolved_mode == "absolute" else RELATIVE_TIERS
        foreign = [
            k
            for k in (*ABSOLUTE_TIERS, *RELATIVE_TIERS)
            if k not in own and getattr(self, k) is not None
        ]
        if foreign:
            raise ValueError(
                f"{', '.join(foreign)}: not a setting of {self.resolved_mode} tiers; relative "
                f"tiers take {', '.join(RELATIVE_TIERS)}, absolute ones {', '.join(ABSOLUTE_TIERS)}"
            )
        return self

    def rules(self, base_rates: dict[str, float] | None = None) -> dict[str, Any]:
        """The tiers as plain values for the bundle: the mode, every threshold (defaults
        filled in) and, for relative tiers, the history's outcome rates they refer to."""
        mode = self.resolved_mode
        defaults = ABSOLUTE_TIERS if mode == "absolute" else RELATIVE_TIERS
        rules: dict[str, Any] = {"mode": mode}
        for key, default in defaults.items():
            value = getattr(self, key)
            rules[key] = default if value is None else value
        if mode == "relative":
            rules["base_rates"] = dict(base_rates or {})
        return rules


class ExplanationConfig(_Strict):
    """When a reason and a driver are worth naming (docs/scoring.md)."""

    min_reason_points: float = Field(
        EXPLANATION["min_reason_points"],
        ge=0,
        le=100,
        description="a reason is named only when it adds at least this many percentage points "
        "to the probability of the outcome explained",
    )
    min_driver_points: float = Field(
        EXPLANATION["min_driver_points"],
        ge=0,
        le=100,
        description="a driver is listed only from this many points",
    )
    max_drivers: int = Field(EXPLANATION["max_drivers"], ge=1, le=10)


class PromotionConfig(_Strict):
    max_log_loss_increase: float = Field(0.01, ge=0)
    max_roc_auc_drop: float = Field(0.02, ge=0, le=1)
    min_roc_auc_macro: float = Field(0.55, ge=0.5, le=1)


class LeakageConfig(_Strict):
    max_single_feature_auc: float = Field(0.95, gt=0.5, le=1)
    dominance_auc: float = Field(0.75, gt=0.5, le=1)
    dominance_margin: float = Field(0.10, ge=0, le=0.5)
    allow: list[str] = Field(default_factory=list)
    max_missingness_auc: float = Field(
        0.80,
        gt=0.5,
        le=1,
        description="training stops when which fields are blank — one column's blanks, or "
        "the pattern of blanks across columns — tells an outcome apart with this ROC AUC",
    )
    allow_missingness: list[str] = Field(
        default_factory=list,
        description="columns whose blanks may tell the outcome (known before it, e.g. a "
        "field the prospect refused to give)",
    )


class Phrase(_Strict):
    """How a feature and its value read in one language (docs/bring-your-own-data.md)."""

    label: str = Field(min_length=1, description="the feature's name in words")
    missing: str | None = Field(None, description="the whole phrase when the value is unknown")
    zero: str | None = Field(None, description="a number's phrase for 0")
    one: str | None = Field(None, description="a number's phrase, singular ({n})")
    many: str | None = Field(None, description="a number's phrase, plural ({n})")
    true: str | None = Field(None, description="a boolean's phrase when true")
    false: str | None = Field(None, description="a boolean's phrase when false")
    text: str | None = Field(None, description="a category's phrase ({value})")
    values: dict[str, str] = Field(default_factory=dict, description="category -> words")


class PhraseSet(_Strict):
    decimals: int = Field(0, ge=0, le=6, description="decimals shown for a number")
    en: Phrase
    fr: Phrase


class PipelineConfig(_Strict):
    name: str = Field("prospects", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    schema_: str | Schema = Field("prospects", alias="schema")
    language: Literal["en", "fr"] = "en"
    id_column: str | None = None
    date_column: str | None = None
    outcome: OutcomeConfig = Field(default_factory=OutcomeConfig)
    features: dict[str, str]
    derived: dict[str, DerivedSpec] = Field(
        default_factory=dict, description="features computed from the columns (derived.py)"
    )
    excluded: list[str] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=list)
    allow_protected: list[str] = Field(default_factory=list)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    recommendation: RecommendationConfig = Field(default_factory=RecommendationConfig)
    explanation: ExplanationConfig = Field(default_factory=ExplanationConfig)
    phrases: dict[str, PhraseSet] = Field(
        default_factory=dict,
        description="feature -> how the output says it and its value, in en and fr",
    )
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    leakage: LeakageConfig = Field(default_factory=LeakageConfig)


class Pipeline:
    """A checked config with its schema resolved: what training and scoring use."""

    def __init__(self, config: PipelineConfig, schema: Schema, source: str) -> None:
        self.config = config
        self.schema = schema
        self.source = source

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def id_column(self) -> str | None:
        return self.config.id_column or self.schema.id_column

    @property
    def date_column(self) -> str | None:
        return self.config.date_column or self.schema.date_column

    @property
    def outcome_column(self) -> str:
        return self.config.outcome.column or self.schema.outcome_column

    @property
    def feature_reasons(self) -> dict[str, str]:
        """Feature -> reason (or ``context``), in the config's order."""
        return dict(self.config.features)

    @property
    def features(self) -> list[str]:
        return list(self.config.features)

    @property
    def protected(self) -> list[str]:
        declared = self.schema.columns_with_role("protected")
        return declared + [c for c in self.config.protected if c not in declared]

    @property
    def derived(self) -> dict:
        return dict(self.config.derived)

    def derived_metadata(self) -> dict[str, dict]:
        """The derived features as plain values, for the bundle's metadata."""
        return {name: spec.model_dump(mode="json") for name, spec in self.config.derived.items()}

    def phrases_metadata(self) -> dict[str, dict]:
        """The features' phrases as plain values, for the bundle's metadata."""
        return {
            name: phrases.model_dump(exclude_none=True)
            for name, phrases in self.config.phrases.items()
        }

    def feature_types(self) -> dict[str, str]:
        derived = self.config.derived
        return {
            name: DERIVED_TYPES[derived[name].kind]
            if name in derived
            else self.schema.columns[name].type
            for name in self.features
        }

    def classes_in_mapping(self) -> list[str]:
        mapped = set(self.config.outcome.labels.values()) - {OPEN}
        return [o for o in OUTCOMES if o in mapped]

    def reasons_without_features(self) -> list[str]:
        used = set(self.config.features.values())
        return [r for r in REASONS if r not in used]


def resolve_pipeline_path(path: str | Path | None) -> Path:
    """``--pipeline``: the given path; by default ``pipelines/prospects.toml`` in the working
    directory, else the same default shipped inside the package."""
    if path is not None:
        return Path(path)
    if DEFAULT_PIPELINE.exists():
        return DEFAULT_PIPELINE
    shipped = resources.files("prospect_predictor.config") / "pipelines" / "prospects.toml"
    return Path(str(shipped))


def load_pipeline(path: str | Path | None = None, check_model: bool = True) -> Pipeline:
    """Load and check a pipeline; every problem is named in one :class:`ConfigError`, the
    ``[model.params]`` included (``check_model``; it imports scikit-learn: config/estimators)."""
    path = resolve_pipeline_path(path)
    config = load_toml_model(path, PipelineConfig)
    schema = _resolve_schema(config.schema_, path)
    problems = _check_against_schema(config, schema)
    if check_model:
        from prospect_predictor.config.estimators import param_problems

        problems += [
            f"model.params.{p}" for p in param_problems(config.model.family, config.model.params)
        ]
    if problems:
        raise ConfigError(
            f"{path}: {len(problems)} problem(s) in the pipeline:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return Pipeline(config, schema, str(path))


def pipeline_schema(path: str | Path) -> Schema:
    """The schema a pipeline TOML names (inline, built-in or a file beside it), without
    checking the rest of the pipeline: a draft whose reasons are still TODO can already
    validate its data file."""
    import tomllib

    from pydantic import TypeAdapter, ValidationError

    from prospect_predictor.config.toml import format_validation_error

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        schema = TypeAdapter(str | Schema).validate_python(raw.get("schema", "prospects"))
    except ValidationError as exc:
        raise ConfigError(
            format_validation_error(path, exc).replace("  - ", "  - schema.")
        ) from None
    return _resolve_schema(schema, path)


def _resolve_schema(schema: str | Schema, config_path: Path) -> Schema:
    if isinstance(schema, Schema):
        return schema
    if schema in BUILTIN_SCHEMAS:
        return load_schema(schema)
    relative = Path(schema)
    if not relative.is_absolute():
        relative = config_path.parent / relative
    if not relative.exists():
        raise ConfigError(
            f"{config_path}: schema: {schema!r} is neither a built-in schema "
            f"({', '.join(BUILTIN_SCHEMAS)}) nor a file (looked for {relative})"
        )
    return load_schema(relative)


def _check_against_schema(config: PipelineConfig, schema: Schema) -> list[str]:
    problems: list[str] = []
    columns = schema.columns
    choices = ", ".join((*REASONS, CONTEXT))
    protected = set(schema.columns_with_role("protected")) | set(config.protected)
    roles = {"id": config.id_column, "date": config.date_column}
    for role, name in roles.items():
        if name is not None and name not in columns:
            problems.append(f"{role}_column: {name!r} is not a column of the schema")
    outcome = config.outcome.column or schema.outcome_column
    if outcome is None:
        problems.append("outcome.column: the schema has no outcome column; name one here")
    elif outcome not in columns:
        problems.append(f"outcome.column: {outcome!r} is not a column of the schema")
    elif columns[outcome].type == "category":
        unmapped = [c for c in columns[outcome].categories or () if c not in config.outcome.labels]
        if unmapped:
            problems.append(
                f"outcome.labels: no class for label(s) {', '.join(map(repr, unmapped))}; "
                f"map each onto one of {', '.join(OUTCOMES)}, or open"
            )
    if len(set(config.outcome.labels.values()) - {OPEN}) < 2:
        problems.append("outcome.labels: at least two outcome classes are needed")
    types = {
        name: DERIVED_TYPES[config.derived[name].kind]
        if name in config.derived
        else columns[name].type
        for name in config.features
        if name in config.derived or name in columns
    }
    needs = {"int": ("one", "many"), "float": ("one", "many"), "bool": ("true", "false")}
    for name, phrases in config.phrases.items():
        if name not in types:
            problems.append(
                f"phrases.{name}: not a feature of this pipeline; remove its phrases, or "
                "map it under [features]"
            )
            continue
        wanted = needs.get(types[name], ("text",))
        for lang in ("en", "fr"):
            absent = [k for k in wanted if getattr(getattr(phrases, lang), k) is None]
            if absent:
                problems.append(
                    f"phrases.{name}.{lang}: a {types[name]} feature needs "
                    + ", ".join(absent)
                    + " (or no phrases: it then reads 'label: value')"
                )
    group = config.validation.group_column
    if group is not None:
        if group not in columns:
            problems.append(f"validation.group_column: {group!r} is not a column of the schema")
        elif group in config.features:
            problems.append(
                f"validation.group_column: {group!r} is also a feature; a group id tells the "
                "model which rows belong together, not how a prospect will turn out: exclude it"
            )
    rule = config.outcome.open_as_stalled_after
    if rule is not None:
        if OPEN not in config.outcome.labels.values():
            problems.append(
                "outcome.open_as_stalled_after: no label maps to open; the rule has no row to "
                "turn into stalled"
            )
        if rule.column not in columns:
            problems.append(
                f"outcome.open_as_stalled_after.column: {rule.column!r} is not a column of the "
                "schema"
            )
        elif columns[rule.column].type not in ("int", "float", "date"):
            problems.append(
                f"outcome.open_as_stalled_after.column: {rule.column!r} is "
                f"{columns[rule.column].type}; expected days (a number) or a date"
            )

    not_features = {
        outcome,
        config.id_column or schema.id_column,
        config.date_column or schema.date_column,
    }
    problems += check_specs(config.derived, schema)
    for name, spec in config.derived.items():
        if name not in config.features:
            problems.append(
                f"derived.{name}: not used; map it to one of {choices} under [features]"
            )
        for column in spec.inputs():
            if column in config.excluded:
                problems.append(
                    f"derived.{name}: computed from {column!r}, which is excluded; a derived "
                    "feature cannot bring back an excluded column"
                )
            if column in protected and column not in config.allow_protected:
                problems.append(
                    f"derived.{name}: computed from {column!r}, a protected attribute; "
                    "remove it, or list it in allow_protected to use it explicitly"
                )
    for name, reason in config.features.items():
        key = f"features.{name}"
        if name not in columns and name not in config.derived:
            problems.append(f"{key}: not a column of schema {schema.name!r}")
        elif name in not_features:
            problems.append(f"{key}: the id, date and outcome columns cannot be features")
        if reason == TODO:
            problems.append(f"{key}: still {TODO}; map it to one of {choices}, or exclude it")
        elif reason not in (*REASONS, CONTEXT):
            problems.append(f"{key}: unknown reason {reason!r}; expected one of {choices}")
        if name in protected and name not in config.allow_protected:
            problems.append(
                f"{key}: {name!r} is a protected attribute; the firm must not pick clients by "
                "it. Remove it, or list it in allow_protected to use it explicitly"
            )
        if name in config.excluded:
            problems.append(f"{key}: also listed in excluded; choose one")
    for key in ("excluded", "protected", "allow_protected"):
        for name in getattr(config, key):
            if name not in columns:
                problems.append(f"{key}: {name!r} is not a column of schema {schema.name!r}")
    derived_inputs = {c for spec in config.derived.values() for c in spec.inputs()}
    undecided = [
        name
        for name, spec in columns.items()
        if spec.role == "feature"
        and name not in config.features
        and name not in derived_inputs
        and name not in config.excluded
        and name not in protected
    ]
    if undecided:
        problems.append(
            "features: no decision for column(s) "
            + ", ".join(map(repr, undecided))
            + f"; map each to one of {choices}, or list it in excluded"
        )
    if not config.features:
        problems.append("features: at least one feature is needed")
    for name in config.leakage.allow:
        if name not in config.features:
            problems.append(f"leakage.allow: {name!r} is not a feature of this pipeline")
    return problems


def pipeline_summary(pipeline: Pipeline) -> dict[str, Any]:
    """Plain values describing the pipeline, for logging as run parameters."""
    data = pipeline.config.model_dump(mode="json", by_alias=True)
    if isinstance(pipeline.config.schema_, Schema):
        data["schema"] = pipeline.schema.name
    data["source"] = os.fspath(pipeline.source)
    return data
