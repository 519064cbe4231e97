// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_score.c - unit tests for src/score.c, the peer-scoring engine.
 *
 * Every test drives the engine with a fake clock (nanoseconds, starting at
 * T0 so that 0 never means "now") and reads back the decisions of each
 * tick. The two properties the issue promises with the defaults are
 * tested as scenarios: a 20k pps SYN flood is banned within 3 s of its
 * start wherever in a tick it starts, and honest peers of a real P2P
 * network never leave normal over two hours. The rest pins the shape:
 * decay, budgets, squared penalties, thresholds, hysteresis, minimum time
 * in state, spoofable vs verified bans, strikes, probation, credit, trust,
 * prefixes, the guard, posture, operator actions, persistence, memory
 * bounds and determinism, and the datapath totals the engine turns into
 * deltas (pw_engine_observe_totals, top by packets / drops).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "score.h"

#define SEC	 1000000000ull
#define T0	 (1000 * SEC)
#define DAY_S	 86400.0
#define MAX_DECS 4096

static struct pw_decision decs[MAX_DECS];
static size_t n_decs;

static struct pw_cidr cidr(const char *s)
{
	struct pw_cidr c;
	char err[128];

	if (pw_cidr_parse(s, &c, err, sizeof(err))) {
		print_error("bad test cidr '%s': %s\n", s, err);
		fail();
	}
	return c;
}

