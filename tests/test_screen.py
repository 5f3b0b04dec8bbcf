"""constrict.campaign.screen: plan, partitions, entry subsets, evaluation, Parquet I/O, gather."""

import filecmp
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from constrict.campaign import plan as planning
from constrict.campaign import screen
from constrict.core.config import load_config
from constrict.core.errors import ConstrictError, SchemaError
from constrict.data import coatings as selection_mod
from constrict.data import tables
from constrict.data.entries import EntrySet
from constrict.physics.evaluate import evaluate_interface

VOLTAGES_V = [2.0, 4.0]
# A few real sulfide/oxide/halide systems around Li3PS4 and Na3PS4.
SYSTEMS = ["Li-P-S-O-Zr", "Li-P-S-Nb-O", "Li-P-S-Cl-Y", "Na-P-S-O-Al", "Li-Ge-P-S-O-Al", "Li-P-S-F-La"]


@pytest.fixture(scope="module")
def entries(snapshot_frame) -> pd.DataFrame:
    """Real entries of a handful of chemical systems (a few hundred rows)."""
    return screen.entries_within(snapshot_frame, SYSTEMS).reset_index(drop=True)


@pytest.fixture(scope="module")
def entries_path(entries, tmp_path_factory):
    path = tmp_path_factory.mktemp("entries") / "entries.parquet"
    entries.to_parquet(path)
    return str(path)


@pytest.fixture(scope="module")
def coatings(entries) -> pd.DataFrame:
    on_hull = (entries["band_gap_ev"] > 0) & (entries["e_above_hull_ev"] <= 1e-6) & (entries["nelements"] >= 2)
    return entries[on_hull].sort_values("entry_id").head(14).reset_index(drop=True)


@pytest.fixture(scope="module")
def electrolytes(entries):
    items = [
        {"formula": "Li3PS4", "working_ion": "Li", "stand_in_for": None},
        {"formula": "Na3PS4", "working_ion": "Na", "stand_in_for": "Na7P3S11"},
        {"formula": "Na7P3S11", "working_ion": "Na", "stand_in_for": None},
    ]
    return planning.resolve_electrolytes(entries, items)


@pytest.fixture(scope="module")
def plan(coatings, electrolytes) -> pd.DataFrame:
    available, _ = electrolytes
    return planning.plan_shards(coatings, available, n_shards=4, partition_size=2)


def test_entries_within_is_exactly_the_subsystems(snapshot_frame, entries):
    allowed = [set(s.split("-")) for s in SYSTEMS]
    inside = snapshot_frame["elements"].map(lambda els: any(set(els) <= a for a in allowed))
    assert len(entries) == int(inside.sum()) > 100
    assert set(entries["entry_id"]) == set(snapshot_frame.loc[inside, "entry_id"])


def test_missing_electrolyte_is_skipped_with_its_reason(electrolytes):
    available, skipped = electrolytes
    assert [e["formula"] for e in available] == ["Li3PS4", "Na3PS4"]
    assert available[1]["label"] == "Na3PS4 (stand-in for Na7P3S11)"
    assert skipped["electrolyte"].tolist() == ["Na7P3S11"]
    assert "not in the entry data" in skipped["reason"].iloc[0]


def test_missing_working_ion_metal_is_skipped(entries):
    no_sodium_metal = entries[entries["reduced_formula"] != "Na"]
    available, skipped = planning.resolve_electrolytes(no_sodium_metal, [{"formula": "Na3PS4", "working_ion": "Na"}])
    assert available == [] and "no elemental Na entry" in skipped["reason"].iloc[0]


def test_plan_sorts_by_coating_system_and_cuts_padded_shards(plan, coatings, electrolytes):
    available, _ = electrolytes
    self_pairs = sum(coatings["reduced_formula"].isin([e["reduced_formula"] for e in available]))
    assert len(plan) == len(coatings) * len(available) - self_pairs
    assert plan["pair_index"].tolist() == list(range(len(plan)))
    key = list(plan[planning.PLAN_SORT].itertuples(index=False, name=None))
    assert key == sorted(key)
    assert planning.shard_ids(plan) == planning.all_shard_ids(4) == ["0000", "0001", "0002", "0003"]
    assert plan["shard"].is_monotonic_increasing and plan["partition"].is_monotonic_increasing
    # Exactly 4 shards of whole partitions, balanced: sizes differ by at most one partition.
    assert (plan.groupby("partition")["shard"].nunique() == 1).all()
    largest_partition = plan.groupby("partition").size().max()
    sizes = plan.groupby("shard").size()
    assert sizes.max() - sizes.min() <= largest_partition
    assert not plan.duplicated(["electrolyte", "coating_id"]).any()
    row = plan.iloc[0]
    coating = coatings.set_index("entry_id").loc[row["coating_id"]]
    electrolyte = next(e for e in available if e["formula"] == row["electrolyte"])
    assert row["chemical_system"] == "-".join(sorted(set(coating["elements"]) | set(electrolyte["elements"])))


