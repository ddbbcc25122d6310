"""Allure's result files, written on a worker thread, without the parameters' pseudo-fixtures.

allure-pytest writes, per test, its result, a container for each parameter (which it takes for a
fixture: every test shows "Set up: endpoint" and "Tear down: endpoint::<lambda>", nothing a reader
needs) and our request/response attachment, each created and written while the test waits. Here
the same files, with the same names and contents, are written by a worker thread (a write gives
the GIL back while the kernel works, so the tests go on meanwhile), the parameters' containers
are left out, the session waits for the last file before it ends, and a file that cannot be
written fails the run (exit status 3) with one line naming it.

Everything written passes the run's redactor last, in the worker thread: allure-pytest writes
exception text as it was raised (``statusDetails.message`` and ``trace``, a skip's reason) and
captured output, which no earlier scrub sees.

The swap goes through allure-commons' own plugin manager: its file logger is unregistered and this
one registered in its place; at cleanup the original is put back so that allure-pytest's own
cleanup finds it. Without ``--alluredir`` there is nothing to swap and nothing changes.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from allure_commons import hookimpl, plugin_manager
from allure_commons.logger import AllureFileLogger
from attr import asdict

from smokeproof.reporting import allure_children
from smokeproof.reporting.allure_labels import KNOWN_LABEL, NOTE_LABEL, WINDOW_LABEL, attaching_redacted

Scrub = Callable[[str], str]
# The fields of a result (and of its steps) that carry text: names, parameters, exception messages and traces.
# Not scrubbed: identifiers (a mask inside one would break Allure's links) and labels, which smokeproof sets
# from verdicts and ids that never hold a value (allure-pytest adds host, thread and module names).
TEXT_FIELDS = frozenset({"name", "fullName", "description", "descriptionHtml", "message", "trace"})
NESTED_FIELDS = frozenset({"statusDetails", "steps", "befores", "afters"})
PARAMETER_FIELDS = frozenset({"value"})  # a parameter's name is the test function's argument


class ThreadedFileLogger:
    """allure-commons' file logger (the same files, names and contents), with the writes on a worker thread.

    Its own class rather than a subclass: it implements allure-commons' public reporter hooks and
    touches nothing private of ``AllureFileLogger``.
    """

    def __init__(self, report_dir: str, parameters: frozenset[str] = frozenset(), scrub: Scrub | None = None) -> None:
        self._directory = os.path.abspath(report_dir)
        self._parameters = parameters  # the tests' parameters, which allure-pytest takes for fixtures
        self._scrub = scrub
        os.makedirs(self._directory, exist_ok=True)
        # (file name, a result's data or a file's bytes, whether the bytes are text to scrub)
        self._queue: queue.Queue[tuple[str, bytes | dict[str, Any], bool] | None] = queue.Queue()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._work, name="smokeproof-allure-writer", daemon=True)
        self._thread.start()

    @hookimpl
    def report_result(self, result: Any) -> None:
        """A test's result; an endpoint test's start and stop are its request's, which ran before the test."""
        for label in result.labels:
            if label.name == WINDOW_LABEL:
                result.labels.remove(label)
                start, _, stop = label.value.partition("-")
                result.start, result.stop = int(start), int(stop)
                break
        if any(label.name == KNOWN_LABEL for label in result.labels):
            known_failure(result)
        for label in [label for label in result.labels if label.name == NOTE_LABEL]:
            result.labels.remove(label)
            noted(result, label.value)
        self._report_item(result)

    @hookimpl
    def report_container(self, container: Any) -> None:
        """A fixture's set-up and tear-down, left out where it tells a reader nothing.

        Left out: a parameter's pseudo-fixture (the parameter itself is in the test's result) that
        passed and holds no step or attachment: a file per parameter per test, written and deleted
        again on the next ``--clean-alluredir``.
        """
        fixtures = [*container.befores, *container.afters]
        if fixtures and all(_bare(f) for f in fixtures) and {f.name.split("::")[0] for f in fixtures} <= self._parameters:
            return
        self._report_item(container)

    def _report_item(self, item: Any) -> None:
        # Serialised here, while the item is what the test left; only the file system work moves. The
        # item's own uuid names the file (allure-commons' logger draws a fresh one: a system call per file).
        filename = item.file_pattern.format(prefix=getattr(item, "uuid", None) or uuid.uuid4())
        self._queue.put((filename, asdict(item, filter=lambda _, v: v or v is False), True))

    @hookimpl
    def report_attached_data(self, body: str | bytes, file_name: str) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        # A verdict's attachment was redacted when it was made; anything else (captured output) is scrubbed.
        self._queue.put((file_name, data, not attaching_redacted()))

    @hookimpl
    def report_globals(self, globals_item: Any) -> None:
        self._report_item(globals_item)

    @hookimpl
    def report_attached_file(self, source: str, file_name: str) -> None:
        # Read now: the caller may delete or change its file once attach() returns.
        self._queue.put((file_name, Path(source).read_bytes(), True))

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                name, payload, scrub = job
                content = self._content(payload, scrub=scrub)
                tmp, final = f"{self._directory}/{name}.tmp", f"{self._directory}/{name}"
                # Plain system calls: each one gives the GIL back, and the test thread goes on meanwhile.
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    view = memoryview(content)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
                os.replace(tmp, final)
            except OSError as exc:  # the first one is reported by flush(): a full disk must not pass silently
                self.error = self.error or f"{exc.strerror or exc.__class__.__name__}: {exc.filename or self._directory}"
            except Exception as exc:  # a file that cannot be made (redacted, serialised): the worker must live on
                self.error = self.error or f"{exc.__class__.__name__}: a result in {self._directory}"
            finally:
                self._queue.task_done()

    def _content(self, payload: bytes | dict[str, Any], *, scrub: bool) -> bytes:
        """A file's bytes, redacted: a result's text fields, an attachment's text (binary is left as it is)."""
        if isinstance(payload, dict):
            data = _scrubbed(payload, self._scrub) if self._scrub is not None else payload
            return json.dumps(data, ensure_ascii=False).encode("utf-8")
        if not scrub or self._scrub is None:
            return payload
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:  # an image, an archive: no text to read a secret from
            return payload
        clean = self._scrub(text)
        return payload if clean == text else clean.encode("utf-8")

    def flush(self) -> str | None:
        """Wait until every queued file is written; why one could not be, if one could not."""
        self._queue.join()
        return self.error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


