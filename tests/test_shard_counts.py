"""Cached shard counts (constrict.campaign.shard_counts): the DAG reads a count, never a stale one."""

from constrict.campaign.shard_counts import cached_count, count_key

CODE = ("constrict.campaign.plan",)


def test_a_count_is_computed_once_then_read(tmp_path):
    table = tmp_path / "entries.parquet"
    table.write_bytes(b"table")
    calls = []

    def compute():
        calls.append(1)
        return 41

    key = count_key("screen", [table, None], {"shard_size": 200}, CODE)
    assert cached_count(key, compute, tmp_path / "counts") == 41
    assert cached_count(key, lambda: 0, tmp_path / "counts") == 41
    assert len(calls) == 1


def test_the_key_follows_the_table_bytes_the_config_and_the_kind(tmp_path):
    table = tmp_path / "entries.parquet"
    table.write_bytes(b"table")
    key = count_key("screen", [table], {"selection": {"max_coatings": 200}}, CODE)
    assert key == count_key("screen", [table], {"selection": {"max_coatings": 200}}, CODE)
    assert key != count_key("screen", [table], {"selection": {"max_coatings": 201}}, CODE)
    assert key != count_key("cathode", [table], {"selection": {"max_coatings": 200}}, CODE)
    table.write_bytes(b"table2")
    assert key != count_key("screen", [table], {"selection": {"max_coatings": 200}}, CODE)


def test_a_damaged_count_is_computed_again(tmp_path):
    folder = tmp_path / "counts"
    folder.mkdir()
    (folder / "k.json").write_text("{not json")
    assert cached_count("k", lambda: 7, folder) == 7
    assert cached_count("k", lambda: 0, folder) == 7
