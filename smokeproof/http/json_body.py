"""A response body against its contracted JSON Schema: formats checked, differences written in JSON.

``format`` is asserted, not just annotated: a contract that says ``format = "email"`` fails on a body
that holds ``"not-an-email"``, because a client that parses the field as an address breaks on it.
The formats checked are those jsonschema's format checker knows with the packages smokeproof
installs (:data:`CHECKED_FORMATS`); any other format (OpenAPI's ``int32``, ``binary``,
``password``...) is an annotation and passes, as the JSON Schema specification says.

Messages quote values as JSON (``false``, ``null``, ``"text"``), the way the body and the contract
spell them, not as Python (``False``, ``None``, ``'text'``).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

VALUE_CHARS = 80
MESSAGE_CHARS = 200
CHECKED_FORMATS: tuple[str, ...] = tuple(sorted(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers))


def validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` (its own draft, or 2020-12) that checks ``format``."""
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def problems(schema: dict[str, Any], document: Any) -> list[str]:
    """Every difference between ``document`` and ``schema``, one line each, ordered by place."""
    errors = sorted(validator(schema).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{place(list(e.absolute_path))}: {describe(e)}"[:MESSAGE_CHARS] for e in errors]


def place(path: list[object]) -> str:
    """``body`` or ``body at /items/0/email`` (an RFC 6901 pointer into the body)."""
    if not path:
        return "body"
    return "body at /" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def as_json(value: object) -> str:
    """``value`` as JSON, shortened for a one-line message."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def describe(error: jsonschema.ValidationError) -> str:
    """One difference, its values in JSON."""
    keyword, wanted, got = error.validator, error.validator_value, error.instance
    if keyword == "type":
        kinds = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        return f"{as_json(got)} is not of type {kinds}"
    if keyword == "const":
        return f"{as_json(wanted)} was expected, got {as_json(got)}"
    if keyword == "enum":
        return f"{as_json(got)} is not one of {as_json(wanted)}"
    if keyword == "format":
        return f"{as_json(got)} does not match format {as_json(wanted)}"
    if keyword == "required" and isinstance(got, dict) and isinstance(wanted, list):
        missing = [name for name in wanted if name not in got]
        return f"missing required propert{'y' if len(missing) == 1 else 'ies'} {', '.join(as_json(m) for m in missing)}"
    if keyword == "additionalProperties" and wanted is False and isinstance(got, dict) and isinstance(error.schema, dict):
        if "patternProperties" in error.schema:
            return error.message
        extra = [name for name in got if name not in error.schema.get("properties", {})]
        return f"propert{'y' if len(extra) == 1 else 'ies'} not allowed: {', '.join(as_json(name) for name in extra)}"
    # Other keywords: jsonschema quotes the instance and the keyword's value with repr(); say them in JSON.
    message = error.message
    for value in (got, wanted):
        if isinstance(value, bool | None | str | dict | list):
            message = message.replace(repr(value), as_json(value))
    return message
