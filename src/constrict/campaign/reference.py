"""docs/reference.md: every config key and every output column in one place, generated from the schemas.

``python -m constrict.campaign.reference`` (``make reference``) writes docs/reference.md
from ``workflow/schemas/config.schema.yaml`` (every key, nested keys as
dotted paths, list items as ``[]``: type, default, bounds, unit,
description) and ``workflow/schemas/outputs.schema.yaml`` (every table under
``results_dir``: the rule that writes it and its columns with type, unit and
description). ``--check`` writes nothing and exits 1 when the file is out of
date.

The checks that keep the schemas honest live here too, so that a test and
the command line share them: :func:`undocumented_keys` (config keys without
a description), :func:`column_problems` (documented columns against the
columns a writer wrote) and :func:`code_problems` (every table whose columns
a code constant fixes, ``defined_by`` in the schema, against that constant).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
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

TYPES = ("string", "int64", "float64", "bool", "list<string>")
"""Column types of outputs.schema.yaml: the stored (Arrow) types."""

ARROW_TYPES = {"string": "string", "large_string": "string", "int64": "int64", "double": "float64", "bool": "bool"}
"""Arrow type name -> column type of outputs.schema.yaml (lists: :func:`arrow_type`)."""

ENTRY_KINDS = {"str": "string", "int": "int64", "float": "float64", "list": "list<string>"}
"""Kind of ``constrict.data.sources.schema.ENTRY_COLUMNS`` -> column type (a trailing ``?``: nullable)."""

UNIT_SUFFIXES = (("_ev", "eV"), ("_v", "V"), ("_gpa", "GPa"), ("_mb", "MB"), ("_min", "minutes"), ("_a3", "Å³"))
"""Config key suffix -> its unit (the units are in the names)."""

TABLE_KEYS = {"rule", "defined_by", "like", "default_run", "description", "columns", "rows"}
COLUMN_KEYS = {"type", "unit", "description", "nullable", "optional", "pattern"}
_PART = re.compile(r"<[^<>]+>")


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


@dataclass(frozen=True)
class Column:
    """One documented column (or, in a key/value table, one row key).

    Attributes
    ----------
    name : str
        Column name; ``<part>`` stands for a family of columns whose
        ``<part>`` matches ``pattern``.
    type : str
        One of :data:`TYPES`.
    unit, description : str
    nullable : bool
        Missing values are allowed (the entry table's nullable columns).
    optional : bool
        The column is only there in some runs.
    pattern : str or None
        Regular expression of the ``<part>`` of a family's name.
    """

    name: str
    type: str
    unit: str
    description: str
    nullable: bool = False
    optional: bool = False
    pattern: str | None = None

    @cached_property
    def regex(self) -> re.Pattern | None:
        """The family's names as a regular expression; None for a plain name."""
        if self.pattern is None:
            return None
        pieces = _PART.split(self.name)
        return re.compile(f"(?:{self.pattern})".join(re.escape(piece) for piece in pieces))

    def matches(self, name: str) -> bool:
        """``name`` is this column or a member of its family."""
        return name == self.name if self.regex is None else bool(self.regex.fullmatch(name))


@dataclass(frozen=True)
class Table:
    """One output table of outputs.schema.yaml, references resolved.

    Attributes
    ----------
    path : str
        Path relative to ``results_dir`` (``{shard}``, ``{voltage}``,
        ``{convention}``, ``{rule}`` stand for the parts that vary).
    section, rule, description : str
    columns : tuple of Column
        Every column, those of ``like`` first.
    own : tuple of str
        Names of the columns the table lists itself (beyond ``like``).
    rows : tuple of Column
        Row keys of a key/value table.
    defined_by : str or None
        The code constant that fixes the columns (``module.NAME``).
    like : str or None
    default_run : bool
    """

    path: str
    section: str
    rule: str
    description: str
    columns: tuple[Column, ...]
    own: tuple[str, ...]
    rows: tuple[Column, ...] = ()
    defined_by: str | None = None
    like: str | None = None
    default_run: bool = True

    @property
    def names(self) -> list[str]:
        """The documented column names, in order."""
        return [column.name for column in self.columns]


@dataclass(frozen=True)
class Section:
    """A group of tables (one campaign stage)."""

    title: str
    description: str
    tables: tuple[Table, ...]


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def load_outputs(document: Mapping | None = None) -> list[Section]:
    """The output tables of outputs.schema.yaml (or of ``document``), every reference resolved.

    Raises
    ------
    SchemaError
        A table or column breaks the format described at the top of the file.
    """
    document = read_yaml(OUTPUTS_SCHEMA) if document is None else document
    raw = {path: (section, spec) for section in document["sections"] for path, spec in section["tables"].items()}
    resolved: dict[str, tuple[Column, ...]] = {}

    def columns_of(path: str, seen: tuple[str, ...] = ()) -> tuple[Column, ...]:
        if path in resolved:
            return resolved[path]
        if path not in raw:
            raise SchemaError(f"outputs schema: no table {path!r} (referenced by {seen[-1]!r})")
        if path in seen:
            raise SchemaError(f"outputs schema: {path!r} refers to itself through {' -> '.join(seen)}")
        spec = raw[path][1]
        unknown = sorted(set(spec) - TABLE_KEYS)
        if unknown:
            raise SchemaError(f"outputs schema: {path}: unknown key(s) {', '.join(unknown)}")
        columns = list(columns_of(spec["like"], (*seen, path))) if spec.get("like") else []
        for name, value in (spec.get("columns") or {}).items():
            if name in {c.name for c in columns}:
                raise SchemaError(f"outputs schema: {path}: column {name!r} listed twice")
            columns.append(_column(path, name, value, lambda ref: columns_of(ref, (*seen, path))))
        if not columns:
            raise SchemaError(f"outputs schema: {path}: no columns (give columns or like)")
        resolved[path] = tuple(columns)
        return resolved[path]

    sections = []
    for section in document["sections"]:
        tables = []
        for path, spec in section["tables"].items():
            if not _text(spec.get("description")) or not spec.get("rule"):
                raise SchemaError(f"outputs schema: {path}: needs a rule and a description")
            rows = tuple(_column(path, name, value, columns_of) for name, value in (spec.get("rows") or {}).items())
            tables.append(Table(
                path=path, section=section["title"], rule=str(spec["rule"]), description=_text(spec["description"]),
                columns=columns_of(path), own=tuple(spec.get("columns") or ()), rows=rows,
                defined_by=spec.get("defined_by"), like=spec.get("like"), default_run=spec.get("default_run", True),
            ))
        sections.append(Section(section["title"], _text(section.get("description")), tuple(tables)))
    return sections


def _column(path: str, name: str, value: Any, columns_of) -> Column:
    """A column from its YAML value: a mapping, or ``"<table>"`` / ``"<table>:<column>"`` to copy."""
    if isinstance(value, str):
        table, _, source = value.partition(":")
        found = [c for c in columns_of(table) if c.name == (source or name)]
        if not found:
            raise SchemaError(f"outputs schema: {path}: column {name!r} refers to {value!r}, which has no such column")
        return Column(name, found[0].type, found[0].unit, found[0].description, found[0].nullable, found[0].optional)
    if not isinstance(value, Mapping):
        raise SchemaError(f"outputs schema: {path}: column {name!r} needs a mapping or a table path")
    unknown = sorted(set(value) - COLUMN_KEYS)
    if unknown:
        raise SchemaError(f"outputs schema: {path}: column {name!r}: unknown key(s) {', '.join(unknown)}")
    column = Column(name, str(value.get("type")), _text(value.get("unit")), _text(value.get("description")),
                    bool(value.get("nullable", False)), bool(value.get("optional", False)), value.get("pattern"))
    if column.type not in TYPES:
        raise SchemaError(f"outputs schema: {path}: column {name!r}: type {column.type!r} is not one of {TYPES}")
    if not column.description:
        raise SchemaError(f"outputs schema: {path}: column {name!r} has no description")
    if bool(_PART.search(name)) != (column.pattern is not None):
        raise SchemaError(f"outputs schema: {path}: column {name!r}: a <part> in the name and a pattern go together")
    return column


def output_tables(sections: Sequence[Section] | None = None) -> dict[str, Table]:
    """Every documented table by its path."""
    sections = load_outputs() if sections is None else sections
    return {table.path: table for section in sections for table in section.tables}


def column_problems(
    table: Table,
    written: Sequence[str],
    *,
    types: Mapping[str, tuple[str, bool | None]] | None = None,
    ordered: bool = False,
    rows: bool = False,
) -> list[str]:
    """What differs between a table's documented columns and the columns written (or fixed in code).

    Parameters
    ----------
    table : Table
    written : sequence of str
        Column names as written, in order.
    types : mapping of str to (str, bool or None), optional
        Column -> (type in :data:`TYPES`, nullable or None when unknown),
        compared with the documented ones.
    ordered : bool
        Also require the documented order.
    rows : bool
        Compare the row keys of a key/value table (``table.rows``) instead.

    Returns
    -------
    list of str
        One line per problem, naming the table and the column; empty when
        they agree.
    """
    documented = table.rows if rows else table.columns
    what = "row" if rows else "column"
    problems, assigned = [], []
    for name in written:
        index = next((i for i, c in enumerate(documented) if c.regex is None and c.name == name), None)
        if index is None:
            index = next((i for i, c in enumerate(documented) if c.matches(name)), None)
        if index is None:
            problems.append(f"{table.path}: {what} {name!r} is written but not documented")
            continue
        assigned.append(index)
        column = documented[index]
        kind, nullable = (types or {}).get(name, (None, None))
        if kind is not None and kind != column.type:
            problems.append(f"{table.path}: column {name!r} is {kind} but documented as {column.type}")
        if nullable is not None and nullable != column.nullable:
            problems.append(f"{table.path}: column {name!r} is {'' if nullable else 'not '}nullable, "
                            f"documented {'' if column.nullable else 'not '}nullable")
    for index, column in enumerate(documented):
        if index not in assigned and not column.optional:
            problems.append(f"{table.path}: documented {what} {column.name!r} is not written")
    if ordered and not problems and assigned != sorted(assigned):
        problems.append(f"{table.path}: {what}s written in the order {list(written)}, "
                        f"documented as {[c.name for c in documented]}")
    return problems


PLACEHOLDERS = {"shard": r"\d{4,}", "voltage": r"\d+(?:\.\d+)?", "convention": "ion_metal|reservoir|released_metal",
                "rule": r"[a-z0-9_]+(?:/[^/]+)?"}
"""What each ``{part}`` of a documented path stands for."""


def path_regex(path: str) -> re.Pattern:
    """A documented path (``screen/shards/{shard}.parquet``) as a regular expression of real paths."""
    pieces = re.split(r"\{(\w+)\}", path)
    pieces[::2] = [re.escape(piece) for piece in pieces[::2]]
    pieces[1::2] = [f"(?:{PLACEHOLDERS[name]})" for name in pieces[1::2]]
    return re.compile("".join(pieces))


def table_for(relative: str, tables: Mapping[str, Table] | None = None) -> Table | None:
    """The documented table a file (its path relative to ``results_dir``, with ``/``) belongs to, if any."""
    tables = output_tables() if tables is None else tables
    found = [t for t in tables.values() if path_regex(t.path).fullmatch(relative)]
    if len(found) > 1:
        raise SchemaError(f"outputs schema: {relative} matches {[t.path for t in found]}")
    return found[0] if found else None


def arrow_type(kind: Any) -> str:
    """An Arrow type as a column type of outputs.schema.yaml: ``double`` -> ``float64``, lists by their items."""
    name = str(kind)
    item = re.fullmatch(r"(?:large_)?list<\w+: (.+)>", name)
    return f"list<{arrow_type(item.group(1))}>" if item else ARROW_TYPES.get(name, name)


def written_types(path: str | Path) -> dict[str, tuple[str, None]]:
    """Column -> (type, None) of a written Parquet file; empty for a TSV (its text has no types)."""
    path = Path(path)
    if path.suffix != ".parquet":
        return {}
    import pyarrow.parquet as pq

    return {field.name: (arrow_type(field.type), None) for field in pq.read_schema(path)}


def written_columns(path: str | Path) -> list[str]:
    """Column names of a written Parquet file (its schema) or TSV file (its header line)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with open(path, encoding="utf-8") as handle:
        return handle.readline().rstrip("\n").split("\t")


def code_object(reference: str) -> Any:
    """The object named by a dotted ``module.NAME`` (or ``module.Class.attribute``) reference."""
    parts = reference.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise SchemaError(f"outputs schema: cannot import {reference!r}")


def code_columns(reference: str) -> tuple[list[str], dict[str, tuple[str, bool | None]] | None]:
    """Column names (and types where the code states them) of a ``defined_by`` constant.

    A pyarrow schema gives names and types, ``ENTRY_COLUMNS``-style
    ``{name: kind}`` names, types and nullability, a sequence only names; a
    callable is called first (Snakemake's ``BenchmarkRecord.get_header``).
    """
    obj = code_object(reference)
    if callable(obj) and not isinstance(obj, type):
        obj = obj()
    if hasattr(obj, "names") and hasattr(obj, "types"):  # pyarrow.Schema
        return list(obj.names), {f.name: (arrow_type(f.type), None) for f in obj}
    if isinstance(obj, Mapping):
        return list(obj), {k: (ENTRY_KINDS.get(v.rstrip("?"), v), v.endswith("?")) for k, v in obj.items()}
    return list(obj), None


def code_problems(sections: Sequence[Section] | None = None) -> list[str]:
    """:func:`column_problems` of every table with ``defined_by``, against its constant (order and types too)."""
    problems = []
    for table in output_tables(sections).values():
        if table.defined_by:
            names, types = code_columns(table.defined_by)
            problems += column_problems(table, names, types=types, ordered=True)
    return problems


# -- markdown ---------------------------------------------------------------------------------------------

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_SENTENCE_END = re.compile(r"(?<!Fig)(?<!e\.g)(?<!vs)\.\s+(?=[A-Z(])")


def _cell(text: str) -> str:
    """Text for a table cell or paragraph: ``|`` escaped, and a ``<`` that would open an HTML tag outside code."""
    parts = _text(text).split("`")
    parts[::2] = [_TAG_START.sub("&lt;", part) for part in parts[::2]]
    return "`".join(parts).replace("|", "\\|")


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")


def _config_table(keys: Sequence[ConfigKey]) -> list[str]:
    lines = ["| key | type | default | bounds | unit | description |", "|---|---|---|---|---|---|"]
    lines += [f"| `{k.path}` | {_cell(k.type)} | {_cell(k.default)} | {_cell(k.bounds)} | {_cell(k.unit)} | "
              f"{_cell(k.description)} |" for k in keys]
    for key in keys:
        if key.long_default is not None:
            dumped = yaml.safe_dump({key.path: key.long_default}, sort_keys=False, allow_unicode=True, width=100)
            lines += ["", f"Default of `{key.path}`:", "", "```yaml", dumped.rstrip(), "```"]
    return lines


def render_config(schema: Mapping) -> list[str]:
    """The config part of the reference: plain top-level keys, then one subsection per block or list."""
    keys = config_keys(schema)
    top = [k for k in keys if "." not in k.path and "[" not in k.path]
    blocks = [k.path for k in top if any(other.path.startswith((f"{k.path}.", f"{k.path}[]")) for other in keys)]
    lines = ["## Config keys", "",
             f"From `{CONFIG_SCHEMA}`. Every key has a default unless marked required, so a config file",
             "needs only what differs (`config/config.yaml` spells the defaults out; docs/campaign.md",
             "explains them). Nested keys are dotted paths; `[]` marks the items of a list.", "",
             "### Top-level keys", ""]
    lines += _config_table([k for k in top if k.path not in blocks])
    for block in blocks:
        inside = [k for k in keys if k.path == block or k.path.startswith((f"{block}.", f"{block}[]"))]
        lines += ["", f"### `{block}`", ""] + _config_table(inside)
    return lines


def _columns_table(columns: Sequence[Column], header: str = "column") -> list[str]:
    lines = [f"| {header} | type | unit | description |", "|---|---|---|---|"]
    for c in columns:
        kind = ", ".join([c.type] + ["nullable"] * c.nullable + ["optional"] * c.optional)
        family = f" (`{_PART.search(c.name).group()}` matches `{c.pattern}`)" if c.pattern else ""
        lines.append(f"| `{c.name}` | {kind} | {_cell(c.unit)} | {_cell(c.description + family)} |")
    return lines


def render_outputs(sections: Sequence[Section]) -> list[str]:
    """The output part of the reference: an index of every table, then each table's columns."""
    lines = ["## Output tables", "",
             f"From `{OUTPUTS_SCHEMA}`. Paths are relative to `results_dir`; `{{shard}}`, `{{voltage}}`,",
             "`{convention}` and `{rule}` stand for the parts that vary. Parquet and TSV files of the same name",
             "hold the same columns. Types are the stored types; a TSV holds them as text. Figures are described",
             "in the stage's doc (docs/summary.md, docs/surrogate.md, docs/design.md, docs/cathode.md).", "",
             "| table | rule | what |", "|---|---|---|"]
    for section in sections:
        for table in section.tables:
            rule = "every rule's `benchmark:`" if table.rule == "any" else f"`{table.rule}`"
            lines.append(f"| `{table.path}` | {rule} | {_cell(_first_sentence(table.description))} |")
    for section in sections:
        lines += ["", f"### {section.title}", "", _cell(section.description)]
        for table in section.tables:
            rule = "Snakemake itself" if table.rule == "any" else f"rule `{table.rule}`"
            facts = [f"Written by {rule}"]
            if not table.default_run:
                facts.append("not in the default run (ask for it as a target)")
            if table.defined_by:
                facts.append(f"columns fixed by `{table.defined_by}`")
            lines += ["", f"#### `{table.path}`", "", f"{'; '.join(facts)}. {_cell(table.description)}"]
            if table.like and not table.own:
                lines += ["", f"Columns: those of `{table.like}`."]
                continue
            if table.like:
                lines += ["", f"Columns: those of `{table.like}`, then:"]
            own = [c for c in table.columns if c.name in table.own]
            lines += [""] + _columns_table(own)
            if table.rows:
                lines += ["", "Rows (the `quantity` of each):", ""] + _columns_table(table.rows, "quantity")
    return lines


def render(config_schema: Mapping | None = None, sections: Sequence[Section] | None = None) -> str:
    """The whole of docs/reference.md."""
    config_schema = read_yaml(CONFIG_SCHEMA) if config_schema is None else config_schema
    sections = load_outputs() if sections is None else sections
    lines = [f"<!-- Generated from {CONFIG_SCHEMA} and {OUTPUTS_SCHEMA} by `{REGENERATE}`. Do not edit. -->",
             "", "# Reference: config keys and output columns", "",
             f"Generated from the two schemas; edit them, then run `{REGENERATE}`",
             "(`.venv/bin/python -m constrict.campaign.reference`). tests/test_reference.py fails when this file",
             "differs from what the schemas give, when a config key has no description, and when a table's",
             "documented columns differ from those the code writes.", ""]
    lines += render_config(config_schema) + [""] + render_outputs(sections)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write docs/reference.md (``--check``: only compare); exit 1 if it is stale or a column is undocumented."""
    parser = argparse.ArgumentParser(prog="python -m constrict.campaign.reference", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=None, help=f"where to write (default {REFERENCE})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    output = args.output or package_file(REFERENCE)
    try:
        text = render()
        problems = code_problems()
    except SchemaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"undocumented: {problem}", file=sys.stderr)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else ""
        if current != text:
            print(f"{output} is out of date; run `{REGENERATE}`", file=sys.stderr)
            return 1
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
