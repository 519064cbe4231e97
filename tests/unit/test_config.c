// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - unit tests for src/config.c.
 *
 * One full config checked field by field, the defaults, the shipped
 * example file, and a table of rejections: each row is a config text and
 * a piece of the message the operator must see (with the exact
 * "file:line:" prefix where the line matters). After every failure the
 * caller's struct must be all zeros: nothing is ever applied half-way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NAME	      "t.conf"
#define EXAMPLE_CONF  "conf/peerwall.conf"

static void dump_errors(const struct pw_config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		print_error("  %s\n", errs->msg[i]);
}

static bool has_error(const struct pw_config_errors *errs, const char *want)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		if (strstr(errs->msg[i], want))
			return true;
	return false;
}

static void assert_zeroed(const struct pw_config *cfg)
{
	static const struct pw_config zero;

	assert_null(cfg->protect);
	assert_int_equal(cfg->n_protect, 0);
	assert_null(cfg->trusted);
	assert_null(cfg->bans);
	assert_memory_equal(cfg, &zero, sizeof(zero));
}

/* Load text that must fail with a message containing want. */
static void expect_reject(const char *what, const char *text, const char *want)
{
	struct pw_config_errors errs;
	struct pw_config cfg;
	int ret;

	memset(&cfg, 0x5a, sizeof(cfg));
	ret = pw_config_load_string(text, NAME, &cfg, &errs);
	if (ret != -EINVAL || errs.n == 0 || !has_error(&errs, want)) {
		print_error("%s:\n%s\nreturned %d, wanted -EINVAL and "
			    "\"%s\"; got:\n",
			    what, text, ret, want);
		dump_errors(&errs);
		fail();
	}
	assert_zeroed(&cfg);
}

/* --- accepted configs ---------------------------------------------------- */

static const char full_config[] =
	"interfaces = [\"eth0\", \"bond0.100\"];\n"
	"mode = \"monitor\";\n"
	"malformed = \"drop\";\n"
	"protect = ( { proto = \"tcp\"; port = 26656; },\n"
	"            { proto = \"tcp+udp\"; port = 30303; },\n"
	"            { port = 9000; proto = \"udp\"; } );\n"
	"trusted = [ \"198.18.1.0/24\", \"fd00:1::/48\", \"203.0.113.7\" ];\n"
	"bans = [ \"198.18.66.0/24\", \"2001:db8:bad::/48\" ];\n"
	"source_prefix = { ipv4 = 30; ipv6 = 56; };\n"
	"limits = {\n"
	"  source     = { pps = 2500L; burst = 5000; syn_pps = 25; "
	"syn_burst = 50; };\n"
	"  quarantine = { pps = 100; burst = 300; syn_pps = 1; "
	"syn_burst = 3; };\n"
	"  prefix     = { ipv4 = 20; ipv6 = 40; pps = 30000; burst = 60000; "
	"syn_pps = 300; syn_burst = 600; };\n"
	"  untrusted  = { pps = 0; burst = 0; syn_pps = 6000; "
	"syn_burst = 12000; };\n"
	"};\n"
	"maps = { sources = 2000000; prefixes = 100000; sanctions = 50000; "
	"bancidrs = 1024; };\n"
	"tick_ms = 250;\n"
	"attn_pkts = 77L;\n";

