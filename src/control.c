// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * control.c - the operator's socket: one JSON request per line in, one JSON
 * response per line out, over a unix stream socket (0660).
 *
 * Commands are a table (name, mutating?, handler), not a chain of strcmps.
 * The peer's credentials (SO_PEERCRED) are checked per request: reads are
 * open to whoever can connect, mutating commands need uid 0 or membership
 * in control_group. Everything in a request is validated here, at the
 * edge, before it reaches the engine or the maps; a bad request gets
 * {"ok": false, "error": "..."} and never disturbs the agent.
 */
#include <errno.h>
#include <limits.h>
#include <grp.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent.h"
#include "agent_nft.h"
#include "bans.h"
#include "base64.h"
#include "capture.h"
#include "conns.h"
#include "control.h"
#include "dp_config.h"
#include "duration.h"
#include "emergency.h"
#include "journal.h"
#include "log.h"
#include "nft.h"
#include "metrics.h"
#include "report.h"

#define CTL_TOP_MAX	1000
#define CTL_TOP_DEFAULT 20
/* Samples per `capture fetch` reply: about 1 MiB of JSON at the largest
 * snaplen; the client pages with "since". */
#define CTL_SAMPLES_DEFAULT 2000
#define CTL_SAMPLES_MAX	    10000
/* `config` returns the file only if it is a plausible config. */
#define CTL_CONFIG_MAX_BYTES (64u << 20)

struct ctl_req {
	struct pw_agent *a;
	json_object *req;
	json_object *resp;
	struct ucred cred;
};

static int fail(struct ctl_req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctl_req *r, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r->resp, "error", json_object_new_string(msg));
	return err;
}

