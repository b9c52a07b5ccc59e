"""The compiled speedups: C versions of a few of indexing's hottest loops.

Each compiled module ``searchidx.engine._c_<name>`` (its source in
``searchidx/engine/c/<name>.c``, listed in pyproject.toml) gives functions that return
exactly what the Python functions they stand in for return; the Python ones stay, as the
reference the tests compare them with and as the fallback. ``pip install .`` compiles
them where a C compiler is found and goes on without them where none is. Setting
``SEARCHIDX_PURE_PYTHON`` to anything but empty runs the Python ones (read at import).

An input a compiled function leaves to the Python (an unusual type, a number beyond its
range) is handed over in one of two ways. A function that stands in for a Python function
is given that function first (:func:`standing_in` binds it where it is chosen), and
calls it: the analysis' and the finish's functions, so no C names a Python function. The
postings' ``add_terms``, which stands in for a loop of a method over the pool's state
rather than a function, returns None having added nothing, and its caller
(``TermPool.add_field``) then runs the Python loop.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import partial
from types import ModuleType

PURE_PYTHON_VARIABLE = "SEARCHIDX_PURE_PYTHON"


def compiled(name: str) -> ModuleType | None:
    """The compiled module ``searchidx.engine._c_<name>``, or None where it was not built
    or the Python functions are asked for."""
    if os.environ.get(PURE_PYTHON_VARIABLE):
        return None
    return built(name)


def built(name: str) -> ModuleType | None:
    """The compiled module ``searchidx.engine._c_<name>`` if it was built, whatever
    ``SEARCHIDX_PURE_PYTHON`` says (the tests compare it with the Python functions)."""
    try:
        return importlib.import_module(f"{__package__}._c_{name}")
    except ImportError:
        return None


def standing_in(module: ModuleType | None, name: str, python: Callable, *given) -> Callable:
    """``module``'s function ``name``, given first the Python function ``python`` it stands
    in for and then ``given`` (bound with ``functools.partial``); ``python`` itself where
    ``module`` is None (see :func:`compiled`)."""
    return python if module is None else partial(getattr(module, name), python, *given)