static void test_full_config(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg;
	char buf[PW_CIDR_STRLEN];
	int ret;

	(void)state;
	ret = pw_config_load_string(full_config, NAME, &cfg, &errs);
	if (ret != 0)
		dump_errors(&errs);
	assert_int_equal(ret, 0);
	assert_int_equal(errs.n, 0);

	assert_int_equal(cfg.n_interfaces, 2);
	assert_string_equal(cfg.interfaces[0], "eth0");
	assert_string_equal(cfg.interfaces[1], "bond0.100");
	assert_int_equal(cfg.mode, PW_MODE_MONITOR);
	assert_int_equal(cfg.malformed, PW_MALFORMED_DROP);

	assert_int_equal(cfg.n_protect, 4);
	assert_int_equal(cfg.protect[0].proto, IPPROTO_TCP);
	assert_int_equal(cfg.protect[0].port, 26656);
	assert_int_equal(cfg.protect[1].proto, IPPROTO_TCP);
	assert_int_equal(cfg.protect[1].port, 30303);
	assert_int_equal(cfg.protect[2].proto, IPPROTO_UDP);
	assert_int_equal(cfg.protect[2].port, 30303);
	assert_int_equal(cfg.protect[3].proto, IPPROTO_UDP);
	assert_int_equal(cfg.protect[3].port, 9000);

	assert_int_equal(cfg.n_trusted, 3);
	pw_cidr_format(&cfg.trusted[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.18.1.0/24");
	pw_cidr_format(&cfg.trusted[1], buf, sizeof(buf));
	assert_string_equal(buf, "fd00:1::/48");
	pw_cidr_format(&cfg.trusted[2], buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.7/32");
	assert_int_equal(cfg.n_bans, 2);
	pw_cidr_format(&cfg.bans[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.18.66.0/24");
	pw_cidr_format(&cfg.bans[1], buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:bad::/48");

	assert_int_equal(cfg.src_prefix_v4, 30);
	assert_int_equal(cfg.src_prefix_v6, 56);
	assert_int_equal(cfg.net_prefix_v4, 20);
	assert_int_equal(cfg.net_prefix_v6, 40);

	assert_int_equal(cfg.source.pps, 2500);
	assert_int_equal(cfg.source.burst, 5000);
	assert_int_equal(cfg.source.syn_pps, 25);
	assert_int_equal(cfg.source.syn_burst, 50);
	assert_int_equal(cfg.quarantine.pps, 100);
	assert_int_equal(cfg.quarantine.burst, 300);
	assert_int_equal(cfg.quarantine.syn_pps, 1);
	assert_int_equal(cfg.quarantine.syn_burst, 3);
	assert_int_equal(cfg.prefix.pps, 30000);
	assert_int_equal(cfg.prefix.burst, 60000);
	assert_int_equal(cfg.prefix.syn_pps, 300);
	assert_int_equal(cfg.prefix.syn_burst, 600);
	assert_int_equal(cfg.untrusted.pps, 0);
	assert_int_equal(cfg.untrusted.burst, 0);
	assert_int_equal(cfg.untrusted.syn_pps, 6000);
	assert_int_equal(cfg.untrusted.syn_burst, 12000);

	assert_int_equal(cfg.maps.sources, 2000000);
	assert_int_equal(cfg.maps.prefixes, 100000);
	assert_int_equal(cfg.maps.sanctions, 50000);
	assert_int_equal(cfg.maps.bancidrs, 1024);
	assert_int_equal(cfg.tick_ms, 250);
	assert_int_equal(cfg.attn_pkts, 77);

	pw_config_free(&cfg);
	assert_zeroed(&cfg);
	pw_config_free(&cfg); /* idempotent */
	pw_config_free(NULL);
}

static void assert_defaults(const struct pw_config *cfg)
{
	assert_int_equal(cfg->n_interfaces, 0);
	assert_int_equal(cfg->mode, PW_MODE_ENFORCE);
	assert_int_equal(cfg->malformed, PW_MALFORMED_PASS);
	assert_null(cfg->protect);
	assert_int_equal(cfg->n_protect, 0);
	assert_int_equal(cfg->n_trusted, 0);
	assert_int_equal(cfg->n_bans, 0);
	assert_int_equal(cfg->src_prefix_v4, PW_DEF_SRC_PREFIX_V4);
	assert_int_equal(cfg->src_prefix_v6, PW_DEF_SRC_PREFIX_V6);
	assert_int_equal(cfg->net_prefix_v4, PW_DEF_NET_PREFIX_V4);
	assert_int_equal(cfg->net_prefix_v6, PW_DEF_NET_PREFIX_V6);
	assert_int_equal(cfg->source.pps, PW_DEF_SRC_PPS);
	assert_int_equal(cfg->source.burst, PW_DEF_SRC_BURST);
	assert_int_equal(cfg->source.syn_pps, PW_DEF_SRC_SYN_PPS);
	assert_int_equal(cfg->source.syn_burst, PW_DEF_SRC_SYN_BURST);
	assert_int_equal(cfg->quarantine.pps, PW_DEF_QUAR_PPS);
	assert_int_equal(cfg->quarantine.burst, PW_DEF_QUAR_BURST);
	assert_int_equal(cfg->quarantine.syn_pps, PW_DEF_QUAR_SYN_PPS);
	assert_int_equal(cfg->quarantine.syn_burst, PW_DEF_QUAR_SYN_BURST);
	assert_int_equal(cfg->prefix.pps, PW_DEF_PREFIX_PPS);
	assert_int_equal(cfg->prefix.burst, PW_DEF_PREFIX_BURST);
	assert_int_equal(cfg->prefix.syn_pps, PW_DEF_PREFIX_SYN_PPS);
	assert_int_equal(cfg->prefix.syn_burst, PW_DEF_PREFIX_SYN_BURST);
	assert_int_equal(cfg->untrusted.pps, PW_DEF_GLOBAL_PPS);
	assert_int_equal(cfg->untrusted.burst, PW_DEF_GLOBAL_BURST);
	assert_int_equal(cfg->untrusted.syn_pps, PW_DEF_GLOBAL_SYN_PPS);
	assert_int_equal(cfg->untrusted.syn_burst, PW_DEF_GLOBAL_SYN_BURST);
	assert_int_equal(cfg->maps.sources, PW_DEF_MAP_SOURCES);
	assert_int_equal(cfg->maps.prefixes, PW_DEF_MAP_PREFIXES);
	assert_int_equal(cfg->maps.sanctions, PW_DEF_MAP_SANCTIONS);
	assert_int_equal(cfg->maps.bancidrs, PW_DEF_MAP_BANCIDRS);
	assert_int_equal(cfg->tick_ms, PW_DEF_TICK_MS);
	assert_int_equal(cfg->attn_pkts, PW_DEF_ATTN_PKTS);
}

static void test_defaults(void **state)
{
	static const char *const texts[] = {
		"",
		"# nothing but a comment\n\n",
		"interfaces = [];\nprotect = ();\ntrusted = [];\nbans = [];\n",
		"protect = [];\nlimits = {};\nmaps = {};\nsource_prefix = "
		"{};\n",
		"limits = { source = {}; quarantine = {}; prefix = {}; "
		"untrusted = {}; };\n",
	};
	struct pw_config_errors errs;
	struct pw_config cfg, defaults;
	size_t i;

	(void)state;
	pw_config_defaults(&defaults);
	assert_defaults(&defaults);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		memset(&cfg, 0x5a, sizeof(cfg));
		if (pw_config_load_string(texts[i], NAME, &cfg, &errs) != 0) {
			print_error("config:\n%s\n", texts[i]);
			dump_errors(&errs);
			fail();
		}
		assert_int_equal(errs.n, 0);
		assert_memory_equal(&cfg, &defaults, sizeof(cfg));
		pw_config_free(&cfg);
	}
}

/* Values at the edges of every range are accepted. */
static void test_accept_bounds(void **state)
{
	static const char *const texts[] = {
		"protect = ( { proto = \"udp\"; port = 1; }, "
		"{ proto = \"udp\"; port = 65535; } );",
		"protect = ( { proto = \"tcp\"; port = 30303; }, "
		"{ proto = \"udp\"; port = 30303; } );",
		"source_prefix = { ipv4 = 1; ipv6 = 1; };"
		"limits = { prefix = { ipv4 = 1; ipv6 = 1; }; };",
		"source_prefix = { ipv4 = 32; ipv6 = 128; };"
		"limits = { prefix = { ipv4 = 32; ipv6 = 128; }; };",
		"maps = { sources = 16; prefixes = 67108864; "
		"sanctions = 0x10; bancidrs = 67108864L; };",
		"tick_ms = 10;",
		"tick_ms = 60000;",
		"attn_pkts = 1;",
		"attn_pkts = 4294967295L;",
		/* pps 0 = unlimited, burst ignored */
		"limits = { untrusted = { pps = 0; burst = 0; syn_pps = 0; "
		"syn_burst = 0; }; };",
		/* source unlimited: quarantine may be anything */
		"limits = { source = { pps = 0; syn_pps = 0; }; };",
		"limits = { untrusted = { pps = 100000000; "
		"burst = 1000000000; }; };",
		"limits = { quarantine = { pps = 2000; burst = 4000; syn_pps = "
		"20; syn_burst = 40; }; };",
		"interfaces = [\"abcdefghijklmno\", \"e-th_0.1@x\"];",
		"interfaces = [\"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\", "
		"\"a7\", \"a8\", \"a9\", \"a10\", \"a11\", \"a12\", \"a13\", "
		"\"a14\", \"a15\", \"a16\"];",
		"trusted = [\"198.18.1.0/24\"]; bans = [\"198.18.2.0/24\", "
		"\"fd00:2::/48\"];",
		"trusted = [\"0.0.0.0/0\"]; bans = [\"fd00::/8\"];",
		"maps = { bancidrs = 16; }; bans = [\"10.0.0.0/32\", "
		"\"10.0.0.1/32\", \"10.0.0.2/32\", \"10.0.0.3/32\", "
		"\"10.0.0.4/32\", \"10.0.0.5/32\", \"10.0.0.6/32\", "
		"\"10.0.0.7/32\", \"10.0.0.8/32\", \"10.0.0.9/32\", "
		"\"10.0.0.10/32\", \"10.0.0.11/32\", \"10.0.0.12/32\", "
		"\"10.0.0.13/32\", \"10.0.0.14/32\", \"10.0.0.15/32\", "
		"\"::1\"];",
		"# integers in comments and strings are not literals\n"
		"# 5000000000\n/* 6000000000 */ // 7000000000\n"
		"mode = \"monitor\"; /* 8000000000\n9000000000 */\n",
	};
	struct pw_config_errors errs;
	struct pw_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		if (pw_config_load_string(texts[i], NAME, &cfg, &errs) != 0) {
			print_error("config:\n%s\n", texts[i]);
			dump_errors(&errs);
			fail();
		}
		pw_config_free(&cfg);
	}
}

/* errs may be NULL when the caller only wants the verdict. */
static void test_null_errs(void **state)
{
	struct pw_config cfg;

	(void)state;
	assert_int_equal(
		pw_config_load_string("tick_ms = 1;", NAME, &cfg, NULL),
		-EINVAL);
	assert_zeroed(&cfg);
	assert_int_equal(
		pw_config_load_string("tick_ms = 100;", NULL, &cfg, NULL), 0);
	assert_int_equal(cfg.tick_ms, 100);
	pw_config_free(&cfg);
	assert_int_equal(pw_config_load_string(NULL, NAME, &cfg, NULL),
			 -EINVAL);
	assert_zeroed(&cfg);
}

/* --- rejections ---------------------------------------------------------- */

struct reject_row {
	const char *what;
	const char *text;
	const char *want; /* substring of one message */
};

static const struct reject_row reject_rows[] = {
	/* unknown keys */
	{"unknown top-level key", "mode = \"enforce\";\nlimts = {};\n",
	 NAME ":2: unknown top-level key 'limts'"},
	{"unknown key in limits.source",
	 "limits = {\n  source = {\n    ppps = 1;\n  };\n};\n",
	 NAME ":3: unknown key 'ppps' in 'limits.source'"},
	{"unknown key in limits", "limits = { global = {}; };",
	 "unknown key 'global' in 'limits'"},
	{"unknown key in limits.prefix",
	 "limits = { prefix = { ipv5 = 1; }; };",
	 "unknown key 'ipv5' in 'limits.prefix'"},
	{"prefix-only key in limits.source",
	 "limits = { source = { ipv4 = 24; }; };",
	 "unknown key 'ipv4' in 'limits.source'"},
	{"unknown key in maps", "maps = { source = 16; };",
	 "unknown key 'source' in 'maps'"},
	{"unknown key in source_prefix", "source_prefix = { v4 = 32; };",
	 "unknown key 'v4' in 'source_prefix'"},
	{"unknown key in protect entry",
	 "protect = ( { proto = \"tcp\"; port = 1; },\n"
	 "  { proto = \"tcp\"; port = 2; prot = \"udp\"; } );",
	 NAME ":2: unknown key 'prot' in 'protect[1]'"},

	/* wrong types, one per kind */
	{"string as int", "tick_ms = \"1000\";",
	 "'tick_ms' must be an integer, not a string"},
	{"float as int", "tick_ms = 1000.0;",
	 "'tick_ms' must be an integer, not a float"},
	{"bool as int", "attn_pkts = true;",
	 "'attn_pkts' must be an integer, not a boolean"},
	{"array as int", "attn_pkts = [1];",
	 "'attn_pkts' must be an integer, not an array"},
	{"float in limits", "limits = { source = { pps = 2000.5; }; };",
	 "'limits.source.pps' must be an integer, not a float"},
	{"bool in maps", "maps = { sources = true; };",
	 "'maps.sources' must be an integer, not a boolean"},
	{"string in source_prefix", "source_prefix = { ipv6 = \"64\"; };",
	 "'source_prefix.ipv6' must be an integer, not a string"},
	{"int as string", "mode = 1;",
	 "'mode' must be a string, not an integer"},
	{"bool as string", "malformed = true;",
	 "'malformed' must be a string, not a boolean"},
	{"group as string", "mode = { x = 1; };",
	 "'mode' must be a string, not a group"},
	{"string as array", "interfaces = \"eth0\";",
	 "'interfaces' must be an array of strings"},
	{"list as array", "interfaces = (\"eth0\");",
	 "'interfaces' must be an array of strings [ \"...\", ... ], not a "
	 "list"},
	{"ints in interfaces", "interfaces = [1, 2];",
	 "'interfaces[0]' must be a string, not an integer"},
	{"string as trusted", "trusted = \"198.18.1.0/24\";",
	 "'trusted' must be an array of strings"},
	{"ints in trusted", "trusted = [1];",
	 "'trusted[0]' must be a string, not an integer"},
	{"list as bans", "bans = ( \"198.18.66.0/24\" );",
	 "'bans' must be an array of strings"},
	{"group as protect", "protect = { proto = \"tcp\"; port = 1; };",
	 "'protect' must be a list of groups"},
	{"non-empty array as protect", "protect = [ 26656 ];",
	 "'protect' must be a list of groups ( { ... }, ... ), not an array"},
	{"int in protect", "protect = ( 26656 );",
	 "'protect[0]' must be a group"},
	{"int as proto", "protect = ( { proto = 6; port = 1; } );",
	 "'protect[0].proto' must be a string, not an integer"},
	{"string as port", "protect = ( { proto = \"tcp\"; port = \"1\"; } );",
	 "'protect[0].port' must be an integer, not a string"},
	{"int as limits", "limits = 5;",
	 "'limits' must be a group { ... }, not an integer"},
	{"array as limits.source", "limits = { source = [1]; };",
	 "'limits.source' must be a group { ... }, not an array"},
	{"int as source_prefix", "source_prefix = 32;",
	 "'source_prefix' must be a group"},
	{"list as maps", "maps = ( 1 );", "'maps' must be a group"},

	/* protect */
	{"port 0", "protect = ( { proto = \"tcp\"; port = 0; } );",
	 "'protect[0].port' must be 1..65535 (got 0)"},
	{"port 65536",
	 "protect = (\n  { proto = \"udp\";\n    port = 65536; } );",
	 NAME ":3: 'protect[0].port' must be 1..65535 (got 65536)"},
	{"negative port", "protect = ( { proto = \"tcp\"; port = -1; } );",
	 "'protect[0].port' must not be negative (got -1)"},
	{"missing port", "protect = ( { proto = \"tcp\"; } );",
	 "'protect[0]' has no port"},
	{"missing proto", "protect = ( { port = 1; } );",
	 "'protect[0]' has no proto"},
	{"bad proto", "protect = ( { proto = \"sctp\"; port = 1; } );",
	 "'protect[0].proto' must be \"tcp\", \"udp\" or \"tcp+udp\" (got "
	 "\"sctp\")"},
	{"proto is case-sensitive",
	 "protect = ( { proto = \"TCP\"; port = 1; } );", "(got \"TCP\")"},
	{"duplicate port",
	 "protect = (\n  { proto = \"tcp\"; port = 26656; },\n"
	 "  { proto = \"tcp\"; port = 26656; } );",
	 NAME ":3: duplicate protect entry 26656/tcp (first at line 2)"},
	{"duplicate via tcp+udp",
	 "protect = (\n  { proto = \"udp\"; port = 30303; },\n"
	 "  { proto = \"tcp+udp\"; port = 30303; } );",
	 NAME ":3: duplicate protect entry 30303/udp (first at line 2)"},

	/* trusted / bans */
	{"bad CIDR in trusted",
	 "trusted = [\n  \"198.18.1.0/24\",\n  \"198.18.1.5/24\"\n];",
	 NAME ":3: trusted[1]: host bits set in 198.18.1.5/24 (did you mean "
	      "198.18.1.0/24?)"},
	{"garbage in trusted", "trusted = [ \"sentry-1\" ];",
	 NAME ":1: trusted[0]: 'sentry-1' is not an IP address"},
	{"bad CIDR in bans", "mode = \"enforce\";\nbans = [ \"10.0.0.0/33\" ];",
	 NAME ":2: bans[0]: prefix length /33 in '10.0.0.0/33' is longer "
	      "than 32 bits"},
	{"bad CIDR last in a one-per-line array",
	 "bans = [\n  \"198.18.66.0/24\",  # fine\n  \"nope\"  # bad\n"
	 "  # a comment before the bracket\n\n];",
	 NAME ":3: bans[1]: 'nope' is not an IP address"},
	{"more IPv6 bans than the ban trie holds",
	 "bans = [\"10.0.0.0/32\", \"::1\", \"::2\", \"::3\", \"::4\",\n"
	 "  \"::5\", \"::6\", \"::7\", \"::8\", \"::9\", \"::a\", \"::b\",\n"
	 "  \"::c\", \"::d\", \"::e\", \"::f\", \"::10\", \"::11\"];\n"
	 "maps = { bancidrs = 16; };",
	 NAME ":4: bans has 1 IPv4 and 17 IPv6 entries"},
	{"bad v6 CIDR in bans", "bans = [ \"fd00::/8\", \"fd00::1/64\" ];",
	 "bans[1]: host bits set in fd00::1/64 (did you mean fd00::/64?)"},
	{"ban contains trusted",
	 "trusted = [ \"198.18.1.0/24\" ];\nbans = [ \"198.18.0.0/16\" ];",
	 NAME ":2: ban 198.18.0.0/16 overlaps trusted 198.18.1.0/24 at line 1"},
	{"ban inside trusted",
	 "trusted = [ \"198.18.0.0/16\" ];\nbans = [ \"198.18.66.7\" ];",
	 NAME ":2: ban 198.18.66.7/32 overlaps trusted 198.18.0.0/16"},
	{"v6 ban equals trusted",
	 "trusted = [ \"fd00:1::/48\" ];\nbans = [ \"fd00:1::/48\" ];",
	 "ban fd00:1::/48 overlaps trusted fd00:1::/48"},
	{"more bans than the ban trie holds",
	 "maps = {\n bancidrs = 16; };\nbans = [\"10.0.0.0/32\", "
	 "\"10.0.0.1/32\", \"10.0.0.2/32\", \"10.0.0.3/32\", "
	 "\"10.0.0.4/32\", \"10.0.0.5/32\", \"10.0.0.6/32\", "
	 "\"10.0.0.7/32\", \"10.0.0.8/32\", \"10.0.0.9/32\", "
	 "\"10.0.0.10/32\", \"10.0.0.11/32\", \"10.0.0.12/32\", "
	 "\"10.0.0.13/32\", \"10.0.0.14/32\", \"10.0.0.15/32\", "
	 "\"10.0.0.16/32\"];",
	 NAME ":2: bans has 17 IPv4 and 0 IPv6 entries but maps.bancidrs "
	      "holds 16 per family"},

	/* limits */
	{"burst < pps", "limits = { source = { pps = 2000; burst = 100; }; };",
	 NAME ":1: burst (100) < pps (2000) in limits.source"},
	{"syn_burst < syn_pps",
	 "limits = {\n prefix = {\n  syn_pps = 300;\n  syn_burst = 299; };\n"
	 "};",
	 NAME ":4: syn_burst (299) < syn_pps (300) in limits.prefix"},
	{"pps raised above the default burst",
	 "limits = { untrusted = { pps = 500000; }; };",
	 "burst (400000) < pps (500000) in limits.untrusted"},
	{"burst 0 with a rate", "limits = { quarantine = { burst = 0; }; };",
	 "burst (0) < pps (200) in limits.quarantine"},
	{"pps above the maximum",
	 "limits = { untrusted = { pps = 100000001; burst = 200000000; }; };",
	 "'limits.untrusted.pps' must be 0..100000000 packets/s (got "
	 "100000001)"},
	{"burst above the maximum",
	 "limits = { untrusted = { burst = 1000000001; }; };",
	 "'limits.untrusted.burst' must be 0..1000000000 packets"},
	{"negative pps", "limits = { source = { pps = -1; }; };",
	 "'limits.source.pps' must not be negative (got -1)"},
	{"negative int64", "limits = { source = { syn_pps = -5L; }; };",
	 "'limits.source.syn_pps' must not be negative (got -5)"},
	{"quarantine pps looser than source",
	 "limits = {\n quarantine = { pps = 3000; burst = 6000; };\n};",
	 NAME ":2: limits.quarantine.pps (3000) > limits.source.pps (2000)"},
	{"quarantine syn_pps looser than lowered source",
	 "limits = {\n source = { syn_pps = 1; syn_burst = 1; };\n};",
	 NAME ":2: limits.quarantine.syn_pps (2) > limits.source.syn_pps "
	      "(1)"},
	{"quarantine unlimited, source limited",
	 "limits = { quarantine = { pps = 0; }; };",
	 "limits.quarantine.pps is unlimited (0) but limits.source.pps is "
	 "2000"},

	/* prefix widths */
	{"prefix ipv4 0", "limits = { prefix = { ipv4 = 0; }; };",
	 "'limits.prefix.ipv4' must be 1..32 bits (got 0)"},
	{"prefix ipv4 33", "limits = { prefix = { ipv4 = 33; }; };",
	 "'limits.prefix.ipv4' must be 1..32 bits (got 33)"},
	{"prefix ipv6 0", "limits = { prefix = { ipv6 = 0; }; };",
	 "'limits.prefix.ipv6' must be 1..128 bits (got 0)"},
	{"prefix ipv6 129", "limits = { prefix = { ipv6 = 129; }; };",
	 "'limits.prefix.ipv6' must be 1..128 bits (got 129)"},
	{"source_prefix ipv4 0", "source_prefix = { ipv4 = 0; };",
	 "'source_prefix.ipv4' must be 1..32 bits (got 0)"},
	{"source_prefix ipv4 33", "source_prefix = { ipv4 = 33; };",
	 "'source_prefix.ipv4' must be 1..32 bits (got 33)"},
	{"source_prefix ipv6 0", "source_prefix = { ipv6 = 0; };",
	 "'source_prefix.ipv6' must be 1..128 bits (got 0)"},
	{"source_prefix ipv6 129", "source_prefix = { ipv6 = 129; };",
	 "'source_prefix.ipv6' must be 1..128 bits (got 129)"},
	{"prefix narrower than source (v4)",
	 "mode = \"monitor\";\nsource_prefix = { ipv4 = 16; };",
	 NAME ":2: limits.prefix.ipv4 (/24) is longer than "
	      "source_prefix.ipv4 (/16): a prefix bucket must cover whole "
	      "sources"},
	{"prefix narrower than source (v6)",
	 "limits = { prefix = {\n ipv6 = 96; }; };",
	 NAME ":2: limits.prefix.ipv6 (/96) is longer than "
	      "source_prefix.ipv6 (/64)"},

	/* mode, malformed */
	{"bad mode", "mode = \"enforcing\";",
	 NAME ":1: 'mode' must be \"enforce\" or \"monitor\" (got "
	      "\"enforcing\")"},
	{"bad malformed", "malformed = \"reject\";",
	 "'malformed' must be \"pass\" or \"drop\" (got \"reject\")"},

	/* interfaces */
	{"too many interfaces",
	 "interfaces = [\"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\", "
	 "\"a7\", \"a8\", \"a9\", \"a10\", \"a11\", \"a12\", \"a13\", "
	 "\"a14\", \"a15\", \"a16\", \"a17\"];",
	 "too many interfaces (17, at most 16)"},
	{"interface name too long", "interfaces = [\"abcdefghijklmnop\"];",
	 "interface \"abcdefghijklmnop\" is longer than 15 characters"},
	{"empty interface name", "interfaces = [\"\"];",
	 "interface \"\" is empty"},
	{"interface name with a slash", "interfaces = [\"eth/0\"];",
	 "interface \"eth/0\" contains '/'"},
	{"interface name with a space", "interfaces = [\"eth 0\"];",
	 "interface \"eth 0\" contains"},
	{"interface name '..'", "interfaces = [\"..\"];",
	 "is not a valid interface name"},
	{"duplicate interface", "interfaces = [\"eth0\", \"eth1\", \"eth0\"];",
	 "interface \"eth0\" is listed twice"},

	/* maps, tick, attention */
	{"map below minimum", "maps = { sources = 15; };",
	 "'maps.sources' must be 16..67108864 entries (got 15)"},
	{"map above maximum", "maps = { bancidrs = 67108865; };",
	 "'maps.bancidrs' must be 16..67108864 entries (got 67108865)"},
	{"map negative", "maps = { prefixes = -16; };",
	 "'maps.prefixes' must not be negative"},
	{"map size 0", "maps = { sanctions = 0; };",
	 "'maps.sanctions' must be 16..67108864 entries (got 0)"},
	{"tick below minimum", "tick_ms = 9;",
	 "'tick_ms' must be 10..60000 ms (got 9)"},
	{"tick above maximum", "tick_ms = 60001;",
	 "'tick_ms' must be 10..60000 ms (got 60001)"},
	{"attn_pkts above u32", "attn_pkts = 5000000000L;",
	 "'attn_pkts' must be 1..4294967295 packets per tick (got "
	 "5000000000)"},
	{"attn_pkts 0", "attn_pkts = 0;",
	 "'attn_pkts' must be 1..4294967295 packets per tick (got 0)"},

	/* libconfig stores 4294967312 (no L) as 16: must not pass as 16 */
	{"32-bit overflow literal", "maps = {\n sources = 4294967312; };",
	 NAME ":2: integer 4294967312 does not fit in 32 bits; write it as "
	      "4294967312L"},
	{"32-bit overflow hex literal", "maps = { sources = 0x100000010; };",
	 "integer 0x100000010 does not fit in 32 bits"},
	{"negative 32-bit overflow", "attn_pkts = -3000000000;",
	 "integer -3000000000 does not fit in 32 bits"},

	/* syntax */
	{"syntax error", "mode = \"enforce\";\ntick_ms = ;\n",
	 NAME ":2: syntax error"},
	{"unterminated group", "limits = {\n source = { pps = 1; };\n",
	 NAME ":"},
	{"duplicate key", "tick_ms = 100;\n\ntick_ms = 200;\n",
	 NAME ":3: duplicate setting name"},
	{"mixed array", "bans = [ \"198.18.66.0/24\", 5 ];",
	 NAME ":1: mismatched element type in array"},
};

static void test_reject(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(reject_rows); i++)
		expect_reject(reject_rows[i].what, reject_rows[i].text,
			      reject_rows[i].want);
}

/* A wrapped 32-bit literal is reported once, not again as "negative". */
static void test_wrapped_literal_reported_once(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg;

	(void)state;
	assert_int_equal(pw_config_load_string(
				 "limits = { source = { burst = 3000000000; "
				 "pps = 2000; }; };",
				 NAME, &cfg, &errs),
			 -EINVAL);
	if (errs.n != 1)
		dump_errors(&errs);
	assert_int_equal(errs.n, 1);
	assert_zeroed(&cfg);
}

static void test_too_many_protect(void **state)
{
	size_t cap = 64 + (PW_MAX_PROTECT + 1) * 48, i;
	struct pw_config_errors errs;
	struct pw_config cfg;
	char *text = malloc(cap), *p = text;

	(void)state;
	assert_non_null(text);
	p += sprintf(p, "protect = (\n");
	for (i = 0; i <= PW_MAX_PROTECT; i++)
		p += sprintf(p, "%s{ proto = \"tcp\"; port = %zu; }\n",
			     i ? "," : "", 1000 + i);
	sprintf(p, ");\n");
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0],
			    NAME ":258: too many protect entries (at most "
				 "256)");
	assert_zeroed(&cfg);

	/* Exactly the maximum is fine. */
	*strstr(text, ",{ proto = \"tcp\"; port = 1256; }") = '\0';
	strcat(text, ");\n");
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs), 0);
	assert_int_equal(cfg.n_protect, PW_MAX_PROTECT);
	pw_config_free(&cfg);
	free(text);
}

