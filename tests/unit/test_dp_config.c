// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dp_config.c - config -> datapath record: masks, protocol bits,
 * bucket parameters and the derived watch/throttle levels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "dp_config.h"

static void test_masks(void **state)
{
	static const struct {
		unsigned v4_bits;
		uint32_t v4_mask_host;
	} v4[] = {{32, 0xffffffffu},
		  {24, 0xffffff00u},
		  {1, 0x80000000u},
		  {31, 0xfffffffeu},
		  {17, 0xffff8000u}};
	struct pw_config cfg;
	struct pw_dp_config dp;

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		pw_config_defaults(&cfg);
		cfg.src_prefix_v4 = v4[i].v4_bits;
		cfg.net_prefix_v4 = v4[i].v4_bits;
		pw_dp_config_build(&cfg, &dp);
		assert_int_equal(ntohl(dp.src_mask_v4), v4[i].v4_mask_host);
		assert_int_equal(ntohl(dp.net_mask_v4), v4[i].v4_mask_host);
	}
}

static void test_v6_masks_bytewise(void **state)
{
	static const unsigned bits[] = {1, 7, 48, 63, 64, 65, 127, 128};
	struct pw_config cfg;
	struct pw_dp_config dp;

	(void)state;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uint8_t m[16];

		pw_config_defaults(&cfg);
		cfg.src_prefix_v6 = bits[i];
		pw_dp_config_build(&cfg, &dp);
		memcpy(m, dp.src_mask_v6, 16);
		for (unsigned b = 0; b < 128; b++) {
			int set = (m[b / 8] >> (7 - b % 8)) & 1;

			if (set != (b < bits[i]))
				fail_msg("/%u: bit %u is %d", bits[i], b, set);
		}
	}
}

static void test_ports_and_protocols(void **state)
{
	struct pw_protect prot[] = {{IPPROTO_TCP, 26656},
				    {IPPROTO_TCP, 30303},
				    {IPPROTO_UDP, 30303}};
	struct pw_config cfg;
	struct pw_dp_config dp;

	(void)state;
	pw_config_defaults(&cfg);
	cfg.protect = prot;
	cfg.n_protect = 3;
	pw_dp_config_build(&cfg, &dp);
	assert_int_equal(dp.proto_any_ports, PW_PORT_TCP | PW_PORT_UDP);
	assert_int_equal(pw_port_flags(&cfg, 26656), PW_PORT_TCP);
	assert_int_equal(pw_port_flags(&cfg, 30303), PW_PORT_TCP | PW_PORT_UDP);
	assert_int_equal(pw_port_flags(&cfg, 8333), 0);
	cfg.n_protect = 1;
	pw_dp_config_build(&cfg, &dp);
	assert_int_equal(dp.proto_any_ports, PW_PORT_TCP);
}

static void test_levels(void **state)
{
	struct pw_limit lv[PW_LVL_NR];
	struct pw_config cfg;
	struct pw_dp_config dp;

	(void)state;
	pw_config_defaults(&cfg);
	cfg.source = (struct pw_limit){2000, 4000, 20, 40, 0};
	cfg.quarantine = (struct pw_limit){200, 400, 8, 16, 0};
	pw_level_limits(&cfg, lv);
	assert_int_equal(lv[PW_LVL_NORMAL].pps, 2000);
	assert_int_equal(lv[PW_LVL_WATCH].pps, 1000);
	assert_int_equal(lv[PW_LVL_WATCH].burst, 2000);
	assert_int_equal(lv[PW_LVL_THROTTLE].pps, 500);
	/* never tighter than quarantine: 20/4 = 5 < 8 */
	assert_int_equal(lv[PW_LVL_THROTTLE].syn_pps, 8);
	assert_int_equal(lv[PW_LVL_QUARANTINE].pps, 200);

	pw_dp_config_build(&cfg, &dp);
	assert_int_equal(dp.src[PW_LVL_NORMAL].pkt.interval_ns, 500000);
	assert_int_equal(dp.src[PW_LVL_QUARANTINE].pkt.interval_ns, 5000000);
	assert_int_equal(dp.src[PW_LVL_WATCH].syn.interval_ns, 100000000);

	/* an unlimited source stays unlimited at every derived level */
	cfg.source.pps = 0;
	pw_level_limits(&cfg, lv);
	assert_int_equal(lv[PW_LVL_WATCH].pps, 0);
	assert_int_equal(lv[PW_LVL_THROTTLE].pps, 0);
}

static void test_tick_and_mode(void **state)
{
	struct pw_config cfg;
	struct pw_dp_config dp;

	(void)state;
	pw_config_defaults(&cfg);
	cfg.tick_ms = 250;
	cfg.mode = PW_MODE_MONITOR;
	cfg.malformed = PW_MALFORMED_DROP;
	pw_dp_config_build(&cfg, &dp);
	assert_int_equal(dp.tick_ns, 250000000ull);
	assert_int_equal(dp.mode, PW_MODE_MONITOR);
	assert_int_equal(dp.malformed_policy, PW_MALFORMED_DROP);
	assert_int_equal(dp.emergency, 0);
	assert_int_equal(dp.trusted_v4_count, 0);
}

/* Sampling is off by default; capture.reasons samples for good; the
 * budget allows one second's worth at once. */
static void test_sampling_record(void **state)
{
	struct pw_config cfg;
	struct pw_dp_config dp;
	uint32_t mask = 0;

	(void)state;
	pw_config_defaults(&cfg);
	pw_dp_config_build(&cfg, &dp);
	assert_int_equal(dp.sample_reasons, 0);
	assert_int_equal(dp.sample_always, 0);
	assert_int_equal(dp.sample_until_ns, 0);
	assert_int_equal(dp.sample_snaplen, PW_DEF_CAPTURE_SNAPLEN);
	assert_int_equal(dp.sample.interval_ns, 1000000000ull / 100);
	assert_int_equal(dp.sample.tolerance_ns, 99 * (1000000000ull / 100));

	cfg.capture.reasons = 1u << PW_R_DROP_BANNED;
	cfg.capture.per_second = 4;
	pw_dp_config_build(&cfg, &dp);
	assert_int_equal(dp.sample_reasons, 1u << PW_R_DROP_BANNED);
	assert_int_equal(dp.sample_always, 1u << PW_R_DROP_BANNED);
	assert_int_equal(dp.sample.interval_ns, 250000000ull);

	assert_int_equal(pw_sample_reasons_parse("drop_rate_prefix", &mask), 0);
	assert_int_equal(mask, 1u << PW_R_DROP_RATE_PREFIX);
	assert_int_equal(pw_sample_reasons_parse("malformed", &mask), 0);
	assert_int_equal(mask, 1u << PW_R_MALFORMED);
	assert_int_equal(pw_sample_reasons_parse("all", &mask), 0);
	assert_int_equal(mask, PW_SAMPLE_REASONS_ALL);
	assert_int_equal(pw_sample_reasons_parse("pass", &mask), -EINVAL);
	assert_int_equal(pw_sample_reasons_parse("pass_trusted", &mask),
			 -EINVAL);
	assert_int_equal(pw_sample_reasons_parse("samples", &mask), -EINVAL);
	assert_int_equal(pw_sample_reasons_parse("", &mask), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_v6_masks_bytewise),
		cmocka_unit_test(test_ports_and_protocols),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_tick_and_mode),
		cmocka_unit_test(test_sampling_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