def test_shard_id_padding():
    assert planning.shard_id(3, 40) == "0003"
    assert planning.shard_id(12345, 20000) == "12345"
    with pytest.raises(ConstrictError):
        planning.plan_shards(pd.DataFrame(), [], n_shards=0)


def test_partitions_spread_over_exactly_n_shards():
    # Whole partitions in order, each shard non-empty, near total / n_shards pairs each.
    sizes = [200, 210, 190, 205, 400, 200, 195, 200, 210, 190]
    shard = planning.shards_of_partitions(sizes, 4)
    assert shard.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]
    assert np.bincount(shard, weights=sizes).tolist() == [600, 605, 395, 600]
    assert planning.shards_of_partitions(sizes, 4).tolist() == shard.tolist()  # deterministic
    # One giant partition still leaves every shard a partition.
    assert planning.shards_of_partitions([1, 1000, 1, 1], 4).tolist() == [0, 1, 2, 3]
    assert planning.shards_of_partitions([1000, 1, 1, 1], 3).tolist() == [0, 1, 2, 2]
    for n in range(1, 12):
        got = planning.shards_of_partitions(sizes, n)
        assert np.all(np.diff(got) >= 0) and got[0] == 0
        assert len(set(got.tolist())) == min(n, len(sizes))
    # Fewer partitions than shards: one each, the last shards empty.
    assert planning.shards_of_partitions([5, 5], 4).tolist() == [0, 1]
    assert planning.shards_of_partitions([], 3).tolist() == []
    assert planning.n_shards_for(71_094, 2000) == 36 and planning.n_shards_for(0, 2000) == 1
    assert planning.n_shards_for(4000, 2000) == 2


def test_counted_interfaces_equal_the_plan(entries, coatings, electrolytes):
    available, _ = electrolytes
    plan = planning.plan_shards(coatings, available, n_shards=3)
    assert planning.count_pairs(coatings, available) == len(plan)
    config = load_config()
    selection = {**config["selection"], "allowed_elements": ["Li", "Na", "P", "S", "O", "Zr"], "max_coatings": 6}
    chosen = selection_mod.campaign_coatings(entries, selection, random_state=2)
    resolved, _ = planning.resolve_electrolytes(entries, config["electrolytes"])
    counted = planning.count_interfaces(entries, electrolytes=config["electrolytes"], selection=selection,
                                      random_state=2)
    assert counted == len(planning.plan_shards(chosen, resolved, n_shards=2)) > 0


def test_default_selection_is_the_package_default(snapshot_frame):
    """exclude_elements: default = constrict.data.coatings.EXCLUDED_ELEMENTS; 17,774 coatings, 71,094 interfaces."""
    from constrict.data.coatings import select_coatings

    config = load_config()
    assert config["selection"]["exclude_elements"] == "default"
    chosen = selection_mod.campaign_coatings(snapshot_frame, config["selection"], config["random_state"])
    assert chosen["entry_id"].tolist() == select_coatings(snapshot_frame)["entry_id"].tolist()
    assert len(chosen) == 17_774
    none = selection_mod.campaign_coatings(snapshot_frame, {**config["selection"], "exclude_elements": []})
    assert len(none) > len(chosen)
    counted = planning.count_interfaces(snapshot_frame, electrolytes=config["electrolytes"],
                                      selection=config["selection"], random_state=config["random_state"])
    assert counted == 71_094


def test_results_do_not_depend_on_the_layout(coatings, electrolytes, entries_path):
    """Same partitions, other shard cut and scheduler: bit-identical numbers."""
    available, _ = electrolytes
    small = planning.plan_shards(coatings, available, n_shards=5, partition_size=3)
    big = planning.plan_shards(coatings, available, n_shards=1, partition_size=3)
    assert small.drop(columns="shard").equals(big.drop(columns="shard"))
    pieces = [screen.screen_pairs(group, entries_path, voltages_v=VOLTAGES_V, threads=1)
              for _, group in small.groupby("shard")]
    whole = screen.screen_pairs(big, entries_path, voltages_v=VOLTAGES_V, threads=2)
    pd.testing.assert_frame_equal(tables.results_frame(pd.concat(pieces)), whole, check_exact=True)


