"""The contract file: what it accepts, and a clear error for everything it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from smokeproof.config.secrets import Redactor
from smokeproof.errors import UsageError
from smokeproof.http.contracts import load_contracts


def load(tmp_path: Path, text: str, *, env: str = "demo", production: bool = False):
    path = tmp_path / "endpoints.toml"
    path.write_text(text)
    return load_contracts(path, env_name=env, production=production, redactor=Redactor())


def error(tmp_path: Path, text: str, **kwargs: object) -> str:
    with pytest.raises(UsageError) as caught:
        load(tmp_path, text, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert str(tmp_path / "endpoints.toml") in message
    return message


@pytest.mark.parametrize(
    ("path", "feature"),
    [
        ("/api/v1/vendors/list", "vendors"),
        ("/api/videos", "videos"),
        ("/v2/auth/me", "auth"),
        ("/api/v10/validate", "validate"),
        ("/api/v1", "/"),
    ],
)
def test_feature_skips_only_version_segments(tmp_path: Path, path: str, feature: str) -> None:
    (entry,) = load(tmp_path, f'[[endpoint]]\npath = "{path}"\nstatus = 200\n')
    assert entry.feature == feature


def test_ids_read_as_the_contract(tmp_path: Path) -> None:
    entries = load(
        tmp_path,
        """
[[endpoint]]
path = "/api/v1/auth/me"
status = 401
[[endpoint]]
id = "GET /api/v1/admin/feature-flags as analyst"
path = "/api/v1/admin/feature-flags"
status = [401, 403]
severity = "blocker"
""",
    )
    assert [e.test_id for e in entries] == ["GET /api/v1/auth/me -> 401", "GET /api/v1/admin/feature-flags as analyst -> 401/403"]
    assert entries[1].severity == "blocker" and entries[0].severity == "normal"
    assert entries[0].feature == "auth" and entries[1].feature == "admin"


def test_only_selects_environments(tmp_path: Path) -> None:
    text = '[[endpoint]]\npath = "/a"\nstatus = 200\nonly = ["prod"]\n[[endpoint]]\npath = "/b"\nstatus = 200\n'
    assert [e.path for e in load(tmp_path, text, env="demo")] == ["/b"]
    assert [e.path for e in load(tmp_path, text, env="prod", production=True)] == ["/a", "/b"]


def test_fuzzable_means_rejects_anonymous_callers(tmp_path: Path) -> None:
    entries = load(
        tmp_path,
        """
[[endpoint]]
path = "/me"
status = 401
[[endpoint]]
path = "/off"
status = 401
fuzz = false
[[endpoint]]
path = "/public"
status = 200
[[endpoint]]
path = "/with-token"
status = 403
auth = "bearer"
""",
    )
    assert [e.path for e in entries if e.fuzzable] == ["/me"]


def test_production_refuses_unsafe_methods_at_load_time(tmp_path: Path) -> None:
    text = '[[endpoint]]\npath = "/api/v1/auth/emergency/create-user-application-access-table"\nmethod = "POST"\nstatus = 404\n'
    message = error(tmp_path, text, env="prod", production=True)
    assert "POST is not sent to a production environment (prod)" in message and "[[endpoint]] #1" in message
    assert load(tmp_path, text, env="demo", production=False)[0].method == "POST"
    allowed = text + "allow_in_production = true\n"
    assert load(tmp_path, allowed, env="prod", production=True)[0].allow_in_production


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('[[endpoint]]\npath = "/a"\nstatus = 99\n', "key 'status.0'", id="status-too-low"),
        pytest.param('[[endpoint]]\npath = "/a"\nstatus = "abc"\n', "key 'status'", id="status-not-a-number"),
        pytest.param('[[endpoint]]\npath = "/a"\nstatus = []\n', "at least one status", id="status-empty"),
        pytest.param('[[endpoint]]\npath = "/a"\nstatus = 200\nstatsu = 1\n', "unknown key 'statsu'", id="unknown-key"),
        pytest.param('[[endpoint]]\npath = "a"\nstatus = 200\n', "must start with '/'", id="relative-path"),
        pytest.param('[[endpoint]]\npath = "/a"\nstatus = 200\nmethod = "FETCH"\n', "unknown method", id="bad-method"),
        pytest.param('[[endpoint]]\npath = "/a"\nstatus = 200\nseverity = "huge"\n', "key 'severity'", id="bad-severity"),
        pytest.param(
            '[[endpoint]]\npath = "/a"\nstatus = 200\njson_schema = { type = "objekt" }\n',
            "invalid JSON Schema",
            id="invalid-json-schema",
        ),
        pytest.param(
            '[[endpoint]]\npath = "/a"\nstatus = 200\n[[endpoint]]\npath = "/a"\nstatus = 200\n', "duplicate id", id="duplicate"
        ),
        pytest.param(
            '[[endpoint]]\npath = "/a"\nstatus = 200\nheaders = { X = "${UNSET_CANARY_VAR}" }\n',
            "${UNSET_CANARY_VAR} is not set",
            id="unset-variable",
        ),
        pytest.param(
            '[[endpoint]]\npath = "/a"\nstatus = 200\nheaders = { "X-Name" = "Zo\u00eb" }\n',
            "key 'headers.X-Name': HTTP header names and values must be ASCII",
            id="non-ascii-header",
        ),
        pytest.param("[[endpoint]\n", "invalid TOML", id="invalid-toml"),
        pytest.param("endpoints = 1\n", "unknown key 'endpoints'", id="unknown-top-level"),
    ],
)
def test_bad_entries_name_the_file_and_the_entry(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error(tmp_path, text)


def test_the_repository_contract_file_loads() -> None:
    from .suite import REPO

    entries = load_contracts(REPO / "tests/contracts/endpoints.toml", env_name="demo", production=False, redactor=Redactor())
    ids = {e.test_id for e in entries}
    assert "GET /api/v1/auth/me -> 401" in ids
    assert "GET /api/v1/auth/emergency/create-user-application-access-table -> 404" in ids
