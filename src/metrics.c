// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics.c - the Prometheus endpoint (text exposition format 0.0.4).
 *
 * Two halves. pw_metrics_render() turns the agent's state into text: it
 * sums the datapaths' per-CPU counters over the interfaces and reads the
 * engine's stats, the ban registry and the agent's counters; it does no
 * other I/O, so a unit test renders a hand-built agent. The server half is
 * libmicrohttpd in external-epoll mode (MHD_USE_EPOLL without an internal
 * thread): the agent is single-threaded, so MHD must not call into it from
 * a thread of its own. The agent polls MHD's epoll fd with its other fds
 * and calls pw_metrics_run() when it is readable and on every tick, which
 * is also when MHD closes connections that went idle.
 *
 * We open, bind and listen on the socket ourselves and hand it to MHD
 * (MHD_OPTION_LISTEN_SOCKET) rather than passing MHD_OPTION_SOCK_ADDR: the
 * address bound is exactly the one configured either way, but this way a
 * failure comes back as the errno of the call that failed (EADDRINUSE,
 * EADDRNOTAVAIL), which MHD does not report.
 *
 * Cardinality is fixed by the code, never by traffic: no per-peer labels.
 * Labels are reasons, verdicts, ban causes, report verbs, postures, modes,
 * and interface names (a host has few). Names and meanings:
 * docs/metrics.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "agent.h"
#include "conns.h"
#include "bans.h"
#include "log.h"
#include "metrics.h"

#define METRICS_PATH	"/metrics"
#define METRICS_BACKLOG 16
/* Scrapers are few; the cap bounds memory (MHD's pool is 32 KiB per
 * connection). Clients beyond it wait in the backlog until an idle one
 * times out, so the timeout is short: scrapers reconnect cheaply. */
#define METRICS_MAX_CONNS 32u
#define METRICS_IDLE_S	  5u
/* First size of the text buffer. Below the usual text (about 8 KiB) on
 * purpose: the growth path then runs on every render, tests included. */
#define METRICS_TEXT_INITIAL (4u << 10)
/* MHD_run() rounds per pw_metrics_run(): a round that leaves work pending
 * (MHD's timeout 0) is followed by another, bounded so a busy scraper
 * cannot starve the tick. */
#define METRICS_RUN_ROUNDS 4
#define METRICS_LOG_LINE   256

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

struct pw_metrics {
	struct MHD_Daemon *d;
	struct pw_agent *a;
	int epoll_fd; /* MHD's; owned by it */
	uint16_t port;
	bool started; /* MHD's messages after start are about clients */
};

/* --- exposition text --------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		char *p;

		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		p = realloc(b->p, b->cap * 2 + (size_t)n);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static void family(struct buf *b, const char *name, const char *type,
		   const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values may hold any UTF-8; the format escapes \, " and newline. */
static void label_value(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			bprintf(b, "\\%c", *v);
		else if (*v == '\n')
			bprintf(b, "\\n");
		else
			bprintf(b, "%c", *v);
	}
}

/* One family with one unlabelled sample. */
struct scalar {
	const char *name, *type, *help;
	uint64_t value;
};

static void scalars(struct buf *b, const struct scalar *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		family(b, s[i].name, s[i].type, s[i].help);
		bprintf(b, "%s %" PRIu64 "\n", s[i].name, s[i].value);
	}
}

/* The action a per-packet reason implies, as bpf/peerwall.bpf.c decides it
 * (reason >= PW_R_DROP_EMERGENCY drops, unless in monitor mode). Malformed
 * packets are "pass": the ones the malformed policy drops are counted again
 * in peerwall_malformed_dropped_total. */
static const char *reason_verdict(unsigned r)
{
	return r >= PW_R_DROP_EMERGENCY ? "drop" : "pass";
}

