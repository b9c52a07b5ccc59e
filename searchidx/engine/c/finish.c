/* searchidx.engine._c_finish: the hottest loops of a worker's finish, in C: the term info
 * bytes of terms kept inline and a block of the terms table (terms.py), a postings
 * block's arrays and joined values (codec.py) and its weights as counts (whoosh_adapter).
 *
 * Each function returns exactly what the Python function it is named after returns (the
 * same bytes, None or exception). Inputs of kinds the finish never gives (types other
 * than int, float, bytes, None, list, tuple and array("I"); integers beyond 64 bits) are
 * handed to that Python function, the reference, which the binding gives each function
 * first. The GIL is held throughout; there is no state between calls. */

#include "common.h"
#include <math.h>
#include <string.h>

#define MAX_CODES 255              /* a term info's codes' length is one byte */
#define EXACT_FLOAT32 16777216.0   /* 2**24: whole numbers below are exact 32-bit floats */
#define LARGEST_ID (1LL << 40)     /* ids beyond go to Python (no overflow in steps) */

/* terms.py's flags */
#define INLINED 0x01
#define FLOAT_WEIGHTS 0x02
#define FLOAT_POSTING_WEIGHTS 0x04
#define NO_VALUES 0x08

/* A term info's codes as they are made: the UTF-8 bytes of the characters of its
 * numbers. ``fits`` is cleared once a number is out of range or the codes pass
 * MAX_CODES bytes (the Python returns None for both); ``length`` never passes
 * MAX_CODES + 4 (a code is at most four bytes and none is added past MAX_CODES). */
typedef struct {
    unsigned char bytes[MAX_CODES + 4];
    Py_ssize_t length;
    int fits;
} Codes;

static void
add_code(Codes *codes, long long number)
{
    if (!codes->fits)
        return;
    if (number < 0 || number > LARGEST_CODE || codes->length > MAX_CODES) {
        codes->fits = 0;
        return;
    }
    codes->length += utf8_code(codes->bytes + codes->length, (uint32_t)number);
}

/* A new term info of ``tail_size`` bytes after its codes: its flags, the codes' length,
 * the codes; ``*tail`` is where the caller writes the rest. None where the codes do not
 * fit (then ``*tail`` is NULL). */
static PyObject *
new_info(int flags, const Codes *codes, Py_ssize_t tail_size, char **tail)
{
    PyObject *info;
    char *out;

    *tail = NULL;
    if (!codes->fits || codes->length > MAX_CODES)
        Py_RETURN_NONE;
    info = PyBytes_FromStringAndSize(NULL, 2 + codes->length + tail_size);
    if (info == NULL)
        return NULL;
    out = PyBytes_AS_STRING(info);
    out[0] = (char)flags;
    out[1] = (char)codes->length;
    memcpy(out + 2, codes->bytes, (size_t)codes->length);
    *tail = out + 2 + codes->length;
    return info;
}

/* A new term info of these codes followed by ``size`` bytes copied from ``tail``. */
static PyObject *
info_bytes(int flags, const Codes *codes, const char *tail, Py_ssize_t size)
{
    char *out;
    PyObject *info = new_info(flags, codes, size, &out);

    if (out != NULL && size)
        memcpy(out, tail, (size_t)size);
    return info;
}

/* Each function is given first (bound by its binding with partial) the Python function
 * it stands in for, the reference, which it calls for an input it hands over, then that
 * function's arguments: the reference in ``*python``, ``*args`` and ``*nargs`` moved past
 * it. 0 with a TypeError where they are not ``expected`` arguments after it. */
static int
split_arguments(const char *name, PyObject *const **args, Py_ssize_t *nargs,
                Py_ssize_t expected, PyObject **python)
{
    if (*nargs != expected + 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes the Python function and exactly %zd "
                     "arguments (%zd given in all)", name, expected, *nargs);
        return 0;
    }
    *python = (*args)[0];
    *args += 1;
    *nargs -= 1;
    return 1;
}

/* What the Python function (the reference) returns for these arguments. */
static PyObject *
python_result(PyObject *python, PyObject *const *args, Py_ssize_t nargs)
{
    return PyObject_Vectorcall(python, args, (size_t)nargs, NULL);
}