def test_partitions_keep_chemical_systems_whole(plan):
    assert plan["chemical_system"].nunique() < len(plan)  # some systems are shared
    assert (plan.groupby("chemical_system")["partition"].nunique() == 1).all()
    sizes = plan.groupby("partition").size()
    last = plan.groupby("partition")["chemical_system"].last()
    first = plan.groupby("partition")["chemical_system"].first()
    # A partition closes only at a system change once it holds >= 2 pairs.
    assert (sizes.iloc[:-1] >= 2).all() and (last.iloc[:-1].to_numpy() != first.iloc[1:].to_numpy()).all()
    np.testing.assert_array_equal(planning.partition_ids(["a", "a", "b", "c", "c", "c", "d"], 2), [0, 0, 1, 1, 1, 1, 2])


def test_results_equal_direct_engine_calls(plan, entries_path, entries):
    pairs = plan.head(4)
    got = screen.screen_pairs(pairs, entries_path, voltages_v=VOLTAGES_V, threads=1)
    assert len(got) == len(pairs) * len(VOLTAGES_V)
    assert (got["status"] == "ok").all()
    entry_set = EntrySet.from_frame(entries)
    for pair in pairs.itertuples():
        rows = evaluate_interface(entry_set, pair.electrolyte, pair.coating_id, voltages_v=VOLTAGES_V,
                                  working_ion=pair.working_ion)
        mine = got[(got["electrolyte"] == pair.electrolyte) & (got["coating_id"] == pair.coating_id)]
        assert mine["electrolyte_label"].eq(pair.electrolyte_label).all()
        for row, (_, have) in zip(rows, mine.iterrows(), strict=True):
            for key in ("x_m", "e_rxn_ev_per_atom", "dg_ev_per_atom", "kcrit_gpa", "kcrit_sc_gpa", "voltage_v"):
                np.testing.assert_equal(have[key], row[key])
            assert have["products"] == row["products"]


def test_bad_pair_gives_error_rows_not_a_failed_shard(plan, entries_path):
    pairs = plan.head(2).copy()
    pairs.loc[pairs.index[0], "coating_id"] = "mp_offline:NoSuchCoating"
    got = screen.screen_pairs(pairs, entries_path, voltages_v=VOLTAGES_V, threads=1)
    bad = got[got["coating_id"] == "mp_offline:NoSuchCoating"]
    assert len(bad) == len(VOLTAGES_V) and (bad["status"] == "error").all()
    assert bad["error"].str.len().gt(0).all() and not bad["error"].str.contains("\n").any()
    assert bad["kcrit_gpa"].isna().all() and bad["products"].map(json.loads).eq({}).all()
    assert (got.loc[got["coating_id"] != "mp_offline:NoSuchCoating", "status"] == "ok").all()


def test_code_bug_fails_the_shard_not_an_error_row(plan, entries_path, monkeypatch):
    """Only the physics' refusals (ConstrictError) become error rows; a bug propagates."""

    def broken(*args, **kwargs):
        raise TypeError("a bug, not a physics refusal")

    monkeypatch.setattr(screen, "evaluate_interface", broken)
    with pytest.raises(TypeError, match="a bug"):
        screen.screen_pairs(plan.head(2), entries_path, voltages_v=VOLTAGES_V, threads=1)


def test_shard_of_only_errors_fails(plan, entries_path, tmp_path):
    shard = planning.shard_ids(plan)[0]
    broken = plan.copy()
    broken.loc[broken["shard"] == shard, "coating_id"] = "mp_offline:NoSuchCoating"
    out = tmp_path / "o.parquet"
    with pytest.raises(ConstrictError, match="all .* interfaces failed"):
        screen.screen_shard(_plan_file(broken, tmp_path), shard, entries_path, out, voltages_v=VOLTAGES_V)
    assert not out.exists()


def test_dask_cluster_equals_synchronous(plan, entries_path):
    pairs = plan.head(10)
    one = screen.screen_pairs(pairs, entries_path, voltages_v=VOLTAGES_V, threads=1)
    two = screen.screen_pairs(pairs, entries_path, voltages_v=VOLTAGES_V, threads=2)
    pd.testing.assert_frame_equal(one, two)
    assert one[tables.RESULT_SORT].equals(one[tables.RESULT_SORT].sort_values(tables.RESULT_SORT, ignore_index=True))


def test_shards_gather_byte_identical_and_sorted(plan, entries_path, tmp_path):
    outs = []
    for shard in planning.shard_ids(plan)[:3]:
        out = tmp_path / "shards" / f"{shard}.parquet"
        screen.screen_shard(_plan_file(plan, tmp_path), shard, entries_path, out, voltages_v=VOLTAGES_V)
        outs.append(out)
    assert not list((tmp_path / "shards").glob(".*tmp"))
    a = screen.gather(outs, tmp_path / "a.parquet")
    screen.gather(list(reversed(outs)), tmp_path / "b.parquet")
    assert filecmp.cmp(tmp_path / "a.parquet", tmp_path / "b.parquet", shallow=False)
    back = tables.read_results(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, a)
    assert back.columns.tolist() == tables.RESULT_SCHEMA.names
    assert back.equals(back.sort_values(tables.RESULT_SORT, ignore_index=True))
    assert len(back) == plan["shard"].isin(planning.shard_ids(plan)[:3]).sum() * len(VOLTAGES_V)


