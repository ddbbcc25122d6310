"""Environment files: loading, ${VAR} substitution, and every way one can be wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from smokeproof.config.environment import available, load, resolve_file
from smokeproof.config.secrets import MASK, Secret
from smokeproof.errors import UsageError

from .suite import REPO, lay_out, run_suite

BASE = 'base_url = "http://127.0.0.1:9"\n'


def write(tmp_path: Path, text: str, name: str = "env.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load_text(tmp_path: Path, text: str, environ: dict[str, str] | None = None):
    path = write(tmp_path, text)
    return load(path, name="t", rootdir=REPO, environ=environ or {})


def error_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        load_text(tmp_path, text, environ)
    return str(caught.value)


def test_defaults_are_safe(tmp_path: Path) -> None:
    env = load_text(tmp_path, BASE)
    assert env.production is True
    assert env.http.timeout_s == 10
    assert env.contracts == REPO / "tests" / "contracts" / "endpoints.toml"
    assert env.schema == REPO / "tests" / "schema" / "schema.toml"
    assert "(production)" in env.header_line()
    assert "http://127.0.0.1:9" in env.header_line()


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "mine.toml").write_text("")
    env = load_text(tmp_path, BASE + 'contracts = "contracts/mine.toml"\n')
    assert env.contracts == tmp_path / "contracts" / "mine.toml"


def test_variables_are_substituted_and_wrapped_as_secrets(tmp_path: Path) -> None:
    env = load_text(
        tmp_path,
        BASE
        + """
        database_url = "postgresql://app:${DB_PASSWORD}@127.0.0.1:5/app"
        [auth]
        bearer_token = "${TOKEN}"
        [http]
        headers = { "X-Api-Key" = "${API_KEY}", "User-Agent" = "smokeproof" }
        """,
        {"DB_PASSWORD": "hunter2-canary", "TOKEN": "tok-canary-123", "API_KEY": "key-canary-456"},
    )
    assert isinstance(env.database_url, Secret)
    assert "hunter2-canary" not in repr(env) and "tok-canary-123" not in repr(env)
    assert env.tokens.static["bearer"].reveal() == "tok-canary-123"
    assert dict(env.headers)["User-Agent"] == "smokeproof"
    assert isinstance(dict(env.headers)["X-Api-Key"], Secret)
    scrubbed = env.redactor("postgresql://app:" + "hunter2-canary" + "@host key-canary-456 tok-canary-123")
    assert "canary" not in scrubbed
    assert env.masked_database_url() == "postgresql://app:" + MASK + "@127.0.0.1:5/app"


def test_a_base_url_from_a_variable_is_shown_its_password_is_not(tmp_path: Path) -> None:
    """An address is not a secret: ``at ***`` and ``GET ***/api/v1/...`` tell nobody which deployment failed."""
    env = load_text(
        tmp_path,
        'base_url = "${SERVICE_URL}"\n[auth]\nbearer_token = "${TOKEN}"\n',
        {"SERVICE_URL": "https://api.internal.example:8443", "TOKEN": "tok-canary-123"},
    )
    assert "at https://api.internal.example:8443 " in env.header_line()
    assert (
        env.redactor("GET https://api.internal.example:8443/me with tok-canary-123")
        == "GET https://api.internal.example:8443/me with ***"
    )
    with_password = load_text(
        tmp_path, 'base_url = "${SERVICE_URL}"\n', {"SERVICE_URL": "https://probe:pw-canary-77@api.example"}
    )
    assert "pw-canary-77" not in with_password.header_line() and "api.example" in with_password.header_line()


def test_escaped_variable_is_literal(tmp_path: Path) -> None:
    env = load_text(tmp_path, BASE + '[http]\nheaders = { "X-Template" = "$${NOT_A_VAR}" }\n')
    assert dict(env.headers)["X-Template"] == "${NOT_A_VAR}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(BASE + 'database_url = "${NOPE_UNSET}"\n', "environment variable ${NOPE_UNSET} is not set", id="unset-var"),
        pytest.param(BASE + "bogus = 1\n", "unknown key 'bogus'", id="unknown-key"),
        pytest.param(BASE + "[http]\ntimeout_s = 'soon'\n", "key 'http.timeout_s'", id="wrong-type"),
        pytest.param(BASE + "[http]\nconcurrency = 0\n", "key 'http.concurrency'", id="out-of-range"),
        pytest.param(BASE + "[htp]\ntimeout_s = 1\n", "unknown key 'htp'", id="unknown-table"),
        pytest.param(
            BASE + '[http]\nheaders = { "X-Team" = "\u00e9quipe" }\n',
            "key 'http.headers.X-Team': HTTP header",
            id="non-ascii-header",
        ),
        pytest.param(BASE + "production = 'no'\n", "key 'production'", id="bool-as-string"),
        pytest.param('base_url = "ftp://x"\n', "must start with http:// or https://", id="bad-url"),
        pytest.param("production = false\n", "set 'base_url'", id="no-target"),
        pytest.param(BASE + 'contracts = "missing.toml"\n', "missing.toml, which does not exist", id="missing-path"),
        pytest.param(BASE + "[revision\n", "invalid TOML", id="invalid-toml"),
        pytest.param(BASE + 'database_url = "mysql://x"\n', "postgresql:// URL", id="bad-database-url"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert str(tmp_path / "env.toml") in message
    assert expected in message


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(UsageError, match="cannot read the file"):
        load(path, name="t", rootdir=REPO, environ={})


def test_unknown_environment_lists_the_ones_that_exist() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_file(rootdir=REPO, name="nope", file=None)
    assert "unknown environment 'nope'" in str(caught.value)
    for name in ("demo", "demo-incident", "prod", "staging"):
        assert name in str(caught.value)
    assert {"demo", "demo-incident"} <= set(available(REPO))


@pytest.mark.parametrize("name", ["prod", "staging"])
def test_real_deployments_parse(name: str) -> None:
    """Parsed only: these describe the team's real deployments and are never run here."""
    path = REPO / "environments" / f"{name}.toml"
    env = load(
        path,
        name=name,
        rootdir=REPO,
        environ={
            # Passwords never appear in the repository, not even in tests: built from parts.
            "PROD_DATABASE_URL": "postgresql://u:" + "p-canary" + "@h/db",
            "SMOKE_TOKEN": "t",
            "STAGING_DATABASE_URL": "postgresql://h/db",
            "STAGING_SMOKE_TOKEN": "t",
        },
    )
    assert env.production is True
    assert env.base_url is not None and env.base_url.startswith("https://")


def test_cli_unknown_environment_exits_4(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    result = run_suite(pytester, "--env=nope")
    assert result.ret == 4
    err = result.stderr.str()
    assert "unknown environment 'nope'" in err and "demo, demo-incident" in err
    assert "Traceback" not in err + result.stdout.str()


def test_cli_broken_file_exits_4_naming_it(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    broken = write(pytester.path, BASE + "[http]\ntimeout_s = -1\n", "broken.toml")
    result = run_suite(pytester, f"--env-file={broken}")
    assert result.ret == 4
    assert f"{broken}: key 'http.timeout_s'" in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_ci_without_an_environment_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    lay_out(pytester.path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("SMOKEPROOF_ENV", raising=False)
    result = run_suite(pytester)
    assert result.ret == 4
    assert "no environment was named" in result.stderr.str()