/* little-endian 32-bit and 64-bit floats, as struct's "<f" and "<d" */
static int
pack_float(double number, char *out, int size)
{
#if PY_VERSION_HEX >= 0x030B0000
    return size == 4 ? PyFloat_Pack4(number, out, 1) : PyFloat_Pack8(number, out, 1);
#else
    return size == 4 ? _PyFloat_Pack4(number, (unsigned char *)out, 1)
                     : _PyFloat_Pack8(number, (unsigned char *)out, 1);
#endif
}

static PyObject *
packed_info(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Codes codes = {.length = 0, .fits = 1};
    PyObject *python, *numbers, *tail, **items;
    Py_ssize_t count, at;
    long long flags, number;
    int small;

    (void)module;
    if (!split_arguments("packed_info", &args, &nargs, 3, &python))
        return NULL;
    numbers = args[1];
    tail = args[2];
    if (!PyLong_CheckExact(args[0]) || !PyBytes_CheckExact(tail)
            || !(PyList_CheckExact(numbers) || PyTuple_CheckExact(numbers))
            || PySequence_Fast_GET_SIZE(numbers) == 0)
        return python_result(python, args, nargs);
    small = exact_int(args[0], &flags);
    if (!small || flags < 0 || flags > 255)
        return python_result(python, args, nargs);
    count = PySequence_Fast_GET_SIZE(numbers);
    items = PySequence_Fast_ITEMS(numbers);
    for (at = 0; at < count; at++) {
        small = exact_int(items[at], &number);
        if (!small)  /* (any number out of range makes None: the Python checks all) */
            return python_result(python, args, nargs);
        add_code(&codes, number);
    }
    return info_bytes((int)flags, &codes, PyBytes_AS_STRING(tail), PyBytes_GET_SIZE(tail));
}

static PyObject *
one_posting_bytes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Codes codes = {.length = 0, .fits = 1};
    PyObject *python, *weight, *value;
    long long docnum, length_code, whole = 0;
    double number = 0;
    float kept = 0;
    char floats[16], *out;
    int flags, small, by_floats;
    Py_ssize_t floats_size;
    PyObject *info;

    (void)module;
    if (!split_arguments("one_posting_bytes", &args, &nargs, 4, &python))
        return NULL;
    weight = args[1];
    value = args[2];
    if (value != Py_None && !PyBytes_CheckExact(value))
        return python_result(python, args, nargs);
    if (value != Py_None && PyBytes_GET_SIZE(value) == 0)
        Py_RETURN_NONE;
    small = exact_int(args[0], &docnum);
    if (small > 0)
        small = exact_int(args[3], &length_code);
    if (!small)
        return python_result(python, args, nargs);
    if (PyLong_CheckExact(weight)) {
        small = exact_int(weight, &whole);
        if (!small || whole < 0 || whole >= (long long)EXACT_FLOAT32)
            Py_RETURN_NONE;  /* (an int beyond 64 bits is out of range as well) */
        by_floats = 0;
    }
    else if (PyFloat_CheckExact(weight)) {
        number = PyFloat_AS_DOUBLE(weight);
        kept = (float)number;
        if (number >= 0 && number < EXACT_FLOAT32 && floor(number) == number) {
            whole = (long long)number;
            by_floats = 0;
        }
        else if (number > 0 && number < EXACT_FLOAT32 && floorf(kept) != kept) {
            by_floats = 1;
        }
        else
            Py_RETURN_NONE;
    }
    else
        return python_result(python, args, nargs);
    /* the info's numbers (df, lengths, first id and span, weights) then the inlined
     * posting's (count, step, weight, value length or count of values) */
    add_code(&codes, 1);
    add_code(&codes, length_code);
    add_code(&codes, length_code);
    add_code(&codes, docnum);
    add_code(&codes, 0);
    if (by_floats) {
        /* the term's weight as whoosh3 keeps it and its greatest weight, then the
         * posting's weight (the kept one) as a double */
        flags = INLINED | FLOAT_WEIGHTS | FLOAT_POSTING_WEIGHTS;
        add_code(&codes, 1);
        add_code(&codes, 0);
        floats_size = 16;
        if (pack_float(kept, floats, 4) < 0 || pack_float(number, floats + 4, 4) < 0
                || pack_float(kept, floats + 8, 8) < 0)
            return NULL;
    }
    else {
        flags = INLINED;
        floats_size = 0;
        add_code(&codes, whole);
        add_code(&codes, whole);
        add_code(&codes, 1);
        add_code(&codes, 0);
        add_code(&codes, whole);
    }
    if (value == Py_None) {
        flags |= NO_VALUES;
        add_code(&codes, 1);
        return info_bytes(flags, &codes, floats, floats_size);
    }
    add_code(&codes, PyBytes_GET_SIZE(value));
    info = new_info(flags, &codes, floats_size + PyBytes_GET_SIZE(value), &out);
    if (out != NULL) {
        memcpy(out, floats, (size_t)floats_size);
        memcpy(out + floats_size, PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
    }
    return info;
}

