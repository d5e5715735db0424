"""The model file: one ``.npz`` archive holding an architecture record and named arrays.

The archive holds ``__model__``, a JSON text naming the format, the class and its
constructor arguments, and one array per weight (``param/layers.0.w``...), each stored
uncompressed. This file knows nothing of modules: it writes a record and arrays, and reads
them back, checked. `nn.Module.save` and `nn.load` (in module.py) use it.

A model file is untrusted input, so `read` looks before it allocates, in this order:

1. the path must be a regular file (a link to ``/dev/zero`` or a pipe would never end);
2. the archive's directory (its table of contents, read without inflating anything) must
   name only ``__model__`` and ``param/...`` arrays, each stored uncompressed, so no member
   can expand beyond the bytes the file really holds;
3. the record (at most `MAX_RECORD` bytes) is read and parsed, nested at most `MAX_DEPTH`
   deep; the caller turns it into the weights' expected shapes (`state_shapes`);
4. every weight's ``.npy`` header is read (a few hundred bytes each) and checked: a number
   dtype, a declared size equal to the bytes stored for it, and the name and shape the
   architecture expects; a missing or extra weight is refused here, before any is read;
5. only then is each array read, exactly its declared size (the archive's checksum still
   checked). No pickled object is ever loaded.

Every way a file can be wrong is a `ModelFileError` naming the file and the fault.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tokenize
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import numpy as np

from autograd._files import atomic_write, remove_strays

FORMAT = "nn-autograd-model"
VERSION = 1
RECORD = "__model__"
PREFIX = "param/"
SUFFIX = ".npz"         # the suffix of save's temporary files (tidied by `read` too)
MAX_DEPTH = 64          # nesting of the architecture record (a Sequential in a Sequential...)
MAX_RECORD = 1 << 20    # bytes of the architecture record
_NPY_MAGIC = b"\x93NUMPY"
_BROKEN = (zipfile.BadZipFile, ValueError, SyntaxError, tokenize.TokenError, OSError,
           EOFError, TypeError)  # each way a member can be damaged

Shapes = Mapping[str, tuple[int, ...]]


class ModelFileError(ValueError):
    """A file that is not a saved model, is damaged, or holds a different architecture than
    asked for. The message names the file and what is wrong."""


def write(path: str | os.PathLike, class_name: str, config: dict[str, Any],
          arrays: Mapping[str, np.ndarray]) -> str:
    """Write a model file atomically (a temporary file beside `path`, fsynced, renamed
    over it: a crash never leaves half a file). Returns the path."""
    path = os.fspath(path)
    record = {"format": FORMAT, "version": VERSION, "class": class_name, "config": config}
    members = {PREFIX + name: np.asarray(arr) for name, arr in arrays.items()}
    members[RECORD] = np.array(json.dumps(record))
    with atomic_write(path, suffix=SUFFIX) as f:
        np.savez(f, **members)  # uncompressed (ZIP_STORED), as `read` requires
    return path


def read(path: str | os.PathLike, expect: Callable[[dict[str, Any]], Shapes | None]
         ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The record and the weights of the model file at `path`. ``expect(record)`` gives
    the shape of every weight the record's architecture has (or None when it cannot say);
    it runs after the record is read and before any weight is."""
    path = os.fspath(path)
    where = repr(path)
    remove_strays(path, SUFFIX)  # a save killed midway left its temporary file: tidy it
    with _open_regular(path) as f:
        if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise ModelFileError(f"{where} is a single .npy array, not a model file saved by nn")
        f.seek(0)
        try:
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise ModelFileError(f"{where} is not a model file saved by nn (it is not an .npz "
                                 "archive)") from None
        with zf:
            record_info, weight_infos = _directory(zf, where)
            record = _record(zf, record_info, where)
            expected = expect(record)
            headers = {name: _header(zf, info, where) for name, info in weight_infos.items()}
            for name, (_, _, dtype, _) in headers.items():
                if dtype.kind == "U":
                    raise ModelFileError(f"{where}: weight {name!r} has dtype {dtype}, not a "
                                         "number type")
            if expected is not None:
                _check_shapes(expected, {k: h[0] for k, h in headers.items()}, record, where)
            weights = {name: _data(zf, weight_infos[name], headers[name], where)
                       for name in weight_infos}
    return record, weights


# ---- the steps of `read` ------------------------------------------------------------------

