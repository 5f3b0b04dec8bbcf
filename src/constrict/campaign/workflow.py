"""Helpers for the workflow's scripts (no physics: cheap to import)."""

from __future__ import annotations

import logging
from pathlib import Path

from constrict.core.errors import ConstrictError


def log_to(log_path: str | Path) -> None:
    """Send logging and stderr of a workflow script to its Snakemake log.

    A ConstrictError then ends the script with its one-line message in the
    log (exit code 2) instead of a traceback; other errors keep theirs.
    """
    import sys

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(log_path, "a", buffering=1)
    sys.stderr = stream
    logging.basicConfig(level=logging.INFO, stream=stream, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)

    def excepthook(kind, value, traceback):
        if issubclass(kind, ConstrictError):
            stream.write(f"error: {value}\n")
            stream.flush()
            raise SystemExit(2)
        sys.__excepthook__(kind, value, traceback)

    sys.excepthook = excepthook
