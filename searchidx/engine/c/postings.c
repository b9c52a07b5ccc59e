/* The postings of a document's field, made and added to a term pool in one loop.
 *
 * The compiled versions of Occurrences.encode's varying layout (engine/codec.py) and of
 * TermPool.add_field's loop over a field's terms (engine/pool.py), which stay as the
 * reference and the fallback. Anything unusual (escapes, numbers beyond the varying
 * layout, values of other types) is handed over to the Python functions, whose results
 * are then the results: each function here returns exactly what they return.
 */
#include "common.h"
#include <string.h>

/* Raw numbers beyond this go to the Python: below it, no difference of two overflows. */
#define LARGEST_RAW ((long long)1 << 62)
/* Occurrences of a term in a document held on the stack (more: on the heap). */
#define STACK_OCCURRENCES 32

/* Reads a non-negative int no larger than LARGEST_RAW; 0 where `item` is anything else
 * (the Python must decide what it means). Calls no Python code. */
static int
read_raw(PyObject *item, long long *number)
{
    return exact_int(item, number) && *number >= 0 && *number <= LARGEST_RAW;
}

/* Each occurrence's position step, start step and length (codec._steps), every position
 * step first, in `numbers` (3 * count of them); 0 where the varying layout cannot hold
 * them or an occurrence is not a tuple of three such ints. */
static int
read_steps(PyObject *occurrences, Py_ssize_t count, uint32_t *numbers)
{
    long long last_position = 0, last_end = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *occurrence = PyList_GET_ITEM(occurrences, i);
        long long position, start, end;
        if (!PyTuple_CheckExact(occurrence) || PyTuple_GET_SIZE(occurrence) != 3
            || !read_raw(PyTuple_GET_ITEM(occurrence, 0), &position)
            || !read_raw(PyTuple_GET_ITEM(occurrence, 1), &start)
            || !read_raw(PyTuple_GET_ITEM(occurrence, 2), &end))
            return 0;
        long long steps[3] = {position - last_position, start - last_end, end - start};
        for (int k = 0; k < 3; k++) {
            if (steps[k] < 0 || steps[k] > LARGEST_CODE)
                return 0;
            numbers[k * count + i] = (uint32_t)steps[k];
        }
        last_position = position;
        last_end = end;
    }
    return 1;
}

/* The UTF-8 bytes of the character of each code, as Python's "surrogatepass" writes
 * them (a surrogate's three bytes as any other code below 0x10000). */
static PyObject *
utf8_bytes(const uint32_t *codes, Py_ssize_t count)
{
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < count; i++)
        size += utf8_size(codes[i]);
    PyObject *result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < count; i++)
        out += utf8_code(out, codes[i]);
    return result;
}

/* The varying layout of a list of occurrences (a new reference), Py_None (a new
 * reference) where the Python must make it, NULL on an error. */
static PyObject *
varying_bytes(PyObject *occurrences)
{
    if (!PyList_CheckExact(occurrences) || PyList_GET_SIZE(occurrences) == 0)
        return Py_NewRef(Py_None);
    Py_ssize_t count = PyList_GET_SIZE(occurrences);
    uint32_t stack[3 * STACK_OCCURRENCES];
    uint32_t *numbers = stack;
    if (count > STACK_OCCURRENCES) {
        /* count < PY_SSIZE_T_MAX / sizeof(PyObject *): 3 * count cannot overflow */
        numbers = PyMem_New(uint32_t, 3 * (size_t)count);
        if (numbers == NULL)
            return PyErr_NoMemory();
    }
    PyObject *result = read_steps(occurrences, count, numbers)
        ? utf8_bytes(numbers, 3 * count) : Py_NewRef(Py_None);
    if (numbers != stack)
        PyMem_Free(numbers);
    return result;
}

PyDoc_STRVAR(encode_varying_doc,
"encode_varying(occurrences)\n--\n\n"
"What Occurrences.encode writes in the varying layout for a list of (position, start,\n"
"end) tuples of ints, or None where the Python must make it (an escape, an empty list,\n"
"anything but a list of such tuples).");

static PyObject *
encode_varying(PyObject *module, PyObject *occurrences)
{
    (void)module;
    return varying_bytes(occurrences);
}

/* Whether every term of `terms` is a str, with a list of occurrences or (counted) a
 * frequency that pack_uint takes: else the Python adds them (nothing added here). */
