"""Column types as ``format_type()`` prints them: aliases normalised, unknown names refused with a hint.

``varchar(255)`` is ``character varying(255)``, ``timestamptz(3)`` is ``timestamp(3) with time
zone``: a schema contract may use the short spellings people write in migrations.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from smokeproof.errors import UsageError

ALIASES = {
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "int": "integer",
    "int4": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "int2": "smallint",
    "smallserial": "smallint",
    "bool": "boolean",
    "float8": "double precision",
    "double": "double precision",
    "float": "double precision",
    "float4": "real",
    "decimal": "numeric",
}
BUILTINS = {
    "uuid",
    "text",
    "integer",
    "bigint",
    "smallint",
    "boolean",
    "numeric",
    "real",
    "double precision",
    "character varying",
    "character",
    "timestamp with time zone",
    "timestamp without time zone",
    "date",
    "time with time zone",
    "time without time zone",
    "interval",
    "json",
    "jsonb",
    "bytea",
    "inet",
    "cidr",
    "macaddr",
    "money",
    "oid",
    "xml",
    "tsvector",
    "citext",
    "bit",
    "bit varying",
    "tsquery",
    "jsonpath",
    "name",
    "int4range",
    "int8range",
    "numrange",
    "daterange",
    "tsrange",
    "tstzrange",
    "point",
    "polygon",
    "box",
    "circle",
}
# name, optional (precision), optional "with[out] time zone" (after the precision, as format_type()
# prints "timestamp(3) with time zone"), optional [] for arrays.
TYPE = re.compile(
    r"^(?P<base>[a-z_][a-z0-9_ .]*?)\s*(?P<mod>\([0-9, ]+\))?(?P<zone>\s+with(?:out)?\s+time\s+zone)?(?P<array>(\[\])*)$"
)


def normalise_type(text: str) -> str:
    """``varchar(255)`` -> ``character varying(255)``, ``timestamptz(3)`` -> ``timestamp(3) with time zone``:
    the type as ``format_type()`` prints it."""
    match = TYPE.match(" ".join(text.strip().lower().split()))
    if match is None:
        return text.strip().lower()
    mod = (match["mod"] or "").replace(" ", "")
    array = match["array"] or ""
    if match["zone"]:
        return f"{match['base']}{mod} {' '.join(match['zone'].split())}{array}"
    expanded = ALIASES.get(match["base"], match["base"])
    if mod and expanded.startswith(("timestamp ", "time ")):
        first, rest = expanded.split(" ", 1)
        return f"{first}{mod} {rest}{array}"
    return expanded + mod + array


def known_type(text: str, enums: set[str]) -> bool:
    """A built-in type, one of ``enums``, or a schema-qualified type (what a schema file may name)."""
    match = TYPE.match(" ".join(text.strip().lower().split()))
    base = ALIASES.get(match["base"], match["base"]) if match else ""
    return bool(match) and (base in BUILTINS or base in enums or "." in base)


def check_type(text: str, enums: set[str], path: Path, where: str) -> None:
    if known_type(text, enums):
        return
    match = TYPE.match(" ".join(text.strip().lower().split()))
    base = ALIASES.get(match["base"], match["base"]) if match else ""
    close = difflib.get_close_matches(base or text, sorted(BUILTINS | set(ALIASES) | enums), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(
        f"unknown column type {text!r} (a built-in type, an [[enum]] of this file, or a schema-qualified type){hint}",
        file=path,
        where=where,
    )
