"""The config keys of docs/reference.md: read from the config schema, with type, default, bounds and unit."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from constrict.core.errors import SchemaError
from constrict.core.paths import package_file

CONFIG_SCHEMA = "workflow/schemas/config.schema.yaml"
OUTPUTS_SCHEMA = "workflow/schemas/outputs.schema.yaml"
REFERENCE = "docs/reference.md"
"""Repository paths of the two schemas and of the generated reference."""

REGENERATE = "make reference"
"""The command that rewrites the reference (``python -m constrict.campaign.reference``)."""

UNIT_SUFFIXES = (("_ev", "eV"), ("_v", "V"), ("_gpa", "GPa"), ("_mb", "MB"), ("_min", "minutes"), ("_a3", "Å³"))
"""Config key suffix -> its unit (the units are in the names)."""




# -- config keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigKey:
    """One key of the config schema, rendered for the reference.

    Attributes
    ----------
    path : str
        Dotted path, ``[]`` for the items of a list, e.g. ``"electrolytes[].formula"``.
    type, default, bounds, unit, description : str
        Markdown-ready text; ``default`` is ``"required"`` for a required
        item key without default.
    long_default : Any
        A default too long for a table cell (a list of mappings), else None.
    """

    path: str
    type: str
    default: str
    bounds: str
    unit: str
    description: str
    long_default: Any = None


def read_yaml(relative: str) -> dict:
    """A YAML file of the repository (or of the installed copy), parsed."""
    path = package_file(relative)
    if not path.is_file():
        raise SchemaError(f"{relative} not found at {path}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def config_keys(schema: Mapping, prefix: str = "") -> list[ConfigKey]:
    """Every key of a JSON schema's ``properties``, depth first, in schema order.

    Parameters
    ----------
    schema : mapping
        The config schema (or a sub-schema with ``properties``).
    prefix : str
        Dotted path of ``schema`` with its trailing dot (``""`` at the top).
    """
    keys = []
    required = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        keys.append(_config_key(path, name, sub, required=name in required))
        for child, child_prefix in _nested(sub, path):
            keys += config_keys(child, child_prefix)
    return keys


def _nested(sub: Mapping, path: str) -> list[tuple[Mapping, str]]:
    """The sub-schemas whose keys are nested below ``path``: an object's, or a list's items'."""
    if "properties" in sub:
        return [(sub, f"{path}.")]
    items = sub.get("items")
    if isinstance(items, Mapping) and "properties" in items:
        return [(items, f"{path}[].")]
    return []


def undocumented_keys(schema: Mapping) -> list[str]:
    """Dotted paths of the config keys (list items' keys included) that have no description."""
    return [key.path for key in config_keys(schema) if not key.description]


def _config_key(path: str, name: str, sub: Mapping, *, required: bool) -> ConfigKey:
    long_default = None
    if "default" in sub:
        value = sub["default"]
        if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            long_default, default = value, f"{len(value)} items, below"
        else:
            default = f"`{_value(value)}`"
    else:
        default = "required" if required else ""
    description = " ".join(str(sub.get("description", "")).split())
    return ConfigKey(path, _type(sub), default, _bounds(sub), _unit(name, sub, description), description,
                     long_default)


def _value(value: Any) -> str:
    """A default as a YAML flow value: ``null``, ``true``, ``1e-06``, ``[2, 3, 4]``, ``[log1p]``, ``{}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _type(sub: Mapping) -> str:
    if "const" in sub:
        return f"`{_value(sub['const'])}`"
    if "anyOf" in sub:
        return " or ".join(_type(alternative) for alternative in sub["anyOf"])
    if "enum" in sub:
        kinds = sorted({type(v).__name__ for v in sub["enum"]})
        return "string" if kinds == ["str"] else " or ".join(kinds)
    kinds = sub.get("type", "any")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = []
    for kind in kinds:
        if kind == "array":
            items = sub.get("items")
            inner = "mappings" if isinstance(items, Mapping) and "properties" in items else (
                _type(items) if isinstance(items, Mapping) else "")
            words.append(f"list of {inner}" if inner else "list")
        elif kind == "object":
            words.append("mapping")
        else:
            words.append(kind)
    return " or ".join(words)


def _bounds(sub: Mapping, sep: str = "; ") -> str:
    """The constraints of a key: range, enum, pattern, list and mapping sizes, item constraints."""
    parts = []
    if "enum" in sub:
        parts.append("one of " + ", ".join(f"`{_value(v)}`" for v in sub["enum"]))
    for word, symbol in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if word in sub:
            parts.append(f"{symbol} {_value(sub[word])}")
    if sub.get("minLength") == 1:
        parts.append("not empty")
    elif "minLength" in sub:
        parts.append(f"at least {sub['minLength']} characters")
    if "pattern" in sub:
        parts.append(f"matches `{sub['pattern']}`")
    if "minItems" in sub:
        parts.append(f"at least {sub['minItems']} item{'s' if sub['minItems'] != 1 else ''}")
    if "maxItems" in sub:
        parts.append(f"at most {sub['maxItems']} items")
    if sub.get("uniqueItems"):
        parts.append("no repeats")
    if "minProperties" in sub:
        parts.append(f"at least {sub['minProperties']} entr{'ies' if sub['minProperties'] != 1 else 'y'}")
    items = sub.get("items")
    if isinstance(items, Mapping) and "properties" not in items and _bounds(items):
        parts.append(f"each item {_bounds(items, ', ')}")
    values = sub.get("additionalProperties")
    if isinstance(values, Mapping) and (_bounds(values) or "type" in values):
        parts.append(f"values: {' '.join(filter(None, (_type(values), _bounds(values, ', '))))}")
    for alternative in sub.get("anyOf", ()):
        if _bounds(alternative):
            parts.append(f"{_type(alternative)}: {_bounds(alternative, ', ')}")
    return sep.join(parts)


def _unit(name: str, sub: Mapping, description: str) -> str:
    """The unit of a key: a ``unit`` keyword, else its name's suffix, else "(atom fraction" in the description."""
    if "unit" in sub:
        return str(sub["unit"])
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return "eV/atom" if unit == "eV" and "(eV/atom)" in description else unit
    numeric = "number" in _type(sub) and "mappings" not in _type(sub)
    return "atom fraction" if numeric and re.search(r"\(atom fractions?\b", description) else ""


# -- output tables ----------------------------------------------------------------------------------------
