"""Saving and loading models: one ``.npz`` file holding the weights and the architecture.

The archive holds one array per weight (``param/layers.0.w``...) and ``__model__``, a JSON
text naming the format, the class and its constructor arguments. Loading rebuilds the class
from that record and copies the weights in, so no pickled code is ever run.

A model file is untrusted input. `load` builds only registered classes (`nn.register`, or
``classes=``); reads each array's header and checks it against the bytes really stored
before reading the array (so a file cannot make it allocate more than the file holds);
refuses object arrays; checks the architecture record's depth; and checks the weights'
shapes against the ones the record implies before building the model (`state_shapes`).
Every way a file can be wrong is a `ModelFileError` that names the file and the fault.
"""

from __future__ import annotations

import json
import math
import os
import tokenize
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd._files import atomic_write

from .module import Module, known_classes, unknown_class_message

FORMAT = "nn-autograd-model"
VERSION = 1
_META = "__model__"
_PREFIX = "param/"
MAX_DEPTH = 64          # nesting of the architecture record (a Sequential in a Sequential...)
_MAX_RATIO = 1000       # a compressed member may expand this much, no more (zip bombs)
_NPY_MAGIC = b"\x93NUMPY"


class ModelFileError(ValueError):
    """A file that is not a saved model, is damaged, or holds a different architecture than
    asked for. The message names the file and what is wrong."""


def save(model: Module, path: str | os.PathLike) -> str:
    """Write `model` to `path` (exactly that name) atomically: a temporary file in the same
    directory, fsynced, then ``os.replace``, so a crash never leaves half a file. Returns
    the path."""
    if not isinstance(model, Module):
        raise TypeError(f"save() needs a Module, got {type(model).__name__}")
    path = os.fspath(path)
    meta = {"format": FORMAT, "version": VERSION, "class": type(model).__name__,
            "config": model.config()}
    arrays = {_PREFIX + name: arr for name, arr in model.state_dict().items()}
    arrays[_META] = np.array(json.dumps(meta))
    with atomic_write(path, suffix=".npz") as f:
        np.savez(f, **arrays)
    return path


# ---- reading: every array checked before it is allocated ----------------------------------

def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    """One ``.npy`` member: header read and checked (version, dtype, declared size against
    the stored size), then exactly that many bytes read."""
    name = info.filename[:-4]
    if info.compress_type != zipfile.ZIP_STORED and \
            info.file_size > _MAX_RATIO * max(info.compress_size, 1):
        raise ModelFileError(f"{where}: array {name!r} claims to expand from "
                             f"{info.compress_size} to {info.file_size} bytes")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ModelFileError(f"{where}: array {name!r} has .npy version {version}; "
                                 "expected 1.0 or 2.0")
        if dtype.hasobject or dtype.kind not in "biufU":
            raise ModelFileError(f"{where}: array {name!r} has dtype {dtype}; a model file "
                                 "holds only numbers (no objects)")
        nbytes = math.prod(shape) * dtype.itemsize
        stored = info.file_size - f.tell()
        if nbytes != stored:
            raise ModelFileError(f"{where}: array {name!r} claims shape {shape} of {dtype} "
                                 f"({nbytes} bytes) but the file holds {stored} bytes for it")
        data = f.read(nbytes)
        f.read()  # reach the end, so the zip's CRC check runs
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order="K")


