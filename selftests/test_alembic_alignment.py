"""Alembic alignment: reading versions folders statically, and every state with its ids."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from alembic.script.revision import Revision, RevisionMap
from hypothesis import given, settings
from hypothesis import strategies as st

from smokeproof.alignment import AlignmentState, align
from smokeproof.errors import UsageError
from smokeproof.migrations import read_history
from smokeproof.verdict import Category

from .suite import REPO

EXAMPLES = Path(__file__).parent / "examples"
DEMO = REPO / "demo" / "migrations" / "versions"
INCIDENT_FILE = "80105006e3d3_epic_1_module_system_and_hierarchy_.py"


def state(database: tuple[str, ...] | None, folder: Path = DEMO, expected: tuple[str, ...] | None = None):
    history = read_history(folder)
    return align(expected=expected or history.heads, source="versions folder", database=database, history=history)


def test_reading_is_static_and_keeps_messages() -> None:
    history = read_history(EXAMPLES / "versions_linear")  # its first file raises if imported
    assert history.heads == ("3c4d5e6f7a8b",)
    assert history.files["2b3c4d5e6f7a"].message == "Add account email"
    assert history.files["1a2b3c4d5e6f"].path.name == "1a2b3c4d5e6f_create_accounts.py"


def test_branches_merges_and_depends_on() -> None:
    history = read_history(EXAMPLES / "versions_branched")
    assert history.heads == ("eee000000005",)
    assert history.files["eee000000005"].down_revisions == ("ddd000000004", "ccc000000003")
    assert history.files["bbb000000002"].branch_labels == ("billing",)
    assert history.files["ddd000000004"].depends_on == ("ccc000000003",)
    order = [m.revision for m in history.pending(("aaa000000001",))]
    assert order.index("ccc000000003") < order.index("ddd000000004") < order.index("eee000000005")  # depends_on respected
    assert set(order) == {"bbb000000002", "ccc000000003", "ddd000000004", "eee000000005"}


def test_the_incident_reads_like_the_incident_report() -> None:
    result = state(("010",))
    assert result.state is AlignmentState.PENDING
    assert [m.path.name for m in result.pending] == [INCIDENT_FILE]
    verdict = result.verdict()
    text = str(verdict.failure())
    assert "database is at 010, the code expects 80105006e3d3 (1 migration pending)" in text
    assert INCIDENT_FILE in text and "Epic 1 module system and hierarchy" in text
    assert "alembic upgrade 80105006e3d3" in text
    assert verdict.category is Category.MIGRATION_DRIFT and verdict.actual == "010 (1 pending)"


def test_at_head() -> None:
    assert state(("80105006e3d3",)).ok


def test_pending_is_oldest_first() -> None:
    result = state(("1a2b3c4d5e6f",), EXAMPLES / "versions_linear")
    assert [m.revision for m in result.pending] == ["2b3c4d5e6f7a", "3c4d5e6f7a8b"]


def test_unknown_database_revision() -> None:
    result = state(("ffffffffffff",))
    assert result.state is AlignmentState.UNKNOWN and result.unknown == ("ffffffffffff",)
    assert "a revision the code does not know" in result.verdict().headline


def test_a_prefix_is_not_the_revision() -> None:
    """Alembic resolves short prefixes; a database stamped '8010' is not at '80105006e3d3'."""
    result = state(("8010",))
    assert not result.ok and result.state is AlignmentState.UNKNOWN


def test_no_version_table() -> None:
    result = state(None)
    assert result.state is AlignmentState.NO_VERSION_TABLE
    assert "never migrated by Alembic" in str(result.verdict().failure())


def test_empty_version_table_means_everything_pending() -> None:
    result = state(())
    assert result.state is AlignmentState.PENDING and len(result.pending) == 11
    assert result.pending[0].revision == "001" and result.pending[-1].revision == "80105006e3d3"


def test_multiple_code_heads() -> None:
    result = state(("f00000000001",), EXAMPLES / "versions_two_heads")
    assert result.state is AlignmentState.MULTIPLE_CODE_HEADS
    assert result.expected == ("f00000000002", "f00000000003")
    assert result.upgrade_command == "alembic upgrade heads"


def test_multiple_heads_all_applied_is_at_head() -> None:
    assert state(("f00000000002", "f00000000003"), EXAMPLES / "versions_two_heads").ok


def test_branch_mismatch() -> None:
    result = state(("f00000000002",), EXAMPLES / "versions_two_heads")
    assert result.state is AlignmentState.BRANCH_MISMATCH
    assert [m.revision for m in result.pending] == ["f00000000003"]


def test_database_on_a_branch_the_expected_head_does_not_contain() -> None:
    result = state(("f00000000003",), EXAMPLES / "versions_two_heads", expected=("f00000000002",))
    assert result.state is AlignmentState.BRANCH_MISMATCH


def test_without_a_versions_folder_ids_still_compare_exactly() -> None:
    assert align(expected=("80105006e3d3",), source="pin", database=("80105006e3d3",), history=None).ok
    different = align(expected=("80105006e3d3",), source="pin", database=("8010",), history=None)
    assert different.state is AlignmentState.DIFFERENT


def write(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        pytest.param({}, "no migration files", id="empty-folder"),
        pytest.param(
            {"a.py": "revision = 'a'\ndown_revision = None\ndef broken(:\n"}, "syntax error at line 3", id="syntax-error"
        ),
        pytest.param({"a.py": "revision = 'a'\ndown_revision = 'zzz'\n"}, "points at unknown revision zzz", id="unknown-parent"),
        pytest.param(
            {"a.py": "revision = 'a'\ndown_revision = 'b'\n", "b.py": "revision = 'b'\ndown_revision = 'a'\n"},
            "revision graph is broken",
            id="cycle",
        ),
        pytest.param(
            {"a.py": "revision = 'a'\ndown_revision = None\n", "b.py": "revision = 'a'\ndown_revision = None\n"},
            "declared twice",
            id="duplicate",
        ),
        pytest.param({"a.py": "revision = make_id()\ndown_revision = None\n"}, "is not a literal", id="not-literal"),
    ],
)
def test_broken_versions_folders_are_usage_errors(tmp_path: Path, files: dict[str, str], problem: str) -> None:
    folder = tmp_path / "versions"
    folder.mkdir()
    for name, body in files.items():
        write(folder, name, body)
    with pytest.raises(UsageError) as caught:
        read_history(folder)
    assert problem in str(caught.value)
    assert str(folder) in str(caught.value)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="versions folder does not exist"):
        read_history(tmp_path / "nope")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...]]]:
    count = draw(st.integers(1, 12))
    revisions: list[tuple[str, tuple[str, ...]]] = []
    for i in range(count):
        earlier = [rev for rev, _ in revisions]
        parents = tuple(draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True))) if earlier else ()
        revisions.append((f"r{i:03d}{'ab' * 4}", parents))
    return revisions


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(histories(), st.data())
def test_any_valid_history_gives_alembics_heads_and_a_valid_order(
    history: list[tuple[str, tuple[str, ...]]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for rev, parents in history:
            down = repr(parents[0]) if len(parents) == 1 else repr(parents) if parents else "None"
            Path(folder, f"{rev}_step.py").write_text(f'"""Step {rev}"""\nrevision = {rev!r}\ndown_revision = {down}\n')
        read = read_history(Path(folder))
        reference = RevisionMap(lambda: [Revision(rev, parents or None) for rev, parents in history])
        assert set(read.heads) == set(reference.heads)
        applied_tip = data.draw(st.sampled_from([rev for rev, _ in history]))
        applied = {r.revision for r in reference.iterate_revisions(applied_tip, "base")}
        pending = [m.revision for m in read.pending((applied_tip,))]
        assert set(pending) == {rev for rev, _ in history} - applied
        parents_of = dict(history)
        for position, rev in enumerate(pending):
            assert all(parent in applied or pending.index(parent) < position for parent in parents_of[rev])
