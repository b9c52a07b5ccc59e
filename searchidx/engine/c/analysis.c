/* The compiled loops of a document's analysis (searchidx/analysis.py): the per-word work
 * around the regular expressions, which stay Python's. Each function returns exactly what
 * the Python function it stands in for returns (analysis.py names them, and binds these
 * with the module state they need); the tests compare the two on generated texts.
 * The GIL is held throughout; the module keeps no state of its own. */

#include "common.h"
#include <string.h>

/* A memo's value for key (a new reference): a plain dict look-up, or the memo's
 * __getitem__ (which makes a missing value, and may clear the memo) when it misses. */
static PyObject *
memo_get(PyObject *memo, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(memo, key);
    if (value != NULL) {
        Py_INCREF(value);
        return value;
    }
    if (PyErr_Occurred())
        return NULL;
    return PyObject_GetItem(memo, key);
}

/* The tuple (position, start, end): an Occurrence. */
static PyObject *
occurrence_of(Py_ssize_t position, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *tuple = PyTuple_New(3);
    if (tuple == NULL)
        return NULL;
    Py_ssize_t numbers[3] = {position, start, end};
    for (int i = 0; i < 3; i++) {
        PyObject *number = PyLong_FromSsize_t(numbers[i]);
        if (number == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, number);
    }
    return tuple;
}

/* Appends occurrence to the list of term in terms, or starts that list. */
static int
add_occurrence(PyObject *terms, PyObject *term, PyObject *occurrence)
{
    PyObject *found = PyDict_GetItemWithError(terms, term);
    if (found != NULL)
        return PyList_Append(found, occurrence);
    if (PyErr_Occurred())
        return -1;
    PyObject *list = PyList_New(1);
    if (list == NULL)
        return -1;
    Py_INCREF(occurrence);
    PyList_SET_ITEM(list, 0, occurrence);
    int failed = PyDict_SetItem(terms, term, list);
    Py_DECREF(list);
    return failed;
}

/* The rules of names written apart (analysis._joins and _joined_names), as given. */
typedef struct {
    PyObject *headline_starts; /* callable: text -> the starts of its headline words */
    PyObject *function_words;  /* set or frozenset, as the next two */
    PyObject *spaces;          /* the gaps between a name's words written apart */
    PyObject *hyphens;
    Py_ssize_t syllable_max;
    Py_ssize_t joined_max;
} NameRules;

/* Whether the word second, after the capitalized word first across gap, forms one name
 * with it: analysis._joins, "first[0].isupper()" known true. 1, 0, or -1 on error. */
static int
joins(const NameRules *rules, PyObject *first, PyObject *gap, PyObject *second,
      int second_capitalized)
{
    int spaced = PySet_Contains(rules->spaces, gap);
    if (spaced <= 0)
        return spaced < 0 ? -1 : PySet_Contains(rules->hyphens, gap);
    if (!second_capitalized || PyUnicode_GET_LENGTH(first) > rules->syllable_max
            || PyUnicode_GET_LENGTH(second) > rules->syllable_max)
        return 0;
    PyObject *lower = PyObject_CallMethod(first, "lower", NULL);
    if (lower == NULL)
        return -1;
    int function_word = PySet_Contains(rules->function_words, lower);
    Py_DECREF(lower);
    return function_word < 0 ? -1 : !function_word;
}

/* Whether the number is in the set: 1, 0, or -1 on error. */
static int
contains_number(PyObject *set, Py_ssize_t number)
{
    PyObject *key = PyLong_FromSsize_t(number);
    if (key == NULL)
        return -1;
    int found = PySequence_Contains(set, key);
    Py_DECREF(key);
    return found;
}

/* The state of one prose pass: its results, and per word its start and whether it is
 * capitalized, and how many words before it the name it ends joins (0: none); the words
 * that have an exact term, and those terms; unusual: an input the C leaves to the Python
 * function (a part not a str, a form not a tuple of four, an exact term not a str). */
typedef struct {
    int unusual;
    PyObject *terms, *plain, *sequence, *joined;
    PyObject *text, *parts, *forms;
    PyObject *headline;  /* worked out when a pair first joins or an acronym is met */
    Py_ssize_t *starts;
    Py_ssize_t *joins_before;
    char *capitalized;
    PyObject *exact_terms;  /* list */
    Py_ssize_t *exact_words;
    int acronym_met;
} Pass;