/* Each weight of ``items`` as a count in ``counts``: 1; 0 where one is not a whole
 * number of zero or more, or they sum to 2**24 or more (the Python returns None); -2
 * where the Python must answer (a weight neither int nor float, or an int beyond 64
 * bits). */
static int
counted_weights(PyObject **items, Py_ssize_t count, long long *counts, long long *total,
                long long *largest)
{
    Py_ssize_t at;
    double number = 0;
    int counted = 1;

    *total = *largest = 0;
    for (at = 0; at < count; at++) {
        if (PyFloat_CheckExact(items[at])) {
            number = PyFloat_AS_DOUBLE(items[at]);
            if (!isfinite(number) || floor(number) != number)
                return 0;  /* (is_integer is checked first, on every weight) */
            if (number < 0 || number >= EXACT_FLOAT32)
                counted = 0;
            else
                counts[at] = (long long)number;
        }
        else {
            if (!exact_int(items[at], &counts[at]))
                return -2;
            if (counts[at] < 0 || counts[at] >= (long long)EXACT_FLOAT32)
                counted = 0;
        }
        if (counted) {  /* each count below 2**24: the total does not overflow */
            *total += counts[at];
            if (counts[at] > *largest)
                *largest = counts[at];
        }
    }
    return counted && *total < (long long)EXACT_FLOAT32;
}

/* The lengths of ``values``, each None or bytes, in ``lengths`` and their total in
 * ``*size``: NO_VALUES if all are None, 0 if all are bytes, -1 if mixed; -2 where the
 * Python must answer (another type). */
static int
values_kind(PyObject **values, Py_ssize_t count, Py_ssize_t *lengths, Py_ssize_t *size)
{
    Py_ssize_t at, nones = 0;

    *size = 0;
    for (at = 0; at < count; at++) {
        if (values[at] == Py_None)
            nones++;
        else if (PyBytes_CheckExact(values[at])) {
            lengths[at] = PyBytes_GET_SIZE(values[at]);
            *size += lengths[at];
        }
        else
            return -2;
    }
    return nones == count ? NO_VALUES : nones ? -1 : 0;
}

/* The most postings counted here; a term of more is handed to the Python (its codes
 * would not fit 255 bytes anyway: two or three codes a posting). */
#define MOST_COUNTED 128

