/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * agent.h - peerwalld's state, shared by its modules: the tick (tick.c),
 * the ban registry (bans.c), the control socket (control.c), the report
 * socket (reportsock.c) and the main loop (peerwalld.c).
 *
 * The agent owns one datapath per interface (each with its own pinned
 * maps), the scoring engine, the ban registry, and the sockets. Every
 * sanction goes through pw_agent_apply(), so the datapath, the registry,
 * the engine and the log agree.
 */
#ifndef PW_AGENT_H
#define PW_AGENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "banlist.h"
#include "config.h"
#include "datapath.h"
#include "keytab.h"
#include "report.h"
#include "score.h"

#define PW_AGENT_MAX_DECISIONS 4096
/* Flagged sources scored per tick; the rest wait for the next tick. */
#define PW_AGENT_SOURCES_PER_TICK 65536
/* ... and at most this much wall time scoring them (the tick stays
 * bounded when the host is busy), checked every PW_AGENT_SWEEP_CHUNK
 * slots of the flagged table. */
#define PW_AGENT_SCORE_BUDGET_MS 100
#define PW_AGENT_SWEEP_CHUNK	 4096
/* A source's last datapath deltas (pps, drops per tick) are shown to
 * operators while it was seen within this long. */
#define PW_AGENT_IDLE_S 600
/* Sources whose established connections are counted (the rest count in
 * the total only). */
#define PW_AGENT_CONN_SOURCES 65536

struct ring_buffer;
struct pw_bans;
struct pw_nft;
struct pw_conns;
struct pw_sockdiag;
struct pw_logwatch_set;
struct pw_capture;
struct pw_journal;

struct pw_iface {
	char name[IF_NAMESIZE];
	struct pw_datapath *dp;
	const char *xdp_mode; /* "native" / "generic" */
	struct ring_buffer *rb;
	/* Its source tables (IPv4, IPv6) held no entry when this tick
	 * began: the tick's lookups skip them (a link that carries only
	 * trusted or unprotected traffic costs no syscall per source). */
	bool src_empty[2];
};

/* Packed source key for the agent's tables (no padding bytes). */
struct pw_srckey {
	uint8_t family; /* 4 or 6 */
	uint8_t prefixlen;
	uint8_t addr[16];
};

struct pw_agent_counters {
	uint64_t ticks;
	uint64_t reports[3]; /* by pw_report_verb (index 1 invalid, 2 good) */
	uint64_t reports_rejected, reports_dropped;
	uint64_t log_matches;
	uint64_t attention_events, attention_deferred;
	uint64_t state_writes, state_failures;
	uint64_t control_requests, control_refused;
	uint64_t trusted_reported;
	uint64_t nft_failures;
	uint64_t conns_failures;
	/* nft counters, read once per tick (metrics read these). */
	uint64_t nft_emergency_drops, nft_connlimit_rejects, nft_ban_drops;
	double tick_ms_last, tick_ms_max;
};

/* Emergency allowlist mode: only trusted sources reach protected ports,
 * in every enforcing layer, until `until` (0 = until turned off). */
struct pw_emergency_state {
	bool on;
	int64_t since_unix_s;
	int64_t until_unix_s;
	uint32_t uid; /* who turned it on / last extended it */
};

struct pw_agent {
	char config_path[PW_PATH_MAX];
	struct pw_config cfg;
	char config_hash[PW_CONFIG_HASH_LEN];
	struct pw_iface ifaces[PW_MAX_INTERFACES];
	size_t n_ifaces;
	struct pw_engine *engine;
	struct pw_bans *bans;
	/* The datapath's last totals per source (turned into deltas) are
	 * kept by the engine: pw_engine_observe_totals(). */
	struct pw_keytab *flagged; /* pw_srckey -> (flags) this tick */
	size_t flag_cursor;	 /* the flagged sweep resumes here next tick */
	size_t flag_taken;	 /* flagged sources taken this tick */
	struct pw_cidr *allowed; /* runtime trusted additions */
	size_t n_allowed;
	struct pw_decision *decisions;
	struct pw_logwatch_set *logwatch; /* NULL when none configured */
	uint32_t reports_this_tick;
	uint64_t start_ns;
	bool running;
	bool dirty;  /* state to save */
	bool detach; /* detach on exit (operator asked) */
	/* peerwall-replay: time is the capture's; no state file is written;
	 * every applied decision is also handed to on_decision. */
	bool simulated;
	bool deterministic; /* no wall-clock budgets (replay's output must not
			     * depend on how busy the host is) */
	uint64_t sim_now_ns;
	int64_t sim_unix_offset_s; /* unix = sim_now_ns / 1e9 + offset */
	void (*on_decision)(struct pw_agent *a, const struct pw_decision *d,
			    enum pw_ban_origin origin);
	void *user;
	gid_t control_gid;
	bool control_gid_set;
	/* nftables: NULL when enforce = "xdp", or when the table could not
	 * be set up (nft_error says why; XDP keeps enforcing). */
	struct pw_nft *nft;
	char nft_error[256];
	struct pw_emergency_state emergency;
	/* Established connections to protected ports per source, read from
	 * the kernel (sock_diag) every tick; NULL in simulations. */
	struct pw_conns *conns;
	struct pw_sockdiag *sockdiag;
	/* Evidence: drop samples (NULL until sampling is first needed) and
	 * the last hour of the log (NULL in simulations). */
	struct pw_capture *capture;
	struct pw_journal *journal;
	struct pw_agent_counters ctr;
};