/* analysis.is_acronym: two or more letters, all ASCII capitals. */
static int
is_acronym(PyObject *word)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(word);
    if (!PyUnicode_IS_ASCII(word) || length < 2)
        return 0;
    const Py_UCS1 *letters = PyUnicode_1BYTE_DATA(word);
    for (Py_ssize_t i = 0; i < length; i++)
        if (letters[i] < 'A' || letters[i] > 'Z')
            return 0;
    return 1;
}

/* The starts of text's headline words (analysis._headline_starts), worked out once. */
static PyObject *
headline_of(Pass *pass, const NameRules *rules)
{
    if (pass->headline == NULL)
        pass->headline = PyObject_CallOneArg(rules->headline_starts, pass->text);
    return pass->headline;
}

/* Words number first to last of parts (gap, word, gap, ...) joined without a gap. */
static PyObject *
joined_words(PyObject *parts, Py_ssize_t first, Py_ssize_t last)
{
    PyObject *words = PyTuple_New(last - first + 1);
    if (words == NULL)
        return NULL;
    for (Py_ssize_t w = first; w <= last; w++) {
        PyObject *word = PyTuple_GET_ITEM(parts, 2 * w + 1);
        Py_INCREF(word);
        PyTuple_SET_ITEM(words, w - first, word);
    }
    PyObject *empty = PyUnicode_FromStringAndSize(NULL, 0);
    PyObject *name = empty == NULL ? NULL : PyUnicode_Join(empty, words);
    Py_XDECREF(empty);
    Py_DECREF(words);
    return name;
}

/* The names that end at word w, after it (as _joined_names finds them and _with_names
 * places them): 0, or -1 on error. */
static int
add_names(Pass *pass, const NameRules *rules, Py_ssize_t w, Py_ssize_t end)
{
    PyObject *first = PyTuple_GET_ITEM(pass->parts, 2 * w - 1);
    PyObject *gap = PyTuple_GET_ITEM(pass->parts, 2 * w);
    PyObject *second = PyTuple_GET_ITEM(pass->parts, 2 * w + 1);
    int found = joins(rules, first, gap, second, pass->capitalized[w]);
    if (found <= 0)
        return found;
    if (headline_of(pass, rules) == NULL)
        return -1;
    found = contains_number(pass->headline, pass->starts[w]);
    if (found == 1)
        found = contains_number(pass->headline, pass->starts[w - 1]);
    if (found != 0)
        return found < 0 ? -1 : 0;
    Py_ssize_t before = 1 + pass->joins_before[w - 1];
    if (before > rules->joined_max - 1)
        before = rules->joined_max - 1;
    pass->joins_before[w] = before;
    for (Py_ssize_t count = 1; count <= before; count++) {
        PyObject *name = joined_words(pass->parts, w - count, w);
        if (name == NULL)
            return -1;
        PyObject *form = memo_get(pass->forms, name);
        Py_DECREF(name);
        if (form == NULL)
            return -1;
        if (!PyTuple_Check(form) || PyTuple_GET_SIZE(form) != 4) {
            Py_DECREF(form);
            pass->unusual = 1;
            return -1;
        }
        PyObject *term = PyTuple_GET_ITEM(form, 1);
        PyObject *occurrence = occurrence_of(w - count, pass->starts[w - count], end);
        PyObject *name_at = Py_BuildValue("(nO)", w - count, term);
        int failed = occurrence == NULL || name_at == NULL
            || add_occurrence(pass->terms, term, occurrence) < 0
            || PyList_Append(pass->joined, name_at) < 0;
        Py_XDECREF(occurrence);
        Py_XDECREF(name_at);
        Py_DECREF(form);
        if (failed)
            return -1;
    }
    return 0;
}

/* Notes word w's exact term (None: it has none): 0, or -1 on error or if unusual. */
static int
add_exact(Pass *pass, Py_ssize_t w, PyObject *term)
{
    if (term == Py_None)
        return 0;
    if (!PyUnicode_Check(term))
        return -1;
    if (PyUnicode_GET_LENGTH(term) == 0)  /* as filter(None, ...) */
        return 0;
    pass->exact_words[PyList_GET_SIZE(pass->exact_terms)] = w;
    pass->acronym_met |= is_acronym(term);
    return PyList_Append(pass->exact_terms, term);
}

/* Adds one to term's count in counts (a dict of this module's own numbers): 0, or -1. */
static int
count_one(PyObject *counts, PyObject *term)
{
    PyObject *count = PyDict_GetItemWithError(counts, term);
    if (count == NULL && PyErr_Occurred())
        return -1;
    PyObject *more = PyLong_FromSsize_t(count == NULL ? 1 : PyLong_AsSsize_t(count) + 1);
    if (more == NULL)
        return -1;
    int failed = PyDict_SetItem(counts, term, more);
    Py_DECREF(more);
    return failed;
}