static PyObject *
counted_postings_bytes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Codes codes = {.length = 0, .fits = 1};
    PyObject *python, *ids, *weights, *values, *length_codes, *info;
    PyObject **id_items, **value_items;
    long long docs[MOST_COUNTED], counts[MOST_COUNTED], total, largest;
    Py_ssize_t lengths[MOST_COUNTED], count, at, size;
    const unsigned char *code_bytes;
    char *out;
    int smallest_code = 256, longest_code = 0, kind, small;

    (void)module;
    if (!split_arguments("counted_postings_bytes", &args, &nargs, 4, &python))
        return NULL;
    ids = args[0];
    weights = args[1];
    values = args[2];
    length_codes = args[3];
    if (!(PyList_CheckExact(ids) || PyTuple_CheckExact(ids))
            || !(PyList_CheckExact(weights) || PyTuple_CheckExact(weights))
            || !(PyList_CheckExact(values) || PyTuple_CheckExact(values))
            || !PyBytes_CheckExact(length_codes))
        return python_result(python, args, nargs);
    count = PySequence_Fast_GET_SIZE(ids);
    if (count == 0 || count > MOST_COUNTED || PySequence_Fast_GET_SIZE(weights) != count)
        return python_result(python, args, nargs);
    kind = counted_weights(PySequence_Fast_ITEMS(weights), count, counts, &total, &largest);
    if (kind == -2)
        return python_result(python, args, nargs);
    if (kind == 0 || PySequence_Fast_GET_SIZE(values) != count)
        Py_RETURN_NONE;
    id_items = PySequence_Fast_ITEMS(ids);
    for (at = 0; at < count; at++) {
        small = exact_int(id_items[at], &docs[at]);
        if (!small || docs[at] > LARGEST_ID || docs[at] < -LARGEST_ID)
            return python_result(python, args, nargs);
    }
    value_items = PySequence_Fast_ITEMS(values);
    kind = values_kind(value_items, count, lengths, &size);
    if (kind == -2)
        return python_result(python, args, nargs);
    if (kind == -1)
        Py_RETURN_NONE;
    code_bytes = (const unsigned char *)PyBytes_AS_STRING(length_codes);
    for (at = 0; at < PyBytes_GET_SIZE(length_codes); at++) {
        if (code_bytes[at] == 0)  /* 0: no length */
            continue;
        if (code_bytes[at] < smallest_code)
            smallest_code = code_bytes[at];
        if (code_bytes[at] > longest_code)
            longest_code = code_bytes[at];
    }
    /* the info's numbers (df, lengths, first id and span, weights), then the postings'
     * (count, document steps, weights, value lengths or count of values) */
    add_code(&codes, count);
    add_code(&codes, longest_code ? smallest_code : 0);
    add_code(&codes, longest_code);
    add_code(&codes, docs[0]);
    add_code(&codes, docs[count - 1] - docs[0]);
    add_code(&codes, total);
    add_code(&codes, largest);
    add_code(&codes, count);
    for (at = 0; at < count; at++)
        add_code(&codes, docs[at] - (at ? docs[at - 1] : docs[0]));
    for (at = 0; at < count; at++)
        add_code(&codes, counts[at]);
    if (kind == NO_VALUES) {
        add_code(&codes, count);
        return info_bytes(INLINED | NO_VALUES, &codes, NULL, 0);
    }
    for (at = 0; at < count; at++)
        add_code(&codes, lengths[at]);
    info = new_info(INLINED, &codes, size, &out);
    for (at = 0; out != NULL && at < count; at++) {
        memcpy(out, PyBytes_AS_STRING(value_items[at]), (size_t)lengths[at]);
        out += lengths[at];
    }
    return info;
}

/* --- a block's arrays (codec.py) ---------------------------------------------------- */

#define LARGEST_EXACT_DOUBLE (1LL << 53)  /* ints beyond go to Python (float() rounds) */

/* The type code and size of the narrowest unsigned array that holds numbers up to
 * ``largest`` (codec.narrowest_code; "I" is four bytes, as the codec asserts). */
static char
narrowest(unsigned long long largest, int *size)
{
    if (largest < (1ULL << 8)) {
        *size = 1;
        return 'B';
    }
    if (largest < (1ULL << 16)) {
        *size = 2;
        return 'H';
    }
    if (largest < (1ULL << 32)) {
        *size = 4;
        return 'I';
    }
    *size = 8;
    return 'Q';
}

static char *
put_little_endian(char *out, unsigned long long number, int size)
{
    int at;

    for (at = 0; at < size; at++)
        out[at] = (char)((number >> (8 * at)) & 0xFF);
    return out + size;
}

/* A weight as a double in ``*number``: 1, or 0 where the Python must answer (no float
 * or int, or an int a double does not hold exactly). */
