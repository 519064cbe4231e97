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
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dp_config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Long strings for length limits: X100 is 100 'x'. */
#define X10	     "xxxxxxxxxx"
#define X100	     X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define NAME	     "t.conf"
#define EXAMPLE_CONF "conf/peerwall.conf"

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
	"attn_pkts = 77L;\n"
	"state_dir = \"/srv/pw/state\";\n"
	"control_socket = \"/srv/pw/ctl.sock\";\n"
	"control_group = \"pw-ops\";\n"
	"report_socket = \"/srv/pw/report.sock\";\n"
	"pin_root = \"/sys/fs/bpf/pw2\";\n"
	"xdp_mode = \"native\";\n"
	"detach_on_exit = true;\n"
	"posture = \"elevated\";\n"
	"metrics = { listen = \"[::1]:9100\"; };\n"
	"reports = { per_tick = 500; };\n"
	"max_peers = 4096;\n"
	"logwatch = (\n"
	"  { path = \"/var/log/node.log\"; weight = 20;\n"
	"    reason = \"bad_block\";\n"
	"    pattern = \"invalid block from ([0-9.]+)\"; },\n"
	"  { path = \"/var/log/geth.log\";\n"
	"    pattern = \"peer=([0-9a-f:.]+) bad\"; }\n"
	");\n"
	"scoring = {\n"
	"  syn = { half_life = \"90s\"; budget = 31.5; weight = 0.06; };\n"
	"  drop = { half_life = 120; budget = 100; weight = 0.02; };\n"
	"  pkt = { half_life = \"5m\"; budget = 1e6; weight = 1e-9; };\n"
	"  invalid = { half_life = \"1h30m\"; budget = 0; weight = 2.5; };\n"
	"  log = { half_life = \"2h\"; budget = 1.0; weight = 3; };\n"
	"  thresholds = { watch = 5; throttle = 50.5; quarantine = 200.0; "
	"ban = 900L; };\n"
	"  hysteresis = 0.75;\n"
	"  min_state = { watch = \"45s\"; throttle = 0; quarantine = \"3m\"; "
	"};\n"
	"  credit = { cap = 10.0; per_good = 0.5; serious_penalty = 40; };\n"
	"  ban = { base = \"5m\"; factor = 2.5; max = \"30d\"; jitter = 0.0; "
	"strike_decay = \"12h\"; };\n"
	"  probation = { duration = \"20m\"; factor = 1; };\n"
	"  prefix = { ipv4 = 20; ipv6 = 40; throttle_bans = 4; ban_bans = 4; "
	"window = \"15m\"; };\n"
	"  guard = { max_bans_per_min = 0; max_fraction = 1.0; "
	"min_established = 5; };\n"
	"  established_window = \"2h\";\n"
	"};\n";

#define assert_double_equal(a, b) assert_true((double)(a) == (double)(b))

/* The scoring group of full_config, key by key. */
static void assert_scoring_full(const struct pw_score_params *sp)
{
	struct pw_score_params def;

	pw_score_params_defaults(&def);
	assert_double_equal(sp->sig[PW_SIG_SYN].half_life_s, 90);
	assert_double_equal(sp->sig[PW_SIG_SYN].budget, 31.5);
	assert_double_equal(sp->sig[PW_SIG_SYN].weight, 0.06);
	assert_double_equal(sp->sig[PW_SIG_DROP].half_life_s, 120);
	assert_double_equal(sp->sig[PW_SIG_DROP].budget, 100);
	assert_double_equal(sp->sig[PW_SIG_DROP].weight, 0.02);
	assert_double_equal(sp->sig[PW_SIG_PKT].half_life_s, 300);
	assert_double_equal(sp->sig[PW_SIG_PKT].budget, 1e6);
	assert_double_equal(sp->sig[PW_SIG_PKT].weight, 1e-9);
	assert_double_equal(sp->sig[PW_SIG_INVALID].half_life_s, 5400);
	assert_double_equal(sp->sig[PW_SIG_INVALID].budget, 0);
	assert_double_equal(sp->sig[PW_SIG_INVALID].weight, 2.5);
	assert_double_equal(sp->sig[PW_SIG_LOG].half_life_s, 7200);
	assert_double_equal(sp->sig[PW_SIG_LOG].budget, 1);
	assert_double_equal(sp->sig[PW_SIG_LOG].weight, 3);
	assert_double_equal(sp->threshold[PW_ST_NORMAL],
			    def.threshold[PW_ST_NORMAL]);
	assert_double_equal(sp->threshold[PW_ST_WATCH], 5);
	assert_double_equal(sp->threshold[PW_ST_THROTTLE], 50.5);
	assert_double_equal(sp->threshold[PW_ST_QUARANTINE], 200);
	assert_double_equal(sp->threshold[PW_ST_BANNED], 900);
	assert_double_equal(sp->hysteresis, 0.75);
	assert_double_equal(sp->min_state_s[PW_ST_NORMAL],
			    def.min_state_s[PW_ST_NORMAL]);
	assert_double_equal(sp->min_state_s[PW_ST_WATCH], 45);
	assert_double_equal(sp->min_state_s[PW_ST_THROTTLE], 0);
	assert_double_equal(sp->min_state_s[PW_ST_QUARANTINE], 180);
	assert_double_equal(sp->min_state_s[PW_ST_BANNED],
			    def.min_state_s[PW_ST_BANNED]);
	assert_double_equal(sp->credit_cap, 10);
	assert_double_equal(sp->credit_per_good, 0.5);
	assert_double_equal(sp->serious_penalty, 40);
	assert_double_equal(sp->ban_base_s, 300);
	assert_double_equal(sp->ban_factor, 2.5);
	assert_double_equal(sp->ban_max_s, 30 * 86400);
	assert_double_equal(sp->ban_jitter, 0);
	assert_double_equal(sp->strike_decay_s, 12 * 3600);
	assert_double_equal(sp->probation_s, 1200);
	assert_double_equal(sp->probation_factor, 1);
	assert_int_equal(sp->prefix_v4, 20);
	assert_int_equal(sp->prefix_v6, 40);
	assert_int_equal(sp->prefix_throttle_bans, 4);
	assert_int_equal(sp->prefix_ban_bans, 4);
	assert_double_equal(sp->prefix_window_s, 900);
	assert_int_equal(sp->max_auto_bans_per_min, 0);
	assert_double_equal(sp->max_ban_fraction, 1);
	assert_int_equal(sp->min_established_for_fraction, 5);
	assert_double_equal(sp->established_window_s, 7200);
	/* Not configurable. */
	assert_memory_equal(sp->posture_scale, def.posture_scale,
			    sizeof(def.posture_scale));
}

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

	assert_string_equal(cfg.agent.state_dir, "/srv/pw/state");
	assert_string_equal(cfg.agent.control_socket, "/srv/pw/ctl.sock");
	assert_string_equal(cfg.agent.control_group, "pw-ops");
	assert_string_equal(cfg.agent.report_socket, "/srv/pw/report.sock");
	assert_string_equal(cfg.agent.pin_root, "/sys/fs/bpf/pw2");
	assert_int_equal(cfg.agent.xdp_mode, PW_CFG_XDP_NATIVE);
	assert_true(cfg.agent.detach_on_exit);
	assert_int_equal(cfg.agent.posture, PW_POSTURE_ELEVATED);
	assert_string_equal(cfg.agent.metrics_listen, "[::1]:9100");
	assert_int_equal(cfg.agent.reports_per_tick, 500);
	assert_int_equal(cfg.agent.max_peers, 4096);
	assert_int_equal(cfg.agent.n_logwatch, 2);
	assert_string_equal(cfg.agent.logwatch[0].path, "/var/log/node.log");
	assert_string_equal(cfg.agent.logwatch[0].pattern,
			    "invalid block from ([0-9.]+)");
	assert_int_equal(cfg.agent.logwatch[0].weight, 20);
	assert_string_equal(cfg.agent.logwatch[0].reason, "bad_block");
	assert_string_equal(cfg.agent.logwatch[1].path, "/var/log/geth.log");
	assert_string_equal(cfg.agent.logwatch[1].pattern,
			    "peer=([0-9a-f:.]+) bad");
	assert_int_equal(cfg.agent.logwatch[1].weight, 10);
	assert_string_equal(cfg.agent.logwatch[1].reason, "log");

	assert_scoring_full(&cfg.scoring);

	pw_config_free(&cfg);
	assert_zeroed(&cfg);
	pw_config_free(&cfg); /* idempotent */
	pw_config_free(NULL);
}