static const char *arg_str(struct ctl_req *r, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(r->req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Non-negative integer argument; def when absent; -EINVAL when wrong. */
static int arg_uint(struct ctl_req *r, const char *key, uint64_t def,
		    uint64_t max, uint64_t *out)
{
	json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(r->req, key, &v)) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return fail(r, -EINVAL, "'%s' must be an integer", key);
	x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x > max)
		return fail(r, -EINVAL, "'%s' must be between 0 and %llu", key,
			    (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

/* "ttl": seconds as an integer or a duration string ("15m"). */
static int arg_ttl(struct ctl_req *r, uint64_t def, uint64_t *out)
{
	const char *s = arg_str(r, "ttl");
	char err[128];

	if (!s)
		return arg_uint(r, "ttl", def, PW_DURATION_MAX_S, out);
	if (pw_duration_parse(s, out, err, sizeof(err)))
		return fail(r, -EINVAL, "ttl: %s", err);
	return 0;
}

/* "addr": an address or CIDR. Single addresses become their source key
 * (what the datapath limits) unless the CIDR was given explicitly. */
static int arg_cidr(struct ctl_req *r, struct pw_cidr *out)
{
	const char *s = arg_str(r, "addr");
	char err[160];

	if (!s)
		return fail(r, -EINVAL, "missing 'addr'");
	if (pw_cidr_parse(s, out, err, sizeof(err)))
		return fail(r, -EINVAL, "addr: %s", err);
	if (!strchr(s, '/'))
		*out = pw_agent_source_of(r->a, out->family, out->addr);
	return 0;
}

static json_object *json_cidr(const struct pw_cidr *c)
{
	char buf[PW_CIDR_STRLEN];

	pw_cidr_format(c, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *json_ban(const struct pw_ban_record *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "addr", json_cidr(&b->cidr));
	json_object_object_add(
		o, "origin",
		json_object_new_string(pw_ban_origin_name(b->origin)));
	json_object_object_add(o, "reason", json_object_new_string(b->reason));
	json_object_object_add(o, "created",
			       json_object_new_int64(b->created_unix_s));
	json_object_object_add(
		o, "expires",
		b->expires_unix_s ? json_object_new_int64(b->expires_unix_s)
				  : NULL);
	json_object_object_add(o, "strikes", json_object_new_int(b->strikes));
	return o;
}

static json_object *json_peer(const struct pw_agent *a,
			      const struct pw_peer_info *p)
{
	static const char *const sig_names[PW_SIG_NR] = {
		"syn", "drop", "pkt", "invalid", "log", "conn"};
	uint64_t now = pw_agent_now_ns(a);
	/* The last tick's deltas, while the source is still around. */
	bool recent = now <= p->last_seen_ns ||
		      now - p->last_seen_ns <= PW_AGENT_IDLE_S * 1000000000ull;
	json_object *o = json_object_new_object();
	json_object *ctr = json_object_new_object();

	json_object_object_add(o, "addr", json_cidr(&p->key));
	json_object_object_add(
		o, "state",
		json_object_new_string(pw_peer_state_name(p->state)));
	json_object_object_add(o, "score", json_object_new_double(p->score));
	json_object_object_add(o, "credit", json_object_new_double(p->credit));
	json_object_object_add(o, "strikes", json_object_new_int(p->strikes));
	json_object_object_add(o, "trusted",
			       json_object_new_boolean(p->trusted));
	for (int i = 0; i < PW_SIG_NR; i++)
		json_object_object_add(ctr, sig_names[i],
				       json_object_new_double(p->counter[i]));
	json_object_object_add(o, "counters", ctr);
	json_object_object_add(
		o, "conns",
		json_object_new_int64(a->conns ? pw_conns_of(a->conns, &p->key)
					       : 0));
	json_object_object_add(
		o, "pps",
		json_object_new_int64(recent ? (int64_t)p->d_packets : 0));
	json_object_object_add(
		o, "drops_per_tick",
		json_object_new_int64(recent ? (int64_t)p->d_drops : 0));
	if (p->ban_until_ns)
		json_object_object_add(
			o, "ban_remaining_s",
			json_object_new_int64(
				p->ban_until_ns > pw_agent_now_ns(a)
					? (int64_t)((p->ban_until_ns -
						     pw_agent_now_ns(a)) /
						    1000000000ull)
					: 0));
	return o;
}

/* Emergency mode as status and `emergency` replies show it: what is on,
 * until when, and where it is enforced. */
static json_object *json_emergency(struct pw_agent *a)
{
	json_object *o = json_object_new_object();
	json_object *xdp = json_object_new_array();
	int64_t now = pw_agent_unix_s(a);
	const struct pw_emergency_state *e = &a->emergency;
	uint64_t nft_drops, cl_rejects, ban_drops;
	struct pw_stat st[PW_STAT_NR];
	uint64_t xdp_drops = 0;

	json_object_object_add(o, "on", json_object_new_boolean(e->on));
	if (e->on) {
		json_object_object_add(o, "since",
				       json_object_new_int64(e->since_unix_s));
		json_object_object_add(o, "until",
				       json_object_new_int64(e->until_unix_s));
		json_object_object_add(
			o, "remaining_s",
			json_object_new_int64(
				e->until_unix_s
					? (e->until_unix_s > now
						   ? e->until_unix_s - now
						   : 0)
					: -1));
		json_object_object_add(o, "uid", json_object_new_int64(e->uid));
	}
	for (size_t i = 0; i < a->n_ifaces; i++) {
		if (pw_datapath_dp_config(a->ifaces[i].dp)->emergency)
			json_object_array_add(
				xdp, json_object_new_string(a->ifaces[i].name));
		if (!pw_datapath_stats(a->ifaces[i].dp, st))
			xdp_drops += st[PW_R_DROP_EMERGENCY].packets;
	}
	json_object_object_add(o, "xdp", xdp);
	pw_agent_nft_counters(a, &nft_drops, &cl_rejects, &ban_drops);
	if (a->nft) {
		char t[80];

		snprintf(t, sizeof(t), "inet %s", a->cfg.nft.table);
		json_object_object_add(o, "nft", json_object_new_string(t));
		json_object_object_add(
			o, "nft_rules",
			json_object_new_boolean(pw_nft_emergency(a->nft) &&
						!a->nft_error[0]));
	} else {
		json_object_object_add(
			o, "nft",
			json_object_new_string(
				pw_enforce_nft(a->cfg.nft.enforce)
					? "unavailable"
					: "off (enforce = xdp)"));
	}
	if (a->nft_error[0])
		json_object_object_add(o, "nft_error",
				       json_object_new_string(a->nft_error));
	json_object_object_add(o, "xdp_drops",
			       json_object_new_int64((int64_t)xdp_drops));
	json_object_object_add(o, "nft_drops",
			       json_object_new_int64((int64_t)nft_drops));
	json_object_object_add(o, "nft_ban_drops",
			       json_object_new_int64((int64_t)ban_drops));
	json_object_object_add(o, "nft_connlimit_rejects",
			       json_object_new_int64((int64_t)cl_rejects));
	json_object_object_add(
		o, "default_ttl_s",
		json_object_new_int64((int64_t)a->cfg.nft.emergency_ttl_s));
	return o;
}

/* The operator's SSH session, when peerwallctl knows it. */
static void arg_requester(struct ctl_req *r, struct pw_requester *from)
{
	const char *addr = arg_str(r, "client_addr");
	struct pw_cidr c;
	uint64_t port = 0;
	char err[64];

	memset(from, 0, sizeof(*from));
	if (!addr || arg_uint(r, "client_port", 0, 65535, &port) || !port ||
	    pw_cidr_parse(addr, &c, err, sizeof(err)) ||
	    c.prefixlen != pw_family_bits(c.family))
		return;
	from->known = true;
	from->family = c.family;
	memcpy(from->addr, c.addr, sizeof(from->addr));
	from->port = (uint16_t)port;
}

static int cmd_emergency(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *op = arg_str(r, "op");
	int64_t now = pw_agent_unix_s(a), until;
	struct pw_emergency_req req = {0};
	json_object *v;
	char why[256];
	uint64_t ttl;
	int err = 0;

	if (!op)
		return fail(r, -EINVAL,
			    "missing 'op' (on, off, extend, "
			    "status)");
	if (!strcmp(op, "status")) {
		/* read-only */
	} else if (!strcmp(op, "on")) {
		req.ttl_given = arg_str(r, "ttl") ||
				json_object_object_get_ex(r->req, "ttl", &v);
		if (arg_ttl(r, 0, &ttl))
			return -EINVAL;
		req.ttl_s = (double)ttl;
		req.force = json_object_object_get_ex(r->req, "force", &v) &&
			    json_object_get_boolean(v);
		arg_requester(r, &req.from);
		struct pw_cidr *all;
		size_t n;

		all = pw_agent_trusted_all(a, &n);
		if (!all)
			return fail(r, -ENOMEM, "out of memory");
		err = pw_emergency_check_on(&a->cfg, all, n, &req, now, &until,
					    why, sizeof(why));
		free(all);
		if (err) {
			log_warn("control: uid %u: emergency on refused: %s",
				 r->cred.uid, why);
			return fail(r, err, "refused: %s", why);
		}
		err = pw_emergency_set(a, true, until, r->cred.uid,
				       req.force ? "operator, --force"
						 : "operator");
	} else if (!strcmp(op, "off")) {
		if (a->emergency.on)
			err = pw_emergency_set(a, false, 0, r->cred.uid,
					       "operator");
	} else if (!strcmp(op, "extend")) {
		if (!a->emergency.on)
			return fail(r, -EINVAL,
				    "emergency mode is off: nothing to extend");
		if (arg_ttl(r, 0, &ttl))
			return -EINVAL;
		if (!ttl)
			return fail(r, -EINVAL, "extend needs a duration > 0");
		a->emergency.until_unix_s = pw_emergency_extended(
			a->emergency.until_unix_s, now, (double)ttl);
		a->emergency.uid = r->cred.uid;
		a->dirty = true;
		log_warn("emergency mode extended by uid %u: %s", r->cred.uid,
			 a->emergency.until_unix_s ? "new end set" : "no TTL");
	} else {
		return fail(r, -EINVAL,
			    "unknown op '%.20s' (on, off, extend, status)", op);
	}
	json_object_object_add(r->resp, "emergency", json_emergency(a));
	if (err)
		return fail(r, err,
			    "emergency mode is %s but not in every layer: "
			    "see nft_error and the agent log",
			    a->emergency.on ? "on" : "off");
	return 0;
}

static int cmd_status(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	struct pw_stat st[PW_STAT_NR], sum[PW_STAT_NR];
	struct pw_engine_stats es;
	json_object *ifs = json_object_new_array();
	json_object *by = json_object_new_object();
	json_object *o = r->resp;

	memset(sum, 0, sizeof(sum));
	for (size_t i = 0; i < a->n_ifaces; i++) {
		json_object *f = json_object_new_object();

		json_object_object_add(
			f, "name", json_object_new_string(a->ifaces[i].name));
		json_object_object_add(
			f, "xdp_mode",
			json_object_new_string(a->ifaces[i].xdp_mode));
		json_object_array_add(ifs, f);
		if (pw_datapath_stats(a->ifaces[i].dp, st))
			continue;
		for (int s = 0; s < PW_STAT_NR; s++) {
			sum[s].packets += st[s].packets;
			sum[s].bytes += st[s].bytes;
		}
	}
	for (int s = 0; s < PW_STAT_NR; s++)
		json_object_object_add(
			by, pw_stat_name(s),
			json_object_new_int64((int64_t)sum[s].packets));
	pw_engine_get_stats(a->engine, &es);
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(
		o, "mode",
		json_object_new_string(a->cfg.mode == PW_MODE_MONITOR
					       ? "monitor"
					       : "enforce"));
	json_object_object_add(o, "posture",
			       json_object_new_string(pw_posture_name(
				       pw_engine_posture(a->engine))));
	json_object_object_add(o, "emergency", json_emergency(a));
	json_object_object_add(
		o, "enforce",
		json_object_new_string(
			a->cfg.nft.enforce == PW_ENFORCE_XDP   ? "xdp"
			: a->cfg.nft.enforce == PW_ENFORCE_NFT ? "nft"
							       : "both"));
	json_object_object_add(
		o, "quarantines",
		json_object_new_int64((int64_t)pw_engine_count_state(
			a->engine, PW_ST_QUARANTINE)));
	json_object_object_add(
		o, "connections",
		json_object_new_int64(
			a->conns ? (int64_t)pw_conns_total(a->conns) : -1));
	json_object_object_add(o, "sources_tracked",
			       json_object_new_int64((int64_t)es.peers));
	json_object_object_add(
		o, "bans",
		json_object_new_int64((int64_t)pw_bans_count(a->bans)));
	json_object_object_add(o, "counters", by);
	json_object_object_add(o, "config_hash",
			       json_object_new_string(a->config_hash));
	json_object_object_add(
		o, "uptime_s",
		json_object_new_int64(
			(int64_t)((pw_agent_now_ns(a) - a->start_ns) /
				  1000000000ull)));
	json_object_object_add(o, "ticks",
			       json_object_new_int64((int64_t)a->ctr.ticks));
	json_object_object_add(o, "tick_ms_last",
			       json_object_new_double(a->ctr.tick_ms_last));
	json_object_object_add(o, "tick_ms_max",
			       json_object_new_double(a->ctr.tick_ms_max));
	json_object_object_add(
		o, "attention_deferred",
		json_object_new_int64((int64_t)a->ctr.attention_deferred));
	json_object_object_add(
		o, "guard_limited",
		json_object_new_int64((int64_t)es.guard_limited));
	return 0;
}

struct conn_top {
	struct pw_conns_entry *v;
	size_t n, cap;
};

static void collect_conn(const struct pw_conns_entry *e, void *arg)
{
	struct conn_top *t = arg;

	if (!e->now)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct pw_conns_entry *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *e;
}

static int conn_cmp(const void *x, const void *y)
{
	const struct pw_conns_entry *a = x, *b = y;

	return a->now < b->now ? 1 : a->now > b->now ? -1 : 0;
}

/* Sources holding the most established connections to protected ports. */
static size_t top_by_conns(struct pw_agent *a, struct pw_peer_info *info,
			   size_t n)
{
	struct conn_top t = {0};
	size_t i, cnt;

	if (!a->conns)
		return 0;
	pw_conns_each(a->conns, collect_conn, &t);
	qsort(t.v, t.n, sizeof(*t.v), conn_cmp);
	cnt = t.n < n ? t.n : n;
	for (i = 0; i < cnt; i++) {
		if (pw_engine_peer(a->engine, &t.v[i].key, pw_agent_now_ns(a),
				   &info[i])) {
			memset(&info[i], 0, sizeof(info[i]));
			info[i].key = t.v[i].key;
			info[i].trusted = pw_agent_is_trusted(a, &t.v[i].key);
		}
	}
	free(t.v);
	return cnt;
}

static int cmd_top(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *by = arg_str(r, "by");
	json_object *arr = json_object_new_array();
	struct pw_peer_info *info;
	uint64_t n;
	size_t cnt = 0;

	json_object_object_add(r->resp, "peers", arr);
	if (arg_uint(r, "n", CTL_TOP_DEFAULT, CTL_TOP_MAX, &n))
		return -EINVAL;
	info = calloc(n ? n : 1, sizeof(*info));
	if (!info)
		return fail(r, -ENOMEM, "out of memory");
	if (!by || !strcmp(by, "score")) {
		cnt = pw_engine_top(a->engine, pw_agent_now_ns(a), info, n);
	} else if (!strcmp(by, "pps") || !strcmp(by, "drops")) {
		/* The last tick's deltas of sources seen recently (the
		 * values of a source gone quiet are its last ones). */
		cnt = pw_engine_top_by(
			a->engine, by[0] == 'p' ? PW_TOP_PACKETS : PW_TOP_DROPS,
			pw_agent_now_ns(a), PW_AGENT_IDLE_S * 1000000000ull,
			info, n);
	} else if (!strcmp(by, "conns")) {
		cnt = top_by_conns(a, info, n);
	} else {
		free(info);
		return fail(r, -EINVAL,
			    "'by' must be score, pps, drops or conns");
	}
	for (size_t i = 0; i < cnt; i++)
		json_object_array_add(arr, json_peer(a, &info[i]));
	free(info);
	return 0;
}

static int cmd_peer(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const struct pw_ban_record *ban;
	struct pw_peer_info info;
	struct pw_src_state dp;
	struct pw_srckey k;
	struct pw_cidr c;

	if (arg_cidr(r, &c))
		return -EINVAL;
	if (pw_engine_peer(a->engine, &c, pw_agent_now_ns(a), &info)) {
		memset(&info, 0, sizeof(info));
		info.key = c;
		info.trusted = pw_agent_is_trusted(a, &c);
	}
	json_object_object_add(r->resp, "peer", json_peer(a, &info));
	ban = pw_bans_get(a->bans, &c);
	json_object_object_add(r->resp, "ban", ban ? json_ban(ban) : NULL);
	k = pw_srckey_from_cidr(&c);
	if (!pw_agent_src_counters(a, &k, &dp)) {
		json_object *d = json_object_new_object();
		uint64_t drops = 0;

		for (int i = 0; i < PW_SD_NR; i++)
			drops += dp.drops[i];
		json_object_object_add(
			d, "packets",
			json_object_new_int64((int64_t)dp.packets));
		json_object_object_add(
			d, "bytes", json_object_new_int64((int64_t)dp.bytes));
		json_object_object_add(d, "syns",
				       json_object_new_int64(dp.syns));
		json_object_object_add(d, "drops",
				       json_object_new_int64((int64_t)drops));
		json_object_object_add(r->resp, "datapath", d);
	}
	return 0;
}

static int manual(struct ctl_req *r, bool ban)
{
	struct pw_agent *a = r->a;
	const char *reason = arg_str(r, "reason");
	struct pw_decision d;
	uint64_t ttl;
	int err;

	memset(&d, 0, sizeof(d));
	if (arg_cidr(r, &d.cidr) || arg_ttl(r, 0, &ttl))
		return -EINVAL;
	if (reason && strlen(reason) > PW_BAN_REASON_MAX)
		return fail(r, -EINVAL, "reason longer than %d bytes",
			    PW_BAN_REASON_MAX);
	/* The reason goes into logs and exported ban lists, one per line. */
	for (const char *c = reason; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail(r, -EINVAL,
				    "reason contains a control character "
				    "(\\x%02x)",
				    (unsigned char)*c);
	if (pw_agent_is_trusted(a, &d.cidr))
		return fail(r, -EPERM,
			    "refused: %s is covered by a trusted CIDR "
			    "(allow del it first)",
			    arg_str(r, "addr"));
	/* A quarantine would leave the ban record (and the next restart's
	 * ban) behind: make the operator say which one they mean. */
	if (!ban && pw_bans_get(a->bans, &d.cidr))
		return fail(r, -EEXIST,
			    "refused: %s is banned; unban it first to "
			    "quarantine it instead",
			    arg_str(r, "addr"));
	err = ban ? pw_engine_manual_ban(a->engine, &d.cidr, (double)ttl,
					 pw_agent_now_ns(a))
		  : pw_engine_manual_quarantine(a->engine, &d.cidr, (double)ttl,
						pw_agent_now_ns(a));
	if (err)
		return fail(r, err, "engine refused: %s", strerror(-err));
	d.action = ban ? PW_ACT_BAN : PW_ACT_LEVEL;
	d.state = PW_ST_QUARANTINE;
	d.cause = PW_CAUSE_MANUAL;
	d.ttl_s = (double)ttl;
	err = pw_agent_apply(a, &d, PW_ORIGIN_MANUAL,
			     reason ? reason : "operator");
	if (err)
		return fail(r, err, "datapath refused: %s", strerror(-err));
	log_info("control: uid %u %s %s ttl %llus", r->cred.uid,
		 ban ? "banned" : "quarantined", arg_str(r, "addr"),
		 (unsigned long long)ttl);
	return 0;
}

static int cmd_ban(struct ctl_req *r)
{
	return manual(r, true);
}

static int cmd_quarantine(struct ctl_req *r)
{
	return manual(r, false);
}

static int lift(struct ctl_req *r, bool ban)
{
	struct pw_agent *a = r->a;
	struct pw_decision d;
	bool known;

	memset(&d, 0, sizeof(d));
	if (arg_cidr(r, &d.cidr))
		return -EINVAL;
	known = ban ? pw_bans_get(a->bans, &d.cidr) != NULL : true;
	if (ban)
		pw_engine_manual_unban(a->engine, &d.cidr, pw_agent_now_ns(a));
	else if (pw_engine_manual_release(a->engine, &d.cidr,
					  pw_agent_now_ns(a)))
		known = false;
	d.action = ban ? PW_ACT_UNBAN : PW_ACT_LEVEL;
	d.state = PW_ST_NORMAL;
	d.cause = PW_CAUSE_MANUAL;
	pw_agent_apply(a, &d, PW_ORIGIN_MANUAL, "operator");
	if (!known)
		return fail(r, -ENOENT, "%s was not %s", arg_str(r, "addr"),
			    ban ? "banned" : "quarantined");
	log_info("control: uid %u %s %s", r->cred.uid,
		 ban ? "unbanned" : "released", arg_str(r, "addr"));
	return 0;
}

static int cmd_unban(struct ctl_req *r)
{
	return lift(r, true);
}

static int cmd_release(struct ctl_req *r)
{
	return lift(r, false);
}

static int cmd_allow(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *op = arg_str(r, "op");
	json_object *arr;
	struct pw_cidr c, *grown;
	size_t i;

	if (op && !strcmp(op, "list")) {
		arr = json_object_new_array();
		for (i = 0; i < a->cfg.n_trusted; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "addr",
					       json_cidr(&a->cfg.trusted[i]));
			json_object_object_add(
				o, "origin", json_object_new_string("config"));
			json_object_array_add(arr, o);
		}
		for (i = 0; i < a->n_allowed; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "addr",
					       json_cidr(&a->allowed[i]));
			json_object_object_add(
				o, "origin", json_object_new_string("runtime"));
			json_object_array_add(arr, o);
		}
		json_object_object_add(r->resp, "trusted", arr);
		return 0;
	}
	if (!op || (strcmp(op, "add") && strcmp(op, "del")))
		return fail(r, -EINVAL, "'op' must be add, del or list");
	if (!arg_str(r, "addr"))
		return fail(r, -EINVAL, "missing 'addr'");
	{
		char err[160];

		if (pw_cidr_parse(arg_str(r, "addr"), &c, err, sizeof(err)))
			return fail(r, -EINVAL, "addr: %s", err);
	}
	for (i = 0; i < a->n_allowed; i++)
		if (a->allowed[i].family == c.family &&
		    a->allowed[i].prefixlen == c.prefixlen &&
		    !memcmp(a->allowed[i].addr, c.addr, 16))
			break;
	if (op[0] == 'a') {
		if (i < a->n_allowed)
			return 0;
		grown = realloc(a->allowed, (a->n_allowed + 1) * sizeof(c));
		if (!grown)
			return fail(r, -ENOMEM, "out of memory");
		a->allowed = grown;
		a->allowed[a->n_allowed++] = c;
	} else {
		if (i == a->n_allowed)
			return fail(r, -ENOENT,
				    "%s is not a runtime trusted CIDR "
				    "(config entries change with reload)",
				    arg_str(r, "addr"));
		a->allowed[i] = a->allowed[--a->n_allowed];
	}
	a->dirty = true;
	log_info("control: uid %u trusted %s %s", r->cred.uid,
		 op[0] == 'a' ? "add" : "del", arg_str(r, "addr"));
	if (pw_agent_sync_trusted(a))
		return fail(r, -EIO, "trusted set not fully applied; see log");
	return 0;
}

static int cmd_export(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *f = arg_str(r, "format");
	enum pw_banlist_format fmt = PW_BANLIST_JSON;
	struct pw_ban_record *recs = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	long n;
	int err;

	if (f && pw_banlist_format_parse(f, &fmt))
		return fail(r, -EINVAL,
			    "format must be json, csv, txt, nft or bitcoin");
	n = pw_bans_list(a->bans, &recs);
	if (n < 0)
		return fail(r, (int)n, "out of memory");
	mem = open_memstream(&buf, &len);
	if (!mem) {
		free(recs);
		return fail(r, -ENOMEM, "out of memory");
	}
	err = pw_banlist_write(mem, fmt, recs, (size_t)n, pw_agent_unix_s(a));
	fclose(mem);
	free(recs);
	if (err) {
		free(buf);
		return fail(r, err, "export failed: %s", strerror(-err));
	}
	json_object_object_add(r->resp, "content",
			       json_object_new_string_len(buf, (int)len));
	json_object_object_add(r->resp, "count", json_object_new_int64(n));
	free(buf);
	return 0;
}

static int cmd_import(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *content = arg_str(r, "content");
	struct pw_banlist_import imp;
	json_object *errs = json_object_new_array();
	uint64_t ttl;
	size_t applied = 0, refused = 0;
	int64_t now = pw_agent_unix_s(a);
	int err;

	json_object_object_add(r->resp, "errors", errs);
	if (!content)
		return fail(r, -EINVAL, "missing 'content'");
	if (arg_ttl(r, 0, &ttl))
		return -EINVAL;
	err = pw_banlist_import(content, strlen(content), now, ttl, &imp);
	if (err) {
		/* The parser's own reason when it gave one (line 0). */
		fail(r, err, "not a ban list (txt or json): %s",
		     imp.n_errs ? imp.errs[0].msg : strerror(-err));
		pw_banlist_import_free(&imp);
		return err;
	}
	for (size_t i = 0; i < imp.n_errs; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "line",
				       json_object_new_int(imp.errs[i].line));
		json_object_object_add(e, "error",
				       json_object_new_string(imp.errs[i].msg));
		json_object_array_add(errs, e);
	}
	for (size_t i = 0; i < imp.n; i++) {
		struct pw_ban_record *b = &imp.recs[i];
		struct pw_decision d = {.cidr = b->cidr,
					.action = PW_ACT_BAN,
					.cause = PW_CAUSE_MANUAL};

		if (pw_agent_is_trusted(a, &b->cidr)) {
			refused++;
			continue;
		}
		d.ttl_s = b->expires_unix_s ? (double)(b->expires_unix_s - now)
					    : 0;
		if (pw_engine_manual_ban(a->engine, &d.cidr, d.ttl_s,
					 pw_agent_now_ns(a)) ||
		    pw_agent_apply(a, &d, PW_ORIGIN_IMPORT, b->reason)) {
			refused++;
			continue;
		}
		applied++;
	}
	pw_banlist_import_free(&imp);
	json_object_object_add(r->resp, "applied",
			       json_object_new_int64((int64_t)applied));
	json_object_object_add(r->resp, "refused_trusted_or_failed",
			       json_object_new_int64((int64_t)refused));
	log_info("control: uid %u imported %zu bans (%zu refused, %zu bad "
		 "lines)",
		 r->cred.uid, applied, refused, imp.n_errs);
	return 0;
}

static int cmd_posture(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *level = arg_str(r, "level");
	enum pw_posture p;

	if (!level || pw_posture_parse(level, &p))
		return fail(r, -EINVAL,
			    "'level' must be normal, elevated or severe");
	pw_engine_set_posture(a->engine, p);
	a->cfg.agent.posture = p;
	for (size_t i = 0; i < a->n_ifaces; i++)
		pw_datapath_reconfigure(a->ifaces[i].dp, &a->cfg);
	a->dirty = true;
	log_info("control: uid %u set posture %s", r->cred.uid, level);
	return 0;
}

static int cmd_reload(struct ctl_req *r)
{
	int err = pw_agent_reload(r->a);

	return err ? fail(r, err, "reload refused; see the agent log") : 0;
}

static int cmd_detach(struct ctl_req *r)
{
	r->a->detach = true;
	r->a->running = false;
	log_info("control: uid %u asked to detach", r->cred.uid);
	return 0;
}

static int cmd_report(struct ctl_req *r)
{
	const char *line = arg_str(r, "line");
	struct pw_report rep;
	char err[160];
	int rc;

	if (!line)
		return fail(r, -EINVAL, "missing 'line'");
	if (pw_report_parse(line, strlen(line), &rep, err, sizeof(err))) {
		r->a->ctr.reports_rejected++;
		return fail(r, -EINVAL, "report: %s", err);
	}
	rc = pw_agent_report(r->a, &rep);
	if (rc == -ENOBUFS)
		return fail(r, rc, "report cap for this tick reached");
	return 0;
}

/* "reasons": an array of drop reason names ("all" for every one), or
 * absent (def). */
static int arg_reasons(struct ctl_req *r, uint32_t def, uint32_t *out)
{
	json_object *v;
	size_t n;

	if (!json_object_object_get_ex(r->req, "reasons", &v)) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array) ||
	    !(n = json_object_array_length(v)))
		return fail(r, -EINVAL,
			    "'reasons' must be a non-empty array of names");
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		const char *name = json_object_is_type(e, json_type_string)
					   ? json_object_get_string(e)
					   : "";
		uint32_t m;

		if (pw_sample_reasons_parse(name, &m))
			return fail(r, -EINVAL,
				    "'%.40s' is not a drop reason (%s, or "
				    "all)",
				    name, PW_SAMPLE_REASON_NAMES);
		*out |= m;
	}
	return 0;
}

