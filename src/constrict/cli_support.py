"""What the subcommands share: data arguments, the working ion, number formats, JSON and --plot.

:mod:`constrict.cli` and the subcommand modules (``constrict.cathode.cli``,
``constrict.design.cli``, ``constrict.surrogate.cli``) import these; none of
them imports :mod:`constrict.cli`, which sits above them. Heavy imports stay
inside the functions so that a subcommand pays only for what it uses.
"""

from __future__ import annotations

import argparse
import json
import math

from constrict.core.errors import ConfigError, SchemaError


def load_entry_set(source: str = "mp_offline", custom: str | None = None, data_dir: str | None = None):
    """EntrySet of a source, with custom entries merged in (built arrays cached on disk)."""
    from constrict.data.entry_cache import load_entry_set as load

    return load(source, custom=custom, data_dir=data_dir)


def load_phase_sigmas(args, entry_set):
    """Per-phase uncertainties of the Kcrit intervals (default model) for ``entry_set``.

    An offline snapshot without custom entries gives its evidence columns
    straight from the file (fast); any other table from the entry set's own
    frame.
    """
    from constrict.physics.uncertainty import PhaseSigmas, UncertaintyModel, phase_sigmas, read_evidence

    if args.custom is None and args.source != "mp_api":
        from constrict.core.paths import snapshot_path
        from constrict.data.entry_cache import cached_arrays, file_digest
        from constrict.data.entry_cache import load_entry_set as load_whole

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


def json_safe(value):
    """JSON-safe value: NaN -> None, +-inf -> "inf"/"-inf"."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def fmt_number(value: float, digits: int = 4) -> str:
    """``value`` with ``digits`` decimals; NaN or None -> "-", infinity -> "inf"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def phases_text(text: str) -> str:
    """A JSON object of phase amounts as ``"0.5 Li2S + 0.25 P2S5"`` ("-" when empty)."""
    amounts = json.loads(text)
    return " + ".join(f"{a:.4g} {name}" for name, a in amounts.items()) or "-"


def add_data_args(p: argparse.ArgumentParser) -> None:
    """``--source``, ``--custom``, ``--data-dir``, ``--ion``, ``--allow-absent-ion`` and ``--json``."""
    p.add_argument("--source", default="mp_offline", choices=["mp_offline", "oqmd_offline", "mp_api"])
    p.add_argument("--custom", default=None, help="file of custom entries (docs/schema.md)")
    p.add_argument("--data-dir", default=None,
                   help="folder of the offline snapshots (default: $CONSTRICT_DATA_DIR, else the package's own data)")
    p.add_argument("--ion", default=None,
                   help="working ion (default: Na if the electrolyte has Na and not Li, else Li)")
    p.add_argument("--allow-absent-ion", action="store_true",
                   help="accept an --ion that none of the reactants contains")
    p.add_argument("--json", action="store_true", help="machine-readable output (NaN -> null, inf -> \"inf\")")


def working_ion(entry_set, reactants: list[str], ion: str | None, allow_absent: bool = False) -> str:
    """The working ion: ``--ion`` (checked against the reactants) or the first reactant's default."""
    from constrict.physics.evaluate import default_working_ion, resolve_reactant

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


def check_keff(keff_gpa: float | None) -> None:
    """Refuse a ``--keff`` that is not a finite modulus >= 0 GPa (ConfigError)."""
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