static void assert_defaults_agent(const struct pw_config *cfg)
{
	struct pw_score_params def;

	assert_string_equal(cfg->agent.state_dir, PW_DEF_STATE_DIR);
	assert_string_equal(cfg->agent.control_socket, PW_DEF_CONTROL_SOCKET);
	assert_string_equal(cfg->agent.control_group, "peerwall");
	assert_string_equal(cfg->agent.report_socket, PW_DEF_REPORT_SOCKET);
	assert_string_equal(cfg->agent.pin_root, PW_DEF_PIN_ROOT);
	assert_string_equal(cfg->agent.metrics_listen, PW_DEF_METRICS_LISTEN);
	assert_int_equal(cfg->agent.xdp_mode, PW_CFG_XDP_AUTO);
	assert_false(cfg->agent.detach_on_exit);
	assert_int_equal(cfg->agent.posture, PW_POSTURE_NORMAL);
	assert_int_equal(cfg->agent.reports_per_tick, PW_DEF_REPORTS_PER_TICK);
	assert_int_equal(cfg->agent.max_peers, PW_DEF_MAX_PEERS);
	assert_int_equal(cfg->agent.n_logwatch, 0);
	pw_score_params_defaults(&def);
	assert_memory_equal(&cfg->scoring, &def, sizeof(def));
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
	assert_defaults_agent(cfg);
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
		"metrics = {};\nreports = {};\nlogwatch = ();\nscoring = {};\n",
		"logwatch = [];\n",
		"scoring = { syn = {}; drop = {}; pkt = {}; invalid = {}; "
		"log = {}; thresholds = {}; min_state = {}; credit = {}; "
		"ban = {}; probation = {}; prefix = {}; guard = {}; };\n",
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
		/* agent keys */
		"control_socket = \"/" X100 "xxxxxx\";", /* 107 bytes */
		"report_socket = \"/" X100 "xxxxxx\";",
		"state_dir = \"/" X100 X100 X10 X10 X10 X10 X10 "xxxx\";",
		"pin_root = \"/\"; state_dir = \"/var/lib/peerwall-2\";",
		"control_group = \"\";",
		"control_group = \"_Pw.ops-1\";",
		"control_group = \"" X10 X10 X10 "xx\";", /* 32 chars */
		"xdp_mode = \"generic\"; detach_on_exit = false;",
		"xdp_mode = \"auto\"; posture = \"severe\";",
		"posture = \"normal\";",
		"metrics = { listen = \"\"; };",
		"metrics = { listen = \"0.0.0.0:1\"; };",
		"metrics = { listen = \"255.255.255.255:65535\"; };",
		"metrics = { listen = \"[::]:9477\"; };",
		"metrics = { listen = "
		"\"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535\"; };",
		"reports = { per_tick = 1; }; max_peers = 1024;",
		"reports = { per_tick = 1000000; }; max_peers = 67108864;",
		"logwatch = ( { path = \"/l\"; pattern = \"(x)\"; weight = 1; "
		"reason = \"a\"; }, { path = \"/l\"; pattern = \"(x)\"; "
		"weight = 100; reason = \"" X10 X10 X10 X10 X10
		"azAZ09_.:-\"; } );",
		"logwatch = ( { pattern = \"^(.*)$\";\n"
		"  path = \"/var/log/x\"; } );",
		/* scoring edges */
		"scoring = { hysteresis = 0.001; ban = { jitter = 0.499; }; };",
		"scoring = { hysteresis = 0.999; ban = { jitter = 0; }; };",
		"scoring = { probation = { duration = 0; factor = 1; }; };",
		"scoring = { probation = {\n"
		"  duration = \"0s\"; factor = 0.001; }; };",
		"scoring = { ban = { base = \"1h\"; max = \"1h\"; factor = 1; "
		"}; };",
		"scoring = { ban = { base = 1; max = \"3650d\"; strike_decay = "
		"315360000; }; };",
		"scoring = { prefix = { ipv4 = 8; ipv6 = 16;\n"
		"  throttle_bans = 1; ban_bans = 1; }; };",
		"scoring = { prefix = { ipv4 = 32; ipv6 = 128; }; };",
		"scoring = { guard = { max_fraction = 1; max_bans_per_min = "
		"1000000; min_established = 0; }; };",
		"scoring = { guard = { max_fraction = 0.001; }; };",
		"scoring = { min_state = { watch = 0; throttle = \"0\"; "
		"quarantine = \"1w\"; }; };",
		"scoring = { syn = { half_life = 1; budget = 0; weight = 0; }; "
		"log = { half_life = \"1s\"; budget = 5; weight = 1; }; };",
		"scoring = { thresholds = { watch = 0.001; throttle = 1; "
		"quarantine = 2L; ban = 1e300; }; };",
		"scoring = { credit = { cap = 0; per_good = 0; "
		"serious_penalty = 0; }; established_window = 1; };",
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

	/* agent paths */
	{"relative state_dir", "mode = \"monitor\";\nstate_dir = \"var/lib\";",
	 NAME ":2: 'state_dir' must be an absolute path (got \"var/lib\")"},
	{"empty pin_root", "pin_root = \"\";",
	 "'pin_root' must be an absolute path (got \"\")"},
	{"relative control_socket", "control_socket = \"ctl.sock\";",
	 "'control_socket' must be an absolute path"},
	{"control_socket too long",
	 "mode = \"monitor\";\n\ncontrol_socket = \"/" X100 "xxxxxxx\";",
	 NAME ":3: 'control_socket' is 108 bytes long; a unix socket path must "
	      "be shorter than 108 bytes"},
	{"report_socket too long", "report_socket = \"/" X100 X10 "\";",
	 NAME ":1: 'report_socket' is 111 bytes long; a unix socket path must "
	      "be shorter than 108 bytes"},
	{"state_dir too long",
	 "state_dir = \"/" X100 X100 X10 X10 X10 X10 X10 "xxxxx\";",
	 "'state_dir' is 256 bytes long, at most 255 allowed"},
	{"control char in pin_root", "pin_root = \"/sys/fs/bpf/a\\nb\";",
	 "'pin_root' contains a control character"},
	{"int as state_dir", "state_dir = 1;",
	 "'state_dir' must be a string, not an integer"},

	/* control_group */
	{"group with a space", "control_group = \"peer wall\";",
	 NAME ":1: 'control_group' \"peer wall\" may only contain letters"},
	{"group starting with '-'", "control_group = \"-pw\";",
	 "'control_group' \"-pw\" starts with '-'"},
	{"numeric group", "control_group = \"1000\";",
	 "'control_group' \"1000\" is a number; give the group's name"},
	{"group too long", "control_group = \"" X10 X10 X10 "xxx\";",
	 "is longer than 32 characters"},

	/* xdp_mode, detach_on_exit, posture */
	{"bad xdp_mode", "mode = \"monitor\";\nxdp_mode = \"offload\";",
	 NAME ":2: 'xdp_mode' must be \"auto\", \"native\" or \"generic\" "
	      "(got \"offload\")"},
	{"xdp_mode case", "xdp_mode = \"Native\";", "(got \"Native\")"},
	{"int as detach_on_exit", "detach_on_exit = 1;",
	 "'detach_on_exit' must be a boolean (true or false), not an integer"},
	{"string as detach_on_exit", "detach_on_exit = \"yes\";",
	 "'detach_on_exit' must be a boolean (true or false), not a string"},
	{"bad posture", "\nposture = \"high\";",
	 NAME ":2: 'posture' must be \"normal\", \"elevated\" or \"severe\" "
	      "(got \"high\")"},
	{"int as posture", "posture = 1;",
	 "'posture' must be a string, not an integer"},

	/* metrics.listen */
	{"listen without port", "metrics = {\n listen = \"127.0.0.1\"; };",
	 NAME ":2: 'metrics.listen' \"127.0.0.1\" has no ':port'"},
	{"listen host name", "metrics = { listen = \"localhost:9477\"; };",
	 "'metrics.listen' \"localhost:9477\" has a host that is not an IPv4 "
	 "address or a [bracketed] IPv6 address"},
	{"listen port 0", "metrics = { listen = \"127.0.0.1:0\"; };",
	 "has a port that is not 1..65535"},
	{"listen port 65536", "metrics = { listen = \"127.0.0.1:65536\"; };",
	 "has a port that is not 1..65535"},
	{"listen port leading zero",
	 "metrics = { listen = \"127.0.0.1:09477\"; };",
	 "has a port that is not 1..65535"},
	{"listen port sign", "metrics = { listen = \"127.0.0.1:+80\"; };",
	 "has a port that is not 1..65535"},
	{"listen empty port", "metrics = { listen = \"127.0.0.1:\"; };",
	 "has a port that is not 1..65535"},
	{"listen no host", "metrics = { listen = \":9477\"; };",
	 "has no IPv4 address before ':port'"},
	{"listen IPv6 without brackets",
	 "metrics = { listen = \"::1:9477\"; };",
	 "has an IPv6 address without brackets (write [addr]:port)"},
	{"listen unclosed bracket", "metrics = { listen = \"[::1:9477\"; };",
	 "has '[' without ']'"},
	{"listen no colon after bracket",
	 "metrics = { listen = \"[::1]9477\"; };", "needs ':port' after ']'"},
	{"listen IPv4 in brackets",
	 "metrics = { listen = \"[127.0.0.1]:9477\"; };",
	 "is not an IPv6 address in brackets"},
	{"listen zone id", "metrics = { listen = \"[fe80::1%eth0]:9477\"; };",
	 "is not an IPv6 address in brackets"},
	{"listen short IPv4", "metrics = { listen = \"127.1:9477\"; };",
	 "has a host that is not an IPv4 address"},
	{"listen too long",
	 "metrics = { listen = \"[" X10 X10 X10 X10 X10 X10 "]:1\"; };",
	 "is too long"},
	{"int as listen", "metrics = { listen = 9477; };",
	 "'metrics.listen' must be a string, not an integer"},
	{"unknown key in metrics", "metrics = { port = 9477; };",
	 "unknown key 'port' in 'metrics'"},
	{"string as metrics", "metrics = \"127.0.0.1:9477\";",
	 "'metrics' must be a group { ... }, not a string"},

	/* reports, max_peers */
	{"per_tick 0", "reports = {\n per_tick = 0; };",
	 NAME ":2: 'reports.per_tick' must be 1..1000000 reports per tick (got "
	      "0)"},
	{"per_tick too large", "reports = { per_tick = 1000001; };",
	 "'reports.per_tick' must be 1..1000000 reports per tick (got "
	 "1000001)"},
	{"unknown key in reports", "reports = { max = 1; };",
	 "unknown key 'max' in 'reports'"},
	{"max_peers too small", "max_peers = 1023;",
	 NAME ":1: 'max_peers' must be 1024..67108864 sources (got 1023)"},
	{"max_peers too large", "max_peers = 67108865;",
	 "'max_peers' must be 1024..67108864 sources (got 67108865)"},
	{"max_peers negative", "max_peers = -1;",
	 "'max_peers' must not be negative (got -1)"},

	/* logwatch */
	{"logwatch relative path",
	 "logwatch = (\n { path = \"node.log\"; pattern = \"(x)\"; } );",
	 NAME ":2: 'logwatch[0].path' must be an absolute path (got "
	      "\"node.log\")"},
	{"logwatch bad regex",
	 "logwatch = ( { path = \"/l\"; pattern = \"from ([0-9.+\"; } );",
	 "'logwatch[0].pattern' does not compile: "},
	{"logwatch regex without group",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; },\n"
	 "  { path = \"/l\"; pattern = \"invalid block from [0-9.]+\"; } );",
	 NAME ":2: 'logwatch[1].pattern' has no group: group 1 ( ... ) must "
	      "capture the peer's address"},
	{"logwatch weight 0",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; weight = 0; } );",
	 "'logwatch[0].weight' must be 1..100 (got 0)"},
	{"logwatch weight 101",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; weight = 101; } "
	 ");",
	 "'logwatch[0].weight' must be 1..100 (got 101)"},
	{"logwatch reason with a space",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; reason = \"bad "
	 "block\"; } );",
	 "'logwatch[0].reason' must be 1..63 characters of A-Z a-z 0-9 _ . : - "
	 "(got \"bad block\")"},
	{"logwatch empty reason",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; reason = \"\"; } );",
	 "'logwatch[0].reason' must be 1..63 characters"},
	{"logwatch reason too long",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; reason = \"" X10 X10
		 X10 X10 X10 X10 "xxxx\"; } );",
	 "'logwatch[0].reason' must be 1..63 characters"},
	{"logwatch pattern too long",
	 "logwatch = ( { path = \"/l\"; pattern = \"(" X100 X100 X100 X100 X100
		 X10 "x)\"; } );",
	 "'logwatch[0].pattern' is 513 bytes long, at most 511 allowed"},
	{"logwatch missing path", "logwatch = ( { pattern = \"(x)\"; } );",
	 NAME ":1: 'logwatch[0]' has no path"},
	{"logwatch missing pattern", "logwatch = ( { path = \"/l\"; } );",
	 "'logwatch[0]' has no pattern"},
	{"logwatch unknown key",
	 "logwatch = ( { path = \"/l\"; pattern = \"(x)\"; regex = \"y\"; } "
	 ");",
	 "unknown key 'regex' in 'logwatch[0]'"},
	{"logwatch int pattern",
	 "logwatch = ( { path = \"/l\"; pattern = 1; } );",
	 "'logwatch[0].pattern' must be a string, not an integer"},
	{"logwatch entry not a group", "logwatch = ( \"/var/log/x\" );",
	 "'logwatch[0]' must be a group { path = ...; pattern = ...; }"},
	{"logwatch as a group",
	 "logwatch = { path = \"/l\"; pattern = \"(x)\"; };",
	 "'logwatch' must be a list of groups ( { ... }, ... ), not a group"},

	/* scoring: structure and types */
	{"unknown key in scoring", "scoring = {\n  halflife = 1; };",
	 NAME ":2: unknown key 'halflife' in 'scoring'"},
	{"unknown key in scoring.syn",
	 "scoring = { syn = { half_life = 1; budgt = 2; }; };",
	 "unknown key 'budgt' in 'scoring.syn'"},
	{"unknown signal", "scoring = { rst = {}; };",
	 "unknown key 'rst' in 'scoring'"},
	{"unknown key in scoring.ban", "scoring = { ban = { min = 1; }; };",
	 "unknown key 'min' in 'scoring.ban'"},
	{"ban state has no min_state",
	 "scoring = { min_state = { ban = \"1m\"; }; };",
	 "unknown key 'ban' in 'scoring.min_state'"},
	{"int as scoring", "scoring = 1;",
	 "'scoring' must be a group { ... }, not an integer"},
	{"list as scoring.guard", "scoring = { guard = ( 1 ); };",
	 "'scoring.guard' must be a group { ... }, not a list"},
	{"string as float", "scoring = { hysteresis = \"0.5\"; };",
	 "'scoring.hysteresis' must be a number, not a string"},
	{"bool as float", "scoring = { credit = { cap = true; }; };",
	 "'scoring.credit.cap' must be a number, not a boolean"},
	{"infinite float", "scoring = { thresholds = { ban = 1e999; }; };",
	 "'scoring.thresholds.ban' must be a finite number"},
	{"float as duration", "scoring = { ban = { base = 1.5; }; };",
	 "'scoring.ban.base' must be a duration (\"90s\", \"10m\", \"1h30m\", "
	 "\"7d\") or an integer number of seconds, not a float"},
	{"float as prefix bits", "scoring = { prefix = { ipv4 = 24.0; }; };",
	 "'scoring.prefix.ipv4' must be an integer, not a float"},
	{"wrapped literal as float",
	 "scoring = { thresholds = { ban = 5000000000; }; };",
	 "integer 5000000000 does not fit in 32 bits"},

	/* scoring: values */
	{"duration bad unit",
	 "scoring = {\n syn = { half_life = \"10x\"; };\n};",
	 NAME ":2: 'scoring.syn.half_life': unknown unit 'x' in duration "
	      "'10x'"},
	{"duration negative integer",
	 "scoring = { ban = {\n strike_decay = -5; }; };",
	 NAME ":2: 'scoring.ban.strike_decay' must not be negative (got -5)"},
	{"duration negative string",
	 "scoring = { prefix = { window = \"-5m\"; }; };",
	 "'scoring.prefix.window': duration '-5m' has a sign"},
	{"duration fraction", "scoring = { ban = { max = \"1.5d\"; }; };",
	 "'scoring.ban.max': fractions are not supported"},
	{"duration too long", "scoring = { ban = { max = \"3651d\"; }; };",
	 "'scoring.ban.max': duration '3651d' is longer than the maximum"},
	{"duration integer too long",
	 "scoring = { ban = { max = 315360001; }; };",
	 "'scoring.ban.max' must be 0..315360000 seconds (got 315360001)"},
	{"half_life 0", "scoring = { drop = { half_life = 0; }; };",
	 "'scoring.drop.half_life' must be longer than 0"},
	{"half_life 0s", "scoring = { invalid = { half_life = \"0s\"; }; };",
	 "'scoring.invalid.half_life' must be longer than 0"},
	{"established_window 0", "scoring = { established_window = \"0\"; };",
	 "'scoring.established_window' must be longer than 0"},
	{"negative budget", "scoring = { pkt = { budget = -1.0; }; };",
	 "'scoring.pkt.budget' must be >= 0 (got -1)"},
	{"negative weight", "scoring = { log = { weight = -2; }; };",
	 "'scoring.log.weight' must be >= 0 (got -2)"},
	{"negative credit", "scoring = { credit = { per_good = -0.5; }; };",
	 "'scoring.credit.per_good' must be >= 0 (got -0.5)"},
	{"threshold 0", "scoring = { thresholds = { watch = 0; }; };",
	 "'scoring.thresholds.watch' must be > 0 (got 0)"},
	{"thresholds equal",
	 "scoring = { thresholds = {\n watch = 10;\n throttle = 10; }; };",
	 NAME ":3: scoring.thresholds.throttle (10) must be greater than "
	      "scoring.thresholds.watch (10)"},
	{"thresholds decreasing",
	 "scoring = {\n thresholds = {\n  quarantine = 2000.0;\n }; };",
	 NAME ":3: scoring.thresholds.ban (1000) must be greater than "
	      "scoring.thresholds.quarantine (2000)"},
	{"threshold below the one before",
	 "scoring = { thresholds = { throttle = 5.5; }; };",
	 "scoring.thresholds.throttle (5.5) must be greater than "
	 "scoring.thresholds.watch (10)"},
	{"hysteresis 0", "scoring = {\n hysteresis = 0; };",
	 NAME ":2: 'scoring.hysteresis' must be > 0 and < 1 (got 0)"},
	{"hysteresis 1", "scoring = { hysteresis = 1.0; };",
	 "'scoring.hysteresis' must be > 0 and < 1 (got 1)"},
	{"ban factor < 1", "scoring = { ban = { factor = 0.9; }; };",
	 "'scoring.ban.factor' must be >= 1 (got 0.9)"},
	{"ban max < base",
	 "scoring = {\n ban = {\n  base = \"1h\";\n  max = \"30m\"; }; };",
	 NAME ":4: scoring.ban.max (30m) is shorter than "
	      "scoring.ban.base (1h)"},
	{"ban base above default max",
	 "scoring = {\n ban = { base = \"8d\"; }; };",
	 NAME ":2: scoring.ban.max (7d) is shorter than scoring.ban.base (8d)"},
	{"ban base 0", "scoring = { ban = { base = 0; }; };",
	 "'scoring.ban.base' must be longer than 0"},
	{"jitter 0.5", "scoring = { ban = { jitter = 0.5; }; };",
	 "'scoring.ban.jitter' must be >= 0 and < 0.5 (got 0.5)"},
	{"negative jitter", "scoring = { ban = { jitter = -0.1; }; };",
	 "'scoring.ban.jitter' must be >= 0 and < 0.5 (got -0.1)"},
	{"strike_decay 0", "scoring = { ban = { strike_decay = \"0m\"; }; };",
	 "'scoring.ban.strike_decay' must be longer than 0"},
	{"probation factor 0", "scoring = { probation = { factor = 0; }; };",
	 "'scoring.probation.factor' must be > 0 and <= 1 (got 0)"},
	{"probation factor 1.5",
	 "scoring = { probation = { factor = 1.5; }; };",
	 "'scoring.probation.factor' must be > 0 and <= 1 (got 1.5)"},
	{"prefix ipv4 7", "scoring = { prefix = {\n ipv4 = 7; }; };",
	 NAME ":2: 'scoring.prefix.ipv4' must be 8..32 bits (got 7)"},
	{"prefix ipv4 33", "scoring = { prefix = { ipv4 = 33; }; };",
	 "'scoring.prefix.ipv4' must be 8..32 bits (got 33)"},
	{"prefix ipv6 15", "scoring = { prefix = { ipv6 = 15; }; };",
	 "'scoring.prefix.ipv6' must be 16..128 bits (got 15)"},
	{"prefix ipv6 129", "scoring = { prefix = { ipv6 = 129; }; };",
	 "'scoring.prefix.ipv6' must be 16..128 bits (got 129)"},
	{"ban_bans < throttle_bans",
	 "scoring = { prefix = {\n throttle_bans = 5;\n ban_bans = 4; }; };",
	 NAME ":3: scoring.prefix.ban_bans (4) < scoring.prefix.throttle_bans "
	      "(5)"},
	{"throttle_bans above default ban_bans",
	 "scoring = { prefix = {\n throttle_bans = 9; }; };",
	 NAME ":2: scoring.prefix.ban_bans (8) < scoring.prefix.throttle_bans "
	      "(9)"},
	{"throttle_bans 0", "scoring = { prefix = { throttle_bans = 0; }; };",
	 "'scoring.prefix.throttle_bans' must be 1..1000000 banned sources "
	 "(got 0)"},
	{"prefix window 0", "scoring = { prefix = { window = 0; }; };",
	 "'scoring.prefix.window' must be longer than 0"},
	{"guard fraction 0", "scoring = { guard = { max_fraction = 0; }; };",
	 "'scoring.guard.max_fraction' must be > 0 and <= 1 (got 0)"},
	{"guard fraction 1.5",
	 "scoring = { guard = {\n max_fraction = 1.5; }; };",
	 NAME ":2: 'scoring.guard.max_fraction' must be > 0 and <= 1 "
	      "(got 1.5)"},
	{"guard bans per minute negative",
	 "scoring = { guard = { max_bans_per_min = -1; }; };",
	 "'scoring.guard.max_bans_per_min' must not be negative"},

	/* syntax */
	{"syntax error", "mode = \"enforce\";\ntick_ms = ;\n",
	 NAME ":2: syntax error"},
	{"unterminated group", "limits = {\n source = { pps = 1; };\n",
	 NAME ":"},
	{"duplicate key", "tick_ms = 100;\n\ntick_ms = 200;\n",
	 NAME ":3: duplicate setting name"},
	{"mixed array", "bans = [ \"198.18.66.0/24\", 5 ];",
	 NAME ":1: mismatched element type in array"},

	/* nftables and emergency mode */
	{"bad enforce", "enforce = \"iptables\";",
	 NAME ":1: 'enforce' must be \"both\", \"xdp\" or \"nft\""},
	{"bad table name", "nft = { table = \"my table\"; };",
	 "'nft.table' \"my table\" must be 1..63 letters"},
	{"unknown key in nft", "nft = { tabel = \"x\"; };",
	 "unknown key 'tabel' in 'nft'"},
	{"zero emergency ttl", "emergency = { default_ttl = \"0s\"; };",
	 "'emergency.default_ttl' must be longer than 0"},
	{"mgmt port 0", "emergency = { mgmt_ports = [ 22, 0 ]; };",
	 "must be 1..65535"},
	{"mgmt port also protected",
	 "protect = ( { proto = \"tcp\"; port = 22; } );",
	 "port 22 is both protected and an emergency.mgmt_ports entry"},
	{"max_conns on quarantine",
	 "limits = { quarantine = { max_conns = 3; }; };",
	 "unknown key 'max_conns' in 'limits.quarantine'"},
	{"max_conns too big",
	 "limits = { source = { max_conns = 2000000; }; };",
	 "must be 0..1000000 connections"},

	/* capture { } */
	{"capture of a pass reason",
	 "capture = {\n reasons = [ \"drop_banned\", \"pass\" ];\n};",
	 NAME ":2: 'capture.reasons': \"pass\" is not a drop reason"},
	{"capture reason typo", "capture = { reasons = [ \"banned\" ]; };",
	 "\"banned\" is not a drop reason (malformed, drop_emergency"},
	{"capture reasons not an array", "capture = { reasons = \"all\"; };",
	 "must be an array of strings"},
	{"capture per_second 0", "capture = { per_second = 0; };",
	 "'capture.per_second' must be 1..5000 samples/s"},
	{"capture snaplen too big", "capture = { snaplen = 257; };",
	 "'capture.snaplen' must be 1..256 bytes"},
	{"capture ring too small", "capture = { ring_kib = 8; };",
	 "'capture.ring_kib' must be 64..65536 KiB"},
	{"unknown key in capture", "capture = { seconds = 3; };",
	 "unknown key 'seconds' in 'capture'"},
};

