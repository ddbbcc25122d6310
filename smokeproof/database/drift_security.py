"""Security drift: row security, policies, triggers and privileges of a table; functions, domains and types.

What differs, what it allows, and whether it is "Security drift" (row security, a policy, a
privilege, ``SECURITY DEFINER``) or plain "Schema drift". Privileges are compared for the roles of
``[drift] roles`` and PUBLIC only, and live role names are read back through ``[drift] role_map``
(a role as the baseline names it -> as the database names it) before anything is compared: the
baseline records every grantee, the comparison chooses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smokeproof.database import drift_diff
from smokeproof.database.drift_diff import Doc
from smokeproof.database.security_queries import CATALOGS

KINDS = {"function": "functions", "domain": "domains", "type": "types"}  # drift kind -> baseline section
# The kind of the snapshot each section needs (a role refused one gets "cannot be compared: permission").
SECTION_KINDS = {"functions": "functions", "domains": "types", "types": "types"}
TABLE_PARTS = ("policies", "triggers")
POLICY_DEFAULTS: dict[str, Any] = {"restrictive": False, "using": None, "with_check": None}
FUNCTION_DEFAULTS: dict[str, Any] = {
    "returns": None,
    "strict": False,
    "security_definer": False,
    "leakproof": False,
    "settings": [],
}
DOMAIN_DEFAULTS: dict[str, Any] = {"not_null": False, "default": None}
ROW_SECURITY_OFF = "row security is off: every role with SELECT reads every tenant's rows, whatever the policies say"
NOT_FORCED = "row security is not forced: the table's owner (often the role the app connects as) bypasses every policy"


class Roles:
    """``[drift] roles`` and ``role_map``: whose privileges are compared, and live names as the baseline's."""

    def __init__(self, roles: tuple[str, ...] = (), role_map: Mapping[str, str] | None = None) -> None:
        self.compared = frozenset(roles) | {"PUBLIC"}
        self.baseline_name = {live: name for name, live in (role_map or {}).items()}

    def prepare(self, doc: Doc, *, live: bool) -> Doc:
        """``doc`` with only the compared grantees' privileges, and (live) role names as the baseline's."""
        if not isinstance(doc, Mapping) or ("privileges" not in doc and not (live and self.baseline_name and "policies" in doc)):
            return doc
        out = dict(doc)
        rename = self.baseline_name if live else {}
        kept = {rename.get(g, g): p for g, p in doc.get("privileges", {}).items() if rename.get(g, g) in self.compared}
        out.pop("privileges", None)
        if kept:
            out["privileges"] = kept
        if rename and "policies" in doc:
            out["policies"] = {
                name: {**p, "roles": sorted(rename.get(r, r) for r in p.get("roles", []))} for name, p in doc["policies"].items()
            }
        return out


def refused(unreadable: frozenset[str]) -> tuple[str, ...]:
    """The baseline sections and table parts that cannot be compared, from the snapshot's unreadable kinds."""
    sections = [section for section, kind in SECTION_KINDS.items() if kind in unreadable]
    return tuple(sections + [part for part in TABLE_PARTS if part in unreadable])


def refusal(section: str) -> str:
    """Which catalogs the role may not read, for a section (or a table part) it was refused."""
    kind = SECTION_KINDS.get(section, section)
    return "the role may not read " + " or ".join(f"pg_catalog.{name}" for name in CATALOGS[kind])


def without(doc: Doc, parts: tuple[str, ...]) -> Doc:
    """``doc`` less the parts the role may not read."""
    return {k: v for k, v in doc.items() if k not in parts} if any(p in doc for p in parts) else doc


def differences(kind: str, want: Doc, got: Doc) -> list[str]:
    """Every difference of one object, the security parts included."""
    if kind == "function":
        return _function(want, got)
    if kind == "domain":
        diffs = drift_diff._fields("", _less(want, "checks"), _less(got, "checks"), DOMAIN_DEFAULTS)
        return diffs + drift_diff._named("check", want.get("checks", {}), got.get("checks", {}), str)
    if kind == "type":
        return _attributes(list(want.get("attributes", [])), list(got.get("attributes", [])))
    diffs = drift_diff.differences(kind, want, got)
    if kind in ("table", "view"):
        diffs += _relation(want, got)
    return diffs


def is_security(kind: str, want: Doc, got: Doc) -> bool:
    """The difference is in row security, a policy, a privilege or ``SECURITY DEFINER``."""
    keys = ("security_definer", "privileges") if kind == "function" else ("rls", "force_rls", "policies", "privileges")
    return kind in ("function", "table", "view") and any(want.get(k) != got.get(k) for k in keys)


