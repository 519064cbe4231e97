/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * emergency.c - emergency allowlist mode across the XDP program and the
 * nftables table (see emergency.h).
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "agent_nft.h"
#include "duration.h"
#include "emergency.h"
#include "log.h"

bool pw_emergency_cuts(const struct pw_config *cfg,
		       const struct pw_cidr *trusted, size_t n_trusted,
		       const struct pw_requester *r)
{
	struct pw_cidr host = {.family = (uint8_t)r->family};
	bool protected = false;
	size_t i;

	if (!r->known)
		return false;
	for (i = 0; i < cfg->nft.n_mgmt; i++)
		if (cfg->nft.mgmt_ports[i] == r->port)
			return false;
	for (i = 0; i < cfg->n_protect; i++)
		if (cfg->protect[i].proto == IPPROTO_TCP &&
		    cfg->protect[i].port == r->port)
	protected = true;
	if (!protected)
		return false;
	host.prefixlen = (uint8_t)pw_family_bits(r->family);
	memcpy(host.addr, r->addr, sizeof(host.addr));
	for (i = 0; i < n_trusted; i++)
		if (pw_cidr_contains(&trusted[i], &host))
			return false;
	return true;
}

int pw_emergency_check_on(const struct pw_config *cfg,
			  const struct pw_cidr *trusted, size_t n_trusted,
			  const struct pw_emergency_req *req,
			  int64_t now_unix_s, int64_t *until_unix_s, char *why,
			  size_t whylen)
{
	double ttl = req->ttl_given ? req->ttl_s : cfg->nft.emergency_ttl_s;
	char addr[64];

	if (ttl == 0 && !req->force) {
		snprintf(why, whylen,
			 "--ttl 0 keeps emergency mode on until someone turns "
			 "it off; add --force if that is what you want");
		return -EPERM;
	}
	if (n_trusted == 0 && !req->force) {
		snprintf(why, whylen,
			 "no trusted CIDRs: emergency mode would cut every "
			 "peer from the protected ports (allow add CIDR "
			 "first, or --force)");
		return -EPERM;
	}
	if (pw_emergency_cuts(cfg, trusted, n_trusted, &req->from) &&
	    !req->force) {
		pw_addr_format(req->from.family, req->from.addr, addr,
			       sizeof(addr));
		snprintf(why, whylen,
			 "your session from %s to port %u would be cut off "
			 "(not trusted, not a management port); allow it "
			 "first, or --force",
			 addr, req->from.port);
		return -EPERM;
	}
	*until_unix_s = ttl == 0 ? 0 : now_unix_s + (int64_t)ceil(ttl);
	return 0;
}

int64_t pw_emergency_extended(int64_t until_unix_s, int64_t now_unix_s,
			      double s)
{
	if (until_unix_s == 0)
		return 0;
	return (until_unix_s > now_unix_s ? until_unix_s : now_unix_s) +
	       (int64_t)ceil(s);
}

int pw_emergency_set(struct pw_agent *a, bool on, int64_t until_unix_s,
		     uint32_t uid, const char *cause)
{
	int64_t now = pw_agent_unix_s(a);
	int err = 0, e;
	char ttl[32] = "no TTL";

	for (size_t i = 0; i < a->n_ifaces; i++) {
		e = pw_datapath_set_emergency(a->ifaces[i].dp, on);
		if (e) {
			log_err("emergency %s: %s: XDP flag: %s",
				on ? "on" : "off", a->ifaces[i].name,
				strerror(-e));
			if (!err)
				err = e;
		}
	}
	e = pw_agent_nft_emergency(a, on);
	if (e && !err)
		err = e;
	if (on && !a->emergency.on)
		a->emergency.since_unix_s = now;
	a->emergency.on = on;
	a->emergency.until_unix_s = on ? until_unix_s : 0;
	a->emergency.uid = uid;
	a->dirty = true;
	if (on && until_unix_s)
		pw_duration_format((uint64_t)(until_unix_s - now), ttl,
				   sizeof(ttl));
	if (on)
		log_warn("EMERGENCY MODE ON (%s, %s) by uid %u: only trusted "
			 "sources reach the protected ports%s",
			 ttl, cause, uid, err ? " (NOT in every layer)" : "");
	else
		log_warn("emergency mode off (%s) by uid %u%s", cause, uid,
			 err ? " (NOT in every layer)" : "");
	return err;
}

void pw_emergency_expire(struct pw_agent *a)
{
	if (!a->emergency.on || !a->emergency.until_unix_s ||
	    pw_agent_unix_s(a) < a->emergency.until_unix_s)
		return;
	pw_emergency_set(a, false, 0, a->emergency.uid, "TTL ran out");
}