/* The exact field's terms of the text and their counts (analysis._exact_counts): an
 * acronym in a headline is no acronym, and has none. */
static PyObject *
exact_counts(Pass *pass, const NameRules *rules)
{
    int in_headlines = 0;
    if (pass->acronym_met) {
        if (headline_of(pass, rules) == NULL)
            return NULL;
        in_headlines = PyObject_IsTrue(pass->headline);
        if (in_headlines < 0)
            return NULL;
    }
    PyObject *counts = PyDict_New();
    if (counts == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(pass->exact_terms); i++) {
        Py_ssize_t w = pass->exact_words[i];
        if (in_headlines && is_acronym(PyTuple_GET_ITEM(pass->parts, 2 * w + 1))) {
            int found = contains_number(pass->headline, pass->starts[w]);
            if (found > 0)
                continue;
            if (found < 0) {
                Py_DECREF(counts);
                return NULL;
            }
        }
        if (count_one(counts, PyList_GET_ITEM(pass->exact_terms, i)) < 0) {
            Py_DECREF(counts);
            return NULL;
        }
    }
    return counts;
}

/* One word of the pass: its form, its occurrence, the names it ends. 0, or -1. */
static int
add_word(Pass *pass, const NameRules *rules, int join, Py_ssize_t w, Py_ssize_t start)
{
    PyObject *word = PyTuple_GET_ITEM(pass->parts, 2 * w + 1);
    if (!PyUnicode_Check(word)) {
        pass->unusual = 1;
        return -1;
    }
    Py_ssize_t end = start + PyUnicode_GET_LENGTH(word);
    PyObject *form = memo_get(pass->forms, word);
    if (form == NULL)
        return -1;
    if (!PyTuple_Check(form) || PyTuple_GET_SIZE(form) != 4
            || add_exact(pass, w, PyTuple_GET_ITEM(form, 3)) < 0) {
        Py_DECREF(form);
        pass->unusual |= !PyErr_Occurred();
        return -1;
    }
    PyObject *term = PyTuple_GET_ITEM(form, 1);
    int capitalized = PyObject_IsTrue(PyTuple_GET_ITEM(form, 2));
    PyObject *occurrence = occurrence_of(w, start, end);
    int failed = capitalized < 0 || occurrence == NULL
        || PySet_Add(pass->plain, PyTuple_GET_ITEM(form, 0)) < 0
        || add_occurrence(pass->terms, term, occurrence) < 0;
    if (!failed) {
        Py_INCREF(term);
        PyList_SET_ITEM(pass->sequence, w, term);
    }
    Py_XDECREF(occurrence);
    Py_DECREF(form);
    if (failed)
        return -1;
    pass->starts[w] = start;
    pass->capitalized[w] = (char)capitalized;
    pass->joins_before[w] = 0;
    if (join && w >= 1 && pass->capitalized[w - 1])
        return add_names(pass, rules, w, end);
    return 0;
}

static PyObject *
run_pass(Pass *pass, const NameRules *rules, int join)
{
    Py_ssize_t count = PyTuple_GET_SIZE(pass->parts) / 2;
    pass->sequence = PyList_New(count);
    pass->terms = PyDict_New();
    pass->plain = PySet_New(NULL);
    pass->joined = PyList_New(0);
    pass->starts = PyMem_New(Py_ssize_t, count + 1);
    pass->joins_before = PyMem_New(Py_ssize_t, count + 1);
    pass->capitalized = PyMem_Malloc(count + 1);
    pass->exact_terms = PyList_New(0);
    pass->exact_words = PyMem_New(Py_ssize_t, count + 1);
    if (pass->sequence == NULL || pass->terms == NULL || pass->plain == NULL
            || pass->joined == NULL || pass->starts == NULL || pass->joins_before == NULL
            || pass->capitalized == NULL || pass->exact_terms == NULL
            || pass->exact_words == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t offset = 0;  /* where the next part starts in the text */
    for (Py_ssize_t w = 0; w < count; w++) {
        PyObject *gap = PyTuple_GET_ITEM(pass->parts, 2 * w);
        if (!PyUnicode_Check(gap)) {
            pass->unusual = 1;
            return NULL;
        }
        Py_ssize_t start = offset + PyUnicode_GET_LENGTH(gap);
        if (add_word(pass, rules, join, w, start) < 0)
            return NULL;
        offset = start + PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(pass->parts, 2 * w + 1));
    }
    PyObject *exact = exact_counts(pass, rules);
    PyObject *result = exact == NULL ? NULL : PyTuple_Pack(5, pass->terms, pass->plain,
                                                            pass->sequence, pass->joined, exact);
    Py_XDECREF(exact);
    return result;
}

