"""The snapshot's security part: row security, policies, triggers, privileges, routines, domains, composite types.

Read in the same statement as the rest of the catalog (:mod:`smokeproof.database.security_queries`)
and kept apart from the tables' own rows: the drift checks and the schema contract read them by
table, by routine signature, by type name. A kind the session's role may not read is named in
:attr:`Security.unreadable` and holds nothing: its checks say "cannot be compared: permission".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smokeproof.database import security_queries

if TYPE_CHECKING:
    import asyncpg

Row = dict[str, Any]
Grant = tuple[str, str, bool]  # grantee ("PUBLIC" or a role name), privilege, with grant option
COMMANDS = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}
ENABLED = {"O": "enabled", "D": "disabled", "R": "replica", "A": "always"}
VOLATILITY = {"v": "volatile", "s": "stable", "i": "immutable"}
ROUTINE_KINDS = {"f": "function", "p": "procedure"}
KINDS = ("policies", "triggers", "functions", "types")  # the kinds a role may be refused (types: domains too)
# Where a SQL-standard body starts in pg_get_functiondef's text (the header's lines start with a space).
_DEFAULT_EXECUTE: tuple[Grant, ...] = (("PUBLIC", "EXECUTE", False),)  # a function's NULL access list, less the owner
# aclitem's letters (MAINTAIN, "m", from PostgreSQL 17, is left out: 15 has no such privilege).
PRIVILEGES = {
    "r": "SELECT",
    "w": "UPDATE",
    "a": "INSERT",
    "d": "DELETE",
    "D": "TRUNCATE",
    "x": "REFERENCES",
    "t": "TRIGGER",
    "X": "EXECUTE",
    "U": "USAGE",
    "C": "CREATE",
    "c": "CONNECT",
    "T": "TEMPORARY",
}
_ACL_ITEM = re.compile(r'^("(?:[^"]|"")*"|[^=]*)=([^/]*)/')
_STANDARD_BODY = re.compile(r"^(BEGIN ATOMIC|RETURN )", re.MULTILINE)


@dataclass(frozen=True)
class RelationSecurity:
    rls: bool = False
    force_rls: bool = False
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class Policy:
    schema: str
    table: str
    name: str
    command: str  # all, select, insert, update, delete
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None


@dataclass(frozen=True)
class Trigger:
    schema: str
    table: str
    name: str
    enabled: str  # enabled, disabled, replica, always
    definition: str  # pg_get_triggerdef(): timing, events, row or statement, WHEN, function


@dataclass(frozen=True)
class Routine:
    """A function or procedure; ``body`` with its whitespace normalised."""

    schema: str
    name: str
    kind: str  # function, procedure
    language: str
    argument_types: tuple[str, ...]
    arguments: str  # with names, modes and defaults, as pg_get_function_arguments() prints them
    returns: str | None
    volatility: str
    strict: bool
    security_definer: bool
    leakproof: bool
    settings: tuple[str, ...]
    body: str
    grants: tuple[Grant, ...] = ()

    @property
    def signature(self) -> str:
        """``public.document_count(integer)``: the argument types only, as the server names them."""
        return f"{self.schema}.{self.name}({', '.join(self.argument_types)})"


@dataclass(frozen=True)
class Domain:
    schema: str
    name: str
    type: str
    not_null: bool
    default: str | None
    checks: Mapping[str, str]


@dataclass(frozen=True)
class CompositeType:
    schema: str
    name: str
    attributes: tuple[str, ...]  # "name type", in order


@dataclass(frozen=True)
class Security:
    relations: Mapping[tuple[str, str], RelationSecurity] = field(default_factory=dict)  # only those with any
    policies: Mapping[tuple[str, str], tuple[Policy, ...]] = field(default_factory=dict)  # by table
    triggers: Mapping[tuple[str, str], tuple[Trigger, ...]] = field(default_factory=dict)  # by table
    routines: Mapping[str, Routine] = field(default_factory=dict)  # by signature
    domains: Mapping[tuple[str, str], Domain] = field(default_factory=dict)
    types: Mapping[tuple[str, str], CompositeType] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()  # kinds (KINDS) the role may not read


def security(rows: Mapping[str, list[Row] | None], omitted: Collection[str] = ()) -> Security:
    """The security part from the snapshot document's rows (a kind read as null was unreadable, unless left out)."""
    unreadable = frozenset(kind for kind in KINDS if rows.get(kind) is None and kind not in omitted)
    policies: dict[tuple[str, str], list[Policy]] = {}
    for r in rows.get("policies") or ():
        policy = Policy(
            r["schema"],
            r["table"],
            r["name"],
            COMMANDS.get(r["command"], str(r["command"])),
            r["permissive"],
            tuple(sorted("PUBLIC" if role == "-" else _name(role) for role in r["roles"])),
            r["using"],
            r["with_check"],
        )
        policies.setdefault((policy.schema, policy.table), []).append(policy)
    triggers: dict[tuple[str, str], list[Trigger]] = {}
    for r in rows.get("triggers") or ():
        trigger = Trigger(r["schema"], r["table"], r["name"], ENABLED.get(r["enabled"], str(r["enabled"])), r["definition"])
        triggers.setdefault((trigger.schema, trigger.table), []).append(trigger)
    routines = [_routine(r) for r in rows.get("functions") or ()]
    types = rows.get("types") or ()
    return Security(
        relations={
            (r["schema"], r["name"]): RelationSecurity(
                r["security"]["rls"], r["security"]["force_rls"], acl(r["security"]["acl"], r["security"]["owner"])
            )
            for r in rows.get("tables") or ()
            if r.get("security")
        },
        policies={key: tuple(found) for key, found in policies.items()},
        triggers={key: tuple(found) for key, found in triggers.items()},
        routines={routine.signature: routine for routine in routines},
        domains={
            (r["schema"], r["name"]): Domain(r["schema"], r["name"], r["type"], r["not_null"], r["default"], r["checks"] or {})
            for r in types
            if r["kind"] == "d"
        },
        types={
            (r["schema"], r["name"]): CompositeType(r["schema"], r["name"], tuple(r["attributes"]))
            for r in types
            if r["kind"] == "c"
        },
        unreadable=unreadable,
    )


