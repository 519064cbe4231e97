// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_duration.c - unit tests for src/duration.c.
 *
 * Table-driven: accepted spellings with their values, every rejection
 * class with a word the operator's message must contain, the limits on
 * either side of PW_DURATION_MAX_S and of uint64 overflow, and format ->
 * parse round trips over values where greedy unit splitting could slip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define DAY  86400ull
#define WEEK (7 * DAY)

/* --- accepted ------------------------------------------------------------ */

struct valid_row {
	const char *in;
	uint64_t secs;
};

static const struct valid_row valid_rows[] = {
	{"0", 0},
	{"0s", 0},
	{"1", 1},
	{"90", 90},
	{"90s", 90},
	{"15m", 900},
	{"2h", 7200},
	{"7d", 7 * DAY},
	{"1w", WEEK},
	{"1h30m", 5400},
	{"1m30s", 90},
	{"1w2d3h4m5s", WEEK + 2 * DAY + 3 * 3600 + 4 * 60 + 5},
	{"1d1s", DAY + 1},
	{"0h30m", 1800},
	{"90m", 5400}, /* one group may exceed the next unit up */
	{"3650d", PW_DURATION_MAX_S},
	{"521w3d", PW_DURATION_MAX_S},
	{"315360000", PW_DURATION_MAX_S},
	{"315360000s", PW_DURATION_MAX_S},
	{"3649d23h59m59s", PW_DURATION_MAX_S - 1},
};

static void test_parse_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid_rows); i++) {
		const struct valid_row *r = &valid_rows[i];
		char err[128] = "";
		uint64_t v = 12345;
		int ret;

		ret = pw_duration_parse(r->in, &v, err, sizeof(err));
		if (ret != 0 || v != r->secs) {
			print_error("'%s': ret %d v %llu want %llu (%s)\n",
				    r->in, ret, (unsigned long long)v,
				    (unsigned long long)r->secs, err);
			fail();
		}
	}
}

/* --- rejected ------------------------------------------------------------ */

struct invalid_row {
	const char *in;
	const char *msg_has; /* substring of the reason */
};

static const struct invalid_row invalid_rows[] = {
	{"", "empty"},
	{" ", "space"},
	{"1h 30m", "space"},
	{" 1h", "space"},
	{"1h ", "space"},
	{"-1s", "sign"},
	{"+1s", "sign"},
	{"1.5h", "fraction"},
	{"1,5h", "fraction"},
	{"h", "unexpected 'h'"},
	{"1x", "unknown unit 'x'"},
	{"1H", "unknown unit 'H'"},
	{"1hh", "unexpected 'h'"},
	{"30m1h", "largest first"},
	{"1h1h", "largest first"},
	{"1s1s", "largest first"},
	{"1h30", "without a unit"},
	{"5ms", "milliseconds"},
	{"007m", "leading zero"},
	{"00", "leading zero"},
	{"01", "leading zero"},
	{"3650d1s", "maximum"},
	{"315360001", "maximum"},
	{"522w", "maximum"},
	{"99999999999999999999", "too large"}, /* > UINT64_MAX */
	{"18446744073709551615s", "maximum"},  /* = UINT64_MAX */
	{"30500568904944w", "too large"},      /* w * 604800 wraps */
	{"3000d3000d", "largest first"},
	{"1h\n", "unexpected"},
	{"1h\t", "space"},
	{"\x01", "unexpected '?'"},
	{"1\xc3\xa9", "unknown unit '?'"},
	{"1111111111111111111111111111111111111111111111111111111111111111111s",
	 "too long"},
	{"1e3", "unknown unit 'e'"},
	{"0x10", "unknown unit 'x'"},
	{"1hour", "unexpected 'o'"},
};

static void test_parse_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(invalid_rows); i++) {
		const struct invalid_row *r = &invalid_rows[i];
		char err[160] = "";
		uint64_t v = 12345;
		int ret;

		ret = pw_duration_parse(r->in, &v, err, sizeof(err));
		if (ret != -EINVAL || v != 0 || !strstr(err, r->msg_has)) {
			print_error("'%s': ret %d v %llu err '%s' want '%s'\n",
				    r->in, ret, (unsigned long long)v, err,
				    r->msg_has);
			fail();
		}
		/* Messages are one printable line. */
		for (size_t j = 0; err[j]; j++)
			assert_true(err[j] >= 0x20 && err[j] < 0x7f);
	}
}

static void test_parse_null_and_short_err(void **state)
{
	char err[8];
	uint64_t v = 1;

	(void)state;
	assert_int_equal(pw_duration_parse(NULL, &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(pw_duration_parse("1h", NULL, NULL, 0), -EINVAL);
	/* A tiny error buffer is filled, terminated, never overrun. */
	assert_int_equal(pw_duration_parse("bogus", &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(pw_duration_parse("bogus", &v, NULL, 0), -EINVAL);
}

/* --- format -------------------------------------------------------------- */

struct format_row {
	uint64_t secs;
	const char *out;
};

static const struct format_row format_rows[] = {
	{0, "0s"},
	{1, "1s"},
	{59, "59s"},
	{60, "1m"},
	{90, "1m30s"},
	{3600, "1h"},
	{3601, "1h1s"},
	{5400, "1h30m"},
	{DAY, "1d"},
	{DAY - 1, "23h59m59s"},
	{WEEK, "7d"}, /* weeks are never produced */
	{30 * DAY, "30d"},
	{DAY + 3600 + 60 + 1, "1d1h1m1s"},
	{PW_DURATION_MAX_S, "3650d"},
	{UINT64_MAX, "213503982334601d7h15s"},
};

static void test_format(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(format_rows); i++) {
		char buf[64];

		assert_int_equal(pw_duration_format(format_rows[i].secs, buf,
						    sizeof(buf)),
				 0);
		assert_string_equal(buf, format_rows[i].out);
	}
}

static void test_format_small_buffer(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(pw_duration_format(5400, buf, sizeof(buf)), -ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(pw_duration_format(0, buf, 2), -ENOSPC);
	assert_int_equal(pw_duration_format(0, buf, 3), 0);
	assert_string_equal(buf, "0s");
	assert_int_equal(pw_duration_format(1, NULL, 0), -EINVAL);
	assert_int_equal(pw_duration_format(1, buf, 0), -EINVAL);
}

/* Every value the parser accepts formats to something it parses back to
 * the same value. Probe around unit boundaries and the maximum. */
static void test_round_trip(void **state)
{
	static const uint64_t bases[] = {
		0,    60,	3600,	   DAY,
		WEEK, 30 * DAY, 365 * DAY, PW_DURATION_MAX_S - 60};
	size_t i;
	int d;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		for (d = -61; d <= 61; d++) {
			char buf[64], err[128];
			uint64_t v, back;

			if (d < 0 && bases[i] < (uint64_t)-d)
				continue;
			v = bases[i] + (uint64_t)(int64_t)d;
			if (v > PW_DURATION_MAX_S)
				continue;
			assert_int_equal(
				pw_duration_format(v, buf, sizeof(buf)), 0);
			if (pw_duration_parse(buf, &back, err, sizeof(err)) ||
			    back != v) {
				print_error("%llu -> '%s' -> %s\n",
					    (unsigned long long)v, buf, err);
				fail();
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_null_and_short_err),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