/* Everything the text is made of, read once so the text is consistent. */
struct facts {
	struct pw_stat dp[PW_STAT_NR]; /* summed over interfaces */
	struct pw_engine_stats es;
	enum pw_posture posture;
	size_t bans_active;
	bool emergency;
	enum pw_mode mode;
};

static int gather(const struct pw_agent *a, struct facts *f)
{
	struct pw_stat st[PW_STAT_NR];
	int err;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < a->n_ifaces; i++) {
		err = pw_datapath_stats(a->ifaces[i].dp, st);
		if (err) {
			log_err("metrics: reading counters of %s: %s",
				a->ifaces[i].name, strerror(-err));
			return err;
		}
		for (unsigned s = 0; s < PW_STAT_NR; s++) {
			f->dp[s].packets += st[s].packets;
			f->dp[s].bytes += st[s].bytes;
		}
	}
	if (a->engine) {
		pw_engine_get_stats(a->engine, &f->es);
		f->posture = pw_engine_posture(a->engine);
	}
	f->bans_active = a->bans ? pw_bans_count(a->bans) : 0;
	/* What the datapath does, which is what an operator asks about. */
	f->mode = a->cfg.mode;
	if (a->n_ifaces) {
		const struct pw_dp_config *dc =
			pw_datapath_dp_config(a->ifaces[0].dp);

		f->emergency = dc->emergency != 0;
		f->mode = (enum pw_mode)dc->mode;
	}
	return 0;
}

static void reason_family(struct buf *b, const char *name, const char *help,
			  const struct facts *f, bool bytes)
{
	family(b, name, "counter", help);
	for (unsigned r = 0; r < PW_R_NR; r++)
		bprintf(b, "%s{reason=\"%s\",verdict=\"%s\"} %" PRIu64 "\n",
			name, pw_stat_name(r), reason_verdict(r),
			(uint64_t)(bytes ? f->dp[r].bytes : f->dp[r].packets));
}

static void render_datapath(struct buf *b, const struct facts *f)
{
	const struct scalar rows[] = {
		{"peerwall_malformed_dropped_total", "counter",
		 "Malformed packets dropped by the malformed policy (also "
		 "counted under reason=\"malformed\").",
		 f->dp[PW_X_MALFORMED_DROPPED].packets},
		{"peerwall_monitor_passed_total", "counter",
		 "Packets that would have been dropped, passed because the "
		 "mode is monitor.",
		 f->dp[PW_X_MONITOR_PASSED].packets},
		{"peerwall_attention_events_total", "counter",
		 "Attention events the datapath emitted (a source needs "
		 "scoring this tick).",
		 f->dp[PW_X_ATTN_EVENTS].packets},
		{"peerwall_attention_lost_total", "counter",
		 "Attention events lost because the ring buffer was full.",
		 f->dp[PW_X_ATTN_LOST].packets},
		{"peerwall_source_table_full_total", "counter",
		 "Packets whose source could not get an entry in the source "
		 "table.",
		 f->dp[PW_X_SRC_TABLE_FULL].packets},
		{"peerwall_samples_total", "counter",
		 "Dropped packets sampled for evidence (peerwallctl capture).",
		 f->dp[PW_X_SAMPLES].packets},
		{"peerwall_samples_limited_total", "counter",
		 "Dropped packets not sampled: over capture.per_second.",
		 f->dp[PW_X_SAMPLES_LIMITED].packets},
		{"peerwall_samples_lost_total", "counter",
		 "Dropped packets not sampled: the sample ring was full.",
		 f->dp[PW_X_SAMPLES_LOST].packets},
	};

	reason_family(b, "peerwall_packets_total",
		      "Packets seen by the XDP program, by the reason of its "
		      "decision, summed over interfaces.",
		      f, false);
	reason_family(b, "peerwall_bytes_total",
		      "Bytes of the packets in peerwall_packets_total.", f,
		      true);
	scalars(b, rows, ARRAY_SIZE(rows));
}

