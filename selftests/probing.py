"""Driving the endpoint checks directly: an environment and a contract file, written as text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from smokeproof.config.environment import Environment, load
from smokeproof.http.contracts import EndpointContract, load_contracts
from smokeproof.run import SmokeRun
from smokeproof.verdict import Verdict

from .suite import REPO


def environment(tmp_path: Path, base_url: str, extra: str = "", *, production: bool = False) -> Environment:
    path = tmp_path / "env.toml"
    path.write_text(f'production = {str(production).lower()}\nbase_url = "{base_url}"\n' + textwrap.dedent(extra))
    return load(path, name="selftest", rootdir=REPO)


def contracts(tmp_path: Path, text: str, env: Environment) -> tuple[EndpointContract, ...]:
    path = tmp_path / "endpoints.toml"
    path.write_text(textwrap.dedent(text))
    return load_contracts(path, env_name=env.name, production=env.production, redactor=env.redactor)


async def judge_all(env: Environment, entries: tuple[EndpointContract, ...]) -> dict[str, Verdict]:
    """Every contract's verdict, probed the way the plugin does (all started at once, in the background)."""
    run = SmokeRun(env=env, contracts=entries)
    run.select(entries)
    try:
        return {c.test_id: await run.endpoint(c) for c in entries}
    finally:
        await run.aclose()
