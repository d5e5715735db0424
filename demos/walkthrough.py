"""Rebuild every worked example of neural-networks-basics.md with the engine, and check it.

    .venv/bin/python demos/walkthrough.py [--out DIR] [--explain]

The document (the tutorial text the project was written alongside; it is not shipped) works
examples by hand. This demo stands without it: each section first lists the example's
inputs and weights (from demos/document.py) and what is computed from them, then every
number the document states is printed beside the engine's, section by section (the digit
"1" network, activation functions, the single neuron, the dog/cat network, its loss,
gradient and update). A number that differs beyond the document's rounding is
marked DIFF with the reason: which input or which formula it does not follow from, and
what it does follow from. The dog/cat graph, with its gradients, is saved as
DIR/dogcat_graph.svg. `--explain` also prints explain() for the single neuron and the
dog/cat gradient. The exit status is 0 (a discrepancy in the document is a finding, not
a failure).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn
from autograd import Value, explain, save_graph
from demos.document import (  # the document's inputs and weights
    DIGIT_B1,
    DIGIT_B2,
    DIGIT_B3,
    DIGIT_W1,
    DIGIT_W2,
    DIGIT_W3,
    DIGIT_X,
    DOG_B1,
    DOG_B2,
    DOG_W1,
    DOG_W2,
    DOG_X,
    DOG_Y,
    NEURON_B,
    NEURON_W,
    NEURON_X,
    digit_network,
    dog_cat_network,
    single_neuron,
)
from demos.document import LEARNING_RATE as LR


@dataclass
class Check:
    """One number of the document beside the engine's.

    `doc` is written as the document writes it (its decimals set the rounding tolerance);
    `engine` is what the engine computes from the document's own inputs and formula.
    When they differ, `kind` and `why` say why, and `follows` (if given) is the engine's
    value for what the document's number does follow from."""

    section: str
    what: str
    doc: str
    engine: float | Sequence[float]
    kind: str = ""      # error | carried | formula | rounding
    why: str = ""
    follows: float | Sequence[float] | None = None

    @property
    def doc_values(self) -> np.ndarray:
        return np.array([float(s) for s in self.doc.split(",")])

    @property
    def tolerance(self) -> np.ndarray:
        """Half a unit in the last decimal the document writes (2.04 → 0.005)."""
        decimals = [len(s.strip().split(".")[1]) if "." in s else 0 for s in self.doc.split(",")]
        return 0.5 * 10.0 ** -np.array(decimals, dtype=float) + 1e-9

    @property
    def ok(self) -> bool:
        return bool(np.all(np.abs(self.doc_values - np.ravel(self.engine)) <= self.tolerance))

    @property
    def follows_ok(self) -> bool:
        """True when the document's number does follow from `follows`."""
        if self.follows is None:
            return False
        return bool(np.all(np.abs(self.doc_values - np.ravel(self.follows)) <= self.tolerance))


def _r(x: float | Sequence[float] | np.ndarray) -> str:
    a = np.ravel(np.asarray(x, dtype=float))
    return ", ".join(f"{v:.4f}".rstrip("0").rstrip(".") if v != 0 else "0" for v in a)


def _data(v: Value) -> np.ndarray:
    return np.asarray(v.data, dtype=float)


