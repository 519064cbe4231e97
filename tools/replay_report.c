// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay_report.c - accumulating and printing a replay's outcome.
 *
 * Sources live in an open-addressing hash table (a spoofed-source capture
 * has tens of thousands of them; per packet work must stay O(1)). Output
 * is sorted (packets desc, then address) and times are printed with fixed
 * precision through json-c's preformatted doubles, so the same capture and
 * config always give byte-identical output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <linux/bpf.h>

#include "datapath.h"
#include "replay_report.h"

#define SRC_TABLE_MIN 1024

int pw_report_init(struct pw_replay_report *r, uint64_t tick_ns)
{
	memset(r, 0, sizeof(*r));
	r->tick_ns = tick_ns;
	r->srcs_cap = SRC_TABLE_MIN;
	r->srcs = calloc(r->srcs_cap, sizeof(*r->srcs));
	return r->srcs ? 0 : -ENOMEM;
}

void pw_report_free(struct pw_replay_report *r)
{
	free(r->srcs);
	free(r->bans);
	free(r->ticks);
	memset(r, 0, sizeof(*r));
}

static uint64_t src_hash(int family, const uint8_t *addr)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)family;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return h;
}

static struct pw_replay_src *src_slot(struct pw_replay_src *tab, size_t cap,
				      int family, const uint8_t *addr)
{
	size_t i = src_hash(family, addr) & (cap - 1);

	while (tab[i].family &&
	       (tab[i].family != family || memcmp(tab[i].addr, addr, 16)))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int src_grow(struct pw_replay_report *r)
{
	size_t cap = r->srcs_cap * 2;
	struct pw_replay_src *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < r->srcs_cap; i++) {
		if (r->srcs[i].family)
			*src_slot(tab, cap, r->srcs[i].family,
				  r->srcs[i].addr) = r->srcs[i];
	}
	free(r->srcs);
	r->srcs = tab;
	r->srcs_cap = cap;
	return 0;
}

static int tick_add(struct pw_replay_report *r, uint64_t t_ns, bool dropped)
{
	uint64_t idx = t_ns / r->tick_ns;
	struct pw_replay_tick *t;

	if (!r->n_ticks || r->ticks[r->n_ticks - 1].index != idx) {
		if (r->n_ticks == r->ticks_cap) {
			size_t cap = r->ticks_cap ? r->ticks_cap * 2 : 64;
			void *p = realloc(r->ticks, cap * sizeof(*r->ticks));

			if (!p)
				return -ENOMEM;
			r->ticks = p;
			r->ticks_cap = cap;
		}
		r->ticks[r->n_ticks++] = (struct pw_replay_tick){.index = idx};
	}
	t = &r->ticks[r->n_ticks - 1];
	if (dropped)
		t->dropped++;
	else
		t->passed++;
	return 0;
}

int pw_report_packet(struct pw_replay_report *r, uint64_t t_ns,
		     const struct pw_replay_out *o)
{
	bool dropped = o->verdict != XDP_PASS;
	struct pw_replay_src *s;
	int family;

	r->packets++;
	if (o->reason < PW_R_NR)
		r->by_reason[o->reason]++;
	if (dropped)
		r->dropped++;
	else
		r->passed++;
	if (o->family == 4 || o->family == 6) {
		family = o->family == 4 ? AF_INET : AF_INET6;
		if ((r->n_srcs + 1) * 2 > r->srcs_cap && src_grow(r))
			return -ENOMEM;
		s = src_slot(r->srcs, r->srcs_cap, family, o->addr);
		if (!s->family) {
			s->family = family;
			s->prefixlen = o->prefixlen;
			memcpy(s->addr, o->addr, 16);
			s->quarantined_at_ns = -1;
			s->banned_at_ns = -1;
			r->n_srcs++;
		}
		s->packets++;
		if (dropped)
			s->dropped++;
		else
			s->passed++;
	}
	return tick_add(r, t_ns, dropped);
}

int pw_report_not_run(struct pw_replay_report *r, uint64_t t_ns)
{
	r->packets++;
	r->passed++;
	r->not_run++;
	r->by_reason[PW_R_MALFORMED]++;
	return tick_add(r, t_ns, false);
}

int pw_report_ban(struct pw_replay_report *r, const struct pw_cidr *c,
		  int64_t at_ns, int64_t ttl_ns, const char *reason)
{
	struct pw_replay_ban *b;

	if (r->n_bans == r->bans_cap) {
		size_t cap = r->bans_cap ? r->bans_cap * 2 : 16;
		void *p = realloc(r->bans, cap * sizeof(*r->bans));

		if (!p)
			return -ENOMEM;
		r->bans = p;
		r->bans_cap = cap;
	}
	b = &r->bans[r->n_bans++];
	b->cidr = *c;
	b->at_ns = at_ns;
	b->ttl_ns = ttl_ns;
	snprintf(b->reason, sizeof(b->reason), "%s", reason);
	return 0;
}

