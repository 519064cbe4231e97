// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_report.c - unit tests for src/report.c.
 *
 * Table-driven: each accepted line with the report it must produce, each
 * malformed form with a word its message must contain. Lines carry their
 * length explicitly so NULs, CR/LF and bytes past the "end" are part of
 * the input, as they are on the socket. Every rejection message is also
 * checked to be one printable line of bounded length.
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

#include "report.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A string literal with its exact length, embedded NULs included. */
#define L(s) s, sizeof(s) - 1

#define R63 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* --- accepted lines ------------------------------------------------------ */

struct valid_row {
	const char *line;
	size_t len;
	enum pw_report_verb verb;
	const char *addr; /* as pw_addr_format prints it */
	unsigned weight;
	const char *reason;
};

static const struct valid_row valid_rows[] = {
	{L("invalid 198.18.0.1"), PW_REPORT_INVALID, "198.18.0.1", 10, ""},
	{L("invalid 198.18.0.1\n"), PW_REPORT_INVALID, "198.18.0.1", 10, ""},
	{L("invalid 198.18.0.1\r\n"), PW_REPORT_INVALID, "198.18.0.1", 10, ""},
	{L("invalid 198.18.0.1:26656"), PW_REPORT_INVALID, "198.18.0.1", 10,
	 ""},
	{L("invalid 198.18.0.1:1"), PW_REPORT_INVALID, "198.18.0.1", 10, ""},
	{L("invalid 198.18.0.1:65535"), PW_REPORT_INVALID, "198.18.0.1", 10,
	 ""},
	{L("invalid fd00::1"), PW_REPORT_INVALID, "fd00::1", 10, ""},
	{L("invalid fd00::1:8545"), PW_REPORT_INVALID, "fd00::1:8545", 10,
	 ""}, /* no brackets: all of it is the address */
	{L("invalid [fd00::1]:26656"), PW_REPORT_INVALID, "fd00::1", 10, ""},
	{L("invalid [fd00::1]"), PW_REPORT_INVALID, "fd00::1", 10, ""},
	{L("invalid ::ffff:198.18.0.7"), PW_REPORT_INVALID, "198.18.0.7", 10,
	 ""},
	{L("invalid [::ffff:198.18.0.7]:26656"), PW_REPORT_INVALID,
	 "198.18.0.7", 10, ""},
	{L("invalid ::198.18.0.7"), PW_REPORT_INVALID, "::198.18.0.7", 10,
	 ""}, /* IPv4-compatible is not mapped: stays IPv6 */
	{L("invalid 198.18.0.1 weight=1"), PW_REPORT_INVALID, "198.18.0.1", 1,
	 ""},
	{L("invalid 198.18.0.1 weight=100"), PW_REPORT_INVALID, "198.18.0.1",
	 100, ""},
	{L("invalid 198.18.0.1 reason=bad_block"), PW_REPORT_INVALID,
	 "198.18.0.1", 10, "bad_block"},
	{L("invalid 198.18.0.1 weight=40 reason=bad-sig.v2:x"),
	 PW_REPORT_INVALID, "198.18.0.1", 40, "bad-sig.v2:x"},
	{L("invalid 198.18.0.1 reason=x weight=40"), PW_REPORT_INVALID,
	 "198.18.0.1", 40, "x"},
	{L("invalid 198.18.0.1 reason=" R63), PW_REPORT_INVALID, "198.18.0.1",
	 10, R63},
	{L("  invalid \t 198.18.0.1\t\tweight=5   "), PW_REPORT_INVALID,
	 "198.18.0.1", 5, ""},
	{L("good 198.18.0.1"), PW_REPORT_GOOD, "198.18.0.1", 0, ""},
	{L("good [2001:db8::5]:30303\n"), PW_REPORT_GOOD, "2001:db8::5", 0, ""},
	{L("good 198.18.0.1 \r\n"), PW_REPORT_GOOD, "198.18.0.1", 0, ""},
};

