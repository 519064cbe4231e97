// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tick.c - once per interval: learn which sources need attention, hand
 * their datapath totals to the engine (which turns them into deltas),
 * score them, apply the decisions.
 *
 * The agent never scans the source tables (a 1M-entry batch read costs
 * 0.4 s here). The datapath emits at most one ring-buffer event per source
 * per interval when a source was dropped, opened a connection or crossed
 * attn_pkts; the tick drains the rings into a set, then reads only those
 * sources' counters, at most PW_AGENT_SOURCES_PER_TICK of them (the rest
 * wait a tick: under a spoofed flood the global and prefix buckets carry
 * the defense and the agent says so in attention_deferred). The engine
 * keeps each source's last totals in its node, so nothing per source
 * lives here beyond the tick.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <netinet/in.h>

#include "agent.h"
#include "capture.h"
#include "agent_nft.h"
#include "conns.h"
#include "emergency.h"
#include "sockdiag.h"
#include "log.h"
#include "logwatch.h"

int pw_agent_on_attention(void *ctx, void *data, size_t size)
{
	struct pw_agent *a = ctx;
	const struct pw_attn_event *ev = data;
	struct pw_srckey k;
	uint32_t *flags;
	bool created;

	if (size < sizeof(*ev) || (ev->family != 4 && ev->family != 6))
		return 0;
	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)ev->family;
	k.prefixlen = (uint8_t)(ev->family == 4 ? a->cfg.src_prefix_v4
						: a->cfg.src_prefix_v6);
	memcpy(k.addr, ev->addr, ev->family == 4 ? 4 : 16);
	a->ctr.attention_events++;
	flags = pw_keytab_upsert(a->flagged, &k, &created);
	if (!flags) {
		a->ctr.attention_deferred++;
		return 0;
	}
	*flags |= ev->flags;
	return 0;
}

static void on_logmatch(void *arg, const struct pw_report *r,
			const struct pw_logwatch *entry)
{
	(void)entry;
	pw_agent_logmatch(arg, r);
}

static bool score_one(const void *key, void *val, void *arg)
{
	struct pw_agent *a = arg;
	const struct pw_srckey *k = key;
	struct pw_src_state cur;
	struct pw_cidr c;
	uint64_t drops = 0;

	(void)val;
	a->flag_taken++;
	if (pw_agent_src_counters_tick(a, k, &cur))
		return true; /* evicted from the LRU since it was flagged */
	for (int d = 0; d < PW_SD_NR; d++)
		drops += cur.drops[d];
	c = pw_srckey_to_cidr(k);
	/* The engine turns totals into deltas (a total below the last one:
	 * the LRU recycled the entry, the total is the delta). */
	pw_engine_observe_totals(a->engine, &c, cur.packets, cur.syns, drops,
				 a->conns && pw_conns_of(a->conns, &c) > 0,
				 pw_agent_now_ns(a));
	return true;
}

static void on_established(void *arg, int family, const uint8_t *raddr,
			   uint16_t lport)
{
	(void)lport;
	pw_conns_add(arg, family, raddr);
}

/* A source holding connections completed a handshake (established: never
 * banned on spoofable signals alone); new ones are a verified churn
 * signal. */
static void observe_conns(const struct pw_conns_entry *e, void *arg)
{
	struct pw_agent *a = arg;
	struct pw_signals sig = {.established = e->now > 0};

	if (!e->now)
		return;
	sig.v[PW_SIG_CONN] = e->gained;
	pw_engine_observe(a->engine, &e->key, &sig, pw_agent_now_ns(a));
}

/* Established connections to protected TCP ports, per source. */
static void read_conns(struct pw_agent *a)
{
	uint16_t ports[PW_MAX_PROTECT];
	size_t n = 0;
	long got;

	if (!a->conns || !a->sockdiag)
		return;
	for (size_t i = 0; i < a->cfg.n_protect && n < PW_MAX_PROTECT; i++)
		if (a->cfg.protect[i].proto == IPPROTO_TCP)
			ports[n++] = a->cfg.protect[i].port;
	pw_conns_begin(a->conns);
	got = pw_sockdiag_established(a->sockdiag, ports, n, on_established,
				      a->conns);
	pw_conns_end(a->conns);
	if (got < 0) {
		if (!a->ctr.conns_failures++)
			log_err("reading established connections "
				"(sock_diag): %s; conns will read 0",
				strerror((int)-got));
		return;
	}
	pw_conns_each(a->conns, observe_conns, a);
}

