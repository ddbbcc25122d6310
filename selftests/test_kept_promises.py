"""Promises a review found broken (issue 29): no hang, no switched-off check, no unreported skip, no crash.

Each test fails on the code before the fix. The runs that used to hang run the suite in a subprocess
with a deadline (``run_suite``'s timeout), so a regression fails here instead of hanging CI.
Loopback only: an invalid URL fails before any network.
"""

from __future__ import annotations

import concurrent.futures
import json
import textwrap
import time
from pathlib import Path

import pytest

from smokeproof.errors import UsageError
from smokeproof.run import SmokeRun

from .probing import contracts, environment
from .servers import Route, Server, serve
from .suite import lay_out, outcomes, run_suite

DEADLINE_S = 90  # for a run that used to hang: far beyond what it takes, far below CI's own timeout

ADMIN_ENTRY = """\
[[endpoint]]
path = "/api/admin"
auth = "admin"
status = 200
"""


def suite(root: Path, env: str, entries: str = ADMIN_ENTRY, name: str = "env") -> str:
    """The repository's suite in ``root`` with an environment file ``name.toml`` and its contract file; its option."""
    lay_out(root)
    (root / "c.toml").write_text(entries)
    (root / f"{name}.toml").write_text(textwrap.dedent(env))
    return f"--env-file={root / f'{name}.toml'}"


# 1. A token request that fails with anything but the expected error: the run used to wait forever.


def test_a_login_url_typo_stops_the_run_at_load_naming_file_and_key(pytester: pytest.Pytester) -> None:
    option = suite(
        pytester.path,
        """\
        production = false
        base_url = "http://127.0.0.1:9"
        contracts = "c.toml"
        [auth.login.admin]
        url = "https://idp.example.com:44x/token"
        form = { username = "admin", password = "x" }
        """,
    )
    result = run_suite(pytester, option, "-m", "contracts", timeout=DEADLINE_S)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert "env.toml" in error and "key 'auth.login.admin': 'url': not a valid URL" in error and "'44x'" in error


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('[auth.login.admin]\npath = "/login"\njson = { since = 2024-01-01 }\n', "'json' holds a value JSON cannot carry"),
        ('[auth.oauth2.svc]\ntoken_url = "https://idp example/token"\nclient_id = "c"\nclient_secret = "s"\n', "no spaces"),
        ('[auth.oauth2.svc]\ntoken_url = "https://:8443/token"\nclient_id = "c"\nclient_secret = "s"\n', "names no host"),
    ],
    ids=["toml date in json", "space in token_url", "no host"],
)
def test_a_token_request_that_cannot_be_made_is_bad_input(tmp_path: Path, table: str, problem: str) -> None:
    with pytest.raises(UsageError, match="key 'auth") as caught:
        environment(tmp_path, "http://127.0.0.1:9", table)
    assert problem in str(caught.value) and str(tmp_path / "env.toml") in str(caught.value)


def test_a_token_request_that_fails_at_run_time_fails_its_checks_as_authentication_setup(pytester: pytest.Pytester) -> None:
    # A [start] target reports its own base_url, which no file validates: the login's URL is built from it at run time.
    (pytester.path / "target.py").write_text(
        "import json, sys\nprint(json.dumps({'base_url': 'http://127.0.0.1:44x'}), flush=True)\nsys.stdin.read()\n"
    )
    option = suite(
        pytester.path,
        """\
        production = false
        contracts = "c.toml"
        [start]
        command = ["{python}", "target.py"]
        [auth.login.admin]
        path = "/login"
        form = { username = "admin", password = "x" }
        """,
        ADMIN_ENTRY + '[[endpoint]]\nid = "admin again"\npath = "/api/admin"\nauth = "admin"\nstatus = 200\n',
    )
    result = run_suite(pytester, option, "-m", "contracts", timeout=DEADLINE_S)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    assert outcomes(result) == {"GET /api/admin -> 200": "failed", "admin again -> 200": "failed"}
    out = result.stdout.str().split("short test summary info")[0]
    line = "GET /api/admin -> 200: not sent: token 'admin': the request could not be made: InvalidURL: Invalid port: '44x'"
    assert line in out
    assert out.count("  category:\n    Authentication setup") == 2
    assert "Traceback" not in out


def test_a_request_whose_answer_never_comes_fails_its_check_at_the_bound(tmp_path: Path, public_api: Server) -> None:
    env = environment(tmp_path, public_api.url)
    (entry,) = contracts(tmp_path, '[[endpoint]]\npath = "/api/v1/public"\nstatus = 200\n', env)
    run = SmokeRun(env=env, contracts=(entry,), deadline=time.monotonic())  # --smoke-timeout, spent
    lost: concurrent.futures.Future[object] = concurrent.futures.Future()
    # Stands in for a request the run lost (a bug): no real server can leave a future unresolved.
    run.prober._futures[entry.test_id] = lost  # type: ignore[assignment]
    pool = concurrent.futures.ThreadPoolExecutor(1)  # before the fix this waited forever: the test is bounded
    try:
        verdict = pool.submit(run.wait_endpoint, entry).result(timeout=DEADLINE_S)
    finally:
        lost.cancel()  # releases a wait that did hang
        pool.shutdown()
        run.close()
    assert not verdict.ok
    assert "/api/v1/public: no answer: the run stopped waiting at its bound of 0 s (--smoke-timeout sets it)" in verdict.headline