static void test_parse_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid_rows); i++) {
		const struct valid_row *r = &valid_rows[i];
		char err[160] = "", addr[64];
		struct pw_report rep;
		int ret;

		ret = pw_report_parse(r->line, r->len, &rep, err, sizeof(err));
		if (ret != 0) {
			print_error("row %zu rejected: %s\n", i, err);
			fail();
		}
		pw_addr_format(rep.family, rep.addr, addr, sizeof(addr));
		if (rep.verb != r->verb || strcmp(addr, r->addr) != 0 ||
		    rep.weight != r->weight ||
		    strcmp(rep.reason, r->reason) != 0) {
			print_error("row %zu: verb %d addr %s weight %u "
				    "reason '%s'\n",
				    i, rep.verb, addr, rep.weight, rep.reason);
			fail();
		}
	}
}

/* --- rejected lines ------------------------------------------------------ */

struct invalid_row {
	const char *line;
	size_t len;
	const char *msg_has;
};

static const struct invalid_row invalid_rows[] = {
	{L(""), "empty"},
	{L("\n"), "empty"},
	{L("\r\n"), "empty"},
	{L("   "), "empty"},
	{L(" \t \t"), "empty"},
	{L("bad 198.18.0.1"), "unknown verb 'bad'"},
	{L("INVALID 198.18.0.1"), "unknown verb"},
	{L("Good 198.18.0.1"), "unknown verb"},
	{L("invalid"), "needs an address"},
	{L("good\n"), "needs an address"},
	{L("invalid weight=5"), "not an address"},
	{L("invalid 198.18.0"), "not an address"},
	{L("invalid 198.18.0.256"), "not an address"},
	{L("invalid 198.018.0.1"), "not an address"},
	{L("invalid example.com"), "not an address"},
	{L("invalid fd00::1%eth0"), "not an address"},
	{L("invalid fd00::1:26656"), "not an address"}, /* 5 hex digits */
	{L("invalid 198.18.0.1:0"), "not an address"},
	{L("invalid 198.18.0.1:65536"), "not an address"},
	{L("invalid 198.18.0.1:026656"), "not an address"},
	{L("invalid 198.18.0.1:-1"), "not an address"},
	{L("invalid 198.18.0.1:"), "not an address"},
	{L("invalid 198.18.0.1:80:80"), "not an address"},
	{L("invalid [fd00::1]:0"), "not an address"},
	{L("invalid [fd00::1]:65536"), "not an address"},
	{L("invalid [fd00::1]:"), "not an address"},
	{L("invalid [fd00::1]26656"), "not an address"},
	{L("invalid [fd00::1"), "not an address"},
	{L("invalid [198.18.0.1]:80"), "not an address"},
	{L("invalid []:80"), "not an address"},
	{L("invalid 198.18.0.1/32"), "not an address"},
	{L("invalid 198.18.0.1 weight=0"), "outside 1..100"},
	{L("invalid 198.18.0.1 weight=101"), "outside 1..100"},
	{L("invalid 198.18.0.1 weight=999"), "outside 1..100"},
	{L("invalid 198.18.0.1 weight=1000"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight=-1"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight=+5"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight=abc"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight=007"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight=5x"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight=0x10"), "not a plain decimal"},
	{L("invalid 198.18.0.1 weight="), "empty weight"},
	{L("invalid 198.18.0.1 weight=5 weight=5"),
	 "duplicate option 'weight'"},
	{L("invalid 198.18.0.1 reason=a reason=b"),
	 "duplicate option 'reason'"},
	{L("invalid 198.18.0.1 reason="), "empty reason"},
	{L("invalid 198.18.0.1 reason=a/b"), "'/' not allowed"},
	{L("invalid 198.18.0.1 reason=a=b"), "'=' not allowed"},
	{L("invalid 198.18.0.1 reason=caf\xc3\xa9"), "not printable ASCII"},
	{L("invalid 198.18.0.1 reason=" R63 "x"), "longer than 63"},
	{L("invalid 198.18.0.1 color=red"), "unknown option 'color'"},
	{L("invalid 198.18.0.1 =5"), "unknown option ''"},
	{L("invalid 198.18.0.1 Weight=5"), "unknown option 'Weight'"},
	{L("invalid 198.18.0.1 junk"), "unexpected 'junk'"},
	{L("invalid 198.18.0.1 weight=5 reason=x extra"), "unexpected 'extra'"},
	{L("invalid 198.18.0.1 weight=5 reason=x a b"), "too many fields"},
	{L("good 198.18.0.1 weight=5"), "takes no options"},
	{L("good 198.18.0.1 reason=x"), "takes no options"},
	{L("good 198.18.0.1 junk"), "takes no options"},
	{L("invalid 198.18.0.1\0 weight=5"), "NUL byte at offset 18"},
	{L("\0"), "NUL byte at offset 0"},
	{L("invalid 198.18.0.1\n\n"), "line break"},
	{L("invalid 198.18.0.1\ngood 198.18.0.2"), "line break"},
	{L("invalid 198.18.0.1\r"), "line break"},
	{L("invalid 198.18.0.1\rweight=5\n"), "line break"},
	{L("invalid\x0b"
	   "198.18.0.1"),
	 "\\x0b"},
	{L("invalid 198.18.0.1 \x1b[31m"), "\\x1b"},
	{L("invalid 198.18.0.1\x7f"), "\\x7f"},
	{L("invalid 198.18.0.1 \xff"), "\\xff"},
};

