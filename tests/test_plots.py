"""Figures: periodic-table positions and that the PNGs are drawn."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from constrict.campaign.plots import kcrit_histograms, periodic_table_heatmap, table_position


@pytest.mark.parametrize(
    ("symbol", "position"),
    [
        ("H", (1, 1)),
        ("He", (1, 18)),
        ("Li", (2, 1)),
        ("O", (2, 16)),
        ("Fe", (4, 8)),
        ("I", (5, 17)),
        ("Ba", (6, 2)),
        ("Hf", (6, 4)),
        ("La", (9, 3)),
        ("Lu", (9, 17)),
        ("Ac", (10, 3)),
        ("U", (10, 6)),
        ("Og", (7, 18)),
    ],
)
def test_table_position(symbol, position):
    assert table_position(symbol) == position


def test_positions_unique():
    from pymatgen.core import Element

    positions = [table_position(Element.from_Z(z)) for z in range(1, 119)]
    assert len(set(positions)) == 118


def test_heatmap_colours_values(tmp_path):
    # O strongly negative (red), Mo positive (blue), the rest grey
    path = periodic_table_heatmap(pd.Series({"O": -0.8, "Mo": 0.8, "Cl": np.nan}), tmp_path / "pt.png", title="t")
    image = imread(path)[..., :3]
    assert image.shape[0] > 500 and image.shape[1] > 1000
    red = (image[..., 0] > 0.5) & (image[..., 2] < 0.3)
    blue = (image[..., 2] > 0.5) & (image[..., 0] < 0.3)
    assert red.sum() > 500 and blue.sum() > 500


def test_histograms_one_panel_per_voltage(tmp_path):
    rows = pd.DataFrame(
        {
            "voltage_v": [0.0] * 4 + [4.0] * 4,
            "status": ["ok"] * 8,
            "reacts": [True] * 7 + [False],
            "kcrit_gpa": [0.0, 3.0, 9.0, math.inf, 1.0, 2.0, 40.0, math.nan],
            "kcrit_determined": [True] * 7 + [False],
        }
    )
    path = kcrit_histograms(rows, tmp_path / "h.png", title="test")
    image = imread(path)
    # two panels side by side: wider than tall
    assert image.shape[1] > 1.5 * image.shape[0]
