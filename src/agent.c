// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * agent.c - the agent's decisions made real: every sanction the engine or
 * an operator decides goes through pw_agent_apply(), which writes every
 * interface's datapath, the ban registry, and one audit line in the log.
 * Also here: the trusted set (config + runtime), node reports, state save.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "agent_nft.h"
#include "bans.h"
#include "capture.h"
#include "log.h"
#include "state.h"

uint64_t pw_agent_now_ns(const struct pw_agent *a)
{
	struct timespec ts;

	if (a && a->simulated)
		return a->sim_now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t pw_agent_unix_s(const struct pw_agent *a)
{
	if (a && a->simulated)
		return (int64_t)(a->sim_now_ns / 1000000000ull) +
		       a->sim_unix_offset_s;
	return (int64_t)time(NULL);
}

struct pw_srckey pw_srckey_from_cidr(const struct pw_cidr *c)
{
	struct pw_srckey k;

	memset(&k, 0, sizeof(k));
	k.family = c->family == AF_INET ? 4 : 6;
	k.prefixlen = c->prefixlen;
	memcpy(k.addr, c->addr, 16);
	return k;
}

struct pw_cidr pw_srckey_to_cidr(const struct pw_srckey *k)
{
	struct pw_cidr c;

	memset(&c, 0, sizeof(c));
	c.family = k->family == 4 ? AF_INET : AF_INET6;
	c.prefixlen = k->prefixlen;
	memcpy(c.addr, k->addr, 16);
	return c;
}

struct pw_cidr pw_agent_source_of(const struct pw_agent *a, int family,
				  const uint8_t *addr)
{
	struct pw_cidr c;

	memset(&c, 0, sizeof(c));
	c.family = family;
	c.prefixlen =
		family == AF_INET ? a->cfg.src_prefix_v4 : a->cfg.src_prefix_v6;
	pw_addr_mask(family, addr, c.prefixlen, c.addr);
	return c;
}

static bool overlaps(const struct pw_cidr *x, const struct pw_cidr *y)
{
	return pw_cidr_contains(x, y) || pw_cidr_contains(y, x);
}

bool pw_agent_is_trusted(const struct pw_agent *a, const struct pw_cidr *c)
{
	for (size_t i = 0; i < a->cfg.n_trusted; i++)
		if (overlaps(&a->cfg.trusted[i], c))
			return true;
	for (size_t i = 0; i < a->n_allowed; i++)
		if (overlaps(&a->allowed[i], c))
			return true;
	return false;
}

static enum pw_level state_level(enum pw_peer_state s)
{
	switch (s) {
	case PW_ST_WATCH:
		return PW_LVL_WATCH;
	case PW_ST_THROTTLE:
		return PW_LVL_THROTTLE;
	case PW_ST_QUARANTINE:
		return PW_LVL_QUARANTINE;
	default:
		return PW_LVL_NORMAL;
	}
}

static unsigned src_width(const struct pw_agent *a, int family)
{
	return family == AF_INET ? a->cfg.src_prefix_v4 : a->cfg.src_prefix_v6;
}

/* Datapath expiry for a TTL: the datapath's clock, 0 = never. */
static uint64_t expiry_ns(const struct pw_agent *a, double ttl_s)
{
	return ttl_s > 0 ? pw_agent_now_ns(a) + (uint64_t)(ttl_s * 1e9) : 0;
}

static int apply_level(struct pw_agent *a, const struct pw_decision *d)
{
	enum pw_level lvl = state_level(d->state);
	int err = 0;

	if (d->cidr.prefixlen != src_width(a, d->cidr.family)) {
		/* Levels are per source in the datapath; a prefix already
		 * has its own bucket, so a prefix throttle is logged only. */
		return 0;
	}
	for (size_t i = 0; i < a->n_ifaces; i++) {
		int rc;

		if (lvl == PW_LVL_NORMAL)
			rc = pw_datapath_unsanction(a->ifaces[i].dp, &d->cidr);
		else
			rc = pw_datapath_sanction(a->ifaces[i].dp, &d->cidr,
						  PW_SANCTION_LEVEL, lvl,
						  expiry_ns(a, d->ttl_s));
		/* -E2BIG: the table is full of higher sanctions; the
		 * datapath said so (rate-limited), the source keeps the
		 * normal buckets. */
		if (rc && rc != -ENOENT && rc != -E2BIG)
			err = rc;
	}
	return err;
}

static int apply_ban(struct pw_agent *a, const struct pw_decision *d,
		     enum pw_ban_origin origin, const char *reason)
{
	struct pw_ban_record rec;
	int64_t now = pw_agent_unix_s(a);
	int err = 0;

	for (size_t i = 0; i < a->n_ifaces; i++) {
		int rc = pw_datapath_sanction(a->ifaces[i].dp, &d->cidr,
					      PW_SANCTION_BAN, PW_LVL_NORMAL,
					      expiry_ns(a, d->ttl_s));

		if (rc)
			err = rc;
	}
	memset(&rec, 0, sizeof(rec));
	rec.cidr = d->cidr;
	rec.origin = origin;
	snprintf(rec.reason, sizeof(rec.reason), "%s",
		 reason && *reason ? reason : pw_cause_name(d->cause));
	rec.created_unix_s = now;
	rec.expires_unix_s = d->ttl_s > 0 ? now + (int64_t)d->ttl_s : 0;
	rec.strikes = d->strikes;
	if (pw_bans_put(a->bans, &rec))
		log_warn("ban registry full: ban is enforced but not recorded");
	a->dirty = true;
	return err;
}

static int apply_unban(struct pw_agent *a, const struct pw_decision *d)
{
	int err = 0;

	for (size_t i = 0; i < a->n_ifaces; i++) {
		int rc = pw_datapath_unsanction(a->ifaces[i].dp, &d->cidr);

		if (rc && rc != -ENOENT)
			err = rc;
	}
	pw_bans_del(a->bans, &d->cidr);
	a->dirty = true;
	return err;
}

int pw_agent_apply(struct pw_agent *a, const struct pw_decision *d,
		   enum pw_ban_origin origin, const char *reason)
{
	char addr[PW_CIDR_STRLEN], ttl[32];
	int err = 0;

	pw_cidr_format(&d->cidr, addr, sizeof(addr));
	switch (d->action) {
	case PW_ACT_LEVEL:
		err = apply_level(a, d);
		log_info("decision: %s -> %s (cause %s, score %.1f%s)", addr,
			 pw_peer_state_name(d->state), pw_cause_name(d->cause),
			 d->score,
			 d->guard_limited ? ", ban held back by the "
					    "self-isolation guard"
					  : "");
		break;
	case PW_ACT_BAN:
		err = apply_ban(a, d, origin, reason);
		pw_agent_nft_ban(a, &d->cidr, d->ttl_s, true);
		if (d->ttl_s > 0)
			snprintf(ttl, sizeof(ttl), "for %.0f s", d->ttl_s);
		else
			snprintf(ttl, sizeof(ttl), "until lifted");
		log_info("decision: ban %s %s (cause %s, origin %s, strikes "
			 "%u, score %.1f%s%s)",
			 addr, ttl, pw_cause_name(d->cause),
			 pw_ban_origin_name(origin), d->strikes, d->score,
			 reason && *reason ? ", reason " : "",
			 reason && *reason ? reason : "");
		break;
	case PW_ACT_UNBAN:
		err = apply_unban(a, d);
		pw_agent_nft_ban(a, &d->cidr, 0, false);
		log_info("decision: unban %s (%s)", addr,
			 reason ? reason : "expired");
		break;
	}
	if (err)
		log_err("applying decision on %s: %s", addr, strerror(-err));
	if (a->on_decision)
		a->on_decision(a, d, origin);
	return err;
}

struct pw_cidr *pw_agent_trusted_all(const struct pw_agent *a, size_t *n)
{
	struct pw_cidr *all;

	*n = a->cfg.n_trusted + a->n_allowed;
	all = calloc(*n ? *n : 1, sizeof(*all));
	if (!all)
		return NULL;
	/* memcpy from NULL is undefined even for 0 bytes. */
	if (a->cfg.n_trusted)
		memcpy(all, a->cfg.trusted, a->cfg.n_trusted * sizeof(*all));
	if (a->n_allowed)
		memcpy(all + a->cfg.n_trusted, a->allowed,
		       a->n_allowed * sizeof(*all));
	return all;
}

int pw_agent_sync_trusted(struct pw_agent *a)
{
	struct pw_decision lifted[256];
	struct pw_cidr *all;
	int err = 0, nl;
	size_t n;

	all = pw_agent_trusted_all(a, &n);
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_ifaces && !err; i++)
		err = pw_datapath_set_trusted(a->ifaces[i].dp, all, n);
	if (!err && a->nft)
		err = pw_agent_nft_trusted(a, all, n);
	nl = pw_engine_set_trusted(a->engine, all, n, pw_agent_now_ns(a),
				   lifted, sizeof(lifted) / sizeof(lifted[0]));
	for (int i = 0; i < nl; i++)
		pw_agent_apply(a, &lifted[i], PW_ORIGIN_AUTO,
			       "now covered by a trusted CIDR");
	/* Registry bans the engine does not track (config, imports) are
	 * lifted here too: a trusted address is never banned. */
	struct pw_ban_record *recs = NULL;
	long nr = pw_bans_list(a->bans, &recs);

	for (long i = 0; i < nr; i++) {
		struct pw_decision d = {.cidr = recs[i].cidr,
					.action = PW_ACT_UNBAN};

		if (pw_agent_is_trusted(a, &recs[i].cidr))
			pw_agent_apply(a, &d, recs[i].origin,
				       "now covered by a trusted CIDR");
	}
	free(recs);
	free(all);
	return err;
}

