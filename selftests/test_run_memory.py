"""What lives for the whole run is frozen out of the garbage collector's passes, and only there.

Read from ``gc.get_freeze_count()``, never timed. A ``pytest`` command ends with its run: the
objects alive at the end of collection stay frozen until the process exits, which spares the
collector's walks over them during the run and at exit. A run inside a process that goes on
(``pytest.main()`` from another program, pytester's in-process runs) gives them back: a leak there
would keep every item of every run alive for good.
"""

from __future__ import annotations

import gc
import textwrap
from pathlib import Path

import pytest

from .servers import PUBLIC_ENDPOINTS, Server
from .suite import lay_out

RECORD = """

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # After smokeproof's own unconfigure: how many objects the collector still leaves alone.
    import gc

    with open("frozen.txt", "w") as handle:
        handle.write(str(gc.get_freeze_count()))
"""


def suite(pytester: pytest.Pytester, url: str) -> Path:
    lay_out(pytester.path)
    (pytester.path / "tests/contracts/endpoints.toml").write_text(PUBLIC_ENDPOINTS)
    with (pytester.path / "conftest.py").open("a") as conftest:
        conftest.write(RECORD)
    env = pytester.path / "env.toml"
    env.write_text(textwrap.dedent(f'production = false\nbase_url = "{url}"\n'))
    return env


def test_a_pytest_command_keeps_the_run_frozen_until_it_exits(pytester: pytest.Pytester, public_api: Server) -> None:
    env = suite(pytester, public_api.url)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--env-file={env}", "-m", "contracts")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert int((pytester.path / "frozen.txt").read_text()) > 10_000  # the items, the contracts, the modules


def test_an_in_process_run_gives_the_frozen_objects_back(pytester: pytest.Pytester, public_api: Server) -> None:
    env = suite(pytester, public_api.url)
    before = gc.get_freeze_count()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--env-file={env}", "-m", "contracts")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert gc.get_freeze_count() == before == 0
