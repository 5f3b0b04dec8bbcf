"""Claims on the electrolytes and the screen: windows and strains (introduction), Fig. 3a and 3b.

Each group builder takes the campaign's :class:`~constrict.reproduction.inputs.Results`
and :class:`~constrict.reproduction.inputs.Settings` and returns table
rows (:class:`~constrict.reproduction.inputs.Row`). The paper's numbers
are written here with where it states them; every value of ours is read
from the result files.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from constrict import STRAIN_CONVENTIONS
from constrict.reproduction.claims import Candidate, Claim
from constrict.reproduction.inputs import (
    NORMALISATION_LABELS,
    PAPER_ELECTROLYTES,
    Results,
    Row,
    Settings,
    fmt,
    variant_label,
)

PAPER_WINDOW_V = (1.0, 4.0)
"""Introduction: under constriction the LGPS window "can greatly expand to approximately 1-4 V"."""
PAPER_UNCONSTRAINED_V = (1.7, 2.1)
"""Introduction: LGPS "on the order of 1.7-2.1 V vs. lithium" unconstrained (its refs 14, 15)."""
PAPER_DECAY_STRAIN = 0.02
"""Introduction: LGPS -> Li4GeS4 + Li3PS4, "a volume that is 2 % larger"."""
PAPER_LIMIT_STRAIN = 0.30
"""Introduction: "in excess of 30 % at the complete oxidation and reduction limits" (LGPS)."""
PAPER_LPS_STATS = (18.5, 14.8, 13.0)
"""Fig. 3a: Li7P3S11 at 4 V, mean, median and std of Kcrit (GPa)."""
FIG3B_LOWERING = ("O", "F", "Cl", "Br")
"""Fig. 3b and the text: the electronegative anions lower Kcrit ("F, O, Cl, Br" in the SHAP discussion)."""
FIG3B_METALS = ("V", "Mo", "W")
"""Fig. 3b text: "V, Mo, and W are also seen to improve the stability of high voltage SEIs"."""
WINDOW_ELECTROLYTE = "Li10GeP2S12"


def _window_text(lo: float, hi: float) -> str:
    return f"{fmt(lo)}-{fmt(hi)} V"


def _edge_reason(row) -> str:
    """Why a window ends where it does, from the Kcrit just beyond each edge."""
    parts = []
    for side, edge, k in (("below", row.v_low_v, row.kcrit_below_gpa), ("above", row.v_high_v, row.kcrit_above_gpa)):
        if np.isnan(k):
            continue
        why = "the products shrink, Kcrit = inf" if np.isinf(k) else f"Kcrit = {k:.1f} GPa"
        parts.append(f"{side} {edge:.2f} V {why}")
    return f"{row.convention}: " + "; ".join(parts) if parts else ""


def window_rows(results: Results, settings: Settings) -> list[Row]:
    """Introduction: the LGPS window unconstrained, and each paper electrolyte's window at each Keff."""
    mine, report = results["windows"], results["report_windows"]
    rows = []
    claims = [(WINDOW_ELECTROLYTE, np.nan, Claim(
        "intro-window-LGPS-unconstrained", "Introduction", "LGPS window, unconstrained", "interval",
        PAPER_UNCONSTRAINED_V, "V", settings.unconstrained_tolerance_v))]
    for electrolyte in PAPER_ELECTROLYTES:
        stated = "" if electrolyte == WINDOW_ELECTROLYTE else " (the paper states it for LGPS)"
        for keff in settings.window_keff_gpa:
            claims.append((electrolyte, keff, Claim(
                f"intro-window-{electrolyte}-{keff:g}GPa", "Introduction",
                f"{electrolyte} window at Keff = {keff:g} GPa{stated}", "interval", PAPER_WINDOW_V, "V",
                settings.window_tolerance_v)))

    def pick(frame, electrolyte, keff, convention):
        if frame is None:
            return None
        at = frame[(frame["electrolyte"] == electrolyte) & (frame["convention"] == convention)]
        at = at[at["keff_gpa"].isna()] if np.isnan(keff) else at[np.isclose(at["keff_gpa"], keff)]
        return at.iloc[0] if len(at) else None

    for electrolyte, keff, claim in claims:
        default_row = pick(report, electrolyte, keff, settings.convention)
        if default_row is None:
            default_row = pick(mine, electrolyte, keff, settings.convention)
        default = None if default_row is None else Candidate(
            "default", (default_row.v_low_v, default_row.v_high_v),
            _window_text(default_row.v_low_v, default_row.v_high_v))
        by_convention, reasons = {}, {}
        for convention in STRAIN_CONVENTIONS:
            found = pick(mine, electrolyte, keff, convention)
            if found is not None:
                by_convention[convention] = Candidate(convention, (found.v_low_v, found.v_high_v),
                                                      _window_text(found.v_low_v, found.v_high_v))
                reasons[convention] = _edge_reason(found)

        def reason(nearest, reasons=reasons, keff=keff):
            if np.isnan(keff):
                return ("pymatgen's element profile gives the same on these data (docs/science.md section 4); "
                        "the paper cites other data (its refs 14, 15)")
            names = [settings.convention] + ([nearest.label] if nearest and nearest.label in reasons else [])
            return "; ".join(dict.fromkeys(reasons[n] for n in names if reasons.get(n)))

        rows.append(Row(claim, default, by_convention, list(by_convention.values()), reason))
    return rows