/* prose_of_parts(python, headline_starts, function_words, spaces, hyphens, syllable_max,
 *                joined_max, text, parts, forms, join): analysis._prose_of_parts_python
 * (given first, with the rules of names), which it calls for an unusual input. */
static PyObject *
prose_of_parts(PyObject *module, PyObject *args)
{
    NameRules rules;
    Pass pass = {0};
    PyObject *python, *parts, *join;
    (void)module;
    if (!PyArg_ParseTuple(args, "OOOOOnnOOOO:prose_of_parts", &python, &rules.headline_starts,
                          &rules.function_words, &rules.spaces, &rules.hyphens,
                          &rules.syllable_max, &rules.joined_max, &pass.text, &parts,
                          &pass.forms, &join))
        return NULL;
    if (!PyAnySet_Check(rules.function_words) || !PyAnySet_Check(rules.spaces)
            || !PyAnySet_Check(rules.hyphens)) {
        PyErr_SetString(PyExc_TypeError, "the rules of names are not sets");
        return NULL;
    }
    int joins_names = PyObject_IsTrue(join);
    if (joins_names < 0)
        return NULL;
    PyObject *result = NULL;
    if (!PyUnicode_Check(pass.text) || !PyList_Check(parts) || !PyDict_Check(pass.forms)
            || PyList_GET_SIZE(parts) % 2 != 1) {
        pass.unusual = 1;
    } else {
        /* a tuple of the parts: the memo runs Python code, which could change the list */
        pass.parts = PySequence_Tuple(parts);
        if (pass.parts != NULL)
            result = run_pass(&pass, &rules, joins_names);
    }
    Py_XDECREF(pass.parts);
    Py_XDECREF(pass.terms);
    Py_XDECREF(pass.plain);
    Py_XDECREF(pass.sequence);
    Py_XDECREF(pass.joined);
    Py_XDECREF(pass.headline);
    PyMem_Free(pass.starts);
    PyMem_Free(pass.joins_before);
    PyMem_Free(pass.capitalized);
    Py_XDECREF(pass.exact_terms);
    PyMem_Free(pass.exact_words);
    if (pass.unusual && !PyErr_Occurred())
        return PyObject_CallFunctionObjArgs(python, pass.text, parts, pass.forms, join, NULL);
    return result;
}

/* --- pair signatures ------------------------------------------------------------------ */

/* A pair's code is 20 bits: two signature bits of 10 (analysis.pair_code). */
#define CODE_BITS 20
#define SIGNATURE_BYTES 128

/* The codes of a text's pairs, as they are found; unusual: an input the C leaves to the
 * Python function (a term not a str, a name's position not a word's). */
typedef struct {
    uint32_t *codes;
    Py_ssize_t count, size;
    int unusual;
} Codes;