static json_object *json_reasons(uint32_t mask)
{
	json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < PW_R_NR; i++)
		if (mask & (1u << i))
			json_object_array_add(
				arr, json_object_new_string(pw_stat_name(i)));
	return arr;
}

static json_object *json_sample(const struct pw_agent *a,
				const struct pw_kept_sample *k)
{
	json_object *o = json_object_new_object();
	char b64[PW_BASE64_LEN(PW_SAMPLE_MAX_BYTES) + 1];

	json_object_object_add(o, "seq",
			       json_object_new_int64((int64_t)k->seq));
	json_object_object_add(o, "ts_ns",
			       json_object_new_int64((int64_t)k->s.ts_ns));
	json_object_object_add(
		o, "reason", json_object_new_string(pw_stat_name(k->s.reason)));
	json_object_object_add(
		o, "monitor",
		json_object_new_boolean(k->s.flags & PW_SAMPLE_MONITOR));
	json_object_object_add(
		o, "iface",
		json_object_new_string(k->s.pad < a->n_ifaces
					       ? a->ifaces[k->s.pad].name
					       : "?"));
	json_object_object_add(o, "orig_len",
			       json_object_new_int64(k->s.orig_len));
	pw_base64_encode(k->s.data, k->s.cap_len, b64);
	json_object_object_add(o, "data", json_object_new_string(b64));
	return o;
}

