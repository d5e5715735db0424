"""nn: neural networks built on the autograd engine.

Modules (Neuron, Layer, MLP, Sequential; Linear, activation modules, Flatten, convolution,
pooling and normalisation layers), losses, optimizers, saving and loading, and the
training lifecycle (data, metrics, fit, Dropout, serving).
"""

# isort: off
from ._engine import check_autograd

check_autograd()  # a foreign `autograd` package gets a clear error, not a puzzling one
# isort: on

# ---- core: modules, layers, losses, optimizers, save/load ----------------------------------
from . import init  # noqa: F401
from .io import ModelFileError, load  # noqa: F401
from .layers import ACTIVATIONS, MLP, Layer, Linear, Neuron  # noqa: F401
from .losses import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from .module import Module, Sequential, register  # noqa: F401
from .optim import (  # noqa: F401
    SGD,
    Adam,
    AdamW,
    Optimizer,
    clip_grad_norm_,
    clip_grad_value_,
    lr_scheduler,
)

# isort: split
# ---- layers beyond the MLP: activations as modules, Flatten, convolution, pooling, norms ---
from .activations import GELU, LeakyReLU, ReLU, Sigmoid, Tanh  # noqa: F401
from .conv import Conv1d, Conv2d  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: F401
from .pool import AvgPool2d, MaxPool1d, MaxPool2d  # noqa: F401

# isort: split
# ---- lifecycle: data, metrics, fit/History, Dropout, serve (added by their own files) -------
from . import data, metrics  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .evaluate import evaluate, predict, to_labels  # noqa: F401
from .history import History  # noqa: F401
from .monitor import Monitor  # noqa: F401
from .replay import Replay  # noqa: F401
from .train import fit  # noqa: F401

# isort: split
# ---- sequences: embeddings, attention, recurrent layers -----------------------------------
from .attention import MultiheadAttention  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .recurrent import GRU, LSTM, RNN  # noqa: F401
from .select import LastStep  # noqa: F401

# isort: split
# ---- interop: to and from PyTorch, ONNX export (torch/onnx imported only when called) ------
from .interop import ConversionError, export_onnx, from_torch, to_torch  # noqa: F401
