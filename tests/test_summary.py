"""Kcrit statistics and element correlations on rows whose answers are known
by hand (a unit test of the counting rules and the arithmetic)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from constrict import cli
from constrict.campaign.statistics import (
    element_fractions,
    element_kcrit_correlation,
    kcrit_stats,
    paper_comparison,
    read_screen,
)
from constrict.campaign.summary_stage import summarise
from constrict.core.errors import ConstrictError, SchemaError

INF = math.inf
NAN = math.nan


def _row(coating_id, kcrit_gpa, kcrit_sc_gpa, *, electrolyte="Li7P3S11", voltage_v=4.0, reacts=True, status="ok",
         sei=None, determined=True, hi=None):
    """One screen row with the columns the summary reads (the interval [K, hi], hi = K unless given)."""
    ok = reacts and status == "ok"
    return {
        "electrolyte": electrolyte,
        "electrolyte_label": electrolyte,
        "working_ion": "Li",
        "coating_id": coating_id,
        "convention": "ion_metal",
        "reacts": reacts,
        "sei_composition": json.dumps(sei or {}, sort_keys=True) if reacts else "",
        "voltage_v": voltage_v,
        "kcrit_gpa": kcrit_gpa,
        "kcrit_sc_gpa": kcrit_sc_gpa,
        "kcrit_lo_gpa": kcrit_gpa,
        "kcrit_hi_gpa": kcrit_gpa if hi is None else hi,
        "kcrit_determined": bool(determined and ok),
        "eps_ion_metal": 0.1 if ok else NAN,
        "eps_sigma": 0.01 if ok else NAN,
        "status": status,
        "error": "" if status == "ok" else "UnknownFormulaError: x",
    }


@pytest.fixture
def screen():
    """Li7P3S11 at 4 V: one of each kind of row; Li3PS4 at 0 V: two values."""
    rows = [
        _row("c1", 0.0, 0.0),
        _row("c2", 10.0, 12.0),
        _row("c3", 20.0, 30.0),
        _row("c7", 900.0, 950.0, determined=False, hi=INF),
        _row("c4", INF, INF),
        _row("c5", NAN, NAN, reacts=False),
        _row("c6", NAN, NAN, reacts=False, status="error"),
        _row("c1", 5.0, 5.0, electrolyte="Li3PS4", voltage_v=0.0),
        _row("c2", INF, 7.0, electrolyte="Li3PS4", voltage_v=0.0),
    ]
    return pd.DataFrame(rows)


def _stat(stats, electrolyte, quantity):
    sel = (stats["electrolyte"] == electrolyte) & (stats["quantity"] == quantity)
    assert sel.sum() == 1
    return stats[sel].iloc[0]


def test_counts_and_moments_by_hand(screen):
    stats = kcrit_stats(screen)
    assert len(stats) == 4  # 2 electrolyte/voltage groups x 2 quantities
    lin = _stat(stats, "Li7P3S11", "kcrit_gpa")
    assert (lin.n_rows, lin.n_error, lin.n_not_reacting, lin.n_nan) == (7, 1, 1, 0)
    assert (lin.n_stable, lin.n_inf, lin.n_finite) == (1, 1, 4)
    # finite values 0, 10, 20, 900 (zero included): mean 232.5, median 15
    assert lin.mean_gpa == pytest.approx(232.5)
    assert lin.median_gpa == pytest.approx(15.0)
    assert lin.std_gpa == pytest.approx(np.std([0.0, 10.0, 20.0, 900.0], ddof=1))
    # determined rows only (900 GPa [900, inf] is not): 0, 10, 20: mean 10, median 10, sample std 10
    assert (lin.n_undetermined, lin.n_finite_determined) == (1, 3)
    assert lin.mean_determined_gpa == pytest.approx(10.0)
    assert lin.median_determined_gpa == pytest.approx(10.0)
    assert lin.std_determined_gpa == pytest.approx(10.0)
    sc = _stat(stats, "Li7P3S11", "kcrit_sc_gpa")
    # determined rows (the linear Kcrit's flag): 0, 12, 30: mean 14, median 12, sample std sqrt((196 + 4 + 256) / 2)
    assert sc.mean_determined_gpa == pytest.approx(14.0)
    assert sc.median_determined_gpa == pytest.approx(12.0)
    assert sc.n_undetermined == 1 and sc.n_finite == 4
    assert sc.std_determined_gpa == pytest.approx(math.sqrt(228.0))


def test_every_row_counted_once(screen):
    stats = kcrit_stats(screen)
    parts = stats[["n_error", "n_not_reacting", "n_nan", "n_inf", "n_finite"]].sum(axis=1)
    assert (parts == stats["n_rows"]).all()


def test_inf_differs_between_quantities(screen):
    stats = kcrit_stats(screen)
    lin = _stat(stats, "Li3PS4", "kcrit_gpa")
    sc = _stat(stats, "Li3PS4", "kcrit_sc_gpa")
    assert (lin.n_inf, lin.n_finite, lin.mean_gpa) == (1, 1, 5.0)
    assert math.isnan(lin.std_gpa)  # one value: no sample std
    assert (sc.n_inf, sc.n_finite) == (0, 2)
    assert sc.std_gpa == pytest.approx(np.std([5.0, 7.0], ddof=1))


def test_sorted_and_grouped_by_voltage(screen):
    stats = kcrit_stats(screen)
    assert list(stats["electrolyte"]) == ["Li3PS4", "Li3PS4", "Li7P3S11", "Li7P3S11"]
    assert list(stats["voltage_v"]) == [0.0, 0.0, 4.0, 4.0]
    assert list(stats["quantity"]) == ["kcrit_gpa", "kcrit_sc_gpa"] * 2


def test_paper_comparison_matches_li7p3s11_at_4v(screen):
    comparison = paper_comparison(kcrit_stats(screen))
    assert len(comparison) == 1
    row = comparison.iloc[0]
    assert row.electrolyte_label == "Li7P3S11" and row.quantity == "kcrit_gpa"
    assert (row.paper_mean_gpa, row.paper_median_gpa, row.paper_std_gpa) == (18.5, 14.8, 13.0)
    assert row.ours_mean_gpa == pytest.approx(232.5)
    assert row.ours_mean_determined_gpa == pytest.approx(10.0) and row.n_finite_determined == 3


def test_undetermined_counts_by_hand(screen):
    from constrict.campaign.statistics import undetermined_counts

    counts = undetermined_counts(screen).set_index("electrolyte")
    lps = counts.loc["Li7P3S11"]
    assert (lps.n_with_kcrit, lps.n_determined, lps.n_undetermined, lps.n_sign_uncertain) == (5, 4, 1, 1)
    assert lps.share_undetermined == pytest.approx(0.2)
    assert counts.loc["Li3PS4", "n_undetermined"] == 0


def test_element_fractions_fill_zero():
    fractions = element_fractions(['{"Li": 0.5, "O": 0.5}', '{"F": 1.0}', ""])
    assert list(fractions.columns) == ["F", "Li", "O"]
    assert fractions.to_numpy().tolist() == [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_correlation_by_hand():
    # O fraction rises as Kcrit falls (r = -1); S only in 1 row (< min_rows -> NaN)
    rows = [
        _row("a", 20.0, 20.0, sei={"Li": 0.5, "O": 0.0, "P": 0.5}),
        _row("b", 10.0, 10.0, sei={"Li": 0.5, "O": 0.25, "P": 0.25}),
        _row("c", 0.0, 0.0, sei={"Li": 0.5, "O": 0.5}),
        _row("d", INF, INF, sei={"Li": 0.5, "S": 0.5}),  # inf: not used
        _row("e", 5.0, 5.0, sei={"Li": 1.0}, voltage_v=0.0),  # other voltage
    ]
    corr = element_kcrit_correlation(pd.DataFrame(rows), voltage_v=4.0, convention="ion_metal", min_rows=2)
    by_element = corr.set_index("element")
    assert by_element.loc["O", "pearson_r"] == pytest.approx(-1.0)
    assert by_element.loc["P", "pearson_r"] == pytest.approx(1.0)
    assert math.isnan(by_element.loc["Li", "pearson_r"])  # no variance
    assert "S" not in by_element.index  # only in the inf row
    assert by_element.loc["O", "n_present"] == 2
    assert by_element.loc["O", "spearman_r"] == pytest.approx(-1.0)


def test_spearman_resists_an_outlier():
    # monotone but with one huge Kcrit: ranks give -1, Pearson much less
    fractions_o = [0.0, 0.1, 0.2, 0.3]
    kcrit = [1000.0, 3.0, 2.0, 1.0]
    pairs = enumerate(zip(fractions_o, kcrit, strict=True))
    rows = [_row(f"c{i}", k, k, sei={"O": f, "S": 1 - f}) for i, (f, k) in pairs]
    corr = element_kcrit_correlation(pd.DataFrame(rows), voltage_v=4.0, convention="ion_metal", min_rows=3)
    o = corr.set_index("element").loc["O"]
    assert o.spearman_r == pytest.approx(-1.0)
    assert o.pearson_r == pytest.approx(np.corrcoef(fractions_o, kcrit)[0, 1])
    assert o.pearson_r > -0.8


def test_read_screen_errors(tmp_path, screen):
    with pytest.raises(ConstrictError, match="not found"):
        read_screen(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    screen.drop(columns=["kcrit_sc_gpa"]).to_parquet(bad)
    with pytest.raises(SchemaError, match="kcrit_sc_gpa"):
        read_screen(bad)


def test_summarise_writes_tables_and_figures(tmp_path, screen, capsys):
    path = tmp_path / "screen.parquet"
    screen.to_parquet(path)
    written = summarise(path, tmp_path / "summary")
    stats = pd.read_csv(written["kcrit_stats_tsv"], sep="\t")
    pd.testing.assert_frame_equal(stats, kcrit_stats(screen), check_exact=False, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(written["kcrit_stats_parquet"]), kcrit_stats(screen))
    names = ("kcrit_hist_Li7P3S11_ion_metal", "kcrit_hist_Li3PS4_ion_metal", "element_correlation_ion_metal",
             "element_correlation_pearson_ion_metal", "kcrit_vs_strain_Li7P3S11_4V_ion_metal")
    for name in names:
        assert written[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert written[name].stat().st_size > 10_000
    assert "beside the paper" in capsys.readouterr().out


def test_cli_entry_point(tmp_path, screen):
    path = tmp_path / "screen.parquet"
    screen.to_parquet(path)
    assert cli.main(["summarise", str(path), "--out-dir", str(tmp_path / "out"), "--voltage", "0"]) == 0
    corr = pd.read_csv(tmp_path / "out" / "element_correlation_ion_metal.tsv", sep="\t")
    assert list(corr.columns) == ["element", "n_present", "pearson_r", "spearman_r"]


def test_within_view_removes_the_electrolyte_level():
    # Two electrolytes: A has higher Kcrit and every A SEI holds X; inside each,
    # more O means lower Kcrit. Pooled, X looks "bad"; within, X carries nothing.
    rows = []
    for electrolyte, base, extra in (("A", 50.0, {"X": 0.2}), ("B", 10.0, {})):
        for i, f in enumerate((0.1, 0.2, 0.3, 0.4, 0.5, 0.6)):
            rest = 1 - f - sum(extra.values())
            rows.append(_row(f"{electrolyte}{i}", base - 10 * f, 1.0, electrolyte=electrolyte,
                             sei={"O": f, "S": rest, **extra}))
    screen = pd.DataFrame(rows)
    pooled = element_kcrit_correlation(screen, voltage_v=4.0, convention="ion_metal", min_rows=3).set_index("element")
    within = element_kcrit_correlation(screen, voltage_v=4.0, convention="ion_metal", min_rows=3,
                                       view="within").set_index("element")
    assert pooled.loc["X", "spearman_r"] > 0.8
    assert np.isnan(within.loc["X", "spearman_r"])  # constant inside each electrolyte
    assert within.loc["O", "spearman_r"] == pytest.approx(-1.0)
    with pytest.raises(ConstrictError, match="view must be one of"):
        element_kcrit_correlation(screen, voltage_v=4.0, convention="ion_metal", view="mixed")
