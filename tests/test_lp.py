"""DenseLP: what the engine saves around the solves must not move a bit."""

import gc

import numpy as np
import pytest

from constrict.core import lp as _lp
from constrict.core.lp import DenseLP
from constrict.physics.evaluate import evaluate_interface


def hull_like(seed: int, n_rows: int = 5, n_cols: int = 60):
    """A random LP shaped like the engine's: atom fractions, energies <= 0."""
    rng = np.random.default_rng(seed)
    comp = rng.random((n_rows, n_cols)) * (rng.random((n_rows, n_cols)) < 0.5) + 1e-3
    comp[:, :n_rows] = np.eye(n_rows)  # the elements themselves (energy 0): every composition is feasible
    comp /= comp.sum(axis=0)
    energy = -rng.random(n_cols)
    energy[:n_rows] = 0.0
    return comp, energy, rng


def solve_sequence(lp: DenseLP, rng, n_cols: int, *, combined: bool) -> list[bytes]:
    """Costs changed before every solve, the right-hand side every other time."""
    out = []
    rhs = rng.dirichlet(np.ones(lp.n_rows))
    for step in range(12):
        if step % 2 == 0:
            rhs = rng.dirichlet(np.ones(lp.n_rows))
        cost = -rng.random(n_cols)
        cost[: lp.n_rows] = 0.0
        if combined:
            lp.set_cost_and_rhs(cost, rhs)
        else:
            lp.set_cost(cost)
            lp.set_rhs(rhs)
        x, objective, _ = lp.solve()
        out.append(x.tobytes() + np.float64(objective).tobytes())
    return out


def test_a_recycled_solver_gives_the_same_bits_as_a_new_one(monkeypatch):
    comp, energy, _ = hull_like(0)
    monkeypatch.setattr(_lp, "_spare", [])
    fresh = solve_sequence(DenseLP(comp, comp[:, 0], energy), np.random.default_rng(1), comp.shape[1], combined=False)
    gc.collect()
    for seed in range(2, 6):  # other models, solved, then dropped: the solver goes back to the stock
        other, other_energy, rng = hull_like(seed, n_cols=40 + seed)
        lp = DenseLP(other, other[:, 0], other_energy)
        solve_sequence(lp, rng, other.shape[1], combined=False)
        del lp
    gc.collect()
    used = _lp._spare[-1]  # the solver every model above went through
    lp = DenseLP(comp, comp[:, 0], energy)
    assert lp._h is used
    assert solve_sequence(lp, np.random.default_rng(1), comp.shape[1], combined=False) == fresh


def test_an_unchanged_rhs_is_left_alone_without_moving_a_bit():
    comp, energy, _ = hull_like(7)
    both = solve_sequence(DenseLP(comp, comp[:, 0], energy), np.random.default_rng(3), comp.shape[1], combined=False)
    combined = solve_sequence(DenseLP(comp, comp[:, 0], energy), np.random.default_rng(3), comp.shape[1],
                              combined=True)
    assert combined == both


@pytest.mark.parametrize("pair", [("Li7P3S11", "LiNbO3"), ("Li10GeP2S12", "Al2O3")])
def test_a_fresh_entry_set_forgets_earlier_solves(snapshot_set, pair):
    """Results on EntrySet.fresh() do not depend on what ran on the set before."""
    kwargs = {"voltages_v": [2.0, 3.0, 4.0], "working_ion": "Li"}
    first = evaluate_interface(snapshot_set.fresh(), *pair, **kwargs)
    busy = snapshot_set.fresh()
    for coating in ("Li2S", "LiPO3", "Li3PO4", "P2S5"):
        evaluate_interface(busy, pair[0], coating, **kwargs)
    again = evaluate_interface(busy.fresh(), *pair, **kwargs)
    assert str(again) == str(first)  # repr of a float round-trips its bits; NaN != NaN in ==
    assert busy.fresh().comp is snapshot_set.comp


def test_solution_is_named():
    sol = DenseLP(np.array([[1.0, 1.0]]), np.array([1.0]), np.array([1.0, 2.0])).solve()
    assert isinstance(sol, _lp.LPSolution)
    np.testing.assert_allclose(sol.x, [1.0, 0.0])
    assert sol.objective == pytest.approx(1.0) and sol.row_duals.shape == (1,)
