"""The reproduction study: every number of the paper beside ours, and why they differ (docs/reproduction.md).

- :mod:`~constrict.reproduction.variants`: linear Kcrit of stored rows
  under every strain convention and normalisation, statistics, element signs;
- :mod:`~constrict.reproduction.samples`: the study's own engine runs (a
  sample screen on another source, windows, limit strains, designed
  compositions);
- :mod:`~constrict.reproduction.surrogate_tasks`: the surrogate's task
  variants;
- :mod:`~constrict.reproduction.stage`: the study of one campaign
  (results/reproduction/);
- :mod:`~constrict.reproduction.claims`, :mod:`~constrict.reproduction.screen_claims`,
  :mod:`~constrict.reproduction.design_claims`, :mod:`~constrict.reproduction.table`:
  the paper's claims, their scoring and the table "The paper, number by number".

``python -m constrict.reproduction --markdown results`` prints the table.
"""


def check_reproduction_config(config: dict) -> None:
    """Checks of the ``reproduction`` block that the schema cannot express (no heavy imports).

    Raises
    ------
    ConfigError
        voltage_v is not one of voltages_v, or two surrogate variants share a name.
    """
    from constrict.core.errors import ConfigError

    block = config["reproduction"]
    volts = [float(v) for v in config["voltages_v"]]
    if not any(abs(v - float(block["voltage_v"])) < 1e-9 for v in volts):
        raise ConfigError(f"config.reproduction.voltage_v: {float(block['voltage_v']):g} V is not one of voltages_v "
                          f"({', '.join(f'{v:g}' for v in volts)})")
    names = [item["name"] for item in block["surrogate"]["variants"]]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"config.reproduction.surrogate.variants: name(s) {', '.join(repeated)} given twice")
