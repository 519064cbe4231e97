/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz_util.h - what every libFuzzer harness in tests/fuzz/ shares: a
 * NUL-terminated copy of the input, and the checks that turn a property
 * of the project into a crash libFuzzer records.
 *
 * A property violation calls fz_fail(), which prints what was wrong and
 * aborts: libFuzzer saves the input as crash-<sha1> like any other crash.
 */
#ifndef PW_FUZZ_UTIL_H
#define PW_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static inline void fz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static inline void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz property violated: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* The input as a C string (libFuzzer's buffer is not terminated). The
 * caller frees it. Embedded NULs stay: a C-string API sees a prefix. */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error message that will reach a log: one line of printable ASCII,
 * terminated inside its buffer. Untrusted bytes must have been escaped. */
static inline void fz_check_msg(const char *what, const char *msg, size_t cap)
{
	size_t n = strnlen(msg, cap);

	if (n == cap)
		fz_fail("%s: message not terminated in its %zu bytes", what,
			cap);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c > 0x7e)
			fz_fail("%s: byte 0x%02x at %zu of message \"%s\"",
				what, c, i, msg);
	}
}

/* Harnesses run millions of inputs: the project's log keeps only errors
 * (PW_FUZZ_VERBOSE=1 shows everything). The runner also closes the
 * target's stderr (-close_fd_mask=2); sanitizer reports still get out. */
static inline void fz_quiet(void)
{
	pw_log_init("fuzz",
		    getenv("PW_FUZZ_VERBOSE") ? PW_LOG_DEBUG : PW_LOG_ERR,
		    false);
}

#endif /* PW_FUZZ_UTIL_H */