/* capture { }: off by default; reasons by name or "all". */
static void test_capture_keys(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg;

	(void)state;
	assert_int_equal(pw_config_load_string("", NAME, &cfg, &errs), 0);
	assert_int_equal(cfg.capture.reasons, 0);
	assert_int_equal(cfg.capture.per_second, PW_DEF_CAPTURE_PER_S);
	assert_int_equal(cfg.capture.snaplen, PW_DEF_CAPTURE_SNAPLEN);
	assert_int_equal(cfg.capture.ring_kib, PW_DEF_CAPTURE_RING_KIB);
	pw_config_free(&cfg);

	assert_int_equal(
		pw_config_load_string(
			"capture = { reasons = [ \"drop_banned\", "
			"\"malformed\", \"drop_syn_global\" ]; per_second = "
			"5000; snaplen = 256; ring_kib = 64; };",
			NAME, &cfg, &errs),
		0);
	assert_int_equal(cfg.capture.reasons,
			 (1u << PW_R_DROP_BANNED) | (1u << PW_R_MALFORMED) |
				 (1u << PW_R_DROP_SYN_GLOBAL));
	assert_int_equal(cfg.capture.per_second, 5000);
	assert_int_equal(cfg.capture.snaplen, 256);
	assert_int_equal(cfg.capture.ring_kib, 64);
	pw_config_free(&cfg);

	assert_int_equal(
		pw_config_load_string("capture = { reasons = [ \"all\" ]; };",
				      NAME, &cfg, &errs),
		0);
	assert_int_equal(cfg.capture.reasons, PW_SAMPLE_REASONS_ALL);
	/* every drop reason and malformed, no pass reason */
	assert_int_equal(cfg.capture.reasons & ((1u << PW_R_PASS_UNTRACKED) |
						(1u << PW_R_PASS_TRUSTED) |
						(1u << PW_R_PASS)),
			 0);
	assert_int_equal(__builtin_popcount(cfg.capture.reasons),
			 PW_R_NR - PW_R_DROP_EMERGENCY + 1);
	pw_config_free(&cfg);
}

