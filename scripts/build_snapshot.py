"""Build an offline entry snapshot from data/raw (thin CLI over constrict.data.sources).

Usage: python scripts/build_snapshot.py [--source mp_offline|oqmd_offline] [--raw-dir data/raw] [--out PATH]
"""

import argparse
import sys

from constrict.core.errors import ConstrictError
from constrict.data.sources.offline import BUILDERS, build_offline_snapshot


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(BUILDERS), default="mp_offline")
    parser.add_argument("--raw-dir", default="data/raw")
    parser.add_argument("--out", default=None, help="default: data/<source>.parquet")
    args = parser.parse_args(argv)
    try:
        build_offline_snapshot(args.raw_dir, args.out, source=args.source)
    except ConstrictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