/* The CRC-32 of zlib (and of analysis._term_codes), half a byte at a time. */
static const uint32_t CRC_OF_HALF_BYTE[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

/* The CRC-32 of term's UTF-8 (in *crc): 0, or -1 on error (a surrogate) or if unusual. */
static int
term_crc(Codes *codes, PyObject *term, uint32_t *crc)
{
    Py_ssize_t length;
    if (!PyUnicode_Check(term)) {
        codes->unusual = 1;
        return -1;
    }
    const char *utf8 = PyUnicode_AsUTF8AndSize(term, &length);
    if (utf8 == NULL)
        return -1;
    uint32_t value = 0xffffffffu;
    for (Py_ssize_t i = 0; i < length; i++) {
        uint32_t byte = (unsigned char)utf8[i];
        value = CRC_OF_HALF_BYTE[(value ^ byte) & 15u] ^ (value >> 4);
        value = CRC_OF_HALF_BYTE[(value ^ (byte >> 4)) & 15u] ^ (value >> 4);
    }
    *crc = value ^ 0xffffffffu;
    return 0;
}

/* Adds the code of a pair whose terms' CRCs are these: analysis.pair_code, the first's
 * first and third ten bits against the second's second and first (_AS_FIRST, _AS_SECOND). */
static int
add_code(Codes *codes, uint32_t first, uint32_t second)
{
    if (codes->count == codes->size) {
        if (codes->size > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(uint32_t) - 16) {
            PyErr_NoMemory();
            return -1;
        }
        Py_ssize_t size = codes->size * 2 + 16;
        uint32_t *grown = PyMem_Resize(codes->codes, uint32_t, size);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        codes->codes = grown;
        codes->size = size;
    }
    uint32_t as_first = (first & 1023u) | ((first >> 20) & 1023u) << 10;
    uint32_t as_second = ((second >> 10) & 1023u) | (second & 1023u) << 10;
    codes->codes[codes->count++] = as_first ^ as_second;
    return 0;
}

/* Adds the code of the pair (first, second): 0, or -1 on error or if unusual. */
static int
add_pair(Codes *codes, PyObject *first, PyObject *second)
{
    uint32_t one, two;
    if (term_crc(codes, first, &one) < 0 || term_crc(codes, second, &two) < 0)
        return -1;
    return add_code(codes, one, two);
}

/* A joined name: its position (a word's: 0 <= position < words) and its term. */
typedef struct {
    Py_ssize_t position;
    PyObject *term;  /* borrowed from the list of names */
} Name;

/* The names of joined, checked: 0, or -1 on error or an unusual name. */
static int
names_of(Codes *codes, PyObject *joined, Py_ssize_t words, Name *names)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(joined); i++) {
        PyObject *item = PyList_GET_ITEM(joined, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2
                || !PyLong_Check(PyTuple_GET_ITEM(item, 0))) {
            codes->unusual = 1;
            return -1;
        }
        int overflow = 0;
        long long position = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(item, 0), &overflow);
        if (overflow || position < 0 || position >= words) {
            codes->unusual = 1;
            return -1;
        }
        names[i].position = (Py_ssize_t)position;
        names[i].term = PyTuple_GET_ITEM(item, 1);
    }
    return 0;
}

static int
by_position(const void *a, const void *b)
{
    const Name *one = a, *two = b;
    return (one->position > two->position) - (one->position < two->position);
}

/* The pairs each joined name makes with the term before it, the term after it and the
 * names at the next position (analysis._pairs_with_names): 0, or -1. names: as given;
 * placed: the same, sorted by position here, so that a name's next are found in log time
 * (a pair's order among them makes no bit). */
static int
add_name_pairs(Codes *codes, PyObject *sequence,
               const Name *names, Name *placed, Py_ssize_t count)
{
    Py_ssize_t words = PyList_GET_SIZE(sequence);
    if (count > 0)
        memcpy(placed, names, (size_t)count * sizeof(Name));
    qsort(placed, (size_t)count, sizeof(Name), by_position);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t position = names[i].position;
        PyObject *term = names[i].term;
        if (position >= 1
                && add_pair(codes, PyList_GET_ITEM(sequence, position - 1), term) < 0)
            return -1;
        if (position + 1 < words && add_pair(codes, term,
                                             PyList_GET_ITEM(sequence, position + 1)) < 0)
            return -1;
        Py_ssize_t low = 0, high = count;  /* the first placed at position + 1 or after */
        while (low < high) {
            Py_ssize_t middle = low + (high - low) / 2;
            if (placed[middle].position <= position)
                low = middle + 1;
            else
                high = middle;
        }
        for (; low < count && placed[low].position == position + 1; low++)
            if (add_pair(codes, term, placed[low].term) < 0)
                return -1;
    }
    return 0;
}

static int
by_value(const void *a, const void *b)
{
    uint32_t one = *(const uint32_t *)a, two = *(const uint32_t *)b;
    return (one > two) - (one < two);
}

/* The extension of these codes (analysis._extension); sorts them. */
static PyObject *
extension(Codes *codes, Py_ssize_t min_pairs, Py_ssize_t bits_per_pair)
{
    if (codes->count <= min_pairs)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (codes->count > 0)  /* (no codes, none allocated: qsort is not given NULL) */
        qsort(codes->codes, (size_t)codes->count, sizeof(uint32_t), by_value);
    Py_ssize_t distinct = 0;
    for (Py_ssize_t i = 0; i < codes->count; i++)
        if (i == 0 || codes->codes[i] != codes->codes[i - 1])
            codes->codes[distinct++] = codes->codes[i];
    if (distinct <= min_pairs)
        return PyBytes_FromStringAndSize(NULL, 0);
    Py_ssize_t size = 129;  /* analysis._EXTENSION_MIN_BYTES */
    if (bits_per_pair > 0 && distinct > 0) {  /* (none where min_pairs is negative) */
        if (bits_per_pair > PY_SSIZE_T_MAX / 8 / distinct)
            return PyErr_NoMemory();
        Py_ssize_t wanted = (distinct * bits_per_pair + 7) / 8;
        if (wanted > size)
            size = wanted;
    }
    if (size > PY_SSIZE_T_MAX / 8)
        return PyErr_NoMemory();
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, size);
    if (bytes == NULL)
        return NULL;
    unsigned char *bits = (unsigned char *)PyBytes_AS_STRING(bytes);
    memset(bits, 0, (size_t)size);
    /* the two odd moduli below the extension's number of bits */
    uint64_t modulus = 8 * (uint64_t)size - 1, other = modulus - 2;
    for (Py_ssize_t i = 0; i < distinct; i++) {
        uint64_t code = codes->codes[i], one = code % modulus, two = code % other;
        bits[one >> 3] |= (unsigned char)(1u << (one & 7));
        bits[two >> 3] |= (unsigned char)(1u << (two & 7));
    }
    return bytes;
}