static bool same_key(const struct pw_cidr *a, const struct pw_cidr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static struct pw_engine *engine(const struct pw_score_params *p, uint64_t seed)
{
	struct pw_score_params d;
	struct pw_engine *e;

	if (!p) {
		pw_score_params_defaults(&d);
		p = &d;
	}
	e = pw_engine_new(p, 100000, seed);
	assert_non_null(e);
	return e;
}

static size_t tick(struct pw_engine *e, uint64_t now_ns)
{
	n_decs = pw_engine_tick(e, now_ns, decs, MAX_DECS);
	return n_decs;
}

static void observe(struct pw_engine *e, const char *key, double syn,
		    double drop, double pkt, double inv, double log_m,
		    unsigned good, bool est, uint64_t now_ns)
{
	struct pw_signals s = {{syn, drop, pkt, inv, log_m}, good, est};
	struct pw_cidr k = cidr(key);

	assert_int_equal(pw_engine_observe(e, &k, &s, now_ns), 0);
}

/* One second of a 20k pps SYN flood: every SYN is counted, all but the
 * SYN bucket's 20/s are dropped by the rate limit. */
static void flood(struct pw_engine *e, const char *key, double fraction,
		  uint64_t now_ns)
{
	double syn = 20000 * fraction;

	observe(e, key, syn, syn > 20 ? syn - 20 : 0, syn, 0, 0, 0, false,
		now_ns);
}

static const struct pw_decision *find(enum pw_action a, const char *key)
{
	struct pw_cidr k = cidr(key);
	size_t i;

	for (i = 0; i < n_decs; i++)
		if (decs[i].action == a && same_key(&decs[i].cidr, &k))
			return &decs[i];
	return NULL;
}

static size_t count(enum pw_action a)
{
	size_t i, c = 0;

	for (i = 0; i < n_decs; i++)
		c += decs[i].action == a;
	return c;
}

static struct pw_peer_info info(struct pw_engine *e, const char *key,
				uint64_t now_ns)
{
	struct pw_peer_info pi;
	struct pw_cidr k = cidr(key);

	assert_int_equal(pw_engine_peer(e, &k, now_ns, &pi), 0);
	return pi;
}

static struct pw_engine_stats stats(struct pw_engine *e)
{
	struct pw_engine_stats st;

	pw_engine_get_stats(e, &st);
	return st;
}

static void assert_near(double got, double want, double tol)
{
	if (fabs(got - want) > tol) {
		print_error("got %.9g, want %.9g (+-%g)\n", got, want, tol);
		fail();
	}
}

static void assert_between(double got, double lo, double hi)
{
	if (got < lo || got > hi) {
		print_error("got %.9g, want [%.9g, %.9g]\n", got, lo, hi);
		fail();
	}
}

/* --- parameters and names ----------------------------------------------- */

static void test_defaults_and_validation(void **state)
{
	struct pw_score_params p, bad;
	struct pw_engine *e;

	(void)state;
	pw_score_params_defaults(&p);
	e = pw_engine_new(&p, 16, 1);
	assert_non_null(e);
	pw_engine_free(e);
	assert_null(pw_engine_new(&p, 0, 1));
	assert_null(pw_engine_new(NULL, 16, 1));

	bad = p;
	bad.hysteresis = 1;
	assert_null(pw_engine_new(&bad, 16, 1));
	bad = p;
	bad.threshold[PW_ST_THROTTLE] = bad.threshold[PW_ST_WATCH];
	assert_null(pw_engine_new(&bad, 16, 1));
	bad = p;
	bad.sig[PW_SIG_SYN].half_life_s = 0;
	assert_null(pw_engine_new(&bad, 16, 1));
	bad = p;
	bad.ban_max_s = bad.ban_base_s / 2;
	assert_null(pw_engine_new(&bad, 16, 1));
	bad = p;
	bad.posture_scale[PW_POSTURE_SEVERE] = 0;
	assert_null(pw_engine_new(&bad, 16, 1));
	bad = p;
	bad.prefix_v6 = 129;
	assert_null(pw_engine_new(&bad, 16, 1));
	pw_engine_free(NULL);
}

static void test_names(void **state)
{
	enum pw_posture po;

	(void)state;
	assert_string_equal(pw_peer_state_name(PW_ST_NORMAL), "normal");
	assert_string_equal(pw_peer_state_name(PW_ST_WATCH), "watch");
	assert_string_equal(pw_peer_state_name(PW_ST_THROTTLE), "throttle");
	assert_string_equal(pw_peer_state_name(PW_ST_QUARANTINE), "quarantine");
	assert_string_equal(pw_peer_state_name(PW_ST_BANNED), "banned");
	assert_string_equal(pw_peer_state_name(PW_ST_NR), "unknown");
	assert_string_equal(pw_cause_name(PW_CAUSE_SPOOFABLE), "spoofable");
	assert_string_equal(pw_cause_name(PW_CAUSE_VERIFIED), "verified");
	assert_string_equal(pw_cause_name(PW_CAUSE_PREFIX), "prefix");
	assert_string_equal(pw_cause_name(PW_CAUSE_MANUAL), "manual");
	assert_string_equal(pw_cause_name(0), "unknown");
	assert_string_equal(pw_posture_name(PW_POSTURE_NORMAL), "normal");
	assert_string_equal(pw_posture_name(PW_POSTURE_ELEVATED), "elevated");
	assert_string_equal(pw_posture_name(PW_POSTURE_SEVERE), "severe");
	assert_string_equal(pw_posture_name(PW_POSTURE_NR), "unknown");
	assert_int_equal(pw_posture_parse("severe", &po), 0);
	assert_int_equal(po, PW_POSTURE_SEVERE);
	assert_int_equal(pw_posture_parse("elevated", &po), 0);
	assert_int_equal(po, PW_POSTURE_ELEVATED);
	assert_int_equal(pw_posture_parse("normal", &po), 0);
	assert_int_equal(po, PW_POSTURE_NORMAL);
	assert_int_equal(pw_posture_parse("panic", &po), -EINVAL);
	assert_int_equal(pw_posture_parse("", &po), -EINVAL);
	assert_int_equal(pw_posture_parse(NULL, &po), -EINVAL);
}

static void test_invalid_arguments(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_signals s = {{-1, 0, 0, 0, 0}, 0, false};
	struct pw_cidr k = cidr("192.0.2.1"), bad = k;
	struct pw_peer_info pi;

	(void)state;
	assert_int_equal(pw_engine_observe(e, &k, &s, T0), -EINVAL);
	s.v[0] = NAN;
	assert_int_equal(pw_engine_observe(e, &k, &s, T0), -EINVAL);
	s.v[0] = 1;
	assert_int_equal(pw_engine_observe(e, &k, NULL, T0), -EINVAL);
	bad.family = 12345;
	assert_int_equal(pw_engine_observe(e, &bad, &s, T0), -EINVAL);
	bad = k;
	bad.prefixlen = 33;
	assert_int_equal(pw_engine_observe(e, &bad, &s, T0), -EINVAL);
	assert_int_equal(pw_engine_manual_ban(e, &k, -1, T0), -EINVAL);
	assert_int_equal(pw_engine_manual_quarantine(e, &k, NAN, T0), -EINVAL);
	assert_int_equal(pw_engine_restore_ban(e, &k, 10, 0, T0), -EINVAL);
	assert_int_equal(pw_engine_peer(e, &k, T0, &pi), -ENOENT);
	bad.prefixlen = 33;
	assert_int_equal(pw_engine_observe_totals(e, &bad, 1, 1, 1, false, T0),
			 -EINVAL);
	assert_int_equal(pw_engine_observe_totals(e, NULL, 1, 1, 1, false, T0),
			 -EINVAL);
	assert_int_equal(pw_engine_peer(e, &k, T0, &pi), -ENOENT);
	pw_engine_free(e);
}

/* --- counters and penalties --------------------------------------------- */

static void test_decay_half_life(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_peer_info pi;

	(void)state;
	observe(e, "192.0.2.1", 100, 100, 1000, 10, 2, 0, true, T0);
	tick(e, T0);
	pi = info(e, "192.0.2.1", T0);
	assert_near(pi.counter[PW_SIG_SYN], 100, 1e-9);

	/* Each counter halves over its own half-life. */
	pi = info(e, "192.0.2.1", T0 + 60 * SEC);
	assert_near(pi.counter[PW_SIG_SYN], 50, 1e-9);
	assert_near(pi.counter[PW_SIG_DROP], 50, 1e-9);
	pi = info(e, "192.0.2.1", T0 + 10 * SEC);
	assert_near(pi.counter[PW_SIG_PKT], 500, 1e-9);
	pi = info(e, "192.0.2.1", T0 + 1800 * SEC);
	assert_near(pi.counter[PW_SIG_INVALID], 5, 1e-9);
	pi = info(e, "192.0.2.1", T0 + 3600 * SEC);
	assert_near(pi.counter[PW_SIG_LOG], 1, 1e-9);

	/* Decay is applied at tick time too, then new signals added. */
	observe(e, "192.0.2.1", 10, 0, 0, 0, 0, 0, true, T0 + 60 * SEC);
	tick(e, T0 + 60 * SEC);
	pi = info(e, "192.0.2.1", T0 + 120 * SEC);
	assert_near(pi.counter[PW_SIG_SYN], 30, 1e-9);
	pw_engine_free(e);
}

static void test_budget_is_free(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_peer_info pi;

	(void)state;
	/* Every signal exactly at its budget: no penalty at all. */
	observe(e, "192.0.2.1", 30, 200, 50000, 15, 3, 0, false, T0);
	assert_int_equal(tick(e, T0), 0);
	pi = info(e, "192.0.2.1", T0);
	assert_near(pi.score, 0, 1e-12);
	assert_int_equal(pi.state, PW_ST_NORMAL);

	/* One over: weight * 1^2. */
	observe(e, "192.0.2.2", 31, 0, 0, 0, 0, 0, false, T0);
	tick(e, T0);
	assert_near(info(e, "192.0.2.2", T0).score, 0.05, 1e-12);
	pw_engine_free(e);
}

static void test_squared_penalty(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	double s10, s20, s40;

	(void)state;
	observe(e, "192.0.2.1", 40, 0, 0, 0, 0, 0, false, T0);
	observe(e, "192.0.2.2", 50, 0, 0, 0, 0, 0, false, T0);
	observe(e, "192.0.2.3", 70, 0, 0, 0, 0, 0, false, T0);
	tick(e, T0);
	s10 = info(e, "192.0.2.1", T0).score;
	s20 = info(e, "192.0.2.2", T0).score;
	s40 = info(e, "192.0.2.3", T0).score;
	assert_near(s10, 0.05 * 100, 1e-9);
	assert_near(s20, 4 * s10, 1e-9);
	assert_near(s40, 16 * s10, 1e-9);
	/* Penalties of different signals add up. */
	observe(e, "192.0.2.4", 40, 210, 0, 0, 0, 0, false, T0);
	tick(e, T0);
	assert_near(info(e, "192.0.2.4", T0).score, 5 + 0.01 * 100, 1e-9);
	pw_engine_free(e);
}

/* --- states -------------------------------------------------------------- */

static void test_state_thresholds(void **state)
{
	/* LOG: budget 3, weight 50, so score = 50 * (count - 3)^2. */
	static const struct {
		const char *key;
		double log_matches;
		enum pw_peer_state want;
		double ttl_s;
	} rows[] = {
		{"198.51.1.1", 3.4, PW_ST_NORMAL, 0},	  /* 8 */
		{"198.51.2.1", 3.5, PW_ST_WATCH, 30},	  /* 12.5 */
		{"198.51.3.1", 5, PW_ST_THROTTLE, 60},	  /* 200 */
		{"198.51.4.1", 6, PW_ST_QUARANTINE, 120}, /* 450 */
		{"198.51.5.1", 8, PW_ST_BANNED, 600},	  /* 1250 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pw_engine *e = engine(NULL, 1);
		const struct pw_decision *d;

		observe(e, rows[i].key, 0, 0, 0, 0, rows[i].log_matches, 0,
			false, T0);
		tick(e, T0);
		if (rows[i].want == PW_ST_NORMAL) {
			assert_int_equal(n_decs, 0);
		} else if (rows[i].want == PW_ST_BANNED) {
			assert_int_equal(n_decs, 1);
			d = find(PW_ACT_BAN, rows[i].key);
			assert_non_null(d);
			assert_int_equal(d->cause, PW_CAUSE_VERIFIED);
			assert_int_equal(d->strikes, 1);
			assert_between(d->ttl_s, 540, 660);
			assert_near(d->score, 1250, 1e-6);
		} else {
			assert_int_equal(n_decs, 1);
			d = find(PW_ACT_LEVEL, rows[i].key);
			assert_non_null(d);
			assert_int_equal(d->state, rows[i].want);
			assert_int_equal(d->cause, PW_CAUSE_VERIFIED);
			assert_near(d->ttl_s, rows[i].ttl_s, 1e-9);
			assert_false(d->guard_limited);
		}
		assert_int_equal(info(e, rows[i].key, T0).state, rows[i].want);
		pw_engine_free(e);
	}
}

/* SYN with a 1 s half-life, no budget and weight 1: score = counter^2, and
 * the next tick's delta sets any score we like. */
static struct pw_engine *driven_engine(void)
{
	struct pw_score_params p;

	pw_score_params_defaults(&p);
	p.sig[PW_SIG_SYN] = (struct pw_signal_params){1, 0, 1};
	return engine(&p, 1);
}

static void drive(struct pw_engine *e, const char *key, double score,
		  uint64_t now_ns)
{
	struct pw_cidr k = cidr(key);
	struct pw_peer_info pi;
	double c = 0, want = sqrt(score);

	if (pw_engine_peer(e, &k, now_ns, &pi) == 0)
		c = pi.counter[PW_SIG_SYN];
	assert_true(want >= c);
	observe(e, key, want - c, 0, 0, 0, 0, 0, false, now_ns);
	tick(e, now_ns);
	assert_near(info(e, key, now_ns).score, score, 1e-6);
}

static void test_hysteresis_no_flapping(void **state)
{
	struct pw_engine *e = driven_engine();
	const char *key = "192.0.2.7";
	uint64_t t1 = T0 + SEC, t;
	unsigned refreshes = 0;
	size_t i;

	(void)state;
	drive(e, key, 105, t1);
	assert_int_equal(n_decs, 1);
	assert_int_equal(decs[0].state, PW_ST_THROTTLE);
	assert_near(decs[0].ttl_s, 60, 1e-9);

	/* Around the throttle threshold: no state change, only refreshes of
	 * the datapath level each min_state_s. */
	for (t = t1 + SEC; t <= t1 + 200 * SEC; t += SEC) {
		drive(e, key, ((t - t1) / SEC) % 2 ? 95 : 105, t);
		for (i = 0; i < n_decs; i++) {
			assert_int_equal(decs[i].action, PW_ACT_LEVEL);
			assert_int_equal(decs[i].state, PW_ST_THROTTLE);
			refreshes++;
		}
	}
	assert_int_equal(refreshes, 3); /* at +60, +120, +180 */

	/* Below threshold * hysteresis: one step down. */
	drive(e, key, 40, t);
	assert_int_equal(n_decs, 1);
	assert_int_equal(decs[0].state, PW_ST_WATCH);
	assert_near(decs[0].ttl_s, 30, 1e-9);

	/* Around the watch threshold: stays in watch. */
	for (i = 1; i <= 100; i++) {
		drive(e, key, i % 2 ? 11 : 9, t + i * SEC);
		if (n_decs)
			assert_int_equal(decs[0].state, PW_ST_WATCH);
	}
	assert_int_equal(info(e, key, t + 100 * SEC).state, PW_ST_WATCH);
	drive(e, key, 4, t + 101 * SEC);
	assert_int_equal(n_decs, 1);
	assert_int_equal(decs[0].state, PW_ST_NORMAL);
	assert_near(decs[0].ttl_s, 0, 1e-12);
	pw_engine_free(e);
}

static void test_min_time_in_state(void **state)
{
	struct pw_engine *e = driven_engine();
	const char *key = "192.0.2.8";
	uint64_t t1 = T0 + SEC, t, changed[3] = {0, 0, 0};
	enum pw_peer_state want[3] = {PW_ST_THROTTLE, PW_ST_WATCH,
				      PW_ST_NORMAL};
	unsigned k = 0;

	(void)state;
	drive(e, key, 450, t1);
	assert_int_equal(decs[0].state, PW_ST_QUARANTINE);
	/* The source goes quiet: its score is ~0 within seconds, but each
	 * step down waits for the minimum time of the state it leaves. */
	for (t = t1 + SEC; t <= t1 + 400 * SEC; t += SEC) {
		tick(e, t);
		if (!n_decs)
			continue;
		assert_int_equal(n_decs, 1);
		assert_true(k < 3);
		assert_int_equal(decs[0].action, PW_ACT_LEVEL);
		assert_int_equal(decs[0].state, want[k]);
		changed[k++] = t;
	}
	assert_int_equal(k, 3);
	assert_int_equal(changed[0], t1 + 120 * SEC);
	assert_int_equal(changed[1], t1 + 180 * SEC);
	assert_int_equal(changed[2], t1 + 210 * SEC);
	pw_engine_free(e);
}

/* --- the two promised properties ---------------------------------------- */

static void test_syn_flood_banned_within_3s(void **state)
{
	static const double starts[] = {0.001, 0.01, 0.3, 0.5, 0.99};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		struct pw_engine *e = engine(NULL, 1);
		const struct pw_decision *d = NULL;
		unsigned n;

		/* Ticks at T0+1 s, +2 s, +3 s; the flood starts at
		 * T0 + starts[i], so the first tick sees only part of it. */
		for (n = 1; n <= 3 && !d; n++) {
			flood(e, "203.0.113.9", n == 1 ? 1 - starts[i] : 1,
			      T0 + n * SEC);
			tick(e, T0 + n * SEC);
			d = find(PW_ACT_BAN, "203.0.113.9");
		}
		if (!d) {
			print_error("flood starting at +%g s not banned\n",
				    starts[i]);
			fail();
		}
		assert_int_equal(d->cause, PW_CAUSE_SPOOFABLE);
		assert_near(d->ttl_s, 600, 1e-6);
		pw_engine_free(e);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_honest_peers_never_leave_normal(void **state)
{
	struct pw_engine *e = engine(NULL, 7);
	uint64_t rng = 0x1234567, t;
	char key[32];
	unsigned i, sec;

	(void)state;
	/* 50 honest peers for two hours: a few SYNs a minute (plus a
	 * reconnect burst every 10 min), a few hundred packets a second
	 * with block-gossip bursts, no drops, good reports, and an invalid
	 * report of weight 10 exactly once per hour. */
	for (sec = 1; sec <= 7200; sec++) {
		t = T0 + sec * SEC;
		for (i = 0; i < 50; i++) {
			double syn = 0, pkt, inv = 0;

			snprintf(key, sizeof(key), "10.%u.0.1", i);
			if ((sec + i * 7) % 12 == 0)
				syn = 1;
			if ((sec + i * 31) % 600 == 0)
				syn += 3;
			pkt = 200 + (double)(xorshift(&rng) % 300);
			if ((sec + i) % 10 == 0)
				pkt += 3000;
			if ((sec + i * 97) % 3600 == 0)
				inv = 10;
			observe(e, key, syn, 0, pkt, inv, 0,
				(sec + i) % 60 == 0, true, t);
		}
		if (tick(e, t)) {
			pw_cidr_format(&decs[0].cidr, key, sizeof(key));
			print_error("decision for %s at +%u s: state %s\n", key,
				    sec, pw_peer_state_name(decs[0].state));
			fail();
		}
	}
	for (i = 0; i < 50; i++) {
		struct pw_peer_info pi;

		snprintf(key, sizeof(key), "10.%u.0.1", i);
		pi = info(e, key, t);
		assert_int_equal(pi.state, PW_ST_NORMAL);
		assert_true(pi.score < 10);
	}
	pw_engine_free(e);
}

/* --- spoofable vs verified ---------------------------------------------- */

static void test_spoofable_ban_base_ttl_no_strike(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const char *key = "203.0.113.9";
	const struct pw_decision *d;
	struct pw_peer_info pi;
	uint64_t t = T0, until;
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		flood(e, key, 1, t);
		tick(e, t);
		d = find(PW_ACT_BAN, key);
		assert_non_null(d);
		assert_int_equal(d->cause, PW_CAUSE_SPOOFABLE);
		assert_near(d->ttl_s, 600, 1e-9); /* no escalation */
		assert_int_equal(d->strikes, 0);
		pi = info(e, key, t);
		assert_int_equal(pi.strikes, 0);
		until = pi.ban_until_ns;
		assert_int_equal(until, t + 600 * SEC);
		tick(e, until - 1);
		assert_int_equal(n_decs, 0);
		tick(e, until);
		assert_non_null(find(PW_ACT_UNBAN, key));
		t = until + SEC;
	}
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_SPOOFABLE], 3);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_VERIFIED], 0);
	pw_engine_free(e);
}

