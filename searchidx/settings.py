"""Every tunable in one place: ranking boosts, snippet sizes, limits."""

# Ranking (BM25F): a word in the title counts this many times a word in the body.
TITLE_BOOST = 2.5
PLACE_BOOST = 1.0
BM25_B = 0.75
BM25_K1 = 1.2

# Query expansion: an article that spells a query's accented words exactly gets this bonus
# (a query without diacritics treats every spelling alike).
EXACT_SPELLING_BOOST = 1.5
# Any-word matching (when no article has all the words): bonus per extra matching word.
ANY_WORD_COORDINATION = 0.9
# Query bounds: longer queries are cut; wildcards and fuzziness that would expand to most
# of the vocabulary are read as plain words instead.
MAX_QUERY_CHARS = 500
MIN_WILDCARD_PREFIX = 2
MAX_FUZZY_EDITS = 2
# A fuzzy word (word~) keeps its first letter as typed: the words looked at are those
# beginning with it, a twentieth of the vocabulary.
FUZZY_PREFIX_LETTERS = 1
# A term that stands for many words (prefix*, wild*card, [a TO b], word~) searches at most
# this many of them (the first in the index's order), and a whole query about this many,
# each such term keeping at least one; a notice names what was cut. Measured on
# Reuters-21578 (scripts/hostile.py): with these caps no query takes a second.
MAX_TERM_EXPANSION = 100
MAX_QUERY_EXPANSION = 1000
# A search stops at the first check of the clock after this many seconds (between
# expanded terms, segments and batches of documents) and returns what it has, with a
# notice. SearchIndex.search(time_budget=...) overrides it.
SEARCH_TIME_BUDGET_SECONDS = 2.0
# A query of at least this many words written all in capitals is a pasted headline: its
# AND/OR/NOT are words, not operators.
HEADLINE_MIN_WORDS = 5
# Spelling correction (spelling.py): words up to this long are corrected within one edit,
# longer in two; shorter words than the shortest are never corrected.
CORRECTION_SHORTEST_WORD = 3
CORRECTION_SHORT_WORD = 4
CORRECTION_LONGEST_WORD = 30
CORRECTION_MAX_WORDS = 8
# A candidate's score: the articles that have it times the odds that it was mistyped as
# the word: for each edit, these odds per letter of the word, and for a letter added or
# replaced also the wrong-letter odds. The best is taken if it scores at least the minimum
# and more than the next best. Measured with scripts/evaluate.py --set c, against the
# share of correct English words absent from the index that are "corrected" all the same.
CORRECTION_EDIT_ODDS_PER_LETTER = 0.01
CORRECTION_WRONG_LETTER_ODDS = 0.1
CORRECTION_MIN_SCORE = 0.1
# A corrected word is written as most often in this many articles that have it.
CORRECTION_SURFACE_SAMPLE = 20
# More like this: how many telling words of an article to look for in the others.
SIMILAR_KEY_TERMS = 12

# Snippets: up to this many fragments, each about this many characters of context.
SNIPPET_FRAGMENTS = 3
SNIPPET_FRAGMENT_CHARS = 160
SNIPPET_SURROUND_CHARS = 60
SNIPPET_SEPARATOR = " … "
# When no word matched in the body (a title-only match), the snippet is the article's lead.
SNIPPET_LEAD_CHARS = 220

# Search results.
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000

# Analysis: English stemming applies to words longer than this (see EnglishStemFilter).
STEM_MIN_LENGTH = 3
# Each process remembers the analysed forms of at most this many distinct words per
# analyzer (then forgets them all), none longer than this many characters.
WORD_FORMS_MEMO = 500_000
WORD_FORMS_MAX_CHARS = 64

# A body of more than this many distinct pairs of consecutive terms gets an extension of its
# 128-byte pair signature (which such a body fills: a quarter or more of its bits set), of
# this many bits a pair (two set a pair: an absent pair passes it about one time in twelve).
PAIR_EXTENSION_MIN_PAIRS = 150
PAIR_EXTENSION_BITS = 6

# Reading articles.
TITLE_MAX_CHARS = 100
# Files (and JSONL lines) of this size or more are skipped, and no more than this is ever
# read of one, whatever its size says (a JSON-lines file itself may be larger); one article
# contributes at most this many characters, so memory stays bounded on huge inputs.
MAX_FILE_BYTES = 50 * 2**20
# A JSON-lines file is read this much at a time, its lines split and digested together;
# the first read is smaller, so that its first articles come without waiting for a whole
# chunk's digests (a parallel build's first worker starts with them).
JSONL_READ_BYTES = 2**20
JSONL_FIRST_READ_BYTES = 2**16
MAX_ARTICLE_CHARS = 2_000_000
# Saved pages: trafilatura's time grows with a page's elements and with the square of an
# element's children. A page with more elements, or more pairs of siblings (the sum of each
# element's children squared), is read as plain text with a warning: at these limits a
# page takes at most about 2 s.
PAGE_MAX_ELEMENTS = 10_000
PAGE_MAX_SIBLING_PAIRS = 10_000_000

