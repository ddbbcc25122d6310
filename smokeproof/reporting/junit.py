"""The JUnit file names its environment: a CI that collects several environments' files tells them apart.

pytest names every suite ``pytest`` (the ``junit_suite_name`` ini value): a pipeline running staging
and production would show two identical suites, and a failure could be read against the wrong one.
"""

from __future__ import annotations

import pytest
from _pytest.junitxml import xml_key  # pytest's own key for its JUnit writer; no public accessor exists

DEFAULT_SUITE_NAME = "pytest"


def name_suite(config: pytest.Config, *, environment: str, target: str) -> None:
    """``smokeproof ENV`` as the suite name (a name set in the ini is kept, with the environment after it)."""
    xml = config.stash.get(xml_key, None)
    if xml is None:  # no --junitxml
        return
    configured = config.getini("junit_suite_name")
    xml.suite_name = f"smokeproof {environment}" if configured == DEFAULT_SUITE_NAME else f"{configured} {environment}"
    xml.add_global_property("environment", environment)
    xml.add_global_property("target", target)
