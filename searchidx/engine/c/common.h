/* Helpers shared by the compiled speedups' modules (each compiled from its own .c file,
 * which includes this one): static inline, so each module holds its own copy. */
#ifndef SEARCHIDX_COMMON_H
#define SEARCHIDX_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* The largest character code (sys.maxunicode): UTF-8 writes no larger number. */
#define LARGEST_CODE 0x10FFFF

/* An exact int's value in ``*number``: 1, or 0 where ``object`` is no exact int or its
 * value is beyond 64 bits. Calls no Python code and sets no error (of an exact int,
 * PyLong_AsLongLongAndOverflow only flags an overflow). */
static inline int
exact_int(PyObject *object, long long *number)
{
    int overflow;

    if (!PyLong_CheckExact(object))
        return 0;
    *number = PyLong_AsLongLongAndOverflow(object, &overflow);
    return !overflow;
}

/* How many bytes UTF-8 writes the character of ``code`` (0 to LARGEST_CODE) in. */
static inline Py_ssize_t
utf8_size(uint32_t code)
{
    return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

/* Writes ``code`` (0 to LARGEST_CODE) at ``out`` as UTF-8 writes the character of that
 * code, as "surrogatepass" writes it (a surrogate's three bytes as any other code below
 * 0x10000); the count of bytes written. */
static inline Py_ssize_t
utf8_code(unsigned char *out, uint32_t code)
{
    switch (utf8_size(code)) {
    case 1:
        out[0] = (unsigned char)code;
        return 1;
    case 2:
        out[0] = (unsigned char)(0xC0 | (code >> 6));
        out[1] = (unsigned char)(0x80 | (code & 0x3F));
        return 2;
    case 3:
        out[0] = (unsigned char)(0xE0 | (code >> 12));
        out[1] = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (code & 0x3F));
        return 3;
    default:
        out[0] = (unsigned char)(0xF0 | (code >> 18));
        out[1] = (unsigned char)(0x80 | ((code >> 12) & 0x3F));
        out[2] = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
        out[3] = (unsigned char)(0x80 | (code & 0x3F));
        return 4;
    }
}

#endif
