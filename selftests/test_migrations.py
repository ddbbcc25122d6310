"""Reading Alembic versions folders without importing them, and every alignment state with its ids."""

from __future__ import annotations

import ast
import importlib.util
import runpy
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from alembic.script.revision import Revision, RevisionMap
from hypothesis import given, settings
from hypothesis import strategies as st

from smokeproof.database import migration_file
from smokeproof.database.alignment import Alignment, AlignmentState, align
from smokeproof.database.migrations import MigrationFile, MigrationHistory, read_history
from smokeproof.errors import UsageError
from smokeproof.verdict import Category

from .suite import REPO

EXAMPLES = Path(__file__).parent / "examples"
LINEAR = EXAMPLES / "versions_linear"
BRANCHED = EXAMPLES / "versions_branched"
TWO_HEADS = EXAMPLES / "versions_two_heads"
DEMO = REPO / "demo" / "migrations" / "versions"
DEMO_HEAD = "80105006e3d3"
INCIDENT_FILE = "80105006e3d3_epic_1_module_system_and_hierarchy_.py"
DEMO_ORDER = ["001", "002", "003", "004", "005", "006", "007", "008", "009", "010", DEMO_HEAD]


def aligned(database: tuple[str, ...] | None, folder: Path = DEMO) -> Alignment:
    history = read_history(folder)
    return align(expected=history.heads, source=f"{folder.name} folder", database=database, history=history)


def revisions(history_or_files: Iterable[MigrationFile]) -> list[str]:
    return [m.revision for m in history_or_files]


# --- reading -------------------------------------------------------------------------------------


def test_linear_messages_files_and_head() -> None:
    history = read_history(LINEAR)
    assert history.heads == ("3c4d5e6f7a8b",)
    assert {r: (m.message, m.path.name, m.down_revisions) for r, m in history.files.items()} == {
        "1a2b3c4d5e6f": ("Create accounts", "1a2b3c4d5e6f_create_accounts.py", ()),
        "2b3c4d5e6f7a": ("Add account email", "2b3c4d5e6f7a_add_account_email.py", ("1a2b3c4d5e6f",)),
        "3c4d5e6f7a8b": ("Index account email", "3c4d5e6f7a8b_index_account_email.py", ("2b3c4d5e6f7a",)),
    }


def test_files_are_read_not_imported() -> None:
    booby_trapped = LINEAR / "1a2b3c4d5e6f_create_accounts.py"
    with pytest.raises(RuntimeError, match="must never be imported"):  # the trap is live ...
        runpy.run_path(str(booby_trapped))
    history = read_history(LINEAR)  # ... and reading the folder never springs it
    assert history.files["1a2b3c4d5e6f"].path == booby_trapped


def test_branches_merge_and_depends_on() -> None:
    history = read_history(BRANCHED)
    assert history.heads == ("eee000000005",)
    merge = history.files["eee000000005"]
    assert merge.down_revisions == ("ddd000000004", "ccc000000003") and merge.message == "Merge billing and auth"
    assert history.files["bbb000000002"].branch_labels == ("billing",)
    assert history.files["ccc000000003"].branch_labels == ("auth",)
    assert history.files["ddd000000004"].depends_on == ("ccc000000003",)
    # depends_on is an ancestor for ordering: billing's ddd needs auth's ccc first.
    assert "ccc000000003" in history.lineage(("ddd000000004",))
    order = revisions(history.pending(("bbb000000002",)))
    assert order == ["ccc000000003", "ddd000000004", "eee000000005"]


def test_two_heads_are_both_reported() -> None:
    history = read_history(TWO_HEADS)
    assert history.heads == ("f00000000002", "f00000000003")
    assert history.files["f00000000003"].message == "Feature B"


def test_the_demo_chain() -> None:
    history = read_history(DEMO)
    assert history.heads == (DEMO_HEAD,)
    assert revisions(history.pending(())) == DEMO_ORDER


# --- alignment states ----------------------------------------------------------------------------


def test_at_head() -> None:
    result = aligned((DEMO_HEAD,))
    assert result.state is AlignmentState.AT_HEAD and result.ok
    assert result.pending == () and result.unknown == ()
    assert result.verdict().ok


