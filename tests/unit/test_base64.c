// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_base64.c - src/base64.c: the RFC 4648 test vectors both ways,
 * every length round trip, and the inputs the decoder must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base64.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_vectors(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	char enc[16];
	uint8_t dec[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		size_t n = strlen(v[i].plain);

		assert_int_equal(
			pw_base64_encode((const uint8_t *)v[i].plain, n, enc),
			strlen(v[i].enc));
		assert_string_equal(enc, v[i].enc);
		assert_int_equal(pw_base64_decode(v[i].enc, strlen(v[i].enc),
						  dec, sizeof(dec)),
				 n);
		assert_memory_equal(dec, v[i].plain, n);
	}
}

static void test_round_trip(void **state)
{
	uint8_t in[300], out[300];
	char enc[PW_BASE64_LEN(300) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t len = pw_base64_encode(in, n, enc);

		assert_int_equal(len, PW_BASE64_LEN(n));
		assert_int_equal(pw_base64_decode(enc, len, out, sizeof(out)),
				 n);
		assert_memory_equal(in, out, n);
	}
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"Zg=",	    /* not a multiple of 4 */
		"Zg==Zg==", /* padding in the middle */
		"Z===",	    /* too much padding */
		"Zm9v!A==", /* not in the alphabet */
		"Zm 9",	    /* whitespace */
		"Zm=v",	    /* data after padding */
		"=Zm9",
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(pw_base64_decode(bad[i], strlen(bad[i]), out,
						  sizeof(out)),
				 -EINVAL);
	assert_int_equal(pw_base64_decode("Zm9vYmFy", 8, out, 5), -ENOSPC);
	assert_int_equal(pw_base64_decode("Zm9vYg==", 8, out, 4), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
