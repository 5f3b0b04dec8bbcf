"""Shard counts of the workflow, cached so that building the DAG does not load the entry table or solve LPs.

The number of shard jobs is known when Snakemake builds the DAG: the
interfaces are counted from the entry table, the selection and the
electrolytes (:func:`constrict.campaign.plan.count_interfaces`,
:func:`constrict.cathode.campaign.count_stack_pairs`). The count depends
only on the table's bytes, the custom entries' bytes, the config parts the
counter reads and the counting code, so it is stored under the SHA-256 of
all of them in the constrict cache folder (:func:`constrict.core.paths.cache_dir`)
and read back by every later DAG build.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from constrict.core.paths import cache_dir

FORMAT = "constrict.shard-counts/1"
"""Part of every key: a new format never reads an old count."""


def _file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def count_key(kind: str, files: Sequence[str | os.PathLike | None], parts: Mapping, code: Sequence[str]) -> str:
    """SHA-256 (hex) naming one count.

    Parameters
    ----------
    kind : str
        What is counted, e.g. ``"screen"`` or ``"cathode"``.
    files : sequence of path or None
        Input files whose bytes the count depends on (None: absent, e.g. no custom entries).
    parts : mapping
        The config parts the counter reads (JSON-able).
    code : sequence of str
        Modules whose source the count depends on (dotted names); their bytes enter the key.

    Returns
    -------
    str
    """
    import importlib.util

    sources = []
    for name in code:
        spec = importlib.util.find_spec(name)
        sources.append(_file_sha256(spec.origin) if spec and spec.origin else name)
    payload = {
        "format": FORMAT, "kind": kind, "files": [None if f is None else _file_sha256(f) for f in files],
        "parts": parts, "code": sources,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cached_count(key: str, compute: Callable[[], int], folder: str | os.PathLike | None = None) -> int:
    """The count stored under ``key``, else ``compute()`` stored there (atomically) and returned.

    Parameters
    ----------
    key : str
        From :func:`count_key`.
    compute : callable returning int
        The counter (loads the table; called only on a miss).
    folder : path, optional
        Where counts live (default ``<cache_dir>/shard-counts``).

    Returns
    -------
    int
    """
    folder = Path(folder) if folder is not None else cache_dir() / "shard-counts"
    path = folder / f"{key}.json"
    try:
        return int(json.loads(path.read_text())["count"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or damaged: count again
    count = int(compute())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"count": count}))
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache folder costs time, never a wrong count
    return count
