"""``constrict predict``: the surrogate's Kcrit of a composition, from the command line.

::

    constrict predict "Li0.364P0.110S0.388I0.138" --voltage 4
    constrict predict Li3PS4 Li7P3S11 --voltage 2 3 4 --models results/surrogate/models --json

Models come from ``--models`` (default: ``results/surrogate/models`` below
the working directory, else the repository's; :mod:`constrict.surrogate.locate`).
An unknown element, a formula that does not parse or a missing model gets
one line on stderr and exit code 2 (the missing model's line says how to
train one).
"""

from __future__ import annotations

import argparse
import json


def _format_source(info: dict) -> str:
    data = info.get("training_data", {})
    sha = data.get("screen_sha256", "")[:12]
    return (f"trained on {info.get('n_train', '?')} SEIs of {data.get('screen', '?')} (sha256 {sha}...; "
            f"{data.get('convention', '?')}; electrolytes {data.get('electrolytes', '?').replace(';', ', ')})")


def run(args) -> int:
    """Print the predicted linear Kcrit of each composition at each voltage."""
    from constrict.cli_support import json_safe
    from constrict.surrogate.locate import find_model
    from constrict.surrogate.model import load

    out = []
    for voltage_v in args.voltage:
        model = load(find_model(voltage_v, args.models))
        predicted = model.predict(args.composition)
        spread = model.predict_trees(args.composition).std(axis=1)
        holdout = model.info_.get("holdout", {})
        for composition, kcrit_gpa, std_gpa in zip(args.composition, predicted, spread, strict=True):
            out.append({
                "composition": composition, "voltage_v": float(model.voltage_v), "kcrit_gpa": float(kcrit_gpa),
                "tree_std_gpa": float(std_gpa), "holdout": holdout, "model": model.info_["path"],
                "training_data": model.info_.get("training_data", {}), "n_train": model.info_.get("n_train"),
            })
        if not args.json:
            every, capped = holdout.get("all_finite", {}), holdout.get("capped", {})
            print(f"surrogate at {model.voltage_v:g} V: {model.info_['path']}")
            print(f"  random-holdout RMSE {capped.get('rmse_gpa', float('nan')):.2f} GPa on Kcrit <= "
                  f"{model.cap_gpa:g} GPa ({capped.get('n_test', '?')} SEIs), "
                  f"{every.get('rmse_gpa', float('nan')):.1f} GPa on all finite ({every.get('n_test', '?')})")
            print(f"  {_format_source(model.info_)}")
            for row in out[-len(args.composition):]:
                print(f"  {row['composition']}: Kcrit = {row['kcrit_gpa']:.2f} GPa "
                      f"(spread over trees {row['tree_std_gpa']:.2f} GPa)")
    if args.json:
        print(json.dumps(json_safe(out), indent=1))
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``constrict predict``."""
    p.add_argument("composition", nargs="+", help='SEI composition(s), e.g. "Li0.364P0.110S0.388I0.138" or Li3PS4')
    p.add_argument("--voltage", type=float, nargs="+", default=[4.0], help="V vs. the working-ion metal (default 4)")
    p.add_argument("--models", default=None,
                   help="directory of kcrit_<V>V.skops models (default: results/surrogate/models here, "
                        "else the repository's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

