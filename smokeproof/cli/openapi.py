"""An OpenAPI document turned into endpoint contracts (``smokeproof init``).

Every GET operation without path parameters becomes a contract an anonymous request can check:
401 when the operation declares security, otherwise its documented 2xx with content type and the
response's JSON Schema (``$ref``s resolved by ``referencing``, annotations such as ``title`` and
``default`` left out). Everything else is written commented out, with the reason: a path parameter
needs a real value, a POST changes state, a required query parameter needs a value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pydantic
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from smokeproof.config.secrets import mask_url
from smokeproof.config.tables import HttpTable
from smokeproof.config.tomlwrite import literal
from smokeproof.errors import TargetUnreachable, UsageError
from smokeproof.http import policy
from smokeproof.http.contracts import EndpointContract

METHODS = ("get", "head", "options", "post", "put", "patch", "delete", "trace")
BASE = "urn:smokeproof:openapi"
# Schema keywords that describe rather than constrain: left out of the contract.
ANNOTATIONS = frozenset(
    {"title", "description", "default", "example", "examples", "deprecated", "readOnly", "writeOnly", "xml"}
    | {"externalDocs", "discriminator", "$comment", "nullable", "$schema", "$id"}
)
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_ONE = ("not", "additionalProperties", "contains", "if", "then", "else", "propertyNames")
SCHEMA_ONE_MORE = ("unevaluatedProperties", "unevaluatedItems", "additionalItems", "items")
JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


@dataclass
class Operation:
    """One operation's contract entry; ``reason`` set when it is written commented out."""

    method: str
    path: str
    fields: dict[str, Any]
    reason: str | None = None
    secured: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def fetch(source: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """The document at ``source``: an http(s) URL (GET, on the suite's HTTP policy: no redirects, no proxy) or a file path."""
    if source.startswith(("http://", "https://")):
        try:
            with policy.blocking_client(HttpTable(timeout_s=timeout_s, connect_timeout_s=min(timeout_s, 5.0))) as client:
                answer = client.get(source)
        except httpx.HTTPError as exc:
            raise TargetUnreachable(f"GET {mask_url(source)}: {exc.__class__.__name__}: {exc}") from None
        if answer.status_code != 200:
            raise UsageError(f"--openapi: GET {mask_url(source)} answered {answer.status_code}, not the OpenAPI document")
        text, where = answer.text, mask_url(source)
    else:
        path = Path(source).expanduser()
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise UsageError(f"--openapi: cannot read {path} ({exc.__class__.__name__})") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise UsageError(f"--openapi: {where} is not JSON (write the document as JSON: FastAPI serves /openapi.json)") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3.") or "paths" not in document:
        raise UsageError(f"--openapi: {where} is not an OpenAPI 3 document (no 'openapi: 3.x' and 'paths')")
    return document


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of ``document`` as a contract entry, in the document's order."""
    resolver = Registry().with_resource(BASE, Resource.from_contents(document, default_specification=DRAFT202012)).resolver(BASE)
    legacy = str(document.get("openapi", "")).startswith("3.0")
    prefix = _server_prefix(document)
    found: list[Operation] = []
    for path, item in document.get("paths", {}).items():
        try:
            item = _deref(item, resolver)
            shared = item.get("parameters", [])
            for method in (m for m in METHODS if m in item):
                op = _deref(item[method], resolver)
                found.append(_operation(document, method, prefix + path, op, shared, resolver, legacy=legacy))
        except Unresolvable as exc:
            raise UsageError(f"--openapi: {path}: a $ref cannot be resolved ({exc})") from None
    return found


def _operation(
    document: dict[str, Any], method: str, path: str, op: dict[str, Any], shared: list[Any], resolver: Any, *, legacy: bool
) -> Operation:
    params = [_deref(p, resolver) for p in [*shared, *op.get("parameters", [])]]
    requirements = op.get("security", document.get("security", []))
    secured = bool(requirements) and {} not in requirements
    fields: dict[str, Any] = {"path": path}
    if method != "get":
        fields["method"] = method.upper()
    entry = Operation(method.upper(), path, fields, secured=secured)
    needs = [p["name"] for p in params if p.get("in") == "path"]
    if method != "get":
        entry.reason = f"{method.upper()} is not sent by a smoke check unless you write it (it may change state)"
        if path in _password_token_urls(document):
            entry.reason = "the OAuth2 password login: give it to [auth.login.NAME] instead (README: Adopt it for your service)"
    elif needs:
        entry.reason = f"needs a real value for {', '.join('{' + n + '}' for n in needs)} in 'path'"
    elif required := [f"{p['name']} ({p.get('in')})" for p in params if p.get("required") and p.get("in") != "path"]:
        entry.reason = f"needs {', '.join(required)}: add query = {{ ... }} or headers = {{ ... }}"
    if secured:
        fields["status"] = 401
        entry.extra = _success(op, resolver, legacy=legacy, with_schema=False)[0]
        return entry
    success, problem = _success(op, resolver, legacy=legacy, with_schema=entry.reason is None)
    fields.update(success)
    entry.reason = entry.reason or problem
    if entry.reason is None:
        try:
            EndpointContract.model_validate(fields)
            literal(fields)  # TOML has no null: a schema that still holds one cannot be written
        except pydantic.ValidationError as exc:
            fields.pop("json_schema", None)
            entry.reason = f"its response schema is not one a contract takes ({exc.errors()[0]['msg'][:120]})"
        except (TypeError, ValueError):
            fields.pop("json_schema", None)
            entry.reason = "its response schema holds a value TOML cannot write (null): write the schema by hand"
    return entry


def _success(op: dict[str, Any], resolver: Any, *, legacy: bool, with_schema: bool) -> tuple[dict[str, Any], str | None]:
    """The documented 2xx status, content type and schema, or why there is none."""
    responses = {str(code): _deref(answer, resolver) for code, answer in op.get("responses", {}).items()}
    codes = sorted(c for c in responses if re.fullmatch(r"2\d\d", c)) or (["200"] if "2XX" in responses else [])
    if not codes:
        return {"status": 200}, "documents no 2xx answer"
    code = codes[0]
    fields: dict[str, Any] = {"status": int(code)}
    content = responses.get(code, responses.get("2XX", {})).get("content", {})
    media = next((m for m in content if JSON_MEDIA.match(m)), next(iter(content), None))
    if media is None:
        return fields, None
    fields["content_type"] = media
    schema = content[media].get("schema")
    if with_schema and schema is not None and JSON_MEDIA.match(media):
        try:
            fields["json_schema"] = contract_schema(schema, resolver, legacy=legacy)
        except Unresolvable as exc:
            return fields, f"its response schema has a $ref that cannot be resolved ({exc})"
    return fields, None


def contract_schema(schema: Any, resolver: Any, *, legacy: bool = False, seen: tuple[str, ...] = ()) -> Any:
    """``schema`` with every ``$ref`` inlined (a recursive one becomes ``{}``) and annotations left out.

    OpenAPI 3.0's ``nullable`` becomes a ``null`` type; a ``null`` in ``const`` or ``enum`` (which
    TOML cannot write) becomes ``{type = "null"}``.
    """
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return {}
        resolved = resolver.lookup(ref)
        return contract_schema(resolved.contents, resolved.resolver, legacy=legacy, seen=(*seen, ref))
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: contract_schema(v, resolver, legacy=legacy, seen=seen) for name, v in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [contract_schema(v, resolver, legacy=legacy, seen=seen) for v in value]
        elif key in SCHEMA_ONE or key in SCHEMA_ONE_MORE:
            out[key] = contract_schema(value, resolver, legacy=legacy, seen=seen)
        else:
            out[key] = value
    return _nulls(out, legacy=legacy, nullable=legacy and schema.get("nullable") is True)


def _nulls(schema: dict[str, Any], *, legacy: bool, nullable: bool) -> dict[str, Any]:
    if nullable and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if legacy:
        for bound in ("exclusiveMinimum", "exclusiveMaximum"):  # 3.0: a flag on minimum/maximum
            if schema.get(bound) is True:
                schema[bound] = schema.pop(bound.replace("exclusiveM", "m"))
            elif schema.get(bound) is False:
                del schema[bound]
    if "const" in schema and schema["const"] is None:
        del schema["const"]
        schema = {"allOf": [schema, {"type": "null"}]} if schema else {"type": "null"}
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        values = [v for v in schema.pop("enum") if v is not None]
        schema = {"anyOf": [{**schema, "enum": values}, {"type": "null"}]} if values else {"type": "null"}
    return schema


def _deref(value: Any, resolver: Any) -> Any:
    while isinstance(value, dict) and "$ref" in value:
        resolved = resolver.lookup(value["$ref"])
        value, resolver = resolved.contents, resolved.resolver
    return value


def _server_prefix(document: dict[str, Any]) -> str:
    """A relative first server URL (``/api``) prefixes every path; an absolute one is base_url's business."""
    servers = document.get("servers") or [{}]
    url = str(servers[0].get("url", "")) if isinstance(servers[0], dict) else ""
    return url.rstrip("/") if url.startswith("/") else ""


def _password_token_urls(document: dict[str, Any]) -> set[str]:
    schemes = document.get("components", {}).get("securitySchemes", {})
    return {
        "/" + str(s["flows"]["password"]["tokenUrl"]).lstrip("/")
        for s in schemes.values()
        if isinstance(s, dict) and isinstance(s.get("flows"), dict) and "tokenUrl" in s["flows"].get("password", {})
    }


def password_token_url(document: dict[str, Any]) -> str | None:
    """The OAuth2 password flow's token URL, if the document declares one (for [auth.login])."""
    urls = sorted(_password_token_urls(document))
    return urls[0] if urls else None