/* The fixed signature of these codes: their two 10-bit halves' bits. */
static PyObject *
signature(const Codes *codes)
{
    unsigned char bits[SIGNATURE_BYTES] = {0};
    for (Py_ssize_t i = 0; i < codes->count; i++) {
        uint32_t low = codes->codes[i] & 1023u, high = codes->codes[i] >> 10;
        bits[low >> 3] |= (unsigned char)(1u << (low & 7));
        bits[high >> 3] |= (unsigned char)(1u << (high & 7));
    }
    return PyBytes_FromStringAndSize((const char *)bits, SIGNATURE_BYTES);
}

/* The pairs' codes of sequence and joined: 0, or -1 on error or an unusual input. */
static int
add_codes(Codes *codes, PyObject *sequence, PyObject *joined)
{
    uint32_t before = 0, crc;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sequence); i++) {  /* each term's CRC once */
        if (term_crc(codes, PyList_GET_ITEM(sequence, i), &crc) < 0
                || (i > 0 && add_code(codes, before, crc) < 0))
            return -1;
        before = crc;
    }
    Py_ssize_t count = PyList_GET_SIZE(joined);
    Name *names = PyMem_New(Name, 2 * count + 1);  /* as given, then placed */
    if (names == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int failed = names_of(codes, joined, PyList_GET_SIZE(sequence), names) < 0
        || add_name_pairs(codes, sequence, names, names + count, count) < 0;
    PyMem_Free(names);
    return failed ? -1 : 0;
}

/* A Py_ssize_t of an exact int in *number: 1, or 0 (no error set) for anything else (a
 * number beyond it: the Python decides what a huge number means). */
static int
exact_size(PyObject *object, Py_ssize_t *number)
{
    long long value;
    if (!exact_int(object, &value) || value < PY_SSIZE_T_MIN || value > PY_SSIZE_T_MAX)
        return 0;
    *number = (Py_ssize_t)value;
    return 1;
}

/* pair_signatures(python, sequence, joined, min_pairs, bits_per_pair):
 * analysis._signatures_python (given first), which it calls for an unusual input (other
 * than two lists and two ints of a Py_ssize_t). The terms' numbers are worked out here,
 * as analysis._term_codes does. */
static PyObject *
pair_signatures(PyObject *module, PyObject *args)
{
    PyObject *python, *sequence, *joined, *min_object, *bits_object;
    Py_ssize_t min_pairs, bits_per_pair;
    (void)module;
    if (!PyArg_ParseTuple(args, "OOOOO:pair_signatures", &python, &sequence, &joined,
                          &min_object, &bits_object))
        return NULL;
    if (!PyList_CheckExact(sequence) || !PyList_CheckExact(joined)
            || !exact_size(min_object, &min_pairs) || !exact_size(bits_object, &bits_per_pair))
        return PyObject_CallFunctionObjArgs(python, sequence, joined, min_object, bits_object,
                                            NULL);
    Codes codes = {NULL, 0, 0, 0};
    PyObject *result = NULL;
    if (add_codes(&codes, sequence, joined) == 0) {
        PyObject *fixed = signature(&codes);
        PyObject *extended = fixed == NULL ? NULL : extension(&codes, min_pairs, bits_per_pair);
        result = extended == NULL ? NULL : PyTuple_Pack(2, fixed, extended);
        Py_XDECREF(fixed);
        Py_XDECREF(extended);
    }
    PyMem_Free(codes.codes);
    if (codes.unusual && !PyErr_Occurred())
        return PyObject_CallFunctionObjArgs(python, sequence, joined, min_object, bits_object,
                                            NULL);
    return result;
}