/* Agent clock: CLOCK_MONOTONIC ns (the datapath's clock too), or, for
 * peerwall-replay, the simulated clock in sim_now_ns. */
uint64_t pw_agent_now_ns(const struct pw_agent *a);
int64_t pw_agent_unix_s(const struct pw_agent *a);

/* Key helpers. */
struct pw_srckey pw_srckey_from_cidr(const struct pw_cidr *c);
struct pw_cidr pw_srckey_to_cidr(const struct pw_srckey *k);
/* A source address -> its key (masked to the source prefix). */
struct pw_cidr pw_agent_source_of(const struct pw_agent *a, int family,
				  const uint8_t *addr);
bool pw_agent_is_trusted(const struct pw_agent *a, const struct pw_cidr *c);

/* Apply one decision to every datapath, the registry and the log.
 * origin/reason describe it for the registry (reason may be NULL). */
int pw_agent_apply(struct pw_agent *a, const struct pw_decision *d,
		   enum pw_ban_origin origin, const char *reason);

/* One tick: drain attention, score, apply, expire, save if dirty. */
void pw_agent_tick(struct pw_agent *a);

/* Ring-buffer callback (ctx = the agent): flag a source for this tick. */
int pw_agent_on_attention(void *ctx, void *data, size_t size);

/* Trusted set = config trusted + runtime allowed, pushed to the datapaths
 * and the engine (which lifts overlapping bans). */
int pw_agent_sync_trusted(struct pw_agent *a);

/* Config trusted + runtime allowed, malloc'd (*n entries, never NULL
 * on success). */
struct pw_cidr *pw_agent_trusted_all(const struct pw_agent *a, size_t *n);

/* Save bans, history, runtime allowlist, posture. */
int pw_agent_save_state(struct pw_agent *a);

/* A report from the node (socket or control). Returns 0 (a trusted
 * source's report is counted and recorded, never sanctioned), -ENOBUFS
 * over the per-tick cap, or the engine's error. */
int pw_agent_report(struct pw_agent *a, const struct pw_report *r);

/* Re-read the config file and apply what can change live (limits, mode,
 * ports, trusted, posture); interfaces and map sizes need a restart.
 * Nothing is applied unless the whole file is valid. */
int pw_agent_reload(struct pw_agent *a);

/* A log-pattern match (logwatch): like a report, scored as PW_SIG_LOG. */
int pw_agent_logmatch(struct pw_agent *a, const struct pw_report *r);

/* An agent over one already-loaded datapath, on a simulated clock
 * starting at now_ns, without sockets or state file: what peerwall-replay
 * and the tick benchmark run. Set on_decision/user before calling. The
 * config's arrays are shared, not copied: keep cfg alive. */
int pw_agent_init_sim(struct pw_agent *a, const struct pw_config *cfg,
		      struct pw_datapath *dp, uint64_t now_ns, uint64_t seed);
void pw_agent_fini_sim(struct pw_agent *a);

/* Sum of a source's datapath counters over the interfaces. */
int pw_agent_src_counters(const struct pw_agent *a, const struct pw_srckey *k,
			  struct pw_src_state *out);
/* The same, skipping the tables that were empty when the tick began. */
int pw_agent_src_counters_tick(const struct pw_agent *a,
			       const struct pw_srckey *k,
			       struct pw_src_state *out);

#endif /* PW_AGENT_H */