# ---- 1. the digit "1" network ---------------------------------------------------------------
def digit_checks() -> list[Check]:
    s = "1. Digit '1' (16-4-3-2)"
    model = digit_network()
    x = np.array(DIGIT_X)
    l1, l2, l3 = model.layers
    prods = Value(x) * l1.w[0]                       # neuron 1's 16 products
    sums = x @ l1.w.T                                # each neuron's Σ input × weight
    h1 = l1(x)
    h2 = l2(h1)
    z = l3(h2)
    p = z.softmax()
    e = z.exp()
    # what the document's later numbers follow from: its own stated earlier numbers
    doc_h1 = Value([2.04, 0.11, 0.19, 0.26])
    doc_h2 = Value([1.121, 0.517, 0.285])
    doc_z = Value([0.861, 0.210])
    doc_e = Value([2.366, 1.234])
    doc_p = Value([0.657, 0.343])
    true_h1 = _data(h1)
    wrong_sum = ("Σ input × weight with the neuron's listed weights and the 16 inputs is {v}, "
                 "not {d}")
    carried_h1 = (f"follows from the document's wrong hidden values [2.04, 0.11, 0.19, 0.26]; "
                  f"the true hidden layer is [{_r(true_h1)}]")
    carried = "follows from the document's earlier numbers, which carry the hidden-layer error"

    checks = [
        Check(s, "neuron 1: the 16 products x·w",
              "0.05, 0.56, 0.02, 0.0, 0.06, 0.72, 0.04, 0.0, 0.04, 0.42, 0.03, 0.02, 0.02, "
              "0.56, 0.0, 0.0", _data(prods)),
        Check(s, "neuron 1: Σ x·w", "2.54", _data(sums)[0]),
        Check(s, "neuron 1: z₁ = 2.54 - 0.5", "2.04", _data(h1)[0]),
        Check(s, "neuron 1: a₁ = ReLU(2.04)", "2.04", _data(h1)[0]),
    ]
    for i, (dsum, dz) in enumerate((("0.31", "0.11"), ("0.49", "0.19"), ("0.36", "0.26")), 2):
        true_sum = _data(sums)[i - 1]
        checks += [
            Check(s, f"neuron {i}: Σ x·w", dsum, true_sum, "error",
                  wrong_sum.format(v=f"{true_sum:.2f}", d=dsum)),
            Check(s, f"neuron {i}: z{'₂₃₄'[i - 2]} = Σ + b", dz, _data(h1)[i - 1], "carried",
                  f"the arithmetic {dsum} - {-DIGIT_B1[i - 1]:g} = {dz} is right, but the sum is "
                  f"wrong: z = {true_sum:.2f} - {-DIGIT_B1[i - 1]:g} = {_data(h1)[i - 1]:.2f}",
                  follows=float(dsum) + DIGIT_B1[i - 1]),
        ]
    checks += [
        Check(s, "hidden layer 1 output", "2.04, 0.11, 0.19, 0.26", true_h1, "carried",
              "neurons 2-4 use the wrong sums above"),
        Check(s, "layer 2 neuron 1 products", "1.224, 0.033, 0.038, 0.026",
              _data(h1 * l2.w[0]), "carried", carried_h1, follows=_data(doc_h1 * l2.w[0])),
        Check(s, "layer 2 neuron 2 products", "0.408, 0.055, 0.076, 0.078",
              _data(h1 * l2.w[1]), "carried", carried_h1, follows=_data(doc_h1 * l2.w[1])),
        Check(s, "layer 2 neuron 3 products", "0.204, 0.044, 0.057, 0.13",
              _data(h1 * l2.w[2]), "carried", carried_h1, follows=_data(doc_h1 * l2.w[2])),
        Check(s, "hidden layer 2 output", "1.121, 0.517, 0.285", _data(h2), "carried",
              carried_h1, follows=_data(l2(doc_h1))),
        Check(s, "output neuron 1 products", "0.897, 0.207, 0.057", _data(h2 * l3.w[0]),
              "carried", carried, follows=_data(doc_h2 * l3.w[0])),
        Check(s, "output neuron 2 products", "0.112, 0.155, 0.143", _data(h2 * l3.w[1]),
              "carried", carried, follows=_data(doc_h2 * l3.w[1])),
        Check(s, "raw outputs z", "0.861, 0.210", _data(z), "carried", carried,
              follows=_data(l3(doc_h2))),
        Check(s, "exp(z)", "2.366, 1.234", _data(e), "carried", carried,
              follows=_data(doc_z.exp())),
        Check(s, "Sum of exp", "3.600", float(e.sum().data), "carried",
              carried + " (and adds the rounded 2.366 + 1.234; e^0.861 + e^0.210 = 3.599)",
              follows=float(doc_e.sum().data)),
        Check(s, "P('1'), P('0')", "0.657, 0.343", _data(p), "carried", carried,
              follows=_data(doc_z.softmax())),
    ]
    sq = nn.mse_loss(p, [1.0, 0.0], reduction="sum")
    sq_doc = nn.mse_loss(doc_p, [1.0, 0.0], reduction="sum")
    checks.append(Check(s, "Loss = (1 - P1)² + (0 - P0)²", "0.235", float(sq.data), "carried",
                        "(1 - 0.657)² + (0 - 0.343)² = 0.235 is right for the document's "
                        "probabilities, but the network's true probabilities give this loss",
                        follows=float(sq_doc.data)))
    w = Value(0.5, label="w1")
    w.grad = 0.3
    nn.SGD([w], lr=LR).step()
    checks.append(Check(s, "update w₁ = 0.5 - (0.01 × 0.3)", "0.497", w.data))
    return checks


