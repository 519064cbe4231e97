/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * agent_nft.c - the agent's side of the nftables table: what goes in it
 * comes from the agent's config and state; nft.c does the netlink.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_nft.h"
#include "bans.h"
#include "log.h"
#include "nft.h"

/* Log a failure once, keep it for `status`, count it. */
static int failed(struct pw_agent *a, int err, const char *what)
{
	snprintf(a->nft_error, sizeof(a->nft_error), "%s: %s", what,
		 a->nft && pw_nft_last_error(a->nft)[0]
			 ? pw_nft_last_error(a->nft)
			 : strerror(-err));
	a->ctr.nft_failures++;
	log_err("nftables: %s", a->nft_error);
	return err;
}

static void connlimit_params(const struct pw_config *cfg,
			     struct pw_nft_connlimit *cl)
{
	cl->per_source = cfg->source.max_conns;
	cl->per_prefix = cfg->prefix.max_conns;
	cl->src_v4 = cfg->src_prefix_v4;
	cl->src_v6 = cfg->src_prefix_v6;
	cl->pfx_v4 = cfg->net_prefix_v4;
	cl->pfx_v6 = cfg->net_prefix_v6;
}

/* With enforce = "nft" the table is the only place a ban can drop. */
static bool mirroring(const struct pw_agent *a)
{
	return a->cfg.nft.mirror_bans || a->cfg.nft.enforce == PW_ENFORCE_NFT;
}

static uint64_t ttl_ms_of(const struct pw_ban_record *b, int64_t now)
{
	if (!b->expires_unix_s)
		return 0;
	return b->expires_unix_s > now
		       ? (uint64_t)(b->expires_unix_s - now) * 1000
		       : 1;
}

static int wider_first(const void *x, const void *y)
{
	const struct pw_ban_record *p = x, *q = y;

	return (int)p->cidr.prefixlen - (int)q->cidr.prefixlen;
}

/* A freshly reconciled table has empty ban sets: put the registry in. */
static int mirror_all_bans(struct pw_agent *a)
{
	struct pw_ban_record *recs = NULL;
	int64_t now = pw_agent_unix_s(a);
	size_t covered = 0;
	long n;

	if (!mirroring(a))
		return 0;
	n = pw_bans_list(a->bans, &recs);
	/* Widest first: a ban inside one already there is covered. */
	if (n > 1)
		qsort(recs, (size_t)n, sizeof(*recs), wider_first);
	for (long i = 0; i < n; i++) {
		int err = pw_nft_ban(a->nft, &recs[i].cidr,
				     ttl_ms_of(&recs[i], now));

		if (err == -EEXIST) {
			covered++;
		} else if (err) {
			free(recs);
			return failed(a, err, "mirroring the bans");
		}
	}
	free(recs);
	if (n > 0)
		log_info("nftables: %ld bans mirrored (%zu inside wider ones)",
			 n, covered);
	return 0;
}

/* Registry bans strictly inside c: removed from (displace) or put back
 * into (restore) the ban sets, which hold no overlapping intervals. */
static void nested_bans(struct pw_agent *a, const struct pw_cidr *c,
			bool restore)
{
	struct pw_ban_record *recs = NULL;
	int64_t now = pw_agent_unix_s(a);
	long n = pw_bans_list(a->bans, &recs);

	for (long i = 0; i < n; i++) {
		const struct pw_cidr *in = &recs[i].cidr;

		if (in->family != c->family || in->prefixlen <= c->prefixlen ||
		    !pw_cidr_contains(c, in))
			continue;
		if (restore)
			pw_nft_ban(a->nft, in, ttl_ms_of(&recs[i], now));
		else
			pw_nft_unban(a->nft, in);
	}
	free(recs);
}

int pw_agent_nft_ban(struct pw_agent *a, const struct pw_cidr *c, double ttl_s,
		     bool ban)
{
	uint64_t ttl_ms = ttl_s > 0 ? (uint64_t)(ttl_s * 1000) : 0;
	char addr[PW_CIDR_STRLEN];
	int err;

	if (!a->nft || !mirroring(a))
		return 0;
	if (!ban) {
		err = pw_nft_unban(a->nft, c);
		if (!err)
			nested_bans(a, c, true);
	} else {
		err = pw_nft_ban(a->nft, c, ttl_ms);
		if (err == -EEXIST) {
			/* Wider than bans already there: it replaces them
			 * (they come back if it is lifted first). */
			nested_bans(a, c, false);
			err = pw_nft_ban(a->nft, c, ttl_ms);
		}
		if (err == -EEXIST) {
			pw_cidr_format(c, addr, sizeof(addr));
			log_debug("nftables: ban %s lies inside one already "
				  "mirrored",
				  addr);
			return 0;
		}
	}
	if (err)
		return failed(a, err,
			      ban ? "mirroring a ban"
				  : "removing a mirrored ban");
	return 0;
}

