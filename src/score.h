/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * score.h - the peer-scoring engine: signals in, decisions out.
 *
 * Pure code with a caller-supplied clock and random seed: no I/O, no maps,
 * no logging. The agent (and peerwall-replay, at simulated ticks) feeds it
 * per-source signals each tick and applies the decisions it returns to the
 * datapath; unit tests drive it with a fake clock.
 *
 * Shape (gossipsub v1.1 / Lighthouse / Bitcoin Core / fail2ban):
 *  - each signal is a counter decaying exponentially with its own
 *    half-life; over a free budget, its penalty is weight * excess^2;
 *  - score = sum of penalties - credit (credit from "good" reports, capped,
 *    zeroed by the first serious penalty);
 *  - states normal -> watch -> throttle -> quarantine -> ban, with
 *    hysteresis (step down only below threshold * hysteresis) and a minimum
 *    time in each state;
 *  - spoofable signals (SYN, drops, packets) may ban only with the first,
 *    short TTL and never a source established within the last hour (that
 *    one is throttled); verified signals (invalid-message reports, log
 *    matches) escalate fully: TTL = base * factor^(strikes-1), capped, with
 *    jitter; strikes decay after clean periods;
 *  - enough banned sources in one prefix within a window -> prefix throttle,
 *    then prefix ban, never covering a trusted address;
 *  - self-isolation guard: at most N automatic bans per minute and never
 *    more than a fraction of recently established sources; beyond that,
 *    quarantine instead (counted);
 *  - trusted sources are never sanctioned (misbehaviour counted);
 *  - posture scales budgets and thresholds at once.
 */
#ifndef PW_SCORE_H
#define PW_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

/* What the engine knows of a source each tick. */
enum pw_signal {
	PW_SIG_SYN = 0, /* TCP SYNs (new connections) - spoofable */
	PW_SIG_DROP,	/* packets dropped by a rate limit - spoofable */
	PW_SIG_PKT,	/* packets - spoofable */
	PW_SIG_INVALID, /* invalid-message reports (weighted) - verified */
	PW_SIG_LOG,	/* log-pattern matches (weighted) - verified */
	PW_SIG_CONN,	/* new established connections (handshake
			 * completed, from sock_diag) - verified */
	PW_SIG_NR,
};

#define PW_SIG_SPOOFABLE(s) ((s) <= PW_SIG_PKT)

enum pw_peer_state {
	PW_ST_NORMAL = 0,
	PW_ST_WATCH,
	PW_ST_THROTTLE,
	PW_ST_QUARANTINE,
	PW_ST_BANNED,
	PW_ST_NR,
};

enum pw_posture {
	PW_POSTURE_NORMAL = 0,
	PW_POSTURE_ELEVATED,
	PW_POSTURE_SEVERE,
	PW_POSTURE_NR,
};

struct pw_signal_params {
	double half_life_s; /* decay of the counter */
	double budget;	    /* free amount of the decayed counter */
	double weight;	    /* penalty = weight * (counter - budget)^2 */
};

struct pw_score_params {
	struct pw_signal_params sig[PW_SIG_NR];
	/* Score needed to enter each state (index by pw_peer_state; NORMAL
	 * is 0). Step down only below threshold * hysteresis. */
	double threshold[PW_ST_NR];
	double hysteresis;	      /* 0 < h < 1, e.g. 0.5 */
	double min_state_s[PW_ST_NR]; /* minimum time in each state */
	double credit_cap;	      /* max positive credit, e.g. 20 */
	double credit_per_good;	      /* credit per "good" report */
	double serious_penalty;	      /* penalty that zeroes credit */
	double established_window_s;  /* "recently established": 3600 */
	/* Ban TTLs: first = base; verified repeats base * factor^(n-1). */
	double ban_base_s, ban_factor, ban_max_s;
	double ban_jitter;     /* +- fraction, e.g. 0.1 */
	double strike_decay_s; /* one strike forgiven per clean period */
	double probation_s;    /* after a ban: state watch, thresholds
				* scaled by probation_factor */
	double probation_factor;
	/* Prefix aggregation (IPv4 /prefix_v4, IPv6 /prefix_v6). */
	unsigned prefix_v4, prefix_v6;
	unsigned
		prefix_throttle_bans; /* banned sources in window -> throttle */
	unsigned prefix_ban_bans;     /* ... -> ban the prefix */
	double prefix_window_s;
	/* Self-isolation guard. */
	unsigned max_auto_bans_per_min;
	double max_ban_fraction; /* of sources established recently */
	unsigned min_established_for_fraction; /* below this, only the
						* per-minute cap applies */
	/* Posture multipliers on budgets and thresholds (1, 0.5, 0.25). */
	double posture_scale[PW_POSTURE_NR];
};