def _arrays(path: str) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at `path`, each checked before it is read."""
    with open(path, "rb") as f:
        head = f.read(len(_NPY_MAGIC))
    if head == _NPY_MAGIC:
        raise ModelFileError(f"{path!r} is a single .npy array, not a model file saved by nn")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ModelFileError(f"{path!r} is not a model file saved by nn (it is not an .npz "
                             "archive)") from None
    out = {}
    with zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                raise ModelFileError(f"{path!r}: member {info.filename!r} is not an .npy array")
            try:
                out[info.filename[:-4]] = _read_member(zf, info, repr(path))
            except ModelFileError:
                raise
            except (zipfile.BadZipFile, ValueError, SyntaxError, tokenize.TokenError, OSError,
                    EOFError, TypeError, MemoryError) as e:  # each way a member can be broken
                raise ModelFileError(f"{path!r} is damaged: array {info.filename[:-4]!r} "
                                     f"cannot be read ({type(e).__name__}: {e})") from None
    return out


def _depth(record: Any) -> int:
    """How deeply lists and dicts nest in `record` (no recursion)."""
    deepest, stack = 0, [(record, 1)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in (item.values() if isinstance(item, dict) else item))
    return deepest


def read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The architecture record and the weights stored in a model file, checked."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    arrays = _arrays(path)
    if _META not in arrays:
        raise ModelFileError(f"{path!r} is an .npz archive but not a model saved by nn: it "
                             f"has no {_META!r} record (arrays: {sorted(arrays)[:5]})")
    record = arrays.pop(_META)
    if record.dtype.kind != "U" or record.shape != ():
        raise ModelFileError(f"{path!r}: the architecture record is not a text")
    try:
        meta = json.loads(str(record[()]))
    except RecursionError:
        raise ModelFileError(f"{path!r}: the architecture record nests more than "
                             f"{MAX_DEPTH} levels deep") from None
    except ValueError as e:
        raise ModelFileError(f"{path!r}: the architecture record is not valid JSON: "
                             f"{str(e)[:200]}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} does not hold a model in the {FORMAT!r} format")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{path!r} has format version {meta.get('version')!r}; this "
                             f"nn reads version {VERSION}")
    if _depth(meta) > MAX_DEPTH:
        raise ModelFileError(f"{path!r}: the architecture record nests more than "
                             f"{MAX_DEPTH} levels deep")
    weights = {}
    for name, arr in arrays.items():
        if not name.startswith(_PREFIX):
            raise ModelFileError(f"{path!r}: unexpected array {name!r} (weights are "
                                 f"stored as {_PREFIX}<name>)")
        if arr.dtype.kind not in "biuf":
            raise ModelFileError(f"{path!r}: weight {name[len(_PREFIX):]!r} has dtype "
                                 f"{arr.dtype}, not a number type")
        weights[name[len(_PREFIX):]] = arr
    return meta, weights


# ---- loading: registered classes only, shapes checked before building ---------------------

def _classes(classes: Iterable[type[Module]] | Mapping[str, type[Module]] | None
             ) -> dict[str, type[Module]]:
    if classes is None:
        return {}
    items = classes.items() if isinstance(classes, Mapping) else \
        ((getattr(c, "__name__", None), c) for c in classes)
    out = {}
    for name, c in items:
        if not (isinstance(c, type) and issubclass(c, Module)):
            raise TypeError(f"classes= takes nn.Module subclasses, got {c!r}")
        out[name] = c
    return out


def _shape_mismatch(expected: Mapping[str, tuple[int, ...]],
                    weights: Mapping[str, np.ndarray]) -> str | None:
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    bad = [f"{k}: expected shape {tuple(s)}, got {weights[k].shape}"
           for k, s in expected.items() if k in weights and tuple(s) != weights[k].shape]
    parts = ([f"missing keys {missing}"] if missing else []) + \
        ([f"unexpected keys {unexpected}"] if unexpected else []) + bad
    return "; ".join(parts) or None


def load(path: str | os.PathLike, expect: type[Module] | None = None, *,
         classes: Iterable[type[Module]] | Mapping[str, type[Module]] | None = None
         ) -> Module:
    """Rebuild the model saved at `path`.

    Only registered classes are built: the library's, those passed to `nn.register`, and
    those given here as ``classes=[Net, ...]`` (or a dict name -> class). With `expect` (as
    ``MLP.load`` passes), a file holding another class is refused."""
    meta, weights = read(path)
    where = repr(os.fspath(path))
    name = meta.get("class")
    if expect is not None and name != expect.__name__:
        raise ModelFileError(f"{where} holds a model of class {name}, not "
                             f"{expect.__name__}; use nn.load() to load any model")
    extra = _classes(classes)
    if expect is not None:
        extra.setdefault(expect.__name__, expect)
    config = meta.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the architecture record has no config")
    with known_classes(extra) as lookup:
        if not isinstance(name, str) or lookup(name) is None:
            raise ModelFileError(f"{where}: " + unknown_class_message(name))
        cls = lookup(name)
        try:
            expected = cls.state_shapes(config)
        except (TypeError, ValueError, KeyError, LookupError) as e:
            raise ModelFileError(f"{where}: the record does not describe a {name}: {e}") \
                from None
        if expected is not None:  # checked before anything is allocated
            wrong = _shape_mismatch(expected, weights)
            if wrong:
                raise ModelFileError(f"{where}: the weights do not fit the {name} it "
                                     f"describes: {wrong}")
        try:
            model = cls.from_config(config)
        except (TypeError, ValueError, KeyError, LookupError) as e:
            raise ModelFileError(f"{where}: cannot build {name} from {str(config)[:200]}: "
                                 f"{e}") from None
    try:
        model.load_state_dict(weights)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"{where}: the weights do not fit the {name} it "
                             f"describes: {e}") from None
    return model