/* capture {op: start, reasons, seconds} opens a sampling window;
 * capture {op: fetch, since, reasons, max} returns samples kept. */
static int cmd_capture(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const char *op = arg_str(r, "op");
	const struct pw_kept_sample **got;
	const struct pw_samples *ring;
	struct pw_stat st[PW_STAT_NR];
	uint64_t seconds, since, max, next = 0;
	uint64_t lost = 0, limited = 0;
	int64_t until;
	uint32_t reasons;
	json_object *arr, *ifs;
	size_t n;
	int err;

	if (!op || (strcmp(op, "start") && strcmp(op, "fetch")))
		return fail(r, -EINVAL, "'op' must be start or fetch");
	if (arg_reasons(r, PW_SAMPLE_REASONS_ALL, &reasons))
		return -EINVAL;
	if (!strcmp(op, "start")) {
		if (arg_uint(r, "seconds", PW_DEF_CAPTURE_SECONDS,
			     PW_MAX_CAPTURE_SECONDS, &seconds))
			return -EINVAL;
		if (!seconds)
			return fail(r, -EINVAL, "'seconds' must be at least 1");
		err = pw_capture_start(a, reasons, (uint32_t)seconds, &until);
		if (err == -ENODEV)
			return fail(r, err,
				    "no XDP datapath (enforce = \"nft\"): "
				    "nothing to sample");
		if (err)
			return fail(r, err, "capture not started: %s",
				    strerror(-err));
		json_object_object_add(
			r->resp, "since",
			json_object_new_int64((int64_t)pw_samples_next_seq(
				pw_capture_samples(a))));
		json_object_object_add(r->resp, "until",
				       json_object_new_int64(until));
		json_object_object_add(r->resp, "reasons",
				       json_reasons(reasons));
		json_object_object_add(
			r->resp, "per_second",
			json_object_new_int64(a->cfg.capture.per_second));
		log_info("control: uid %u started a capture of %llu s (%s%s)",
			 r->cred.uid, (unsigned long long)seconds,
			 reasons == PW_SAMPLE_REASONS_ALL ? "all drops"
							  : "reasons ",
			 reasons == PW_SAMPLE_REASONS_ALL
				 ? ""
				 : json_object_to_json_string_ext(
					   json_object_object_get(r->resp,
								  "reasons"),
					   JSON_C_TO_STRING_PLAIN));
		return 0;
	}
	if (arg_uint(r, "since", 0, UINT64_MAX >> 1, &since) ||
	    arg_uint(r, "max", CTL_SAMPLES_DEFAULT, CTL_SAMPLES_MAX, &max))
		return -EINVAL;
	pw_capture_poll(a);
	ring = pw_capture_samples(a);
	arr = json_object_new_array();
	json_object_object_add(r->resp, "samples", arr);
	if (ring) {
		got = calloc(max ? max : 1, sizeof(*got));
		if (!got)
			return fail(r, -ENOMEM, "out of memory");
		n = pw_samples_get(ring, since, reasons, got, max, &next);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, json_sample(a, got[i]));
		free(got);
		json_object_object_add(
			r->resp, "oldest",
			json_object_new_int64(
				(int64_t)pw_samples_oldest_seq(ring)));
		json_object_object_add(
			r->resp, "more",
			json_object_new_boolean(next <
						pw_samples_next_seq(ring)));
	}
	for (size_t i = 0; i < a->n_ifaces; i++)
		if (!pw_datapath_stats(a->ifaces[i].dp, st)) {
			lost += st[PW_X_SAMPLES_LOST].packets;
			limited += st[PW_X_SAMPLES_LIMITED].packets;
		}
	ifs = json_object_new_array();
	for (size_t i = 0; i < a->n_ifaces; i++)
		json_object_array_add(
			ifs, json_object_new_string(a->ifaces[i].name));
	json_object_object_add(r->resp, "ifaces", ifs);
	json_object_object_add(r->resp, "next",
			       json_object_new_int64((int64_t)next));
	json_object_object_add(r->resp, "snaplen",
			       json_object_new_int64(a->cfg.capture.snaplen));
	json_object_object_add(r->resp, "lost_total",
			       json_object_new_int64((int64_t)lost));
	json_object_object_add(r->resp, "limited_total",
			       json_object_new_int64((int64_t)limited));
	json_object_object_add(r->resp, "window_open",
			       json_object_new_boolean(
				       pw_capture_window(a, &reasons, &until)));
	return 0;
}

