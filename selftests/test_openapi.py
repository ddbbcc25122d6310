"""OpenAPI documents into endpoint contracts (``smokeproof init``): what becomes a check, and how.

The FastAPI self-test app covers a real 3.1 document end to end (test_init.py); these cover what a
FastAPI document does not show: OpenAPI 3.0's ``nullable``, recursive schemas, optional security,
a relative server URL, required query parameters, and a ``$ref`` that points nowhere; and how the
differences from such a schema are written (JSON, redacted before cut).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smokeproof.cli.main import main
from smokeproof.cli.openapi import fetch, operations
from smokeproof.config.secrets import Redactor
from smokeproof.errors import UsageError
from smokeproof.http.contracts import EndpointContract
from smokeproof.http.json_body import problems

from .servers import refused_url

NODE = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "nullable": True, "description": "a property named like an annotation stays"},
        "count": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "default": None},
        "kind": {"enum": ["leaf", None]},
        "child": {"$ref": "#/components/schemas/Node"},
    },
}
DOCUMENT = {
    "openapi": "3.0.3",
    "servers": [{"url": "/api"}],
    "security": [{"bearer": []}],
    "paths": {
        "/nodes": {"get": {"security": [], "responses": {"200": {"$ref": "#/components/responses/Nodes"}}}},
        "/me": {"get": {"responses": {"200": {"description": "you"}}}},
        "/maybe-me": {"get": {"security": [{"bearer": []}, {}], "responses": {"204": {"description": "ok"}}}},
        "/search": {
            "get": {
                "security": [],
                "parameters": [{"name": "q", "in": "query", "required": True}],
                "responses": {"200": {"description": "hits"}},
            }
        },
        "/nodes/{id}": {"parameters": [{"name": "id", "in": "path", "required": True}], "delete": {"responses": {}}},
    },
    "components": {
        "schemas": {"Node": NODE},
        "responses": {
            "Nodes": {
                "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
            }
        },
    },
}


def by_path(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {f"{op.method} {op.path}": {**op.fields, "reason": op.reason} for op in operations(document)}


def test_what_becomes_a_contract_and_what_is_written_commented_out() -> None:
    found = by_path(DOCUMENT)
    assert set(found) == {"GET /api/nodes", "GET /api/me", "GET /api/maybe-me", "GET /api/search", "DELETE /api/nodes/{id}"}
    assert found["GET /api/me"] == {"path": "/api/me", "status": 401, "reason": None}  # the document-wide security
    assert found["GET /api/maybe-me"]["status"] == 204  # {} in its security: anonymous callers are served
    assert found["GET /api/search"]["reason"] == "needs q (query): add query = { ... } or headers = { ... }"
    assert "DELETE is not sent" in str(found["DELETE /api/nodes/{id}"]["reason"])


def test_the_response_schema_is_resolved_and_means_what_the_document_says() -> None:
    nodes = by_path(DOCUMENT)["GET /api/nodes"]
    schema = nodes["json_schema"]
    assert isinstance(schema, dict)
    node = schema["items"]
    assert node["properties"]["title"] == {"type": ["string", "null"]}  # 3.0 nullable; the description is gone
    assert node["properties"]["count"] == {"type": "integer", "exclusiveMinimum": 0}  # 3.0's boolean flag
    assert node["properties"]["kind"] == {"anyOf": [{"enum": ["leaf"]}, {"type": "null"}]}  # TOML has no null
    assert node["properties"]["child"] == {}  # the recursion stops at the cycle
    EndpointContract.model_validate({"path": "/api/nodes", "status": 200, "json_schema": schema})
    assert problems(schema, [{"title": None, "count": 1, "kind": None, "child": {"x": 1}}]) == []
    assert problems(schema, [{"title": 3, "count": 0}]) == [
        "body at /0/count: 0 is less than or equal to the minimum of 0",
        "body at /0/title: 3 is not of type string or null",
    ]


def test_documents_that_cannot_be_read_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("openapi: 3.1.0\n")
    (tmp_path / "swagger.json").write_text(json.dumps({"swagger": "2.0", "paths": {}}))
    for name, problem in [("spec.yaml", "is not JSON"), ("swagger.json", "is not an OpenAPI 3 document")]:
        with pytest.raises(UsageError, match=problem):
            fetch(str(tmp_path / name))
    broken = {**DOCUMENT, "paths": {"/x": {"$ref": "other.json#/paths/x"}}}
    with pytest.raises(UsageError, match=r"/x: a \$ref cannot be resolved"):
        operations(broken)


def test_an_unreachable_document_is_one_line_exit_1_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = refused_url().replace("http://", "http://probe:pw-canary-19@") + "/openapi.json"
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--env=x", f"--base-url={refused_url()}", f"--openapi={url}", f"--dir={tmp_path}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smokeproof init: target unreachable: GET http://probe:***@127.0.0.1:") and "pw-canary-19" not in err
    assert len(err.splitlines()) == 1 and not any(tmp_path.iterdir())


def test_a_value_quoted_from_the_body_is_redacted_whole_before_it_is_cut() -> None:
    """A 200-character token cut to 80 first would leave 80 characters of it for the redactor to miss."""
    token = "tok-" + "k" * 200
    [line] = problems({"properties": {"t": {"type": "integer"}}}, {"t": token}, redact=Redactor([token]))
    assert line == 'body at /t: "***" is not of type integer'
