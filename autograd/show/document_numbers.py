"""The source document's worked examples: their inputs and weights, in one place.

neural-networks-basics.md works three examples by hand; the playground
(`python -m autograd.playground`), the walkthrough demo and the tests rebuild them from
these numbers, which ship with the package so an installed copy runs the playground:

- "Setup: Recognizing the digit "1" from a blurry 4×4 image": the 16-4-3-2 digit network
  (``DIGIT_*``).
- "Hand Calculation Example - Single Neuron": a = ReLU(w₁x₁ + w₂x₂ + w₃x₃ + b)
  (``NEURON_*``, ``single_neuron()``).
- "Network Architecture" and "Complete Forward Pass (Prediction)": the 4-3-2 dog/cat
  network, its true label and the learning rate of its update step (``DOG_*``,
  ``LEARNING_RATE``).

Only the inputs live here; the numbers the document computes from them (0.562, -0.311, ...)
stay in the tests and the walkthrough that check them. Weights are written as the document
writes them: W is (outputs, inputs), one row per neuron. (demos/document.py adds the
networks built from them with `nn`.)
"""

from __future__ import annotations

from ..engine import Value

# ---- the digit "1" network: 16 pixels -> 4 -> 3 -> 2 (ReLU hidden layers) -------------------
DIGIT_X = (0.1, 0.7, 0.2, 0.1, 0.2, 0.8, 0.2, 0.1, 0.1, 0.6, 0.3, 0.2, 0.1, 0.7, 0.1, 0.1)
DIGIT_W1 = ((0.5, 0.8, 0.1, 0.0, 0.3, 0.9, 0.2, 0.0, 0.4, 0.7, 0.1, 0.1, 0.2, 0.8, 0.0, 0.0),
            (0.1, 0.2, 0.3, 0.1, 0.2, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3, 0.1, 0.1),
            (0.2, 0.1, 0.4, 0.2, 0.1, 0.2, 0.3, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.2, 0.2, 0.1),
            (0.1, 0.3, 0.2, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1, 0.3, 0.1, 0.1))
DIGIT_B1 = (-0.5, -0.2, -0.3, -0.1)
DIGIT_W2 = ((0.6, 0.3, 0.2, 0.1), (0.2, 0.5, 0.4, 0.3), (0.1, 0.4, 0.3, 0.5))
DIGIT_B2 = (-0.2, -0.1, -0.15)
DIGIT_W3 = ((0.8, 0.4, 0.2), (0.1, 0.3, 0.5))   # rows: digit "1", digit "0"
DIGIT_B3 = (-0.3, -0.2)

# ---- the single neuron ------------------------------------------------------------------------
NEURON_X = (0.8, 0.3, 0.5)
NEURON_W = (0.5, 0.7, 0.2)
NEURON_B = -0.3

# ---- the dog/cat network: a 2×2 image (4 pixels) -> 3 hidden (ReLU) -> 2 outputs --------------
DOG_X = (0.9, 0.2, 0.8, 0.3)
DOG_W1 = ((0.6, 0.4, 0.5, 0.3), (0.2, 0.7, 0.3, 0.6), (0.3, 0.5, 0.2, 0.8))
DOG_B1 = (-0.4, -0.3, -0.5)
DOG_W2 = ((0.8, 0.6, 0.3), (0.3, 0.7, 0.9))     # rows: dog, cat
DOG_B2 = (-0.2, -0.3)
DOG_Y = (1.0, 0.0)                               # the true label: dog
LEARNING_RATE = 0.01                             # the update step's learning_rate


def single_neuron() -> Value:
    """a = ReLU(w₁x₁ + w₂x₂ + w₃x₃ + b) with scalar Values labelled x1.., w1.., z, a.

    The bias is a plain constant, so the graph's leaves are the six inputs and weights."""
    x = [Value(v, label=f"x{i}") for i, v in enumerate(NEURON_X, 1)]
    w = [Value(v, label=f"w{i}") for i, v in enumerate(NEURON_W, 1)]
    z = w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + NEURON_B
    z.label = "z"
    a = z.relu()
    a.label = "a"
    return a