def _plan_file(plan, tmp_path, n_shards=4):
    path = tmp_path / "plan.parquet"
    if not path.exists():
        tables.write_table(plan, path, planning.PLAN_SCHEMA, metadata={"n_shards": str(n_shards)})
    return path


def test_write_table_refuses_wrong_columns(tmp_path, plan):
    with pytest.raises(SchemaError, match="missing columns"):
        tables.write_table(plan.drop(columns="shard"), tmp_path / "x.parquet", planning.PLAN_SCHEMA)
    assert not (tmp_path / "x.parquet").exists()


def test_unknown_shard_is_a_clear_error(plan, entries_path, tmp_path):
    with pytest.raises(ConstrictError, match="not in"):
        screen.screen_shard(_plan_file(plan, tmp_path), "9999", entries_path, tmp_path / "o.parquet",
                            voltages_v=VOLTAGES_V)


def test_write_plan_counts_skipped(entries_path, coatings, tmp_path):
    coatings_path = tmp_path / "coatings.parquet"
    coatings.to_parquet(coatings_path)
    config = load_config()
    plan = planning.write_plan(entries_path, coatings_path, config["electrolytes"],
                             plan_path=tmp_path / "plan.parquet", skipped_path=tmp_path / "skipped.tsv",
                             n_shards=3, partition_size=5)
    assert planning.plan_n_shards(tmp_path / "plan.parquet") == 3
    assert planning.shard_ids(plan) == ["0000", "0001", "0002"]
    skipped = pd.read_csv(tmp_path / "skipped.tsv", sep="\t")
    # No Si system among SYSTEMS, so LSPS is missing from these entries.
    assert skipped["electrolyte"].tolist() == ["Li10SiP2S12"]
    assert set(plan["electrolyte_label"]) == {"Li10GeP2S12", "Li7P3S11", "Na3PS4 (stand-in for Na7P3S11)"}


def test_limit_coatings_is_seeded_and_respects_elements(snapshot_frame):
    pool = snapshot_frame[(snapshot_frame["band_gap_ev"] > 0) & (snapshot_frame["e_above_hull_ev"] <= 1e-6)]
    pool = pool.sort_values("entry_id").reset_index(drop=True)
    a = selection_mod.limit_coatings(pool, max_coatings=25, random_state=3)
    b = selection_mod.limit_coatings(pool, max_coatings=25, random_state=3)
    c = selection_mod.limit_coatings(pool, max_coatings=25, random_state=4)
    assert len(a) == 25 and a["entry_id"].tolist() == b["entry_id"].tolist() != c["entry_id"].tolist()
    assert a["entry_id"].is_monotonic_increasing
    oxides = selection_mod.limit_coatings(pool, allowed_elements=["Li", "O", "Zr", "La"])
    assert len(oxides) > 3 and oxides["elements"].map(lambda els: set(els) <= {"Li", "O", "Zr", "La"}).all()
    assert len(selection_mod.limit_coatings(pool, max_coatings=10**6)) == len(pool)


def test_empty_shard_writes_an_empty_table(entries_path, coatings, electrolytes, tmp_path):
    """More shards than partitions: the extra shards are empty Parquet files with the full schema."""
    available, _ = electrolytes
    plan = planning.plan_shards(coatings.head(2), available[:1], n_shards=3, partition_size=100)
    assert planning.shard_ids(plan) == ["0000"]
    path = _plan_file(plan, tmp_path, n_shards=3)
    outs = [tmp_path / f"{s}.parquet" for s in planning.all_shard_ids(3)]
    for shard, out in zip(planning.all_shard_ids(3), outs, strict=True):
        screen.screen_shard(path, shard, entries_path, out, voltages_v=VOLTAGES_V)
    empty = tables.read_results(outs[2])
    assert empty.empty and pq.read_schema(outs[2]).equals(tables.RESULT_SCHEMA)
    screen.gather(outs, tmp_path / "all.parquet")
    screen.gather(outs[:1], tmp_path / "one.parquet")
    assert filecmp.cmp(tmp_path / "all.parquet", tmp_path / "one.parquet", shallow=False)
    with pytest.raises(ConstrictError, match="not in"):
        screen.screen_shard(path, "0003", entries_path, tmp_path / "x.parquet", voltages_v=VOLTAGES_V)