int pw_agent_save_state(struct pw_agent *a)
{
	struct pw_history_entry *hist = NULL;
	struct pw_state st;
	long nb;
	int err;

	if (a->simulated) {
		a->dirty = false;
		return 0;
	}
	memset(&st, 0, sizeof(st));
	nb = pw_bans_list(a->bans, &st.bans);
	if (nb < 0)
		return (int)nb;
	st.n_bans = (size_t)nb;
	hist = calloc(PW_DEF_MAP_SANCTIONS, sizeof(*hist));
	if (!hist) {
		free(st.bans);
		return -ENOMEM;
	}
	st.history = hist;
	st.n_history = pw_engine_history(a->engine, pw_agent_unix_s(a), hist,
					 PW_DEF_MAP_SANCTIONS);
	st.allowed = a->allowed;
	st.n_allowed = a->n_allowed;
	st.posture = pw_engine_posture(a->engine);
	st.emergency = a->emergency.on;
	st.emergency_until_unix_s =
		a->emergency.on ? a->emergency.until_unix_s : 0;
	st.emergency_since_unix_s =
		a->emergency.on ? a->emergency.since_unix_s : 0;
	st.emergency_uid = a->emergency.uid;
	st.saved_unix_s = pw_agent_unix_s(a);
	err = pw_state_save(a->cfg.agent.state_dir, &st);
	if (err) {
		a->ctr.state_failures++;
		log_err("saving state in %s: %s (will retry next tick)",
			a->cfg.agent.state_dir, strerror(-err));
	} else {
		a->ctr.state_writes++;
		a->dirty = false;
	}
	free(st.bans);
	free(hist);
	return err;
}

