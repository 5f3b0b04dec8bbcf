"""``constrict stack CATHODE COATING ELECTROLYTE``: both interfaces of a coating, its window, and the verdict at Keff.

Registered in :mod:`constrict.cli`; the checks and formatting helpers are
that module's, so bad input gets the same one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json

from constrict import DEFAULT_CONVENTION, STRAIN_CONVENTIONS
from constrict import cli_support as cli
from constrict.cathode.cathodes import DEFAULT_KEFF_GPA, KNOWN_CATHODES
from constrict.cli_support import fmt_number as fmt
from constrict.core.errors import ConfigError
from constrict.data.entries import parse_composition
from constrict.physics.uncertainty import kcrit_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``constrict stack``."""
    known = ", ".join(f"{c.formula} {c.voltage_v:g} V" for c in KNOWN_CATHODES.values())
    p.add_argument("cathode", help="cathode as assembled (a table entry), e.g. LiCoO2, or a charged composition at "
                   "its hull energy, e.g. hull:Li0.5CoO2")
    p.add_argument("coating", help="formula or entry_id, e.g. LiNbO3, or hull:<formula>")
    p.add_argument("electrolyte", help="formula or entry_id, e.g. Li10GeP2S12")
    p.add_argument("--voltage", type=float, default=None,
                   help=f"top-of-charge voltage of the cathode (V vs. the ion metal); default for {known}")
    p.add_argument("--keff", type=float, default=DEFAULT_KEFF_GPA,
                   help=f"effective modulus (GPa) of the verdict (default {DEFAULT_KEFF_GPA:g})")
    p.add_argument("--convention", default=DEFAULT_CONVENTION, choices=STRAIN_CONVENTIONS)
    cli.add_plot_argument(p, "the three Kcrit (cathode side, coating alone, electrolyte side) against Keff")
    cli.add_data_args(p)


def cathode_voltage_v(cathode: str) -> float:
    """The documented top-of-charge voltage (V) of a cathode, as assembled or as its charged composition.

    Raises
    ------
    ConfigError
        The cathode is not in :data:`~constrict.cathode.cathodes.KNOWN_CATHODES`.
    """
    text = cathode.strip().removeprefix("hull:").strip()
    reduced = parse_composition(text).reduced_formula
    for known in KNOWN_CATHODES.values():
        names = [known.formula] + ([known.charged] if known.charged else [])
        if reduced in {parse_composition(name).reduced_formula for name in names}:
            return known.voltage_v
    raise ConfigError(f"no top-of-charge voltage is known for {cathode}; pass --voltage (V vs. the ion metal)")


def run(args) -> int:
    """Evaluate one stack and print it (or its JSON)."""
    from constrict.cathode.physics import evaluate_stack
    from constrict.physics.evaluate import resolve_reactant
    from constrict.physics.opensystem import check_voltages

    cli.check_keff(args.keff)
    path = cli.plot_path(args)
    [voltage_v] = check_voltages([args.voltage if args.voltage is not None else cathode_voltage_v(args.cathode)])
    entry_set = cli.load_entry_set(args.source, args.custom, args.data_dir)
    ion = cli.working_ion(entry_set, [args.cathode, args.electrolyte], args.ion, args.allow_absent_ion)
    electrolyte, _ = resolve_reactant(entry_set, args.electrolyte)
    if ion not in {el.symbol for el in parse_composition(electrolyte.formula).elements}:
        raise ConfigError(f"electrolyte {electrolyte.formula} holds no {ion}: a {ion} cathode pairs only with "
                          f"{ion} electrolytes")
    sigmas = cli.load_phase_sigmas(args, entry_set)
    stack = evaluate_stack(entry_set, args.cathode, args.coating, args.electrolyte, voltage_v=voltage_v,
                           working_ion=ion, convention=args.convention, sigmas=sigmas)
    stable = stack.stable_at(args.keff)
    plot = None
    if path is not None:
        from constrict.figures import stack_figure

        plot = stack_figure(stack, path, keff_gpa=args.keff)
    if args.json:
        out = {"voltage_v": voltage_v, "working_ion": ion, "convention": args.convention, "keff_gpa": args.keff,
               "keff_required_gpa": stack.keff_required_gpa, "keff_required_lo_gpa": stack.keff_required_lo_gpa,
               "keff_required_hi_gpa": stack.keff_required_hi_gpa,
               "keff_required_determined": stack.keff_required_determined, "limiting": stack.limiting,
               "keff_required_sc_gpa": stack.keff_required_sc_gpa, "constriction_stable": stable,
               "coating": stack.coating, "cathode_interface": stack.cathode,
               "electrolyte_interface": stack.electrolyte}
        print(json.dumps(cli.json_safe(out), indent=1))
        return 0
    alone = stack.coating
    k = sigmas.model.coverage_k
    print(f"{stack.cathode['electrolyte']} | {alone['coating_formula']} | {stack.electrolyte['electrolyte']} at "
          f"{voltage_v:g} V vs. {ion}/{ion}+; strain convention {args.convention}; per atom of reactant")
    print(f"coating {alone['coating_formula']} ({alone['coating_id']}): unconstrained window "
          f"{fmt(alone['window_low_v'], 3)} - {fmt(alone['window_high_v'], 3)} V; alone at {voltage_v:g} V: "
          f"Kcrit {kcrit_text(alone, k)} (Kcrit_sc {fmt(alone['kcrit_sc_gpa'], 2)}), "
          f"dG {fmt(alone['dg_ev_per_atom'])} eV -> {cli.phases_text(alone['products'])}")
    for side, row in (("cathode", stack.cathode), ("electrolyte", stack.electrolyte)):
        print(f"{side} interface ({row['electrolyte']} | {row['coating_formula']}): " + _interface_line(row, k))
    verdict = "" if stack.keff_required_determined else "; not determined by the data"
    print(f"required Keff = {fmt(stack.keff_required_gpa, 2)} GPa [{fmt(stack.keff_required_lo_gpa, 2)}, "
          f"{fmt(stack.keff_required_hi_gpa, 2)}] (set by: {stack.limiting}{verdict}); upper bound "
          f"{fmt(stack.keff_required_hi_gpa, 2)} GPa, the number the campaign ranks stacks by; self-consistent "
          f"{fmt(stack.keff_required_sc_gpa, 2)} GPa")
    print(f"constriction-stable at Keff = {args.keff:g} GPa: {'yes' if stable else 'no'}")
    if plot is not None:
        cli.report_plot(args, plot)
    return 0


def _interface_line(row: dict, coverage_k: float) -> str:
    """One interface in one line: reaction, SEI, and its decomposition at the voltage."""
    if not row["reacts"]:
        return (f"no reaction (E_rxn {fmt(row['e_rxn_ev_per_atom'])}, mutual "
                f"{fmt(row['e_rxn_mutual_ev_per_atom'])} eV/atom): no interphase, Kcrit 0")
    return (f"x_m = {fmt(row['x_m'])}, E_rxn = {fmt(row['e_rxn_ev_per_atom'])} eV/atom (mutual "
            f"{fmt(row['e_rxn_mutual_ev_per_atom'])}); SEI {cli.phases_text(row['sei_products'])}; "
            f"dG {fmt(row['dg_ev_per_atom'])} eV, eps {fmt(row['eps_' + row['convention']])}, "
            f"Kcrit {kcrit_text(row, coverage_k)} (Kcrit_sc {fmt(row['kcrit_sc_gpa'], 2)}) -> "
            f"{cli.phases_text(row['products'])}")
