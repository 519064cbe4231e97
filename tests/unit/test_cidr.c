// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cidr.c - unit tests for src/cidr.c.
 *
 * Table-driven: every accepted form, every rejection class (with the
 * reason the operator sees), formatting round trips, containment and
 * masking at the prefix lengths where off-by-one bugs live (byte and
 * 64-bit boundaries, 0, the full width and one past it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void fail_row(const char *what, const char *row, const char *detail)
{
	print_error("%s '%s': %s\n", what, row, detail);
	fail();
}

/* --- accepted forms ------------------------------------------------------ */

struct valid_row {
	const char *in;
	int family;
	unsigned prefixlen;
	const char *canonical; /* pw_cidr_format of the result */
};

static const struct valid_row valid_rows[] = {
	{"198.18.0.0/24", AF_INET, 24, "198.18.0.0/24"},
	{"198.18.1.0/24", AF_INET, 24, "198.18.1.0/24"},
	{"10.0.0.1", AF_INET, 32, "10.0.0.1/32"},
	{"10.0.0.1/32", AF_INET, 32, "10.0.0.1/32"},
	{"0.0.0.0/0", AF_INET, 0, "0.0.0.0/0"},
	{"0.0.0.0", AF_INET, 32, "0.0.0.0/32"},
	{"255.255.255.255", AF_INET, 32, "255.255.255.255/32"},
	{"128.0.0.0/1", AF_INET, 1, "128.0.0.0/1"},
	{"198.18.0.0/15", AF_INET, 15, "198.18.0.0/15"},
	{"198.18.1.254/31", AF_INET, 31, "198.18.1.254/31"},
	{"fd00:1::/48", AF_INET6, 48, "fd00:1::/48"},
	{"FD00:1::/48", AF_INET6, 48, "fd00:1::/48"},
	{"fd00:0001:0000::/48", AF_INET6, 48, "fd00:1::/48"},
	{"2001:db8:0:0:0:0:0:0/32", AF_INET6, 32, "2001:db8::/32"},
	{"::/0", AF_INET6, 0, "::/0"},
	{"::", AF_INET6, 128, "::/128"},
	{"::1", AF_INET6, 128, "::1/128"},
	{"2001:db8::1/128", AF_INET6, 128, "2001:db8::1/128"},
	{"8000::/1", AF_INET6, 1, "8000::/1"},
	{"2001:db8:0:fffe::/63", AF_INET6, 63, "2001:db8:0:fffe::/63"},
	{"::ffff:198.18.0.0/120", AF_INET6, 120, "::ffff:198.18.0.0/120"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", AF_INET6, 128,
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
};

static void test_parse_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid_rows); i++) {
		const struct valid_row *r = &valid_rows[i];
		char err[128] = "", buf[PW_CIDR_STRLEN];
		struct pw_cidr c;
		uint8_t want[16] = {0};
		int ret;

		ret = pw_cidr_parse(r->in, &c, err, sizeof(err));
		if (ret != 0)
			fail_row("rejected", r->in, err);
		if (c.family != r->family || c.prefixlen != r->prefixlen)
			fail_row("wrong family/prefix", r->in, "");
		/* The address bytes are what inet_pton gives for the address
		 * part, IPv4 padded with zeros. */
		snprintf(buf, sizeof(buf), "%s", r->in);
		if (strchr(buf, '/'))
			*strchr(buf, '/') = '\0';
		assert_int_equal(inet_pton(r->family, buf, want), 1);
		assert_memory_equal(c.addr, want, sizeof(want));

		assert_int_equal(pw_cidr_format(&c, buf, sizeof(buf)),
				 strlen(r->canonical));
		if (strcmp(buf, r->canonical) != 0)
			fail_row("formats as", r->in, buf);
	}
}

