"""Where the data, the config schema and the cache are found."""

from pathlib import Path

import pytest

from constrict import cli
from constrict.core import paths
from constrict.core.errors import ConfigError
from constrict.data.sources import load_entries
from constrict.data.sources.schema import write_entries

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(paths.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(paths.CACHE_DIR_ENV, raising=False)


def test_data_dir_order_option_env_package(tmp_path, monkeypatch, no_env):
    option, env = tmp_path / "option", tmp_path / "env"
    option.mkdir()
    env.mkdir()
    assert paths.data_dir() == REPO / "data"
    assert paths.snapshot_path("mp_offline") == REPO / "data" / "mp_offline.parquet"
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(env))
    assert paths.data_dir() == env
    assert paths.snapshot_path("oqmd_offline") == env / "oqmd_offline.parquet"
    assert paths.data_dir(option) == option
    assert paths.snapshot_path("mp_offline", str(option)) == option / "mp_offline.parquet"


def test_bad_data_dirs_are_one_line_errors(tmp_path, monkeypatch, no_env):
    with pytest.raises(ConfigError, match="--data-dir .* is not a folder"):
        paths.data_dir(tmp_path / "absent")
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="CONSTRICT_DATA_DIR=.* is not a folder"):
        paths.snapshot_path("mp_offline")
    with pytest.raises(ConfigError, match="not an offline source"):
        paths.snapshot_path("mp_api", tmp_path)


def test_installed_layout_is_found_outside_a_checkout(tmp_path, monkeypatch):
    share = tmp_path / "prefix" / "share" / "constrict"
    (share / "data").mkdir(parents=True)
    (share / "data" / "mp_offline.parquet").write_bytes(b"")
    (share / "workflow" / "schemas").mkdir(parents=True)
    (share / "workflow" / "schemas" / "config.schema.yaml").write_text("{}")
    monkeypatch.setattr(paths, "_CHECKOUT", tmp_path / "lib")
    monkeypatch.setattr(paths, "_installed_roots", lambda: (share,))
    assert paths.package_file("data") == share / "data"
    assert paths.schema_path() == share / "workflow" / "schemas" / "config.schema.yaml"


def test_schema_found_from_the_checkout():
    assert paths.schema_path() == REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_cache_dir_order(tmp_path, monkeypatch, no_env):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert paths.cache_dir() == tmp_path / "home" / ".cache" / "constrict"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir() == tmp_path / "xdg" / "constrict"
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert paths.cache_dir() == tmp_path / "mine"


def test_cli_data_dir_option_wins_over_env(tmp_path, monkeypatch, capsys, no_env):
    folder = tmp_path / "data"
    folder.mkdir()
    write_entries(load_entries("mp_offline", chemical_systems=["Li-S"]), folder / "mp_offline.parquet")
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path))  # holds no snapshot
    monkeypatch.chdir(tmp_path)
    assert cli.main(["window", "Li2S", "--json"]) == 2
    err = capsys.readouterr().err
    assert "mp_offline.parquet not found in" in err and err.count("\n") == 1
    assert cli.main(["window", "Li2S", "--data-dir", str(folder), "--json"]) == 0
    assert '"phase": "Li2S"' in capsys.readouterr().out
    assert cli.main(["window", "Li2S", "--data-dir", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("constrict: error: --data-dir") and err.count("\n") == 1
