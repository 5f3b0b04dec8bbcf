"""Command line: ``constrict interface``, ``constrict window`` and friends.

Subcommands register themselves in :data:`SUBCOMMANDS` (name -> (add
arguments, run)); any :class:`~constrict.core.errors.ConstrictError` becomes one
line ``constrict: error: ...`` on stderr and exit code 2.

JSON output (``--json``): NaN is written as ``null`` and infinities as the
strings ``"inf"`` / ``"-inf"`` so that the output is strict JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from constrict import DEFAULT_CONVENTION, STRAIN_CONVENTIONS
from constrict.cli_support import (
    add_data_args,
    add_plot_argument,
    check_keff,
    json_safe,
    load_entry_set,
    load_phase_sigmas,
    phases_text,
    plot_path,
    report_plot,
    working_ion,
)
from constrict.cli_support import (
    fmt_number as fmt,
)
from constrict.core.errors import ConstrictError

SUBCOMMANDS: dict = {}
"""name -> (help, add_arguments(parser), run(args) -> int)."""


def register(name: str, help_text: str):
    """Decorator pair: ``@register(name, help)`` on a run function with an ``add_arguments`` attribute."""

    def wrap(run):
        SUBCOMMANDS[name] = (help_text, run.add_arguments, run)
        return run

    return wrap


def run_interface(args) -> int:
    """Interface reaction and per-voltage Kcrit of one electrolyte/coating pair."""
    from constrict.physics.evaluate import evaluate_interface
    from constrict.physics.opensystem import check_voltages

    check_voltages(args.voltage)
    path = plot_path(args)
    entry_set = load_entry_set(args.source, args.custom, args.data_dir)
    ion = working_ion(entry_set, [args.electrolyte, args.coating], args.ion, args.allow_absent_ion)
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
        print(json.dumps(json_safe(rows), indent=1))
    else:
        _print_interface(rows, ion, sigmas.model)
    if plot is not None:
        report_plot(args, plot)
    return 0


def _print_interface(rows: list[dict], ion: str, model) -> None:
    """The interface as text: the reaction, its SEI and one line per voltage (Kcrit with its interval)."""
    from constrict.physics.uncertainty import kcrit_text

    r = rows[0]
    print(f"{r['electrolyte']} | {r['coating_formula']} ({r['coating_id']})  chemical system {r['chemical_system']}")
    print(f"working ion {ion}; amounts per atom of reactant; strain convention for Kcrit: {r['convention']}")
    if not r["reacts"]:
        print(f"no reaction: E_rxn = {fmt(r['e_rxn_ev_per_atom'])} eV/atom "
              f"(mutual {fmt(r['e_rxn_mutual_ev_per_atom'])})")
        return
    print(f"x_m = {fmt(r['x_m'])} (coating atom fraction), mutual = {r['mutual']}")
    print(f"E_rxn = {fmt(r['e_rxn_ev_per_atom'])} eV/atom; "
          f"mutual E_rxn (hull energies) = {fmt(r['e_rxn_mutual_ev_per_atom'])} eV/atom")
    print(f"{1 - r['x_m']:.4g} {r['electrolyte']} + {r['x_m']:.4g} {r['coating_formula']} "
          f"-> {phases_text(r['sei_products'])}")
    header = (f"{'V':>5} {'ion_rel':>8} {'dG eV':>9} {'eps_metal':>9} {'eps_res':>9} {'eps_rel':>9} "
              f"{'Kcrit_sc':>9}  Kcrit [interval]")
    print(header)
    for r in rows:
        print(
            f"{r['voltage_v']:5.2f} {fmt(r['ion_released_per_atom']):>8} {fmt(r['dg_ev_per_atom']):>9} "
            f"{fmt(r['eps_ion_metal']):>9} {fmt(r['eps_reservoir']):>9} {fmt(r['eps_released_metal']):>9} "
            f"{fmt(r['kcrit_sc_gpa'], 2):>9}  Kcrit {kcrit_text(r, model.coverage_k)}"
        )
        print(f"{'':5} -> {phases_text(r['products'])}")
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
    add_data_args(p)


run_interface.add_arguments = _interface_args
register("interface", "interface reaction, SEI and Kcrit of one electrolyte/coating pair")(run_interface)


def run_window(args) -> int:
    """Unconstrained (and constrained at each --keff) electrochemical window of a phase."""
    from constrict.physics.phasewindow import high_edge_text, phase_window

    keffs = args.keff or []
    for keff in keffs:
        check_keff(keff)
    path = plot_path(args)
    entry_set = load_entry_set(args.source, args.custom, args.data_dir)
    ion = working_ion(entry_set, [args.phase], args.ion, args.allow_absent_ion)
    win = phase_window(entry_set, args.phase, working_ion=ion, convention=args.convention, keff_gpa=keffs)
    plot = None
    if path is not None:
        from constrict.figures import DEFAULT_KEFF_GPA, window_figure

        plot = window_figure(entry_set, args.phase, path, working_ion=ion, convention=args.convention,
                             keff_gpa=keffs or DEFAULT_KEFF_GPA)
    if args.json:
        print(json.dumps(json_safe(win.as_dict())))
    else:
        print(f"{win.phase}: unconstrained window {fmt(win.v_low_v, 3)} - {fmt(win.v_high_v, 3)} V "
              f"vs. {ion}/{ion}+")
        for edge in win.constrained:
            print(f"{win.phase}: constrained window at Keff = {edge.keff_gpa:g} GPa ({args.convention}) "
                  f"{fmt(edge.v_low_v, 3)} V - {high_edge_text(edge)}")
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
    add_data_args(p)


run_window.add_arguments = _window_args
register("window", "electrochemical window of one phase")(run_window)


def run_summarise(args) -> int:
    """Kcrit statistics, element correlations and figures of a gathered screen."""
    from constrict.campaign.summary_stage import summarise

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
                "constrict.cathode.cli")
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