/* enforce, nft { }, emergency { }, limits.*.max_conns */
static void test_nft_keys(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg;

	(void)state;
	assert_int_equal(pw_config_load_string("", NAME, &cfg, &errs), 0);
	assert_int_equal(cfg.nft.enforce, PW_ENFORCE_BOTH);
	assert_string_equal(cfg.nft.table, "peerwall");
	assert_int_equal(cfg.nft.n_mgmt, 1);
	assert_int_equal(cfg.nft.mgmt_ports[0], 22);
	assert_true(cfg.nft.emergency_ttl_s == 900);
	assert_false(cfg.nft.remove_on_exit);
	assert_false(cfg.nft.mirror_bans);
	assert_int_equal(cfg.source.max_conns, 0);
	pw_config_free(&cfg);

	assert_int_equal(
		pw_config_load_string(
			"enforce = \"nft\";\n"
			"nft = { table = \"pw_test-1\"; remove_on_exit = true; "
			"mirror_bans = true; };\n"
			"emergency = { default_ttl = \"1h\"; mgmt_ports = [ "
			"2222, 9100 ]; };\n"
			"limits = { source = { max_conns = 4; }; prefix = { "
			"max_conns = 64; }; };\n",
			NAME, &cfg, &errs),
		0);
	assert_int_equal(cfg.nft.enforce, PW_ENFORCE_NFT);
	assert_string_equal(cfg.nft.table, "pw_test-1");
	assert_true(cfg.nft.remove_on_exit);
	assert_true(cfg.nft.mirror_bans);
	assert_true(cfg.nft.emergency_ttl_s == 3600);
	assert_int_equal(cfg.nft.n_mgmt, 2);
	assert_int_equal(cfg.nft.mgmt_ports[1], 9100);
	assert_int_equal(cfg.source.max_conns, 4);
	assert_int_equal(cfg.prefix.max_conns, 64);
	pw_config_free(&cfg);

	/* No management port at all is allowed (an empty list). */
	assert_int_equal(pw_config_load_string("emergency = { mgmt_ports = "
					       "[]; };",
					       NAME, &cfg, &errs),
			 0);
	assert_int_equal(cfg.nft.n_mgmt, 0);
	pw_config_free(&cfg);
}

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

