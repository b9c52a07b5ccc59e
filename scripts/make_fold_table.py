#!/usr/bin/env python3
"""Generate ``searchidx/fold_table.py``: the letters ``fold`` maps to ASCII letters beyond
what Unicode decomposition does ("æ" → "ae", "ø" → "o", "ə" → "a", "ꜳ" → "aa").

A letter's folding comes from the first of these that folds it to ASCII letters:

1. Unicode decomposition (NFKD, combining marks dropped), which ``fold`` applies before
   the table: "ǽ" is "æ" and a mark, then "ae". No decomposable letter is in the table.
2. The three letters that searchidx folded before it took its table from Lucene and ICU,
   and that both fold otherwise: "ĸ" → "k" (both: "q") and "ŋ"/"Ŋ" → "ng" (both: "n").
   They keep their folding, so an index built before still finds them.
3. Lucene's ``ASCIIFoldingFilter`` (lucene-analysis-common, version below).
4. ICU's ``Latin-ASCII`` transliterator (icu4j, version below), for the letters Lucene leaves.
5. A small letter that neither folds, whose capital one of them folds, folds as its capital
   ("ɩ" as "Ɩ"): ``fold`` lowers the case first, so the capital's entry alone would not serve.

Only letters (Unicode category L*) are taken, and only where the folding is ASCII letters:
both tables also fold punctuation and digits, which the tokenizer splits off anyway.

The two libraries run in ``scripts/FoldSources.java``: this needs Java 11 or later and
Maven, which fetches the jars from Maven Central into a temporary folder.

    python scripts/make_fold_table.py            # write searchidx/fold_table.py
    python scripts/make_fold_table.py --check    # exit 1 if the committed table differs

It also prints a cross-check against Unicode's names: the Latin letters named after an
ASCII letter ("LATIN SMALL LETTER B WITH STROKE") that the table folds to another letter
or not at all, for a reader to look over.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "searchidx" / "fold_table.py"
JAVA_SOURCE = REPO / "scripts" / "FoldSources.java"
LUCENE_VERSION = "9.12.1"  # the last Lucene that runs on Java 11
ICU_VERSION = "76.1"
ARTIFACTS = (f"org.apache.lucene:lucene-core:{LUCENE_VERSION}",
             f"org.apache.lucene:lucene-analysis-common:{LUCENE_VERSION}",
             f"com.ibm.icu:icu4j:{ICU_VERSION}")
# Folded so before the tables were adopted (analysis version 1); see rule 2 above.
VERSION_1_FOLDINGS = {"\u0138": "k", "\u014b": "ng", "\u014a": "ng"}
ASCII_LETTERS = re.compile(r"[A-Za-z]+")
# The blocks of Latin letters that the cross-check with Unicode's names covers.
LATIN_BLOCKS = ((0x00C0, 0x024F), (0x0250, 0x02AF), (0x1D00, 0x1DBF), (0x1E00, 0x1EFF),
                (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F))
NAMED_LETTER = re.compile(r"LATIN (?:SMALL |CAPITAL )?(?:LETTER|LIGATURE) (?:SMALL CAPITAL )?"
                          r"(?:(?:TURNED|REVERSED|INSULAR|BROKEN|SIDEWAYS|CLOSED) )?"
                          r"([A-Z]{1,2})(?: WITH .*)?")


def source_foldings() -> list[tuple[str, str, str]]:
    """``(letter, Lucene's folding, ICU's folding)`` for each letter either one changes."""
    with tempfile.TemporaryDirectory() as folder:
        for artifact in ARTIFACTS:
            subprocess.run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={artifact}",
                            f"-DoutputDirectory={folder}"], check=True)
        output = subprocess.run(["java", "-cp", f"{folder}/*", str(JAVA_SOURCE)], check=True,
                                capture_output=True, text=True, encoding="utf-8").stdout
    rows = []
    for line in output.splitlines():
        code, lucene, icu = line.split("\t")
        rows.append((chr(int(code, 16)), lucene, icu))
    return rows


def chosen_foldings(rows: list[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """Each letter's folding (lower case) and where it comes from, by rules 2 to 5."""
    chosen: dict[str, tuple[str, str]] = {}
    for letter, lucene, icu in rows:
        if not unicodedata.category(letter).startswith("L"):
            continue
        if letter in VERSION_1_FOLDINGS:
            chosen[letter] = VERSION_1_FOLDINGS[letter], "version 1"
        elif ASCII_LETTERS.fullmatch(lucene):
            chosen[letter] = lucene.lower(), "Lucene"
        elif ASCII_LETTERS.fullmatch(icu):
            chosen[letter] = icu.lower(), "ICU"
    for letter, (value, _) in list(chosen.items()):
        small = letter.lower()
        if len(small) == 1 and small not in chosen and not small.isascii():
            chosen[small] = value, f"as {letter}"
    return chosen


