// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * duration.c - "90s", "15m", "2h", "7d", "1h30m" <-> seconds.
 *
 * Durations come from the config file, the control socket and ban lists,
 * so the parser is strict rather than clever: plain decimal groups without
 * signs, spaces, fractions or leading zeros, units s m h d w in strictly
 * descending order with no unit twice ("30m1h" and "1h1h" are rejected as
 * probable typos, not summed), a bare number only on its own (as seconds),
 * every multiplication and addition checked for overflow, and nothing
 * above PW_DURATION_MAX_S. "1.5h" would be a natural thing to type; it is
 * refused with a message pointing at "1h30m" rather than rounded.
 *
 * Formatting is greedy over d h m s, so it is exact and round-trips through
 * the parser. Weeks are accepted on input but never produced: "30d" reads
 * better than "4w2d" in logs, and nft's timeout syntax (which the ban list
 * export reuses this for) has no week unit.
 *
 * Pure functions: no I/O, no allocation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* Input echoed back in a message is cut here; real durations are short. */
#define ECHO_MAX_CHARS 32
/* Longest input considered at all; "3650d" fits many times over. */
#define DURATION_STR_MAX 64

struct unit {
	char name;
	uint64_t secs;
};

/* Largest first: both parsing (order check) and formatting rely on it. */
static const struct unit units[] = {
	{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
};

#define N_UNITS (sizeof(units) / sizeof(units[0]))

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static char printable(char c)
{
	return (c >= 0x20 && c < 0x7f) ? c : '?';
}

/* Printable, bounded copy of untrusted input for an error message. */
static void echo_input(const char *s, char *out, size_t len)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 1 < len; i++) {
		if (i == ECHO_MAX_CHARS) {
			snprintf(out + n, len - n, "...");
			return;
		}
		out[n++] = printable(s[i]);
	}
	out[n] = '\0';
}

static const struct unit *find_unit(char c, size_t *idx)
{
	size_t i;

	for (i = 0; i < N_UNITS; i++) {
		if (units[i].name == c) {
			*idx = i;
			return &units[i];
		}
	}
	return NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int pw_duration_parse(const char *s, uint64_t *out_s, char *err, size_t errlen)
{
	char echo[ECHO_MAX_CHARS + 4];
	size_t pos = 0, next_unit = 0;
	uint64_t total = 0;

	if (out_s)
		*out_s = 0;
	if (!s || !out_s)
		return fail(err, errlen, "no duration given");
	if (s[0] == '\0')
		return fail(err, errlen, "empty duration");
	echo_input(s, echo, sizeof(echo));
	if (strnlen(s, DURATION_STR_MAX + 1) > DURATION_STR_MAX)
		return fail(err, errlen, "duration '%s' is too long", echo);

	while (s[pos]) {
		const struct unit *u;
		size_t start = pos, idx;
		uint64_t v = 0;

		if (!is_digit(s[pos])) {
			if (s[pos] == '-' || s[pos] == '+')
				return fail(err, errlen,
					    "duration '%s' has a sign; "
					    "durations are never negative",
					    echo);
			if (s[pos] == ' ' || s[pos] == '\t')
				return fail(err, errlen,
					    "duration '%s' contains a space",
					    echo);
			if (pos > 0 && s[pos - 1] == 'm' && s[pos] == 's')
				return fail(err, errlen,
					    "milliseconds are not supported "
					    "in '%s'",
					    echo);
			return fail(err, errlen,
				    "unexpected '%c' in duration '%s' (want "
				    "<number><unit>, units s m h d w)",
				    printable(s[pos]), echo);
		}
		/* "007m": plain decimal only, one spelling per value. */
		if (s[pos] == '0' && is_digit(s[pos + 1]))
			return fail(err, errlen,
				    "leading zero in duration '%s'", echo);
		for (; is_digit(s[pos]); pos++) {
			unsigned d = (unsigned)(s[pos] - '0');

			if (v > (UINT64_MAX - d) / 10)
				return fail(err, errlen,
					    "duration '%s' is too large", echo);
			v = v * 10 + d;
		}

		if (s[pos] == '\0') {
			/* A bare number means seconds, but only alone:
			 * is the "30" in "1h30" minutes or seconds? */
			if (start != 0)
				return fail(err, errlen,
					    "number without a unit at the end "
					    "of '%s' (units: s m h d w)",
					    echo);
			u = &units[N_UNITS - 1];
			idx = N_UNITS - 1;
		} else {
			if (s[pos] == '.' || s[pos] == ',')
				return fail(err, errlen,
					    "fractions are not supported in "
					    "'%s'; combine units, e.g. 1h30m",
					    echo);
			u = find_unit(s[pos], &idx);
			if (!u)
				return fail(err, errlen,
					    "unknown unit '%c' in duration "
					    "'%s' (units: s m h d w)",
					    printable(s[pos]), echo);
			pos++;
		}
		if (idx < next_unit)
			return fail(err, errlen,
				    "units in '%s' must each appear once, "
				    "largest first (e.g. 1h30m)",
				    echo);
		next_unit = idx + 1;

		if (v > UINT64_MAX / u->secs)
			return fail(err, errlen, "duration '%s' is too large",
				    echo);
		v *= u->secs;
		if (v > PW_DURATION_MAX_S || total > PW_DURATION_MAX_S - v)
			return fail(err, errlen,
				    "duration '%s' is longer than the maximum "
				    "of %llu days",
				    echo,
				    (unsigned long long)(PW_DURATION_MAX_S /
							 86400));
		total += v;
	}

	*out_s = total;
	return 0;
}

int pw_duration_format(uint64_t secs, char *buf, size_t len)
{
	size_t i, n = 0;

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (secs == 0) {
		if (snprintf(buf, len, "0s") >= (int)len)
			return -ENOSPC;
		return 0;
	}
	/* From days down: weeks are never produced (see the top comment). */
	for (i = 1; i < N_UNITS; i++) {
		uint64_t q = secs / units[i].secs;
		int w;

		if (q == 0)
			continue;
		secs -= q * units[i].secs;
		w = snprintf(buf + n, len - n, "%llu%c", (unsigned long long)q,
			     units[i].name);
		if (w < 0 || (size_t)w >= len - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return 0;
}