# ---- 2. activation functions and softmax -----------------------------------------------------
def activation_checks() -> list[Check]:
    s = "2. Activations and softmax"
    checks = []
    for x, d in ((-1.5, "0"), (0.3, "0.3"), (2.7, "2.7"), (-2.3, "0"), (0.0, "0"),
                 (1.7, "1.7"), (5.2, "5.2")):
        checks.append(Check(s, f"ReLU({x:g})", d, Value(x).relu().data))
    checks += [
        Check(s, "σ(0): e^0", "1", Value(0.0).exp().data),
        Check(s, "σ(0): 1 + e^0", "2", (1 + Value(0.0).exp()).data),
        Check(s, "σ(0)", "0.5", Value(0.0).sigmoid().data),
        Check(s, "σ(2): e^(-2)", "0.135", Value(-2.0).exp().data),
        Check(s, "σ(2): 1 + e^(-2)", "1.135", (1 + Value(-2.0).exp()).data),
        Check(s, "σ(2)", "0.88", Value(2.0).sigmoid().data),
        Check(s, "σ(-2): e^2", "7.389", Value(2.0).exp().data),
        Check(s, "σ(-2): 1 + e^2", "8.389", (1 + Value(2.0).exp()).data),
        Check(s, "σ(-2)", "0.12", Value(-2.0).sigmoid().data),
    ]
    z = Value([2.3, 0.8])
    e, p = z.exp(), z.softmax()
    doc_e = Value([9.97, 2.23])
    rounded = ("follows from the rounded exponentials: 9.97 / 12.2 and 2.23 / 12.2; the exact "
               f"softmax of [2.3, 0.8] is [{_r(p.data)}]")
    checks += [
        Check(s, "softmax [2.3, 0.8]: e^2.3, e^0.8", "9.97, 2.23", _data(e)),
        Check(s, "softmax [2.3, 0.8]: sum", "12.2", float(e.sum().data)),
        Check(s, "P(dog)", "0.817", _data(p)[0], "rounding", rounded,
              follows=float((doc_e[0] / 12.2).data)),
        Check(s, "P(cat)", "0.183", _data(p)[1], "rounding", rounded,
              follows=float((doc_e[1] / 12.2).data)),
    ]
    z = Value([2.0, 1.0, 0.1])
    e, p = z.exp(), z.softmax()
    checks += [
        Check(s, "softmax [2.0, 1.0, 0.1]: e^z", "7.389, 2.718, 1.105", _data(e)),
        Check(s, "softmax [2.0, 1.0, 0.1]: sum", "11.212", float(e.sum().data), "rounding",
              "the sum of the rounded 7.389 + 2.718 + 1.105; the exact sum is "
              f"{float(e.sum().data):.5f} (a last-digit difference)",
              follows=float(Value([7.389, 2.718, 1.105]).sum().data)),
        Check(s, "P(dog), P(cat), P(bird)", "0.659, 0.242, 0.099", _data(p)),
    ]
    return checks


# ---- 3. the single neuron -----------------------------------------------------------------
def neuron_checks() -> list[Check]:
    s = "3. Single neuron"
    a = single_neuron()
    z = a.parents[0]
    x = [Value(v) for v in NEURON_X]
    w = [Value(v) for v in NEURON_W]
    return [
        Check(s, "products w·x", "0.4, 0.21, 0.1", [(wi * xi).data for wi, xi in zip(w, x)]),
        Check(s, "z", "0.41", z.data),
        Check(s, "ReLU(z)", "0.41", a.data),
    ]


# ---- 4-7. the dog/cat network, its loss, gradient and update ----------------------------------
def dogcat_forward(model: nn.MLP) -> tuple[Value, Value]:
    """h = ReLU(x @ W1.T + b1), z = h @ W2.T + b2 (labelled for drawings and explain)."""
    h = model.layers[0](DOG_X)
    h.label = "h"
    z = model.layers[1](h)
    z.label = "z"
    return h, z


