"""Every difference between a baseline object and the live one, as lines a reviewer reads.

Documents are plain JSON values (:mod:`smokeproof.database.baseline`); a key left out means its
default, so a hand-edited baseline that spells out ``"unique": {}`` compares equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Doc = Mapping[str, Any]
COLUMN_DEFAULTS: dict[str, Any] = {"not_null": False, "default": None, "identity": None, "generated": None}
SEQUENCE_DEFAULTS: dict[str, Any] = {"cycle": False, "owned_by": None}
INDEX_DEFAULTS: dict[str, Any] = {"unique": False, "predicate": None, "invalid": False}


def differences(kind: str, want: Doc, got: Doc) -> list[str]:
    """The differences of one table, view, enum type (its label list) or sequence."""
    if kind == "enum":
        return labels(list(want), list(got))
    if kind == "sequence":
        return _fields("", want, got, SEQUENCE_DEFAULTS)
    return relation(want, got)


def relation(want: Doc, got: Doc) -> list[str]:
    diffs: list[str] = []
    if want.get("kind", "table") != got.get("kind", "table"):
        diffs.append(f"is a {got.get('kind', 'table')}, the baseline has a {want.get('kind', 'table')}")
    if want.get("definition") != got.get("definition"):
        diffs.append(f"definition changed: baseline {want.get('definition')!r}, database {got.get('definition')!r}")
    diffs += _columns(want.get("columns", {}), got.get("columns", {}))
    pk_want, pk_got = want.get("primary_key"), got.get("primary_key")
    if pk_want != pk_got:
        diffs.append(f"primary key: baseline {_key(pk_want)}, database {_key(pk_got)}")
    diffs += _named("unique constraint", want.get("unique", {}), got.get("unique", {}), _columns_text)
    diffs += _named("check constraint", want.get("checks", {}), got.get("checks", {}), str)
    diffs += _named("exclusion constraint", want.get("exclusions", {}), got.get("exclusions", {}), str)
    diffs += _named("foreign key", want.get("foreign_keys", {}), got.get("foreign_keys", {}), _fk_text)
    diffs += _named("index", want.get("indexes", {}), got.get("indexes", {}), _index_text, INDEX_DEFAULTS)
    return diffs


def _columns(want: Doc, got: Doc) -> list[str]:
    diffs = [f"missing column {name} ({_column_text(want[name])})" for name in sorted(want) if name not in got]
    diffs += [f"extra column {name} ({_column_text(got[name])})" for name in sorted(got) if name not in want]
    for name in sorted(want.keys() & got.keys()):
        diffs += _fields(f"column {name}: ", want[name], got[name], COLUMN_DEFAULTS)
    return diffs


def _fields(prefix: str, want: Doc, got: Doc, defaults: Mapping[str, Any]) -> list[str]:
    diffs = []
    for key in sorted(want.keys() | got.keys()):
        a, b = want.get(key, defaults.get(key)), got.get(key, defaults.get(key))
        if a == b:
            continue
        if key == "not_null":
            diffs.append(f"{prefix}{'NOT NULL' if b else 'nullable'} (the baseline has it {'NOT NULL' if a else 'nullable'})")
        else:
            diffs.append(f"{prefix}{key} {_show(b)} (the baseline has {_show(a)})")
    return diffs


def _named(
    what: str, want: Doc, got: Doc, describe: Callable[[Any], str], defaults: Mapping[str, Any] | None = None
) -> list[str]:
    diffs = [f"missing {what} {name} ({describe(want[name])})" for name in sorted(want) if name not in got]
    diffs += [f"extra {what} {name} ({describe(got[name])})" for name in sorted(got) if name not in want]
    for name in sorted(want.keys() & got.keys()):
        if isinstance(want[name], Mapping) and isinstance(got[name], Mapping):
            diffs += _fields(f"{what} {name}: ", want[name], got[name], defaults or {})
        elif want[name] != got[name]:
            diffs.append(f"{what} {name}: {describe(got[name])} (the baseline has {describe(want[name])})")
    return diffs


def labels(want: list[str], got: list[str]) -> list[str]:
    """Enum labels missing, extra, or in another order."""
    diffs = [f"missing label {json.dumps(label)}" for label in want if label not in got]
    diffs += [f"extra label {json.dumps(label)}" for label in got if label not in want]
    common_want = [label for label in want if label in got]
    common_got = [label for label in got if label in want]
    if common_want != common_got:
        diffs.append(f"labels reordered: baseline {json.dumps(common_want)}, database {json.dumps(common_got)}")
    return diffs


def extensions(want: Doc, got: Doc) -> list[str]:
    diffs = [f"missing extension {name} (in schema {want[name]})" for name in sorted(want) if name not in got]
    diffs += [f"extra extension {name} (in schema {got[name]})" for name in sorted(got) if name not in want]
    diffs += [
        f"extension {name} is in schema {got[name]} (the baseline has {want[name]})"
        for name in sorted(want.keys() & got.keys())
        if want[name] != got[name]
    ]
    return diffs


def _show(value: Any) -> str:
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)


def _column_text(column: Doc) -> str:
    text = f"{column.get('type')}{' NOT NULL' if column.get('not_null') else ''}"
    if column.get("default") is not None:
        text += f" DEFAULT {column['default']}"
    return text


def _key(key: Doc | None) -> str:
    return "none" if key is None else f"{key.get('name')} ({', '.join(key.get('columns', []))})"


def _columns_text(columns: list[str]) -> str:
    return ", ".join(columns)


def _fk_text(fk: Doc) -> str:
    return (
        f"({', '.join(fk.get('columns', []))}) -> {fk.get('references')}({', '.join(fk.get('ref_columns', []))}) "
        f"on delete {fk.get('on_delete')}, on update {fk.get('on_update')}"
    )


def _index_text(index: Doc) -> str:
    return str(index.get("definition"))
