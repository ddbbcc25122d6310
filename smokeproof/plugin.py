"""The pytest entry point ``smokeproof.plugin``: the hooks and the fixture live in :mod:`smokeproof.pytest_plugin`.

Registered by the package's ``pytest11`` entry point and by the suite's ``conftest.py`` under this
one name, so the plugin loads once either way.
"""

from __future__ import annotations

from smokeproof.pytest_plugin.hooks import (
    pytest_addoption,
    pytest_collection_finish,
    pytest_configure,
    pytest_generate_tests,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_terminal_summary,
    pytest_unconfigure,
    smoke,
)

__all__ = [
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "smoke",
]