def _scrubbed(data: dict[str, Any], scrub: Scrub, fields: frozenset[str] = TEXT_FIELDS) -> dict[str, Any]:
    """A result (a step, a fixture) as JSON data with ``scrub`` applied to its text ``fields``, nested ones too."""
    clean = dict(data)
    for key, value in data.items():
        if key in fields and isinstance(value, str):
            clean[key] = scrub(value)
        elif key in NESTED_FIELDS or key == "parameters":
            inner = PARAMETER_FIELDS if key == "parameters" else TEXT_FIELDS
            items = value if isinstance(value, list) else [value]
            done = [_scrubbed(v, scrub, inner) if isinstance(v, dict) else v for v in items]
            clean[key] = done if isinstance(value, list) else done[0]
    return clean


def known_failure(result: Any) -> None:
    """A known issue as Allure reads one: the failure it is (pytest records an xfail as a skip), marked known."""
    from allure_commons.model2 import Status, StatusDetails

    details = result.statusDetails or StatusDetails()
    details.known = True
    if details.message and details.message.startswith("XFAIL "):
        details.message = details.message.removeprefix("XFAIL ")
    result.status, result.statusDetails = Status.FAILED, details


def noted(result: Any, line: str) -> None:
    """``line`` first in the result's message (a check that failed for a reason its exception does not carry)."""
    from allure_commons.model2 import StatusDetails

    details = result.statusDetails or StatusDetails()
    details.message = f"{line}\n\n{details.message}" if details.message else line
    result.statusDetails = details


def _bare(fixture: Any) -> bool:
    """A set-up or tear-down that passed and carries nothing: no step, no attachment, no message."""
    return fixture.status in (None, "passed") and not fixture.steps and not fixture.attachments and not fixture.statusDetails


def install(config: pytest.Config, parameters: frozenset[str], scrub: Scrub | None = None) -> ThreadedFileLogger | None:
    """Put a :class:`ThreadedFileLogger` in place of allure-pytest's file logger, if it has one.

    ``parameters``: what the tests are parametrised by, whose pseudo-fixtures are left out; ``scrub``:
    the run's redactor, applied to everything written.
    """
    report_dir = getattr(config.option, "allure_report_dir", None)
    originals = [p for p in plugin_manager.get_plugins() if type(p) is AllureFileLogger]
    if not report_dir or len(originals) != 1:
        return None
    allure_children.install(config)
    original = originals[0]
    name = plugin_manager.get_name(original)
    threaded = ThreadedFileLogger(os.path.abspath(report_dir), parameters, scrub)
    plugin_manager.unregister(original)
    plugin_manager.register(threaded)

    def restore() -> None:
        plugin_manager.unregister(threaded)
        plugin_manager.register(original, name)
        threaded.close()

    config.add_cleanup(restore)  # cleanups run last-in first-out: before allure-pytest's own
    return threaded
