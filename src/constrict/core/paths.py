"""Where constrict finds its embedded data and keeps its caches.

No heavy imports: the command line resolves these paths before it loads
anything else.

Offline snapshots (``mp_offline.parquet``, ``oqmd_offline.parquet``) are
looked up in the first of

1. an explicit folder (the ``--data-dir`` option, or ``data_dir=``),
2. the folder in the environment variable :data:`DATA_DIR_ENV`,
3. the package's own data: ``data/`` of the source checkout the package
   runs from (editable install), else the copy a wheel installs under
   ``<prefix>/share/constrict/data``.

The config schema is found the same way (``workflow/schemas/`` of the
checkout, else ``<prefix>/share/constrict/workflow/schemas``).

Built entry arrays are cached in :func:`cache_dir`: the folder in
:data:`CACHE_DIR_ENV`, else ``$XDG_CACHE_HOME/constrict``, else
``~/.cache/constrict``.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from constrict.core.errors import ConfigError

DATA_DIR_ENV = "CONSTRICT_DATA_DIR"
"""Environment variable naming the folder of the offline snapshots."""

CACHE_DIR_ENV = "CONSTRICT_CACHE_DIR"
"""Environment variable naming the folder of the entry-array cache."""

SNAPSHOT_FILES = {"mp_offline": "mp_offline.parquet", "oqmd_offline": "oqmd_offline.parquet"}
"""Offline source -> its snapshot file name inside the data folder."""

SHARE_PREFIX = ("share", "constrict")
"""Where a wheel installs the repository files it carries, below the install prefix."""

_CHECKOUT = Path(__file__).resolve().parents[3]


def package_file(relative: str) -> Path:
    """A file the package carries, given by its path in the repository.

    Parameters
    ----------
    relative : str
        Repository-relative path, e.g. ``"data/mp_offline.parquet"``.

    Returns
    -------
    Path
        The file in the source checkout the package runs from, else in the
        installed copy; if neither exists, the checkout path (callers report
        it as missing).
    """
    in_checkout = _CHECKOUT / relative
    if in_checkout.exists() and (_CHECKOUT / "pyproject.toml").is_file():
        return in_checkout
    for root in _installed_roots():
        if (root / relative).exists():
            return root / relative
    return in_checkout


@functools.cache
def _installed_roots() -> tuple[Path, ...]:
    """Candidate ``<prefix>/share/constrict`` folders of an installed (non-editable) constrict."""
    from importlib import metadata

    roots = []
    try:
        dist = metadata.distribution("constrict")
        files = dist.files or ()
    except metadata.PackageNotFoundError:
        files = ()
    for file in files:
        parts = file.parts
        hits = [i for i in range(len(parts) - 1) if parts[i : i + 2] == SHARE_PREFIX]
        if hits:
            roots.append(Path(dist.locate_file(Path(*parts[: hits[0] + 2]))).resolve())
            break
    roots.append(Path(sys.prefix).joinpath(*SHARE_PREFIX))
    return tuple(dict.fromkeys(roots))


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The folder holding the offline snapshots.

    Parameters
    ----------
    override : str or path-like, optional
        Explicit folder (``--data-dir``); wins over :data:`DATA_DIR_ENV`.

    Returns
    -------
    Path
        ``override``, else ``$CONSTRICT_DATA_DIR``, else the package's own
        data folder.

    Raises
    ------
    ConfigError
        An explicit or environment folder that does not exist.
    """
    if override is not None:
        folder = Path(override).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"--data-dir {folder} is not a folder; pass the folder holding mp_offline.parquet")
        return folder
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"{DATA_DIR_ENV}={env} is not a folder; set it to the folder holding mp_offline.parquet")
        return folder
    return package_file("data")


def snapshot_path(source: str, data_dir_override: str | os.PathLike | None = None) -> Path:
    """Path of an offline snapshot (it may not exist; the loader says so).

    Parameters
    ----------
    source : {"mp_offline", "oqmd_offline"}
        Offline source.
    data_dir_override : str or path-like, optional
        Explicit data folder, see :func:`data_dir`.

    Raises
    ------
    ConfigError
        Unknown source, or see :func:`data_dir`.
    """
    if source not in SNAPSHOT_FILES:
        raise ConfigError(f"{source!r} is not an offline source; use one of {', '.join(SNAPSHOT_FILES)}")
    return data_dir(data_dir_override) / SNAPSHOT_FILES[source]


def cache_dir() -> Path:
    """The per-user cache folder (it may not exist yet).

    Returns
    -------
    Path
        ``$CONSTRICT_CACHE_DIR``, else ``$XDG_CACHE_HOME/constrict``, else
        ``~/.cache/constrict``.
    """
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "constrict"


def schema_path() -> Path:
    """The campaign config schema (``workflow/schemas/config.schema.yaml``)."""
    return package_file("workflow/schemas/config.schema.yaml")