/* The Prometheus text the metrics endpoint serves. */
static int cmd_metrics(struct ctl_req *r)
{
	char *text = NULL;
	size_t len = 0;
	int err = pw_metrics_render(r->a, &text, &len);

	if (err)
		return fail(r, err, "metrics not rendered: %s", strerror(-err));
	json_object_object_add(r->resp, "text",
			       json_object_new_string_len(text, (int)len));
	free(text);
	return 0;
}

/* The agent's own log of the last hour (journal.h). */
static int cmd_log(struct ctl_req *r)
{
	size_t n = 0;
	char *text;

	if (!r->a->journal)
		return fail(r, -ENOENT, "this agent keeps no in-memory log");
	text = pw_journal_text(r->a->journal, pw_agent_unix_s(r->a), &n);
	if (!text)
		return fail(r, -ENOMEM, "out of memory");
	json_object_object_add(r->resp, "text", json_object_new_string(text));
	json_object_object_add(r->resp, "lines",
			       json_object_new_int64((int64_t)n));
	json_object_object_add(r->resp, "max_age_s",
			       json_object_new_int64(PW_JOURNAL_AGE_S));
	free(text);
	return 0;
}

/* The config file the agent runs and whether it is still what was
 * loaded: the agent's hash (FNV-1a 64 of the file at load or reload, as
 * `status` shows it) against the file now. */
