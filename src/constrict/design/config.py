"""The design stage's settings, read once from the campaign config (``design:`` in the config schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constrict.core.errors import ConfigError
from constrict.design.parents import Parent, parents_from_config
from constrict.design.physics import Target
from constrict.design.physics_route import PhysicsOptions
from constrict.design.region import DEFAULT_ENTERING, check_max_change, level_label
from constrict.design.shap_route import ShapOptions
from constrict.physics.opensystem import check_voltages
from constrict.physics.uncertainty import UncertaintyModel

LEVEL_NAMES = ("A", "B", "C")
"""Names of the children of the first three design levels (the paper's child A, B, C)."""


@dataclass(frozen=True)
class DesignConfig:
    """Everything the design stage needs besides the data and the surrogate.

    Attributes
    ----------
    parents : tuple of Parent
    target : Target
        Electrolyte of the design table (the paper's Table S1: Li10SiP2S12).
    fig5_electrolyte : str
        Electrolyte of Fig. 5 and Fig. S4 (Li10GeP2S12).
    voltage_v : float
        Design voltage (V vs. the working-ion metal): the surrogate's and
        the verification's.
    extra_voltages_v : tuple of float
        Further verification voltages (Fig. S4: 2 and 3 V).
    self_voltage_v : float
        Voltage of Fig. 5b's self-decomposition energy (3.5 V).
    levels : tuple of float or None
        Max change per element of children A, B, C (None = no limit).
    fig5_levels : tuple of float
        Modification levels of Fig. 5 (atom fraction; 0 = the parent).
    keff_gpa : tuple of float
        Effective moduli of Fig. 5a (GPa).
    entering : tuple of str
        Elements that may enter besides each parent's own.
    shap : ShapOptions
    grid_step : float
        Finest lattice step of the grid optimum (atom fraction).
    grid_max_points : int
        Most lattice points per grid optimum.
    far_distance : float
        Distance (atom fraction, L2) to the nearest training SEI above
        which a design is flagged far from the data.
    physics : PhysicsOptions
    physics_parents : int or None
        The physics route runs on the first this many parents (None = all).
    uncertainty : UncertaintyModel
        Per-phase uncertainties and interval settings of every computed
        Kcrit (config ``uncertainty``).
    """

    parents: tuple[Parent, ...]
    target: Target
    fig5_electrolyte: str = "Li10GeP2S12"
    voltage_v: float = 4.0
    extra_voltages_v: tuple[float, ...] = (2.0, 3.0)
    self_voltage_v: float = 3.5
    levels: tuple[float | None, ...] = (0.05, 0.10, None)
    fig5_levels: tuple[float, ...] = (0.0, 0.0125, 0.025, 0.04, 0.05, 0.06)
    keff_gpa: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0)
    entering: tuple[str, ...] = DEFAULT_ENTERING
    shap: ShapOptions = ShapOptions()
    grid_step: float = 0.0025
    grid_max_points: int = 200_000
    far_distance: float = 0.1
    physics: PhysicsOptions = PhysicsOptions()
    physics_parents: int | None = None
    uncertainty: UncertaintyModel = UncertaintyModel()

    def __post_init__(self):
        check_voltages([self.voltage_v, *self.extra_voltages_v, self.self_voltage_v])
        for level in (*self.levels, *self.fig5_levels):
            check_max_change(level)
        if len(self.levels) > len(LEVEL_NAMES):
            raise ConfigError(f"design.levels: at most {len(LEVEL_NAMES)} levels (children A, B, C)")
        if any(k < 0 for k in self.keff_gpa):
            raise ConfigError("design.keff_gpa: moduli must be >= 0 GPa")

    @property
    def voltages_v(self) -> tuple[float, ...]:
        """Every verification voltage: the design voltage first, then the extra ones (V)."""
        return (self.voltage_v, *[v for v in self.extra_voltages_v if v != self.voltage_v])

    @property
    def physics_parent_names(self) -> tuple[str, ...]:
        """Names of the parents the physics route runs on."""
        chosen = self.parents if self.physics_parents is None else self.parents[: self.physics_parents]
        return tuple(p.name for p in chosen)

    def child_name(self, max_change: float | None) -> str:
        """``"A"``, ``"B"`` or ``"C"`` for a design level, else the level itself (Fig. 5's levels)."""
        for name, level in zip(LEVEL_NAMES, self.levels, strict=False):
            if level == max_change:
                return name
        return level_label(max_change)


def design_config(config: Mapping) -> DesignConfig:
    """The :class:`DesignConfig` of a validated campaign config (defaults filled).

    Raises
    ------
    ConfigError
        A bad parent, level or voltage (one line naming it).
    """
    d = config["design"]
    physics = d["physics"]
    return DesignConfig(
        parents=parents_from_config(d["parents"]),
        target=Target(d["electrolyte"], d["working_ion"], config["convention"]),
        fig5_electrolyte=d["fig5_electrolyte"],
        voltage_v=float(d["voltage_v"]),
        extra_voltages_v=tuple(float(v) for v in d["extra_voltages_v"]),
        self_voltage_v=float(d["self_voltage_v"]),
        levels=tuple(None if v is None else float(v) for v in d["levels"]),
        fig5_levels=tuple(float(v) for v in d["fig5_levels"]),
        keff_gpa=tuple(float(v) for v in d["keff_gpa"]),
        entering=tuple(d["entering_elements"]),
        shap=ShapOptions(max_steps=int(d["max_steps"]), line_step=float(d["line_step"])),
        grid_step=float(d["grid_step"]),
        grid_max_points=int(d["grid_max_points"]),
        far_distance=float(d["far_distance"]),
        physics=PhysicsOptions(starts=int(physics["starts"]), line_points=int(physics["line_points"]),
                               zoom_levels=int(physics["zoom_levels"]),
                               max_evaluations=int(physics["max_evaluations"]),
                               random_state=int(config["random_state"])),
        physics_parents=physics["parents"],
        uncertainty=UncertaintyModel.from_config(config.get("uncertainty")),
    )


def check_design_config(config: Mapping) -> DesignConfig:
    """The :class:`DesignConfig` of a campaign config, with the checks that need the rest of the config.

    Raises
    ------
    ConfigError
        A bad design setting, or a design voltage without a surrogate (not
        one of ``voltages_v``, where one surrogate is trained per voltage).
    """
    design = design_config(config)
    if design.voltage_v not in [float(v) for v in config["voltages_v"]]:
        raise ConfigError(f"design.voltage_v {design.voltage_v:g} V has no surrogate; add it to voltages_v "
                          "(one surrogate is trained per screened voltage)")
    return design
