"""Where the trained surrogates live: ``<results_dir>/surrogate/models/kcrit_<V>V.skops``.

Without an explicit directory, :func:`models_dir` takes
``results/surrogate/models`` below the working directory when it exists,
else the repository's own ``results/surrogate/models`` (constrict installed
editable, run from elsewhere).
"""

from __future__ import annotations

import re
from pathlib import Path

from constrict.core.errors import ConstrictError

DEFAULT_MODELS = Path("results") / "surrogate" / "models"
"""Models directory of the default campaign, relative to the working directory."""

TRAIN_HINT = "train them with `make run` (or the Snakemake target results/surrogate/metrics.tsv)"

_NAME = re.compile(r"^kcrit_(?P<voltage>\d+(?:\.\d+)?)V\.skops$")


def model_name(voltage_v: float) -> str:
    """File name of the model of one voltage, e.g. ``kcrit_4V.skops``, ``kcrit_3.5V.skops``."""
    return f"kcrit_{float(voltage_v):g}V.skops"


def models_dir(models: str | Path | None = None) -> Path:
    """The models directory: ``models`` if given, else the default (module docstring)."""
    if models is not None:
        return Path(models)
    if DEFAULT_MODELS.is_dir():
        return DEFAULT_MODELS
    from constrict.core.config import REPO_ROOT

    return REPO_ROOT / DEFAULT_MODELS


def model_path(voltage_v: float, models: str | Path | None = None) -> Path:
    """Path of the model of one voltage (whether or not it exists)."""
    return models_dir(models) / model_name(voltage_v)


def available_voltages(models: str | Path | None = None) -> list[float]:
    """Voltages (V) with a model file in the models directory, sorted."""
    directory = models_dir(models)
    if not directory.is_dir():
        return []
    found = (_NAME.match(p.name) for p in directory.iterdir())
    return sorted(float(m["voltage"]) for m in found if m)


def find_model(voltage_v: float, models: str | Path | None = None) -> Path:
    """The model file of one voltage.

    Raises
    ------
    ConstrictError
        No such file: names the directory, the voltages that have models
        and how to train them.
    """
    path = model_path(voltage_v, models)
    if path.is_file():
        return path
    have = available_voltages(models)
    if not have:
        raise ConstrictError(f"no trained surrogate in {models_dir(models)}; {TRAIN_HINT}")
    listed = ", ".join(f"{v:g}" for v in have)
    raise ConstrictError(
        f"no surrogate for {float(voltage_v):g} V in {models_dir(models)} (models for {listed} V); "
        "add the voltage to voltages_v and " + TRAIN_HINT.replace("train them", "retrain")
    )
