// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_emergency.c - unit tests for emergency mode's policy
 * (src/emergency.c): when "on" is refused, what the end time is, whose
 * session would be cut, and how "extend" moves the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "config.h"
#include "emergency.h"

#define NOW 1700000000

static struct pw_protect ports[] = {{IPPROTO_TCP, 26656}, {IPPROTO_UDP, 30303}};

static void setup_cfg(struct pw_config *cfg)
{
	pw_config_defaults(cfg);
	cfg->protect = ports;
	cfg->n_protect = 2;
}

static struct pw_cidr cidr(const char *s)
{
	struct pw_cidr c;
	char err[64];

	assert_int_equal(pw_cidr_parse(s, &c, err, sizeof(err)), 0);
	return c;
}

static struct pw_requester from(const char *addr, uint16_t port)
{
	struct pw_requester r = {.known = true, .port = port};
	struct pw_cidr c = cidr(addr);

	r.family = c.family;
	memcpy(r.addr, c.addr, sizeof(r.addr));
	return r;
}

static void test_on_default_ttl(void **state)
{
	struct pw_cidr trusted[] = {cidr("198.18.1.0/24")};
	struct pw_emergency_req req = {0};
	struct pw_config cfg;
	char why[256] = "";
	int64_t until = -1;

	(void)state;
	setup_cfg(&cfg);
	assert_int_equal(pw_emergency_check_on(&cfg, trusted, 1, &req, NOW,
					       &until, why, sizeof(why)),
			 0);
	assert_int_equal(until, NOW + 900);
	req.ttl_given = true;
	req.ttl_s = 30;
	assert_int_equal(pw_emergency_check_on(&cfg, trusted, 1, &req, NOW,
					       &until, why, sizeof(why)),
			 0);
	assert_int_equal(until, NOW + 30);
}

static void test_ttl_zero_needs_force(void **state)
{
	struct pw_cidr trusted[] = {cidr("198.18.1.0/24")};
	struct pw_emergency_req req = {.ttl_given = true, .ttl_s = 0};
	struct pw_config cfg;
	char why[256] = "";
	int64_t until = -1;

	(void)state;
	setup_cfg(&cfg);
	assert_int_equal(pw_emergency_check_on(&cfg, trusted, 1, &req, NOW,
					       &until, why, sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "--force"));
	req.force = true;
	assert_int_equal(pw_emergency_check_on(&cfg, trusted, 1, &req, NOW,
					       &until, why, sizeof(why)),
			 0);
	assert_int_equal(until, 0);
}

static void test_empty_trusted_needs_force(void **state)
{
	struct pw_emergency_req req = {0};
	struct pw_config cfg;
	char why[256] = "";
	int64_t until;

	(void)state;
	setup_cfg(&cfg);
	assert_int_equal(pw_emergency_check_on(&cfg, NULL, 0, &req, NOW, &until,
					       why, sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "no trusted CIDRs"));
	req.force = true;
	assert_int_equal(pw_emergency_check_on(&cfg, NULL, 0, &req, NOW, &until,
					       why, sizeof(why)),
			 0);
}

static void test_requester_cut_off(void **state)
{
	struct pw_cidr trusted[] = {cidr("198.18.1.0/24"), cidr("fd00:1::/48")};
	struct pw_emergency_req req = {0};
	struct pw_config cfg;
	char why[256] = "";
	int64_t until;

	(void)state;
	setup_cfg(&cfg);
	/* SSH on 22 (management): never cut. */
	req.from = from("198.18.9.9", 22);
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	/* A session through a protected TCP port from outside the trusted
	 * sets would be cut: refused, naming the address. */
	req.from = from("198.18.9.9", 26656);
	assert_true(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	assert_int_equal(pw_emergency_check_on(&cfg, trusted, 2, &req, NOW,
					       &until, why, sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "198.18.9.9"));
	req.force = true;
	assert_int_equal(pw_emergency_check_on(&cfg, trusted, 2, &req, NOW,
					       &until, why, sizeof(why)),
			 0);
	/* Trusted sources and unprotected ports are not cut. */
	req.from = from("198.18.1.7", 26656);
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	req.from = from("fd00:1::5", 26656);
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	req.from = from("fd00:2::5", 26656);
	assert_true(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	req.from = from("198.18.9.9", 8080);
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	/* UDP-only protected port: an SSH (TCP) session there is not cut. */
	req.from = from("198.18.9.9", 30303);
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	/* Unknown requester: nothing to check. */
	memset(&req.from, 0, sizeof(req.from));
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
	/* A management port that is also configured never cuts. */
	cfg.nft.mgmt_ports[1] = 26656;
	cfg.nft.n_mgmt = 2;
	req.from = from("198.18.9.9", 26656);
	assert_false(pw_emergency_cuts(&cfg, trusted, 2, &req.from));
}

static void test_extend(void **state)
{
	(void)state;
	/* From the current end while it runs ... */
	assert_int_equal(pw_emergency_extended(NOW + 60, NOW, 600), NOW + 660);
	/* ... from now once it has passed (the tick has not reverted yet) */
	assert_int_equal(pw_emergency_extended(NOW - 5, NOW, 600), NOW + 600);
	/* no TTL stays no TTL */
	assert_int_equal(pw_emergency_extended(0, NOW, 600), 0);
	/* fractions round up: never shorter than asked */
	assert_int_equal(pw_emergency_extended(NOW, NOW, 0.2), NOW + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_default_ttl),
		cmocka_unit_test(test_ttl_zero_needs_force),
		cmocka_unit_test(test_empty_trusted_needs_force),
		cmocka_unit_test(test_requester_cut_off),
		cmocka_unit_test(test_extend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