static void test_spoofable_flood_from_established_is_throttled(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	uint64_t t;
	size_t i;

	(void)state;
	observe(e, "192.0.2.20", 1, 0, 100, 0, 0, 0, true, T0);
	observe(e, "192.0.2.21", 0, 0, 100, 0, 0, 1, false, T0); /* credit */
	tick(e, T0);
	/* Half an hour later, both addresses flood (spoofed or not). */
	for (t = T0 + 1800 * SEC; t < T0 + 1810 * SEC; t += SEC) {
		flood(e, "192.0.2.20", 1, t);
		flood(e, "192.0.2.21", 1, t);
		tick(e, t);
		assert_int_equal(count(PW_ACT_BAN), 0);
		for (i = 0; i < n_decs; i++) {
			assert_int_equal(decs[i].state, PW_ST_THROTTLE);
			assert_int_equal(decs[i].cause, PW_CAUSE_SPOOFABLE);
		}
	}
	assert_int_equal(info(e, "192.0.2.20", t).state, PW_ST_THROTTLE);
	assert_int_equal(info(e, "192.0.2.21", t).state, PW_ST_THROTTLE);

	/* Verified signals still escalate fully. */
	observe(e, "192.0.2.20", 0, 0, 0, 100, 0, 0, true, t);
	tick(e, t);
	assert_non_null(find(PW_ACT_BAN, "192.0.2.20"));
	assert_int_equal(find(PW_ACT_BAN, "192.0.2.20")->cause,
			 PW_CAUSE_VERIFIED);

	/* An hour after its last handshake or credit, the protection ends. */
	t = T0 + 3601 * SEC;
	flood(e, "192.0.2.21", 1, t);
	tick(e, t);
	assert_non_null(find(PW_ACT_BAN, "192.0.2.21"));
	assert_int_equal(find(PW_ACT_BAN, "192.0.2.21")->cause,
			 PW_CAUSE_SPOOFABLE);
	pw_engine_free(e);
}

/* Ban `key` with invalid reports at t, return the decision's TTL and let
 * the ban expire; *t moves to one second after the expiry. */
static double verified_round(struct pw_engine *e, const char *key, uint64_t *t,
			     unsigned want_strikes)
{
	const struct pw_decision *d;
	uint64_t until;
	double ttl;

	observe(e, key, 0, 0, 0, 100, 0, 0, false, *t);
	tick(e, *t);
	d = find(PW_ACT_BAN, key);
	assert_non_null(d);
	assert_int_equal(d->cause, PW_CAUSE_VERIFIED);
	assert_int_equal(d->strikes, want_strikes);
	ttl = d->ttl_s;
	until = info(e, key, *t).ban_until_ns;
	assert_near((double)(until - *t) / 1e9, ttl, 1e-6);
	tick(e, until);
	assert_non_null(find(PW_ACT_UNBAN, key));
	*t = until + SEC;
	return ttl;
}

/* Forgive: a struck, banned source starts over. Ban lifted without an
 * UNBAN decision of the engine's own (the caller applies it), counters,
 * score and strikes gone, so its next verified ban is a first offence
 * again (10 minutes, strike 1) and no expiry fires later. */
static void test_forgive(void **state)
{
	struct pw_engine *e = engine(NULL, 11);
	const char *key = "192.0.2.40";
	struct pw_cidr k = cidr(key);
	enum pw_peer_state was;
	struct pw_peer_info pi;
	uint64_t t = T0, until;
	double ttl;

	(void)state;
	verified_round(e, key, &t, 1);
	verified_round(e, key, &t, 2);
	/* third offence: banned now, 2 strikes of history before it */
	observe(e, key, 0, 0, 0, 100, 0, 0, false, t);
	tick(e, t);
	assert_non_null(find(PW_ACT_BAN, key));
	until = info(e, key, t).ban_until_ns;
	assert_int_equal(info(e, key, t).strikes, 3);

	assert_int_equal(pw_engine_forgive(e, &k, t + SEC, &was), 0);
	assert_int_equal(was, PW_ST_BANNED);
	pi = info(e, key, t + SEC);
	assert_int_equal(pi.state, PW_ST_NORMAL);
	assert_int_equal(pi.strikes, 0);
	assert_true(pi.score == 0);
	assert_true(pi.credit == 0);
	assert_int_equal(pi.ban_until_ns, 0);
	for (int s = 0; s < PW_SIG_NR; s++)
		assert_true(pi.counter[s] == 0);
	assert_int_equal(pw_engine_count_state(e, PW_ST_BANNED), 0);
	/* no decision now, and none when the old ban would have expired */
	assert_int_equal(tick(e, t + 2 * SEC), 0);
	assert_int_equal(tick(e, until + SEC), 0);

	/* the next offence is a first one again */
	t = until + 2 * SEC;
	ttl = verified_round(e, key, &t, 1);
	assert_between(ttl, 540, 660);

	/* a quarantined source (operator hold) is released too */
	assert_int_equal(pw_engine_manual_quarantine(e, &k, 3600, t), 0);
	assert_int_equal(pw_engine_forgive(e, &k, t, &was), 0);
	assert_int_equal(was, PW_ST_QUARANTINE);
	assert_int_equal(info(e, key, t).state, PW_ST_NORMAL);
	assert_int_equal(tick(e, t + 3601 * SEC), 0);

	/* unknown and malformed keys */
	k = cidr("192.0.2.41");
	assert_int_equal(pw_engine_forgive(e, &k, t, &was), -ENOENT);
	k.prefixlen = 33;
	assert_int_equal(pw_engine_forgive(e, &k, t, &was), -EINVAL);
	pw_engine_free(e);
}

/* A source only observed (no side record) forgets its counters. */
static void test_forgive_counters_only(void **state)
{
	struct pw_engine *e = engine(NULL, 12);
	const char *key = "192.0.2.42";
	struct pw_cidr k = cidr(key);
	enum pw_peer_state was;

	(void)state;
	observe(e, key, 5, 0, 50, 0, 0, 0, false, T0);
	tick(e, T0);
	assert_true(info(e, key, T0).counter[PW_SIG_PKT] > 0);
	assert_int_equal(pw_engine_forgive(e, &k, T0 + SEC, &was), 0);
	assert_int_equal(was, PW_ST_NORMAL);
	assert_true(info(e, key, T0 + SEC).counter[PW_SIG_PKT] == 0);
	assert_true(info(e, key, T0 + SEC).counter[PW_SIG_SYN] == 0);
	pw_engine_free(e);
}

static void test_verified_escalation_ttls(void **state)
{
	struct pw_engine *e = engine(NULL, 42);
	uint64_t t = T0;
	double want = 600;
	unsigned strikes;

	(void)state;
	for (strikes = 1; strikes <= 8; strikes++) {
		double ttl = verified_round(e, "192.0.2.30", &t, strikes);
		double capped = want < 7 * DAY_S ? want : 7 * DAY_S;

		/* 10 min, 40 min, 160 min, ... capped at 7 days. */
		assert_between(ttl, capped * 0.9,
			       fmin(capped * 1.1, 7 * DAY_S));
		want *= 4;
	}
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_VERIFIED], 8);
	pw_engine_free(e);
}

static void test_strikes_decay_after_clean_periods(void **state)
{
	struct pw_engine *e = engine(NULL, 3);
	const char *key = "192.0.2.31";
	uint64_t t = T0;
	double ttl;

	(void)state;
	verified_round(e, key, &t, 1);
	/* A clean day after the ban ended forgives the strike. */
	t += (uint64_t)DAY_S * SEC;
	assert_int_equal(info(e, key, t).strikes, 0);
	ttl = verified_round(e, key, &t, 1);
	assert_between(ttl, 540, 660);

	/* Two quick strikes, then one clean day: one strike left. */
	ttl = verified_round(e, key, &t, 2);
	assert_between(ttl, 2160, 2640);
	assert_int_equal(info(e, key, t).strikes, 2);
	t += (uint64_t)DAY_S * SEC;
	assert_int_equal(info(e, key, t - 2 * SEC).strikes, 2);
	assert_int_equal(info(e, key, t).strikes, 1);
	ttl = verified_round(e, key, &t, 2);
	assert_between(ttl, 2160, 2640);
	/* Three clean days forgive everything. */
	t += 3 * (uint64_t)DAY_S * SEC;
	assert_int_equal(info(e, key, t).strikes, 0);
	pw_engine_free(e);
}

static void test_score_frozen_while_banned(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const char *key = "192.0.2.40";
	struct pw_peer_info before, during, after;
	uint64_t t;

	(void)state;
	observe(e, key, 0, 0, 0, 0, 8, 0, false, T0);
	tick(e, T0);
	assert_non_null(find(PW_ACT_BAN, key));
	before = info(e, key, T0);
	for (t = T0 + SEC; t < T0 + 300 * SEC; t += SEC) {
		observe(e, key, 500, 500, 500, 50, 5, 3, false, t);
		assert_int_equal(tick(e, t), 0);
	}
	during = info(e, key, t);
	assert_int_equal(during.state, PW_ST_BANNED);
	assert_near(during.score, before.score, 1e-9);
	assert_near(during.counter[PW_SIG_LOG], before.counter[PW_SIG_LOG],
		    1e-12);
	assert_near(during.counter[PW_SIG_SYN], 0, 1e-12);
	assert_near(during.credit, 0, 1e-12);
	/* After the ban the slate is clean. */
	tick(e, during.ban_until_ns);
	after = info(e, key, during.ban_until_ns);
	assert_int_equal(after.state, PW_ST_WATCH);
	assert_near(after.score, 0, 1e-12);
	pw_engine_free(e);
}

static void test_probation_after_ban(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const char *a = "192.0.2.50", *b = "192.0.2.51";
	struct pw_peer_info pi;
	uint64_t ua, t;

	(void)state;
	observe(e, a, 0, 0, 0, 0, 8, 0, false, T0);
	observe(e, b, 0, 0, 0, 0, 8, 0, false, T0);
	tick(e, T0);
	assert_int_equal(count(PW_ACT_BAN), 2);
	ua = info(e, a, T0).ban_until_ns;
	if (info(e, b, T0).ban_until_ns > ua)
		ua = info(e, b, T0).ban_until_ns;
	tick(e, ua);
	/* For each: UNBAN (new state watch) then LEVEL watch for the whole
	 * probation. */
	assert_int_equal(n_decs, 4);
	assert_int_equal(decs[0].action, PW_ACT_UNBAN);
	assert_int_equal(decs[0].state, PW_ST_WATCH);
	assert_int_equal(decs[1].action, PW_ACT_LEVEL);
	assert_int_equal(decs[1].state, PW_ST_WATCH);
	assert_true(same_key(&decs[0].cidr, &decs[1].cidr));
	assert_between(decs[1].ttl_s, 1, 600);

	/* On probation thresholds are halved: 7 log matches (800) would
	 * only quarantine a source in good standing, but ban this one. */
	t = ua + 10 * SEC;
	observe(e, a, 0, 0, 0, 0, 7, 0, false, t);
	tick(e, t);
	assert_non_null(find(PW_ACT_BAN, a));
	assert_int_equal(find(PW_ACT_BAN, a)->strikes, 2);

	/* Without news, probation ends and b returns to normal. */
	pi = info(e, b, t);
	assert_int_equal(pi.state, PW_ST_WATCH);
	for (t += SEC; t <= ua + 601 * SEC; t += SEC) {
		tick(e, t);
		if (find(PW_ACT_LEVEL, b))
			break;
	}
	assert_non_null(find(PW_ACT_LEVEL, b));
	assert_int_equal(find(PW_ACT_LEVEL, b)->state, PW_ST_NORMAL);
	assert_true(t >= ua + 600 * SEC);
	pw_engine_free(e);
}