void pw_report_quarantine(struct pw_replay_report *r, const struct pw_cidr *c,
			  int64_t at_ns)
{
	struct pw_replay_src *s =
		src_slot(r->srcs, r->srcs_cap, c->family, c->addr);

	if (s->family && s->prefixlen == c->prefixlen &&
	    s->quarantined_at_ns < 0)
		s->quarantined_at_ns = at_ns;
}

void pw_report_finish(struct pw_replay_report *r)
{
	for (size_t i = 0; i < r->srcs_cap; i++) {
		struct pw_replay_src *s = &r->srcs[i];
		struct pw_cidr c;

		if (!s->family)
			continue;
		c.family = s->family;
		c.prefixlen = s->prefixlen;
		memcpy(c.addr, s->addr, 16);
		for (size_t b = 0; b < r->n_bans; b++) {
			if (!pw_cidr_contains(&r->bans[b].cidr, &c))
				continue;
			if (s->banned_at_ns < 0 ||
			    r->bans[b].at_ns < s->banned_at_ns)
				s->banned_at_ns = r->bans[b].at_ns;
		}
	}
}

/* Sources in a stable order: most packets first, then by address. */
static int src_cmp(const void *a, const void *b)
{
	const struct pw_replay_src *x = *(const struct pw_replay_src *const *)a;
	const struct pw_replay_src *y = *(const struct pw_replay_src *const *)b;
	int c;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return (int)x->prefixlen - (int)y->prefixlen;
}

static const struct pw_replay_src **
sorted_srcs(const struct pw_replay_report *r)
{
	const struct pw_replay_src **v;
	size_t n = 0;

	v = calloc(r->n_srcs ? r->n_srcs : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->srcs_cap; i++)
		if (r->srcs[i].family)
			v[n++] = &r->srcs[i];
	qsort(v, n, sizeof(*v), src_cmp);
	return v;
}

static void src_format(const struct pw_replay_src *s, char *buf, size_t len)
{
	struct pw_cidr c = {.family = s->family, .prefixlen = s->prefixlen};

	memcpy(c.addr, s->addr, 16);
	pw_cidr_format(&c, buf, len);
}

/* Seconds with fixed precision, or null for "never" (negative). */
static json_object *json_secs(int64_t ns)
{
	char buf[32];

	if (ns < 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%.6f", (double)ns / 1e9);
	return json_object_new_double_s((double)ns / 1e9, buf);
}

static json_object *json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

int pw_report_print_json(const struct pw_replay_report *r, FILE *out)
{
	json_object *root = json_object_new_object();
	json_object *by = json_object_new_object();
	json_object *cnt = json_object_new_object();
	json_object *srcs = json_object_new_array();
	json_object *bans = json_object_new_array();
	json_object *tl = json_object_new_array();
	const struct pw_replay_src **v = sorted_srcs(r);
	char buf[PW_CIDR_STRLEN];

	if (!v) {
		json_object_put(root);
		json_object_put(by);
		json_object_put(cnt);
		json_object_put(srcs);
		json_object_put(bans);
		json_object_put(tl);
		return -ENOMEM;
	}
	json_object_object_add(root, "packets", json_u64(r->packets));
	json_object_object_add(root, "passed", json_u64(r->passed));
	json_object_object_add(root, "dropped", json_u64(r->dropped));
	for (unsigned i = 0; i < PW_R_NR; i++)
		json_object_object_add(by, pw_stat_name(i),
				       json_u64(r->by_reason[i]));
	json_object_object_add(root, "by_reason", by);
	for (size_t i = 0; i < r->n_srcs; i++) {
		json_object *o = json_object_new_object();

		src_format(v[i], buf, sizeof(buf));
		json_object_object_add(o, "addr", json_object_new_string(buf));
		json_object_object_add(o, "packets", json_u64(v[i]->packets));
		json_object_object_add(o, "passed", json_u64(v[i]->passed));
		json_object_object_add(o, "dropped", json_u64(v[i]->dropped));
		json_object_object_add(o, "quarantined_at",
				       json_secs(v[i]->quarantined_at_ns));
		json_object_object_add(o, "banned_at",
				       json_secs(v[i]->banned_at_ns));
		json_object_array_add(srcs, o);
	}
	json_object_object_add(root, "sources", srcs);
	for (size_t i = 0; i < r->n_bans; i++) {
		json_object *o = json_object_new_object();

		pw_cidr_format(&r->bans[i].cidr, buf, sizeof(buf));
		json_object_object_add(o, "addr", json_object_new_string(buf));
		json_object_object_add(o, "at", json_secs(r->bans[i].at_ns));
		json_object_object_add(o, "ttl", json_secs(r->bans[i].ttl_ns));
		json_object_object_add(
			o, "reason", json_object_new_string(r->bans[i].reason));
		json_object_array_add(bans, o);
	}
	json_object_object_add(root, "bans", bans);
	for (size_t i = 0; i < r->n_ticks; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(
			o, "t",
			json_secs((int64_t)(r->ticks[i].index * r->tick_ns)));
		json_object_object_add(o, "passed",
				       json_u64(r->ticks[i].passed));
		json_object_object_add(o, "dropped",
				       json_u64(r->ticks[i].dropped));
		json_object_array_add(tl, o);
	}
	json_object_object_add(root, "timeline", tl);
	for (unsigned i = PW_R_NR; i < PW_STAT_NR; i++)
		json_object_object_add(cnt, pw_stat_name(i),
				       json_u64(r->counters[i].packets));
	json_object_object_add(cnt, "not_run", json_u64(r->not_run));
	json_object_object_add(cnt, "clock_steps_back",
			       json_u64(r->clock_steps_back));
	json_object_object_add(root, "counters", cnt);
	if (r->failed) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "index", json_u64(r->error_index));
		json_object_object_add(e, "message",
				       json_object_new_string(r->error));
		json_object_object_add(root, "error", e);
	}
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_PLAIN |
				      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	free(v);
	return 0;
}

