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
		 "emergency %s%s)",
		 a->cfg.nft.table, n, a->emergency.on ? "on" : "off",
		 cl.per_source || cl.per_prefix ? ", connection limits" : "");
	return 0;
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
			   uint64_t *connlimit_rejects)
{
	uint64_t bytes;

	*emergency_drops = *connlimit_rejects = 0;
	if (!a->nft)
		return;
	if (pw_nft_emergency_counters(a->nft, emergency_drops, &bytes))
		*emergency_drops = 0;
	if (pw_nft_connlimit_rejects(a->nft, connlimit_rejects))
		*connlimit_rejects = 0;
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