def test_pending_is_the_incident() -> None:
    result = aligned(("010",))
    assert result.state is AlignmentState.PENDING and not result.ok
    assert [m.path.name for m in result.pending] == [INCIDENT_FILE]
    assert result.pending[0].message == "Epic 1 module system and hierarchy"
    assert result.upgrade_command == f"alembic upgrade {DEMO_HEAD}"
    verdict = result.verdict()
    assert not verdict.ok and verdict.category is Category.MIGRATION_DRIFT
    text = str(verdict.failure())
    assert "database is at 010, the code expects 80105006e3d3 (1 migration pending)" in text
    assert f"80105006e3d3  Epic 1 module system and hierarchy  ({INCIDENT_FILE})" in text
    assert f"alembic upgrade {DEMO_HEAD}" in text


def test_pending_is_oldest_first_from_the_first_revision() -> None:
    result = aligned(("1a2b3c4d5e6f",), LINEAR)
    assert result.state is AlignmentState.PENDING
    assert revisions(result.pending) == ["2b3c4d5e6f7a", "3c4d5e6f7a8b"]
    text = str(result.verdict().failure())
    assert "(2 migrations pending)" in text
    assert text.index("2b3c4d5e6f7a  Add account email") < text.index("3c4d5e6f7a8b  Index account email")


def test_pending_on_a_merge() -> None:
    result = aligned(("ddd000000004",), BRANCHED)  # ddd depends on ccc: both applied, the merge is not
    assert result.state is AlignmentState.PENDING and revisions(result.pending) == ["eee000000005"]


@pytest.mark.parametrize(
    ("folder", "database", "pending"),
    [
        pytest.param(DEMO, ("009", "010"), [DEMO_HEAD], id="ancestor-and-descendant-rows"),
        pytest.param(BRANCHED, ("ccc000000003", "ddd000000004"), ["eee000000005"], id="dependency-and-dependent-rows"),
    ],
)
def test_overlapping_version_rows_still_give_a_state(folder: Path, database: tuple[str, ...], pending: list[str]) -> None:
    result = aligned(database, folder)
    assert result.state is AlignmentState.PENDING and revisions(result.pending) == pending


def test_unknown_revision() -> None:
    result = aligned(("deadbeef0000",))
    assert result.state is AlignmentState.UNKNOWN
    assert result.unknown == ("deadbeef0000",) and result.pending == ()
    text = str(result.verdict().failure())
    assert "database is at deadbeef0000, a revision the code does not know (code expects 80105006e3d3)" in text


def test_a_prefix_is_not_the_revision() -> None:
    history = read_history(DEMO)
    resolved = history.revision_map.get_revision("8010")
    assert resolved is not None and resolved.revision == DEMO_HEAD  # Alembic itself resolves it
    result = align(expected=history.heads, source="versions folder", database=("8010",), history=history)
    assert result.state is AlignmentState.UNKNOWN and not result.ok
    assert result.unknown == ("8010",)
    assert not history.knows("8010") and history.knows(DEMO_HEAD)


def test_no_version_table() -> None:
    result = aligned(None)
    assert result.state is AlignmentState.NO_VERSION_TABLE and not result.ok
    assert revisions(result.pending) == DEMO_ORDER
    assert "no alembic_version table in the database (code expects 80105006e3d3)" in result.verdict().headline


def test_empty_version_table_means_everything_pending() -> None:
    result = aligned(())
    assert result.state is AlignmentState.PENDING
    assert revisions(result.pending) == DEMO_ORDER
    assert "database is at (empty)" in result.verdict().headline
    assert revisions(aligned((), LINEAR).pending) == ["1a2b3c4d5e6f", "2b3c4d5e6f7a", "3c4d5e6f7a8b"]


def test_two_heads_by_design_list_each_branch() -> None:
    result = aligned(("f00000000001",), TWO_HEADS)
    assert result.state is AlignmentState.PENDING
    assert result.expected == ("f00000000002", "f00000000003")
    assert [(b.head, revisions(b.files)) for b in result.branches] == [
        ("f00000000002", ["f00000000002"]),
        ("f00000000003", ["f00000000003"]),
    ]
    assert result.upgrade_command == "alembic upgrade heads"
    text = str(result.verdict().failure())
    assert "the code's heads are f00000000002, f00000000003 (2 migrations pending on 2 branches)" in text
    assert "branch f00000000003:\n      f00000000003  Feature B  (f00000000003_feature_b.py)" in text
    assert "alembic upgrade heads (before moving traffic" in text and "merge" not in text


