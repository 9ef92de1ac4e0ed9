"""The declared schema of a prospect history: each column's type, range, role.

A schema is a TOML file (see ``schemas/prospects.toml`` for the built-in history); the
pydantic models below check the file itself, and :mod:`prospect_predictor.data.validate`
checks a data file against it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prospect_predictor.config.toml import load_toml_model
from prospect_predictor.errors import ConfigError

ColumnType = Literal["string", "int", "float", "bool", "category", "date"]
Role = Literal["id", "date", "feature", "outcome", "protected"]

BUILTIN_SCHEMAS = ("prospects",)


class ColumnSpec(BaseModel):
    """One column: what it holds and what values are allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ColumnType
    role: Role = "feature"
    nullable: bool = True
    min: float | None = Field(default=None, description="smallest allowed value (inclusive)")
    max: float | None = Field(default=None, description="largest allowed value (inclusive)")
    categories: tuple[str, ...] | None = None
    unit: str | None = None
    description: str = ""
    decimal: Literal[".", ","] = Field(
        ".", description='the decimal separator of a number column as written ("7,1": ",")'
    )
    thousands: Literal[" ", ".", ",", "'"] | None = Field(
        None,
        description='the thousands separator as written ("2 237 000": " "; no-break spaces '
        "count as spaces)",
    )
    symbols: tuple[str, ...] = Field(
        (), description='signs written around a number and dropped ("€", "EUR", "%")'
    )
    date_format: str | None = Field(
        None, description='how a date column is written, e.g. "%d/%m/%Y" (day first)'
    )
    missing_values: tuple[str, ...] = Field(
        (),
        description='placeholders that mean a blank in this column, e.g. "Select" (a web '
        "form's default); matched ignoring case and surrounding spaces",
    )
    normalise: bool = Field(
        False,
        description="match categories ignoring case, accents, surrounding spaces, and "
        'spaces/underscores/hyphens inside ("Website", "wébsite", "Bought List" match)',
    )
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description='other spellings of a category: {"GTXPro" = "GTX Pro"}',
    )
    blank_means: str | None = Field(
        default=None,
        description="what a blank cell means when it is not simply unknown (e.g. 'never "
        "replied'): such blanks are information, never an incomplete record to complete, "
        "and pass the missingness guard",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        numeric = self.type in ("int", "float")
        if (self.min is not None or self.max is not None) and not numeric:
            raise ValueError(f"min/max apply to int or float columns, not to {self.type!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        if self.type == "category" and not self.categories:
            raise ValueError("a category column needs a non-empty 'categories' list")
        if self.categories is not None and self.type != "category":
            raise ValueError(f"'categories' applies to category columns, not to {self.type!r}")
        if self.symbols and not numeric:
            raise ValueError(f"symbols apply to int or float columns, not to {self.type!r}")
        if self.date_format and self.type != "date":
            raise ValueError(f"date_format applies to date columns, not to {self.type!r}")
        if (self.normalise or self.aliases) and self.type != "category":
            raise ValueError(f"normalise/aliases apply to category columns, not to {self.type!r}")
        wrong = [
            f"{a!r} -> {c!r}" for a, c in self.aliases.items() if c not in (self.categories or ())
        ]
        if wrong:
            raise ValueError(f"aliases must lead to a category: {', '.join(wrong)}")
        if (self.decimal != "." or self.thousands) and not numeric:
            raise ValueError(
                f"decimal/thousands apply to int or float columns, not to {self.type!r}"
            )
        if self.thousands == self.decimal:
            raise ValueError(f"decimal and thousands are both {self.decimal!r}")
        if self.role == "id" and self.nullable:
            raise ValueError("an id column cannot be nullable (set nullable = false)")
        if self.role == "date" and self.type != "date":
            raise ValueError("a column with role 'date' must have type 'date'")
        return self

    def expected(self) -> str:
        """What a valid value looks like, in words, for error messages."""
        kind = {
            "string": "text",
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "category": "one of " + ", ".join(self.categories or ()),
            "date": "a date (YYYY-MM-DD)",
        }[self.type]
        if self.min is not None and self.max is not None:
            kind += f" from {_num(self.min)} to {_num(self.max)}"
        elif self.min is not None:
            kind += f" of at least {_num(self.min)}"
        elif self.max is not None:
            kind += f" of at most {_num(self.max)}"
        return kind


class Formats(BaseModel):
    """How the whole file writes its values: a default for every column it applies to
    (a column's own setting wins; placeholders add up)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decimal: Literal[".", ","] | None = None
    thousands: Literal[" ", ".", ",", "'"] | None = None
    symbols: tuple[str, ...] = ()
    date_format: str | None = None
    missing_values: tuple[str, ...] = ()
    normalise: bool = False


_APPLIES = {
    "decimal": ("int", "float"),
    "thousands": ("int", "float"),
    "symbols": ("int", "float"),
    "date_format": ("date",),
    "normalise": ("category",),
}


class Schema(BaseModel):
    """All columns of a history, in the order an export has them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    formats: Formats = Field(default_factory=Formats)
    columns: dict[str, ColumnSpec]

    @model_validator(mode="before")
    @classmethod
    def _file_formats(cls, data):
        """Each column takes the file's formats it has not set itself."""
        if not isinstance(data, dict) or not isinstance(data.get("formats"), dict):
            return data
        formats = data["formats"]
        columns = {}
        for name, spec in (data.get("columns") or {}).items():
            if isinstance(spec, dict):
                spec = dict(spec)
                kind = spec.get("type")
                for key, types in _APPLIES.items():
                    if formats.get(key) not in (None, (), [], False) and kind in types:
                        spec.setdefault(key, formats[key])
                if formats.get("missing_values"):
                    spec["missing_values"] = tuple(
                        dict.fromkeys([*spec.get("missing_values", ()), *formats["missing_values"]])
                    )
            columns[name] = spec
        return {**data, "columns": columns}

    @model_validator(mode="after")
    def _one_of_each_role(self) -> Schema:
        for role in ("id", "date", "outcome"):
            named = [name for name, spec in self.columns.items() if spec.role == role]
            if len(named) > 1:
                raise ValueError(f"at most one column may have role {role!r}, found {named}")
        return self

    def _column_with_role(self, role: str) -> str | None:
        return next((n for n, s in self.columns.items() if s.role == role), None)

    @property
    def id_column(self) -> str | None:
        return self._column_with_role("id")

    @property
    def date_column(self) -> str | None:
        return self._column_with_role("date")

    @property
    def outcome_column(self) -> str | None:
        return self._column_with_role("outcome")

    def columns_with_role(self, role: Role) -> list[str]:
        return [name for name, spec in self.columns.items() if spec.role == role]


def load_schema(name_or_path: str | Path = "prospects") -> Schema:
    """A built-in schema by name (``prospects``) or a schema TOML file by path."""
    if str(name_or_path) in BUILTIN_SCHEMAS:
        resource = resources.files("prospect_predictor.config") / "schemas" / f"{name_or_path}.toml"
        with resources.as_file(resource) as path:
            return load_toml_model(path, Schema)
    path = Path(name_or_path)
    if not path.exists():
        raise ConfigError(
            f"schema {str(name_or_path)!r} not found: give a path to a schema TOML file "
            f"or one of the built-in schemas ({', '.join(BUILTIN_SCHEMAS)})"
        )
    if _is_pipeline(path):
        raise ConfigError(
            f"{path} is a pipeline, not a schema: validate against it with --pipeline {path}"
        )
    return load_toml_model(path, Schema)


def _is_pipeline(path: Path) -> bool:
    """A pipeline TOML maps features to reasons; a schema never has ``[features]``."""
    import tomllib

    try:
        return "features" in tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # load_toml_model names the problem


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