static void test_credit_cap_and_zeroing(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const char *key = "192.0.2.60";
	struct pw_peer_info pi;

	(void)state;
	observe(e, key, 0, 0, 0, 0, 0, 30, true, T0);
	tick(e, T0);
	pi = info(e, key, T0);
	assert_near(pi.credit, 20, 1e-12); /* capped */
	assert_near(pi.score, -20, 1e-12);

	/* A small penalty (12.5) is absorbed: still normal. */
	observe(e, key, 0, 0, 0, 0, 3.5, 0, true, T0 + SEC);
	assert_int_equal(tick(e, T0 + SEC), 0);
	pi = info(e, key, T0 + SEC);
	assert_near(pi.credit, 20, 1e-12);
	assert_true(pi.score < 0);

	/* A serious one (>= 50) zeroes the credit: no banked immunity. */
	observe(e, key, 0, 0, 0, 0, 1.5, 5, true, T0 + 2 * SEC);
	tick(e, T0 + 2 * SEC);
	pi = info(e, key, T0 + 2 * SEC);
	assert_near(pi.credit, 0, 1e-12);
	assert_int_equal(pi.state, PW_ST_THROTTLE);
	pw_engine_free(e);
}

/* --- trust --------------------------------------------------------------- */

static void test_trusted_immunity(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr tr = cidr("10.0.0.0/8"), k;
	struct pw_peer_info pi;
	uint64_t t;

	(void)state;
	assert_int_equal(pw_engine_set_trusted(e, &tr, 1, T0, decs, MAX_DECS),
			 0);
	/* 1000 invalid reports of weight 10, then a SYN flood. */
	observe(e, "10.1.2.3", 0, 0, 0, 10000, 0, 0, true, T0);
	assert_int_equal(tick(e, T0), 0);
	assert_int_equal(stats(e).trusted_ignored, 1);
	for (t = T0 + SEC; t < T0 + 30 * SEC; t += SEC) {
		flood(e, "10.1.2.3", 1, t);
		assert_int_equal(tick(e, t), 0);
	}
	/* Counted once per would-be escalation, not per tick. */
	assert_int_equal(stats(e).trusted_ignored, 1);
	pi = info(e, "10.1.2.3", t);
	assert_true(pi.trusted);
	assert_int_equal(pi.state, PW_ST_NORMAL);
	assert_true(pi.counter[PW_SIG_INVALID] > 9000); /* still recorded */
	assert_true(pi.score > 1000);

	k = cidr("10.9.9.9");
	assert_int_equal(pw_engine_manual_ban(e, &k, 60, t), -EPERM);
	assert_int_equal(pw_engine_manual_quarantine(e, &k, 60, t), -EPERM);
	assert_int_equal(pw_engine_restore_ban(e, &k, 60, PW_CAUSE_VERIFIED, t),
			 -EPERM);
	/* A CIDR containing a trusted range is refused too. */
	k = cidr("0.0.0.0/0");
	assert_int_equal(pw_engine_manual_ban(e, &k, 60, t), -EPERM);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_MANUAL], 0);
	pw_engine_free(e);
}

static void test_set_trusted_lifts_overlapping(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr tr[2] = {cidr("192.0.2.0/24"), cidr("198.51.100.7")};
	struct pw_cidr m = cidr("198.51.100.0/24");
	struct pw_decision out[4];
	int n, i;

	(void)state;
	flood(e, "192.0.2.5", 1, T0);
	flood(e, "203.0.113.5", 1, T0);
	observe(e, "192.0.2.6", 0, 0, 0, 0, 5, 0, false, T0); /* throttle */
	tick(e, T0);
	assert_int_equal(count(PW_ACT_BAN), 2);
	assert_int_equal(pw_engine_manual_ban(e, &m, 0, T0), 0);

	/* Room for one decision now; the others come with the next tick. */
	n = pw_engine_set_trusted(e, tr, 2, T0 + SEC, out, 1);
	assert_int_equal(n, 1);
	tick(e, T0 + 2 * SEC);
	assert_int_equal(n_decs, 2);
	decs[2] = out[0];
	n_decs = 3;
	assert_non_null(find(PW_ACT_UNBAN, "192.0.2.5"));
	assert_non_null(find(PW_ACT_UNBAN, "198.51.100.0/24"));
	assert_non_null(find(PW_ACT_LEVEL, "192.0.2.6"));
	assert_int_equal(find(PW_ACT_LEVEL, "192.0.2.6")->state, PW_ST_NORMAL);
	for (i = 0; i < 3; i++)
		assert_false(decs[i].action == PW_ACT_BAN);
	assert_int_equal(info(e, "192.0.2.5", T0 + 2 * SEC).state,
			 PW_ST_NORMAL);
	assert_int_equal(info(e, "203.0.113.5", T0 + 2 * SEC).state,
			 PW_ST_BANNED);
	/* The lifted bans do not come back at their old expiry. */
	tick(e, T0 + 700 * SEC);
	assert_null(find(PW_ACT_UNBAN, "192.0.2.5"));
	assert_non_null(find(PW_ACT_UNBAN, "203.0.113.5"));
	/* Replacing the set with nothing is allowed. */
	assert_int_equal(pw_engine_set_trusted(e, NULL, 0, T0, NULL, 0), 0);
	pw_engine_free(e);
}

/* --- prefixes ------------------------------------------------------------ */

static void test_prefix_aggregation(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const struct pw_decision *d;
	char key[32];
	unsigned i;

	(void)state;
	for (i = 1; i <= 8; i++) {
		snprintf(key, sizeof(key), "203.0.113.%u", i);
		flood(e, key, 1, T0 + i * SEC);
		tick(e, T0 + i * SEC);
		assert_non_null(find(PW_ACT_BAN, key));
		d = find(PW_ACT_LEVEL, "203.0.113.0/24");
		if (i < 3) {
			assert_null(d);
		} else if (i < 8) {
			assert_non_null(d);
			assert_int_equal(d->state, PW_ST_THROTTLE);
			assert_int_equal(d->cause, PW_CAUSE_PREFIX);
			assert_near(d->ttl_s, 600, 1e-9);
		}
		d = find(PW_ACT_BAN, "203.0.113.0/24");
		if (i < 8) {
			assert_null(d);
		} else {
			assert_non_null(d);
			assert_int_equal(d->cause, PW_CAUSE_PREFIX);
			assert_near(d->ttl_s, 600, 1e-9);
		}
	}
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_PREFIX], 1);
	tick(e, T0 + 608 * SEC);
	assert_non_null(find(PW_ACT_UNBAN, "203.0.113.0/24"));

	/* Bans spread wider than the window do not add up. */
	for (i = 1; i <= 8; i++) {
		snprintf(key, sizeof(key), "198.18.7.%u", i);
		flood(e, key, 1, T0 + 1000 * SEC + i * 700 * SEC);
		tick(e, T0 + 1000 * SEC + i * 700 * SEC);
		assert_null(find(PW_ACT_LEVEL, "198.18.7.0/24"));
		assert_null(find(PW_ACT_BAN, "198.18.7.0/24"));
	}
	pw_engine_free(e);
}

static void test_prefix_never_covers_trusted(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr tr = cidr("203.0.113.77");
	char key[32];
	unsigned i;

	(void)state;
	pw_engine_set_trusted(e, &tr, 1, T0, NULL, 0);
	for (i = 1; i <= 12; i++) {
		snprintf(key, sizeof(key), "203.0.113.%u", i);
		flood(e, key, 1, T0 + i * SEC);
		tick(e, T0 + i * SEC);
		assert_non_null(find(PW_ACT_BAN, key));
		assert_null(find(PW_ACT_BAN, "203.0.113.0/24"));
	}
	assert_int_equal(stats(e).trusted_ignored, 1);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_PREFIX], 0);
	pw_engine_free(e);
}

/* --- self-isolation guard ----------------------------------------------- */

static void test_guard_rate_cap(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const struct pw_decision *d = NULL;
	char key[32];
	unsigned i;
	uint64_t t;

	(void)state;
	for (i = 0; i < 31; i++) {
		snprintf(key, sizeof(key), "100.%u.0.1", i);
		flood(e, key, 1, T0);
	}
	tick(e, T0);
	assert_int_equal(count(PW_ACT_BAN), 30);
	assert_int_equal(count(PW_ACT_LEVEL), 1);
	for (i = 0; i < n_decs; i++)
		if (decs[i].action == PW_ACT_LEVEL)
			d = &decs[i];
	assert_non_null(d);
	assert_int_equal(d->state, PW_ST_QUARANTINE);
	assert_true(d->guard_limited);
	assert_int_equal(stats(e).guard_limited, 1);
	pw_cidr_format(&d->cidr, key, sizeof(key));
	key[strlen(key) - 3] = '\0'; /* drop "/32" */

	/* Still flooding: held in quarantine (counted once) until the
	 * minute has passed, then banned. */
	for (t = T0 + SEC; t <= T0 + 60 * SEC; t += SEC) {
		flood(e, key, 1, t);
		tick(e, t);
		if (find(PW_ACT_BAN, key))
			break;
		assert_int_equal(n_decs, 0);
	}
	assert_int_equal(t, T0 + 60 * SEC);
	assert_int_equal(stats(e).guard_limited, 1);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_SPOOFABLE], 31);
	pw_engine_free(e);
}

static void test_guard_fraction_cap(void **state)
{
	struct pw_score_params p;
	struct pw_engine *e;
	char key[32];
	unsigned i;

	(void)state;
	pw_score_params_defaults(&p);
	p.max_auto_bans_per_min = 1000;
	e = engine(&p, 1);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "100.64.%u.1", i);
		observe(e, key, 0, 0, 100, 0, 0, 0, true, T0);
	}
	tick(e, T0);
	/* The node reports six of its ten peers invalid at once: a bug or
	 * an eclipse attempt. At most half of them are banned. */
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "100.64.%u.1", i);
		observe(e, key, 0, 0, 100, 100, 0, 0, true, T0 + SEC);
	}
	tick(e, T0 + SEC);
	assert_int_equal(count(PW_ACT_BAN), 5);
	assert_int_equal(count(PW_ACT_LEVEL), 1);
	for (i = 0; i < n_decs; i++) {
		if (decs[i].action != PW_ACT_LEVEL)
			continue;
		assert_int_equal(decs[i].state, PW_ST_QUARANTINE);
		assert_true(decs[i].guard_limited);
		assert_int_equal(decs[i].cause, PW_CAUSE_VERIFIED);
	}
	assert_int_equal(stats(e).guard_limited, 1);

	/* Still held back two minutes later: the quarantine is refreshed
	 * before the datapath level lapses, and not counted again. */
	assert_int_equal(tick(e, T0 + 120 * SEC), 0);
	tick(e, T0 + 121 * SEC);
	assert_int_equal(n_decs, 1);
	assert_int_equal(decs[0].action, PW_ACT_LEVEL);
	assert_int_equal(decs[0].state, PW_ST_QUARANTINE);
	assert_true(decs[0].guard_limited);
	assert_near(decs[0].ttl_s, 120, 1e-9);
	assert_int_equal(stats(e).guard_limited, 1);

	/* Below min_established_for_fraction only the rate cap applies. */
	pw_engine_free(e);
	e = engine(&p, 1);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "100.64.%u.1", i);
		observe(e, key, 0, 0, 100, 100, 0, 0, true, T0);
	}
	tick(e, T0);
	assert_int_equal(count(PW_ACT_BAN), 4);
	assert_int_equal(stats(e).guard_limited, 0);
	pw_engine_free(e);
}

