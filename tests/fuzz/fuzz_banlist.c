// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_banlist.c - pw_banlist_import() on arbitrary files (txt or json,
 * sniffed), with and without a default TTL.
 *
 * Properties: never a crash or leak; every problem message is one
 * printable line; imported records are valid CIDRs of origin "import",
 * not expired, with a terminated reason; and what was imported survives
 * a round trip: exported as json and as txt, it imports again as the same
 * records (address, expiry, reason), since that is how operators move ban
 * lists between hosts.
 */
#include <stdbool.h>

#include "banlist.h"
#include "fuzz_util.h"

#define NOW_UNIX_S 1700000000LL
#define TTL_S	   3600

static void check_records(const struct pw_banlist_import *imp)
{
	for (size_t i = 0; i < imp->n_errs; i++)
		fz_check_msg("banlist", imp->errs[i].msg,
			     sizeof(imp->errs[i].msg));
	for (size_t i = 0; i < imp->n; i++) {
		const struct pw_ban_record *r = &imp->recs[i];
		unsigned bits = pw_family_bits(r->cidr.family);

		if (!bits || r->cidr.prefixlen > bits)
			fz_fail("banlist: record %zu family %d /%u", i,
				r->cidr.family, r->cidr.prefixlen);
		if (r->origin != PW_ORIGIN_IMPORT)
			fz_fail("banlist: record %zu origin %d", i, r->origin);
		if (r->expires_unix_s && r->expires_unix_s <= NOW_UNIX_S)
			fz_fail("banlist: record %zu already expired", i);
		if (strnlen(r->reason, sizeof(r->reason)) >= sizeof(r->reason))
			fz_fail("banlist: record %zu reason unterminated", i);
	}
}

static bool same_record(const struct pw_ban_record *a,
			const struct pw_ban_record *b)
{
	return a->cidr.family == b->cidr.family &&
	       a->cidr.prefixlen == b->cidr.prefixlen &&
	       !memcmp(a->cidr.addr, b->cidr.addr, sizeof(a->cidr.addr)) &&
	       a->expires_unix_s == b->expires_unix_s &&
	       !strcmp(a->reason, b->reason);
}

static void round_trip(const struct pw_banlist_import *imp,
		       enum pw_banlist_format fmt, const char *name)
{
	struct pw_banlist_import again;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	if (pw_banlist_write(f, fmt, imp->recs, imp->n, NOW_UNIX_S))
		fz_fail("banlist: %s export of %zu records failed", name,
			imp->n);
	fclose(f);
	if (pw_banlist_import(buf, len, NOW_UNIX_S, 0, &again) && imp->n)
		fz_fail("banlist: own %s export does not import", name);
	if (again.n != imp->n)
		fz_fail("banlist: %zu records -> %s -> %zu records:\n%s",
			imp->n, name, again.n, buf);
	for (size_t i = 0; i < imp->n; i++)
		if (!same_record(&imp->recs[i], &again.recs[i]))
			fz_fail("banlist: record %zu changed through %s:\n%s",
				i, name, buf);
	pw_banlist_import_free(&again);
	free(buf);
}

static void one(const char *buf, size_t len, uint64_t ttl_s)
{
	struct pw_banlist_import imp;

	if (pw_banlist_import(buf, len, NOW_UNIX_S, ttl_s, &imp) == 0) {
		check_records(&imp);
		round_trip(&imp, PW_BANLIST_JSON, "json");
		round_trip(&imp, PW_BANLIST_TXT, "txt");
	} else {
		check_records(&imp);
	}
	pw_banlist_import_free(&imp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one((const char *)data, size, 0);
	one((const char *)data, size, TTL_S);
	return 0;
}