#define HUMAN_TOP_SOURCES 20

void pw_report_print_human(const struct pw_replay_report *r, FILE *out)
{
	const struct pw_replay_src **v = sorted_srcs(r);
	char buf[PW_CIDR_STRLEN];
	size_t n;

	fprintf(out, "packets %llu  passed %llu  dropped %llu  sources %zu\n",
		(unsigned long long)r->packets, (unsigned long long)r->passed,
		(unsigned long long)r->dropped, r->n_srcs);
	fprintf(out, "\nby reason:\n");
	for (unsigned i = 0; i < PW_R_NR; i++)
		if (r->by_reason[i])
			fprintf(out, "  %-18s %12llu\n", pw_stat_name(i),
				(unsigned long long)r->by_reason[i]);
	if (v && r->n_srcs) {
		n = r->n_srcs < HUMAN_TOP_SOURCES ? r->n_srcs
						  : HUMAN_TOP_SOURCES;
		fprintf(out, "\ntop %zu of %zu sources (protected ports):\n", n,
			r->n_srcs);
		fprintf(out, "  %-44s %10s %10s %10s %10s\n", "source",
			"packets", "passed", "dropped", "banned at");
		for (size_t i = 0; i < n; i++) {
			char at[24] = "-";

			if (v[i]->banned_at_ns >= 0)
				snprintf(at, sizeof(at), "%.3fs",
					 (double)v[i]->banned_at_ns / 1e9);
			src_format(v[i], buf, sizeof(buf));
			fprintf(out, "  %-44s %10llu %10llu %10llu %10s\n", buf,
				(unsigned long long)v[i]->packets,
				(unsigned long long)v[i]->passed,
				(unsigned long long)v[i]->dropped, at);
		}
	}
	if (r->n_bans) {
		fprintf(out, "\nbans:\n");
		for (size_t i = 0; i < r->n_bans; i++) {
			pw_cidr_format(&r->bans[i].cidr, buf, sizeof(buf));
			if (r->bans[i].ttl_ns >= 0)
				fprintf(out, "  %-44s at %.3fs for %.0fs  %s\n",
					buf, (double)r->bans[i].at_ns / 1e9,
					(double)r->bans[i].ttl_ns / 1e9,
					r->bans[i].reason);
			else
				fprintf(out,
					"  %-44s at %.3fs until lifted  %s\n",
					buf, (double)r->bans[i].at_ns / 1e9,
					r->bans[i].reason);
		}
	}
	if (r->not_run)
		fprintf(out,
			"\n%llu frame(s) shorter than an Ethernet header "
			"were not run (no NIC delivers them)\n",
			(unsigned long long)r->not_run);
	if (r->failed)
		fprintf(out, "\ncapture broken at packet %llu: %s\n",
			(unsigned long long)r->error_index, r->error);
	free(v);
}