/* --- posture ------------------------------------------------------------- */

static void test_posture_scales(void **state)
{
	static const struct {
		enum pw_posture posture;
		enum pw_peer_state want;
	} rows[] = {
		/* 100 SYNs in one tick. normal: 0.05 * (100 - 30)^2 = 245,
		 * throttle. elevated: budget 15, 361, thresholds halved:
		 * quarantine (200). severe: budget 7.5, 428, ban at 250. */
		{PW_POSTURE_NORMAL, PW_ST_THROTTLE},
		{PW_POSTURE_ELEVATED, PW_ST_QUARANTINE},
		{PW_POSTURE_SEVERE, PW_ST_BANNED},
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct pw_engine *e = engine(NULL, 1);

		pw_engine_set_posture(e, rows[i].posture);
		assert_int_equal(pw_engine_posture(e), rows[i].posture);
		observe(e, "198.18.0.1", 100, 0, 0, 0, 0, 0, false, T0);
		tick(e, T0);
		assert_int_equal(n_decs, 1);
		assert_int_equal(info(e, "198.18.0.1", T0).state, rows[i].want);
		pw_engine_set_posture(e, PW_POSTURE_NR); /* ignored */
		assert_int_equal(pw_engine_posture(e), rows[i].posture);
		pw_engine_free(e);
	}
}

/* --- operator actions ---------------------------------------------------- */

static void test_manual_ban_unban_and_expiry(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr h = cidr("192.0.2.80"), net = cidr("10.0.0.0/8"),
		       other = cidr("192.0.2.81"), forever = cidr("192.0.2.82");
	const struct pw_decision *d;

	(void)state;
	assert_int_equal(pw_engine_manual_ban(e, &h, 100, T0), 0);
	assert_int_equal(pw_engine_manual_ban(e, &net, 50, T0), 0);
	assert_int_equal(pw_engine_manual_ban(e, &other, 100, T0), 0);
	assert_int_equal(pw_engine_manual_ban(e, &forever, 0, T0), 0);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_MANUAL], 4);
	/* The agent applies manual actions itself: no decisions now. */
	assert_int_equal(tick(e, T0 + SEC), 0);
	assert_int_equal(info(e, "192.0.2.80", T0).state, PW_ST_BANNED);

	/* Signals of a manually banned source are not scored either. */
	flood(e, "192.0.2.80", 1, T0 + 2 * SEC);
	assert_int_equal(tick(e, T0 + 2 * SEC), 0);

	tick(e, T0 + 50 * SEC);
	d = find(PW_ACT_UNBAN, "10.0.0.0/8");
	assert_non_null(d);
	assert_int_equal(d->cause, PW_CAUSE_MANUAL);
	assert_int_equal(n_decs, 1);

	assert_int_equal(pw_engine_manual_unban(e, &other, T0 + 60 * SEC), 0);
	assert_int_equal(pw_engine_manual_unban(e, &other, T0 + 60 * SEC),
			 -ENOENT);
	assert_int_equal(pw_engine_manual_unban(e, &net, T0 + 60 * SEC),
			 -ENOENT);

	tick(e, T0 + 100 * SEC);
	d = find(PW_ACT_UNBAN, "192.0.2.80");
	assert_non_null(d);
	assert_int_equal(d->cause, PW_CAUSE_MANUAL);
	assert_int_equal(d->state, PW_ST_NORMAL);
	/* No probation after an operator's ban, and nothing for the one
	 * unbanned by hand. */
	assert_int_equal(n_decs, 1);
	assert_int_equal(tick(e, T0 + 1000 * DAY_S * SEC), 0);
	assert_int_equal(info(e, "192.0.2.82", T0).state, PW_ST_BANNED);
	pw_engine_free(e);
}

static void test_manual_quarantine_release_and_expiry(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr a = cidr("192.0.2.90"), b = cidr("192.0.2.91"),
		       c = cidr("192.0.2.92");
	const struct pw_decision *d;

	(void)state;
	assert_int_equal(pw_engine_manual_quarantine(e, &a, 30, T0), 0);
	assert_int_equal(pw_engine_manual_quarantine(e, &b, 30, T0), 0);
	assert_int_equal(info(e, "192.0.2.90", T0).state, PW_ST_QUARANTINE);
	assert_int_equal(pw_engine_manual_release(e, &c, T0), -ENOENT);
	assert_int_equal(pw_engine_manual_release(e, &b, T0 + SEC), 0);
	assert_int_equal(pw_engine_manual_release(e, &b, T0 + SEC), -ENOENT);
	assert_int_equal(info(e, "192.0.2.91", T0).state, PW_ST_NORMAL);

	/* A quiet source stays quarantined for the operator's TTL even
	 * though its score would let it step down. */
	observe(e, "192.0.2.90", 0, 0, 100, 0, 0, 0, true, T0 + 10 * SEC);
	assert_int_equal(tick(e, T0 + 10 * SEC), 0);
	assert_int_equal(tick(e, T0 + 29 * SEC), 0);
	tick(e, T0 + 30 * SEC);
	assert_int_equal(n_decs, 1);
	d = find(PW_ACT_LEVEL, "192.0.2.90");
	assert_non_null(d);
	assert_int_equal(d->state, PW_ST_NORMAL);
	assert_int_equal(d->cause, PW_CAUSE_MANUAL);

	/* Scoring may still ban a quarantined source. */
	assert_int_equal(pw_engine_manual_quarantine(e, &c, 0, T0), 0);
	observe(e, "192.0.2.92", 0, 0, 0, 0, 8, 0, false, T0 + 40 * SEC);
	tick(e, T0 + 40 * SEC);
	assert_non_null(find(PW_ACT_BAN, "192.0.2.92"));
	/* Releasing a banned source is not a release: use unban. */
	assert_int_equal(pw_engine_manual_release(e, &c, T0 + 41 * SEC),
			 -ENOENT);
	pw_engine_free(e);
}

static void test_restore_ban(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr a = cidr("192.0.2.100"), b = cidr("192.0.2.101"),
		       p = cidr("198.18.9.0/24");

	(void)state;
	assert_int_equal(
		pw_engine_restore_ban(e, &a, 300, PW_CAUSE_VERIFIED, T0), 0);
	assert_int_equal(pw_engine_restore_ban(e, &b, 300, PW_CAUSE_MANUAL, T0),
			 0);
	assert_int_equal(pw_engine_restore_ban(e, &p, 200, PW_CAUSE_PREFIX, T0),
			 0);
	assert_int_equal(info(e, "192.0.2.100", T0).state, PW_ST_BANNED);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_VERIFIED], 0);
	tick(e, T0 + 200 * SEC);
	assert_int_equal(n_decs, 1);
	assert_non_null(find(PW_ACT_UNBAN, "198.18.9.0/24"));
	tick(e, T0 + 300 * SEC);
	/* As if the engine had issued it: UNBAN, then probation for its
	 * own kind of ban; only UNBAN for the operator's. */
	assert_int_equal(n_decs, 3);
	assert_non_null(find(PW_ACT_UNBAN, "192.0.2.100"));
	assert_non_null(find(PW_ACT_LEVEL, "192.0.2.100"));
	assert_int_equal(find(PW_ACT_LEVEL, "192.0.2.100")->state, PW_ST_WATCH);
	assert_non_null(find(PW_ACT_UNBAN, "192.0.2.101"));
	assert_null(find(PW_ACT_LEVEL, "192.0.2.101"));
	pw_engine_free(e);
}

/* --- persistence --------------------------------------------------------- */

static void test_history_round_trip(void **state)
{
	struct pw_engine *a = engine(NULL, 5), *b, *c;
	const char *key = "192.0.2.110";
	struct pw_history_entry h[4];
	struct pw_cidr k = cidr(key);
	struct pw_peer_info pi;
	const int64_t unix0 = 1700000000;
	uint64_t t = T0, until;
	double ttl;
	size_t n;

	(void)state;
	verified_round(a, key, &t, 1);
	verified_round(a, key, &t, 2);
	/* Third ban still running when the state is saved: the clean
	 * period starts at its end, in the future. */
	observe(a, key, 0, 0, 0, 100, 0, 0, false, t);
	tick(a, t);
	until = info(a, key, t).ban_until_ns;
	n = pw_engine_history(a, unix0, h, 4);
	assert_int_equal(n, 1);
	assert_true(same_key(&h[0].key, &k));
	assert_int_equal(h[0].strikes, 3);
	assert_int_equal(h[0].last_strike_unix_s,
			 unix0 + (int64_t)((until - t) / SEC));
	assert_int_equal(pw_engine_history(a, unix0, h, 0), 0);

	/* Restored a day and a bit after that ban ended: one strike
	 * forgiven. The new engine's clock is unrelated to the old one. */
	b = engine(NULL, 5);
	assert_int_equal(pw_engine_restore_history(
				 b, h, 1, h[0].last_strike_unix_s + 86400 + 5),
			 0);
	assert_int_equal(info(b, key, 77 * SEC).strikes, 2);
	observe(b, key, 0, 0, 0, 100, 0, 0, false, 77 * SEC);
	tick(b, 77 * SEC);
	assert_non_null(find(PW_ACT_BAN, key));
	assert_int_equal(find(PW_ACT_BAN, key)->strikes, 3);
	ttl = find(PW_ACT_BAN, key)->ttl_s;
	assert_between(ttl, 9600 * 0.9, 9600 * 1.1);

	/* Three clean days: nothing left to restore. */
	c = engine(NULL, 5);
	assert_int_equal(pw_engine_restore_history(
				 c, h, 1, h[0].last_strike_unix_s + 3 * 86400),
			 0);
	assert_int_equal(pw_engine_peer(c, &k, T0, &pi), -ENOENT);
	h[0].key.family = 0;
	assert_int_equal(pw_engine_restore_history(c, h, 1, unix0), -EINVAL);
	pw_engine_free(a);
	pw_engine_free(b);
	pw_engine_free(c);
}

/* --- memory bounds and lookups ------------------------------------------ */

