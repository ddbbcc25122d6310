"""The entries of a schema contract (``tests/schema/schema.toml``): frozen, typed, one per object.

Each entry's ``id`` is its test id (``table public.users``, ``unique public.users_email_key``); its
``repr`` is that id too, so Allure's history links the same check across runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from smokeproof.verdict import Severity


class ColumnSpec(BaseModel):
    """A column's long form: ``{ type = "uuid", not_null = true, default = "now()" }`` (each key optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    type: str | None = None
    not_null: bool | None = None
    default: str | None = None  # as pg_get_expr() prints it: "now()", "'viewer'::userrole", "false"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)
    schema_: str = Field(default="", alias="schema")
    severity: Annotated[Severity, Field(strict=False)] = Severity.CRITICAL

    def qualified(self, name: str) -> str:
        return f"{self.schema_}.{name}"

    def __repr__(self) -> str:
        # What Allure shows as the test's parameter (and hashes into its history id): the check's name.
        return f"{type(self).__name__}({getattr(self, 'id', '')!r})"


class TableEntry(_Entry):
    kind: Literal["table"] = "table"
    name: str
    columns: dict[str, str | ColumnSpec] | list[str] = []
    rls: bool | None = None  # row security enabled (true) or not (false); None: not contracted
    force_rls: bool | None = None  # row security forced on the table's owner too

    @property
    def id(self) -> str:
        return f"table {self.qualified(self.name)}"

    def specs(self) -> list[tuple[str, ColumnSpec]]:
        """Every contracted column in its long form."""
        if isinstance(self.columns, list):
            return [(name, ColumnSpec()) for name in self.columns]
        return [(name, ColumnSpec(type=s) if isinstance(s, str) else s) for name, s in self.columns.items()]


class EnumEntry(_Entry):
    kind: Literal["enum"] = "enum"
    name: str
    labels: list[str] = []
    exact: bool = False

    @property
    def id(self) -> str:
        return f"enum {self.qualified(self.name)}"


class IndexEntry(_Entry):
    kind: Literal["index"] = "index"
    name: str
    table: str | None = None
    unique: bool | None = None

    @property
    def id(self) -> str:
        return f"index {self.qualified(self.name)}"


class ForeignKeyEntry(_Entry):
    kind: Literal["foreign_key"] = "foreign_key"
    table: str
    columns: list[str] = Field(min_length=1)
    references: str
    references_columns: list[str] | None = None
    name: str | None = None

    @property
    def id(self) -> str:
        return f"foreign key {self.qualified(self.table)}({', '.join(self.columns)}) -> {self.references}"


class ConstraintEntry(_Entry):
    """``[[check]]`` or ``[[unique]]``: a named table constraint (a unique one optionally on these columns)."""

    kind: Literal["check", "unique"] = "check"
    name: str
    table: str | None = None
    columns: list[str] | None = None

    @property
    def id(self) -> str:
        return f"{self.kind} {self.qualified(self.name)}"


class CheckEntry(ConstraintEntry):
    kind: Literal["check", "unique"] = "check"


class UniqueEntry(ConstraintEntry):
    kind: Literal["check", "unique"] = "unique"


class PolicyEntry(_Entry):
    """``[[policy]]``: a row security policy on a table, optionally for one command (all, select, ...)."""

    kind: Literal["policy"] = "policy"
    name: str
    table: str
    command: Literal["all", "select", "insert", "update", "delete"] | None = None

    @property
    def id(self) -> str:
        return f"policy {self.name} on {self.qualified(self.table)}"


class TriggerEntry(_Entry):
    """``[[trigger]]``: a trigger on a table; ``enabled = true`` also requires that it fires."""

    kind: Literal["trigger"] = "trigger"
    name: str
    table: str
    enabled: bool | None = None

    @property
    def id(self) -> str:
        return f"trigger {self.name} on {self.qualified(self.table)}"


class FunctionEntry(_Entry):
    """``[[function]]``: a function or procedure by signature, ``document_count(integer)`` (argument types only)."""

    kind: Literal["function"] = "function"
    signature: str = Field(pattern=r"^[^()]+\(.*\)$")

    @property
    def id(self) -> str:
        return f"function {self.qualified(self.signature)}"


SchemaEntry = TableEntry | EnumEntry | IndexEntry | ForeignKeyEntry | ConstraintEntry | PolicyEntry | TriggerEntry | FunctionEntry
KINDS: dict[str, type[SchemaEntry]] = {
    "table": TableEntry,
    "enum": EnumEntry,
    "index": IndexEntry,
    "foreign_key": ForeignKeyEntry,
    "check": CheckEntry,
    "unique": UniqueEntry,
    "policy": PolicyEntry,
    "trigger": TriggerEntry,
    "function": FunctionEntry,
}


class SchemaContract(BaseModel):
    model_config = ConfigDict(frozen=True)
    schemas: tuple[str, ...] = ("public",)
    entries: tuple[SchemaEntry, ...] = ()