/* A pattern that does not compile is reported with regerror()'s text. */
static void test_logwatch_regerror(void **state)
{
	static const char pattern[] = "invalid block from ([0-9.]+";
	static const char text[] =
		"logwatch = (\n"
		"  { path = \"/var/log/node.log\";\n"
		"    pattern = \"invalid block from ([0-9.]+\"; }\n"
		");\n";
	char why[128], want[256];
	struct pw_config_errors errs;
	struct pw_config cfg;
	regex_t re;
	int rc;

	(void)state;
	rc = regcomp(&re, pattern, REG_EXTENDED);
	assert_int_not_equal(rc, 0);
	regerror(rc, &re, why, sizeof(why));
	assert_true(strlen(why) > 0);
	snprintf(want, sizeof(want),
		 NAME ":3: 'logwatch[0].pattern' does not compile: %s", why);
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], want);
	assert_zeroed(&cfg);
}

/* At most PW_MAX_LOGWATCH entries, reported at the list. */
static void test_too_many_logwatch(void **state)
{
	size_t cap = 64 + (PW_MAX_LOGWATCH + 1) * 96, i;
	struct pw_config_errors errs;
	struct pw_config cfg;
	char *text = malloc(cap), *p = text, *last;

	(void)state;
	assert_non_null(text);
	p += sprintf(p, "mode = \"monitor\";\nlogwatch = (\n");
	for (i = 0; i <= PW_MAX_LOGWATCH; i++)
		p += sprintf(
			p,
			"%s{ path = \"/var/log/n%zu.log\"; "
			"pattern = \"bad peer ([0-9.]+)\"; weight = %zu; }\n",
			i ? "," : "", i, i + 1);
	sprintf(p, ");\n");
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs),
			 -EINVAL);
	if (errs.n != 1)
		dump_errors(&errs);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0],
			    NAME ":2: too many logwatch entries (33, at most "
				 "32)");
	assert_zeroed(&cfg);

	/* Exactly the maximum is fine, each entry kept in order. */
	last = strstr(text, ",{ path = \"/var/log/n32.log\"");
	assert_non_null(last);
	strcpy(last, ");\n");
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs), 0);
	assert_int_equal(cfg.agent.n_logwatch, PW_MAX_LOGWATCH);
	assert_string_equal(cfg.agent.logwatch[0].path, "/var/log/n0.log");
	assert_string_equal(cfg.agent.logwatch[31].path, "/var/log/n31.log");
	assert_string_equal(cfg.agent.logwatch[31].pattern,
			    "bad peer ([0-9.]+)");
	assert_int_equal(cfg.agent.logwatch[31].weight, 32);
	assert_string_equal(cfg.agent.logwatch[31].reason, "log");
	pw_config_free(&cfg);
	free(text);
}

