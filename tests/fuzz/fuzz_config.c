// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config.c - pw_config_load_string() on arbitrary text: libconfig's
 * parser, then peerwall's schema and validation, then the datapath record
 * built from what was accepted.
 *
 * Inputs containing "@include" are skipped: libconfig would read whatever
 * file the fuzzer names (/dev/zero, a fifo), which tests the harness's
 * filesystem, not peerwall. Include handling is exercised by the unit
 * tests with their own files.
 *
 * Properties: never a crash or leak; a rejected config has at least one
 * message, each terminated in its buffer; an accepted config keeps the
 * documented rules (docs/configuration.md) that the datapath relies on:
 * prefix widths in range and no longer than the source key, bursts at
 * least the rate, protected ports 1..65535 over tcp/udp, valid CIDRs.
 */
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "dp_config.h"
#include "fuzz_util.h"

static struct pw_config_errors errs;

/* Debian 12's libconfig 1.5 leaks on parse errors: a string token the
 * parser discards in error recovery (the text `""` alone, libconfig issue
 * #142, fixed upstream in 1.7.3) and an unterminated string's buffer
 * (`"\xc2"`). Not peerwall's leaks; LeakSanitizer skips libconfig's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	return 0;
}

static void check_limit(const char *what, const struct pw_limit *l)
{
	if (l->pps && l->burst < l->pps)
		fz_fail("config: %s burst %llu < pps %llu", what,
			(unsigned long long)l->burst,
			(unsigned long long)l->pps);
	if (l->syn_pps && l->syn_burst < l->syn_pps)
		fz_fail("config: %s syn_burst %llu < syn_pps %llu", what,
			(unsigned long long)l->syn_burst,
			(unsigned long long)l->syn_pps);
}

static void check_cidrs(const char *what, const struct pw_cidr *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned bits = pw_family_bits(c[i].family);

		if (!bits || c[i].prefixlen > bits)
			fz_fail("config: %s[%zu] family %d /%u", what, i,
				c[i].family, c[i].prefixlen);
	}
}

static void check_config(const struct pw_config *cfg)
{
	struct pw_dp_config dp;

	if (cfg->src_prefix_v4 < 1 || cfg->src_prefix_v4 > 32 ||
	    cfg->src_prefix_v6 < 1 || cfg->src_prefix_v6 > 128 ||
	    cfg->net_prefix_v4 < 1 || cfg->net_prefix_v4 > cfg->src_prefix_v4 ||
	    cfg->net_prefix_v6 < 1 || cfg->net_prefix_v6 > cfg->src_prefix_v6)
		fz_fail("config: prefixes v4 /%u /%u v6 /%u /%u",
			cfg->src_prefix_v4, cfg->net_prefix_v4,
			cfg->src_prefix_v6, cfg->net_prefix_v6);
	check_limit("source", &cfg->source);
	check_limit("quarantine", &cfg->quarantine);
	check_limit("prefix", &cfg->prefix);
	check_limit("untrusted", &cfg->untrusted);
	for (size_t i = 0; i < cfg->n_protect; i++)
		if ((cfg->protect[i].proto != IPPROTO_TCP &&
		     cfg->protect[i].proto != IPPROTO_UDP) ||
		    cfg->protect[i].port == 0)
			fz_fail("config: protect[%zu] proto %u port %u", i,
				cfg->protect[i].proto, cfg->protect[i].port);
	check_cidrs("trusted", cfg->trusted, cfg->n_trusted);
	check_cidrs("bans", cfg->bans, cfg->n_bans);
	if (cfg->n_interfaces > PW_MAX_INTERFACES)
		fz_fail("config: %zu interfaces", cfg->n_interfaces);
	for (size_t i = 0; i < cfg->n_interfaces; i++)
		if (strnlen(cfg->interfaces[i], IF_NAMESIZE) >= IF_NAMESIZE)
			fz_fail("config: interface %zu unterminated", i);
	pw_dp_config_build(cfg, &dp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_config cfg;
	char *text;

	if (memmem(data, size, "@include", 8))
		return 0;
	text = fz_cstr(data, size);
	if (pw_config_load_string(text, "fuzz.conf", &cfg, &errs) == 0) {
		check_config(&cfg);
		pw_config_free(&cfg);
	} else {
		if (errs.n == 0)
			fz_fail("config: rejected without a message");
		for (size_t i = 0; i < errs.n; i++)
			if (strnlen(errs.msg[i], PW_CONFIG_ERRLEN) ==
			    PW_CONFIG_ERRLEN)
				fz_fail("config: message %zu unterminated", i);
	}
	free(text);
	return 0;
}