int pw_agent_nft_reconcile(struct pw_agent *a)
{
	struct pw_nft_connlimit cl;
	struct pw_cidr *all;
	size_t n;
	int err;

	if (!a->nft)
		return 0;
	all = pw_agent_trusted_all(a, &n);
	if (!all)
		return failed(a, -ENOMEM, "reconcile");
	connlimit_params(&a->cfg, &cl);
	pw_nft_set_connlimit(a->nft, &cl);
	pw_nft_set_mirror_bans(a->nft, mirroring(a));
	/* The handle carries the emergency flag into the rebuilt table. */
	if (pw_nft_emergency(a->nft) != a->emergency.on) {
		err = pw_nft_set_emergency(a->nft, a->emergency.on);
		if (err && err != -ENOENT)
			log_warn("nftables: emergency %s before reconcile: %s",
				 a->emergency.on ? "on" : "off",
				 pw_nft_last_error(a->nft));
	}
	err = pw_nft_reconcile(a->nft, a->cfg.protect, a->cfg.n_protect, all,
			       n);
	free(all);
	if (err)
		return failed(a, err, "reconciling the table");
	a->nft_error[0] = '\0';
	log_info("nftables: table inet %s in place (%zu trusted CIDRs, "
		 "emergency %s%s%s)",
		 a->cfg.nft.table, n, a->emergency.on ? "on" : "off",
		 cl.per_source || cl.per_prefix ? ", connection limits" : "",
		 mirroring(a) ? ", mirrored bans" : "");
	return mirror_all_bans(a);
}

int pw_agent_nft_start(struct pw_agent *a)
{
	struct pw_nft_opts o;
	int err;

	if (!pw_enforce_nft(a->cfg.nft.enforce))
		return 0;
	pw_nft_opts_default(&o);
	o.table = a->cfg.nft.table;
	o.mgmt_ports = a->cfg.nft.mgmt_ports;
	o.n_mgmt = a->cfg.nft.n_mgmt;
	err = pw_nft_open(&o, &a->nft);
	if (err) {
		a->nft = NULL;
		return failed(a, err,
			      "opening nf_tables netlink (is "
			      "nf_tables in this kernel?)");
	}
	err = pw_agent_nft_reconcile(a);
	if (err) {
		pw_nft_close(a->nft);
		a->nft = NULL;
	}
	return err;
}

int pw_agent_nft_trusted(struct pw_agent *a, const struct pw_cidr *all,
			 size_t n)
{
	int err;

	if (!a->nft)
		return 0;
	err = pw_nft_set_trusted(a->nft, all, n);
	if (err)
		return failed(a, err, "updating the trusted sets");
	return 0;
}

int pw_agent_nft_emergency(struct pw_agent *a, bool on)
{
	int err;

	if (!a->nft)
		return 0;
	err = pw_nft_set_emergency(a->nft, on);
	if (err)
		return failed(a, err,
			      on ? "emergency rules on"
				 : "emergency rules off");
	return 0;
}

void pw_agent_nft_counters(struct pw_agent *a, uint64_t *emergency_drops,
			   uint64_t *connlimit_rejects, uint64_t *ban_drops)
{
	uint64_t bytes;

	*emergency_drops = *connlimit_rejects = *ban_drops = 0;
	if (!a->nft)
		return;
	if (pw_nft_emergency_counters(a->nft, emergency_drops, &bytes))
		*emergency_drops = 0;
	if (pw_nft_connlimit_rejects(a->nft, connlimit_rejects))
		*connlimit_rejects = 0;
	if (pw_nft_ban_drops(a->nft, ban_drops))
		*ban_drops = 0;
}

void pw_agent_nft_stop(struct pw_agent *a, bool remove)
{
	if (!a->nft)
		return;
	if (remove) {
		if (pw_nft_remove(a->nft))
			failed(a, -EIO, "removing the table");
		else
			log_info("nftables: table inet %s removed",
				 a->cfg.nft.table);
	}
	pw_nft_close(a->nft);
	a->nft = NULL;
}