/* Agent and scoring problems are collected with the rest, each at its
 * line. */
static void test_multiple_errors_agent(void **state)
{
	static const char text[] =
		"state_dir = \"var/lib/peerwall\";\n"			/* 1 */
		"xdp_mode = \"offload\";\n"				/* 2 */
		"metrics = { listen = \"localhost:9477\"; };\n"		/* 3 */
		"max_peers = 10;\n"					/* 4 */
		"logwatch = ( { path = \"/l\"; pattern = \"x\"; } );\n" /* 5 */
		"scoring = {\n"						/* 6 */
		"  syn = { half_life = \"10x\"; };\n"			/* 7 */
		"  hysteresis = 1;\n"					/* 8 */
		"  ban = { base = \"1h\"; max = \"1m\"; };\n"		/* 9 */
		"  guard = { max_fraction = 0; };\n"			/* 10 */
		"  rate = 1;\n"						/* 11 */
		"};\n";
	static const char *const want[] = {
		NAME ":1: 'state_dir' must be an absolute path",
		NAME ":2: 'xdp_mode' must be",
		NAME ":3: 'metrics.listen' \"localhost:9477\"",
		NAME ":4: 'max_peers' must be 1024..67108864",
		NAME ":5: 'logwatch[0].pattern' has no group",
		NAME ":7: 'scoring.syn.half_life': unknown unit 'x'",
		NAME ":8: 'scoring.hysteresis' must be > 0 and < 1",
		NAME
		":9: scoring.ban.max (1m) is shorter than scoring.ban.base "
		"(1h)",
		NAME ":10: 'scoring.guard.max_fraction' must be > 0 and <= 1",
		NAME ":11: unknown key 'rate' in 'scoring'",
	};
	struct pw_config_errors errs;
	struct pw_config cfg;
	size_t i;

	(void)state;
	assert_int_equal(pw_config_load_string(text, NAME, &cfg, &errs),
			 -EINVAL);
	if (errs.n != ARRAY_SIZE(want))
		dump_errors(&errs);
	assert_int_equal(errs.n, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		if (!has_error(&errs, want[i])) {
			print_error("missing \"%s\" in:\n", want[i]);
			dump_errors(&errs);
			fail();
		}
	}
	assert_zeroed(&cfg);
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
	/* The agent keys and the whole scoring group, as shipped. */
	assert_memory_equal(&cfg.agent, &defaults.agent, sizeof(cfg.agent));
	assert_memory_equal(&cfg.scoring, &defaults.scoring,
			    sizeof(cfg.scoring));
	pw_config_free(&cfg);
}