/* Wall clock, also under a simulated agent clock: tick budgets. */
static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Which source tables are empty as the tick begins. A source that gets
 * its first entry in one of them during the tick is read at the next:
 * its totals only grow, so nothing is lost, only seen a tick later. */
static void mark_empty_tables(struct pw_agent *a)
{
	static const char *const maps[2] = {"src_v4", "src_v6"};

	for (size_t i = 0; i < a->n_ifaces; i++)
		for (int f = 0; f < 2; f++) {
			int fd = pw_datapath_map_fd(a->ifaces[i].dp, maps[f]);
			uint8_t key[16];

			a->ifaces[i].src_empty[f] =
				fd >= 0 &&
				bpf_map_get_next_key(fd, NULL, key) == -ENOENT;
		}
}

/* Score flagged sources round robin from where the last tick stopped:
 * at most PW_AGENT_SOURCES_PER_TICK of them and PW_AGENT_SCORE_BUDGET_MS
 * of wall time, checked every PW_AGENT_SWEEP_CHUNK slots. */
static void score_flagged(struct pw_agent *a, uint64_t t0)
{
	unsigned int wraps = 0;

	a->flag_taken = 0;
	while (pw_keytab_count(a->flagged) &&
	       a->flag_taken < PW_AGENT_SOURCES_PER_TICK && wraps < 2) {
		if (!pw_keytab_sweep(a->flagged, &a->flag_cursor,
				     PW_AGENT_SWEEP_CHUNK, score_one, a))
			wraps++;
		/* Not under replay: its output must not depend on how busy
		 * the host happens to be. */
		if (!a->deterministic &&
		    wall_ns() - t0 > PW_AGENT_SCORE_BUDGET_MS * 1000000ull)
			break;
	}
}

void pw_agent_tick(struct pw_agent *a)
{
	uint64_t wall0 = wall_ns(), now;
	size_t n;

	double ms;

	a->ctr.ticks++;
	a->reports_this_tick = 0;
	for (size_t i = 0; i < a->n_ifaces; i++) {
		int rc = ring_buffer__consume(a->ifaces[i].rb);

		if (rc < 0)
			log_warn("draining attention ring of %s: %s",
				 a->ifaces[i].name, strerror(-rc));
	}
	pw_capture_poll(a);
	read_conns(a);
	/* Errors are logged (rate-limited) by the watcher itself. */
	if (a->logwatch)
		pw_logwatch_poll(a->logwatch, a->cfg.agent.reports_per_tick,
				 on_logmatch, a);
	mark_empty_tables(a);
	score_flagged(a, wall0);
	if (pw_keytab_count(a->flagged)) {
		a->ctr.attention_deferred += pw_keytab_count(a->flagged);
		log_debug("tick: %zu flagged sources wait for the next tick",
			  pw_keytab_count(a->flagged));
	}

	/* Decisions beyond PW_AGENT_MAX_DECISIONS come next tick. */
	now = pw_agent_now_ns(a);
	n = pw_engine_tick(a->engine, now, a->decisions,
			   PW_AGENT_MAX_DECISIONS);
	for (size_t i = 0; i < n; i++) {
		const struct pw_decision *d = &a->decisions[i];

		pw_agent_apply(a, d,
			       d->cause == PW_CAUSE_MANUAL ? PW_ORIGIN_MANUAL
							   : PW_ORIGIN_AUTO,
			       NULL);
	}

	pw_emergency_expire(a);
	pw_agent_nft_counters(a, &a->ctr.nft_emergency_drops,
			      &a->ctr.nft_connlimit_rejects,
			      &a->ctr.nft_ban_drops);
	if (a->dirty)
		pw_agent_save_state(a);

	ms = (double)(wall_ns() - wall0) / 1e6;
	a->ctr.tick_ms_last = ms;
	if (ms > a->ctr.tick_ms_max)
		a->ctr.tick_ms_max = ms;
}