def table_entries(chosen: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The letters that need an entry: those Unicode does not decompose (rule 1)."""
    return {letter: value for letter, value in chosen.items()
            if unicodedata.normalize("NFKD", letter) == letter}


def folded(text: str, table: dict[str, str]) -> str:
    """What ``fold`` makes of ``text`` with this table (as searchidx.analysis does it)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(table.get(char, char) for char in decomposed
                   if not unicodedata.category(char).startswith("M")).lower()


def decomposition_wins(chosen: dict[str, tuple[str, str]], table: dict[str, str]) -> list[str]:
    """The letters whose decomposition folds them otherwise than the tables (rule 1 wins)."""
    return [f"  U+{ord(letter):04X} {letter} {unicodedata.name(letter, '?')}: "
            f"{source} {value!r}, decomposed {folded(letter, table)!r}"
            for letter, (value, source) in sorted(chosen.items())
            if folded(letter, table) != value]


def name_cross_check(table: dict[str, str]) -> list[str]:
    """Latin letters named after ASCII letters that the table folds otherwise or leaves."""
    lines = []
    for start, end in LATIN_BLOCKS:
        for code in range(start, end + 1):
            letter = chr(code)
            match = NAMED_LETTER.fullmatch(unicodedata.name(letter, ""))
            if not match or not letter.isalpha():
                continue
            named, result = match[1].lower(), folded(letter, table)
            if result != named:
                lines.append(f"  U+{code:04X} {letter} {unicodedata.name(letter)}: {result!r}")
    return lines


def table_module(entries: dict[str, tuple[str, str]]) -> str:
    lines = [f"    0x{ord(letter):04X}: {value!r},  # {letter} {unicodedata.name(letter, '?')} "
             f"({source})" for letter, (value, source) in sorted(entries.items())]
    return HEADER.format(lucene=LUCENE_VERSION, icu=ICU_VERSION,
                         unicode=unicodedata.unidata_version) + "\n".join(lines) + "\n}\n"


HEADER = '''"""The letters ``fold`` maps to ASCII letters beyond what Unicode decomposition does.

Generated by scripts/make_fold_table.py (do not edit; run it again) from Lucene
{lucene}'s ASCIIFoldingFilter and ICU4J {icu}'s Latin-ASCII transliterator, with
Python's Unicode {unicode} data. A letter's folding is, in order: its Unicode
decomposition (applied by ``fold`` before this table, so no decomposable letter is here);
for ĸ, ŋ and Ŋ the folding of searchidx's analysis version 1 (k, ng, ng; both tables
fold them to q, n, n); Lucene's; else ICU's; for a small letter that neither folds, its
capital's. Only letters whose folding is ASCII letters are taken. Each entry names its
source.
"""

LETTERS = {{
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed table instead of writing it")
    args = parser.parse_args(argv)
    chosen = chosen_foldings(source_foldings())
    entries = table_entries(chosen)
    table = {letter: value for letter, (value, _) in entries.items()}
    text = table_module(entries)
    print(f"{len(chosen)} letters fold to ASCII letters in the tables; {len(entries)} need "
          f"an entry (the others decompose)")
    print("Decomposition decides (rule 1):", *decomposition_wins(chosen, table), sep="\n")
    print("Named after an ASCII letter, folded otherwise or not at all:",
          *name_cross_check(table), sep="\n")
    if args.check:
        same = TABLE.read_text(encoding="utf-8") == text
        print(f"{TABLE.relative_to(REPO)} is {'up to date' if same else 'out of date'}")
        return 0 if same else 1
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
