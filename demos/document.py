"""The source document's worked examples: its inputs and weights, and its networks.

The numbers themselves ship with the package (autograd/show/document_numbers.py, so an
installed copy runs the playground); this file re-exports them for the demos and the tests,
which import it from a checkout as ``demos.document``, and adds the networks built from
them with `nn`:

- ``digit_network()``: the 16-4-3-2 digit network of "Recognizing the digit "1" from a
  blurry 4×4 image";
- ``dog_cat_network()``: the 4-3-2 dog/cat network of "Network Architecture";
- ``single_neuron()``: the "Hand Calculation Example - Single Neuron" as scalar Values.
"""

from __future__ import annotations

from autograd.show.document_numbers import (  # noqa: F401 (re-exported: the demos' names)
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
    LEARNING_RATE,
    NEURON_B,
    NEURON_W,
    NEURON_X,
    single_neuron,
)
from nn import MLP


def digit_network() -> MLP:
    """The document's 16-4-3-2 digit network (ReLU after every layer but the last)."""
    return MLP.from_weights([(DIGIT_W1, DIGIT_B1), (DIGIT_W2, DIGIT_B2), (DIGIT_W3, DIGIT_B3)])


def dog_cat_network() -> MLP:
    """The document's 4-3-2 dog/cat network: h = ReLU(W1 x + b1), z = W2 h + b2."""
    return MLP.from_weights([(DOG_W1, DOG_B1), (DOG_W2, DOG_B2)])
