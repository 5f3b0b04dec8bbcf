"""Command line: ``constrict interface``, ``constrict window`` and friends.

Subcommands register themselves in :data:`SUBCOMMANDS` (name -> (add
arguments, run)); any :class:`~constrict.errors.ConstrictError` becomes one
line ``constrict: error: ...`` on stderr and exit code 2.

JSON output (``--json``): NaN is written as ``null`` and infinities as the
strings ``"inf"`` / ``"-inf"`` so that the output is strict JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from constrict import DEFAULT_CONVENTION, STRAIN_CONVENTIONS
from constrict.errors import ConfigError, ConstrictError, SchemaError

SUBCOMMANDS: dict = {}
"""name -> (help, add_arguments(parser), run(args) -> int)."""


def register(name: str, help_text: str):
    """Decorator pair: ``@register(name, help)`` on a run function with an ``add_arguments`` attribute."""

    def wrap(run):
        SUBCOMMANDS[name] = (help_text, run.add_arguments, run)
        return run

    return wrap


def load_entry_set(source: str = "mp_offline", custom: str | None = None, data_dir: str | None = None):
    """EntrySet of a source, with custom entries merged in (built arrays cached on disk)."""
    from constrict.entry_cache import load_entry_set as load

    return load(source, custom=custom, data_dir=data_dir)


def load_phase_sigmas(args, entry_set):
    """Per-phase uncertainties of the Kcrit intervals (default model) for ``entry_set``.

    An offline snapshot without custom entries gives its evidence columns
    straight from the file (fast); any other table from the entry set's own
    frame.
    """
    from constrict.uncertainty import PhaseSigmas, UncertaintyModel, phase_sigmas, read_evidence

    if args.custom is None and args.source != "mp_api":
        from constrict.entry_cache import cached_arrays, file_digest
        from constrict.entry_cache import load_entry_set as load_whole
        from constrict.paths import snapshot_path

        path, model = snapshot_path(args.source, args.data_dir), UncertaintyModel()

        def build():  # over the whole snapshot (the energy shifts are fitted on it)
            whole = load_whole(args.source, data_dir=args.data_dir)
            sigmas = phase_sigmas(whole, model, evidence=read_evidence(path))
            return {"entry_ids": whole.entry_ids.astype(str), "sigma_v_rel": sigmas.sigma_v_rel,
                    "sigma_v_a3": sigmas.sigma_v_a3, "sigma_e_ev": sigmas.sigma_e_ev}

        arrays = cached_arrays(f"phase-sigmas-by-entry:{file_digest(path)}:{model!r}", build)
        sigmas = PhaseSigmas(arrays["entry_ids"].astype(object), arrays["sigma_v_rel"], arrays["sigma_v_a3"],
                             arrays["sigma_e_ev"], model)
        try:
            return sigmas.for_entry_set(entry_set)
        except SchemaError:  # entries that are not the snapshot's (a table given in code): align by entry_id
            return phase_sigmas(entry_set, model, evidence=read_evidence(path))
    return phase_sigmas(entry_set)


def _clean(value):
    """JSON-safe value: NaN -> None, +-inf -> "inf"/"-inf"."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _fmt(value: float, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def _phases(text: str) -> str:
    amounts = json.loads(text)
    return " + ".join(f"{a:.4g} {name}" for name, a in amounts.items()) or "-"


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default="mp_offline", choices=["mp_offline", "oqmd_offline", "mp_api"])
    p.add_argument("--custom", default=None, help="file of custom entries (docs/schema.md)")
    p.add_argument("--data-dir", default=None,
                   help="folder of the offline snapshots (default: $CONSTRICT_DATA_DIR, else the package's own data)")
    p.add_argument("--ion", default=None,
                   help="working ion (default: Na if the electrolyte has Na and not Li, else Li)")
    p.add_argument("--allow-absent-ion", action="store_true",
                   help="accept an --ion that none of the reactants contains")
    p.add_argument("--json", action="store_true", help="machine-readable output (NaN -> null, inf -> \"inf\")")


def _ion(entry_set, reactants: list[str], ion: str | None, allow_absent: bool = False) -> str:
    """The working ion: ``--ion`` (checked against the reactants) or the first reactant's default."""
    from constrict.evaluate import default_working_ion, resolve_reactant

    resolved = [resolve_reactant(entry_set, r)[0] for r in reactants]
    elements = [{entry_set.elements[j] for j in r.comp.nonzero()[0]} for r in resolved]
    if not ion:
        return default_working_ion(elements[0])
    formulas = [r.formula for r in resolved]
    present = any(ion in els for els in elements)
    if not present and not allow_absent:
        raise ConfigError(
            f"working ion {ion} is in none of {', '.join(formulas)}; "
            "pass --allow-absent-ion to open the system to it anyway"
        )
    return ion


def _check_keff(keff_gpa: float | None) -> None:
    if keff_gpa is not None and not (math.isfinite(keff_gpa) and keff_gpa >= 0):
        raise ConfigError(f"--keff must be a finite modulus >= 0 GPa, got {keff_gpa:g}")


