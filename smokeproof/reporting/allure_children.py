"""Linear, not quadratic: the tests each fixture's Allure container lists, kept with a set beside the list.

allure-pytest records, for every fixture a test uses, the test among the fixture's container's
children, and checks the whole list before adding it (``uuid not in group.children``, twice per
test). A fixture every check shares (``smoke``, a parameter's pseudo-fixture) ends up with every
test of the run: at 300 tenant databases (4,500 checks) the checks cost 1.1 s of the run's 14 s,
at 1,000 tenants about 12 s, growing with the square of the fleet. Here each container's
``children`` is a list that also keeps a set for that check: the same files, the same order.

The wrap is on allure-pytest's reporter (``AllureReporter.start_group``, the one place a
container is created) of this run only; without it (another allure-pytest, no ``--alluredir``),
nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

import pytest


class Children(list[str]):
    """A container's children: a list (as allure-commons serialises it) whose membership test is a set's."""

    def __init__(self, uuids: Iterable[str] = ()) -> None:
        super().__init__(uuids)
        self._seen = set(self)

    def append(self, uuid: str) -> None:
        self._seen.add(uuid)
        super().append(uuid)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._seen

    def insert(self, index: SupportsIndex, uuid: str) -> None:  # not used by allure; kept true all the same
        self._seen.add(uuid)
        super().insert(index, uuid)


def install(config: pytest.Config) -> bool:
    """Give every container allure-pytest starts from now on a :class:`Children` list; False if there is no reporter."""
    listener = config.pluginmanager.get_plugin("allure_listener")
    reporter = getattr(listener, "allure_logger", None)
    start: Callable[[str, Any], None] | None = getattr(reporter, "start_group", None)
    if reporter is None or start is None:
        return False

    def start_group(uuid: str, group: Any) -> None:
        if isinstance(getattr(group, "children", None), list):
            group.children = Children(group.children)
        start(uuid, group)

    reporter.start_group = start_group
    return True
