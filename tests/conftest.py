"""Shared test fixtures: the repository paths and the embedded offline snapshot."""

from pathlib import Path

import pandas as pd
import pytest
from helpers import SNAPSHOT, tiny_table

from constrict.hull import EntrySet

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
