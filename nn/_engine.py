"""Make sure `import autograd` is this project's engine, before nn imports anything from it.

The import name `autograd` is also that of an unrelated package on PyPI (HIPS autograd).
Installed into the same environment, it can shadow this project's engine (or overwrite its
``__init__.py``), and the failure would be a puzzling ``cannot import name 'Value'``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os


def check_autograd() -> None:
    """Raise ImportError saying what was found where, and what to do, unless `autograd`
    is the engine that sits beside this `nn` package."""
    ours = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "autograd")
    try:
        spec = importlib.util.find_spec("autograd")
    except (ImportError, ValueError):
        spec = None
    origin = getattr(spec, "origin", None) or ""
    found = os.path.dirname(os.path.realpath(origin)) if origin else None
    problem = None
    if found is None:
        problem = "no package named `autograd` can be imported"
    elif found != os.path.realpath(ours):
        problem = f"`import autograd` finds another package, at {origin}"
    else:
        try:
            engine = importlib.import_module("autograd")
        except ImportError as e:
            problem = f"the package at {origin} does not import ({e})"
        else:
            if not hasattr(engine, "Value"):
                problem = (f"the package at {origin} is not this project's engine (it has "
                           "no Value; another package's files were installed over it)")
    if problem:
        raise ImportError(
            f"nn needs this project's autograd engine (expected at {ours}), but {problem}. "
            "It is probably the unrelated PyPI package `autograd`, which has the same import "
            "name: remove it from this environment (`pip uninstall autograd`, then reinstall "
            "this project: `pip install -e .`), or give this project a virtual environment "
            "of its own.")
