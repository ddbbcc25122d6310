"""The baseline's security parts (format_version 2): what a table's document gains, and three more sections.

A table or view gains ``rls`` and ``force_rls`` (when on), ``policies``, ``triggers`` and
``privileges`` (every grantee the database has, by name: the comparison keeps those of ``[drift]
roles`` and PUBLIC). ``functions`` (by signature, ``public.document_count(integer)``),
``domains`` and ``types`` (composite) are sections of their own::

    "functions": {"public.audit_document()": {"body": "BEGIN INSERT INTO audit_log ...", "language": "plpgsql",
                  "returns": "trigger", "security_definer": true, "settings": ["search_path=public, pg_temp"],
                  "privileges": {}}},
    "domains": {"public.email": {"type": "text", "not_null": true, "checks": {"email_check": "CHECK (...)"}}},
    "types": {"public.address": {"attributes": ["street text", "city character varying(80)"]}}

Values that say nothing (false, none, an empty list) are left out, as elsewhere in the baseline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from smokeproof.database.security_catalog import CompositeType, Domain, Grant, Policy, Routine, Security, Trigger

Document = dict[str, Any]
SECTIONS = ("functions", "domains", "types")


def relation_parts(security: Security, key: tuple[str, str], into: Document) -> None:
    """Add a table's (or view's) row security, policies, triggers and privileges to its document."""
    rel = security.relations.get(key)
    if rel is not None:
        if rel.rls:
            into["rls"] = True
        if rel.force_rls:
            into["force_rls"] = True
        if rel.grants:
            into["privileges"] = privileges(rel.grants)
    policies = security.policies.get(key)
    if policies:
        into["policies"] = {p.name: policy(p) for p in policies}
    triggers = security.triggers.get(key)
    if triggers:
        into["triggers"] = {t.name: trigger(t) for t in triggers}


def privileges(grants: Iterable[Grant]) -> Document:
    """``{"PUBLIC": ["EXECUTE"], "app_user": ["SELECT", "UPDATE WITH GRANT OPTION"]}``."""
    found: dict[str, list[str]] = {}
    for grantee, privilege, grantable in grants:
        found.setdefault(grantee, []).append(privilege + (" WITH GRANT OPTION" if grantable else ""))
    return {grantee: sorted(names) for grantee, names in found.items()}


def policy(p: Policy) -> Document:
    doc: Document = {"command": p.command, "roles": list(p.roles)}
    if not p.permissive:
        doc["restrictive"] = True
    if p.using is not None:
        doc["using"] = p.using
    if p.with_check is not None:
        doc["with_check"] = p.with_check
    return doc


def trigger(t: Trigger) -> Document:
    return {"definition": t.definition, "enabled": t.enabled}


def routine(r: Routine) -> Document:
    doc: Document = {
        "kind": r.kind,
        "language": r.language,
        "arguments": r.arguments,
        "volatility": r.volatility,
        "body": r.body,
        "privileges": privileges(r.grants),
    }
    if r.returns is not None:
        doc["returns"] = r.returns
    for flag in ("strict", "security_definer", "leakproof"):
        if getattr(r, flag):
            doc[flag] = True
    if r.settings:
        doc["settings"] = list(r.settings)
    return doc


def domain(d: Domain) -> Document:
    doc: Document = {"type": d.type}
    if d.not_null:
        doc["not_null"] = True
    if d.default is not None:
        doc["default"] = d.default
    if d.checks:
        doc["checks"] = dict(d.checks)
    return doc


def composite(t: CompositeType) -> Document:
    return {"attributes": list(t.attributes)}


def names(security: Security) -> dict[str, dict[str, Any]]:
    """The three sections' names -> their keys in ``security``."""
    return {
        "functions": {signature: signature for signature in security.routines},
        "domains": {f"{s}.{n}": (s, n) for (s, n) in security.domains},
        "types": {f"{s}.{n}": (s, n) for (s, n) in security.types},
    }


def get(security: Security, section: str, key: Any) -> Document:
    if section == "functions":
        return routine(security.routines[key])
    if section == "domains":
        return domain(security.domains[key])
    return composite(security.types[key])


# Reading ------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PolicyDoc(_Strict):
    command: str
    roles: list[str]
    restrictive: bool = False
    using: str | None = None
    with_check: str | None = None


class TriggerDoc(_Strict):
    definition: str
    enabled: str


class FunctionDoc(_Strict):
    kind: str
    language: str
    arguments: str
    volatility: str
    body: str
    privileges: dict[str, list[str]] = {}
    returns: str | None = None
    strict: bool = False
    security_definer: bool = False
    leakproof: bool = False
    settings: list[str] = []


class DomainDoc(_Strict):
    type: str
    not_null: bool = False
    default: str | None = None
    checks: dict[str, str] = {}


class TypeDoc(_Strict):
    attributes: list[str]