def meanings(kind: str, want: Doc, got: Doc) -> list[str]:
    """What the security differences allow, one line each."""
    lines: list[str] = []
    if kind not in ("table", "view", "function"):
        return lines
    if want.get("rls") and not got.get("rls"):
        lines.append(ROW_SECURITY_OFF)
    elif want.get("force_rls") and not got.get("force_rls"):
        lines.append(NOT_FORCED)
    policies_want, policies_got = want.get("policies", {}), got.get("policies", {})
    for name in sorted(policies_want.keys() - policies_got.keys()):
        if policies_want[name].get("restrictive"):
            lines.append(f"restrictive policy {name} is gone: the rows it kept out are visible")
        else:
            lines.append(f"policy {name} is gone: what it let through is refused, unless another policy lets it through")
    for name in sorted(policies_want.keys() & policies_got.keys()):
        if policies_want[name] != policies_got[name]:
            lines.append(f"policy {name} changed: the rows it lets through are not the ones the migrations chose")
    for name in sorted(policies_got.keys() - policies_want.keys()):
        lines.append(f"policy {name} is not in the baseline: it may let through rows no migration allows")
    if want.get("security_definer") and not got.get("security_definer"):
        lines.append("SECURITY DEFINER is gone: it runs with the caller's rights, so what needs its owner's fails")
    elif got.get("security_definer") and not want.get("security_definer"):
        lines.append("it is SECURITY DEFINER now: whoever may call it acts with its owner's rights")
    lines += _privilege_meanings(want.get("privileges", {}), got.get("privileges", {}))
    for name, trigger in got.get("triggers", {}).items():
        was = want.get("triggers", {}).get(name)
        if was and was.get("enabled") != "disabled" and trigger.get("enabled") == "disabled":
            lines.append(f"trigger {name} does not fire: what it does (an audit row, a timestamp) silently stops")
    return lines


def _privilege_meanings(want: Doc, got: Doc) -> list[str]:
    lines = []
    for grantee in sorted(want.keys() | got.keys()):
        added = sorted(set(got.get(grantee, [])) - set(want.get(grantee, [])))
        lost = sorted(set(want.get(grantee, [])) - set(got.get(grantee, [])))
        if added and grantee == "PUBLIC":
            lines.append(f"every role, including any made later, may {', '.join(added)}")
        elif added:
            lines.append(f"{grantee} may {', '.join(added)}: more than the migrations grant")
        if lost:
            lines.append(f"{grantee} may no longer {', '.join(lost)}: what needs it fails with 'permission denied'")
    return lines


def _relation(want: Doc, got: Doc) -> list[str]:
    diffs = []
    for key, what in (("rls", "row security"), ("force_rls", "forced row security")):
        if bool(want.get(key)) != bool(got.get(key)):
            diffs.append(f"{what} {'on' if got.get(key) else 'off'} (the baseline has it {'on' if want.get(key) else 'off'})")
    diffs += drift_diff._named("policy", want.get("policies", {}), got.get("policies", {}), _policy_text, POLICY_DEFAULTS)
    diffs += drift_diff._named("trigger", want.get("triggers", {}), got.get("triggers", {}), _trigger_text)
    return diffs + _privileges(want.get("privileges", {}), got.get("privileges", {}))


def _privileges(want: Doc, got: Doc) -> list[str]:
    diffs = []
    for grantee in sorted(want.keys() | got.keys()):
        for privilege in sorted(set(got.get(grantee, [])) - set(want.get(grantee, []))):
            diffs.append(f"privilege {privilege} granted to {grantee} (not in the baseline)")
        for privilege in sorted(set(want.get(grantee, [])) - set(got.get(grantee, []))):
            diffs.append(f"privilege {privilege} of {grantee} revoked (the baseline grants it)")
    return diffs


def _function(want: Doc, got: Doc) -> list[str]:
    diffs = []
    if want.get("security_definer", False) != got.get("security_definer", False):
        diffs.append("SECURITY DEFINER " + ("added (the baseline has none)" if got.get("security_definer") else "removed"))
    skip = ("security_definer", "privileges")
    diffs += drift_diff._fields("", _less(want, *skip), _less(got, *skip), FUNCTION_DEFAULTS)
    return diffs + _privileges(want.get("privileges", {}), got.get("privileges", {}))


def _attributes(want: list[str], got: list[str]) -> list[str]:
    diffs = [f"missing attribute {a}" for a in want if a not in got]
    diffs += [f"extra attribute {a}" for a in got if a not in want]
    common_want, common_got = [a for a in want if a in got], [a for a in got if a in want]
    if common_want != common_got:
        diffs.append(f"attributes reordered: baseline {common_want}, database {common_got}")
    return diffs


def _less(doc: Doc, *keys: str) -> Doc:
    return {k: v for k, v in doc.items() if k not in keys}


def _policy_text(policy: Doc) -> str:
    roles = ", ".join(policy.get("roles", []))
    kind = "restrictive" if policy.get("restrictive") else "permissive"
    return f"{kind}, for {policy.get('command')}, to {roles}, using {policy.get('using')}"


def _trigger_text(trigger: Doc) -> str:
    return f"{trigger.get('definition')}, {trigger.get('enabled')}"