/* --- Porter's stemmer, as Whoosh writes it ------------------------------------------ */

/* whoosh.lang.porter.stem, step for step, for a word of ASCII small letters (any other it
 * hands to that function). Its regular expressions are read here as what they match:
 * they are anchored at the start (re.match), and since their classes of consonants
 * ([^aeiouy]) and vowels ([aeiou]) are disjoint, each matches in one greedy pass. "y" is
 * in neither class ("Y", a first "y" written so, is a consonant); [aeiouy] is a vowel in
 * _s_v and _c_v. */

#define STEM_MAX 64  /* longer words (few) are the Python function's */

static int
is_consonant(char c)
{
    return strchr("aeiouy", c) == NULL || c == '\0';
}

static int
is_vowel(char c)
{
    return c != '\0' && strchr("aeiou", c) != NULL;
}

/* Whether w[0:n] starts with count runs of vowels then consonants, after any consonants
 * (^([^aeiouy]+)?([aeiou]+[^aeiouy]+){count}); *end: where the last run ends. */
static int
measure_at_least(const char *w, int n, int count, int *end)
{
    int i = 0;
    while (i < n && is_consonant(w[i]))
        i++;
    for (int run = 0; run < count; run++) {
        if (i >= n || !is_vowel(w[i]))
            return 0;
        while (i < n && is_vowel(w[i]))
            i++;
        if (i >= n || !is_consonant(w[i]))
            return 0;
        while (i < n && is_consonant(w[i]))
            i++;
    }
    *end = i;
    return 1;
}

static int
m_above_0(const char *w, int n)  /* _mgr0 */
{
    int end;
    return measure_at_least(w, n, 1, &end);
}

static int
m_above_1(const char *w, int n)  /* _mgr1 */
{
    int end;
    return measure_at_least(w, n, 2, &end);
}

static int
m_is_1(const char *w, int n)  /* _meq1: ^([^aeiouy]+)?[aeiou]+[^aeiouy]+([aeiou]+)?$ */
{
    int end;
    if (!measure_at_least(w, n, 1, &end))
        return 0;
    while (end < n && is_vowel(w[end]))
        end++;
    return end == n;
}

static int
has_vowel(const char *w, int n)  /* _s_v: ^([^aeiouy]+)?[aeiouy] */
{
    for (int i = 0; i < n; i++)
        if (!is_consonant(w[i]))
            return 1;
    return 0;
}

static int
cvc(const char *w, int n)  /* _c_v: ^[^aeiouy]+[aeiouy][^aeiouwxy]$ */
{
    if (n < 3 || is_consonant(w[n - 2]) || strchr("aeiouwxy", w[n - 1]) != NULL)
        return 0;
    for (int i = 0; i < n - 2; i++)
        if (!is_consonant(w[i]))
            return 0;
    return 1;
}

static int
ends_with(const char *w, int n, const char *suffix)
{
    int length = (int)strlen(suffix);
    return n >= length && memcmp(w + n - length, suffix, (size_t)length) == 0;
}

/* The longest of the suffixes (pairs: suffix, replacement; NULL ends them) that w[0:n]
 * ends with after at least one letter (^(.+?)(a|b|...)$), or -1. */
static int
longest_suffix(const char *w, int n, const char *const *suffixes)
{
    int found = -1, longest = 0;
    for (int i = 0; suffixes[i] != NULL; i += 2) {
        int length = (int)strlen(suffixes[i]);
        if (length > longest && length < n && ends_with(w, n, suffixes[i])) {
            found = i;
            longest = length;
        }
    }
    return found;
}

static const char *const STEP2[] = {
    "ational", "ate", "tional", "tion", "enci", "ence", "anci", "ance", "izer", "ize",
    "bli", "ble", "alli", "al", "entli", "ent", "eli", "e", "ousli", "ous", "ization", "ize",
    "ation", "ate", "ator", "ate", "alism", "al", "iveness", "ive", "fulness", "ful",
    "ousness", "ous", "aliti", "al", "iviti", "ive", "biliti", "ble", "logi", "log", NULL,
};
static const char *const STEP3[] = {
    "icate", "ic", "ative", "", "alize", "al", "iciti", "ic", "ical", "ic", "ful", "",
    "ness", "", NULL,
};
static const char *const STEP4[] = {
    "al", "", "ance", "", "ence", "", "er", "", "ic", "", "able", "", "ible", "", "ant", "",
    "ement", "", "ment", "", "ent", "", "ou", "", "ism", "", "ate", "", "iti", "", "ous", "",
    "ive", "", "ize", "", NULL,
};

