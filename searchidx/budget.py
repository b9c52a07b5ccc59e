"""A search's time budget, checked between units of work.

A search checks the clock after each unit (an expanded term, a segment, a batch of
collected documents), never from another thread or a signal: the unit under way always
finishes, so a budget of 0 still does one unit of each kind, and a search stops at the
first check after its time is spent, with what it has and a notice saying so.
"""

from __future__ import annotations

import time


class Budget:
    """The time one search may take, from when it is made."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds
        self.stopped = False
        """Whether some work was left undone because the time was spent."""

    def exhausted(self) -> bool:
        return time.monotonic() >= self._deadline

    def stop_if_exhausted(self) -> bool:
        """Whether to stop before the next unit of work (remembered for the notice)."""
        if self.exhausted():
            self.stopped = True
        return self.stopped

    @property
    def notice(self) -> str | None:
        if not self.stopped:
            return None
        return (f"the search was stopped when its time budget of {self.seconds:g} s was "
                f"spent: the results may be incomplete")
