"""The source document's worked examples: its inputs and weights, in one place.

Not part of the installed library (one document's numbers are not an API): the demos, the
tests and the playground import it from a checkout as ``demos.document``.

neural-networks-basics.md works three examples by hand; the walkthrough demo and the tests
rebuild them from these numbers:

- "Setup: Recognizing the digit "1" from a blurry 4×4 image": the 16-4-3-2 digit network
  (``DIGIT_*``, ``digit_network()``).
- "Hand Calculation Example - Single Neuron": a = ReLU(w₁x₁ + w₂x₂ + w₃x₃ + b)
  (``NEURON_*``, ``single_neuron()``).
- "Network Architecture" and "Complete Forward Pass (Prediction)": the 4-3-2 dog/cat
  network, its true label and the learning rate of its update step (``DOG_*``,
  ``LEARNING_RATE``, ``dog_cat_network()``).

Only the inputs live here; the numbers the document computes from them (0.562, -0.311, ...)
stay in the tests and the walkthrough that check them. Weights are written as the document
writes them: W is (outputs, inputs), one row per neuron.
"""

from __future__ import annotations

from autograd import Value
from nn import MLP

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


def digit_network() -> MLP:
    """The document's 16-4-3-2 digit network (ReLU after every layer but the last)."""
    return MLP.from_weights([(DIGIT_W1, DIGIT_B1), (DIGIT_W2, DIGIT_B2), (DIGIT_W3, DIGIT_B3)])


def dog_cat_network() -> MLP:
    """The document's 4-3-2 dog/cat network: h = ReLU(W1 x + b1), z = W2 h + b2."""
    return MLP.from_weights([(DOG_W1, DOG_B1), (DOG_W2, DOG_B2)])


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