static int
all_plain(PyObject *terms, int counted)
{
    Py_ssize_t at = 0;
    PyObject *term, *value;
    while (PyDict_Next(terms, &at, &term, &value)) {
        if (!PyUnicode_CheckExact(term) || (!counted && !PyList_CheckExact(value)))
            return 0;
        long long frequency;
        if (counted && !(exact_int(value, &frequency) && frequency >= 0
                         && frequency <= 0xFFFFFFFFLL))
            return 0;
    }
    return 1;
}

/* whoosh.system.pack_uint: four bytes, big-endian. */
static PyObject *
packed_uint(uint32_t number)
{
    unsigned char data[4] = {(unsigned char)(number >> 24), (unsigned char)(number >> 16),
                             (unsigned char)(number >> 8), (unsigned char)number};
    return PyBytes_FromStringAndSize((const char *)data, 4);
}

/* A posting's value (a new reference): the varying layout of a term's occurrences (or
 * `value_of`'s where the Python must make it), or pack_uint of its frequency. */
static PyObject *
posting_value(PyObject *value, int counted, Py_ssize_t frequency, PyObject *value_of)
{
    if (counted)
        return packed_uint((uint32_t)frequency);
    PyObject *encoded = varying_bytes(value);
    if (encoded != Py_None)
        return encoded;
    Py_DECREF(encoded);
    return PyObject_CallOneArg(value_of, value);
}

/* boost * frequency * field_boost as the Python multiplies them (a float where both
 * boosts are floats, whatever Python gives for other numbers). */
static PyObject *
posting_weight(PyObject *field_boost, Py_ssize_t frequency, PyObject *boost)
{
    if (PyFloat_CheckExact(field_boost) && PyFloat_CheckExact(boost))
        return PyFloat_FromDouble(PyFloat_AS_DOUBLE(field_boost) * (double)frequency
                                  * PyFloat_AS_DOUBLE(boost));
    PyObject *count = PyLong_FromSsize_t(frequency);
    if (count == NULL)
        return NULL;
    PyObject *weight = PyNumber_Multiply(field_boost, count);
    Py_DECREF(count);
    if (weight == NULL)
        return NULL;
    Py_SETREF(weight, PyNumber_Multiply(weight, boost));
    return weight;
}

/* The bytes a value is counted for, as the Python counts them (its length if it is
 * true), or -1 on an error. */
static Py_ssize_t
value_size(PyObject *value)
{
    if (PyBytes_CheckExact(value))
        return PyBytes_GET_SIZE(value);
    int truth = PyObject_IsTrue(value);
    return truth <= 0 ? truth : PyObject_Length(value);
}

/* Adds one posting of `text` to `held` (text -> flat [document, weight, value, ...]),
 * naming (field, text) in `unordered` where its document comes before the last held.
 * Returns 1 if the term is new, 0 if not, -1 on an error. */
static int
add_posting(PyObject *held, PyObject *unordered, PyObject *fieldname, PyObject *text,
            PyObject *docnum, PyObject *weight, PyObject *value)
{
    PyObject *postings = PyDict_GetItemWithError(held, text);  /* borrowed */
    if (postings == NULL) {
        if (PyErr_Occurred())
            return -1;
        PyObject *fresh = PyList_New(3);
        if (fresh == NULL)
            return -1;
        PyList_SET_ITEM(fresh, 0, Py_NewRef(docnum));
        PyList_SET_ITEM(fresh, 1, Py_NewRef(weight));
        PyList_SET_ITEM(fresh, 2, Py_NewRef(value));
        int failed = PyDict_SetItem(held, text, fresh);
        Py_DECREF(fresh);
        return failed ? -1 : 1;
    }
    if (!PyList_CheckExact(postings) || PyList_GET_SIZE(postings) < 3) {
        PyErr_SetString(PyExc_TypeError, "a held term's postings are not a list of them");
        return -1;
    }
    Py_INCREF(postings);  /* comparing could run code that drops it from the dict */
    PyObject *last = PyList_GET_ITEM(postings, PyList_GET_SIZE(postings) - 3);
    int before = PyObject_RichCompareBool(docnum, last, Py_LT);
    int failed = before < 0;
    if (!failed && before) {
        PyObject *key = PyTuple_Pack(2, fieldname, text);
        failed = key == NULL || PySet_Add(unordered, key) < 0;
        Py_XDECREF(key);
    }
    failed = failed || PyList_Append(postings, docnum) < 0
        || PyList_Append(postings, weight) < 0 || PyList_Append(postings, value) < 0;
    Py_DECREF(postings);
    return failed ? -1 : 0;
}