static int
weight_value(PyObject *weight, double *number)
{
    long long whole;

    if (PyFloat_CheckExact(weight)) {
        *number = PyFloat_AS_DOUBLE(weight);
        return 1;
    }
    if (!exact_int(weight, &whole)
            || whole > LARGEST_EXACT_DOUBLE || whole < -LARGEST_EXACT_DOUBLE)
        return 0;
    *number = (double)whole;
    return 1;
}

/* codec._arrays_head's weights: as doubles in ``numbers`` (one ``count`` times where
 * whoosh3 gives one weight for all, None for 1.0); 1, or 0 where the Python must
 * answer. */
static int
weight_numbers(PyObject *weights, Py_ssize_t count, double *numbers)
{
    Py_ssize_t at;
    double one = 1.0;

    if (weights == Py_None || PyFloat_CheckExact(weights)) {
        if (weights != Py_None)
            one = PyFloat_AS_DOUBLE(weights);
        for (at = 0; at < count; at++)
            numbers[at] = one;
        return 1;
    }
    if (!(PyList_CheckExact(weights) || PyTuple_CheckExact(weights))
            || PySequence_Fast_GET_SIZE(weights) != count)
        return 0;
    for (at = 0; at < count; at++)
        if (!weight_value(PySequence_Fast_ITEMS(weights)[at], &numbers[at]))
            return 0;
    return 1;
}

/* The head's bytes of these ids (ascending) and weights (as doubles); NULL with
 * ``*handed`` set where the Python must answer (it raises: an id too large for the last
 * one's type, or a whole weight of 2**64 or more), NULL alone on an error. */
static PyObject *
arrays_bytes(long long *ids, double *weights, Py_ssize_t count, int *handed)
{
    PyObject *head;
    Py_ssize_t at;
    double largest = 0;
    int whole = 1, id_size, weight_size;
    char id_code, weight_code, *out;

    *handed = 0;
    for (at = 0; at < count; at++) {
        if (!(isfinite(weights[at]) && weights[at] >= 0
              && floor(weights[at]) == weights[at]))
            whole = 0;
        else if (weights[at] > largest)
            largest = weights[at];
    }
    if (whole && largest >= 18446744073709551616.0) {  /* 2**64: narrowest_code fails */
        *handed = 1;
        return NULL;
    }
    id_code = narrowest((unsigned long long)ids[count - 1], &id_size);
    weight_code = whole ? narrowest((unsigned long long)largest, &weight_size) : 'd';
    if (!whole)
        weight_size = 8;
    for (at = 0; at < count; at++) {
        if (ids[at] < 0 || (id_size < 8 && ids[at] >= (1LL << (8 * id_size)))) {
            *handed = 1;  /* array() raises OverflowError */
            return NULL;
        }
    }
    head = PyBytes_FromStringAndSize(NULL, 3 + count * (id_size + weight_size));
    if (head == NULL)
        return NULL;
    out = PyBytes_AS_STRING(head);
    out[0] = 'a';
    out[1] = id_code;
    out[2] = weight_code;
    out += 3;
    for (at = 0; at < count; at++)
        out = put_little_endian(out, (unsigned long long)ids[at], id_size);
    for (at = 0; at < count; at++) {
        if (whole)
            out = put_little_endian(out, (unsigned long long)weights[at], weight_size);
        else {
            if (pack_float(weights[at], out, 8) < 0) {
                Py_DECREF(head);
                return NULL;
            }
            out += 8;
        }
    }
    return head;
}

/* How many ids a block has: of a list, a tuple or a contiguous array of 32-bit unsigned
 * numbers (whoosh3 keeps a block's ids in an array("I")); 0 where the Python must answer
 * (none, or another kind). */