static void test_max_peers_eviction(void **state)
{
	struct pw_score_params p;
	struct pw_engine *e;
	struct pw_signals s = {{1, 0, 10, 0, 0}, 0, false};
	struct pw_cidr k, m1 = cidr("192.0.2.201"), m2 = cidr("192.0.2.202");
	char key[32];
	unsigned i;

	(void)state;
	pw_score_params_defaults(&p);
	e = pw_engine_new(&p, 4, 1);
	assert_non_null(e);
	flood(e, "203.0.113.1", 1, T0);
	tick(e, T0);
	assert_non_null(find(PW_ACT_BAN, "203.0.113.1"));
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "10.0.%u.1", i);
		observe(e, key, 1, 0, 10, 0, 0, 0, false, T0 + (i + 1) * SEC);
		tick(e, T0 + (i + 1) * SEC);
	}
	assert_int_equal(info(e, "203.0.113.1", T0).state, PW_ST_BANNED);
	assert_true(stats(e).peers <= 4);
	assert_true(stats(e).peers_evicted >= 16);
	/* The most recent sources are the ones kept. */
	info(e, "10.0.19.1", T0);
	pw_engine_free(e);

	/* Full of sanctions, a new source has nowhere to go. */
	e = pw_engine_new(&p, 2, 1);
	assert_non_null(e);
	assert_int_equal(pw_engine_manual_ban(e, &m1, 0, T0), 0);
	assert_int_equal(pw_engine_manual_ban(e, &m2, 0, T0), 0);
	k = cidr("192.0.2.203");
	assert_int_equal(pw_engine_observe(e, &k, &s, T0), -ENOSPC);
	/* ... but bans never need room. */
	k = cidr("192.0.2.204");
	assert_int_equal(pw_engine_manual_ban(e, &k, 0, T0), 0);
	assert_int_equal(stats(e).peers, 3);
	pw_engine_free(e);
}

static void test_top_ordering(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_peer_info top[10];
	size_t n;

	(void)state;
	observe(e, "192.0.2.1", 0, 0, 0, 0, 3.5, 0, true, T0); /* 12.5 */
	observe(e, "192.0.2.2", 0, 0, 0, 0, 5, 0, true, T0);   /* 200 */
	observe(e, "192.0.2.3", 0, 0, 0, 0, 4, 0, true, T0);   /* 50 */
	observe(e, "192.0.2.4", 0, 0, 0, 0, 3, 0, true, T0);   /* 0 */
	tick(e, T0);
	n = pw_engine_top(e, T0, top, 3);
	assert_int_equal(n, 3);
	assert_near(top[0].score, 200, 1e-9);
	assert_near(top[1].score, 50, 1e-9);
	assert_near(top[2].score, 12.5, 1e-9);
	assert_int_equal(top[0].key.addr[3], 2);
	n = pw_engine_top(e, T0, top, 10);
	assert_int_equal(n, 4);
	assert_near(top[3].score, 0, 1e-9);
	assert_int_equal(top[0].state, PW_ST_THROTTLE);
	assert_int_equal(pw_engine_top(e, T0, top, 0), 0);
	pw_engine_free(e);
}

static void test_ipv6_keys(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_cidr host = cidr("2001:db8:1:2::/64");
	const struct pw_decision *d;
	struct pw_peer_info pi;
	char buf[PW_CIDR_STRLEN];

	(void)state;
	flood(e, "2001:db8:1:2::/64", 1, T0);
	flood(e, "2001:db8:1:3::/64", 1, T0);
	flood(e, "2001:db8:1:4::/64", 1, T0);
	flood(e, "2001:db8:2:1::/64", 1, T0);
	tick(e, T0);
	assert_int_equal(count(PW_ACT_BAN), 4);
	d = find(PW_ACT_BAN, "2001:db8:1:2::/64");
	assert_non_null(d);
	assert_int_equal(d->cidr.family, AF_INET6);
	assert_int_equal(d->cidr.prefixlen, 64);
	/* Three banned /64s in one /48: the /48 is throttled. */
	d = find(PW_ACT_LEVEL, "2001:db8:1::/48");
	assert_non_null(d);
	pw_cidr_format(&d->cidr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1::/48");
	assert_int_equal(d->state, PW_ST_THROTTLE);
	assert_null(find(PW_ACT_LEVEL, "2001:db8:2::/48"));

	/* Host bits below the prefix are ignored in lookups. */
	host.addr[15] = 1;
	assert_int_equal(pw_engine_peer(e, &host, T0, &pi), 0);
	assert_int_equal(pi.state, PW_ST_BANNED);
	pw_engine_free(e);
}

static void run_seeded(uint64_t seed, double *ttl, unsigned n)
{
	struct pw_engine *e = engine(NULL, seed);
	uint64_t t = T0;
	unsigned i;

	for (i = 0; i < n; i++)
		ttl[i] = verified_round(e, "192.0.2.120", &t, i + 1);
	pw_engine_free(e);
}

static void test_determinism(void **state)
{
	double a[5], b[5], c[5];
	unsigned i, differ = 0;

	(void)state;
	run_seeded(99, a, 5);
	run_seeded(99, b, 5);
	run_seeded(100, c, 5);
	for (i = 0; i < 5; i++) {
		assert_true(a[i] == b[i]);
		differ += a[i] != c[i];
	}
	assert_true(differ > 0);
}

static void test_tick_max_and_backlog(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_decision out[2];
	char key[32];
	size_t n, total = 0;
	unsigned i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		snprintf(key, sizeof(key), "100.%u.0.1", i);
		flood(e, key, 1, T0);
	}
	n = pw_engine_tick(e, T0, out, 2);
	assert_int_equal(n, 2);
	total += n;
	n = pw_engine_tick(e, T0 + SEC, out, 2);
	assert_int_equal(n, 2);
	total += n;
	n = pw_engine_tick(e, T0 + 2 * SEC, out, 2);
	assert_int_equal(n, 1);
	total += n;
	assert_int_equal(pw_engine_tick(e, T0 + 3 * SEC, out, 2), 0);
	assert_int_equal(total, 5);
	assert_int_equal(stats(e).bans_by_cause[PW_CAUSE_SPOOFABLE], 5);
	/* max 0 touches nothing and loses nothing. */
	flood(e, "100.9.0.1", 1, T0 + 4 * SEC);
	assert_int_equal(pw_engine_tick(e, T0 + 4 * SEC, NULL, 0), 0);
	assert_int_equal(pw_engine_tick(e, T0 + 5 * SEC, out, 2), 1);
	assert_int_equal(out[0].action, PW_ACT_BAN);
	pw_engine_free(e);
}

/* Many sources in every state, left alone: every one must walk back to
 * normal, one state at a time, never faster than min_state_s, through the
 * due heap alone (nobody is observed after the start). */
static void test_many_sources_walk_back(void **state)
{
	enum { N = 600 };
	static const double min_state[] = {0, 30, 60, 120};
	static enum pw_peer_state st[N];
	static uint64_t since[N];
	struct pw_engine *e = engine(NULL, 11);
	uint64_t rng = 99, t;
	char key[32];
	unsigned i;
	size_t j;

	(void)state;
	memset(st, 0, sizeof(st));
	for (t = T0 + SEC; t <= T0 + 4 * 3600 * SEC; t += SEC) {
		if (t <= T0 + 900 * SEC && (t / SEC) % 3 == 0) {
			/* A few sources a tick, log matches 3.5 .. 8. */
			for (i = 0; i < 2; i++) {
				unsigned idx = xorshift(&rng) % N;
				double m = 3.5 +
					   (double)(xorshift(&rng) % 46) / 10;

				snprintf(key, sizeof(key), "10.%u.%u.1",
					 idx / 256, idx % 256);
				observe(e, key, 0, 0, 0, 0, m, 0, false, t);
			}
		}
		tick(e, t);
		for (j = 0; j < n_decs; j++) {
			const struct pw_decision *d = &decs[j];
			unsigned idx = (unsigned)d->cidr.addr[1] * 256 +
				       d->cidr.addr[2];

			assert_int_equal(d->cidr.prefixlen, 32);
			assert_true(idx < N);
			if (d->action == PW_ACT_BAN) {
				st[idx] = PW_ST_BANNED;
			} else if (d->action == PW_ACT_UNBAN) {
				assert_int_equal(st[idx], PW_ST_BANNED);
				st[idx] = d->state;
			} else if (d->state < st[idx]) {
				/* Step down: one state, after min time. */
				assert_int_equal(d->state, st[idx] - 1);
				assert_true(
					t - since[idx] >=
					(uint64_t)(min_state[st[idx]] * 1e9));
				st[idx] = d->state;
			} else if (d->state > st[idx]) {
				st[idx] = d->state;
			} else {
				continue; /* refresh */
			}
			since[idx] = t;
		}
	}
	for (i = 0; i < N; i++) {
		struct pw_cidr k;
		struct pw_peer_info pi;

		assert_int_equal(st[i], PW_ST_NORMAL);
		snprintf(key, sizeof(key), "10.%u.%u.1", i / 256, i % 256);
		k = cidr(key);
		if (pw_engine_peer(e, &k, t, &pi) == 0)
			assert_int_equal(pi.state, PW_ST_NORMAL);
	}
	assert_true(stats(e).bans_by_cause[PW_CAUSE_VERIFIED] > 0);
	pw_engine_free(e);
}

/* --- datapath totals ----------------------------------------------------- */

static void totals(struct pw_engine *e, const char *key, uint64_t packets,
		   uint64_t syns, uint64_t drops, bool est, uint64_t now_ns)
{
	struct pw_cidr k = cidr(key);

	assert_int_equal(pw_engine_observe_totals(e, &k, packets, syns, drops,
						  est, now_ns),
			 0);
}

/* Totals become deltas: the first ones whole, then the difference, and a
 * total below the last one (the datapath recycled its entry) whole again.
 * The last deltas are kept for operators until the next totals. */
static void test_observe_totals_deltas(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	const char *key = "192.0.2.50";
	struct pw_peer_info pi;

	(void)state;
	totals(e, key, 1000, 10, 5, false, T0);
	tick(e, T0);
	pi = info(e, key, T0);
	assert_int_equal(pi.d_packets, 1000);
	assert_int_equal(pi.d_drops, 5);
	assert_near(pi.counter[PW_SIG_PKT], 1000, 1e-9);
	assert_near(pi.counter[PW_SIG_SYN], 10, 1e-9);
	assert_near(pi.counter[PW_SIG_DROP], 5, 1e-9);
	assert_int_equal(pi.last_seen_ns, T0);

	/* +500 packets, +2 SYNs, no drops (counters decay meanwhile). */
	totals(e, key, 1500, 12, 5, false, T0 + 10 * SEC);
	/* Pending signals show before the tick. */
	pi = info(e, key, T0 + 10 * SEC);
	assert_near(pi.counter[PW_SIG_PKT], 500 + 500, 1e-9);
	tick(e, T0 + 10 * SEC);
	pi = info(e, key, T0 + 10 * SEC);
	assert_int_equal(pi.d_packets, 500);
	assert_int_equal(pi.d_drops, 0);
	assert_near(pi.counter[PW_SIG_PKT], 1000, 1e-9);
	assert_near(pi.counter[PW_SIG_SYN], 10 * exp2(-10.0 / 60) + 2, 1e-9);

	/* Recycled: 300 < 1500, so 300 new packets; 20 < 12 is not. */
	totals(e, key, 300, 20, 1, false, T0 + 20 * SEC);
	tick(e, T0 + 20 * SEC);
	pi = info(e, key, T0 + 20 * SEC);
	assert_int_equal(pi.d_packets, 300);
	assert_int_equal(pi.d_drops, 1);
	assert_near(pi.counter[PW_SIG_PKT], 500 + 300, 1e-9);
	assert_near(pi.counter[PW_SIG_SYN],
		    (10 * exp2(-10.0 / 60) + 2) * exp2(-10.0 / 60) + 8, 1e-9);

	/* Nothing new: deltas of zero, still a scored observation. */
	totals(e, key, 300, 20, 1, false, T0 + 21 * SEC);
	pi = info(e, key, T0 + 21 * SEC);
	assert_int_equal(pi.d_packets, 0);
	assert_int_equal(pi.last_seen_ns, T0 + 21 * SEC);
	pw_engine_free(e);
}

