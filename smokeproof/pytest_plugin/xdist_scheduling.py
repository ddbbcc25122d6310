"""The controller's scheduler under ``-n N``: each worker gets its share of whole groups, all at once.

Loaded by the xdist controller only (it imports pytest-xdist). The share is
:func:`smokeproof.pytest_plugin.xdist.assign`, the function each worker applies to the same
collection to know, at the end of its collection, which requests and catalog reads are its own.
Everything else (node failures, replacement workers, shutdown) is xdist's ``LoadScheduling``: a
crashed worker's tests go to whichever worker is free, and run there with their reads on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScheduling  # type: ignore[import-untyped]

from smokeproof.pytest_plugin.xdist import assign, read_groups, worker_number


class SmokeScheduling(LoadScheduling):  # type: ignore[misc]  # pytest-xdist ships no type information for mypy here
    """``LoadScheduling`` whose first distribution is the groups' assignment, sent in full, then shutdown."""

    def __init__(self, config: pytest.Config, log: Any, folder: Path) -> None:
        super().__init__(config, log)
        self.folder = folder  # where each worker wrote its tests' groups

    def schedule(self) -> None:
        """Send each worker its whole share and tell it to stop when done (later calls: xdist's rescheduling)."""
        assert self.collection_is_completed
        if self.collection is not None:  # type: ignore[has-type]  # a replacement worker joined: xdist's own rescheduling
            for node in self.nodes:
                self.check_schedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        first, collection = next(iter(self.node2collection.items()))
        self.collection = collection
        shares = assign(collection, read_groups(self.folder, str(first.gateway.id)), self.numnodes)
        assigned: set[int] = set()
        for node in self.nodes:
            number = worker_number(str(node.gateway.id))
            share = shares[number] if number is not None and number < len(shares) else []
            if share:
                self.node2pending[node].extend(share)
                node.send_runtest_some(share)
                assigned.update(share)
        # A worker that did not come up keeps nothing back: its share waits for the first free worker.
        self.pending[:] = [index for index in range(len(collection)) if index not in assigned]
        for node in self.nodes:
            self.check_schedule(node)  # sends any leftover to a worker, else shuts the worker down after its share