def strain_rows(results: Results, settings: Settings) -> list[Row]:
    """Introduction: the strain of LGPS's chemical decay, and at the reduction and oxidation limits."""
    strains = results["strains"]
    decay_claim = Claim("intro-decay-LGPS", "Introduction", "LGPS -> Li4GeS4 + Li3PS4: volume change", "number",
                        (PAPER_DECAY_STRAIN,), "", settings.strain_tolerance, absolute=True)
    limit_claim = Claim("intro-limits-LGPS", "Introduction", "LGPS volume at the reduction and oxidation limits",
                        "expands", (PAPER_LIMIT_STRAIN,), "", settings.relative_tolerance)
    if strains is None:
        return [Row(decay_claim, None, {}, []), Row(limit_claim, None, {}, [])]
    lgps = strains[strains["electrolyte"] == WINDOW_ELECTROLYTE]
    decay = lgps[lgps["point"] == "decay"]
    rows = []
    if len(decay):
        first = decay.iloc[0]
        text = f"{100 * first.eps:+.1f} % ({first.products})"
        candidate = Candidate("default", (first.eps,), text)
        rows.append(Row(decay_claim, candidate, {c: Candidate(c, (first.eps,), text) for c in STRAIN_CONVENTIONS
                                                 if c in set(decay["convention"])}, [candidate],
                        lambda _: "small strains are uncertain by about 1 % on the offline data (docs/science.md "
                                  "section 4: volumes from a later MP structure set, polymorphs matched by formula)"))
    else:
        rows.append(Row(decay_claim, None, {}, []))
    at_v = lgps[lgps["point"] == "voltage"]
    by_convention = {}
    for convention, group in at_v.groupby("convention"):
        group = group.sort_values("voltage_v")
        if len(group) < 2:
            continue
        low, high = group.iloc[0], group.iloc[-1]
        text = f"{100 * low.eps:+.0f} % at {low.voltage_v:g} V, {100 * high.eps:+.0f} % at {high.voltage_v:g} V"
        by_convention[convention] = Candidate(convention, (low.eps, high.eps), text)

    def reason(_):
        shrink = [f"{c} shrinks at the {'reduction' if v.value[0] < 0 else 'oxidation'} limit"
                  for c, v in by_convention.items() if min(v.value) < 0]
        return "; ".join(shrink)

    default = by_convention.get(settings.convention)
    rows.append(Row(limit_claim, default, by_convention, list(by_convention.values()), reason))
    return rows


def _stats_text(mean: float, median: float, std: float, n: int) -> str:
    return f"{fmt(mean, 1)} / {fmt(median, 1)} / {fmt(std, 1)} GPa (n = {n:,})"


def _stand_in_for(label: str) -> str | None:
    match = re.search(r"stand-in for ([A-Za-z0-9]+)", label)
    return match.group(1) if match else None