static void render_engine(struct buf *b, const struct pw_agent *a,
			  const struct facts *f)
{
	const struct scalar rows[] = {
		{"peerwall_attention_consumed_total", "counter",
		 "Attention events the agent read from the ring buffers.",
		 a->ctr.attention_events},
		{"peerwall_attention_deferred_total", "counter",
		 "Flagged sources left for a later tick (per source and tick).",
		 a->ctr.attention_deferred},
		{"peerwall_sources_tracked", "gauge",
		 "Sources the scoring engine keeps state for.", f->es.peers},
		{"peerwall_sources_evicted_total", "counter",
		 "Idle sources the scoring engine forgot to stay within "
		 "max_peers.",
		 f->es.peers_evicted},
		{"peerwall_bans_active", "gauge",
		 "Bans in the registry (sources and prefixes).",
		 f->bans_active},
	};
	const struct scalar rows2[] = {
		{"peerwall_guard_limited_total", "counter",
		 "Bans the self-isolation guard turned into quarantines.",
		 f->es.guard_limited},
		{"peerwall_trusted_ignored_total", "counter",
		 "Sanctions not applied because the source is trusted.",
		 f->es.trusted_ignored},
	};

	scalars(b, rows, ARRAY_SIZE(rows));
	family(b, "peerwall_bans_issued_total", "counter",
	       "Bans issued by the scoring engine and operators, by cause.");
	for (unsigned c = PW_CAUSE_SPOOFABLE; c <= PW_CAUSE_MANUAL; c++)
		bprintf(b,
			"peerwall_bans_issued_total{cause=\"%s\"} %" PRIu64
			"\n",
			pw_cause_name((enum pw_cause)c),
			f->es.bans_by_cause[c]);
	scalars(b, rows2, ARRAY_SIZE(rows2));
}