/* Parsing what format printed gives the same CIDR back. */
static void test_format_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid_rows); i++) {
		struct pw_cidr a, b;
		char buf[PW_CIDR_STRLEN];

		assert_int_equal(pw_cidr_parse(valid_rows[i].in, &a, NULL, 0),
				 0);
		pw_cidr_format(&a, buf, sizeof(buf));
		assert_int_equal(pw_cidr_parse(buf, &b, NULL, 0), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

/* --- rejections ---------------------------------------------------------- */

struct invalid_row {
	const char *in;
	const char *reason; /* substring of the message */
};

static const struct invalid_row invalid_rows[] = {
	/* empty */
	{"", "empty address"},
	/* garbage */
	{"garbage", "'garbage' is not an IP address"},
	{"eth0", "is not an IP address"},
	{"/24", "is not an IP address"},
	{"1.2.3", "'1.2.3' is not an IPv4 address"},
	{"1.2.3.4.5", "is not an IPv4 address"},
	{"1.2.3.256", "is not an IPv4 address"},
	{"01.2.3.4", "is not an IPv4 address"},
	{"1.2.3.4 ", "is not an IPv4 address"},
	{" 1.2.3.4", "is not an IPv4 address"},
	{"1.2.3.4:80", "is not an IPv6 address"},
	{"fe80::1%eth0", "is not an IPv6 address"},
	{":::", "is not an IPv6 address"},
	{"fd00::1::2", "is not an IPv6 address"},
	{"gd00::/16", "is not an IPv6 address"},
	{"1.2.3.0x/24", "is not an IPv4 address with a prefix"},
	/* leading sign */
	{"+1.2.3.4", "is not an IPv4 address"},
	{"-1.2.3.4", "is not an IPv4 address"},
	{"1.2.3.0/+24", "prefix length in '1.2.3.0/+24' is not a decimal"},
	{"1.2.3.0/-24", "is not a decimal number 0..32"},
	{"::/-1", "is not a decimal number 0..128"},
	/* prefix not a decimal number */
	{"1.2.3.4/", "is not a decimal number"},
	{"1.2.3.0/abc", "is not a decimal number"},
	{"1.2.3.0/0x18", "is not a decimal number"},
	{"1.2.3.0/024", "is not a decimal number"},
	{"1.2.3.0/2 4", "is not a decimal number"},
	{"1.2.3.0/1000", "is not a decimal number"},
	/* trailing junk */
	{"1.2.3.0/24 ", "is not a decimal number"},
	{"1.2.3.0/24x", "is not a decimal number"},
	{"1.2.3.0/24/24", "is not a decimal number"},
	{"fd00::/8\n", "is not a decimal number"},
	/* prefix too long */
	{"1.2.3.0/33", "prefix length /33 in '1.2.3.0/33' is longer than 32 "
		       "bits"},
	{"1.2.3.0/128", "longer than 32 bits"},
	{"::/129", "prefix length /129 in '::/129' is longer than 128 bits"},
	{"::/999", "longer than 128 bits"},
	/* host bits */
	{"198.18.1.5/24",
	 "host bits set in 198.18.1.5/24 (did you mean 198.18.1.0/24?)"},
	{"1.2.3.4/0", "(did you mean 0.0.0.0/0?)"},
	{"198.18.1.255/31", "(did you mean 198.18.1.254/31?)"},
	{"fd00:1::1/48",
	 "host bits set in fd00:1::1/48 (did you mean fd00:1::/48?)"},
	{"2001:db8:0:1::/63", "(did you mean 2001:db8::/63?)"},
	{"::1/127", "(did you mean ::/127?)"},
	/* too long to be a CIDR at all */
	{"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/64",
	 "is too long for a CIDR"},
};

static void test_parse_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(invalid_rows); i++) {
		const struct invalid_row *r = &invalid_rows[i];
		static const struct pw_cidr zero;
		struct pw_cidr c;
		char err[256] = "";

		memset(&c, 0xa5, sizeof(c));
		if (pw_cidr_parse(r->in, &c, err, sizeof(err)) != -EINVAL)
			fail_row("accepted", r->in, "");
		if (!strstr(err, r->reason))
			fail_row("wrong reason for", r->in, err);
		if (strchr(err, '\n'))
			fail_row("multi-line reason for", r->in, err);
		assert_memory_equal(&c, &zero, sizeof(c));
	}
}

