"""Drift: one test per table, view, enum type and sequence of the baseline ([drift] baseline),
one for the installed extensions and one for objects the baseline lacks.

A failure here is a schema that is not what the code's migrations build: the code's queries meet
columns, types or constraints it was never tested against.
"""

import pytest

pytestmark = [pytest.mark.schema, pytest.mark.drift]


def test_drift(drift_object, smoke):
    smoke.verify(smoke.wait_drift(drift_object))