def stats_rows(results: Results, settings: Settings) -> list[Row]:
    """Fig. 3a and S1: Kcrit statistics at the paper's voltage, per electrolyte."""
    kcrit_stats, stats = results["kcrit_stats"], results["stats"]
    v = settings.voltage_v
    lps_claim = Claim("fig3a-Li7P3S11", "Fig. 3a", f"Li7P3S11 interfaces at {v:g} V: Kcrit mean / median / std",
                      "stats", PAPER_LPS_STATS, "GPa", settings.relative_tolerance)
    source = kcrit_stats if kcrit_stats is not None else stats
    if source is None:
        return [Row(lps_claim, None, {}, [])]
    labels = source[np.isclose(source["voltage_v"], v)][["electrolyte_label", "electrolyte"]].drop_duplicates()
    rows = []
    for label, electrolyte in labels.itertuples(index=False):
        claim = lps_claim if electrolyte == "Li7P3S11" else Claim(
            f"fig3a-{electrolyte}", "Fig. S1", f"{label} interfaces at {v:g} V: Kcrit mean / median / std",
            "unstated", (), "GPa")
        default = None
        variants, by_convention, tail = [], {}, {}
        if kcrit_stats is not None:
            hit = kcrit_stats[(kcrit_stats["electrolyte"] == electrolyte) & np.isclose(kcrit_stats["voltage_v"], v)
                              & (kcrit_stats["quantity"] == "kcrit_gpa")]
            if len(hit):
                h = hit.iloc[0]
                default = Candidate("default", (h.mean_gpa, h.median_gpa, h.std_gpa),
                                    _stats_text(h.mean_gpa, h.median_gpa, h.std_gpa, int(h.n_finite)))
                if "mean_determined_gpa" in hit.columns:  # the summary's rows whose Kcrit the data determine
                    values = (h.mean_determined_gpa, h.median_determined_gpa, h.std_determined_gpa)
                    variants.append(Candidate(f"{settings.convention}, determined Kcrit only", values,
                                              _stats_text(*values, int(h.n_finite_determined))))
        if stats is not None:
            at = stats[np.isclose(stats["voltage_v"], v)]
            target = _stand_in_for(label)
            screen = at[(at["data"] == "screen") & (at["electrolyte"] == electrolyte)]
            sample = at[(at["data"] == "sample") & at["electrolyte"].isin({electrolyte, target} - {None})]
            for s in pd.concat([screen, sample]).itertuples(index=False):
                capped = f"finite <= {s.cap_gpa:g} GPa" if s.target_set == "capped" else ""
                where = f"{s.electrolyte_label} sample, {s.source}" if s.data == "sample" else ""
                name = label_of(s.convention, s.normalisation, capped, where)
                candidate = Candidate(name, (s.mean_gpa, s.median_gpa, s.std_gpa),
                                      _stats_text(s.mean_gpa, s.median_gpa, s.std_gpa, int(s.n_finite)))
                variants.append(candidate)
                if s.data == "screen" and s.normalisation == "v0_reactant":
                    if s.target_set == "all_finite":
                        by_convention[s.convention] = candidate
                        tail[s.convention] = (int(s.n_inf), int(s.n_rows))
                    elif s.convention == settings.convention:
                        tail["capped"] = candidate.text

        def reason(nearest, tail=tail):
            if settings.convention not in tail:
                return ""
            n_inf, n_rows = tail[settings.convention]
            text = f"{n_inf:,} of {n_rows:,} reacting interfaces have Kcrit = inf and are left out"
            if "capped" in tail:
                text += f"; at or below the cap: {tail['capped']}"
            return text

        rows.append(Row(claim, default, by_convention, variants, reason))
    return rows


def label_of(convention: str, normalisation: str, *parts: str) -> str:
    """A variant label: convention, normalisation (if not the engine's), then the other parts."""
    return variant_label(convention, NORMALISATION_LABELS[normalisation], *parts)


def sign_rows(results: Results, settings: Settings) -> list[Row]:
    """Fig. 3b: the elements whose SEI fraction lowers Kcrit (pooled correlation at the paper's voltage)."""
    signs = results["signs"]
    claims = [
        Claim("fig3b-anions", "Fig. 3b", "O, F, Cl, Br lower Kcrit (correlation with the SEI fraction, pooled)",
              "negative", elements=FIG3B_LOWERING, unit=""),
        Claim("fig3b-metals", "Fig. 3b", "V, Mo, W lower Kcrit (correlation with the SEI fraction, pooled)",
              "negative", elements=FIG3B_METALS, unit=""),
    ]
    rows = []
    for claim in claims:
        if signs is None:
            rows.append(Row(claim, None, {}, []))
            continue
        variants, by_convention, default = [], {}, None
        for (convention, normalisation), group in signs.groupby(["convention", "normalisation"], sort=False):
            group = group.set_index("element")
            for coefficient in ("pearson_r", "spearman_r"):
                value = {el: float(group[coefficient].get(el, np.nan)) for el in claim.elements}
                text = ", ".join(f"{el} {fmt(r, 3)}" for el, r in value.items())
                name = label_of(convention, normalisation, coefficient.split("_")[0].capitalize())
                candidate = Candidate(name, value, text)
                variants.append(candidate)
                if normalisation == "v0_reactant" and coefficient == "pearson_r":
                    by_convention[convention] = candidate
                    if convention == settings.convention:
                        default = Candidate("default", value, text + " (Pearson, as the paper)")
        rows.append(Row(claim, default, by_convention, variants,
                        lambda _: "Pearson's r is dominated by a few huge Kcrit (near-zero strain); Spearman's "
                                  "rank correlation is the robust one (docs/summary.md)"))
    return rows


SCREEN_GROUPS = (window_rows, strain_rows, stats_rows, sign_rows)
"""The group builders of this module, in the paper's order."""
