"""Shared test fixtures: the repository paths and the embedded offline snapshot."""

from pathlib import Path

import pandas as pd
import pytest
from helpers import SNAPSHOT, tiny_table

from constrict.data.entries import EntrySet

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds Snakefile, data/, config/)."""
    return REPO


@pytest.fixture(scope="session")
def snapshot_path() -> Path:
    """data/mp_offline.parquet, the committed offline MP entry table."""
    if not SNAPSHOT.is_file():
        pytest.fail("data/mp_offline.parquet is missing; run `make snapshot` (it is committed in git)")
    return SNAPSHOT


@pytest.fixture(scope="session")
def snapshot_frame(snapshot_path) -> pd.DataFrame:
    """The whole offline entry table, read once per session (do not modify it)."""
    return pd.read_parquet(snapshot_path)


@pytest.fixture(scope="session")
def snapshot_set(snapshot_frame) -> EntrySet:
    """The engine's EntrySet over the whole offline table, built once per session."""
    return EntrySet.from_frame(snapshot_frame)


@pytest.fixture
def lis() -> EntrySet:
    """The hand-checkable Li-S system (helpers.LI_S_ROWS), fresh per test."""
    return EntrySet.from_frame(tiny_table())


@pytest.fixture(scope="session", autouse=True)
def private_entry_cache(tmp_path_factory):
    """Keep the tests' entry-set cache out of the user's ~/.cache (CONSTRICT_CACHE_DIR)."""
    import os

    from constrict.core.paths import CACHE_DIR_ENV

    saved = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("entry-cache"))
    yield
    if saved is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = saved
