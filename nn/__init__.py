"""nn: neural networks built on the autograd engine.

Modules (Neuron, Layer, MLP, Sequential), losses, optimizers, saving and loading, and the
training lifecycle (data, metrics, fit, Dropout, serving).
"""

# ---- core: modules, layers, losses, optimizers, save/load ----------------------------------
from .layers import ACTIVATIONS, MLP, Layer, Neuron  # noqa: F401
from .module import Module, Sequential  # noqa: F401

# ---- lifecycle: data, metrics, fit/History, Dropout, serve (added by their own files) -------
