"""The static reader against Alembic's own ScriptDirectory, on the layouts real projects use.

Each example reproduces a case seen on public projects' versions folders: expand/contract branches
labelled with an imported constant, one history per dialect picked by alembic.ini, an archive/
folder Alembic does not read, an editor lock file, a migration without a docstring, a syntax error.
"""

from __future__ import annotations

import py_compile
import re
import shutil
import textwrap
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from smokeproof.config.environment import load
from smokeproof.database import alembic_config, revision_source
from smokeproof.database.alignment import AlignmentState, align
from smokeproof.database.migrations import MigrationHistory, read_history
from smokeproof.database.schema_contract import SchemaContract
from smokeproof.errors import UsageError
from smokeproof.pytest_plugin.header import header_lines
from smokeproof.pytest_plugin.settings import Settings

from .alembic_reference import EXAMPLES, assert_same_as_alembic, script_for, upgrade_heads
from .suite import REPO, lay_out, run_suite

EXPAND_CONTRACT = EXAMPLES / "expand_contract"
DIALECTS = EXAMPLES / "dialects"
ARCHIVE = EXAMPLES / "with_archive" / "versions"
BROKEN = EXAMPLES / "broken_syntax" / "versions"
LABELS = {"cli.EXPAND_BRANCH": "expand", "cli.CONTRACT_BRANCH": "contract"}
EXPAND_HEAD, CONTRACT_HEAD = "0e66c5227a8a", "c6c112992c9"