def test_behind_on_one_branch_of_two() -> None:
    result = aligned(("f00000000002",), TWO_HEADS)
    assert result.state is AlignmentState.PENDING
    assert revisions(result.pending) == ["f00000000003"] and len(result.branches) == 1
    assert "(1 migration pending)" in result.verdict().headline


def test_single_head_makes_two_heads_a_failure() -> None:
    history = read_history(TWO_HEADS)
    for database in [("f00000000001",), ("f00000000002", "f00000000003")]:
        result = align(expected=history.heads, source="folder", database=database, history=history, single_head=True)
        assert result.state is AlignmentState.MULTIPLE_CODE_HEADS and not result.ok
        assert (
            "the code has 2 heads (f00000000002, f00000000003) where [revision] single_head says one" in result.verdict().headline
        )
        assert "`alembic merge heads`" in result.todo()
    one_head = read_history(LINEAR)
    assert align(expected=one_head.heads, source="f", database=one_head.heads, history=one_head, single_head=True).ok


def test_both_heads_applied_is_at_head() -> None:
    assert aligned(("f00000000003", "f00000000002"), TWO_HEADS).state is AlignmentState.AT_HEAD


def test_without_history_the_ids_compare_exactly() -> None:
    different = align(expected=(DEMO_HEAD,), source="pin", database=("8010",), history=None)
    assert different.state is AlignmentState.DIFFERENT and different.pending == ()
    assert "database is at 8010, the code expects 80105006e3d3" in different.verdict().headline
    assert align(expected=(DEMO_HEAD,), source="pin", database=(DEMO_HEAD,), history=None).ok


# --- bad input -----------------------------------------------------------------------------------


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "versions"
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_text(body)
    return folder