static void render_agent(struct buf *b, const struct pw_agent *a,
			 const struct facts *f)
{
	const struct scalar reports[] = {
		{"peerwall_reports_rejected_total", "counter",
		 "Node reports that did not parse.", a->ctr.reports_rejected},
		{"peerwall_reports_dropped_total", "counter",
		 "Node reports over the per-tick cap, not processed.",
		 a->ctr.reports_dropped},
		{"peerwall_reports_trusted_total", "counter",
		 "Processed reports about trusted sources (counted, never "
		 "sanctioned).",
		 a->ctr.trusted_reported},
		{"peerwall_emergency", "gauge",
		 "1 when emergency mode drops every untrusted packet to "
		 "protected ports.",
		 a->emergency.on || f->emergency},
		{"peerwall_emergency_drops_total", "counter",
		 "Packets emergency mode dropped, XDP and nftables together.",
		 f->dp[PW_R_DROP_EMERGENCY].packets +
			 a->ctr.nft_emergency_drops},
		{"peerwall_connlimit_rejects_total", "counter",
		 "New connections refused by limits.*.max_conns (nftables).",
		 a->ctr.nft_connlimit_rejects},
		{"peerwall_nft_ban_drops_total", "counter",
		 "Packets the mirrored bans dropped in nftables "
		 "(nft.mirror_bans, enforce = nft).",
		 a->ctr.nft_ban_drops},
		{"peerwall_connections_established", "gauge",
		 "Established TCP connections to protected ports (sock_diag).",
		 a->conns ? pw_conns_total(a->conns) : 0},
		{"peerwall_nft_failures_total", "counter",
		 "nftables batches the kernel refused (see the agent log).",
		 a->ctr.nft_failures},
	};
	const struct scalar rest[] = {
		{"peerwall_ticks_total", "counter", "Agent ticks completed.",
		 a->ctr.ticks},
		{"peerwall_state_writes_total", "counter",
		 "State file writes that succeeded.", a->ctr.state_writes},
		{"peerwall_state_write_failures_total", "counter",
		 "State file writes that failed (retried next tick).",
		 a->ctr.state_failures},
		{"peerwall_control_requests_total", "counter",
		 "Requests on the control socket.", a->ctr.control_requests},
		{"peerwall_control_refused_total", "counter",
		 "Control requests refused for lack of permission.",
		 a->ctr.control_refused},
	};
	static const struct {
		enum pw_report_verb verb;
		const char *name;
	} verbs[] = {{PW_REPORT_INVALID, "invalid"}, {PW_REPORT_GOOD, "good"}};

	family(b, "peerwall_reports_total", "counter",
	       "Node reports processed, by verb.");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		bprintf(b, "peerwall_reports_total{verb=\"%s\"} %" PRIu64 "\n",
			verbs[i].name, a->ctr.reports[verbs[i].verb]);
	scalars(b, reports, ARRAY_SIZE(reports));

	family(b, "peerwall_posture", "gauge",
	       "Defense posture: 1 for the current one, 0 for the others.");
	for (unsigned p = 0; p < PW_POSTURE_NR; p++)
		bprintf(b, "peerwall_posture{posture=\"%s\"} %d\n",
			pw_posture_name((enum pw_posture)p), p == f->posture);
	family(b, "peerwall_mode", "gauge",
	       "Datapath mode: 1 for the current one, 0 for the other.");
	bprintf(b, "peerwall_mode{mode=\"enforce\"} %d\n",
		f->mode == PW_MODE_ENFORCE);
	bprintf(b, "peerwall_mode{mode=\"monitor\"} %d\n",
		f->mode == PW_MODE_MONITOR);

	family(b, "peerwall_interface_attached", "gauge",
	       "1 for each interface the XDP program is attached to.");
	for (size_t i = 0; i < a->n_ifaces; i++) {
		bprintf(b, "peerwall_interface_attached{interface=\"");
		label_value(b, a->ifaces[i].name);
		bprintf(b, "\",xdp_mode=\"");
		label_value(b,
			    a->ifaces[i].xdp_mode ? a->ifaces[i].xdp_mode : "");
		bprintf(b, "\"} 1\n");
	}
	family(b, "peerwall_config_info", "gauge",
	       "Always 1; hash is the loaded config file's hash.");
	bprintf(b, "peerwall_config_info{hash=\"");
	label_value(b, a->config_hash);
	bprintf(b, "\"} 1\n");

	family(b, "peerwall_tick_duration_seconds", "gauge",
	       "Duration of the last agent tick.");
	bprintf(b, "peerwall_tick_duration_seconds %.9g\n",
		a->ctr.tick_ms_last / 1e3);
	family(b, "peerwall_tick_duration_max_seconds", "gauge",
	       "Longest agent tick since start.");
	bprintf(b, "peerwall_tick_duration_max_seconds %.9g\n",
		a->ctr.tick_ms_max / 1e3);
	scalars(b, rest, ARRAY_SIZE(rest));
}

int pw_metrics_render(const struct pw_agent *a, char **text, size_t *len)
{
	struct buf b = {.cap = METRICS_TEXT_INITIAL};
	struct facts f;
	int err;

	*text = NULL;
	*len = 0;
	err = gather(a, &f);
	if (err)
		return err;
	b.p = malloc(b.cap);
	if (!b.p)
		b.err = -ENOMEM;
	render_datapath(&b, &f);
	render_engine(&b, a, &f);
	render_agent(&b, a, &f);
	if (b.err) {
		log_err("metrics: building the text: %s", strerror(-b.err));
		free(b.p);
		return b.err;
	}
	*text = b.p;
	*len = b.len;
	return 0;
}

/* --- listen address ---------------------------------------------------- */

static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > UINT16_MAX)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int pw_metrics_parse_listen(const char *listen, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *end;
	size_t n;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	if (!listen)
		return -EINVAL;
	if (listen[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		end = strchr(listen, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - listen - 1);
		colon = end + 1;
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, listen + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1 ||
		    parse_port(colon + 1, &port))
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		colon = strchr(listen, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - listen);
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, listen, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 ||
		    parse_port(colon + 1, &port))
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	}
	return 0;
}