def dogcat_loss(kind: str) -> tuple[nn.MLP, Value, Value, Value]:
    """(model, h, z, L) after L.backward(): "mse" is the document's
    (1/2) × Σ (p - y)² on p = softmax(z); "ce" is softmax + cross-entropy."""
    model = dog_cat_network()
    h, z = dogcat_forward(model)
    if kind == "mse":
        p = z.softmax()
        p.label = "p"
        L = nn.mse_loss(p, DOG_Y, reduction="half_sum")
    else:
        L = nn.cross_entropy(z, DOG_Y)
    L.label = "L"
    L.backward()
    return model, h, z, L


def dogcat_checks() -> list[Check]:
    s4, s5, s6, s7 = ("4. Dog/cat forward (4-3-2)", "5. Loss (1/2)Σ(p-y)²",
                      "6. One-weight update", "7. Backpropagation")
    model = dog_cat_network()
    h, z = dogcat_forward(model)
    x = np.array(DOG_X)
    l1, l2 = model.layers
    e, p = z.exp(), z.softmax()
    checks = []
    for i, (prods, total, zi) in enumerate((("0.54, 0.08, 0.40, 0.09", "1.11", "0.71"),
                                            ("0.18, 0.14, 0.24, 0.18", "0.74", "0.44"),
                                            ("0.27, 0.10, 0.16, 0.24", "0.77", "0.27"))):
        n = "₁₂₃"[i]
        checks += [
            Check(s4, f"z{n} products", prods, _data(l1.w[i] * x)),
            Check(s4, f"z{n} Σ w·x", total, _data(x @ l1.w.T)[i]),
            Check(s4, f"z{n}, a{n} = ReLU(z{n})", f"{zi}, {zi}",
                  [_data(h)[i], _data(h)[i]]),
        ]
    for i, (name, prods, total, zi) in enumerate((
            ("dog", "0.568, 0.264, 0.081", "0.913", "0.713"),
            ("cat", "0.213, 0.308, 0.243", "0.764", "0.464"))):
        checks += [
            Check(s4, f"z_{name} products", prods, _data(l2.w[i] * h)),
            Check(s4, f"z_{name} Σ w·h", total, _data(h @ l2.w.T)[i]),
            Check(s4, f"z_{name}", zi, _data(z)[i]),
        ]
    checks += [
        Check(s4, "e^0.713, e^0.464", "2.040, 1.590", _data(e)),
        Check(s4, "Sum", "3.630", float(e.sum().data), "rounding",
              f"the sum of the rounded 2.040 + 1.590; the exact sum is "
              f"{float(e.sum().data):.5f} (a last-digit difference)",
              follows=float(Value([2.040, 1.590]).sum().data)),
        Check(s4, "P(dog), P(cat)", "0.562, 0.438", _data(p)),
    ]
    y = np.array(DOG_Y)
    diff = p - y
    sq = diff * diff
    L = nn.mse_loss(p, DOG_Y, reduction="half_sum")
    checks += [
        Check(s5, "p - y", "-0.438, 0.438", _data(diff)),
        Check(s5, "(p - y)²", "0.192, 0.192", _data(sq)),
        Check(s5, "Σ (p - y)²", "0.384", float(sq.sum().data)),
        Check(s5, "Loss = (1/2) × 0.384", "0.192", float(L.data)),
    ]
    w = Value(0.5, label="w")
    w.grad = 0.35
    nn.SGD([w], lr=LR).step()
    checks += [
        Check(s6, "learning_rate × dL/dw = 0.01 × 0.35", "0.0035", (Value(LR) * 0.35).data),
        Check(s6, "new_w = 0.5 - 0.0035", "0.4965", w.data),
    ]
    # The document defines L = (1/2) Σ (p - y)² and then uses dL/dz = p - y, the gradient of
    # softmax + cross-entropy. Compute both and say which one its numbers follow.
    mse_model, mse_h, mse_z, _ = dogcat_loss("mse")
    ce_model, _, ce_z, _ = dogcat_loss("ce")
    formula = ("dL/dz = p - y is the gradient of softmax + cross-entropy, not of the "
               "(1/2)Σ(p - y)² loss the document just defined; under that loss p - y = -0.438 "
               "is dL/dp_dog, and dL/dz_dog = Σⱼ (pⱼ - yⱼ) dpⱼ/dz_dog")
    mse_w = _data(mse_model.layers[1].w.grad)[0, 0]
    ce_w = _data(ce_model.layers[1].w.grad)[0, 0]
    w_mse = Value(DOG_W2[0][0])
    w_mse.grad = mse_w
    w_ce = Value(DOG_W2[0][0])
    w_ce.grad = ce_w
    nn.SGD([w_mse, w_ce], lr=LR).step()
    checks += [
        Check(s7, "z_dog", "0.713", _data(mse_z)[0]),
        Check(s7, "p_dog", "0.562", _data(p)[0]),
        Check(s7, "h₁", "0.71", _data(mse_h)[0]),
        Check(s7, "dL/dz_dog = p_dog - y_dog", "-0.438", _data(mse_z.grad)[0], "formula",
              formula + " (cross-entropy gives the document's number)",
              follows=_data(ce_z.grad)[0]),
        Check(s7, "dL/dw₁ = dL/dz_dog × h₁", "-0.311", mse_w, "formula",
              "follows from the cross-entropy gradient -0.438 × 0.71; with the document's "
              "(1/2)Σ(p - y)² loss it is -0.216 × 0.71", follows=ce_w),
        Check(s7, "learning_rate × dL/dw₁", "-0.00311", LR * mse_w, "formula",
              "0.01 × the cross-entropy gradient", follows=LR * ce_w),
        Check(s7, "w₁_new = 0.8 - 0.01 × dL/dw₁", "0.80311", w_mse.data, "formula",
              "the update with the cross-entropy gradient; with the document's loss "
              f"w₁ becomes {w_mse.data:.5f}", follows=w_ce.data),
    ]
    return checks


