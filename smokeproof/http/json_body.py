"""A response body against its contracted JSON Schema: formats checked, differences written in JSON.

``format`` is asserted, not just annotated: a contract that says ``format = "email"`` fails on a body
that holds ``"not-an-email"``, because a client that parses the field as an address breaks on it.
The formats checked are those jsonschema's format checker knows with the packages smokeproof
installs (:func:`checked_formats`); any other format (OpenAPI's ``int32``, ``binary``,
``password``...) is an annotation and passes, as the JSON Schema specification says.

Messages quote values as JSON (``false``, ``null``, ``"text"``), the way the body and the contract
spell them, not as Python (``False``, ``None``, ``'text'``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema loads with the first contract that has a json_schema (contracts.py), not with every run
    import jsonschema
    from jsonschema.protocols import Validator

VALUE_CHARS = 80
MESSAGE_CHARS = 200


def checked_formats() -> tuple[str, ...]:
    """The ``format`` values asserted, not just annotated."""
    import jsonschema

    return tuple(sorted(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers))


def validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` (its own draft, or 2020-12) that checks ``format``."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def unchanged(text: str) -> str:
    return text


def problems(schema: dict[str, Any], document: Any, *, redact: Callable[[str], str] = unchanged) -> list[str]:
    """Every difference between ``document`` and ``schema``, one line each, ordered by place.

    The values quoted come from the answer (a token, perhaps): each is redacted whole before it is cut.
    """
    errors = sorted(validator(schema).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    lines = (redact(f"{place(list(e.absolute_path))}: {describe(e, redact)}") for e in errors)
    return [line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 3] + "..." for line in lines]


def place(path: list[object]) -> str:
    """``body`` or ``body at /items/0/email`` (an RFC 6901 pointer into the body)."""
    if not path:
        return "body"
    return "body at /" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def as_json(value: object, redact: Callable[[str], str] = unchanged) -> str:
    """``value`` as JSON, redacted, then shortened for a one-line message."""
    try:
        text = redact(json.dumps(value, ensure_ascii=False, sort_keys=False))
    except (TypeError, ValueError):
        text = redact(repr(value))
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def describe(error: jsonschema.ValidationError, redact: Callable[[str], str] = unchanged) -> str:
    """One difference, its values in JSON (redacted before they are cut)."""

    def quote(value: object) -> str:
        return as_json(value, redact)

    keyword, wanted, got = error.validator, error.validator_value, error.instance
    if keyword == "type":
        kinds = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        return f"{quote(got)} is not of type {kinds}"
    if keyword == "const":
        return f"{quote(wanted)} was expected, got {quote(got)}"
    if keyword == "enum":
        return f"{quote(got)} is not one of {quote(wanted)}"
    if keyword == "format":
        return f"{quote(got)} does not match format {quote(wanted)}"
    if keyword == "required" and isinstance(got, dict) and isinstance(wanted, list):
        missing = [name for name in wanted if name not in got]
        return f"missing required propert{'y' if len(missing) == 1 else 'ies'} {', '.join(quote(m) for m in missing)}"
    if keyword == "additionalProperties" and wanted is False and isinstance(got, dict) and isinstance(error.schema, dict):
        if "patternProperties" in error.schema:
            return error.message
        extra = [name for name in got if name not in error.schema.get("properties", {})]
        return f"propert{'y' if len(extra) == 1 else 'ies'} not allowed: {', '.join(quote(name) for name in extra)}"
    # Other keywords: jsonschema quotes the instance and the keyword's value with repr(); say them in JSON.
    message = error.message
    for value in (got, wanted):
        if isinstance(value, bool | None | str | dict | list):
            message = message.replace(repr(value), quote(value))
    return message
