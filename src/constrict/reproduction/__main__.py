"""``python -m constrict.reproduction``: the table "The paper, number by number" as markdown.

    python -m constrict.reproduction --markdown results
    python -m constrict.reproduction --markdown results --update docs/reproduction.md

Reads ``reproduction/claims.parquet`` (and, for the evidence, the study's
tables) of a results directory; ``--update`` rewrites the generated blocks
of a markdown file (between ``<!-- generated:NAME -->`` and
``<!-- end:NAME -->``) so that no number there is typed by hand.
"""

from __future__ import annotations

import argparse
import sys

from constrict.core.errors import ConstrictError


def main(argv: list[str] | None = None) -> int:
    """Print (or write into a file) the generated markdown; 2 with one line on bad input."""
    parser = argparse.ArgumentParser(prog="python -m constrict.reproduction", description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", metavar="RESULTS", required=True, help="a campaign's results directory")
    parser.add_argument("--update", metavar="FILE", help="rewrite the generated blocks of this markdown file")
    args = parser.parse_args(argv)
    try:
        from constrict.reproduction.docs import blocks, update_file

        generated = blocks(args.markdown)
        if args.update:
            update_file(args.update, generated)
            print(f"updated {', '.join(generated)} in {args.update}")
        else:
            print("\n".join(generated.values()))
    except ConstrictError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
