"""The walkthrough: the document's numbers, rebuilt with the engine, and its discrepancies."""

import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import Value
from demos import document as doc

DEMO = Path(__file__).resolve().parents[2] / "demos" / "walkthrough.py"


def load_demo():
    spec = importlib.util.spec_from_file_location("walkthrough", DEMO)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["walkthrough"] = mod  # dataclasses look their module up while being built
    spec.loader.exec_module(mod)
    return mod


wt = load_demo()
CHECKS = {(c.section[:1], c.what): c for c in wt.all_checks()}

# Every place the document's number does not follow from its own inputs and formula, with
# the kind of mistake and the correct value(s) the engine must give.
DISCREPANCIES = {
    ("1", "neuron 2: Σ x·w"): ("error", [0.84]),
    ("1", "neuron 3: Σ x·w"): ("error", [0.83]),
    ("1", "neuron 4: Σ x·w"): ("error", [0.93]),
    ("1", "neuron 2: z₂ = Σ + b"): ("carried", [0.64]),
    ("1", "neuron 3: z₃ = Σ + b"): ("carried", [0.53]),
    ("1", "neuron 4: z₄ = Σ + b"): ("carried", [0.83]),
    ("1", "hidden layer 1 output"): ("carried", [2.04, 0.64, 0.53, 0.83]),
    ("1", "layer 2 neuron 1 products"): ("carried", [1.224, 0.192, 0.106, 0.083]),
    ("1", "layer 2 neuron 2 products"): ("carried", [0.408, 0.32, 0.212, 0.249]),
    ("1", "layer 2 neuron 3 products"): ("carried", [0.204, 0.256, 0.159, 0.415]),
    ("1", "hidden layer 2 output"): ("carried", [1.405, 1.089, 0.884]),
    ("1", "output neuron 1 products"): ("carried", [1.124, 0.4356, 0.1768]),
    ("1", "output neuron 2 products"): ("carried", [0.1405, 0.3267, 0.442]),
    ("1", "raw outputs z"): ("carried", [1.4364, 0.7092]),
    ("1", "exp(z)"): ("carried", [4.2055, 2.0324]),
    ("1", "Sum of exp"): ("carried", [6.2379]),
    ("1", "P('1'), P('0')"): ("carried", [0.6742, 0.3258]),
    ("1", "Loss = (1 - P1)² + (0 - P0)²"): ("carried", [0.2123]),
    ("2", "P(dog)"): ("rounding", [0.8176]),
    ("2", "P(cat)"): ("rounding", [0.1824]),
    ("2", "softmax [2.0, 1.0, 0.1]: sum"): ("rounding", [11.2125]),
    ("4", "Sum"): ("rounding", [3.6305]),
    ("7", "dL/dz_dog = p_dog - y_dog"): ("formula", [-0.2157]),
    ("7", "dL/dw₁ = dL/dz_dog × h₁"): ("formula", [-0.1531]),
    ("7", "learning_rate × dL/dw₁"): ("formula", [-0.001531]),
    ("7", "w₁_new = 0.8 - 0.01 × dL/dw₁"): ("formula", [0.801531]),
}


def test_exactly_the_known_discrepancies_are_marked():
    marked = {key for key, c in CHECKS.items() if not c.ok}
    assert marked == set(DISCREPANCIES)


@pytest.mark.parametrize("key", sorted(DISCREPANCIES))
def test_each_discrepancy_has_the_correct_value_and_reason(key):
    kind, correct = DISCREPANCIES[key]
    c = CHECKS[key]
    assert c.kind == kind and c.why
    np.testing.assert_allclose(np.ravel(c.engine), correct, atol=6e-5)
    # what the document's number does follow from is named, and it really follows
    if c.follows is not None:
        assert c.follows_ok


@pytest.mark.parametrize("key", sorted(k for k in CHECKS if k not in DISCREPANCIES))
def test_every_number_the_document_gets_right(key):
    c = CHECKS[key]
    assert c.ok, (c.doc, c.engine)
    assert not np.any(np.abs(c.doc_values - np.ravel(c.engine)) > c.tolerance)