PyDoc_STRVAR(add_terms_doc,
"add_terms(held, unordered, fieldname, docnum, terms, field_boost, value_of, counted,\n"
"          boost, last_value, term_bytes, posting_bytes)\n--\n\n"
"TermPool.add_field's loop over a field's terms of a document: each term (a str) of\n"
"`terms` with its frequency (`counted`: the value, else the number of occurrences) is\n"
"added to `held` as a posting of document `docnum`, weight field_boost * frequency *\n"
"boost, value pack_uint of the frequency (`counted`) or the varying layout of the\n"
"occurrences (`value_of` of them where the Python must make it). Returns (the sum of the\n"
"frequencies, the last value or `last_value`, the bytes counted), or None, having added\n"
"nothing, where a term is not a str, its occurrences not a list or (counted) its\n"
"frequency not an int pack_uint takes.");

static PyObject *
add_terms(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 12) {
        PyErr_Format(PyExc_TypeError, "add_terms takes 12 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *held = args[0], *unordered = args[1], *fieldname = args[2], *docnum = args[3];
    PyObject *terms = args[4], *field_boost = args[5], *value_of = args[6];
    PyObject *boost = args[8], *last_value = args[9];
    int counted = PyObject_IsTrue(args[7]);
    Py_ssize_t term_bytes = PyLong_AsSsize_t(args[10]);
    Py_ssize_t posting_bytes = PyLong_AsSsize_t(args[11]);
    if (counted < 0 || (term_bytes == -1 && PyErr_Occurred())
        || (posting_bytes == -1 && PyErr_Occurred()))
        return NULL;
    if (!PyDict_CheckExact(held) || !PyDict_CheckExact(terms) || !PySet_Check(unordered)) {
        PyErr_SetString(PyExc_TypeError, "add_terms takes dicts of terms and a set");
        return NULL;
    }
    if (!all_plain(terms, counted))
        Py_RETURN_NONE;
    /* Each term and value is held while its posting is made (value_of is Python code);
     * PyDict_Next checks its bounds, so even a dict changed meanwhile is read safely.
     * The sums cannot overflow: a frequency is below 2**32 (counted) or the length of a
     * list in memory, and a dict holds far fewer than 2**31 terms. */
    Py_ssize_t at = 0, length = 0, size = 0;
    PyObject *term, *value;
    Py_INCREF(last_value);
    while (PyDict_Next(terms, &at, &term, &value)) {
        Py_INCREF(term);
        Py_INCREF(value);
        /* (in the Python's order: the term encoded, then its frequency) */
        PyObject *text = PyUnicode_AsUTF8String(term);
        Py_ssize_t frequency = text == NULL ? -1
            : counted ? PyLong_AsSsize_t(value) : PyObject_Size(value);
        PyObject *weight = frequency < 0 ? NULL : posting_weight(field_boost, frequency, boost);
        PyObject *encoded = weight == NULL ? NULL
            : posting_value(value, counted, frequency, value_of);
        int added = encoded == NULL ? -1
            : add_posting(held, unordered, fieldname, text, docnum, weight, encoded);
        Py_ssize_t encoded_size = added < 0 ? -1 : value_size(encoded);
        if (encoded_size < 0) {
            added = -1;
        } else {
            length += frequency;
            size += posting_bytes + encoded_size
                + (added ? term_bytes + PyBytes_GET_SIZE(text) : 0);
            Py_SETREF(last_value, Py_NewRef(encoded));
        }
        Py_DECREF(term);
        Py_DECREF(value);
        Py_XDECREF(text);
        Py_XDECREF(weight);
        Py_XDECREF(encoded);
        if (added < 0) {
            Py_DECREF(last_value);
            return NULL;
        }
    }
    PyObject *result = Py_BuildValue("(nOn)", length, last_value, size);
    Py_DECREF(last_value);
    return result;
}

static PyMethodDef methods[] = {
    {"encode_varying", encode_varying, METH_O, encode_varying_doc},
    {"add_terms", (PyCFunction)(void (*)(void))add_terms, METH_FASTCALL, add_terms_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "searchidx.engine._c_postings",
    "The postings of a document's field, made and added to a term pool in one loop.",
    0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__c_postings(void)
{
    return PyModuleDef_Init(&module);
}
