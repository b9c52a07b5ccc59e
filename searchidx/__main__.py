"""``python -m searchidx``: the same as the ``searchidx`` command."""

from .cli import main

main()
