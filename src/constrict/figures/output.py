"""Where a figure goes: the path checked before any work, the image and its JSON sidecar written atomically.

A figure ``out/li7p3s11.png`` comes with ``out/li7p3s11.json``: the arrays
it draws, so that its numbers can be read (and tested) without the pixels.
JSON has no NaN or infinity: NaN is written as ``null`` and +-inf as the
strings ``"inf"`` / ``"-inf"``, as in the CLI's ``--json``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from constrict.core.errors import ConfigError

IMAGE_SUFFIXES = {".png": "png", ".svg": "svg"}
"""Accepted image suffixes (lower case) and the matplotlib format each writes."""

DPI = 150


def check_figure_path(path) -> Path:
    """The figure's path, checked before anything is computed.

    Parameters
    ----------
    path : str or Path
        Image to write: ``.png`` or ``.svg`` (any case), in a folder that
        exists. Its sidecar is the same path with ``.json``.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        The suffix is not an image suffix, or the folder does not exist.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ConfigError(f"cannot write a figure to {path}: the name must end in "
                          f"{' or '.join(IMAGE_SUFFIXES)} (the format follows the suffix)")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write a figure to {path}: the folder {folder} does not exist")
    return path


def sidecar_path(path) -> Path:
    """The JSON sidecar of a figure: the same name with ``.json``."""
    return Path(path).with_suffix(".json")


def json_safe(value):
    """A JSON-ready copy: arrays to lists, numpy scalars to Python, NaN to None, +-inf to "inf"/"-inf"."""
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def read_sidecar(path) -> dict:
    """A sidecar read back, with ``null`` -> NaN and ``"inf"``/``"-inf"`` -> floats.

    Parameters
    ----------
    path : str or Path
        The figure or its ``.json`` sidecar.
    """
    def restore(value):
        if value is None:
            return float("nan")
        if value in ("inf", "-inf"):
            return float(value)
        if isinstance(value, list):
            return [restore(v) for v in value]
        if isinstance(value, dict):
            return {k: restore(v) for k, v in value.items()}
        return value

    return restore(json.loads(sidecar_path(path).read_text()))


def save_figure(figure, data: dict, path) -> Path:
    """Write ``figure`` to ``path`` and ``data`` to its sidecar, each atomically.

    Each file is first written beside its destination under a temporary
    name and then renamed over it, so a reader never sees half a file and
    an interrupted run leaves no partial output.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    data : dict
        The plotted arrays (:func:`json_safe` makes them JSON).
    path : str or Path
        ``.png`` or ``.svg`` (:func:`check_figure_path`).

    Returns
    -------
    Path
        The image written.
    """
    path = check_figure_path(path)
    side = sidecar_path(path)
    tmp_image = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp_side = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    try:
        figure.savefig(tmp_image, format=IMAGE_SUFFIXES[path.suffix.lower()], dpi=DPI,
                       metadata={"Software": None} if path.suffix.lower() == ".png" else {"Date": None})
        tmp_side.write_text(json.dumps(json_safe(data), indent=1) + "\n")
        os.replace(tmp_image, path)
        os.replace(tmp_side, side)
    finally:
        tmp_image.unlink(missing_ok=True)
        tmp_side.unlink(missing_ok=True)
    return path