# 2. A revision given but empty used to switch its check off.


@pytest.mark.parametrize(
    ("args", "variable", "message"),
    [
        (["--expected-revision="], None, "--expected-revision is given but empty"),
        (["--wait-for-revision="], None, "--wait-for-revision is given but empty"),
        ([], "SMOKEPROOF_EXPECTED_REVISION", "$SMOKEPROOF_EXPECTED_REVISION is set but empty"),
        ([], "SMOKEPROOF_WAIT_FOR_REVISION", "$SMOKEPROOF_WAIT_FOR_REVISION is set but empty"),
    ],
)
def test_a_revision_given_but_empty_stops_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str], variable: str | None, message: str
) -> None:
    if variable is not None:
        monkeypatch.setenv(variable, " ")
    env = 'production = false\nbase_url = "http://127.0.0.1:9"\ncontracts = "c.toml"\n[revision]\nurl = "/health"\n'
    result = run_suite(pytester, suite(pytester.path, env), "-m", "schema", *args, timeout=DEADLINE_S)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[revision]\nexpected = "${NEW_HEAD}"\n', r"\$\{NEW_HEAD\} is set but empty, and key 'revision.expected'"),
        ('[wait]\nrevision = "${NEW_HEAD}"\n', r"\$\{NEW_HEAD\} is set but empty, and key 'wait.revision'"),
        ('[revision]\nexpected = ""\n', r"key 'revision.expected': is empty"),
        ('[wait]\nrevision = " "\n', r"key 'wait.revision': is empty"),
    ],
)
def test_an_empty_revision_in_the_file_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, message: str
) -> None:
    monkeypatch.setenv("NEW_HEAD", "")
    with pytest.raises(UsageError, match=message):
        environment(tmp_path, "http://127.0.0.1:9", table)


# 3. A skip nothing reports: an index on a missing table was skipped even when no selected check reports the table.

SCHEMA = """\
[[table]]
name = "widgets"
columns = ["id"]
[[index]]
name = "ix_widgets_id"
table = "widgets"
[[index]]
name = "ix_gadgets_id"
table = "gadgets"
"""


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            [],
            {"table public.widgets": "failed", "index public.ix_widgets_id": "skipped", "index public.ix_gadgets_id": "failed"},
        ),
        (["-k", "ix_widgets"], {"index public.ix_widgets_id": "failed"}),
    ],
    ids=["table selected", "table deselected"],
)
def test_a_consequence_is_skipped_only_when_a_selected_check_reports_its_cause(
    pytester: pytest.Pytester, pg_url: str, selection: list[str], expected: dict[str, str]
) -> None:
    (pytester.path / "schema.toml").write_text(SCHEMA)
    env = f'production = false\nbase_url = "http://127.0.0.1:9"\ndatabase_url = "{pg_url}"\nschema = "schema.toml"\ncontracts = "c.toml"\n'
    result = run_suite(pytester, suite(pytester.path, env, entries=""), "-m", "schema", *selection, timeout=DEADLINE_S)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    rows = json.loads((pytester.path / "reports" / "summary.json").read_text())["rows"]
    assert {row["check"]: row["outcome"] for row in rows if row["check"] != "test_alembic_revision"} == expected
    out = result.stdout.str()
    assert "index public.ix_gadgets_id: missing (its table public.gadgets does not exist)" in out or len(expected) == 1
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert "❌ **not healthy**" in summary


def test_a_skip_for_a_fault_of_the_target_is_not_healthy() -> None:
    from smokeproof.reporting import summary

    rows = [
        summary.Row("index public.ix", "-", "its table is missing; reported once", "skipped", "Missing schema objects"),
        summary.Row("alembic revision", "-", "nowhere says where the code's head comes from", "skipped"),
    ]
    assert [row.ok for row in rows] == [False, True]
    assert "❌ **not healthy**" in summary.markdown(rows, {}, {"environment": "x"})


# 4. Secrets in test ids, in Allure's results and in the history file.


