"""The shared argument checks (nn/_checks.py): one message for every layer and loop."""

import importlib.util

import numpy as np
import pytest

import nn
from nn._checks import float_dtype, generator, positive_int


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3", None])
def test_positive_int_refuses(bad):
    with pytest.raises(ValueError, match=r"nin must be a positive integer, got"):
        positive_int(bad, "nin")


def test_positive_int_minimum_zero():
    assert positive_int(np.int64(0), "epochs", minimum=0) == 0
    with pytest.raises(ValueError, match="epochs must be a non-negative integer, got -1"):
        positive_int(-1, "epochs", minimum=0)


def test_generator():
    g = np.random.default_rng(0)
    assert generator(g) is g
    assert generator(3).random() == np.random.default_rng(3).random()
    for bad in (1.5, "0", True):
        with pytest.raises(TypeError, match="seed must be an int, a numpy Generator or None"):
            generator(bad)


def test_float_dtype():
    assert float_dtype("float32") == np.float32
    with pytest.raises(ValueError, match="dtype must be float64 or float32, got int64"):
        float_dtype(np.int64)


@pytest.mark.parametrize("make", [
    lambda: nn.MLP(0, [2]), lambda: nn.Layer(2, -1), lambda: nn.Neuron(2.5),
    lambda: next(nn.data.batches(np.zeros((2, 1)), np.zeros(2), 0)),
])
def test_every_size_uses_the_shared_check(make):
    with pytest.raises(ValueError, match="must be a positive integer, got"):
        make()


@pytest.mark.parametrize("make", [lambda: nn.MLP(2, [2], seed=1.5),
                                  lambda: nn.Dropout(0.5, seed="x"),
                                  lambda: nn.data.split(np.zeros((4, 1)), np.zeros(4), seed=0.5)])
def test_every_seed_uses_the_shared_check(make):
    with pytest.raises(TypeError, match="must be an int, a numpy Generator or None"):
        make()


def test_document_numbers_are_not_installed():
    """One document's numbers live in demos/document.py, not in the library."""
    assert importlib.util.find_spec("nn.document") is None
    assert importlib.util.find_spec("demos.document") is not None
