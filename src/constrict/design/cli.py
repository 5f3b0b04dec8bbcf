"""``constrict design PARENT``: one child of a parent composition by either route, checked by the physics.

Registered in :mod:`constrict.cli`; bad input (a composition that does not
parse, an element outside the data or the surrogate, a limit outside
[0, 1]) gets that module's one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json

from constrict import DEFAULT_CONVENTION, STRAIN_CONVENTIONS
from constrict import cli_support as cli
from constrict.design.region import DEFAULT_ENTERING, check_max_change
from constrict.physics.uncertainty import kcrit_text

ROUTES = ("shap", "physics")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``constrict design``."""
    p.add_argument("parent", help='parent composition, atom fractions or any formula, e.g. "Li0.364P0.110S0.388I0.138"')
    p.add_argument("--max-change", default="0.05",
                   help="largest change of any element's atom fraction, in [0, 1]; 'none' = no limit (child C); "
                   "default 0.05 (child A)")
    p.add_argument("--route", default="shap", choices=ROUTES,
                   help="shap = the paper's SHAP-guided steps on the surrogate; physics = minimise the computed "
                   "interface Kcrit directly (default shap)")
    p.add_argument("--electrolyte", default="Li10SiP2S12", help="electrolyte of the interface check (table entry)")
    p.add_argument("--voltage", type=float, default=4.0, help="design voltage, V vs. the ion metal (default 4)")
    p.add_argument("--enter", nargs="*", default=list(DEFAULT_ENTERING), metavar="ELEMENT",
                   help="elements that may enter besides the parent's (default O F Cl Br I)")
    p.add_argument("--max-steps", type=int, default=40, help="step cap of the SHAP route (default 40)")
    p.add_argument("--evaluations", type=int, default=400,
                   help="engine evaluations of the physics route (default 400)")
    p.add_argument("--models", default=None, help="folder of trained surrogates (default results/surrogate/models)")
    p.add_argument("--convention", default=DEFAULT_CONVENTION, choices=STRAIN_CONVENTIONS)
    cli.add_data_args(p)


def _max_change(text: str) -> float | None:
    return None if str(text).strip().lower() in ("none", "null", "inf") else check_max_change(text)


def run(args) -> int:
    """Design one child and print the route, the child and both checks (or their JSON)."""
    from constrict.core.errors import ConstrictError
    from constrict.data.entries import parse_composition
    from constrict.design.parents import composition_fractions
    from constrict.design.physics import InterfaceObjective, Target, verify
    from constrict.design.physics_route import PhysicsOptions, physics_route
    from constrict.design.region import make_region
    from constrict.design.shap_route import ShapOptions, shap_route
    from constrict.physics.opensystem import check_voltages
    from constrict.surrogate import find_model, load_model

    max_change = _max_change(args.max_change)
    [voltage_v] = check_voltages([args.voltage])
    shap_options = ShapOptions(max_steps=args.max_steps)
    physics_options = PhysicsOptions(max_evaluations=args.evaluations)
    composition = parse_composition(args.parent)
    entry_set = cli.load_entry_set(args.source, args.custom, args.data_dir)
    entry_set.composition_vector(composition)  # every element in the entry data
    parent = composition_fractions(args.parent)
    try:
        model = load_model(find_model(voltage_v, args.models))
    except ConstrictError:
        if args.route == "shap":
            raise
        model = None
    known = [el for el in (model.features if model is not None else entry_set.elements) if el in entry_set.elements]
    region = make_region(parent, max_change, entering=args.enter, known=known)
    ion = cli.working_ion(entry_set, [args.electrolyte], args.ion, args.allow_absent_ion)
    target = Target(args.electrolyte, ion, args.convention)
    out = {"parent": region.formula(region.parent), "max_change": max_change, "route": args.route,
           "elements": list(region.elements), "electrolyte": args.electrolyte, "voltage_v": voltage_v,
           "convention": args.convention}
    if args.route == "shap":
        route = shap_route(model, region, shap_options)
        out["trajectory"] = route.frame().to_dict("records")
        out["stop_reason"] = route.stop_reason
        child = route.end.fractions
    else:
        objective = InterfaceObjective(entry_set, target, voltage_v, region.elements)
        result = physics_route(objective, region, physics_options)
        out["starts"] = list(result.starts)
        out.update(n_evaluations=result.n_evaluations, n_failed=result.n_failed, seconds=result.seconds)
        child = result.fractions
    out["child"] = region.formula(child)
    sigmas = cli.load_phase_sigmas(args, entry_set)
    out["coverage_k"] = sigmas.model.coverage_k
    for name in ("parent", "child"):
        [check] = verify(entry_set, out[name], target, [voltage_v], sigmas=sigmas)
        check["kcrit_pred_gpa"] = float(model.predict([out[name]])[0]) if model is not None else float("nan")
        out[f"{name}_check"] = check
    if args.json:
        print(json.dumps(cli.json_safe(out), indent=1))
        return 0
    _print(out)
    return 0


def _print(out: dict) -> None:
    fmt = cli.fmt_number
    limit = "no limit" if out["max_change"] is None else f"max change {out['max_change']:g} per element"
    print(f"parent {out['parent']}; {limit}; elements {' '.join(out['elements'])}")
    if out["route"] == "shap":
        print(f"SHAP-guided route on the {out['voltage_v']:g} V surrogate (predicted Kcrit, GPa):")
        print(f"{'step':>4}  {'moved':<5} {'Kcrit':>8}  composition")
        for s in out["trajectory"]:
            print(f"{s['step']:>4}  {s['element'] or '-':<5} {fmt(s['kcrit_pred_gpa'], 2):>8}  {s['formula']}")
        print(f"stopped: {out['stop_reason']}")
    else:
        print(f"physics in the loop: {out['n_evaluations']} engine evaluations ({out['n_failed']} refused), "
              f"{out['seconds']:.1f} s")
        print("  the objective: the point value of the computed Kcrit (docs/design.md says why not its upper bound)")
        for s in out["starts"]:
            print(f"  start {s['start']:<9} {fmt(s['start_kcrit_gpa'], 2):>8} -> {fmt(s['end_kcrit_gpa'], 2)} GPa")
    print(f"child {out['child']}")
    print(f"checked against {out['electrolyte']} at {out['voltage_v']:g} V ({out['convention']}); Kcrit in GPa:")
    for name in ("parent", "child"):
        c = out[f"{name}_check"]
        print(f"{name:>7}: predicted {fmt(c['kcrit_pred_gpa'], 2)}")
        print(f"{'':>9}(a) self      Kcrit {kcrit_text(_side(c, 'self'), out['coverage_k'])}")
        interface = (f"x_m {fmt(c['interface_x_m'], 3)}, Kcrit {kcrit_text(_side(c, 'interface'), out['coverage_k'])}"
                     if c["interface_reacts"] else "no SEI")
        print(f"{'':>9}(b) interface {interface}")


def _side(check: dict, side: str) -> dict:
    """The ``self_`` or ``interface_`` columns of a :func:`verify` row under their screen names."""
    row = {k[len(side) + 1:]: v for k, v in check.items() if k.startswith(f"{side}_")}
    return {**row, "convention": check["convention"]}
