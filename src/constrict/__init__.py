"""constrict: solid-electrolyte-interphase design in the constrained ensemble."""

__version__ = "0.1.0"

EV_PER_A3_TO_GPA = 160.21766208
"""1 eV/Å³ in GPa."""

STRAIN_CONVENTIONS = ("ion_metal", "reservoir", "released_metal")
"""The reaction-strain conventions (docs/science.md section 2), importable without numpy."""

DEFAULT_CONVENTION = "released_metal"
"""The strain convention used where none is named (docs/science.md section 2 says why)."""