def test_tolerance_is_half_a_unit_of_the_last_written_decimal():
    c = wt.Check("s", "x", "2.04, 0.5, 3", [2.044, 0.54, 3.4])
    np.testing.assert_allclose(c.tolerance, [0.005, 0.05, 0.5], atol=1e-8)
    assert c.ok
    assert not wt.Check("s", "x", "0.817", 0.8176).ok


def test_document_numbers_straight_from_the_engine():
    """The headline numbers, computed here through the public API."""
    model = doc.dog_cat_network()
    h = model.layers[0](doc.DOG_X)
    z = model.layers[1](h)
    np.testing.assert_allclose(h.data, [0.71, 0.44, 0.27], atol=1e-12)
    np.testing.assert_allclose(z.data, [0.713, 0.464], atol=1e-12)
    np.testing.assert_allclose(z.softmax().data, [0.562, 0.438], atol=5e-4)
    L = nn.mse_loss(z.softmax(), [1.0, 0.0], reduction="half_sum")
    assert L.item() == pytest.approx(0.192, abs=5e-4)
    L.backward()
    assert model.layers[1].w.grad[0, 0] == pytest.approx(-0.15313, abs=1e-5)  # not -0.311
    model.zero_grad()
    nn.cross_entropy(z, 0).backward()
    assert model.layers[1].w.grad[0, 0] == pytest.approx(-0.438 * 0.71, abs=5e-4)
    digit = doc.digit_network()
    np.testing.assert_allclose(digit.layers[0](doc.DIGIT_X).data, [2.04, 0.64, 0.53, 0.83],
                               atol=1e-12)
    # the document's later layers do follow from its stated hidden values
    np.testing.assert_allclose(digit.layers[1](Value([2.04, 0.11, 0.19, 0.26])).data,
                               [1.121, 0.517, 0.285], atol=1e-12)
    assert Value(2.0).sigmoid().item() == pytest.approx(0.88, abs=5e-3)
    assert wt.single_neuron().item() == pytest.approx(0.41, abs=1e-12)


def run(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(DEMO.parents[1]))
    return subprocess.run([sys.executable, str(DEMO), *args], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_runs_as_a_script_and_saves_the_graph(tmp_path):
    proc = run("--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("walkthrough: every worked example") and "about 2 s" in out
    assert "Summary: 80 checks, 54 agree with the engine, 26 discrepancies " \
        "(15 carried, 3 error, 4 formula, 4 rounding)" in out
    assert "  DIFF neuron 2: Σ x·w" in out and "is 0.84, not 0.31" in out
    # each example's inputs and weights come first, so the report reads without the document
    assert "x = [0.8, 0.3, 0.5], w = [0.5, 0.7, 0.2], b = -0.3" in out
    assert "      [0.6, 0.4, 0.5, 0.3]" in out and "b2 = [-0.2, -0.3]" in out  # dog/cat W1, b2
    assert out.count("the document's numbers (doc) beside the engine's:") == 7
    assert "  ok   z_dog                                  doc 0.713" in out
    assert "dL/dz₁ = p₁ - y₁ = 0.562 - 1 = -0.438" in out
    assert "-0.438 × 0.71 = -0.311" in out and "-0.216 × 0.71 = -0.153" in out
    svg = tmp_path / "out" / "dogcat_graph.svg"
    assert [p.name for p in svg.parent.iterdir()] == ["dogcat_graph.svg"]
    texts = [t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text")
             if t.text]
    assert {"layers.1.w", "layers.0.w", "h", "z", "L"} <= set(texts)
    assert any("-0.311" in t for t in texts)  # dL/dw₁ on layers.1.w's grad row
    assert not list(tmp_path.glob("*.svg"))  # nothing written to the working directory


def test_explain_flag_prints_the_hand_calculations(tmp_path):
    proc = run("--explain", "--out", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "z = (0.5 × 0.8) + (0.7 × 0.3) + (0.2 × 0.5) - 0.3 = 0.4 + 0.21 + 0.1 - 0.3 = 0.41" \
        in proc.stdout
    assert "z₁ = (0.8 × 0.71) + (0.6 × 0.44) + (0.3 × 0.27) - 0.2 = 0.568 + 0.264 + 0.081 - 0.2" \
        " = 0.713" in proc.stdout