/* Signals of one source for one tick (deltas since the previous tick). */
struct pw_signals {
	double v[PW_SIG_NR];
	unsigned good;	  /* "good" reports */
	bool established; /* completed a handshake / holds a connection */
};

enum pw_action {
	PW_ACT_LEVEL = 1, /* set datapath level (watch/throttle/quarantine or
			   * normal = remove the level) */
	PW_ACT_BAN,	  /* ban cidr for ttl_s */
	PW_ACT_UNBAN,	  /* ban expired or lifted */
};

enum pw_cause {
	PW_CAUSE_SPOOFABLE = 1, /* SYN / drop / packet rates */
	PW_CAUSE_VERIFIED,	/* invalid-message reports, log matches */
	PW_CAUSE_PREFIX,	/* too many banned sources in the prefix */
	PW_CAUSE_MANUAL,	/* operator */
};

struct pw_decision {
	struct pw_cidr cidr; /* a source key, or a prefix */
	enum pw_action action;
	enum pw_peer_state state; /* new state (LEVEL) */
	enum pw_cause cause;
	double ttl_s;	    /* BAN: how long; LEVEL: until re-evaluated
			     * (min_state_s of the state) */
	unsigned strikes;   /* BAN: the source's strikes after it */
	double score;	    /* score that led here */
	bool guard_limited; /* wanted a ban, the guard made it quarantine */
};

/* Per-source view for operators (peerwallctl peer/top). */
struct pw_peer_info {
	struct pw_cidr key;
	enum pw_peer_state state;
	double score, credit;
	double counter[PW_SIG_NR];
	unsigned strikes;
	uint64_t state_since_ns, ban_until_ns, last_seen_ns;
	uint64_t last_established_ns; /* 0 = never */
	/* Datapath deltas of the last pw_engine_observe_totals() call for
	 * the source (packets, drops): kept until the next one. */
	uint64_t d_packets, d_drops;
	bool trusted;
};

/* Orders of pw_engine_top_by(). */
enum pw_top_by {
	PW_TOP_SCORE = 0, /* score, descending */
	PW_TOP_PACKETS,	  /* d_packets, descending, zero left out */
	PW_TOP_DROPS,	  /* d_drops, descending, zero left out */
};

/* Offender history that survives restarts (with the bans themselves). */
struct pw_history_entry {
	struct pw_cidr key;
	unsigned strikes;
	int64_t last_strike_unix_s;
};

struct pw_engine_stats {
	uint64_t bans_by_cause[PW_CAUSE_MANUAL + 1];
	uint64_t guard_limited;	  /* bans turned into quarantines */
	uint64_t trusted_ignored; /* sanctions not applied to trusted */
	uint64_t peers;		  /* sources tracked by the engine */
	uint64_t peers_evicted;	  /* idle sources forgotten */
};

struct pw_engine;

/* Defaults documented in docs/scoring.md. */
void pw_score_params_defaults(struct pw_score_params *p);

/* max_peers bounds memory: beyond it the idlest normal sources are
 * forgotten first (never banned ones). */
struct pw_engine *pw_engine_new(const struct pw_score_params *p,
				size_t max_peers, uint64_t seed);
void pw_engine_free(struct pw_engine *e);

void pw_engine_set_posture(struct pw_engine *e, enum pw_posture posture);
enum pw_posture pw_engine_posture(const struct pw_engine *e);

/* Trusted CIDRs (replaces the set). Returns decisions lifting overlapping
 * bans into out (at most max), or -ENOMEM. */
int pw_engine_set_trusted(struct pw_engine *e, const struct pw_cidr *cidrs,
			  size_t n, uint64_t now_ns, struct pw_decision *out,
			  size_t max);

/* Signals for a source key during the current tick; accumulates. */
int pw_engine_observe(struct pw_engine *e, const struct pw_cidr *key,
		      const struct pw_signals *sig, uint64_t now_ns);