# Writing the index: the memory a writer's postings may take (shared by its worker
# processes) before they go to a run on disk (see engine/pool.py). The measurements behind
# this and the other writing and reading settings: docs/performance.md.
WRITER_MEMORY_MB = 128
# A fresh build of at least this many bytes of files spreads over this many worker
# processes (at most one per core; more than two were no faster on two cores).
WRITER_PROCESSES = 2
PARALLEL_MIN_BYTES = 2**19
# A parallel build sends its workers the articles in jobs of WRITER_JOB_ARTICLES (Whoosh's
# 100); the first jobs grow to it from WRITER_SMALL_JOB_ARTICLES, and the last articles go
# in jobs of that many, so that the workers start soon and run out of work together.
WRITER_JOB_ARTICLES = 100
WRITER_SMALL_JOB_ARTICLES = 10
# While a fresh index is written, the garbage collector passes after this many new
# container objects (Python's default is 700; docs/performance.md has the measurement).
WRITER_GC_THRESHOLD = 500_000
# A command passes the garbage collector after this many new container objects: above the
# ~30,000 that a search, show or stats command makes from importing click to its end
# (modules, the index's tables), so that none of them stops to collect.
COMMAND_GC_THRESHOLD = 100_000
# A writer makes the terms of a number field's value (an article's date) once, and keeps
# those of at most this many values (then forgets them all).
WRITER_NUMBER_TERMS_MEMO = 10_000
LOCK_WAIT_SECONDS = 5.0
# `index` and `rebuild` show their progress on a terminal when there are this many files
# or bytes to read; the line is redrawn when its percentage changes, or after this long.
PROGRESS_MIN_FILES = 200
PROGRESS_MIN_BYTES = 2**20
PROGRESS_REDRAW_SECONDS = 1.0
# An index or rebuild report shows at most this many skipped files and warnings on stderr
# (the JSON report lists all), and this many examples of dates that could not be read.
REPORT_MAX_LINES = 10
REPORT_DATE_EXAMPLES = 3
# Postings are written in blocks of this many (Whoosh writes 128): larger blocks answer
# faster on large indexes, up to about this size.
POSTINGS_PER_BLOCK = 512
# A term with at most this many postings keeps them in its entry of the terms file, not
# in blocks of the postings file (each term there costs a block header of about 50 bytes).
INLINE_MAX_POSTINGS = 8
# A term of at least DENSE_MIN_POSTINGS postings in one document of every DENSE_DIVISOR
# (up to its last) also keeps a bitmap of its documents after its blocks (at most
# DENSE_DIVISOR / 8 bytes a posting), which searching intersects and counts in C. (On
# Reuters, 1 in 32: +2.1 % index size; word queries at ten times Reuters 11 % faster
# than at 1 in 16, which adds 1.5 %.)
DENSE_DIVISOR = 32
DENSE_MIN_POSTINGS = 1024
# Searching: the term dictionary entries each open segment remembers (a few hundred bytes
# each; a hit saves the lookup, about a tenth of a typical search).
TERM_INFO_CACHE = 4096

# The web page (`searchidx serve`): where it listens, how many hits a page shows, and how
# many requests it works on at once (each worker thread searches with its own searcher).
WEB_HOST = "127.0.0.1"
WEB_PORT = 8080
WEB_PAGE_SIZE = 10
WEB_THREADS = 4
# Open connections at once, and the seconds after which an idle one is closed (waitress's
# defaults, 100 and 120 s, let 101 idle connections lock everyone out for two minutes).
WEB_CONNECTION_LIMIT = 1000
WEB_IDLE_SECONDS = 10

# Dates: a value longer than this is not read as a date (the parser's time stays bounded).
MAX_DATE_CHARS = 100

# An index on an OpenSearch cluster (searchidx/engine/opensearch): a new index's shards and
# replicas (`index`/`rebuild` --shards/--replicas), each request's timeout and its retries
# on other nodes, and bulk writes: articles and bytes per request, and how often a request
# answered 429 (too many requests) is tried again, waiting twice as long each time.
OPENSEARCH_SHARDS = 1
OPENSEARCH_REPLICAS = 1
OPENSEARCH_TIMEOUT_SECONDS = 30
OPENSEARCH_RETRIES = 3
OPENSEARCH_BULK_ARTICLES = 500
OPENSEARCH_BULK_BYTES = 10 * 2**20
OPENSEARCH_BULK_RETRIES = 8
OPENSEARCH_BULK_FIRST_WAIT_SECONDS = 0.5