/* Reports and log matches share the per-tick cap and trusted handling. */
static int feed(struct pw_agent *a, const struct pw_report *r,
		enum pw_signal kind)
{
	struct pw_signals sig;
	struct pw_cidr key = pw_agent_source_of(a, r->family, r->addr);
	char addr[PW_CIDR_STRLEN];

	if (a->reports_this_tick >= a->cfg.agent.reports_per_tick) {
		a->ctr.reports_dropped++;
		return -ENOBUFS;
	}
	a->reports_this_tick++;
	if (kind == PW_SIG_LOG)
		a->ctr.log_matches++;
	else
		a->ctr.reports[r->verb]++;
	if (pw_agent_is_trusted(a, &key)) {
		a->ctr.trusted_reported++;
		pw_cidr_format(&key, addr, sizeof(addr));
		log_debug("%s about trusted %s: counted, not scored",
			  kind == PW_SIG_LOG ? "log match" : "report", addr);
	}
	memset(&sig, 0, sizeof(sig));
	if (r->verb == PW_REPORT_GOOD)
		sig.good = 1;
	else
		sig.v[kind] = r->weight;
	/* The engine keeps trusted sources' counters for operators and never
	 * sanctions them. */
	return pw_engine_observe(a->engine, &key, &sig, pw_agent_now_ns(a));
}

