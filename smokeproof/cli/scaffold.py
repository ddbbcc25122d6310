"""The files ``smokeproof init`` writes besides the contracts: thin test modules, pytest.ini, conftest.py.

The test modules are this repository's own ``tests/`` modules and ``conftest.py``, read from the
package: ``smokeproof/cli/suite/`` links to them (a checkout reads the very files the project's suite
runs), and a wheel carries their contents as package data. A suite a team scaffolds runs exactly the
checks the project's own suite runs; which modules there are is :data:`smokeproof.kinds.KINDS`.
"""

from __future__ import annotations

from importlib import resources

from smokeproof.kinds import KINDS, MARKERS, PLAIN_MODULES

SUITE = resources.files("smokeproof.cli") / "suite"

PYTEST_INI = (
    """\
[pytest]
# The smoke suite: `pytest --env=NAME` checks the deployment environments/NAME.toml describes.
testpaths = tests
addopts = --alluredir=reports/allure-results --clean-alluredir --junitxml=reports/junit.xml -ra --strict-markers
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
markers =
"""
    + "".join(f"    {name}: {text}\n" for name, text in MARKERS.items())
    + """\
# The plugin is inert unless asked: this suite asks.
smokeproof = true
"""
)


def module_text(name: str) -> str:
    """A thin module (or conftest.py) as the package ships it."""
    return SUITE.joinpath(*name.split("/")).read_text(encoding="utf-8")


# Every thin module there is (one per kind of check), and conftest.py: what init writes, what --update adds.
MODULES = {name: module_text(name) for name in (*(kind.module for kind in KINDS), *PLAIN_MODULES)}