def _open_regular(path: str) -> BinaryIO:
    """`path` opened for reading, if it is a regular file (checked on the open file, so it
    cannot be swapped in between; opened non-blocking, so a pipe cannot hang the open)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path!r}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path!r} is a directory, not a model file") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ModelFileError(f"{path!r} is not a regular file (a device, pipe or socket): "
                             "a model file is an ordinary .npz file")
    return os.fdopen(fd, "rb")


def _directory(zf: zipfile.ZipFile, where: str
               ) -> tuple[zipfile.ZipInfo, dict[str, zipfile.ZipInfo]]:
    """The record's entry and each weight's, from the archive's directory alone."""
    infos = zf.infolist()
    if not any(i.filename == RECORD + ".npy" for i in infos):
        names = sorted(i.filename.removesuffix(".npy") for i in infos)[:5]
        raise ModelFileError(f"{where} is an .npz archive but not a model saved by nn: it "
                             f"has no {RECORD!r} record (arrays: {names})")
    record, weights = None, {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise ModelFileError(f"{where}: member {name!r} is not an .npy array")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ModelFileError(f"{where}: array {name[:-4]!r} is compressed; nn stores "
                                 "arrays uncompressed (save the model again with model.save)")
        if name == RECORD + ".npy" and record is None:
            record = info
        elif name.startswith(PREFIX) and name[len(PREFIX):-4] not in weights:
            weights[name[len(PREFIX):-4]] = info
        else:
            raise ModelFileError(f"{where}: unexpected member {name!r} (a model file holds "
                                 f"{RECORD!r} and weights stored as {PREFIX}<name>, each once)")
    assert record is not None  # checked above
    return record, weights


def _header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str
            ) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran order, dtype, data offset) from a member's ``.npy`` header, checked:
    a number dtype (or text, for the record), and a declared size that is exactly the
    bytes the archive stores for it."""
    name = info.filename[:-4]
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ModelFileError(f"{where}: array {name!r} has .npy version {version}; "
                                     "expected 1.0 or 2.0")
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            offset = f.tell()
    except ModelFileError:
        raise
    except _BROKEN as e:
        raise ModelFileError(f"{where} is damaged: array {name!r} cannot be read "
                             f"({type(e).__name__}: {e})") from None
    if dtype.hasobject or dtype.kind not in "biufU":
        raise ModelFileError(f"{where}: array {name!r} has dtype {dtype}; a model file "
                             "holds only numbers (no objects)")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != info.file_size - offset:
        raise ModelFileError(f"{where}: array {name!r} claims shape {shape} of {dtype} "
                             f"({nbytes} bytes) but the file holds {info.file_size - offset} "
                             "bytes for it")
    return shape, fortran, dtype, offset


def _data(zf: zipfile.ZipFile, info: zipfile.ZipInfo,
          header: tuple[tuple[int, ...], bool, np.dtype, int], where: str) -> np.ndarray:
    """A member's array: exactly its declared bytes (the checksum is verified at the end)."""
    shape, fortran, dtype, offset = header
    name = info.filename[:-4]
    try:
        with zf.open(info) as f:
            f.read(offset)
            data = f.read(info.file_size - offset)
            if f.read(1) or len(data) != info.file_size - offset:
                raise zipfile.BadZipFile("the member's length is not what its header says")
    except _BROKEN as e:
        raise ModelFileError(f"{where} is damaged: array {name!r} cannot be read "
                             f"({type(e).__name__}: {e})") from None
    arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return arr.copy(order="K")


def _record(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> dict[str, Any]:
    """The architecture record: a short JSON text in the expected format and version."""
    if info.file_size > MAX_RECORD:
        raise ModelFileError(f"{where}: the architecture record is {info.file_size} bytes "
                             f"(at most {MAX_RECORD})")
    header = _header(zf, info, where)
    text = _data(zf, info, header, where)
    if text.dtype.kind != "U" or text.shape != ():
        raise ModelFileError(f"{where}: the architecture record is not a text")
    try:
        record = json.loads(str(text[()]))
    except RecursionError:
        raise ModelFileError(f"{where}: the architecture record nests more than "
                             f"{MAX_DEPTH} levels deep") from None
    except ValueError as e:
        raise ModelFileError(f"{where}: the architecture record is not valid JSON: "
                             f"{str(e)[:200]}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelFileError(f"{where} does not hold a model in the {FORMAT!r} format")
    if record.get("version") != VERSION:
        raise ModelFileError(f"{where} has format version {record.get('version')!r}; this "
                             f"nn reads version {VERSION}")
    if _depth(record) > MAX_DEPTH:
        raise ModelFileError(f"{where}: the architecture record nests more than "
                             f"{MAX_DEPTH} levels deep")
    return record


def _depth(record: Any) -> int:
    """How deeply lists and dicts nest in `record` (no recursion)."""
    deepest, stack = 0, [(record, 1)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_shapes(expected: Shapes, stored: Shapes, record: dict[str, Any], where: str
                  ) -> None:
    """Every weight the architecture has, with its shape, and no other."""
    missing = [k for k in expected if k not in stored]
    unexpected = [k for k in stored if k not in expected]
    bad = [f"{k}: expected shape {tuple(s)}, got {tuple(stored[k])}"
           for k, s in expected.items() if k in stored and tuple(s) != tuple(stored[k])]
    parts = ([f"missing keys {missing}"] if missing else []) + \
        ([f"unexpected keys {unexpected}"] if unexpected else []) + bad
    if parts:
        raise ModelFileError(f"{where}: the weights do not fit the {record.get('class')} it "
                             f"describes: " + "; ".join(parts))
