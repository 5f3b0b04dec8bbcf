"""Rendering docs/reference.md (Markdown tables) and its command line (``--check``)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from constrict.campaign.reference.config_keys import (
    CONFIG_SCHEMA,
    OUTPUTS_SCHEMA,
    REFERENCE,
    REGENERATE,
    ConfigKey,
    config_keys,
    read_yaml,
)
from constrict.campaign.reference.outputs import (
    NAME_PART,
    Column,
    Section,
    code_problems,
    load_outputs,
    schema_text,
)
from constrict.core.errors import SchemaError
from constrict.core.paths import package_file

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_SENTENCE_END = re.compile(r"(?<!Fig)(?<!e\.g)(?<!vs)\.\s+(?=[A-Z(])")


def _cell(text: str) -> str:
    """Text for a table cell or paragraph: ``|`` escaped, and a ``<`` that would open an HTML tag outside code."""
    parts = schema_text(text).split("`")
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
        family = f" (`{NAME_PART.search(c.name).group()}` matches `{c.pattern}`)" if c.pattern else ""
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