static void test_parse_null_and_no_err_buffer(void **state)
{
	struct pw_cidr c;
	char err[8];

	(void)state;
	assert_int_equal(pw_cidr_parse(NULL, &c, NULL, 0), -EINVAL);
	assert_int_equal(pw_cidr_parse("nope", &c, NULL, 0), -EINVAL);
	/* A short buffer is truncated, still terminated. */
	assert_int_equal(pw_cidr_parse("198.18.1.5/24", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* Input is echoed into the reason; control bytes must not break the
 * one-line message and a long input is cut. */
static void test_parse_echo_is_sanitized(void **state)
{
	struct pw_cidr c;
	char err[256];

	(void)state;
	assert_int_equal(pw_cidr_parse("1.2\n.3.4", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'1.2?.3.4'"));
	assert_int_equal(
		pw_cidr_parse(
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			&c, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "...'"));
	assert_true(strlen(err) < 100);
}

/* --- formatting ---------------------------------------------------------- */

static void test_format_addr(void **state)
{
	const uint8_t v4[16] = {198, 18, 0, 1};
	const uint8_t v6[16] = {0xfd, 0x00, [15] = 1};
	char buf[PW_CIDR_STRLEN];

	(void)state;
	assert_int_equal(pw_addr_format(AF_INET, v4, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "198.18.0.1");
	assert_int_equal(pw_addr_format(AF_INET6, v6, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "fd00::1");

	memset(buf, 'x', sizeof(buf));
	assert_true(pw_addr_format(AF_UNIX, v4, buf, sizeof(buf)) < 0);
	assert_string_equal(buf, "");
}

static void test_format_truncates(void **state)
{
	struct pw_cidr c;
	char buf[8];

	(void)state;
	assert_int_equal(pw_cidr_parse("198.18.0.0/24", &c, NULL, 0), 0);
	/* snprintf semantics: the full length is returned, buf is cut. */
	assert_int_equal(pw_cidr_format(&c, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "198.18.");
	assert_int_equal(pw_cidr_format(&c, NULL, 0), 13);

	c.family = AF_UNIX;
	assert_true(pw_cidr_format(&c, buf, sizeof(buf)) < 0);
	assert_string_equal(buf, "");
}

/* --- containment --------------------------------------------------------- */

struct contains_row {
	const char *outer, *inner;
	bool want;
};

static const struct contains_row contains_rows[] = {
	{"198.18.0.0/16", "198.18.1.0/24", true},
	{"198.18.1.0/24", "198.18.0.0/16", false},
	{"198.18.1.0/24", "198.18.1.0/24", true},
	{"198.18.1.0/24", "198.18.1.255", true},
	{"198.18.1.0/24", "198.18.2.0", false},
	{"198.18.1.0/25", "198.18.1.128/25", false},
	{"128.0.0.0/1", "127.255.255.255", false},
	{"128.0.0.0/1", "255.0.0.0/8", true},
	{"0.0.0.0/0", "203.0.113.7", true},
	{"0.0.0.0/0", "::/0", false},
	{"::/0", "0.0.0.0/0", false},
	{"::/0", "fd00::/8", true},
	{"fd00:1::/48", "fd00:1:0:ffff::/64", true},
	{"fd00:1::/48", "fd00:2::/64", false},
	{"fd00:1::/48", "fd00::/16", false},
	{"2001:db8::/63", "2001:db8:0:1::1", true},
	{"2001:db8::/64", "2001:db8:0:1::1", false},
	{"::1", "::1", true},
	{"::1", "::", false},
};

static void test_contains(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(contains_rows); i++) {
		const struct contains_row *r = &contains_rows[i];
		struct pw_cidr o, in;

		assert_int_equal(pw_cidr_parse(r->outer, &o, NULL, 0), 0);
		assert_int_equal(pw_cidr_parse(r->inner, &in, NULL, 0), 0);
		if (pw_cidr_contains(&o, &in) != r->want)
			fail_row(r->want ? "does not contain" : "contains",
				 r->outer, r->inner);
	}
}

/* --- masking ------------------------------------------------------------- */

/* Bit-by-bit reference: bit i of the result is bit i of addr when
 * i < prefixlen. */
static void mask_reference(unsigned bits, const uint8_t *addr,
			   unsigned prefixlen, uint8_t *out)
{
	unsigned i;

	memset(out, 0, bits / 8);
	for (i = 0; i < bits && i < prefixlen; i++)
		out[i / 8] |= addr[i / 8] & (0x80 >> (i % 8));
}

static const unsigned odd_prefixes[] = {0,  1,	7,  8,	9,   31,  32,
					33, 63, 64, 65, 127, 128, 129};

static void test_mask_odd_prefixes(void **state)
{
	static const uint8_t patterns[][16] = {
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0xa5, 0x5a, 0xc3, 0x3c, 0x0f, 0xf0, 0x81, 0x7e, 0x12, 0x34,
		 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1},
	};
	static const int families[] = {AF_INET, AF_INET6};
	size_t f, p, i;

	(void)state;
	for (f = 0; f < ARRAY_SIZE(families); f++) {
		unsigned bits = pw_family_bits(families[f]);

		for (p = 0; p < ARRAY_SIZE(patterns); p++) {
			for (i = 0; i < ARRAY_SIZE(odd_prefixes); i++) {
				uint8_t out[16], want[16], inplace[16];

				/* Bytes past the family's width are canaries:
				 * an IPv4 mask must write exactly 4 bytes. */
				memset(out, 0xee, sizeof(out));
				mask_reference(bits, patterns[p],
					       odd_prefixes[i], want);
				memset(want + bits / 8, 0xee, 16 - bits / 8);
				pw_addr_mask(families[f], patterns[p],
					     odd_prefixes[i], out);
				if (memcmp(out, want, sizeof(out)) != 0) {
					print_error("family %d prefix %u\n",
						    families[f],
						    odd_prefixes[i]);
					fail();
				}
				memcpy(inplace, patterns[p], sizeof(inplace));
				pw_addr_mask(families[f], inplace,
					     odd_prefixes[i], inplace);
				assert_memory_equal(inplace, out, bits / 8);
			}
		}
	}
}

/* The same, spelled out, for the cases a reader checks by eye. */
static void test_mask_explicit(void **state)
{
	const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				  0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				  0xff, 0xff, 0xff, 0xff};
	uint8_t out[16];

	(void)state;
	pw_addr_mask(AF_INET, ones, 0, out);
	assert_memory_equal(out, ((uint8_t[4]){0, 0, 0, 0}), 4);
	pw_addr_mask(AF_INET, ones, 1, out);
	assert_memory_equal(out, ((uint8_t[4]){0x80, 0, 0, 0}), 4);
	pw_addr_mask(AF_INET, ones, 7, out);
	assert_memory_equal(out, ((uint8_t[4]){0xfe, 0, 0, 0}), 4);
	pw_addr_mask(AF_INET, ones, 31, out);
	assert_memory_equal(out, ((uint8_t[4]){0xff, 0xff, 0xff, 0xfe}), 4);
	pw_addr_mask(AF_INET, ones, 33, out); /* clamped to 32 */
	assert_memory_equal(out, ones, 4);

	pw_addr_mask(AF_INET6, ones, 63, out);
	assert_memory_equal(
		out,
		((uint8_t[16]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}),
		16);
	pw_addr_mask(AF_INET6, ones, 65, out);
	assert_memory_equal(out,
			    ((uint8_t[16]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0x80}),
			    16);
	pw_addr_mask(AF_INET6, ones, 127, out);
	assert_int_equal(out[15], 0xfe);
	assert_memory_equal(out, ones, 15);
	pw_addr_mask(AF_INET6, ones, 128, out);
	assert_memory_equal(out, ones, 16);
}

static void test_family_bits(void **state)
{
	(void)state;
	assert_int_equal(pw_family_bits(AF_INET), 32);
	assert_int_equal(pw_family_bits(AF_INET6), 128);
	assert_int_equal(pw_family_bits(AF_UNIX), 0);
	assert_int_equal(pw_family_bits(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_null_and_no_err_buffer),
		cmocka_unit_test(test_parse_echo_is_sanitized),
		cmocka_unit_test(test_format_addr),
		cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_mask_odd_prefixes),
		cmocka_unit_test(test_mask_explicit),
		cmocka_unit_test(test_family_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
