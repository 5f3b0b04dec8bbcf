"""Errors that users see as one clear line (the CLI exits with code 2)."""


class ConstrictError(ValueError):
    """Base class: bad input that the user can fix. Its message is one line."""


class UnknownFormulaError(ConstrictError):
    """A formula pymatgen cannot parse, or a composition absent from the data."""


class MissingElementError(ConstrictError):
    """An element (often the working ion's metal) is absent from the entry data."""


class MissingVolumeError(ConstrictError):
    """A phase has no volume per atom, so no reaction strain can be computed."""


class IonOnlyError(ConstrictError):
    """A reactant or chemical system holds nothing but the working ion, so opening it to that ion leaves nothing."""


class SolverError(ConstrictError):
    """A linear programme of the physics ended without an optimum (reported for the one reactant or pair)."""


class SchemaError(ConstrictError):
    """A table or file does not follow the documented schema."""


class ConfigError(ConstrictError):
    """A configuration file is invalid."""


class MissingAPIKeyError(ConstrictError):
    """The mp-api source was selected but MP_API_KEY is not set."""


class MPAPIError(ConstrictError):
    """The Materials Project API could not be reached, refused the key, or a download failed."""


class EnergyScaleError(ConstrictError):
    """Energies on different scales (thermo types, MP releases) would be mixed."""
