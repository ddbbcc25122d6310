"""Reports as QA and the CI stage read them, after the incident and then the fix."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smokeproof.cli.main import THIRD_PARTY, strip_trackers
from smokeproof.pytest_plugin.activation import PARAMETERS
from smokeproof.reporting import allure_files, summary
from smokeproof.verdict import Area, Category, Verdict

from .servers import Route, Server, serve
from .suite import REPO, DemoTarget, lay_out, run_suite

AUTH_ENDPOINTS = ["GET /api/v1/auth/session/check -> 401", "GET /api/v1/auth/auth0-url -> 200", "GET /api/v1/auth/me -> 401"]


def results(root: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in (root / "reports" / "allure-results").glob("*-result.json")]


def labels(result: dict[str, object]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label in result["labels"]:  # type: ignore[attr-defined]
        found.setdefault(label["name"], []).append(label["value"])
    return found


@pytest.mark.slow
def test_incident_then_fix_in_the_same_reports_folder(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, incident_target: DemoTarget, healthy_target: DemoTarget
) -> None:
    lay_out(pytester.path)
    for name, target in (("incident", incident_target), ("healthy", healthy_target)):
        for key, value in target.env.items():
            monkeypatch.setenv(key, value)
        target.env_file(pytester.path, name=name, target="app")  # one deployment, before and after the fix

    incident = run_suite(pytester, "--env-file=incident.toml")
    assert incident.ret == 1
    failed = [r for r in results(pytester.path) if r["status"] == "failed"]
    by_check = {r["name"]: labels(r) for r in failed}
    assert by_check["GET /api/v1/auth/me -> 401"]["smokeproof_category"] == [Category.SERVER_ERROR.value]
    assert by_check["GET /api/v1/auth/me -> 401"]["epic"] == ["Endpoint contracts"]
    assert by_check["GET /api/v1/auth/me -> 401"]["severity"] == ["critical"]
    assert by_check["alembic revision"]["smokeproof_category"] == [Category.MIGRATION_DRIFT.value]
    assert by_check["table public.user_hierarchy_assignments"]["smokeproof_category"] == [Category.MISSING_SCHEMA.value]
    assert by_check["table public.user_hierarchy_assignments"]["severity"] == ["blocker"]
    me = next(r for r in failed if r["name"] == "GET /api/v1/auth/me -> 401")
    shown = {p["name"]: p["value"] for p in me["parameters"]}  # type: ignore[union-attr]
    assert shown["endpoint"] == "EndpointContract('GET /api/v1/auth/me -> 401')"  # the contract as it reads, not its fields
    alembic = next(r for r in failed if r["name"] == "alembic revision")
    attachments = {a["name"] for a in alembic["attachments"]}  # type: ignore[index]
    assert "pending migrations" in attachments

    healthy = run_suite(pytester, "--env-file=healthy.toml")
    assert healthy.ret == 0
    outcomes = results(pytester.path)
    assert len(outcomes) == len({r["name"] for r in outcomes})  # one result per test (the folder was cleaned)
    out = healthy.stdout.str()
    for check in AUTH_ENDPOINTS:
        line = next(line for line in out.splitlines() if line.startswith(check[:40]))
        assert "fixed" in line, line
    table = (pytester.path / "reports" / "summary.md").read_text()
    assert "| GET /api/v1/auth/me -> 401 | 401, < 3000 ms | 401 in" in table and "500 -> 401 fixed" in table
    assert "010 (1 pending) -> 80105006e3d3 fixed" in table
    properties = (pytester.path / "reports" / "allure-results" / "environment.properties").read_text()
    assert "environment=healthy" in properties and "database_revision=80105006e3d3" in properties
    names = [c["name"] for c in json.loads((pytester.path / "reports/allure-results/categories.json").read_text())]
    assert names[:2] == ["Security drift", "Migration drift"]
    assert (pytester.path / "reports" / "junit.xml").read_text().count("<testcase") == len(outcomes)
    containers = [json.loads(p.read_text()) for p in (pytester.path / "reports/allure-results").glob("*-container.json")]
    fixtures = {f["name"].split("::")[0] for c in containers for f in [*c.get("befores", []), *c.get("afters", [])]}
    assert not fixtures & PARAMETERS  # no "Set up: endpoint" in every test
    # The run's checks are handed over once, not set up and torn down around every test.
    [smoke] = [c for c in containers if any(f["name"] == "smoke" for f in c.get("befores", []))]
    assert len(smoke["children"]) == len(outcomes)

    if shutil.which("node") is None or not (REPO / "node_modules" / ".bin" / "allure").exists():
        pytest.skip("Node.js or the pinned Allure 3 (npm ci) is missing: HTML report not generated")
    (pytester.path / "package.json").write_text((REPO / "package.json").read_text())
    (pytester.path / "node_modules").symlink_to(REPO / "node_modules")
    done = subprocess.run(
        [sys.executable, "-m", "smokeproof.cli.main", "report"],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    html = (pytester.path / "reports" / "allure-report" / "index.html").read_text()
    listed = (pytester.path / "reports" / "allure-report" / "test-results.json").read_text()
    assert "GET /api/v1/auth/me -> 401" in listed  # the data the single file embeds
    assert not [marker for marker in THIRD_PARTY if marker in html]
    assert (pytester.path / "reports" / "history" / "allure-history.jsonl").stat().st_size > 0


def test_change_column() -> None:
    before = {
        r.check: r
        for r in [
            summary.Row("GET /me -> 401", "401", "500 in 80 ms", "failed"),
            summary.Row("GET /ok -> 200", "200", "200 in 5 ms", "passed"),
            summary.Row("GET /bad -> 200", "200", "500 in 5 ms", "failed"),
        ]
    }
    assert summary.change(summary.Row("GET /me -> 401", "401", "401 in 9 ms", "passed"), before) == "500 -> 401 fixed"
    assert summary.change(summary.Row("GET /ok -> 200", "200", "503 in 9 ms", "failed"), before) == "200 -> 503 new failure"
    assert summary.change(summary.Row("GET /bad -> 200", "200", "500 in 7 ms", "failed"), before) == "still failing"
    assert summary.change(summary.Row("GET /new -> 200", "200", "200 in 7 ms", "passed"), before) == "new check"
    assert summary.change(summary.Row("GET /ok -> 200", "200", "200 in 7 ms", "passed"), before) == ""
    # A known issue's failure still fails; a degraded pass still passes.
    assert (
        summary.change(summary.Row("GET /bad -> 200", "200", "500 in 7 ms", "known", note="(OPS-1)"), before) == "still failing"
    )
    assert summary.change(summary.Row("GET /me -> 401", "401", "401 in 9 ms", "degraded"), before) == "500 -> 401 fixed"


def test_executor_from_github_and_gitlab_variables() -> None:
    github = allure_files.executor(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "team/app",
            "GITHUB_RUN_ID": "42",
            "GITHUB_RUN_NUMBER": "7",
            "GITHUB_WORKFLOW": "deploy",
        }
    )
    assert github is not None and github["buildUrl"] == "https://github.com/team/app/actions/runs/42"
    assert github["buildName"] == "deploy #7"
    gitlab = allure_files.executor(
        {
            "GITLAB_CI": "true",
            "CI_PIPELINE_URL": "https://gitlab.example/p/1",
            "CI_PIPELINE_IID": "3",
            "CI_PROJECT_PATH": "team/app",
        }
    )
    assert gitlab is not None and gitlab["buildUrl"] == "https://gitlab.example/p/1"
    assert allure_files.executor({}) is None


def test_categories_cover_every_failure_kind() -> None:
    names = {rule["name"] for rule in allure_files.categories()}
    assert {c.value for c in Category} <= names


def allure2_categories(message: str) -> list[str]:
    """The categories.json rules that match ``message`` as Allure 2 does (the whole message: Java's Pattern.matches)."""
    rules = allure_files.categories()
    return [str(r["name"]) for r in rules if "messageRegex" in r and re.fullmatch(str(r["messageRegex"]), message)]


def test_each_allure2_category_matches_its_own_failures_only() -> None:
    for category in Category:
        failure = Verdict(check="c", area=Area.SCHEMA, expected="e", actual="a", ok=False, category=category).failure()
        message = f"smokeproof.errors.SmokeFailure: {failure}"  # as allure-pytest writes statusDetails.message
        assert allure2_categories(message) == [category.value], message


@pytest.mark.slow
def test_allure2_categories_match_the_incident_failures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, incident_target: DemoTarget
) -> None:
    """Each failure of the incident lands in its own category in Allure 2 (they all fell in "Product defects")."""
    lay_out(pytester.path)
    incident_target.use(monkeypatch, pytester.path, name="incident")
    assert run_suite(pytester, "--env-file=incident.toml").ret == 1
    rules = json.loads((pytester.path / "reports/allure-results/categories.json").read_text())
    assert rules == json.loads(json.dumps(allure_files.categories()))  # what Allure 2 reads is what is checked here
    failed = [r for r in results(pytester.path) if r["status"] == "failed"]
    seen = set()
    for result in failed:
        message = result["statusDetails"]["message"]  # type: ignore[index]
        assert allure2_categories(message) == labels(result)["smokeproof_category"], (result["name"], message[-300:])
        seen.update(labels(result)["smokeproof_category"])
    kinds = {Category.MIGRATION_DRIFT, Category.MISSING_SCHEMA, Category.SERVER_ERROR, Category.CONTRACT}
    assert seen == {kind.value for kind in kinds}


