"""Tenant databases in one run: each database's checks, each database's failures, nobody else's.

Three tenants beside the environment's own database: ``eu`` at the code's head (the healthy demo's
database), ``us`` still at ``010`` (the incident's), ``ap`` on a port where nothing listens.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smokeproof.config.environment import load
from smokeproof.config.secrets import MASK
from smokeproof.errors import UsageError

from .servers import refused_url
from .suite import DemoTarget, lay_out, run_suite

PASSWORD = "s3cret-pw"  # a tenant URL's password, which no output may show

MISSING_AT_010 = {"table public.user_hierarchy_assignments", "table public.organization_hierarchy"}


@pytest.mark.slow
def test_each_database_fails_only_its_own_checks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, healthy_target: DemoTarget, incident_target: DemoTarget
) -> None:
    lay_out(pytester.path)
    for key, value in healthy_target.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("US_DATABASE_URL", incident_target.database_url)
    unreachable = refused_url().replace("http://", f"postgresql://smoke:{PASSWORD}@") + "/tenant_ap"
    monkeypatch.setenv("TENANTS", f"ap={unreachable}")
    healthy_target.env_file(
        pytester.path,
        name="fleet",
        top='databases_list = "${TENANTS}"\n',
        extra=f'[databases]\neu = "{healthy_target.database_url}"\nus = "${{US_DATABASE_URL}}"\n',
    )
    result = run_suite(pytester, "--env-file=fleet.toml", "-m", "schema")
    assert result.ret == 1
    rows = {row["check"]: row for row in json.loads((pytester.path / "reports" / "summary.json").read_text())["rows"]}

    def failing(database: str) -> set[str]:
        return {
            c.removesuffix(f" @ {database}") for c, r in rows.items() if c.endswith(f" @ {database}") and r["outcome"] == "failed"
        }

    own = {c for c in rows if " @ " not in c}
    assert "alembic revision" in own and not [c for c in own if rows[c]["outcome"] == "failed"]  # database_url: healthy
    assert not failing("eu") and rows["alembic revision @ eu"]["outcome"] == "passed"
    assert failing("us") == {
        "alembic revision",
        *MISSING_AT_010,
        "table public.hierarchy_permission_overrides",
        "enum public.hierarchylevel",
        "enum public.enhanceduserrole",
    }
    assert rows["alembic revision @ us"]["actual"] == "010 (1 pending)"
    assert rows["table public.users @ us"]["outcome"] == "passed"  # what 010 has is still checked, and passes
    ap = [r for c, r in rows.items() if c.endswith(" @ ap") and r["outcome"] != "skipped"]
    assert len(ap) == len([c for c in own if rows[c]["outcome"] != "skipped"])  # every check of ap ran ...
    assert {r["outcome"] for r in ap} == {"failed"} and {r["category"] for r in ap} == {"Target unreachable"}  # ... and failed
    out = result.stdout.str()
    assert "smokeproof: databases: database_url, eu, us, ap (4)" in out  # the header names the fleet
    assert f"alembic revision @ ap: target unreachable: database ap (postgresql://smoke:{MASK}@127.0.0.1:" in out
    assert "[us] alembic: database is at 010, the code expects 80105006e3d3 (1 migration pending)" in out
    assert PASSWORD not in out and PASSWORD not in (pytester.path / "reports" / "summary.md").read_text()
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert (
        "| eu | 15 | 0 | ✅ pass |" in summary
        and "| us | 15 | 6 | ❌ FAIL |" in summary
        and "| ap | 15 | 15 | ❌ FAIL |" in summary
    )
    assert "#### database us: ❌" in summary and "#### database ap: ❌" in summary and "#### database eu" not in summary
    results = [json.loads(p.read_text()) for p in (pytester.path / "reports" / "allure-results").glob("*-result.json")]
    us = next(r for r in results if r["name"] == "alembic revision @ us")
    assert {"name": "smokeproof_database", "value": "us"} in us["labels"]
    assert "- **tenant databases**: 3 tenant databases (eu, us, ap); revisions: 80105006e3d3 ×1; 010 ×1; not read ×1" in summary


def test_tenant_databases_are_validated(tmp_path: Path) -> None:
    file = tmp_path / "env.toml"
    (tmp_path / "tenants.toml").write_text('[databases]\nfr = "postgresql://u:${FR_PW}@db/fr"\n')
    file.write_text(
        'databases_file = "tenants.toml"\ndatabases_list = "de=postgresql://db/de"\n[databases]\neu = "postgresql://db/eu"\n'
    )
    env = load(file, name="env", rootdir=tmp_path, environ={"FR_PW": "pw-fr"})
    assert (
        list(env.databases) == ["eu", "fr", "de"]
        and env.redactor(f"postgresql://u:{'pw-fr'}@db/fr") == f"postgresql://u:{MASK}@db/fr"
    )
    # Where the README shows them, in [databases], the two options are options, not tenants.
    file.write_text('[databases]\neu = "postgresql://db/eu"\ndatabases_file = "tenants.toml"\ndatabases_list = "${TENANTS}"\n')
    env = load(file, name="env", rootdir=tmp_path, environ={"FR_PW": "pw-fr", "TENANTS": "de=postgresql://db/de"})
    assert list(env.databases) == ["eu", "fr", "de"]
    for bad, problem in [
        (
            'databases_list = "de=postgresql://db/de"\n[databases]\ndatabases_list = "x=postgresql://db/x"\n',
            "'databases_list' is set twice",
        ),
        ('[databases]\n"e u" = "postgresql://db/x"\n', "database name 'e u' must be"),
        ('[databases]\neu = "mysql://db/x"\n', "database 'eu' must be a postgresql:// URL"),
        ('databases_list = "eu=postgresql://db/a"\n[databases]\neu = "postgresql://db/x"\n', "database 'eu' is named twice"),
        ('databases_list = "postgresql://db/a"\n', "each entry is name=postgresql://"),
    ]:
        file.write_text(bad)
        with pytest.raises(UsageError, match=problem):
            load(file, name="env", rootdir=tmp_path, environ={})
