"""Campaign configuration: load a YAML file, validate it, fill the defaults.

The schema is ``workflow/schemas/config.schema.yaml`` (types, bounds, units,
defaults). Snakemake validates the same file in ``workflow/rules/common.smk``;
this module does it outside Snakemake (tests, notebooks, benchmarks).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from constrict.core.errors import ConfigError
from constrict.core.paths import schema_path

REPO_ROOT = Path(__file__).resolve().parents[3]
"""Repository root when the package runs from a checkout (editable install); see :mod:`constrict.core.paths`."""


@functools.cache
def _schema() -> dict:
    """The config schema: ``workflow/schemas/`` of the checkout, else the copy a wheel installs."""
    path = schema_path()
    if not path.is_file():
        raise ConfigError(
            f"config schema {path.name} not found at {path}; reinstall constrict (pip install .) "
            "or run it from its repository"
        )
    return yaml.safe_load(path.read_text())


def _validator_with_defaults() -> type:
    """A Draft 2020-12 validator that fills ``default`` values as it validates."""
    base = jsonschema.Draft202012Validator
    validate_properties = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": set_defaults})


def _where(error: jsonschema.ValidationError) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    return "config" + "".join(parts)


def validate_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a campaign configuration and fill its defaults.

    Parameters
    ----------
    config : dict or None
        Parsed YAML. ``None`` or ``{}`` gives the full default campaign.

    Returns
    -------
    dict
        A new dict with every default filled in.

    Raises
    ------
    ConfigError
        One line naming the offending key, the value and what is allowed.
    """
    config = copy.deepcopy(config) if config else {}
    if not isinstance(config, dict):
        raise ConfigError(f"config must be a mapping of keys to values, got {type(config).__name__}")
    validator = _validator_with_defaults()(_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        message = " ".join(error.message.split())
        raise ConfigError(
            f"{_where(error)}: {message}; see workflow/schemas/config.schema.yaml for allowed values"
        )
    check_config(config)
    return config


def check_config(config: dict[str, Any]) -> None:
    """Checks the schema cannot express: electrolytes unique, each holding its working ion; n_shards for mp_api.

    Raises
    ------
    ConfigError
        One line naming the key and the fix.
    """
    if config["source"]["name"] == "mp_api" and config["n_shards"] is None:
        raise ConfigError(
            "config.n_shards: required for source mp_api (its entries are fetched only when the workflow runs, "
            "so the interfaces cannot be counted beforehand); set it, e.g. n_shards: 40 for ~80,000 interfaces "
            "at shard_size 2000"
        )
    electrolytes = config["electrolytes"]
    formulas = [e["formula"] for e in electrolytes]
    duplicates = sorted({f for f in formulas if formulas.count(f) > 1})
    if duplicates:
        raise ConfigError(f"config.electrolytes: {', '.join(duplicates)} listed twice; list each electrolyte once")
    for e in electrolytes:
        if e["working_ion"] not in _elements(e["formula"]):
            raise ConfigError(
                f"config.electrolytes: working_ion {e['working_ion']} is not in {e['formula']}; "
                "set the ion that the electrolyte conducts"
            )


def _elements(formula: str) -> set[str]:
    from pymatgen.core import Composition

    try:
        return {el.symbol for el in Composition(formula).elements}
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"config.electrolytes: cannot parse formula {formula!r} ({exc})") from None


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML campaign configuration, validate it and fill the defaults.

    Parameters
    ----------
    path : str or Path, optional
        YAML file; ``None`` gives the default campaign.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or breaks the schema.
    """
    if path is None:
        return validate_config({})
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found; pass an existing YAML file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        line = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not valid YAML ({line})") from None
    try:
        return validate_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def electrolyte_label(electrolyte: dict[str, Any]) -> str:
    """The label shown in every output, e.g. ``"Na3PS4 (stand-in for Na7P3S11)"``."""
    stand_in_for = electrolyte.get("stand_in_for")
    if stand_in_for:
        return f"{electrolyte['formula']} (stand-in for {stand_in_for})"
    return electrolyte["formula"]