/* Totals in, the same decisions out as the deltas through
 * pw_engine_observe; established protects as it does there. */
static void test_observe_totals_same_as_deltas(void **state)
{
	struct pw_engine *a = engine(NULL, 7), *b = engine(NULL, 7);
	static struct pw_decision da[MAX_DECS];
	uint64_t t, tot[3] = {0, 0, 0};
	size_t na, nb, i;
	unsigned round = 0;

	(void)state;
	for (t = T0; t < T0 + 400 * SEC; t += SEC, round++) {
		/* A SYN flood in bursts from an established source, then
		 * from a stranger. */
		bool est = t < T0 + 200 * SEC;
		const char *key = est ? "198.51.100.7" : "198.51.100.8";
		uint64_t syn = round % 7 < 3 ? 20000 : 10, drop = syn - 10,
			 pkt = syn + 3000;
		struct pw_signals s = {
			{(double)syn, (double)drop, (double)pkt}, 0, est};
		struct pw_cidr k = cidr(key);

		if (t == T0 + 200 * SEC)
			tot[0] = tot[1] = tot[2] = 0;
		tot[0] += pkt;
		tot[1] += syn;
		tot[2] += drop;
		assert_int_equal(pw_engine_observe(a, &k, &s, t), 0);
		totals(b, key, tot[0], tot[1], tot[2], est, t);
		na = pw_engine_tick(a, t, da, MAX_DECS);
		nb = tick(b, t);
		assert_int_equal(na, nb);
		for (i = 0; i < na; i++) {
			assert_int_equal(da[i].action, decs[i].action);
			assert_int_equal(da[i].state, decs[i].state);
			assert_int_equal(da[i].cause, decs[i].cause);
			assert_true(da[i].ttl_s == decs[i].ttl_s);
			assert_true(da[i].score == decs[i].score);
			assert_true(same_key(&da[i].cidr, &decs[i].cidr));
		}
	}
	/* The established source was throttled at most, the stranger
	 * banned. */
	assert_int_equal(info(b, "198.51.100.7", t).state, PW_ST_THROTTLE);
	assert_int_equal(stats(b).bans_by_cause[PW_CAUSE_SPOOFABLE], 1);
	pw_engine_free(a);
	pw_engine_free(b);
}

/* A banned source's totals are stored (its signals are not scored): when
 * the ban ends, only what came after counts. A forgotten source starts
 * from zero again. */
static void test_observe_totals_banned_and_forgotten(void **state)
{
	struct pw_score_params p;
	struct pw_engine *e = engine(NULL, 1);
	const char *key = "192.0.2.60";
	struct pw_peer_info pi;
	uint64_t t;

	(void)state;
	totals(e, key, 30000, 20000, 19980, false, T0);
	tick(e, T0);
	assert_non_null(find(PW_ACT_BAN, key));
	for (t = T0 + SEC; t < T0 + 600 * SEC; t += 10 * SEC)
		totals(e, key, 30000 + (t - T0) / SEC * 1000,
		       20000 + (t - T0) / SEC, 19980, false, t);
	pi = info(e, key, t);
	assert_int_equal(pi.state, PW_ST_BANNED);
	assert_int_equal(pi.d_packets, 10000);
	assert_near(pi.counter[PW_SIG_SYN], 20000, 1e-9); /* frozen */
	tick(e, T0 + 600 * SEC);
	assert_non_null(find(PW_ACT_UNBAN, key));
	/* 1 SYN and 100 packets since the last totals, not the lifetime. */
	totals(e, key, 30000 + 591 * 1000 + 100, 20000 + 591 + 1, 19980, false,
	       T0 + 601 * SEC);
	tick(e, T0 + 601 * SEC);
	pi = info(e, key, T0 + 601 * SEC);
	assert_int_equal(pi.d_packets, 100);
	assert_near(pi.counter[PW_SIG_SYN], 1, 1e-9);
	assert_near(pi.counter[PW_SIG_PKT], 100, 1e-9);
	pw_engine_free(e);

	/* max_peers 2: the third source evicts the first, whose totals
	 * are forgotten with it. */
	pw_score_params_defaults(&p);
	e = pw_engine_new(&p, 2, 1);
	assert_non_null(e);
	totals(e, "10.0.0.1", 100, 1, 0, false, T0);
	totals(e, "10.0.0.2", 100, 1, 0, false, T0);
	tick(e, T0);
	totals(e, "10.0.0.3", 100, 1, 0, false, T0 + SEC);
	tick(e, T0 + SEC);
	assert_int_equal(stats(e).peers_evicted, 1);
	totals(e, "10.0.0.1", 150, 1, 0, false, T0 + 2 * SEC);
	assert_int_equal(info(e, "10.0.0.1", T0 + 2 * SEC).d_packets, 150);
	pw_engine_free(e);
}

static void test_top_by_packets_and_drops(void **state)
{
	struct pw_engine *e = engine(NULL, 1);
	struct pw_peer_info top[10];
	size_t n;

	(void)state;
	totals(e, "192.0.2.1", 100, 0, 7, false, T0);
	totals(e, "192.0.2.2", 300, 0, 0, false, T0);
	totals(e, "192.0.2.3", 200, 0, 9, false, T0 + 500 * SEC);
	totals(e, "192.0.2.4", 0, 0, 0, false, T0);
	observe(e, "192.0.2.5", 0, 0, 0, 5, 0, 0, false, T0); /* a report */
	tick(e, T0 + 500 * SEC);

	n = pw_engine_top_by(e, PW_TOP_PACKETS, T0 + 500 * SEC, 0, top, 10);
	assert_int_equal(n, 3); /* no zero deltas */
	assert_int_equal(top[0].key.addr[3], 2);
	assert_int_equal(top[0].d_packets, 300);
	assert_int_equal(top[1].key.addr[3], 3);
	assert_int_equal(top[2].key.addr[3], 1);
	n = pw_engine_top_by(e, PW_TOP_PACKETS, T0 + 500 * SEC, 0, top, 2);
	assert_int_equal(n, 2);
	assert_int_equal(top[1].d_packets, 200);
	n = pw_engine_top_by(e, PW_TOP_DROPS, T0 + 500 * SEC, 0, top, 10);
	assert_int_equal(n, 2);
	assert_int_equal(top[0].key.addr[3], 3);
	assert_int_equal(top[0].d_drops, 9);
	assert_int_equal(top[1].key.addr[3], 1);
	/* Seen more than 600 s ago: left out when asked. */
	n = pw_engine_top_by(e, PW_TOP_PACKETS, T0 + 700 * SEC, 600 * SEC, top,
			     10);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].key.addr[3], 3);
	/* By score: as pw_engine_top. */
	n = pw_engine_top_by(e, PW_TOP_SCORE, T0 + 500 * SEC, 600 * SEC, top,
			     10);
	assert_int_equal(n, 5);
	assert_int_equal(pw_engine_top_by(e, PW_TOP_DROPS, T0, 0, top, 0), 0);
	pw_engine_free(e);
}

/* --- model check: the agent's view follows the engine ------------------- */

#define MC_KEYS 36

struct mc {
	struct pw_engine *e;
	struct pw_cidr key[MC_KEYS];
	bool banned[MC_KEYS];
	enum pw_peer_state level[MC_KEYS];
	struct pw_cidr trusted[2];
	size_t n_trusted;
	/* The datapath's running totals of each host (packets, SYNs,
	 * drops), and the last ones the engine was given. */
	uint64_t tot[MC_KEYS][3], last[MC_KEYS][3];
	unsigned totals_checked;
};

/* Before an operation that may create key k's node: a node created now
 * starts from totals of zero (it was never there, or was forgotten). */
static void mc_touch(struct mc *m, unsigned k, uint64_t now_ns)
{
	struct pw_peer_info pi;

	if (pw_engine_peer(m->e, &m->key[k], now_ns, &pi) == -ENOENT)
		memset(m->last[k], 0, sizeof(m->last[k]));
}

static uint64_t mc_delta(uint64_t total, uint64_t last)
{
	return total >= last ? total - last : total;
}

/* 24 IPv4 hosts in three /24s, 8 IPv6 /64s in one /48, then those
 * prefixes themselves (prefix decisions and operator CIDRs land there). */
static void mc_keys(struct mc *m)
{
	char buf[64];
	unsigned i;

	for (i = 0; i < MC_KEYS; i++) {
		if (i < 24)
			snprintf(buf, sizeof(buf), "198.18.%u.%u", i / 8,
				 1 + i % 8);
		else if (i < 32)
			snprintf(buf, sizeof(buf), "2001:db8:7:%x::/64",
				 i - 23);
		else if (i < 35)
			snprintf(buf, sizeof(buf), "198.18.%u.0/24", i - 32);
		else
			snprintf(buf, sizeof(buf), "2001:db8:7::/48");
		m->key[i] = cidr(buf);
	}
}

static bool mc_trusted(const struct mc *m, const struct pw_cidr *c)
{
	size_t i;

	for (i = 0; i < m->n_trusted; i++)
		if (pw_cidr_contains(&m->trusted[i], c) ||
		    pw_cidr_contains(c, &m->trusted[i]))
			return true;
	return false;
}

/* Apply decisions as the agent would; from a tick, check that nothing
 * sanctions a trusted range. */
static void mc_apply(struct mc *m, const struct pw_decision *d, size_t n,
		     bool from_tick)
{
	size_t i;
	unsigned k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < MC_KEYS; k++)
			if (same_key(&m->key[k], &d[i].cidr))
				break;
		assert_true(k < MC_KEYS);
		if (from_tick && (d[i].action == PW_ACT_BAN ||
				  (d[i].action == PW_ACT_LEVEL &&
				   d[i].state == PW_ST_QUARANTINE)))
			assert_false(mc_trusted(m, &d[i].cidr));
		switch (d[i].action) {
		case PW_ACT_BAN:
			assert_true(d[i].ttl_s > 0);
			m->banned[k] = true;
			m->level[k] = PW_ST_NORMAL;
			break;
		case PW_ACT_UNBAN:
			assert_true(m->banned[k]);
			m->banned[k] = false;
			m->level[k] = PW_ST_NORMAL;
			break;
		case PW_ACT_LEVEL:
			assert_false(m->banned[k]);
			assert_true(d[i].state < PW_ST_BANNED);
			m->level[k] = d[i].state;
			break;
		default:
			fail();
		}
	}
}

static void mc_check(const struct mc *m, uint64_t now_ns)
{
	struct pw_peer_info pi;
	unsigned k;

	for (k = 0; k < MC_KEYS; k++) {
		if (pw_engine_peer(m->e, &m->key[k], now_ns, &pi)) {
			assert_false(m->banned[k]);
			assert_int_equal(m->level[k], PW_ST_NORMAL);
			continue;
		}
		if (pi.state == PW_ST_BANNED) {
			assert_true(m->banned[k]);
		} else {
			assert_false(m->banned[k]);
			assert_int_equal(m->level[k], pi.state);
		}
	}
}