@pytest.fixture(autouse=True)
def example_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alembic imports the expand/contract example, which imports its ``example_cli`` constants."""
    monkeypatch.syspath_prepend(str(EXPAND_CONTRACT))


def env_file(tmp_path: Path, revision: str) -> Path:
    path = tmp_path / "env.toml"
    path.write_text(f'base_url = "http://127.0.0.1:9"\n[revision]\n{textwrap.dedent(revision)}')
    return path


def history_of(tmp_path: Path, revision: str) -> MigrationHistory | None:
    return revision_source.load_history(load(env_file(tmp_path, revision), name="t", rootdir=REPO))


# --- expand/contract: two heads by design, labels from an imported constant ----------------------------


def test_expand_contract_without_labels_reads_as_alembic_with_unnamed_branches(tmp_path: Path) -> None:
    history = history_of(tmp_path, f'migrations = "{EXPAND_CONTRACT / "versions"}"\nrecursive = true\n')
    assert history is not None and history.heads == (EXPAND_HEAD, CONTRACT_HEAD)
    assert all(m.branch_labels == () for m in history.files.values())
    assert [w.split(" needs")[0] for w in history.warnings] == [
        "alembic: branch_labels `cli.CONTRACT_BRANCH` in liberty/contract/30018084ec99_initial.py (line 7)",
        "alembic: branch_labels `cli.EXPAND_BRANCH` in liberty/expand/354db87e3225_nsxv_vdr_metadata.py (line 13)",
    ]
    assert history.files[EXPAND_HEAD].down_revisions == ("52c5312f6baf",)  # PREVIOUS, a constant of the file
    assert assert_same_as_alembic(history, script_for(history.locations), labels=False) == 12


def test_expand_contract_with_labels_names_the_branches(tmp_path: Path) -> None:
    history = history_of(
        tmp_path,
        f'migrations = "{EXPAND_CONTRACT / "versions"}"\nrecursive = true\n'
        'labels = { "cli.EXPAND_BRANCH" = "expand", "cli.CONTRACT_BRANCH" = "contract" }\n',
    )
    assert history is not None and history.warnings == ()
    assert assert_same_as_alembic(history, script_for(history.locations)) == 12
    result = align(expected=history.heads, source="example", database=("52c5312f6baf", "30018084ec99"), history=history)
    assert result.state is AlignmentState.PENDING and result.upgrade_command == "alembic upgrade heads"
    assert [(b.name, [m.revision for m in b.files]) for b in result.branches] == [
        ("expand", [EXPAND_HEAD]),
        ("contract", ["4ffceebfada", CONTRACT_HEAD]),
    ]
    text = str(result.verdict().failure())
    assert "(3 migrations pending on 2 branches)" in text
    assert (
        "branch contract (head c6c112992c9):\n      4ffceebfada  Network RBAC  (liberty/contract/4ffceebfada_rbac_network.py)"
        in text
    )


def test_a_literal_reference_to_an_unnamed_label_names_both_places(tmp_path: Path) -> None:
    versions = shutil.copytree(EXPAND_CONTRACT / "versions", tmp_path / "versions")
    network_rbac = versions / "liberty/contract/4ffceebfada_rbac_network.py"
    network_rbac.write_text(network_rbac.read_text().replace('depends_on = ("52c5312f6baf",)', 'depends_on = ("expand",)'))
    with pytest.raises(UsageError) as caught:
        read_history(alembic_config.from_folders([versions], recursive=True))
    assert caught.value.file == network_rbac
    assert "revision 4ffceebfada points at 'expand' (line 12), no revision here" in caught.value.problem
    assert (
        "`cli.CONTRACT_BRANCH` in liberty/contract/30018084ec99_initial.py (line 7), "
        "`cli.EXPAND_BRANCH` in liberty/expand/354db87e3225_nsxv_vdr_metadata.py (line 13)" in caught.value.problem
    )
    labelled = read_history(alembic_config.from_folders([versions], recursive=True), labels=LABELS)
    assert_same_as_alembic(labelled, script_for(labelled.locations))


def test_pending_lines_keep_their_folder_and_a_message(tmp_path: Path) -> None:
    history = read_history(alembic_config.from_folders([EXPAND_CONTRACT / "versions"], recursive=True), labels=LABELS)
    initial = history.files["30018084ec99"]  # no docstring: the file name's slug
    assert (initial.shown_path, initial.message) == ("liberty/contract/30018084ec99_initial.py", "initial")
    text = str(align(expected=history.heads, source="x", database=("kilo",), history=history).verdict().failure())
    assert "30018084ec99  initial  (liberty/contract/30018084ec99_initial.py)" in text


async def test_real_upgrades_on_postgres_agree(pg_url: str) -> None:
    """Alembic migrates a real database step by step; at each step the verdict names what `upgrade heads` would run."""
    history = read_history(alembic_config.from_folders([EXPAND_CONTRACT / "versions"], recursive=True), labels=LABELS)
    script = script_for(history.locations)
    config = Config()
    config.set_main_option("script_location", str(REPO / "demo" / "migrations"))  # its env.py: online, URL from attributes
    config.set_main_option("version_locations", str(EXPAND_CONTRACT / "versions"))
    config.set_main_option("recursive_version_locations", "true")
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    for target in ("354db87e3225", "30018084ec99", EXPAND_HEAD, "heads"):
        command.upgrade(config, target)
        conn = await asyncpg.connect(pg_url, timeout=10)
        try:
            rows = tuple(sorted(r["version_num"] for r in await conn.fetch("SELECT version_num FROM alembic_version")))
        finally:
            await conn.close()
        result = align(expected=history.heads, source="example", database=rows, history=history)
        assert sorted(m.revision for m in result.pending) == sorted(upgrade_heads(script, rows)), target
        assert result.ok == (target == "heads"), (target, rows, result.state)
    assert rows == (CONTRACT_HEAD,)  # the expand head, a dependency of the contract head, leaves no row of its own


def test_single_head_fails_the_expand_contract_design(tmp_path: Path) -> None:
    history = read_history(alembic_config.from_folders([EXPAND_CONTRACT / "versions"], recursive=True), labels=LABELS)
    result = align(expected=history.heads, source="x", database=(CONTRACT_HEAD,), history=history, single_head=True)
    assert result.state is AlignmentState.MULTIPLE_CODE_HEADS and "alembic merge heads" in result.todo()


# --- which files count --------------------------------------------------------------------------------


def test_dialect_folders_through_alembic_ini(tmp_path: Path) -> None:
    history = history_of(tmp_path, f'alembic_ini = "{DIALECTS / "alembic.ini"}"\n')
    assert history is not None
    assert {m.message for m in history.files.values()} == {"Create items (postgresql)", "Add item price (postgresql)"}
    assert assert_same_as_alembic(history, script_for(history.locations)) == 3
    lock = DIALECTS / "migrations/versions/postgresql/.#b2c3d4e5f6a7_next.py"
    assert lock.is_symlink() and not lock.exists()  # an editor lock file: a dangling link, as Emacs leaves it
    assert lock not in [listed.path for listed in alembic_config.list_files(history.locations)]  # skipped, as by Alembic


def test_dialect_folders_through_pyproject_toml(tmp_path: Path) -> None:
    project = shutil.copytree(DIALECTS, tmp_path / "project", symlinks=True)
    (project / "alembic.ini").unlink()
    (project / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/migrations"\nversion_locations = ["%(here)s/migrations/versions/sqlite"]\n'
    )
    history = read_history(alembic_config.from_alembic_config(project / "pyproject.toml"))
    assert {m.message for m in history.files.values()} == {"Create items (sqlite)", "Add item price (sqlite)"}
    assert_same_as_alembic(history, script_for(history.locations))


def test_dialect_folders_without_alembic_ini(tmp_path: Path) -> None:
    versions = DIALECTS / "migrations" / "versions"
    one = history_of(tmp_path, f'migrations = "{versions / "sqlite"}"\n')
    assert one is not None and assert_same_as_alembic(one, script_for(one.locations)) == 3
    with pytest.raises(UsageError) as flat:
        history_of(tmp_path, f'migrations = "{versions}"\n')
    assert "Alembic reads subfolders (postgresql/, sqlite/) only with [revision] recursive = true" in flat.value.problem
    with pytest.raises(UsageError) as both:
        history_of(tmp_path, f'migrations = "{versions}"\nrecursive = true\n')
    assert both.value.file == versions / "sqlite" / "a1b2c3d4e5f6_create_items.py"
    assert (
        "revision a1b2c3d4e5f6 (line 9) is declared twice: in postgresql/a1b2c3d4e5f6_create_items.py "
        "and in sqlite/a1b2c3d4e5f6_create_items.py" in both.value.problem
    )
    with pytest.warns(UserWarning, match="present more than once"):  # Alembic loads it, keeping one file: we stop
        script_for(alembic_config.from_folders([versions], recursive=True)).get_heads()


def test_several_folders_as_a_list(tmp_path: Path) -> None:
    expand = EXPAND_CONTRACT / "versions"
    history = history_of(tmp_path, f'migrations = ["{expand}", "{expand / "liberty/expand"}", "{expand / "mitaka/expand"}"]\n')
    assert history is not None and sorted(history.files) == ["0e66c5227a8a", "354db87e3225", "52c5312f6baf", "kilo"]
    assert history.files["52c5312f6baf"].shown_path == "52c5312f6baf_address_scopes.py"  # relative to its own folder
    assert_same_as_alembic(history, script_for(history.locations), labels=False)


@pytest.mark.parametrize(("recursive", "heads"), [(False, ("d2e3f4a5b6c7",)), (True, ("1a1b1c1d1e1f", "d2e3f4a5b6c7"))])
def test_an_archive_folder_is_read_only_when_recursive(recursive: bool, heads: tuple[str, ...]) -> None:
    history = read_history(alembic_config.from_folders([ARCHIVE], recursive=recursive))
    assert history.heads == heads
    assert_same_as_alembic(history, script_for(history.locations))


def test_sourceless_folders_are_read_from_bytecode(tmp_path: Path) -> None:
    for source in (DIALECTS / "migrations/versions/postgresql").glob("[!.]*.py"):
        py_compile.compile(str(source), cfile=str(tmp_path / (source.name + "c")), doraise=True)
    locations = alembic_config.VersionLocations(folders=(tmp_path,), sourceless=True)
    history = read_history(locations)
    assert history.files["b2c3d4e5f6a7"].message == "Add item price (postgresql)"
    assert assert_same_as_alembic(history, script_for(locations)) == 3
    with pytest.raises(UsageError, match="no migration files"):  # without sourceless, Alembic ignores .pyc files too
        read_history(alembic_config.VersionLocations(folders=(tmp_path,)))


@pytest.mark.parametrize(
    ("folder", "states"),
    [
        pytest.param(REPO / "demo/migrations/versions", 12, id="demo"),
        pytest.param(EXAMPLES / "versions_branched", 7, id="branched-with-depends-on"),
        pytest.param(EXAMPLES / "versions_two_heads", 5, id="two-heads"),
    ],
)
def test_the_other_folders_agree_too(folder: Path, states: int) -> None:
    history = read_history(folder)
    assert assert_same_as_alembic(history, script_for(history.locations)) == states


# --- a broken folder stops the run before any check -----------------------------------------------------


def test_a_syntax_error_is_exit_4_and_one_line(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    env = env_file(pytester.path, f'migrations = "{BROKEN}"\n')
    result = run_suite(pytester, f"--env-file={env}")
    assert result.ret == 4
    assert f"{BROKEN / 'f2a3b4c5d6e7_broken.py'}: syntax error at line 12: '(' was never closed" in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()
    with pytest.raises(SyntaxError):  # where `alembic upgrade` stops too
        script_for(alembic_config.from_folders([BROKEN], recursive=False)).get_heads()


def test_a_branch_label_declared_twice_is_exit_4_at_configure(pytester: pytest.Pytester) -> None:
    """Alembic refuses such a history; the suite must say so once, before any check, not in every schema test."""
    lay_out(pytester.path)
    versions = pytester.path / "versions"
    versions.mkdir()
    (versions / "a1_base.py").write_text('revision = "a1"\ndown_revision = None\nbranch_labels = ("billing",)\n')
    (versions / "b2_more.py").write_text('revision = "b2"\ndown_revision = "a1"\nbranch_labels = ("billing",)\n')
    env = env_file(pytester.path, f'migrations = "{versions}"\n')
    result = run_suite(pytester, f"--env-file={env}")
    assert result.ret == 4, result.stdout.str()[-3000:]
    assert "branch label 'billing' (line 3) of revision " in result.stderr.str()
    assert "is declared twice: by revision a1 in a1_base.py and by revision b2 in b2_more.py" in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()


# --- the environment's [revision] keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revision", "problem"),
    [
        pytest.param('alembic_ini = "alembic.ini"\nmigrations = "."\n', "set either 'alembic_ini'", id="ini-and-folders"),
        pytest.param("migrations = []\n", "'migrations' names no folder", id="empty-list"),
        pytest.param('migrations = "nope"\n', "'revision.migrations' points at", id="missing-folder"),
        pytest.param('labels = { "cli.X" = 1 }\n', "key 'revision.labels.cli.X'", id="label-not-a-string"),
    ],
)
def test_bad_revision_keys_are_usage_errors(tmp_path: Path, revision: str, problem: str) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    with pytest.raises(UsageError, match=re.escape(problem)):
        history_of(tmp_path, revision)


def test_alembic_ini_relative_to_the_environment_file_and_its_own_folder(tmp_path: Path) -> None:
    project = shutil.copytree(DIALECTS, tmp_path / "project", symlinks=True)
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nversion_locations = migrations/versions/sqlite\n"
    )
    history = history_of(tmp_path, 'alembic_ini = "project/alembic.ini"\n')
    assert history is not None and history.locations.folders == (project / "migrations/versions/sqlite",)
    assert history_of(tmp_path, 'expected = "abc"\n') is None  # no history named: none read


def test_a_package_resource_inside_the_app_is_not_imported(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = myapp.db:migrations\n")
    with pytest.raises(UsageError, match="finding it would import the app"):
        alembic_config.from_alembic_config(tmp_path / "alembic.ini")


def test_unnamed_labels_are_a_header_line(tmp_path: Path) -> None:
    env = load(env_file(tmp_path, f'migrations = "{EXPAND_CONTRACT / "versions"}"\nrecursive = true\n'), name="t", rootdir=REPO)
    settings = Settings(
        env=env,
        contracts=(),
        schema=SchemaContract(),
        expected_override=None,
        deadline=None,
        allow_empty=False,
        history=revision_source.load_history(env),
    )
    lines = [line for line in header_lines(settings) if "branch_labels" in line]
    assert len(lines) == 2 and lines[0].startswith("smokeproof: alembic: branch_labels `cli.CONTRACT_BRANCH`")