static Py_ssize_t
id_count(PyObject *ids)
{
    Py_buffer view;
    Py_ssize_t count = 0;

    if (PyList_CheckExact(ids) || PyTuple_CheckExact(ids))
        return PySequence_Fast_GET_SIZE(ids);
    if (!PyObject_CheckBuffer(ids) || PyBytes_Check(ids) || PyByteArray_Check(ids))
        return 0;
    if (PyObject_GetBuffer(ids, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();  /* (not contiguous, say: the Python reads it) */
        return 0;
    }
    if (view.ndim == 1 && view.itemsize == 4 && view.format != NULL
            && strcmp(view.format, "I") == 0)
        count = view.shape[0];
    PyBuffer_Release(&view);
    return count;
}

/* The ``count`` ids (see id_count) in ``numbers``: 1, 0 where the Python must answer
 * (an id no exact int or beyond 64 bits, or the array changed). */
static int
id_numbers(PyObject *ids, Py_ssize_t count, long long *numbers)
{
    Py_buffer view;
    Py_ssize_t at;
    unsigned int number;

    if (PyList_CheckExact(ids) || PyTuple_CheckExact(ids)) {
        for (at = 0; at < count; at++)
            if (!exact_int(PySequence_Fast_ITEMS(ids)[at], &numbers[at]))
                return 0;
        return 1;
    }
    if (PyObject_GetBuffer(ids, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();  /* (as in id_count) */
        return 0;
    }
    if (view.len != count * 4) {  /* (changed since id_count) */
        PyBuffer_Release(&view);
        return 0;
    }
    for (at = 0; at < count; at++) {
        memcpy(&number, (const char *)view.buf + 4 * at, 4);  /* (maybe not aligned) */
        numbers[at] = number;
    }
    PyBuffer_Release(&view);
    return 1;
}

static PyObject *
arrays_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *python, *ids, *head = NULL;
    Py_ssize_t count;
    long long *numbers = NULL;
    double *weights = NULL;
    int handed = 1;  /* (where the ids or weights are not read here) */

    (void)module;
    if (!split_arguments("arrays_head", &args, &nargs, 2, &python))
        return NULL;
    ids = args[0];
    count = id_count(ids);
    if (count == 0)
        return python_result(python, args, nargs);
    numbers = PyMem_New(long long, count);
    weights = PyMem_New(double, count);
    if (numbers == NULL || weights == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (id_numbers(ids, count, numbers) && weight_numbers(args[1], count, weights))
        head = arrays_bytes(numbers, weights, count, &handed);
done:
    PyMem_Free(numbers);
    PyMem_Free(weights);
    if (head == NULL && handed && !PyErr_Occurred())
        return python_result(python, args, nargs);
    return head;
}

static PyObject *
joined_values(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *python, *values, **items, *joined;
    Py_ssize_t count, at, size = 0;
    int end_size;
    char code, *out;

    (void)module;
    if (!split_arguments("joined_values", &args, &nargs, 1, &python))
        return NULL;
    values = args[0];
    if (!(PyList_CheckExact(values) || PyTuple_CheckExact(values))
            || PySequence_Fast_GET_SIZE(values) == 0
            || PySequence_Fast_GET_SIZE(values) > 0xFFFFFFFFLL)
        return python_result(python, args, nargs);
    count = PySequence_Fast_GET_SIZE(values);
    items = PySequence_Fast_ITEMS(values);
    for (at = 0; at < count; at++) {
        if (!PyBytes_CheckExact(items[at]))
            return python_result(python, args, nargs);
        size += PyBytes_GET_SIZE(items[at]);
    }
    /* a flag, the type code of the ends, the count (four bytes), the ends, the values */
    code = narrowest((unsigned long long)size, &end_size);
    joined = PyBytes_FromStringAndSize(NULL, 6 + count * end_size + size);
    if (joined == NULL)
        return NULL;
    out = PyBytes_AS_STRING(joined);
    out[0] = 'J';
    out[1] = code;
    out = put_little_endian(out + 2, (unsigned long long)count, 4);
    size = 0;
    for (at = 0; at < count; at++) {
        size += PyBytes_GET_SIZE(items[at]);
        out = put_little_endian(out, (unsigned long long)size, end_size);
    }
    for (at = 0; at < count; at++) {
        memcpy(out, PyBytes_AS_STRING(items[at]), (size_t)PyBytes_GET_SIZE(items[at]));
        out += PyBytes_GET_SIZE(items[at]);
    }
    return joined;
}

static PyObject *
counts_as_integers(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *python, *weights, **items, *counts, *count;
    Py_ssize_t size, at;
    long long ignored;
    double number;

    (void)module;
    if (!split_arguments("counts_as_integers", &args, &nargs, 1, &python))
        return NULL;
    weights = args[0];
    if (!(PyList_CheckExact(weights) || PyTuple_CheckExact(weights)))
        return python_result(python, args, nargs);
    size = PySequence_Fast_GET_SIZE(weights);
    items = PySequence_Fast_ITEMS(weights);
    for (at = 0; at < size; at++) {
        if (PyFloat_CheckExact(items[at])) {
            number = PyFloat_AS_DOUBLE(items[at]);
            if (!isfinite(number) || floor(number) != number) {
                Py_INCREF(weights);  /* not all whole: as they are */
                return weights;
            }
        }
        else if (!exact_int(items[at], &ignored))  /* (float() of one beyond a double raises) */
            return python_result(python, args, nargs);
    }
    counts = PyTuple_New(size);
    if (counts == NULL)
        return NULL;
    for (at = 0; at < size; at++) {
        if (PyLong_CheckExact(items[at])) {
            count = items[at];
            Py_INCREF(count);
        }
        else {
            count = PyLong_FromDouble(PyFloat_AS_DOUBLE(items[at]));
            if (count == NULL) {
                Py_DECREF(counts);
                return NULL;
            }
        }
        PyTuple_SET_ITEM(counts, at, count);
    }
    return counts;
}

/* --- a block of the terms table (terms.py) ----------------------------------------- */

#define MOST_BLOCK_KEYS 255  /* a block's count of keys is one byte */
#define LONG_CODES 255       /* terms._LONG_CODES */
#define SEPARATED 0x01       /* terms._SEPARATED: the keys' rests joined with 0xFF */

/* Whether ``items`` is a list or tuple of 1 to MOST_BLOCK_KEYS exact bytes. */
static int
block_items(PyObject *items)
{
    Py_ssize_t at, count;

    if (!(PyList_CheckExact(items) || PyTuple_CheckExact(items)))
        return 0;
    count = PySequence_Fast_GET_SIZE(items);
    if (count == 0 || count > MOST_BLOCK_KEYS)
        return 0;
    for (at = 0; at < count; at++)
        if (!PyBytes_CheckExact(PySequence_Fast_ITEMS(items)[at]))
            return 0;
    return 1;
}

/* How many leading bytes the keys share (terms._shared_length of the first and last), at
 * most 255. */
static Py_ssize_t
shared_length(PyObject *first, PyObject *last)
{
    Py_ssize_t at, most = Py_MIN(PyBytes_GET_SIZE(first), PyBytes_GET_SIZE(last));
    const char *one = PyBytes_AS_STRING(first), *other = PyBytes_AS_STRING(last);

    most = Py_MIN(most, 255);
    for (at = 0; at < most && one[at] == other[at]; at++)
        ;
    return at;
}

/* A key's rest after the ``shared`` bytes (as key[shared:]): its start and length. */
static const char *
key_rest(PyObject *key, Py_ssize_t shared, Py_ssize_t *length)
{
    Py_ssize_t start = Py_MIN(shared, PyBytes_GET_SIZE(key));

    *length = PyBytes_GET_SIZE(key) - start;
    return PyBytes_AS_STRING(key) + start;
}

static PyObject *
block_bytes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* two codes a key at most, of at most four bytes each */
    unsigned char codes[2 * MOST_BLOCK_KEYS * 4];
    PyObject *python, **keys, **infos, *block;
    Py_ssize_t count, at, shared, rest_size, rests_size = 0, infos_size = 0, joined_size;
    Py_ssize_t codes_size = 0, size;
    const char *rest;
    char *out;
    int flags = SEPARATED;

    (void)module;
    if (!split_arguments("block_bytes", &args, &nargs, 2, &python))
        return NULL;
    if (!block_items(args[0]) || !block_items(args[1])
            || PySequence_Fast_GET_SIZE(args[0]) != PySequence_Fast_GET_SIZE(args[1]))
        return python_result(python, args, nargs);
    keys = PySequence_Fast_ITEMS(args[0]);
    infos = PySequence_Fast_ITEMS(args[1]);
    count = PySequence_Fast_GET_SIZE(args[0]);
    shared = shared_length(keys[0], keys[count - 1]);
    for (at = 0; at < count; at++) {
        rest = key_rest(keys[at], shared, &rest_size);
        if (memchr(rest, 0xFF, (size_t)rest_size) != NULL)
            flags = 0;  /* not UTF-8 text (a date's terms): the rests' lengths are codes */
        rests_size += rest_size;
        infos_size += PyBytes_GET_SIZE(infos[at]);
        if (PyBytes_GET_SIZE(infos[at]) > LARGEST_CODE || rest_size > LARGEST_CODE)
            return python_result(python, args, nargs);
        codes_size += utf8_code(codes + codes_size, PyBytes_GET_SIZE(infos[at]));
    }
    for (at = 0; !flags && at < count; at++) {
        key_rest(keys[at], shared, &rest_size);
        codes_size += utf8_code(codes + codes_size, rest_size);
    }
    joined_size = rests_size + (flags ? count - 1 : 0);
    if (joined_size > 0xFFFFFFFFLL)  /* four bytes in the head */
        return python_result(python, args, nargs);
    /* the head (count, flags, shared, joined size, codes size or LONG_CODES and the size
     * after it), the codes, the shared prefix, the rests, the term infos */
    size = 8 + (codes_size >= LONG_CODES ? 4 : 0) + codes_size + shared + joined_size
           + infos_size;
    block = PyBytes_FromStringAndSize(NULL, size);
    if (block == NULL)
        return NULL;
    out = PyBytes_AS_STRING(block);
    out[0] = (char)count;
    out[1] = (char)flags;
    out[2] = (char)shared;
    out = put_little_endian(out + 3, (unsigned long long)joined_size, 4);
    *out++ = (char)Py_MIN(codes_size, LONG_CODES);
    if (codes_size >= LONG_CODES)
        out = put_little_endian(out, (unsigned long long)codes_size, 4);
    memcpy(out, codes, (size_t)codes_size);
    out += codes_size;
    memcpy(out, PyBytes_AS_STRING(keys[0]), (size_t)shared);
    out += shared;
    for (at = 0; at < count; at++) {
        if (flags && at)
            *out++ = (char)0xFF;
        rest = key_rest(keys[at], shared, &rest_size);
        memcpy(out, rest, (size_t)rest_size);
        out += rest_size;
    }
    for (at = 0; at < count; at++) {
        memcpy(out, PyBytes_AS_STRING(infos[at]), (size_t)PyBytes_GET_SIZE(infos[at]));
        out += PyBytes_GET_SIZE(infos[at]);
    }
    return block;
}

static PyMethodDef methods[] = {
    {"packed_info", (PyCFunction)(void (*)(void))packed_info, METH_FASTCALL,
     "terms._packed_info in C, given it first."},
    {"one_posting_bytes", (PyCFunction)(void (*)(void))one_posting_bytes, METH_FASTCALL,
     "terms._one_posting_bytes in C, given it first."},
    {"counted_postings_bytes", (PyCFunction)(void (*)(void))counted_postings_bytes,
     METH_FASTCALL, "terms._counted_postings_bytes in C, given it first."},
    {"arrays_head", (PyCFunction)(void (*)(void))arrays_head, METH_FASTCALL,
     "codec._arrays_head in C, given it first."},
    {"joined_values", (PyCFunction)(void (*)(void))joined_values, METH_FASTCALL,
     "codec._joined_values in C, given it first."},
    {"counts_as_integers", (PyCFunction)(void (*)(void))counts_as_integers, METH_FASTCALL,
     "whoosh_adapter.counts_as_integers in C, given it first."},
    {"block_bytes", (PyCFunction)(void (*)(void))block_bytes, METH_FASTCALL,
     "terms._block_bytes in C, given it first."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_c_finish",
    "C versions of the term info bytes of a worker's finish (see terms.py).", 0, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__c_finish(void)
{
    return PyModule_Create(&module);
}