static int cmd_config(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	FILE *f = fopen(a->config_path, "rb");
	char *buf = NULL, hash[PW_CONFIG_HASH_LEN];
	size_t len = 0;
	int c;

	if (!f)
		return fail(r, -errno, "%s: %s", a->config_path,
			    strerror(errno));
	buf = malloc(CTL_CONFIG_MAX_BYTES);
	while (buf && len < CTL_CONFIG_MAX_BYTES && (c = fgetc(f)) != EOF)
		buf[len++] = (char)c;
	fclose(f);
	if (!buf)
		return fail(r, -ENOMEM, "out of memory");
	pw_config_hash(buf, len, hash);
	json_object_object_add(r->resp, "path",
			       json_object_new_string(a->config_path));
	json_object_object_add(r->resp, "content",
			       json_object_new_string_len(buf, (int)len));
	json_object_object_add(r->resp, "running_hash",
			       json_object_new_string(a->config_hash));
	json_object_object_add(r->resp, "file_hash",
			       json_object_new_string(hash));
	json_object_object_add(
		r->resp, "running",
		json_object_new_boolean(!strcmp(hash, a->config_hash)));
	free(buf);
	return 0;
}

/* Reset a source's trust: score, counters, credit, strikes and history;
 * its ban or level lifted everywhere. A ban from the config file is the
 * file's to lift. */