static void check_message(const char *what, const char *err)
{
	size_t j;

	if (strlen(err) == 0 || strlen(err) > 159)
		goto bad;
	for (j = 0; err[j]; j++)
		if (err[j] < 0x20 || err[j] >= 0x7f)
			goto bad;
	return;
bad:
	print_error("%s: message is not one bounded printable line\n", what);
	fail();
}

static void test_parse_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(invalid_rows); i++) {
		const struct invalid_row *r = &invalid_rows[i];
		char err[160] = "";
		struct pw_report rep;
		int ret;

		memset(&rep, 0xa5, sizeof(rep));
		ret = pw_report_parse(r->line, r->len, &rep, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, r->msg_has)) {
			print_error("row %zu: ret %d err '%s' want '%s'\n", i,
				    ret, err, r->msg_has);
			fail();
		}
		check_message("invalid row", err);
		/* Nothing half-parsed leaks out. */
		assert_int_equal(rep.verb, 0);
		assert_int_equal(rep.family, 0);
	}
}

/* The parser must stop at len and never look for a NUL terminator. */
static void test_parse_respects_len(void **state)
{
	const char buf[] = "good 198.18.0.1 weight=5";
	char err[160];
	struct pw_report rep;

	(void)state;
	assert_int_equal(pw_report_parse(buf, strlen("good 198.18.0.1"), &rep,
					 err, sizeof(err)),
			 0);
	assert_int_equal(rep.verb, PW_REPORT_GOOD);
	/* Cut inside the address: "198.18.0" is not one. */
	assert_int_equal(pw_report_parse(buf, strlen("good 198.18.0"), &rep,
					 err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pw_report_parse(NULL, 0, &rep, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(pw_report_parse(NULL, 5, &rep, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
		pw_report_parse(buf, sizeof(buf) - 1, NULL, err, sizeof(err)),
		-EINVAL);
	/* No error buffer at all is fine. */
	assert_int_equal(pw_report_parse("x", 1, &rep, NULL, 0), -EINVAL);
}

static void test_parse_too_long(void **state)
{
	char line[PW_REPORT_LINE_MAX + 2], err[160];
	struct pw_report rep;
	size_t n;

	(void)state;
	/* Exactly the limit, padded with blanks: accepted. */
	memset(line, ' ', sizeof(line));
	n = (size_t)snprintf(line, sizeof(line), "good 198.18.0.1");
	line[n] = ' ';
	assert_int_equal(pw_report_parse(line, PW_REPORT_LINE_MAX, &rep, err,
					 sizeof(err)),
			 0);
	assert_int_equal(pw_report_parse(line, PW_REPORT_LINE_MAX + 1, &rep,
					 err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "longer than 512"));
}

/* A long hostile token is echoed cut short and escaped. */
static void test_message_echo_bounded(void **state)
{
	char line[400], err[160];
	struct pw_report rep;
	size_t n;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line), "invalid 198.18.0.1 ");
	memset(line + n, 'A', 300);
	n += 300;
	assert_int_equal(pw_report_parse(line, n, &rep, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "..."));
	assert_null(strstr(err, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	check_message("long token", err);

	n = (size_t)snprintf(line, sizeof(line), "%s", "vote\\x41 198.18.0.1");
	assert_int_equal(pw_report_parse(line, n, &rep, err, sizeof(err)),
			 -EINVAL);
	/* A backslash in the input is escaped, so it cannot fake one. */
	assert_non_null(strstr(err, "vote\\x5cx41"));
}

/* --- pw_addr_parse_hostport directly ------------------------------------- */

struct hostport_row {
	const char *in;
	int ok;
	int family;
	const char *addr;
};

static const struct hostport_row hostport_rows[] = {
	{"198.18.0.1", 1, AF_INET, "198.18.0.1"},
	{"198.18.0.1:443", 1, AF_INET, "198.18.0.1"},
	{"0.0.0.0", 1, AF_INET, "0.0.0.0"},
	{"::", 1, AF_INET6, "::"},
	{"[::1]:8080", 1, AF_INET6, "::1"},
	{"::ffff:10.0.0.1", 1, AF_INET, "10.0.0.1"},
	{"::FFFF:10.0.0.1", 1, AF_INET, "10.0.0.1"},
	{"::ffff:a00:1", 1, AF_INET, "10.0.0.1"},
	{"", 0, 0, NULL},
	{":", 0, 0, NULL},
	{":80", 0, 0, NULL},
	{"[]", 0, 0, NULL},
	{"[::1]x", 0, 0, NULL},
	{"[::1]:8080:1", 0, 0, NULL},
	{" 198.18.0.1", 0, 0, NULL},
	{"198.18.0.1 ", 0, 0, NULL},
	{"[fd00::1]:65535", 1, AF_INET6, "fd00::1"},
	{"198.18.0.1:99999", 0, 0, NULL},
	{"198.18.0.1:100000", 0, 0, NULL},
	{"1.2.3.4.5", 0, 0, NULL},
	{"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", 1, AF_INET6,
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:655350000000000", 0,
	 0, NULL},
};

static void test_hostport(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hostport_rows); i++) {
		const struct hostport_row *r = &hostport_rows[i];
		uint8_t addr[16];
		char buf[64];
		int fam = -1, ret;

		ret = pw_addr_parse_hostport(r->in, strlen(r->in), &fam, addr);
		if (r->ok) {
			if (ret != 0) {
				print_error("'%s' rejected\n", r->in);
				fail();
			}
			pw_addr_format(fam, addr, buf, sizeof(buf));
			assert_int_equal(fam, r->family);
			assert_string_equal(buf, r->addr);
		} else if (ret != -EINVAL || fam != -1) {
			print_error("'%s' accepted or touched outputs\n",
				    r->in);
			fail();
		}
	}
	assert_int_equal(pw_addr_parse_hostport(NULL, 0, NULL, NULL), -EINVAL);
}

/* Strict UTF-8: what the control socket accepts. */
static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
	} rows[] = {
		{"", 0, true},
		{"plain ascii", 11, true},
		{"caf\xc3\xa9", 5, true},	/* U+00E9 */
		{"\xe2\x82\xac", 3, true},	/* U+20AC */
		{"\xf0\x9f\x98\x80", 4, true},	/* U+1F600 */
		{"\xf4\x8f\xbf\xbf", 4, true},	/* U+10FFFF */
		{"\xff", 1, false},		/* never in UTF-8 */
		{"\x80", 1, false},		/* lone continuation */
		{"\xc3", 1, false},		/* truncated */
		{"\xe2\x82", 2, false},		/* truncated */
		{"\xc0\xaf", 2, false},		/* overlong '/' */
		{"\xc1\xbf", 2, false},		/* overlong */
		{"\xe0\x80\xaf", 3, false},	/* overlong */
		{"\xf0\x80\x80\xaf", 4, false}, /* overlong */
		{"\xed\xa0\x80", 3, false},	/* surrogate D800 */
		{"\xed\xbf\xbf", 3, false},	/* surrogate DFFF */
		{"\xf4\x90\x80\x80", 4, false}, /* > U+10FFFF */
		{"\xf5\x80\x80\x80", 4, false}, /* > U+10FFFF */
		{"a\0b", 3, false},		/* NUL */
		{"\xc3\x28", 2, false},		/* bad continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (pw_utf8_valid(rows[i].s, rows[i].len) != rows[i].ok)
			fail_msg("row %zu: expected %s", i,
				 rows[i].ok ? "valid" : "invalid");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_respects_len),
		cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_message_echo_bounded),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_utf8_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
