"""The course (notebooks/): committed without outputs, and each notebook runs top to bottom.

Every notebook asserts its own key figures in `assert` cells, so running it is the test.
nbclient runs it in a fresh Jupyter kernel, cell by cell, against a per-notebook time limit
(`LIMITS`): each cell may use what is left of its notebook's budget, so a notebook that
hangs or grows slow fails here instead of stretching CI. The kernel starts in notebooks/
(where a learner opens them) and imports this checkout's autograd and nn.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

# Seconds each notebook may take: above what it took on a 2-core machine shared with eight
# other jobs (notebooks/README.md gives the times), so only a hang or a real slowdown trips
# it. Every notebook must have an entry.
LIMITS = {
    "01_neuron_and_network.ipynb": 120,
    "04_training_lifecycle.ipynb": 360,
    "05_makemore_bigram.ipynb": 180,
    "06_makemore_mlp.ipynb": 900,
    "07_past_the_mlp.ipynb": 480,
}

# What the notebooks import beyond numpy: `pip install -e '.[notebooks]'` (make notebooks).
NEEDS = ("nbclient", "nbformat", "ipykernel", "torch", "sklearn", "mnist1d", "matplotlib")


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_a_time_limit_and_every_limit_a_notebook():
    assert {p.name for p in notebook_paths()} == set(LIMITS)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    """Outputs stay out of git so diffs show only what was written (strip them with
    `jupyter nbconvert --clear-output --inplace` or by hand before committing)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} were committed with outputs or "
                       "execution counts; clear them before committing")
    assert all(not cell.get("attachments") for cell in nb["cells"]), \
        f"{path.name}: a cell carries attachments (pasted images); keep notebooks text only"


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    for module in NEEDS:
        pytest.importorskip(module, reason=f"{module} is missing: the notebooks extra is not "
                                           "installed (make notebooks)")
    import nbformat
    from nbclient import NotebookClient

    # the kernel inherits this environment: it imports this checkout's packages
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv("MPLBACKEND", "Agg")  # plots render to memory; no display needed
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    limit = LIMITS[path.name]
    deadline = time.monotonic() + limit
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{path.name} used its {limit} s before cell {index}")
            client.timeout = max(1, int(left))  # this cell may use what is left
            client.execute_cell(cell, index)