def all_checks() -> list[Check]:
    return digit_checks() + activation_checks() + neuron_checks() + dogcat_checks()


# ---- what each example starts from ------------------------------------------------------------
def _nums(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _matrix(name: str, rows: Sequence[Sequence[float]], what: str) -> list[str]:
    lines = [f"{name} ({len(rows)}×{len(rows[0])}, {what}):"]
    return lines + [f"    {_nums(r)}" for r in rows]


def setup(section: str) -> list[str]:
    """The inputs, weights and formulas a section's example starts from (by its number),
    so a reader without the document can redo it."""
    n = section[:1]
    if n == "1":
        image = [f"    {_nums(DIGIT_X[i:i + 4])}" for i in range(0, 16, 4)]
        return (["a 4×4 image of a '1' → 4 ReLU → 3 ReLU → 2 outputs ('1', '0') → softmax",
                 "image x (16 pixel brightnesses), row by row:", *image]
                + _matrix("W1", DIGIT_W1, "one row per neuron") + [f"b1 = {_nums(DIGIT_B1)}"]
                + _matrix("W2", DIGIT_W2, "one row per neuron") + [f"b2 = {_nums(DIGIT_B2)}"]
                + _matrix("W3", DIGIT_W3, "rows: '1', '0'") + [f"b3 = {_nums(DIGIT_B3)}"]
                + ["true label y = [1, 0]; its loss: Σ (p - y)² (no factor 1/2 here)",
                   f"its update example: w₁ = 0.5, gradient 0.3, learning rate {LR:g}"])
    if n == "2":
        return ["ReLU(z) = max(0, z);  σ(z) = 1 / (1 + e^(-z));  softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ",
                "softmax of the scores [2.3, 0.8] (dog, cat) and [2.0, 1.0, 0.1] (dog, cat, bird)"]
    if n == "3":
        return ["a = ReLU(w₁x₁ + w₂x₂ + w₃x₃ + b)",
                f"x = {_nums(NEURON_X)}, w = {_nums(NEURON_W)}, b = {NEURON_B:g}"]
    if n == "4":
        return (["a 2×2 image (4 pixels) → 3 ReLU → 2 outputs (dog, cat) → softmax",
                 f"x = {_nums(DOG_X)}"]
                + _matrix("W1", DOG_W1, "one row per hidden neuron") + [f"b1 = {_nums(DOG_B1)}"]
                + _matrix("W2", DOG_W2, "rows: dog, cat") + [f"b2 = {_nums(DOG_B2)}"])
    if n == "5":
        return [f"the probabilities p of section 4 against the true label y = {_nums(DOG_Y)}",
                "L = (1/2) × Σ (p - y)²"]
    if n == "6":
        return [f"one weight w = 0.5 with gradient dL/dw = 0.35, learning rate {LR:g}",
                "new_w = w - learning_rate × dL/dw"]
    return [f"w₁ = W2[dog, h₁] = {DOG_W2[0][0]:g}: the weight from hidden neuron 1 to the dog output",
            "dL/dw₁ by the chain rule for the loss L of section 5, then w₁'s update",
            "the document uses dL/dz = p - y: the gradient of softmax + cross-entropy (-log p_dog)",
            "the engine computes both losses' gradients"]


# ---- output -------------------------------------------------------------------------------
def report(checks: list[Check]) -> list[str]:
    lines = []
    section = None
    for c in checks:
        if c.section != section:
            section = c.section
            lines += ["", f"== {section} =="]
            lines += [f"  {ln}" for ln in setup(section)]
            lines.append("  the document's numbers (doc) beside the engine's:")
        mark = "ok  " if c.ok else "DIFF"
        lines.append(f"  {mark} {c.what:<38} doc {c.doc:<26} engine {_r(c.engine)}")
        if not c.ok:
            why = c.why or "the engine disagrees; no explanation recorded"
            lines.append(f"       ^ {c.kind or 'discrepancy'}: {why}")
            if c.follows is not None:
                state = "does" if c.follows_ok else "does NOT"
                lines.append(f"         the document's number {state} follow from that: "
                             f"{_r(c.follows)}")
    return lines


def summary(checks: list[Check]) -> str:
    bad = [c for c in checks if not c.ok]
    kinds: dict[str, int] = {}
    for c in bad:
        kinds[c.kind or "other"] = kinds.get(c.kind or "other", 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    return (f"Summary: {len(checks)} checks, {len(checks) - len(bad)} agree with the engine, "
            f"{len(bad)} discrepancies" + (f" ({parts})" if parts else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                     epilog="Time: about 2 s.")
    parser.add_argument("--out", default=".", help="directory for dogcat_graph.svg")
    parser.add_argument("--explain", action="store_true",
                        help="also print explain() for the single neuron and dog/cat gradient")
    args = parser.parse_args(argv)
    print("walkthrough: every worked example of neural-networks-basics.md rebuilt with the "
          "engine, each of its numbers beside the engine's; about 2 s", flush=True)
    print("(The document is the tutorial text the project was written alongside; it is not "
          "shipped, so each example's inputs and weights are listed first.)")
    if hasattr(sys.stdout, "reconfigure"):  # σ, Σ and subscripts on any terminal encoding
        sys.stdout.reconfigure(errors="backslashreplace")

    checks = all_checks()
    print("The document's numbers beside the engine's (ok: equal within the document's "
          "rounding; DIFF: not)")
    print("\n".join(report(checks)))
    print()
    print("Note: Step 3 of the digit example uses Loss = Σ (p - y)² (0.235); the dog/cat "
          "section uses (1/2) × Σ (p - y)² (0.192). Each number follows its own formula, but "
          "the two definitions differ by the factor 1/2.")
    print("Notation: both softmax formulas write e^z² where e^z₂ is meant.")
    headings = {"ce": "The chain rule as explain() writes it for softmax + cross-entropy:",
                "mse": "... and for the document's (1/2)Σ(p - y)² loss:"}
    losses = {}
    for kind, heading in headings.items():
        losses[kind] = dogcat_loss(kind)[3]
        print(heading)
        for ln in explain(losses[kind]).splitlines():
            if ln.strip().startswith(("dL/dz₁ =", "dL/dW₂[1,1] =")):
                print("  " + ln.strip())
    ce = losses["ce"]
    if args.explain:
        print("\n---- explain(single neuron) ----")
        a = single_neuron()
        a.backward()
        print(explain(a))
        print("---- explain(dog/cat, softmax + cross-entropy) ----")
        print(explain(ce))

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "dogcat_graph.svg"
    try:
        save_graph(ce, target)
        print(f"\nDog/cat graph with gradients (cross-entropy loss) saved to {target.resolve()}")
    except RuntimeError as e:  # no Graphviz: the .dot file was written instead
        print(f"\n{e}", file=sys.stderr)
    print(summary(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