/* --- HTTP -------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *body, size_t len,
			     enum MHD_ResponseMemoryMode mem,
			     const char *content_type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, mem);
	if (!r) {
		if (mem == MHD_RESPMEM_MUST_FREE)
			free((void *)body);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    content_type) != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") !=
		     MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
				  const char *msg)
{
	return reply(c, status, msg, strlen(msg), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8");
}

/* Answered on the first call, with the headers: nothing here needs a
 * request body, and MHD closes a connection whose body went unread. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct pw_metrics *m = cls;
	char *text;
	size_t len;
	int err;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(url, METRICS_PATH))
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "not found: try " METRICS_PATH "\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed: use GET\n");
	err = pw_metrics_render(m->a, &text, &len);
	if (err)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "metrics unavailable, see the agent's log\n");
	return reply(c, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE,
		     PW_METRICS_CONTENT_TYPE);
}

/* A failure to start is the operator's problem (warning); after that,
 * MHD reports what clients did wrong, which the scraper sees for itself
 * (debug), so a misbehaving local client cannot fill the agent's log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct pw_metrics *m = cls;
	char msg[METRICS_LOG_LINE];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	pw_log(m->started ? PW_LOG_DEBUG : PW_LOG_WARN, "metrics: %s", msg);
}

static int listen_socket(const char *listen_str,
			 const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	/* Restarts must not wait for TIME_WAIT; an IPv6 address means only
	 * that address, never the IPv4 side of a dual-stack socket. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)ss, len) ||
	    listen(fd, METRICS_BACKLOG)) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	log_err("metrics: listening on %s: %s", listen_str, strerror(-err));
	if (fd >= 0)
		close(fd);
	return err;
}

int pw_metrics_start(const char *listen, struct pw_agent *a,
		     struct pw_metrics **out)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct pw_metrics *m;
	socklen_t len;
	int fd, err;

	*out = NULL;
	if (pw_metrics_parse_listen(listen, &ss, &len)) {
		log_err("metrics: listen \"%s\" is not IPv4:port or "
			"[IPv6]:port",
			listen ? listen : "");
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->a = a;
	fd = listen_socket(listen, &ss, len);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	m->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, m,
		/* First, or MHD logs the others' problems on stderr. */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
		METRICS_MAX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
		METRICS_IDLE_S, MHD_OPTION_END);
	if (!m->d) {
		/* MHD owns the socket only once it started; a failed start
		 * may or may not have closed it. Nothing else ran since, so
		 * the number cannot have been reused. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		err = -EIO;
		log_err("metrics: libmicrohttpd did not start on %s", listen);
		goto fail;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		err = -EIO;
		log_err("metrics: libmicrohttpd has no epoll fd");
		goto fail;
	}
	m->epoll_fd = info->epoll_fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &len)) {
		err = -errno;
		log_err("metrics: getsockname: %s", strerror(-err));
		goto fail;
	}
	m->port = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	m->started = true;
	log_info("metrics: serving %s on %s (port %u)", METRICS_PATH, listen,
		 m->port);
	*out = m;
	return 0;
fail:
	pw_metrics_stop(m);
	return err;
}

int pw_metrics_fd(const struct pw_metrics *m)
{
	return m->epoll_fd;
}

uint16_t pw_metrics_port(const struct pw_metrics *m)
{
	return m->port;
}

void pw_metrics_run(struct pw_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG timeout_ms;

	for (int i = 0; i < METRICS_RUN_ROUNDS; i++) {
		if (MHD_run(m->d) != MHD_YES) {
			log_warn("metrics: MHD_run failed");
			return;
		}
		if (MHD_get_timeout(m->d, &timeout_ms) != MHD_YES ||
		    timeout_ms > 0)
			return;
	}
}

void pw_metrics_stop(struct pw_metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	free(m);
}