/* Every problem in a file is reported in one run, each at its line. */
static void test_multiple_errors(void **state)
{
	static const char text[] =
		"interfaces = [\"eth0\", \"eth0\"];\n"			/* 1 */
		"mode = \"enforcing\";\n"				/* 2 */
		"protect = ( { proto = \"tcp\"; port = 0; } );\n"	/* 3 */
		"trusted = [ \"198.18.1.5/24\" ];\n"			/* 4 */
		"limits = { source = { pps = 2000; burst = 10; }; };\n" /* 5 */
		"maps = { sources = 1; };\n"				/* 6 */
		"tick_ms = 0;\n"					/* 7 */
		"colour = \"blue\";\n";					/* 8 */
	static const char *const want[] = {
		NAME ":1: interface \"eth0\" is listed twice",
		NAME ":2: 'mode' must be",
		NAME ":3: 'protect[0].port' must be 1..65535",
		NAME ":4: trusted[0]: host bits set",
		NAME ":5: burst (10) < pps (2000) in limits.source",
		NAME ":6: 'maps.sources' must be 16..67108864",
		NAME ":7: 'tick_ms' must be 10..60000",
		NAME ":8: unknown top-level key 'colour'",
	};
	struct pw_config_errors errs;
	struct pw_config cfg;
	size_t i;

	(void)state;
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs),
			 -EINVAL);
	assert_true(errs.n >= 3);
	assert_int_equal(errs.n, ARRAY_SIZE(want));
	assert_int_equal(errs.dropped, 0);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		if (!has_error(&errs, want[i])) {
			print_error("missing \"%s\" in:\n", want[i]);
			dump_errors(&errs);
			fail();
		}
	}
	assert_zeroed(&cfg);
}

