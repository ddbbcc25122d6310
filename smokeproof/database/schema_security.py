"""Schema contract entries for what guards and moves the data: ``rls`` on a table, policies, triggers, functions.

What a team requires without a baseline: that row security is on (and forced) for a tenant's table,
that its policies and triggers exist (and fire), that the functions the code calls exist. A kind
the session's role may not read is reported as "cannot be compared: permission", not as missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.column_types import normalise_type
from smokeproof.database.schema_entries import FunctionEntry, PolicyEntry, TableEntry, TriggerEntry
from smokeproof.database.security_queries import CATALOGS
from smokeproof.errors import Unavailable, UsageError

SecurityEntry = PolicyEntry | TriggerEntry | FunctionEntry
_TOP_LEVEL_COMMA = re.compile(r",(?![^()]*\))")


def normalised(entry: FunctionEntry, default_schema: str, *, file: Path, where: str) -> FunctionEntry:
    """The entry with its schema set and its argument types as ``format_type()`` prints them (``int`` -> ``integer``)."""
    name, _, rest = entry.signature.partition("(")
    schema, _, bare = name.strip().rpartition(".")
    arguments = rest.removesuffix(")").strip()
    types = [normalise_type(t.strip()) for t in _TOP_LEVEL_COMMA.split(arguments)] if arguments else []
    if any(not t for t in types):
        raise UsageError(f"signature {entry.signature!r}: an argument type is empty", file=file, where=where)
    schema = entry.schema_ or schema or default_schema
    return entry.model_copy(update={"schema_": schema, "signature": f"{bare}({', '.join(types)})"})


def table(entry: TableEntry, snap: CatalogSnapshot) -> list[str]:
    """Row security of a ``[[table]]`` that says ``rls`` or ``force_rls``."""
    if entry.rls is None and entry.force_rls is None:
        return []
    rel = snap.security.relations.get((entry.schema_, entry.name))
    rls, forced = (rel.rls, rel.force_rls) if rel is not None else (False, False)
    diffs = []
    if entry.rls is not None and rls != entry.rls:
        diffs.append(
            "row security is off: every role with SELECT reads every tenant's rows" if entry.rls else "row security is on"
        )
    if entry.force_rls is not None and forced != entry.force_rls:
        diffs.append("row security is not forced: the table's owner bypasses every policy" if entry.force_rls else "forced")
    return diffs


def differences(entry: SecurityEntry, snap: CatalogSnapshot) -> tuple[bool, list[str]]:
    """(object exists, every difference) for a policy, trigger or function entry."""
    if isinstance(entry, PolicyEntry):
        _readable(entry, snap, "policies")
        found = {p.name: p for p in snap.security.policies.get((entry.schema_, entry.table), ())}
        policy = found.get(entry.name)
        if policy is None:
            return False, [f"policy {entry.name} on {entry.qualified(entry.table)} does not exist"]
        if entry.command is not None and policy.command != entry.command:
            return True, [f"policy is for {policy.command}, contracted for {entry.command}"]
        return True, []
    if isinstance(entry, TriggerEntry):
        _readable(entry, snap, "triggers")
        triggers = {t.name: t for t in snap.security.triggers.get((entry.schema_, entry.table), ())}
        trigger = triggers.get(entry.name)
        if trigger is None:
            return False, [f"trigger {entry.name} on {entry.qualified(entry.table)} does not exist"]
        fires = trigger.enabled != "disabled"
        if entry.enabled is not None and fires != entry.enabled:
            return True, ["trigger is disabled: it does not fire" if entry.enabled else "trigger is enabled"]
        return True, []
    _readable(entry, snap, "functions")
    if entry.qualified(entry.signature) not in snap.security.routines:
        return False, [f"function {entry.qualified(entry.signature)} does not exist"]
    return True, []


def _readable(entry: SecurityEntry, snap: CatalogSnapshot, kind: str) -> None:
    if kind in snap.security.unreadable:
        catalogs = " or ".join(f"pg_catalog.{name}" for name in CATALOGS[kind])
        raise Unavailable(f"{entry.id}: cannot be compared: permission (the role may not read {catalogs})")