int pw_agent_report(struct pw_agent *a, const struct pw_report *r)
{
	return feed(a, r, PW_SIG_INVALID);
}

int pw_agent_logmatch(struct pw_agent *a, const struct pw_report *r)
{
	return feed(a, r, PW_SIG_LOG);
}

static int src_counters(const struct pw_agent *a, const struct pw_srckey *k,
			struct pw_src_state *out, bool skip_empty)
{
	bool found = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < a->n_ifaces; i++) {
		const char *map = k->family == 4 ? "src_v4" : "src_v6";
		struct pw_src_state s;
		int fd;

		if (skip_empty && a->ifaces[i].src_empty[k->family == 6])
			continue;
		fd = pw_datapath_map_fd(a->ifaces[i].dp, map);
		if (fd < 0 || bpf_map_lookup_elem(fd, k->addr, &s))
			continue;
		found = true;
		out->packets += s.packets;
		out->bytes += s.bytes;
		out->syns += s.syns;
		for (int d = 0; d < PW_SD_NR; d++)
			out->drops[d] += s.drops[d];
		if (!out->first_seen_ns || s.first_seen_ns < out->first_seen_ns)
			out->first_seen_ns = s.first_seen_ns;
		if (s.last_seen_ns > out->last_seen_ns)
			out->last_seen_ns = s.last_seen_ns;
	}
	return found ? 0 : -ENOENT;
}

int pw_agent_src_counters(const struct pw_agent *a, const struct pw_srckey *k,
			  struct pw_src_state *out)
{
	return src_counters(a, k, out, false);
}

int pw_agent_src_counters_tick(const struct pw_agent *a,
			       const struct pw_srckey *k,
			       struct pw_src_state *out)
{
	return src_counters(a, k, out, true);
}

int pw_agent_init_sim(struct pw_agent *a, const struct pw_config *cfg,
		      struct pw_datapath *dp, uint64_t now_ns, uint64_t seed)
{
	a->cfg = *cfg; /* shares cfg's arrays: never freed through a */
	a->simulated = true;
	a->sim_now_ns = now_ns;
	a->running = true;
	snprintf(a->ifaces[0].name, sizeof(a->ifaces[0].name), "sim");
	a->ifaces[0].dp = dp;
	a->ifaces[0].xdp_mode = "test-run";
	a->n_ifaces = 1;
	a->engine = pw_engine_new(&cfg->scoring, cfg->agent.max_peers, seed);
	a->bans = pw_bans_new(PW_DEF_MAP_SANCTIONS * 2);
	a->flagged = pw_keytab_new(sizeof(struct pw_srckey), sizeof(uint32_t),
				   PW_AGENT_SOURCES_PER_TICK * 4);
	a->decisions = calloc(PW_AGENT_MAX_DECISIONS, sizeof(*a->decisions));
	a->ifaces[0].rb = ring_buffer__new(pw_datapath_map_fd(dp, "attn"),
					   pw_agent_on_attention, a, NULL);
	if (!a->engine || !a->bans || !a->flagged || !a->decisions ||
	    !a->ifaces[0].rb)
		return -ENOMEM;
	pw_engine_set_posture(a->engine, cfg->agent.posture);
	return pw_agent_sync_trusted(a);
}

void pw_agent_fini_sim(struct pw_agent *a)
{
	/* A capture a control request opened (fuzzing, tests). */
	pw_evidence_stop(a);
	ring_buffer__free(a->ifaces[0].rb);
	pw_engine_free(a->engine);
	pw_bans_free(a->bans);
	pw_keytab_free(a->flagged);
	free(a->decisions);
	free(a->allowed);
}
