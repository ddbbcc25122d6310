"""Plugins a run has no use for, let go once the selection is known.

Hypothesis' pytest plugin (its ``pytest11`` entry point, ``hypothesispytest``) is made to load
without importing hypothesis, and its hooks do nothing until hypothesis is imported; but its
``pytest_terminal_summary`` imports ``hypothesis.internal.observability``, which imports all of
hypothesis (0.2 to 0.3 s, more than collecting a 200-contract suite) at the end of every run,
including ``--collect-only``. smokeproof imports hypothesis only to probe credentials
(:mod:`smokeproof.http.credential_probes`); in a run that will run no such probe (none selected,
or ``--collect-only``) and in which
nothing else imported hypothesis by the end of collection (a test module using ``@given``
imports it while being collected), the plugin has nothing to do, and is unregistered through
pytest's plugin manager.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import pytest

HYPOTHESIS_PLUGIN = "hypothesispytest"  # the name of hypothesis' pytest11 entry point
PROBE_PARAMETER = "fuzz_endpoint"  # what the credential probes are parametrised by (activation.PARAMETERS)


def release_hypothesis(config: pytest.Config, items: Iterable[pytest.Item]) -> None:
    """Unregister hypothesis' pytest plugin when this run will not use hypothesis."""
    plugin = config.pluginmanager.get_plugin(HYPOTHESIS_PLUGIN)
    if plugin is None or "hypothesis" in sys.modules or config.getoption("hypothesis_show_statistics", False):
        return
    probes = any(PROBE_PARAMETER in getattr(item, "fixturenames", ()) for item in items)
    if probes and not config.getoption("collectonly"):
        return
    config.pluginmanager.unregister(plugin)