/* Past PW_CONFIG_MAX_ERRORS messages are counted, not stored. */
static void test_error_cap(void **state)
{
	size_t n = PW_CONFIG_MAX_ERRORS + 6, i;
	struct pw_config_errors errs;
	struct pw_config cfg;
	char *text = malloc(n * 32), *p = text;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "unknown%zu = 1;\n", i);
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, PW_CONFIG_MAX_ERRORS);
	assert_int_equal(errs.dropped, 6);
	assert_string_equal(errs.msg[0],
			    NAME ":1: unknown top-level key 'unknown0'");
	assert_zeroed(&cfg);
	free(text);
}

/* --- files --------------------------------------------------------------- */

static void test_example_file(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg, defaults;
	char buf[PW_CIDR_STRLEN];

	(void)state;
	if (pw_config_load_file(EXAMPLE_CONF, &cfg, &errs) != 0) {
		dump_errors(&errs);
		fail();
	}
	assert_int_equal(cfg.n_interfaces, 1);
	assert_string_equal(cfg.interfaces[0], "eth0");
	assert_int_equal(cfg.mode, PW_MODE_ENFORCE);
	assert_int_equal(cfg.malformed, PW_MALFORMED_PASS);

	assert_int_equal(cfg.n_protect, 5);
	assert_int_equal(cfg.protect[0].proto, IPPROTO_TCP);
	assert_int_equal(cfg.protect[0].port, 26656);
	assert_int_equal(cfg.protect[1].proto, IPPROTO_TCP);
	assert_int_equal(cfg.protect[1].port, 30303);
	assert_int_equal(cfg.protect[2].proto, IPPROTO_UDP);
	assert_int_equal(cfg.protect[2].port, 30303);
	assert_int_equal(cfg.protect[3].proto, IPPROTO_TCP);
	assert_int_equal(cfg.protect[3].port, 8333);
	assert_int_equal(cfg.protect[4].proto, IPPROTO_UDP);
	assert_int_equal(cfg.protect[4].port, 9000);

	assert_int_equal(cfg.n_trusted, 2);
	pw_cidr_format(&cfg.trusted[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.18.1.0/24");
	pw_cidr_format(&cfg.trusted[1], buf, sizeof(buf));
	assert_string_equal(buf, "fd00:1::/48");
	assert_int_equal(cfg.n_bans, 0);

	/* Apart from what it configures, the example shows the defaults. */
	pw_config_defaults(&defaults);
	assert_memory_equal(&cfg.source, &defaults.source,
			    4 * sizeof(struct pw_limit));
	assert_memory_equal(&cfg.maps, &defaults.maps, sizeof(cfg.maps));
	assert_int_equal(cfg.src_prefix_v4, defaults.src_prefix_v4);
	assert_int_equal(cfg.src_prefix_v6, defaults.src_prefix_v6);
	assert_int_equal(cfg.net_prefix_v4, defaults.net_prefix_v4);
	assert_int_equal(cfg.net_prefix_v6, defaults.net_prefix_v6);
	assert_int_equal(cfg.tick_ms, defaults.tick_ms);
	assert_int_equal(cfg.attn_pkts, defaults.attn_pkts);
	pw_config_free(&cfg);
}

static void test_missing_file(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(
		pw_config_load_file("/nonexistent/peerwall.conf", &cfg, &errs),
		-ENOENT);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "/nonexistent/peerwall.conf: cannot "
					 "open: No such file or directory");
	assert_zeroed(&cfg);
}

#define WRITE_FILE(path, literal) write_file(path, literal, sizeof(literal) - 1)

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/pw_test_config.XXXXXX";
	char main_path[64], sub_path[64], bad_path[64], nul_path[64];
	struct pw_config_errors errs;
	struct pw_config cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
	snprintf(sub_path, sizeof(sub_path), "%s/sub.conf", dir);
	snprintf(bad_path, sizeof(bad_path), "%s/bad.conf", dir);
	snprintf(nul_path, sizeof(nul_path), "%s/nul.conf", dir);

	/* The file name and line prefix every message. */
	WRITE_FILE(bad_path, "mode = \"monitor\";\n\ntick_ms = 5;\n");
	assert_int_equal(pw_config_load_file(bad_path, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "/bad.conf:3: 'tick_ms' must be"));
	assert_int_equal(strncmp(errs.msg[0], dir, strlen(dir)), 0);
	assert_zeroed(&cfg);

	/* Syntax errors carry the line libconfig stopped at. */
	WRITE_FILE(bad_path, "mode = \"monitor\";\ntick_ms = = 1;\n");
	assert_int_equal(pw_config_load_file(bad_path, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "/bad.conf:2: syntax error"));
	assert_zeroed(&cfg);

	/* @include is relative to the including file, not the cwd. */
	WRITE_FILE(sub_path, "tick_ms = 500;\n");
	WRITE_FILE(main_path, "mode = \"monitor\";\n@include \"sub.conf\"\n");
	assert_int_equal(pw_config_load_file(main_path, &cfg, &errs), 0);
	assert_int_equal(cfg.tick_ms, 500);
	assert_int_equal(cfg.mode, PW_MODE_MONITOR);
	pw_config_free(&cfg);

	/* A NUL byte would hide the rest of the file from libconfig. */
	WRITE_FILE(nul_path, "mode = \"monitor\";\0tick_ms = 5;\n");
	assert_int_equal(pw_config_load_file(nul_path, &cfg, &errs), -EINVAL);
	assert_non_null(strstr(errs.msg[0], "contains a NUL byte"));
	assert_zeroed(&cfg);

	/* A directory opens but cannot be read. */
	assert_int_equal(pw_config_load_file(dir, &cfg, &errs), -EIO);
	assert_non_null(strstr(errs.msg[0], "cannot read"));
	assert_zeroed(&cfg);

	unlink(main_path);
	unlink(sub_path);
	unlink(bad_path);
	unlink(nul_path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_accept_bounds),
		cmocka_unit_test(test_null_errs),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_wrapped_literal_reported_once),
		cmocka_unit_test(test_too_many_protect),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