/* The datapath's running totals of a source (packets, SYNs, drops): the
 * engine keeps the last totals it was given per source and observes the
 * deltas (PW_SIG_PKT, PW_SIG_SYN, PW_SIG_DROP) as pw_engine_observe()
 * would. A total below the stored one means the datapath recycled its
 * entry: the total itself is the delta. A source the engine does not
 * know yet (new, or forgotten) has stored totals of zero. The deltas are
 * kept for operators (pw_peer_info d_packets / d_drops), and the totals
 * are stored even while the source is banned (its signals are not
 * scored then). Returns 0, -EINVAL, -ENOSPC (no room, see max_peers) or
 * -ENOMEM. */
int pw_engine_observe_totals(struct pw_engine *e, const struct pw_cidr *key,
			     uint64_t packets, uint64_t syns, uint64_t drops,
			     bool established, uint64_t now_ns);

/* End of tick: decay, score every source observed since the last tick and
 * every sanction due to expire; return up to max decisions (the rest are
 * produced next tick). */
size_t pw_engine_tick(struct pw_engine *e, uint64_t now_ns,
		      struct pw_decision *out, size_t max);

/* Operator actions. ttl_s 0 = until lifted. Return 0, -EPERM for a trusted
 * address (ban/quarantine), -ENOENT (unban/release of nothing). */
int pw_engine_manual_ban(struct pw_engine *e, const struct pw_cidr *c,
			 double ttl_s, uint64_t now_ns);
int pw_engine_manual_unban(struct pw_engine *e, const struct pw_cidr *c,
			   uint64_t now_ns);
int pw_engine_manual_quarantine(struct pw_engine *e, const struct pw_cidr *c,
				double ttl_s, uint64_t now_ns);
int pw_engine_manual_release(struct pw_engine *e, const struct pw_cidr *c,
			     uint64_t now_ns);

/* The operator's "reset trust" for one key (a source, or a prefix the
 * engine tracks): back to a clean slate as if never seen misbehaving.
 * Its ban is lifted, its level and any operator hold cleared, counters,
 * score and credit zeroed, strikes (the offender history that lengthens
 * the next ban) and probation dropped, a prefix's count of banned
 * neighbours emptied. Signals observed since the last tick stay (they
 * belong to the fresh start). *was gets the state it had, so the caller
 * can lift the ban or level in the datapath. 0, -EINVAL, or -ENOENT when
 * the engine does not know the key. */
int pw_engine_forgive(struct pw_engine *e, const struct pw_cidr *c,
		      uint64_t now_ns, enum pw_peer_state *was);

/* A ban read back from the state file at start: the engine takes over its
 * expiry (UNBAN decision) as if it had issued it. */
int pw_engine_restore_ban(struct pw_engine *e, const struct pw_cidr *c,
			  double remaining_s, enum pw_cause cause,
			  uint64_t now_ns);

/* Lookups for the control socket. */
int pw_engine_peer(const struct pw_engine *e, const struct pw_cidr *key,
		   uint64_t now_ns, struct pw_peer_info *out);
/* Fill up to max peers, ordered by score (descending). Returns count. */
size_t pw_engine_top(const struct pw_engine *e, uint64_t now_ns,
		     struct pw_peer_info *out, size_t max);
/* The same in another order. For PW_TOP_PACKETS / PW_TOP_DROPS, sources
 * whose last delta is zero are left out, and so are sources not seen for
 * more than max_idle_ns (0: no limit); ties keep table order. */
size_t pw_engine_top_by(const struct pw_engine *e, enum pw_top_by by,
			uint64_t now_ns, uint64_t max_idle_ns,
			struct pw_peer_info *out, size_t max);
void pw_engine_get_stats(const struct pw_engine *e,
			 struct pw_engine_stats *out);

/* Sources (and prefixes) in state st now: O(tracked), for status and
 * metrics, not for the tick. */
size_t pw_engine_count_state(const struct pw_engine *e, enum pw_peer_state st);

/* History for the state file; restore on start (strikes decay by the time
 * passed, using now_unix_s). */
size_t pw_engine_history(const struct pw_engine *e, int64_t now_unix_s,
			 struct pw_history_entry *out, size_t max);
int pw_engine_restore_history(struct pw_engine *e,
			      const struct pw_history_entry *h, size_t n,
			      int64_t now_unix_s);

const char *pw_peer_state_name(enum pw_peer_state s);
const char *pw_cause_name(enum pw_cause c);
const char *pw_posture_name(enum pw_posture p);
int pw_posture_parse(const char *s, enum pw_posture *out);

#endif /* PW_SCORE_H */