static int cmd_forgive(struct ctl_req *r)
{
	struct pw_agent *a = r->a;
	const struct pw_ban_record *ban;
	enum pw_peer_state was = PW_ST_NORMAL;
	struct pw_decision d;
	bool known;
	int err;

	memset(&d, 0, sizeof(d));
	if (arg_cidr(r, &d.cidr))
		return -EINVAL;
	ban = pw_bans_get(a->bans, &d.cidr);
	if (ban && ban->origin == PW_ORIGIN_CONFIG)
		return fail(r, -EPERM,
			    "refused: %s is banned by the config file; remove "
			    "it there and reload",
			    arg_str(r, "addr"));
	err = pw_engine_forgive(a->engine, &d.cidr, pw_agent_now_ns(a), &was);
	if (err && err != -ENOENT)
		return fail(r, err, "engine refused: %s", strerror(-err));
	known = !err || ban;
	if (!known)
		return fail(r, -ENOENT, "%s is not tracked: nothing to forgive",
			    arg_str(r, "addr"));
	d.cause = PW_CAUSE_MANUAL;
	if (ban || was == PW_ST_BANNED) {
		d.action = PW_ACT_UNBAN;
		pw_agent_apply(a, &d, PW_ORIGIN_MANUAL, "forgiven");
	} else if (was != PW_ST_NORMAL) {
		d.action = PW_ACT_LEVEL;
		d.state = PW_ST_NORMAL;
		pw_agent_apply(a, &d, PW_ORIGIN_MANUAL, "forgiven");
	}
	a->dirty = true; /* the offender history changed */
	json_object_object_add(r->resp, "was",
			       json_object_new_string(pw_peer_state_name(was)));
	log_info("control: uid %u forgave %s (was %s): score, strikes and "
		 "history reset",
		 r->cred.uid, arg_str(r, "addr"), pw_peer_state_name(was));
	return 0;
}