def _routine(r: Row) -> Routine:
    return Routine(
        r["schema"],
        r["name"],
        ROUTINE_KINDS.get(r["kind"], str(r["kind"])),
        r["language"],
        tuple(t for t in r["argument_types"].split(", ") if t),
        r["arguments"],
        r["returns"],
        VOLATILITY.get(r["volatility"], str(r["volatility"])),
        r["strict"],
        r["security_definer"],
        r["leakproof"],
        tuple(r["settings"] or ()),
        normalise_body(r["body"] or "", standard=r["standard_body"]),
        _DEFAULT_EXECUTE if r["acl"] is None else acl(r["acl"], r["owner"]),
    )


def normalise_body(text: str, *, standard: bool = False) -> str:
    """A routine's body with runs of whitespace as one space; of ``pg_get_functiondef``'s text, the body alone.

    A body written as a string (plpgsql, ``AS $$ ... $$``) is kept by the server as written, so its
    indentation is the migration's; a SQL-standard body is stored parsed and printed back by the server.
    """
    if standard:
        found = _STANDARD_BODY.search(text)
        text = text[found.start() :] if found else text
    return " ".join(text.split())


def acl(items: list[str] | None, owner: str) -> tuple[Grant, ...]:
    """The grants of an access list's text (``{smoke_app=r*w/postgres,=X/postgres}``), less the owner's own."""
    grants = []
    owner = _name(owner)
    for item in items or ():
        found = _ACL_ITEM.match(item)
        if found is None:
            continue
        grantee = _name(found.group(1)) if found.group(1) else "PUBLIC"
        if grantee == owner:
            continue
        letters = found.group(2)
        for i, letter in enumerate(letters):
            if letter in PRIVILEGES:
                grants.append((grantee, PRIVILEGES[letter], letters[i + 1 : i + 2] == "*"))
    return tuple(sorted(grants))


def _name(role: str) -> str:
    """A role name as aclitem or regrole prints it, unquoted (``"Ops Team"`` -> ``Ops Team``)."""
    return role[1:-1].replace('""', '"') if len(role) > 1 and role.startswith('"') and role.endswith('"') else role


async def unreadable(conn: asyncpg.Connection) -> frozenset[str]:
    """The kinds whose catalogs the session's role may not read (asked after the snapshot was refused)."""
    import json

    catalogs = sorted({name for names in security_queries.CATALOGS.values() for name in names})
    readable: dict[str, bool] = json.loads(await conn.fetchval(security_queries.READABLE, catalogs))
    return frozenset(
        kind for kind, names in security_queries.CATALOGS.items() if not all(readable.get(name, False) for name in names)
    )