def test_tracker_snippet_is_stripped() -> None:
    html = (
        "<html><body><div id=app></div>\n"
        '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>\n'
        "<script>\n window.dataLayer = window.dataLayer || [];\n function gtag(){dataLayer.push(arguments);}\n"
        " gtag('js', new Date());\n</script>\n<script>window.allure = {};</script></body></html>"
    )
    cleaned = strip_trackers(html)
    assert not [marker for marker in THIRD_PARTY if marker in cleaned]
    assert "window.allure = {}" in cleaned and "<div id=app>" in cleaned


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_examples_are_valid_and_use_only_documented_commands(name: str) -> None:
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load((REPO / "examples" / name).read_text())
    commands: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("run", "script", "before_script", "after_script"):
                    commands.extend([value] if isinstance(value, str) else value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    readme = (REPO / "README.md").read_text()
    smoke_commands = [c for c in commands if "pytest" in c or "smokeproof" in c or c.startswith("make")]
    assert any("pytest --env=prod" in c for c in smoke_commands)
    for command in smoke_commands:
        head = command.split(" --expected-revision")[0].replace(" || true", "").strip()
        assert head in readme, f"{name}: {head!r} is not documented in README.md"


@pytest.mark.slow
def test_snapshot_command_prints_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, incident_target: DemoTarget
) -> None:
    env = incident_target.use(monkeypatch, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "smokeproof.cli.main", "snapshot", f"--env-file={env}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "alembic_version: 010;" in done.stdout  # plain text, not a Python tuple
    assert "enum public.userrole: admin, analyst, viewer" in done.stdout
    assert "user_hierarchy_assignments" not in done.stdout
    assert "foreign key public." in done.stdout


def run_own_test(pytester: pytest.Pytester, name: str, source: str) -> pytest.RunResult:
    """The suite with one test module of our own, run alone (no target: nothing else is selected)."""
    lay_out(pytester.path)
    (pytester.path / "env.toml").write_text('production = false\nbase_url = "http://127.0.0.1:9"\n')
    (pytester.path / "tests" / name).write_text(source)
    return run_suite(pytester, "--env-file=env.toml", f"tests/{name}")


# A test that replaces the Allure results folder with a file mid-run (a full disk, a cleanup job).
BREAK_RESULTS = (
    "import pathlib, shutil\n\n\n"
    "def test_replaces_the_results_folder_with_a_file():\n"
    '    shutil.rmtree("reports/allure-results")\n'
    '    pathlib.Path("reports/allure-results").write_text("not a folder")\n'
)


def test_reports_that_cannot_be_written_fail_the_run(pytester: pytest.Pytester) -> None:
    """A results folder that vanished mid-run (a full disk, a cleanup job) must not end green."""
    result = run_own_test(
        pytester,
        "test_break.py",
        BREAK_RESULTS,
    )
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["*smokeproof: could not write the reports (Not a directory: *allure-results/*.json*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_broken_contract_keeps_exit_1_when_the_reports_cannot_be_written(pytester: pytest.Pytester) -> None:
    """Exit 3 must not hide a broken contract: CI reads 1 as "the deployment is broken", 3 as "the tooling"."""
    result = run_own_test(
        pytester,
        "test_break.py",
        BREAK_RESULTS + "\n\n"
        "def test_a_broken_contract():\n"
        '    assert 500 == 401, "GET /api/v1/auth/me: expected 401, got 500"\n',
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*smokeproof: could not write the reports (Not a directory: *allure-results/*.json*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_an_attached_file_is_kept_as_it_was_when_attached(pytester: pytest.Pytester) -> None:
    """allure.attach.file() from a test: the file may be gone or changed once the call returns."""
    result = run_own_test(
        pytester,
        "test_attach.py",
        "import allure, pathlib\n\n\n"
        "def test_attaches_then_removes(tmp_path):\n"
        '    log = tmp_path / "server.log"\n'
        '    log.write_text("first words")\n'
        '    allure.attach.file(str(log), name="server log")\n'
        '    log.write_text("overwritten")\n'
        "    log.unlink()\n",
    )
    assert result.ret == pytest.ExitCode.OK
    [result_file] = results(pytester.path)
    [attached] = result_file["attachments"]  # type: ignore[misc]
    assert (pytester.path / "reports" / "allure-results" / attached["source"]).read_text() == "first words"


def test_an_endpoint_result_takes_its_requests_time(pytester: pytest.Pytester) -> None:
    """The request ran before its test (all at once); Allure's start, stop and duration are still the request's."""
    delay_s = 0.4
    with serve(Server(routes={"/slow": Route(delay_s=delay_s), "/quick": Route()})) as server:
        lay_out(pytester.path)
        (pytester.path / "tests/contracts/endpoints.toml").write_text(
            '[[endpoint]]\npath = "/slow"\nstatus = 200\n\n[[endpoint]]\npath = "/quick"\nstatus = 200\n'
        )
        (pytester.path / "env.toml").write_text(f'production = false\nbase_url = "{server.url}"\n')
        result = run_suite(pytester, "--env-file=env.toml", "-m", "contracts")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    by_name = {r["name"]: r for r in results(pytester.path)}
    slow, quick = by_name["GET /slow -> 200"], by_name["GET /quick -> 200"]
    assert int(slow["stop"]) - int(slow["start"]) >= delay_s * 1000  # the server held the answer that long
    assert int(quick["start"]) <= int(slow["stop"])  # both were out at once: the timeline shows the overlap
    assert "smokeproof_window" not in labels(slow)  # moved into start/stop, not left as a label


# Forty tests sharing a session fixture; the last looks at the container allure-pytest keeps for it.
SHARED_FIXTURE = (
    "import pytest\n\n\n"
    '@pytest.fixture(scope="session")\n'
    "def shared():\n"
    "    return 1\n\n\n"
    '@pytest.mark.parametrize("n", range(40))\n'
    "def test_uses_the_shared_fixture(shared, n):\n"
    "    assert shared == 1\n\n\n"
    "def test_zz_containers_test_membership_with_a_set(request):\n"
    '    reporter = request.config.pluginmanager.get_plugin("allure_listener").allure_logger\n'
    "    groups = [reporter.get_item(uuid) for uuid in list(reporter._items)]\n"
    '    groups = [group for group in groups if hasattr(group, "children")]\n'
    "    assert groups and all(type(group.children).__name__ == 'Children' for group in groups)\n"
)


def test_fixture_containers_list_each_test_once_in_linear_time(pytester: pytest.Pytester) -> None:
    """A fixture every check shares lists every test: with a list's membership test, 1,000 tenants cost ~12 s more."""
    result = run_own_test(pytester, "test_shared.py", SHARED_FIXTURE)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    outcomes = {r["uuid"] for r in results(pytester.path) if r["name"].startswith("test_uses_the_shared_fixture")}
    assert len(outcomes) == 40
    containers = [json.loads(p.read_text()) for p in (pytester.path / "reports/allure-results").glob("*-container.json")]
    [shared] = [c for c in containers if any(f["name"] == "shared" for f in c.get("befores", []))]
    assert len(shared["children"]) == len(set(shared["children"])) == 40  # each test once, as allure-pytest lists them
    assert set(shared["children"]) == outcomes
