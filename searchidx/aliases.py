"""Aliases: groups of equivalent terms (DPRK = North Korea), expanded at query time.

The shipped ``aliases.txt`` is always read; a user's own file adds groups (``--aliases
FILE`` or ``$SEARCHIDX_ALIASES``). Changing aliases needs no re-indexing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from .analysis import is_acronym, normalize, tokenize
from .errors import SearchIdxError

__all__ = ["AliasMatch", "Aliases", "load_aliases"]

SHIPPED_ALIASES = Path(__file__).with_name("aliases.txt")

Words = tuple[str, ...]


class AliasMatch(NamedTuple):  # not a dataclass: making one takes a cold start ~1 ms
    """A run of query words ``[start, end)`` that is a term of an alias group."""

    start: int
    end: int
    forms: tuple[str, ...]
    """Every term of the group, as written in the aliases file."""


class Aliases:
    """Groups of equivalent terms, looked up by their folded words."""

    def __init__(self) -> None:
        self.groups: list[tuple[str, ...]] = []
        self._group_of: dict[Words, int] = {}
        self._acronyms: set[Words] = set()

    def add_group(self, forms: Sequence[str]) -> None:
        """Add one group; a term already in another group joins the two groups."""
        forms = tuple(dict.fromkeys(normalize(f).strip() for f in forms if f.strip()))
        keys = [_key(form) for form in forms]
        existing = {self._group_of[key] for key in keys if key in self._group_of}
        if existing:
            number = min(existing)
            merged = [f for n in sorted(existing) for f in self.groups[n]] + list(forms)
            self.groups[number] = tuple(dict.fromkeys(merged))
        else:
            number = len(self.groups)
            self.groups.append(forms)
        for form in self.groups[number]:
            self._group_of[_key(form)] = number
            if is_acronym(form):
                self._acronyms.add(_key(form))

    def find(self, words: Sequence[str]) -> list[AliasMatch]:
        """The alias terms in a run of query words, longest first, left to right."""
        folded = [tuple(tokenize(word)) for word in words]
        longest = max((len(key) for key in self._group_of), default=0)
        matches, start = [], 0
        while start < len(words):
            match = self._longest_at(words, folded, start, longest)
            if match:
                matches.append(match)
                start = match.end
            else:
                start += 1
        return matches

    def _longest_at(self, words: Sequence[str], folded: list[Words], start: int,
                    longest: int) -> AliasMatch | None:
        for end in range(len(folded), start, -1):
            key = tuple(word for words in folded[start:end] for word in words)
            if len(key) > longest or key not in self._group_of:
                continue
            # An acronym ("UN") stands for its group only when typed in capitals, so
            # that "Kim Jong Un" stays a name.
            if key in self._acronyms and not all(is_acronym(w) for w in words[start:end]):
                continue
            return AliasMatch(start, end, self.groups[self._group_of[key]])
        return None

    def longer_forms_containing(self, form: str) -> list[str]:
        """Terms of other groups that name something else by qualifying ``form``, to keep
        them apart: "Democratic People's Republic of Korea" is not a "Republic of Korea".

        Only a qualifier counts (a word before ``form`` that is not a function word):
        "Communist Party of Viet Nam" still speaks of Viet Nam.
        """
        key = _key(form)
        own = self._group_of.get(key)
        return [other for other_key, number in self._group_of.items()
                if number != own and _qualifies(other_key, key)
                for other in self.groups[number] if _key(other) == other_key]


@cache  # each form is looked up several times, and tokenizing is most of loading aliases
def _key(form: str) -> Words:
    # Space-separated word by word, as a query's words are read (see find): the words of
    # the whole form (none spans a space), without looking in it for a headline set in
    # capitals, whose pattern took 3 ms (10 on a busy machine) to compile in every search
    # command.
    return tuple(word for part in form.split() for word in tokenize(part))


_FUNCTION_WORDS = frozenset({"of", "in", "for", "and", "the", "to", "on", "at", "with"})


def _qualifies(longer: Words, shorter: Words) -> bool:
    """Whether ``longer`` has ``shorter`` right after a qualifying (non-function) word."""
    size = len(shorter)
    return any(longer[i:i + size] == shorter and longer[i - 1] not in _FUNCTION_WORDS
               for i in range(1, len(longer) - size + 1))


def parse_aliases(text: str, aliases: Aliases, source: str) -> None:
    """Add the groups of an aliases file's text (comma-separated terms, # comments)."""
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        forms = [form.strip() for form in line.split(",") if form.strip()]
        if len(forms) < 2:
            raise SearchIdxError(f"{source}, line {number}: an alias group needs at least "
                                 f"two terms separated by commas")
        aliases.add_group(forms)


def load_aliases(extra: str | os.PathLike[str] | None = None) -> Aliases:
    """The shipped aliases plus a user's file (``extra``, else ``$SEARCHIDX_ALIASES``)."""
    aliases = Aliases()
    parse_aliases(SHIPPED_ALIASES.read_text(encoding="utf-8"), aliases, str(SHIPPED_ALIASES))
    user_file = extra or os.environ.get("SEARCHIDX_ALIASES")
    if user_file:
        path = Path(user_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SearchIdxError(f"cannot read the aliases file {path}: "
                                 f"{getattr(error, 'strerror', None) or error}") from None
        parse_aliases(text, aliases, str(path))
    return aliases