def test_a_variable_in_a_path_shows_by_name_in_the_id_and_encoded_values_are_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, public_api: Server
) -> None:
    tenant, key = "tenant-canary-7731", "key canary/8812+x"
    monkeypatch.setenv("TENANT", tenant)
    monkeypatch.setenv("QUERY_KEY", key)
    env = environment(tmp_path, public_api.url)
    entries = """\
    [[endpoint]]
    path = "/api/${TENANT}/items"
    query = { key = "${QUERY_KEY}", n = 1 }
    status = 200
    """
    (entry,) = contracts(tmp_path, entries, env)
    assert entry.test_id == "GET /api/${TENANT}/items -> 200"
    assert entry.feature == "${TENANT}" and repr(entry) == "EndpointContract('GET /api/${TENANT}/items -> 200')"
    with pytest.raises(UsageError, match=r"duplicate id 'GET /api/\$\{TENANT\}/items -> 200'") as caught:
        contracts(tmp_path, entries + entries, env)
    assert tenant not in str(caught.value)
    run = SmokeRun(env=env, contracts=(entry,))
    run.select((entry,))
    try:
        verdict = run.wait_endpoint(entry)  # the server answers 404: the failure quotes the URL it asked
    finally:
        run.close()
    text = str(verdict.failure()) + "".join(a.body for a in verdict.attachments)
    assert "?key=***&n=1" in text
    assert [s for s in (tenant, key, "key+canary%2F8812%2Bx", "key%20canary%2F8812%2Bx") if s in text] == []


def test_allure_results_and_the_history_file_are_scrubbed(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    password, key = "canary-pw-4417", "canary-key-2291"
    monkeypatch.setenv("BASE_PASSWORD", password)
    monkeypatch.setenv("HEALTH_KEY", key)
    entries = '[[endpoint]]\npath = "/api/ping"\nstatus = 200\n'
    with serve(Server(routes={"/health": Route(body='{"rev": "old"}'), "/api/ping": Route()})) as server:
        host = server.url.removeprefix("http://")
        env = f"""\
        production = false
        base_url = "http://smoke:${{BASE_PASSWORD}}@{host}"
        contracts = "c.toml"
        [revision]
        url = "/health?key=${{HEALTH_KEY}}"
        json_pointer = "/rev"
        [wait]
        timeout_s = 0.5
        interval_s = 0.1
        """
        option = suite(pytester.path, env, entries)
        result = run_suite(pytester, option, "-m", "contracts", "--wait-for-revision=new", timeout=DEADLINE_S)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    reports = pytester.path / "reports"
    results = list((reports / "allure-results").glob("*-result.json"))
    assert results and all("the deploy did not converge" in r.read_text() for r in results)
    history = next((reports / "history").glob("*/last-run.json"))
    assert "/health?key=*** at /rev" in json.loads(history.read_text())["header"]["expected revision from"]
    leaked = [
        f"{file.relative_to(pytester.path)}: {secret}"
        for file in reports.rglob("*")
        if file.is_file()
        for secret in (password, key)
        if secret in file.read_text(errors="replace")
    ]
    assert leaked == []


# 5. Redaction that crashed the run: a secret in a skip's location or reason.


def test_a_secret_in_a_skip_reason_is_masked_without_an_internal_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, incident_target: object
) -> None:
    from .suite import DemoTarget

    assert isinstance(incident_target, DemoTarget)
    lay_out(pytester.path)
    monkeypatch.setenv("V", "smokeproof")  # in every skip's location: .../smokeproof/pytest_plugin/hooks.py
    env = incident_target.env_file(pytester.path, extra='[http]\nheaders = { "X-Client" = "${V}" }\n')
    monkeypatch.setenv("DEMO_USER_TOKEN", incident_target.env["DEMO_USER_TOKEN"])
    monkeypatch.setenv("DEMO_ADMIN_TOKEN", incident_target.env["DEMO_ADMIN_TOKEN"])
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts", timeout=DEADLINE_S)
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out[-3000:]
    assert "INTERNALERROR" not in out + result.stderr.str()
    assert "SKIPPED [" in out  # pytest's -ra line for a skip, from its (path, line, reason) tuple
    junit = (pytester.path / "reports" / "junit.xml").read_text()
    cases = junit.split("<testcase", 1)[1]  # the suite's own name says smokeproof: that is not the secret
    assert "<skipped" in cases and "smokeproof" not in cases


# 6. Short ${VAR} values: never scrubbed from free text before. A credential's is masked however short, any
# other from 4 characters on; below 8 characters only as a whole word, so ordinary text stays readable.


def test_short_values_are_masked_as_whole_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "pw1")  # a credential: masked however short
    monkeypatch.setenv("REGION", "prod")  # no credential, 4 characters: masked as a whole word
    monkeypatch.setenv("FLAG", "1")  # no credential and too short: masking it would take every "1" out of every message
    env = environment(
        tmp_path,
        "http://127.0.0.1:9",
        """\
        [http]
        headers = { "X-Region" = "${REGION}", "X-Flag" = "${FLAG}" }
        [auth.login.admin]
        path = "/login"
        form = { username = "admin", password = "${ADMIN_PASSWORD}" }
        """,
    )
    redact = env.redactor
    assert redact("POST a:pw1@host, password pw1.") == "POST a:***@host, password ***."
    assert redact("?q=a%2Fpw1&next=pw1") == "?q=a%2F***&next=***"  # an escape ends a word too
    assert redact("pw12 and xpw1 are other words") == "pw12 and xpw1 are other words"
    assert redact("--env=prod (production), prod-db, ?r=prod&x=1") == "--env=*** (production), ***-db, ?r=***&x=1"
    assert redact("1 migration pending, expected 401") == "1 migration pending, expected 401"