struct ctl_cmd {
	const char *name;
	bool mutating;
	int (*fn)(struct ctl_req *r);
};

static const struct ctl_cmd commands[] = {
	{"status", false, cmd_status},
	{"top", false, cmd_top},
	{"peers", false, cmd_top},
	{"peer", false, cmd_peer},
	{"export", false, cmd_export},
	{"ban", true, cmd_ban},
	{"unban", true, cmd_unban},
	{"quarantine", true, cmd_quarantine},
	{"release", true, cmd_release},
	{"allow", true, cmd_allow},
	{"import", true, cmd_import},
	{"posture", true, cmd_posture},
	{"reload", true, cmd_reload},
	{"detach", true, cmd_detach},
	{"report", true, cmd_report},
	{"emergency", true, cmd_emergency},
	/* Packet bytes are sensitive: capture needs the mutating right. */
	{"capture", true, cmd_capture},
	{"metrics", false, cmd_metrics},
	{"log", false, cmd_log},
	{"config", false, cmd_config},
	{"forgive", true, cmd_forgive},
};

bool pw_control_may_mutate(const struct pw_agent *a, const struct ucred *c)
{
	struct passwd *pw;
	gid_t groups[256];
	int n = 256;

	if (c->uid == 0)
		return true;
	if (!a->control_gid_set)
		return false;
	if (c->gid == a->control_gid)
		return true;
	pw = getpwuid(c->uid);
	if (!pw || getgrouplist(pw->pw_name, c->gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == a->control_gid)
			return true;
	return false;
}

/* "allow list" reads; "allow add/del" writes. */
static bool is_mutating(const struct ctl_cmd *cmd, json_object *req)
{
	json_object *op;

	if ((cmd->fn == cmd_allow || cmd->fn == cmd_emergency) &&
	    json_object_object_get_ex(req, "op", &op) &&
	    json_object_is_type(op, json_type_string) &&
	    (!strcmp(json_object_get_string(op), "list") ||
	     !strcmp(json_object_get_string(op), "status")))
		return false;
	return cmd->mutating;
}

char *pw_control_handle(struct pw_agent *a, const char *line, size_t len,
			const struct ucred *cred)
{
	struct ctl_req r = {.a = a, .cred = *cred};
	json_tokener *tok = json_tokener_new();
	const struct ctl_cmd *cmd = NULL;
	const char *name = NULL;
	json_object *v;
	char *out;
	int err = 0;

	a->ctr.control_requests++;
	r.resp = json_object_new_object();
	if (!pw_utf8_valid(line, len)) {
		err = fail(&r, -EINVAL, "request is not valid UTF-8");
		goto out;
	}
	if (tok)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	r.req = tok && len <= INT_MAX
			? json_tokener_parse_ex(tok, line, (int)len)
			: NULL;
	/* One object and nothing after it but blanks. */
	for (size_t i = r.req && tok ? json_tokener_get_parse_end(tok) : len;
	     i < len; i++)
		if (!strchr(" \t\r", line[i])) {
			json_object_put(r.req);
			r.req = NULL;
			break;
		}
	if (!r.req || !json_object_is_type(r.req, json_type_object)) {
		err = fail(&r, -EINVAL, "request is not a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(r.req, "cmd", &v) &&
	    json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	for (size_t i = 0; name && i < sizeof(commands) / sizeof(commands[0]);
	     i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd) {
		char echo[PW_ECHO_BUF];

		pw_echo_bytes(name ? name : "", name ? strlen(name) : 0, echo);
		err = fail(&r, -EINVAL, "unknown command '%s'", echo);
		goto out;
	}
	if (is_mutating(cmd, r.req) && !pw_control_may_mutate(a, cred)) {
		a->ctr.control_refused++;
		log_warn("control: refused %s from uid %u (needs root or group "
			 "'%s')",
			 cmd->name, cred->uid, a->cfg.agent.control_group);
		err = fail(&r, -EPERM,
			   "permission denied: %s needs root or group '%s'",
			   cmd->name, a->cfg.agent.control_group);
		goto out;
	}
	err = cmd->fn(&r);
	/* An operator's change is durable before the reply says ok; the
	 * engine's own decisions are saved once per tick. */
	if (!err && a->dirty && is_mutating(cmd, r.req) &&
	    pw_agent_save_state(a))
		json_object_object_add(
			r.resp, "warning",
			json_object_new_string(
				"applied, but the state file could not be "
				"written (see the agent log): it is lost if "
				"the agent restarts before a later save "
				"succeeds"));
out:
	json_object_object_add(r.resp, "ok", json_object_new_boolean(err == 0));
	out = strdup(json_object_to_json_string_ext(
		r.resp,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r.resp);
	json_object_put(r.req);
	if (tok)
		json_tokener_free(tok);
	return out;
}

int pw_unix_bind_0660(int fd, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	/* bind() creates the file with the socket inode's mode (less the
	 * umask): set it first, so the file is never wider than 0660. */
	if (fchmod(fd, 0660))
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
		return -errno;
	/* A umask wider than 077 may have left it narrower: say 0660. */
	if (chmod(path, 0660))
		return -errno;
	return 0;
}

int pw_control_listen(struct pw_agent *a)
{
	const char *path = a->cfg.agent.control_socket;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct group *gr;
	char dir[PW_PATH_MAX], *slash;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = pw_unix_bind_0660(fd, path);
	if (!err && listen(fd, 16))
		err = -errno;
	if (err) {
		log_err("control socket %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	gr = a->cfg.agent.control_group[0]
		     ? getgrnam(a->cfg.agent.control_group)
		     : NULL;
	if (gr) {
		a->control_gid = gr->gr_gid;
		a->control_gid_set = true;
		if (chown(path, 0, gr->gr_gid))
			log_warn("control socket: chown to group %s: %s "
				 "(only root can connect)",
				 gr->gr_name, strerror(errno));
	} else if (a->cfg.agent.control_group[0]) {
		log_warn("control group '%s' does not exist: only root may "
			 "change anything",
			 a->cfg.agent.control_group);
	}
	return fd;
}