/* Replaces the suffix of w[0:*n] found by longest_suffix if the rest's measure is above
 * 0 (steps 2 and 3); 1 if a suffix was found. */
static void
replace_suffix(char *w, int *n, const char *const *suffixes)
{
    int found = longest_suffix(w, *n, suffixes);
    if (found < 0)
        return;
    int stem = *n - (int)strlen(suffixes[found]);
    if (m_above_0(w, stem)) {
        size_t length = strlen(suffixes[found + 1]);
        memcpy(w + stem, suffixes[found + 1], length);
        *n = stem + (int)length;
    }
}

/* Porter's stem of w[0:n], in place (w has room for one more letter); the new length. */
static int
porter(char *w, int n)
{
    if (n < 3)
        return n;
    int first_is_y = w[0] == 'y';
    if (first_is_y)
        w[0] = 'Y';
    /* step 1a */
    if (ends_with(w, n, "s")) {
        if (ends_with(w, n, "sses") || ends_with(w, n, "ies"))
            n -= 2;
        else if (w[n - 2] != 's')
            n -= 1;
    }
    /* step 1b (_at_bl_iz and _step1b are anchored at the start: whole words of two) */
    if (ends_with(w, n, "eed")) {
        if (m_above_0(w, n - 3))
            n -= 1;
    } else if (ends_with(w, n, "ed") || ends_with(w, n, "ing")) {
        int stem = n - (ends_with(w, n, "ed") ? 2 : 3);
        if (has_vowel(w, stem)) {
            n = stem;
            if (n == 2 && (memcmp(w, "at", 2) == 0 || memcmp(w, "bl", 2) == 0
                           || memcmp(w, "iz", 2) == 0))
                w[n++] = 'e';
            else if (n == 2 && w[0] == w[1] && strchr("aeiouylsz", w[0]) == NULL)
                n -= 1;
            else if (cvc(w, n))
                w[n++] = 'e';
        }
    }
    /* step 1c */
    if (ends_with(w, n, "y") && has_vowel(w, n - 1))
        w[n - 1] = 'i';
    replace_suffix(w, &n, STEP2);
    replace_suffix(w, &n, STEP3);
    /* step 4 */
    int found = longest_suffix(w, n, STEP4);
    if (found >= 0) {
        int stem = n - (int)strlen(STEP4[found]);
        if (m_above_1(w, stem))
            n = stem;
    } else if (n >= 5 && (ends_with(w, n, "sion") || ends_with(w, n, "tion"))) {
        if (m_above_1(w, n - 3))
            n -= 3;
    }
    /* step 5 */
    if (n >= 2 && w[n - 1] == 'e') {
        int stem = n - 1;
        if (m_above_1(w, stem) || (m_is_1(w, stem) && !cvc(w, stem)))
            n = stem;
    }
    if (ends_with(w, n, "ll") && m_above_1(w, n))
        n -= 1;
    if (first_is_y)
        w[0] = 'y';
    return n;
}

/* porter_stem(python, word): whoosh.lang.porter.stem (given first), which it calls for
 * a word of other letters than ASCII small ones, or a long one. */
static PyObject *
porter_stem(PyObject *module, PyObject *args)
{
    PyObject *python, *word;
    (void)module;
    if (!PyArg_ParseTuple(args, "OO:porter_stem", &python, &word))
        return NULL;
    Py_ssize_t length = PyUnicode_Check(word) ? PyUnicode_GET_LENGTH(word) : -1;
    if (length < 0 || length > STEM_MAX || !PyUnicode_IS_ASCII(word))
        return PyObject_CallOneArg(python, word);
    char w[STEM_MAX + 2];
    memcpy(w, PyUnicode_1BYTE_DATA(word), (size_t)length);
    for (Py_ssize_t i = 0; i < length; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return PyObject_CallOneArg(python, word);
    int n = porter(w, (int)length);
    return PyUnicode_FromStringAndSize(w, n);
}

static PyMethodDef methods[] = {
    {"prose_of_parts", prose_of_parts, METH_VARARGS,
     "analysis._prose_of_parts_python, given it and the rules of names first."},
    {"porter_stem", porter_stem, METH_VARARGS,
     "whoosh.lang.porter.stem, given it first."},
    {"pair_signatures", pair_signatures, METH_VARARGS,
     "analysis._signatures_python, given it first."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_c_analysis",
    "The compiled loops of a document's analysis (see searchidx/analysis.py).", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__c_analysis(void)
{
    return PyModuleDef_Init(&module);
}