def add_plot_argument(p: argparse.ArgumentParser, what: str) -> None:
    """``--plot FILE``: draw ``what`` to FILE (PNG or SVG by its suffix) with a JSON sidecar of the numbers."""
    p.add_argument("--plot", default=None, metavar="FILE",
                   help=f"also draw {what} to FILE (.png or .svg, by the suffix); the plotted numbers go to the "
                   "same name with .json")


def plot_path(args):
    """``--plot`` checked before any work (suffix, folder); None when not asked for."""
    if getattr(args, "plot", None) is None:
        return None
    from constrict.figures.output import check_figure_path

    return check_figure_path(args.plot)


def report_plot(args, plot) -> None:
    """Say where a figure went (not in --json mode: stdout is then JSON only)."""
    from constrict.figures.output import sidecar_path

    if not args.json:
        print(f"figure {plot.path}; its numbers in {sidecar_path(plot.path)}")


def run_interface(args) -> int:
    """Interface reaction and per-voltage Kcrit of one electrolyte/coating pair."""
    from constrict.evaluate import evaluate_interface
    from constrict.opensystem import check_voltages

    check_voltages(args.voltage)
    path = plot_path(args)
    entry_set = load_entry_set(args.source, args.custom, args.data_dir)
    ion = _ion(entry_set, [args.electrolyte, args.coating], args.ion, args.allow_absent_ion)
    sigmas = load_phase_sigmas(args, entry_set)
    rows = evaluate_interface(
        entry_set, args.electrolyte, args.coating, voltages_v=args.voltage, working_ion=ion, convention=args.convention,
        sigmas=sigmas,
    )
    plot = None
    if path is not None:
        from constrict.figures import interface_figure

        plot = interface_figure(entry_set, args.electrolyte, args.coating, path, working_ion=ion,
                                convention=args.convention, voltages_v=args.voltage,
                                voltage_range_v=tuple(args.voltage_range), keff_gpa=args.keff)
    if args.json:
        print(json.dumps(_clean(rows), indent=1))
    else:
        _print_interface(rows, ion, sigmas.model)
    if plot is not None:
        report_plot(args, plot)
    return 0


def _print_interface(rows: list[dict], ion: str, model) -> None:
    """The interface as text: the reaction, its SEI and one line per voltage (Kcrit with its interval)."""
    from constrict.uncertainty import kcrit_text

    r = rows[0]
    print(f"{r['electrolyte']} | {r['coating_formula']} ({r['coating_id']})  chemical system {r['chemical_system']}")
    print(f"working ion {ion}; amounts per atom of reactant; strain convention for Kcrit: {r['convention']}")
    if not r["reacts"]:
        print(f"no reaction: E_rxn = {_fmt(r['e_rxn_ev_per_atom'])} eV/atom "
              f"(mutual {_fmt(r['e_rxn_mutual_ev_per_atom'])})")
        return
    print(f"x_m = {_fmt(r['x_m'])} (coating atom fraction), mutual = {r['mutual']}")
    print(f"E_rxn = {_fmt(r['e_rxn_ev_per_atom'])} eV/atom; "
          f"mutual E_rxn (hull energies) = {_fmt(r['e_rxn_mutual_ev_per_atom'])} eV/atom")
    print(f"{1 - r['x_m']:.4g} {r['electrolyte']} + {r['x_m']:.4g} {r['coating_formula']} "
          f"-> {_phases(r['sei_products'])}")
    header = (f"{'V':>5} {'ion_rel':>8} {'dG eV':>9} {'eps_metal':>9} {'eps_res':>9} {'eps_rel':>9} "
              f"{'Kcrit_sc':>9}  Kcrit [interval]")
    print(header)
    for r in rows:
        print(
            f"{r['voltage_v']:5.2f} {_fmt(r['ion_released_per_atom']):>8} {_fmt(r['dg_ev_per_atom']):>9} "
            f"{_fmt(r['eps_ion_metal']):>9} {_fmt(r['eps_reservoir']):>9} {_fmt(r['eps_released_metal']):>9} "
            f"{_fmt(r['kcrit_sc_gpa'], 2):>9}  Kcrit {kcrit_text(r, model.coverage_k)}"
        )
        print(f"{'':5} -> {_phases(r['products'])}")
    print(f"Kcrit interval: p = 0 products held, per-phase volume and energy uncertainties at "
          f"{model.coverage_k:g} standard deviation(s); determined = finite with hi <= {model.max_ratio:g} x lo "
          "(docs/science.md)")


