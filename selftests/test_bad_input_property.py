"""Generated TOML documents fed to the loaders: a loaded object or the project's own usage error.

Anything else (a KeyError, a TypeError, a pydantic traceback) would reach a user as a traceback
in the middle of a deploy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smokeproof.config.environment import load
from smokeproof.config.secrets import Redactor
from smokeproof.errors import UsageError
from smokeproof.http.contracts import load_contracts

from .suite import REPO

ENV_KEYS = ["description", "production", "base_url", "database_url", "contracts", "schema", "bogus"]
TABLES = {
    "http": ["timeout_s", "connect_timeout_s", "concurrency", "verify_tls", "max_ms", "headers", "retries", "typo"],
    "auth": ["bearer_token", "tokens"],
    "database": ["schemas", "statement_timeout_ms", "connect_timeout_s"],
    "revision": ["expected", "migrations", "url", "json_pointer"],
    "fuzz": ["max_examples", "max_rate_per_s"],
    "start": ["command", "cwd", "ready_timeout_s", "tokens"],
}
ENDPOINT_KEYS = [
    "path",
    "status",
    "method",
    "id",
    "severity",
    "query",
    "headers",
    "max_ms",
    "content_type",
    "json_schema",
    "body_contains",
    "auth",
    "only",
    "fuzz",
    "allow_in_production",
    "nope",
]

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "",
            "/api/v1/x",
            "http://127.0.0.1:1",
            "postgresql://u:${DB_PASSWORD}@127.0.0.1/db",
            "${UNSET_VAR}",
            "GET",
            "POST",
            "critical",
            "..",
            "object",
            "200",
        ]
    ),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["type", "a", "b"]), inner, max_size=3)),
    max_leaves=6,
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"


@st.composite
def environment_documents(draw: st.DrawFn) -> str:
    lines = [f"{k} = {toml_value(draw(values))}" for k in draw(st.lists(st.sampled_from(ENV_KEYS), unique=True))]
    for table in draw(st.lists(st.sampled_from(sorted(TABLES)), unique=True, max_size=3)):
        lines.append(f"[{table}]")
        keys = draw(st.lists(st.sampled_from(TABLES[table]), unique=True, max_size=3))
        lines += [f"{k} = {toml_value(draw(values))}" for k in keys]
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["[broken", "x = ", "= 1", "a = 'unterminated"])))
    return "\n".join(lines) + "\n"


@st.composite
def contract_documents(draw: st.DrawFn) -> str:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        out.append("[[endpoint]]")
        keys = draw(st.lists(st.sampled_from(ENDPOINT_KEYS), unique=True, max_size=5))
        out += [f"{k} = {toml_value(draw(values))}" for k in keys]
    return "\n".join(out) + "\n"


SETTINGS = settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(environment_documents())
def test_environment_loader_gives_an_environment_or_a_usage_error(document: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.toml"
        path.write_text(document)
        try:
            env = load(path, name="generated", rootdir=REPO, environ={"DB_PASSWORD": "generated"})
        except UsageError as exc:
            assert str(path) in str(exc)
        else:
            assert env.name == "generated"


@SETTINGS
@given(contract_documents(), st.booleans())
def test_contract_loader_gives_contracts_or_a_usage_error(document: str, production: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "endpoints.toml"
        path.write_text(document)
        try:
            contracts = load_contracts(path, env_name="generated", production=production, redactor=Redactor())
        except UsageError as exc:
            assert str(path) in str(exc)
        else:
            assert all(c.test_id for c in contracts)