static void model_run(size_t max_peers, uint64_t seed)
{
	static const char *const trust_sets[][2] = {
		{NULL, NULL},
		{"198.18.1.0/24", NULL},
		{"198.18.0.3", "2001:db8:7:2::/64"},
		{"198.18.2.0/23", NULL},
	};
	static struct mc m;
	struct pw_score_params p;
	uint64_t rng = seed, t = T0;
	unsigned step, ticks_checked = 0;
	bool synced = true; /* the last tick finished: the view is exact */

	memset(&m, 0, sizeof(m));
	mc_keys(&m);
	/* Short times so that bans, probation, strikes, prefixes and the
	 * guard all cycle many times. */
	pw_score_params_defaults(&p);
	p.ban_base_s = 60;
	p.ban_max_s = 3600;
	p.probation_s = 60;
	p.prefix_window_s = 120;
	p.established_window_s = 300;
	p.strike_decay_s = 600;
	p.max_auto_bans_per_min = 5;
	p.min_established_for_fraction = 4;
	p.prefix_throttle_bans = 2;
	p.prefix_ban_bans = 4;
	m.e = pw_engine_new(&p, max_peers, seed);
	assert_non_null(m.e);

	for (step = 0; step < 40000; step++) {
		unsigned r = xorshift(&rng) % 100;
		unsigned k = xorshift(&rng) % MC_KEYS;
		unsigned host = xorshift(&rng) % 32;
		double ttl = (double)(xorshift(&rng) % 3) * 45;
		int ret;

		/* Operator actions are checked against the view, so they wait
		 * for a tick that emptied the engine's queue. */
		if (!synced && r >= 45 && r < 62)
			r = 99;
		if (r < 45) {
			struct pw_signals s;
			unsigned kind = xorshift(&rng) % 6;

			memset(&s, 0, sizeof(s));
			s.v[PW_SIG_PKT] = (double)(xorshift(&rng) % 2000);
			if (kind == 0)
				s.v[PW_SIG_SYN] = 20000,
				s.v[PW_SIG_DROP] = 19980;
			else if (kind == 1)
				s.v[PW_SIG_INVALID] = 10 * (xorshift(&rng) % 8);
			else if (kind == 2)
				s.v[PW_SIG_LOG] = (double)(xorshift(&rng) % 6);
			else if (kind == 3)
				s.v[PW_SIG_SYN] =
					(double)(xorshift(&rng) % 120);
			s.good = kind == 4;
			s.established = xorshift(&rng) % 3 == 0;
			mc_touch(&m, host, t);
			if (kind != 1 && kind != 2 && kind != 4 &&
			    xorshift(&rng) % 2) {
				/* What the datapath counts, as the agent
				 * hands it over: running totals, the entry
				 * sometimes recycled (totals restart). */
				uint64_t *tt = m.tot[host], *lt = m.last[host];
				struct pw_peer_info pi;

				if (xorshift(&rng) % 16 == 0)
					tt[0] = tt[1] = tt[2] = 0;
				tt[0] += (uint64_t)s.v[PW_SIG_PKT];
				tt[1] += (uint64_t)s.v[PW_SIG_SYN];
				tt[2] += (uint64_t)s.v[PW_SIG_DROP];
				ret = pw_engine_observe_totals(
					m.e, &m.key[host], tt[0], tt[1], tt[2],
					s.established, t);
				if (!ret) {
					assert_int_equal(
						pw_engine_peer(m.e,
							       &m.key[host], t,
							       &pi),
						0);
					assert_int_equal(
						pi.d_packets,
						mc_delta(tt[0], lt[0]));
					assert_int_equal(
						pi.d_drops,
						mc_delta(tt[2], lt[2]));
					memcpy(lt, tt, sizeof(m.tot[host]));
					m.totals_checked++;
				}
			} else {
				ret = pw_engine_observe(m.e, &m.key[host], &s,
							t);
			}
			/* A small table full of sanctions has no room for
			 * another source; that must be the only failure. */
			if (ret != -ENOSPC || max_peers >= MC_KEYS)
				assert_int_equal(ret, 0);
		} else if (r < 50) {
			mc_touch(&m, k, t);
			ret = pw_engine_manual_ban(m.e, &m.key[k], ttl, t);
			assert_int_equal(ret, mc_trusted(&m, &m.key[k]) ? -EPERM
									: 0);
			if (!ret) {
				m.banned[k] = true;
				m.level[k] = PW_ST_NORMAL;
			}
		} else if (r < 53) {
			ret = pw_engine_manual_unban(m.e, &m.key[k], t);
			assert_int_equal(ret, m.banned[k] ? 0 : -ENOENT);
			if (!ret) {
				m.banned[k] = false;
				m.level[k] = PW_ST_NORMAL;
			}
		} else if (r < 57) {
			mc_touch(&m, k, t);
			ret = pw_engine_manual_quarantine(m.e, &m.key[k], ttl,
							  t);
			assert_int_equal(ret, mc_trusted(&m, &m.key[k]) ? -EPERM
									: 0);
			if (!ret) {
				m.banned[k] = false;
				m.level[k] = PW_ST_QUARANTINE;
			}
		} else if (r < 60) {
			ret = pw_engine_manual_release(m.e, &m.key[k], t);
			assert_int_equal(
				ret, !m.banned[k] && m.level[k] != PW_ST_NORMAL
					     ? 0
					     : -ENOENT);
			if (!ret)
				m.level[k] = PW_ST_NORMAL;
		} else if (r < 62) {
			mc_touch(&m, k, t);
			ret = pw_engine_restore_ban(m.e, &m.key[k], ttl + 1,
						    1 + xorshift(&rng) % 4, t);
			assert_int_equal(ret, mc_trusted(&m, &m.key[k]) ? -EPERM
									: 0);
			if (!ret) {
				m.banned[k] = true;
				m.level[k] = PW_ST_NORMAL;
			}
		} else if (r < 64) {
			unsigned ts = xorshift(&rng) % 4, i;

			m.n_trusted = 0;
			for (i = 0; i < 2 && trust_sets[ts][i]; i++)
				m.trusted[m.n_trusted++] =
					cidr(trust_sets[ts][i]);
			ret = pw_engine_set_trusted(m.e, m.trusted, m.n_trusted,
						    t, decs, MAX_DECS);
			assert_true(ret >= 0);
			mc_apply(&m, decs, (size_t)ret, false);
		} else if (r < 66) {
			pw_engine_set_posture(m.e, xorshift(&rng) % 3);
		} else {
			size_t max = 1 + xorshift(&rng) % 6, n;

			t += (xorshift(&rng) % 21) * SEC;
			n = pw_engine_tick(m.e, t, decs, max);
			mc_apply(&m, decs, n, true);
			synced = n < max;
			if (synced) {
				mc_check(&m, t);
				ticks_checked++;
			}
		}
	}
	print_message("model: %u checks, %u totals, bans %llu/%llu/%llu/%llu, "
		      "guard %llu, trusted_ignored %llu\n",
		      ticks_checked, m.totals_checked,
		      (unsigned long long)stats(m.e).bans_by_cause[1],
		      (unsigned long long)stats(m.e).bans_by_cause[2],
		      (unsigned long long)stats(m.e).bans_by_cause[3],
		      (unsigned long long)stats(m.e).bans_by_cause[4],
		      (unsigned long long)stats(m.e).guard_limited,
		      (unsigned long long)stats(m.e).trusted_ignored);
	assert_true(ticks_checked > 1000);
	assert_true(m.totals_checked > 1000);
	assert_true(stats(m.e).bans_by_cause[PW_CAUSE_VERIFIED] > 0);
	assert_true(stats(m.e).guard_limited > 0);
	assert_true(stats(m.e).trusted_ignored > 0);
	if (max_peers >= MC_KEYS)
		assert_true(stats(m.e).bans_by_cause[PW_CAUSE_PREFIX] > 0);
	else
		assert_true(stats(m.e).peers_evicted > 0);
	pw_engine_free(m.e);
}

/* 40000 random operations (signals of every kind, as deltas or as the
 * datapath's running totals, operator actions, trust changes, posture,
 * ticks with tiny output arrays): whenever a tick finishes, the datapath
 * the agent built from the decisions alone (plus its own operator
 * actions) matches the engine's state for every key, and every totals
 * call leaves the deltas the model expects. */
static void test_model_agent_view_follows_engine(void **state)
{
	(void)state;
	model_run(100000, 0xfeedbeef);
	model_run(100000, 0x5eed);
}

/* The same with a table smaller than the key set: eviction under churn
 * never loses a sanction nor desynchronises the view. */
static void test_model_with_eviction(void **state)
{
	(void)state;
	model_run(12, 0xabcdef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_validation),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_decay_half_life),
		cmocka_unit_test(test_budget_is_free),
		cmocka_unit_test(test_squared_penalty),
		cmocka_unit_test(test_state_thresholds),
		cmocka_unit_test(test_hysteresis_no_flapping),
		cmocka_unit_test(test_min_time_in_state),
		cmocka_unit_test(test_syn_flood_banned_within_3s),
		cmocka_unit_test(test_honest_peers_never_leave_normal),
		cmocka_unit_test(test_spoofable_ban_base_ttl_no_strike),
		cmocka_unit_test(
			test_spoofable_flood_from_established_is_throttled),
		cmocka_unit_test(test_verified_escalation_ttls),
		cmocka_unit_test(test_forgive),
		cmocka_unit_test(test_forgive_counters_only),
		cmocka_unit_test(test_strikes_decay_after_clean_periods),
		cmocka_unit_test(test_score_frozen_while_banned),
		cmocka_unit_test(test_probation_after_ban),
		cmocka_unit_test(test_credit_cap_and_zeroing),
		cmocka_unit_test(test_trusted_immunity),
		cmocka_unit_test(test_set_trusted_lifts_overlapping),
		cmocka_unit_test(test_prefix_aggregation),
		cmocka_unit_test(test_prefix_never_covers_trusted),
		cmocka_unit_test(test_guard_rate_cap),
		cmocka_unit_test(test_guard_fraction_cap),
		cmocka_unit_test(test_posture_scales),
		cmocka_unit_test(test_manual_ban_unban_and_expiry),
		cmocka_unit_test(test_manual_quarantine_release_and_expiry),
		cmocka_unit_test(test_restore_ban),
		cmocka_unit_test(test_history_round_trip),
		cmocka_unit_test(test_max_peers_eviction),
		cmocka_unit_test(test_top_ordering),
		cmocka_unit_test(test_ipv6_keys),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_tick_max_and_backlog),
		cmocka_unit_test(test_many_sources_walk_back),
		cmocka_unit_test(test_observe_totals_deltas),
		cmocka_unit_test(test_observe_totals_same_as_deltas),
		cmocka_unit_test(test_observe_totals_banned_and_forgotten),
		cmocka_unit_test(test_top_by_packets_and_drops),
		cmocka_unit_test(test_model_agent_view_follows_engine),
		cmocka_unit_test(test_model_with_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