def _interface_args(p):
    p.add_argument("electrolyte", help="formula or entry_id, e.g. Li7P3S11")
    p.add_argument("coating", help="formula or entry_id, e.g. LiNbO3, or any composition at its hull energy as "
                   "hull:<formula>, e.g. hull:Li0.364P0.110S0.388I0.138")
    p.add_argument("--voltage", type=float, nargs="+", default=[2.0, 3.0, 4.0], help="V vs. the ion metal")
    add_plot_argument(p, "E_rxn(x) with its kinks and x_m, and the SEI's dG, strain and Kcrit against voltage")
    p.add_argument("--voltage-range", type=float, nargs=2, default=[0.0, 5.0], metavar=("VMIN", "VMAX"),
                   help="voltage axis of --plot (V vs. the ion metal; default 0 5)")
    p.add_argument("--keff", type=float, nargs="+", default=[5.0, 10.0, 15.0], metavar="GPA",
                   help="Keff lines of --plot (GPa; default 5 10 15)")
    p.add_argument("--convention", default=DEFAULT_CONVENTION, choices=STRAIN_CONVENTIONS)
    _add_data_args(p)


run_interface.add_arguments = _interface_args
register("interface", "interface reaction, SEI and Kcrit of one electrolyte/coating pair")(run_interface)


def run_window(args) -> int:
    """Unconstrained (and constrained at each --keff) electrochemical window of a phase."""
    from constrict.phasewindow import high_edge_text, phase_window

    keffs = args.keff or []
    for keff in keffs:
        _check_keff(keff)
    path = plot_path(args)
    entry_set = load_entry_set(args.source, args.custom, args.data_dir)
    ion = _ion(entry_set, [args.phase], args.ion, args.allow_absent_ion)
    win = phase_window(entry_set, args.phase, working_ion=ion, convention=args.convention, keff_gpa=keffs)
    plot = None
    if path is not None:
        from constrict.figures import DEFAULT_KEFF_GPA, window_figure

        plot = window_figure(entry_set, args.phase, path, working_ion=ion, convention=args.convention,
                             keff_gpa=keffs or DEFAULT_KEFF_GPA)
    if args.json:
        print(json.dumps(_clean(win.as_dict())))
    else:
        print(f"{win.phase}: unconstrained window {_fmt(win.v_low_v, 3)} - {_fmt(win.v_high_v, 3)} V "
              f"vs. {ion}/{ion}+")
        for edge in win.constrained:
            print(f"{win.phase}: constrained window at Keff = {edge.keff_gpa:g} GPa ({args.convention}) "
                  f"{_fmt(edge.v_low_v, 3)} V - {high_edge_text(edge)}")
    if plot is not None:
        report_plot(args, plot)
    return 0


def _window_args(p):
    p.add_argument("phase", help="formula or entry_id, e.g. Li10GeP2S12, or any composition as hull:<formula>")
    p.add_argument("--keff", type=float, nargs="+", default=None, metavar="GPA",
                   help="effective modulus (GPa) of a constrained window; several give one window each "
                   "(--plot draws 5 10 15 when none is given)")
    add_plot_argument(p, "Kcrit(V) of the phase with its unconstrained window and the constrained window at each "
                      "--keff (the paper's Fig. 2)")
    p.add_argument("--convention", default=DEFAULT_CONVENTION, choices=STRAIN_CONVENTIONS)
    _add_data_args(p)


run_window.add_arguments = _window_args
register("window", "electrochemical window of one phase")(run_window)


def run_summarise(args) -> int:
    """Kcrit statistics, element correlations and figures of a gathered screen."""
    from constrict.summarise import summarise

    summarise(args.screen, args.out_dir, correlation_voltage_v=args.voltage)
    return 0


def _summarise_args(p):
    p.add_argument("screen", help="gathered screen table, e.g. results/screen/screen.parquet")
    p.add_argument("--out-dir", default="results/summary", help="output folder (default: results/summary)")
    p.add_argument("--voltage", type=float, default=4.0, help="voltage of the element-correlation figure (V)")


run_summarise.add_arguments = _summarise_args
register("summarise", "Kcrit statistics, histograms and element correlations of a gathered screen")(run_summarise)


def register_module(name: str, help_text: str, module: str) -> None:
    """Register a subcommand whose ``run(args)`` and ``add_arguments(parser)`` live in ``module``.

    The module is imported only when its subcommand is called (or its
    arguments are built), so one call pays for nothing the others need.
    """
    import importlib

    def run(args) -> int:
        return importlib.import_module(module).run(args)

    def add_arguments(p) -> None:
        importlib.import_module(module).add_arguments(p)

    run.add_arguments = add_arguments
    register(name, help_text)(run)


register_module("stack", "cathode | coating | electrolyte: both interfaces at the cathode's voltage",
                "constrict.stack.cli")
register_module("predict", "Kcrit of a composition predicted by the trained surrogate", "constrict.surrogate.cli")
register_module("design", "a coating composition designed from a parent (SHAP-guided or physics route), checked",
                "constrict.design.cli")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argparse parser with every registered subcommand.

    Parameters
    ----------
    command : str, optional
        Give only this subcommand its arguments (the others keep their name
        and help), so that one call imports nothing the others need.
    """
    parser = argparse.ArgumentParser(prog="constrict", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if command is None or name == command:
            add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv=None) -> int:
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    args = build_parser(command).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConstrictError as err:
        print(f"constrict: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
