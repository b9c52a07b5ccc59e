"""Reading indexes written in an earlier format.

Format version 1 (every index written before the storage layer became
:mod:`searchidx.engine`) pickles the classes of :mod:`.codec` under their old module
``searchidx.codec``: the codec in the table of contents, :class:`~.codec.Occurrences` in the
schema, :class:`~.codec.Block` in the postings. Unpickling looks a class up by module name in
``sys.modules``, so that old name is registered here as a module holding exactly those
classes, and is importable for nothing else.
"""

from __future__ import annotations

import sys
import types

from . import codec

# Each old module path, with the classes that files of format version 1 name in it.
_MOVED_CLASSES = {"searchidx.codec": (codec.Codec, codec.Block, codec.Occurrences)}


def register_moved_classes() -> None:
    """Make every class that an older format's files name findable under its old path."""
    for old_path, classes in _MOVED_CLASSES.items():
        if old_path not in sys.modules:
            module = types.ModuleType(old_path, f"Old path of {codec.__name__}'s classes.")
            for cls in classes:
                setattr(module, cls.__name__, cls)
            sys.modules[old_path] = module