@pytest.mark.parametrize(
    ("files", "culprit", "problem"),
    [
        pytest.param({}, None, "no migration files", id="empty-folder"),
        pytest.param({"notes.py": "X = 1\n"}, "notes.py", "declares no 'revision'", id="no-revision-declared"),
        pytest.param({"a1.py": 'revision = "a1"\n'}, "a1.py", "declares no 'down_revision'", id="no-down-revision"),
        pytest.param(
            {"a1.py": '"""A"""\nrevision = "a1"\ndown_revision = None\n\ndef upgrade(:\n'},
            "a1.py",
            "syntax error at line 5",
            id="syntax-error",
        ),
        pytest.param(
            {"a1.py": 'revision = "a1"\ndown_revision = None\n', "b2.py": 'revision = "b2"\ndown_revision = "zz9"\n'},
            "b2.py",
            "revision b2 points at unknown revision zz9 (line 2)",
            id="unknown-down-revision",
        ),
        pytest.param(
            {
                "a1.py": 'revision = "a1"\ndown_revision = None\n',
                "b2.py": 'revision = "b2"\ndown_revision = None\ndepends_on = "zz9"\n',
            },
            "b2.py",
            "revision b2 points at unknown revision zz9 (line 3)",
            id="unknown-depends-on",
        ),
        pytest.param(
            {
                "a1.py": 'revision = "a1"\ndown_revision = None\n',
                "b2.py": 'revision = "b2"\ndown_revision = "c3"\n',
                "c3.py": 'revision = "c3"\ndown_revision = "b2"\n',
            },
            None,
            "the revision graph is broken",
            id="cycle",
        ),
        pytest.param(
            {"a1.py": 'revision = "a1"\ndown_revision = None\n', "b2.py": 'revision = "a1"\ndown_revision = None\n'},
            "b2.py",
            "revision a1 (line 1) is declared twice: in a1.py and in b2.py",
            id="duplicate-id",
        ),
        pytest.param(
            {
                "a1.py": 'revision = "a1"\ndown_revision = None\nbranch_labels = ("billing",)\n',
                "b2.py": 'revision = "b2"\ndown_revision = "a1"\nbranch_labels = "billing"\n',
            },
            "b2.py",
            "branch label 'billing' (line 3) of revision b2 is declared twice: by revision a1 in a1.py and by revision b2",
            id="branch-label-twice",
        ),
        pytest.param(
            {
                "a1.py": 'revision = "a1"\ndown_revision = None\n',
                "b2.py": 'revision = "b2"\ndown_revision = "a1"\nbranch_labels = ("a1",)\n',
            },
            "b2.py",
            "branch label 'a1' (line 3) of revision b2 is also the id of the revision in a1.py: labels and revision ids must differ",
            id="branch-label-is-a-revision",
        ),
        pytest.param(
            {"a1.py": "import uuid\nrevision = uuid.uuid4().hex[:12]\ndown_revision = None\n"},
            "a1.py",
            "'revision' is not a literal (line 2)",
            id="non-literal-revision",
        ),
        pytest.param(
            {"a1.py": "from app import REV\nrevision = REV\ndown_revision = None\n"},
            "a1.py",
            "'revision' is not a literal (line 2)",
            id="imported-revision",
        ),
        pytest.param(
            {
                "a1.py": 'import cli\nrevision = "a1"\ndown_revision = None\nbranch_labels = (cli.X,)\n',
                "b2.py": 'import cli\nrevision = "b2"\ndown_revision = "a1"\ndepends_on = cli.X\n',
            },
            "b2.py",
            "'depends_on' is `cli.X` (line 4), which only importing could answer; a1.py (line 4) sets it as a branch label",
            id="non-literal-depends-on-naming-the-label",
        ),
        pytest.param(
            {"a1.py": 'import os\nrevision = os.environ.get("REV") if os.environ else "a1"\ndown_revision = None\n'},
            "a1.py",
            "'revision' is not a literal (line 2)",
            id="conditional-revision",
        ),
        pytest.param(
            {"a1.py": 'revision = "a1"\ndown_revision = 7\n'},
            "a1.py",
            "'down_revision' must be a string, a tuple of strings or None (line 2)",
            id="wrong-literal-type",
        ),
    ],
)
def test_broken_folders_name_the_file_and_the_problem(
    tmp_path: Path, files: dict[str, str], culprit: str | None, problem: str
) -> None:
    folder = folder_with(tmp_path, files)
    with pytest.raises(UsageError) as caught:
        read_history(folder)
    assert problem in caught.value.problem
    assert caught.value.file == (folder / culprit if culprit else folder)
    assert str(caught.value).startswith(str(caught.value.file) + ": ")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_history(tmp_path / "nope")
    assert caught.value.file == tmp_path / "nope"
    assert "versions folder does not exist" in caught.value.problem


def test_a_file_instead_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "versions").write_text("")
    with pytest.raises(UsageError, match="does not exist \\(or is not a folder\\)"):
        read_history(tmp_path / "versions")


# --- property: any valid DAG ---------------------------------------------------------------------

HEX_ID = st.text("0123456789abcdef", min_size=12, max_size=12)


@st.composite
def dags(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...]]]:
    """[(revision, parents)] in creation order; every parent is an earlier revision."""
    ids = draw(st.lists(HEX_ID, min_size=1, max_size=12, unique=True))
    graph: list[tuple[str, tuple[str, ...]]] = []
    for position, rev in enumerate(ids):
        earlier = ids[:position]
        parents = draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)) if earlier else []
        graph.append((rev, tuple(parents)))
    return graph


def write_dag(folder: Path, graph: list[tuple[str, tuple[str, ...]]]) -> None:
    for number, (rev, parents) in enumerate(graph):
        down = "None" if not parents else repr(parents[0]) if len(parents) == 1 else repr(parents)
        body = (
            f'"""Step {number}\n\nRevision ID: {rev}\n"""\n\nfrom alembic import op\n\n'
            f"revision = {rev!r}\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n"
            'raise RuntimeError("imported!")\n'
        )
        (folder / f"{rev}_step_{number}.py").write_text(body)


