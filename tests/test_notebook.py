"""examples/constrict_tour.ipynb: committed with its outputs, and it runs from a fresh kernel on the offline data."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "constrict_tour.ipynb"


def outputs(nb) -> tuple[str, int]:
    """All text the code cells show, and how many images."""
    text, images = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                text.append(out["text"])
            elif out["output_type"] in ("execute_result", "display_data"):
                text.append(out["data"].get("text/plain", ""))
                images += "image/png" in out["data"]
            elif out["output_type"] == "error":
                text.append(f"ERROR {out['ename']}: {out['evalue']}")
    return "\n".join(text), images


def check(nb) -> None:
    """Every code cell shows something, nothing failed, and the outputs are the tour's."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("outputs") for c in code), "a code cell without output"
    text, images = outputs(nb)
    assert "ERROR" not in text
    assert images == 2  # the interface and the window figures
    for expected in ("x_m = 0.4878", "unconstrained 1.721 - 2.291 V", "Keff = 15 GPa", "the glass alone at 4 V",
                     "engine evaluations", "27 rows, 9 coatings, status ['ok']", "LiNbO3"):
        assert expected in text, expected


def test_committed_notebook_has_its_outputs():
    check(nbformat.read(NOTEBOOK, as_version=4))


@pytest.mark.slow
def test_notebook_runs_in_a_fresh_kernel(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    check(nb)
    assert list(tmp_path.iterdir()) == []  # the tour writes nothing where it runs
