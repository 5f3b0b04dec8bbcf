"""The output tables of docs/reference.md and the checks of their columns against the writers and the code."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from constrict.campaign.reference.config_keys import (
    OUTPUTS_SCHEMA,
    read_yaml,
)
from constrict.core.errors import SchemaError

TYPES = ("string", "int64", "float64", "bool", "list<string>")
"""Column types of outputs.schema.yaml: the stored (Arrow) types."""

ARROW_TYPES = {"string": "string", "large_string": "string", "int64": "int64", "double": "float64", "bool": "bool"}
"""Arrow type name -> column type of outputs.schema.yaml (lists: :func:`arrow_type`)."""

ENTRY_KINDS = {"str": "string", "int": "int64", "float": "float64", "list": "list<string>"}
"""Kind of ``constrict.data.sources.schema.ENTRY_COLUMNS`` -> column type (a trailing ``?``: nullable)."""

TABLE_KEYS = {"rule", "defined_by", "like", "default_run", "description", "columns", "rows"}
COLUMN_KEYS = {"type", "unit", "description", "nullable", "optional", "pattern"}
NAME_PART = re.compile(r"<[^<>]+>")
"""A placeholder of a column-name pattern, e.g. ``<voltage>``."""


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
        pieces = NAME_PART.split(self.name)
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


def schema_text(value: Any) -> str:
    """A schema text (description) on one line, whitespace collapsed; None -> ""."""
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
            if not schema_text(spec.get("description")) or not spec.get("rule"):
                raise SchemaError(f"outputs schema: {path}: needs a rule and a description")
            rows = tuple(_column(path, name, value, columns_of) for name, value in (spec.get("rows") or {}).items())
            tables.append(Table(
                path=path, section=section["title"], rule=str(spec["rule"]),
                description=schema_text(spec["description"]),
                columns=columns_of(path), own=tuple(spec.get("columns") or ()), rows=rows,
                defined_by=spec.get("defined_by"), like=spec.get("like"), default_run=spec.get("default_run", True),
            ))
        sections.append(Section(section["title"], schema_text(section.get("description")), tuple(tables)))
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
    column = Column(name, str(value.get("type")), schema_text(value.get("unit")), schema_text(value.get("description")),
                    bool(value.get("nullable", False)), bool(value.get("optional", False)), value.get("pattern"))
    if column.type not in TYPES:
        raise SchemaError(f"outputs schema: {path}: column {name!r}: type {column.type!r} is not one of {TYPES}")
    if not column.description:
        raise SchemaError(f"outputs schema: {path}: column {name!r} has no description")
    if bool(NAME_PART.search(name)) != (column.pattern is not None):
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