def ancestors(graph: dict[str, tuple[str, ...]], revs: set[str]) -> set[str]:
    closed, todo = set(), list(revs)
    while todo:
        rev = todo.pop()
        if rev not in closed:
            closed.add(rev)
            todo.extend(graph[rev])
    return closed


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(dags(), st.data())
def test_any_valid_dag_matches_alembic(graph: list[tuple[str, tuple[str, ...]]], data: st.DataObject) -> None:
    parents = dict(graph)
    with tempfile.TemporaryDirectory() as tmp:
        write_dag(Path(tmp), graph)
        history: MigrationHistory = read_history(Path(tmp))
        reference = RevisionMap(lambda: [Revision(rev, ps or None) for rev, ps in graph])
        assert history.heads == tuple(sorted(reference.heads))
        assert {r: m.down_revisions for r, m in history.files.items()} == parents
        assert {r: m.message for r, m in history.files.items()} == {rev: f"Step {n}" for n, (rev, _) in enumerate(graph)}

        chosen = data.draw(st.sets(st.sampled_from([rev for rev, _ in graph])), label="applied seeds")
        applied = ancestors(parents, chosen)
        # alembic_version holds the applied set's tips (no row is an ancestor of another); rows that
        # overlap are covered by test_overlapping_version_rows_still_give_a_state.
        tips = applied - {parent for rev in applied for parent in parents[rev]}
        assert ancestors(parents, tips) == applied
        pending = revisions(history.pending(tuple(sorted(tips))))
        assert sorted(pending) == sorted(set(parents) - applied)
        assert len(pending) == len(set(pending))
        for position, rev in enumerate(pending):
            for parent in parents[rev]:
                assert parent in applied or pending.index(parent) < position, (rev, parent, pending)


def test_database_on_a_branch_the_expected_head_does_not_contain() -> None:
    history = read_history(TWO_HEADS)
    result = align(expected=("f00000000002",), source="pin", database=("f00000000003",), history=history)
    assert result.state is AlignmentState.BRANCH_MISMATCH


def test_constants_of_the_file_and_supplied_labels(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        {
            "a1.py": 'import cli\nREV = "a1"\nrevision = REV\ndown_revision = None\nbranch_labels = (cli.X,)\n',
            "b2.py": 'import cli\nrevision = "b2"\ndown_revision = ["a1"]\ndepends_on = cli.X\n',
        },
    )
    history = read_history(folder, labels={"cli.X": "x"})
    assert history.files["a1"].branch_labels == ("x",) and history.files["b2"].depends_on == ("x",)
    assert history.files["b2"].down_revisions == ("a1",) and history.warnings == ()
    assert revisions(history.pending(())) == ["a1", "b2"]


def test_a_stale_pyc_does_not_hide_a_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder = folder_with(tmp_path, {"a1.py": '"""Base"""\nrevision = "a1"\ndown_revision = None\n'})
    assert read_history(folder).files["a1"].message == "Base"
    cached = Path(importlib.util.cache_from_source(str(folder / "a1.py"), optimization=""))
    assert cached.is_file()  # written as an import writes it: the next read does not compile again
    assert read_history(folder).files["a1"].message == "Base"  # read from the cached code
    (folder / "a1.py").write_text('"""Base"""\nrevision = "a1"\ndown_revision = None\ndef f(:\n')
    with pytest.raises(UsageError, match="syntax error at line 4"):
        read_history(folder)


def test_the_bytecode_and_the_syntax_tree_read_the_same_fields() -> None:
    """The fast path (constants in the compiled module) and the syntax tree agree on every example file."""
    paths = [*DEMO.glob("*.py"), *EXAMPLES.rglob("*.py")]
    compared = 0
    for path in paths:
        if "broken_syntax" in path.parts or path.name == "example_cli.py" or path.name.startswith(".#"):
            continue
        source = path.read_bytes()
        code_fields, code_doc = migration_file._code_fields(compile(source, str(path), "exec"))
        tree_fields, tree_doc = migration_file._tree_fields(ast.parse(source), {})
        if all(migration_file._plain(value) for value, _ in code_fields.values()):
            assert {k: v for k, (v, _) in code_fields.items()} == {k: v for k, (v, _) in tree_fields.items()}, path
            assert code_doc == tree_doc, path
            compared += 1
    assert compared >= 25
