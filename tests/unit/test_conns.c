// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_conns.c - unit tests for src/conns.c: per-source connection counts
 * across snapshots (keys masked to the source prefix, gained = growth
 * since the previous snapshot, sources that closed everything dropped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "conns.h"

static void add4(struct pw_conns *c, const char *s, int times)
{
	uint8_t a[16] = {0};

	assert_int_equal(inet_pton(AF_INET, s, a), 1);
	while (times--)
		pw_conns_add(c, AF_INET, a);
}

static void add6(struct pw_conns *c, const char *s, int times)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	while (times--)
		pw_conns_add(c, AF_INET6, a);
}

static uint32_t of(const struct pw_conns *c, const char *s)
{
	struct pw_cidr k;
	char err[64];

	assert_int_equal(pw_cidr_parse(s, &k, err, sizeof(err)), 0);
	return pw_conns_of(c, &k);
}

struct seen {
	unsigned entries;
	uint64_t now_sum, gained_sum;
};

static void count(const struct pw_conns_entry *e, void *arg)
{
	struct seen *s = arg;

	s->entries++;
	s->now_sum += e->now;
	s->gained_sum += e->gained;
}

static void test_snapshots(void **state)
{
	struct pw_conns *c = pw_conns_new(32, 64, 1024);
	struct seen s;

	(void)state;
	assert_non_null(c);
	pw_conns_begin(c);
	add4(c, "198.18.9.9", 4);
	add4(c, "198.18.9.10", 1);
	add6(c, "fd00:9::1", 2);
	add6(c, "fd00:9::2", 1); /* same /64: one source */
	pw_conns_end(c);
	assert_int_equal(pw_conns_total(c), 8);
	assert_int_equal(pw_conns_sources(c), 3);
	assert_int_equal(of(c, "198.18.9.9"), 4);
	assert_int_equal(of(c, "198.18.9.10"), 1);
	assert_int_equal(of(c, "fd00:9::77"), 3);
	assert_int_equal(of(c, "198.18.9.11"), 0);
	memset(&s, 0, sizeof(s));
	pw_conns_each(c, count, &s);
	assert_int_equal(s.entries, 3);
	assert_int_equal(s.now_sum, 8);
	assert_int_equal(s.gained_sum, 8); /* all new */

	/* Next snapshot: .9 gains 2, .10 closes, v6 unchanged. */
	pw_conns_begin(c);
	add4(c, "198.18.9.9", 6);
	add6(c, "fd00:9::1", 3);
	pw_conns_end(c);
	assert_int_equal(pw_conns_total(c), 9);
	assert_int_equal(of(c, "198.18.9.9"), 6);
	assert_int_equal(of(c, "198.18.9.10"), 0);
	memset(&s, 0, sizeof(s));
	pw_conns_each(c, count, &s);
	assert_int_equal(s.gained_sum, 2);
	assert_int_equal(s.now_sum, 9);

	/* A source at zero in two snapshots is forgotten. */
	pw_conns_begin(c);
	pw_conns_end(c);
	pw_conns_begin(c);
	pw_conns_end(c);
	assert_int_equal(pw_conns_total(c), 0);
	assert_int_equal(pw_conns_sources(c), 0);
	pw_conns_free(c);
}

static void test_bounded(void **state)
{
	struct pw_conns *c = pw_conns_new(32, 64, 16);
	char a[32];

	(void)state;
	pw_conns_begin(c);
	for (int i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "198.18.%d.%d", i / 200, i % 200 + 1);
		add4(c, a, 1);
	}
	pw_conns_end(c);
	/* Every connection counts in the total; the table stays bounded. */
	assert_int_equal(pw_conns_total(c), 100);
	assert_true(pw_conns_sources(c) <= 16);
	pw_conns_free(c);
}

static void test_prefix_keys(void **state)
{
	struct pw_conns *c = pw_conns_new(24, 48, 64);

	(void)state;
	pw_conns_begin(c);
	add4(c, "198.18.9.9", 1);
	add4(c, "198.18.9.200", 1);
	add6(c, "fd00:1:2:3::1", 1);
	add6(c, "fd00:1:2:4::1", 1);
	pw_conns_end(c);
	assert_int_equal(of(c, "198.18.9.1"), 2);
	assert_int_equal(of(c, "fd00:1:2:ffff::9"), 2);
	pw_conns_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_prefix_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
