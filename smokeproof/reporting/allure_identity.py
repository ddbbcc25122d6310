"""Who a check's Allure result belongs to: its target, its environment, and a history id that says so.

Allure links the runs of one check by its history id. allure-pytest derives it from the test's
full name and parameters, including those a test adds while it runs: the verdict's ``actual``
(``401 in 12 ms``) made every run a new check for Allure's trend, and nothing in it named the
target, so a report merging staging and production folded both into one line.

Here the id is ``md5(target, node id)``: the same on every run against one target (the measured
latency, the revision found, the environment file's name play no part: ``demo`` and
``demo-incident`` check one target and share a history), different between targets. The
environment and the target are also labels (the merged report groups by environment) and the
environment a parameter, shown but left out of the id.
"""

from __future__ import annotations

import hashlib

import pytest
from allure_commons.model2 import Label, Parameter

from smokeproof.reporting import allure_labels

TARGET_LABEL = "smokeproof_target"
ENVIRONMENT_LABEL = "smokeproof_environment"
DATABASE_LABEL = "smokeproof_database"  # the tenant database a check ran on


def history_id(target: str, nodeid: str) -> str:
    """The history id of the check ``nodeid`` against ``target``."""
    return hashlib.md5(f"smokeproof\0{target}\0{nodeid}".encode(), usedforsecurity=False).hexdigest()


def stamp(config: pytest.Config, item: pytest.Item, *, target: str, environment: str, database: str | None = None) -> None:
    """Give the running test's Allure result its target, environment and history id.

    Called after allure-pytest's own teardown hook (which sets its id) and before the result is
    written at ``pytest_runtest_logfinish``. Without ``--alluredir`` there is no listener.
    """
    listener = allure_labels.listener(config)
    result = listener.allure_logger.get_test(None) if listener is not None else None
    if result is None:
        return
    result.historyId = history_id(target, item.nodeid)
    result.labels.extend([Label(name=TARGET_LABEL, value=target), Label(name=ENVIRONMENT_LABEL, value=environment)])
    if database is not None:
        result.labels.append(Label(name=DATABASE_LABEL, value=database))
    if not any(p.name == "environment" for p in result.parameters):
        result.parameters.append(Parameter(name="environment", value=environment, excluded=True))