/* The example's commented-out logwatch entry is valid once uncommented. */
static void test_example_logwatch(void **state)
{
	struct pw_config_errors errs;
	struct pw_config cfg;
	char *text, *c, *end;
	FILE *f;
	long len;

	(void)state;
	f = fopen(EXAMPLE_CONF, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);

	c = strstr(text, "\nlogwatch = (\n");
	assert_non_null(c);
	c = strchr(c + 1, '\n') + 1;
	end = strstr(c, "\n);");
	assert_non_null(end);
	for (; c < end; c = strchr(c, '\n') + 1)
		if (*c == '#')
			*c = ' ';
	if (pw_config_load_string(text, EXAMPLE_CONF, &cfg, &errs) != 0) {
		dump_errors(&errs);
		fail();
	}
	assert_int_equal(cfg.agent.n_logwatch, 1);
	assert_string_equal(cfg.agent.logwatch[0].path, "/var/log/node.log");
	assert_string_equal(cfg.agent.logwatch[0].pattern,
			    "invalid block from ([0-9.]+)");
	assert_int_equal(cfg.agent.logwatch[0].weight, 10);
	assert_string_equal(cfg.agent.logwatch[0].reason, "bad_block");
	pw_config_free(&cfg);
	free(text);
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
		cmocka_unit_test(test_nft_keys),
		cmocka_unit_test(test_capture_keys),
		cmocka_unit_test(test_wrapped_literal_reported_once),
		cmocka_unit_test(test_too_many_protect),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_logwatch_regerror),
		cmocka_unit_test(test_too_many_logwatch),
		cmocka_unit_test(test_multiple_errors_agent),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_example_logwatch),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
