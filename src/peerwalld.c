// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * peerwalld - the agent: process lifecycle and the one epoll loop.
 *
 *   peerwalld -c FILE [-f] [-v]      run (foreground with -f: logs on stderr)
 *   peerwalld --check-config FILE    validate, print file:line errors, exit
 *
 * Start: config -> state file -> one datapath per interface (pinned maps
 * adopted from a previous run, our old program replaced atomically, so
 * there is no window without protection) -> bans and history restored ->
 * sockets. Loop: timerfd tick, signalfd (TERM/INT stop, HUP reload),
 * control socket and its clients, report socket. Stop: save state; the
 * XDP program keeps enforcing (fail-static) unless detach was asked for.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agent.h"
#include "agent_nft.h"
#include "bans.h"
#include "capture.h"
#include "conns.h"
#include "control.h"
#include "log.h"
#include "logwatch.h"
#include "metrics.h"
#include "report.h"
#include "sdnotify.h"
#include "sockdiag.h"
#include "state.h"

#define CTL_LINE_MAX	(32u << 20) /* an import of 100k bans fits */
#define CTL_CLIENTS_MAX 32
/* Requests from clients that may only read are small. */
#define CTL_READ_LINE_MAX (64u << 10)
/* A client that sends nothing and takes no output this long is closed. */
#define CTL_IDLE_MS	 10000
#define REPORT_LOG_EVERY 1000 /* log one rejected report in this many */

enum watch_kind {
	W_TIMER,
	W_SIGNAL,
	W_CTL_LISTEN,
	W_CTL_CLIENT,
	W_REPORT,
	W_METRICS,
};

struct watch {
	enum watch_kind kind;
	int fd;
	char *buf; /* clients: bytes of an unfinished line */
	size_t len, cap;
	size_t line_max; /* longest request line this client may send */
	char *out;	 /* clients: responses not yet sent */
	size_t out_len, out_off;
	uint64_t active_ns; /* last request or output progress */
	struct ucred cred;
};

struct loop {
	struct pw_agent *a;
	int epfd;
	struct watch timer, sig, ctl, report;
	struct watch metrics; /* fd owned by m */
	struct pw_metrics *m; /* NULL: metrics off or not listening */
	struct watch *clients[CTL_CLIENTS_MAX];
	uint64_t evicted; /* clients closed to make room, since the last log */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int watch_add(struct loop *l, struct watch *w)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

static void client_close(struct loop *l, struct watch *w)
{
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (l->clients[i] == w)
			l->clients[i] = NULL;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	free(w->buf);
	free(w->out);
	free(w);
}

/* Queue a response line; the event loop never waits for a client. */
static int client_queue(struct watch *w, const char *p, size_t n)
{
	size_t need = w->out_len - w->out_off + n;
	char *o;

	if (w->out_off) {
		memmove(w->out, w->out + w->out_off, w->out_len - w->out_off);
		w->out_len -= w->out_off;
		w->out_off = 0;
	}
	o = realloc(w->out, need ? need : 1);
	if (!o)
		return -ENOMEM;
	memcpy(o + w->out_len, p, n);
	w->out = o;
	w->out_len = need;
	return 0;
}

/* Send what the socket takes now. 1: all sent, 0: more pending, <0:
 * the client is gone. Interest follows: EPOLLOUT while output is
 * pending (requests wait), EPOLLIN once it drained. */
static int client_flush(struct loop *l, struct watch *w)
{
	struct epoll_event ev = {.data.ptr = w};

	while (w->out_off < w->out_len) {
		ssize_t n = send(w->fd, w->out + w->out_off,
				 w->out_len - w->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0)
			return -EPIPE;
		w->out_off += (size_t)n;
		w->active_ns = mono_ns();
	}
	ev.events = w->out_off < w->out_len ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev))
		return -errno;
	if (w->out_off < w->out_len)
		return 0;
	w->out_len = w->out_off = 0;
	return 1;
}

/* Answer the complete lines buffered, stopping while output is pending
 * (a client that does not read its answers gets no more of them).
 * Returns false when the client was closed. */
static bool client_serve(struct loop *l, struct watch *w)
{
	char *nl;

	while (w->out_off == w->out_len &&
	       (nl = memchr(w->buf, '\n', w->len))) {
		size_t line = (size_t)(nl - w->buf);
		char *resp = pw_control_handle(l->a, w->buf, line, &w->cred);
		int err = resp ? client_queue(w, resp, strlen(resp)) : -ENOMEM;

		if (!err)
			err = client_queue(w, "\n", 1);
		free(resp);
		memmove(w->buf, nl + 1, w->len - line - 1);
		w->len -= line + 1;
		w->active_ns = mono_ns();
		if (err || client_flush(l, w) < 0) {
			client_close(l, w);
			return false;
		}
	}
	return true;
}

static void client_read(struct loop *l, struct watch *w)
{
	static const char too_long[] =
		"{\"ok\":false,\"error\":\"request line too long\"}\n";
	char chunk[65536];
	ssize_t n = recv(w->fd, chunk, sizeof(chunk), 0);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(l, w);
		return;
	}
	if (w->len + (size_t)n > w->line_max) {
		/* Best effort: the answer goes out if the socket takes it. */
		send(w->fd, too_long, sizeof(too_long) - 1,
		     MSG_NOSIGNAL | MSG_DONTWAIT);
		client_close(l, w);
		return;
	}
	if (w->len + (size_t)n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		char *p;

		while (cap < w->len + (size_t)n)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			client_close(l, w);
			return;
		}
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, chunk, (size_t)n);
	w->len += (size_t)n;
	client_serve(l, w);
}

static void client_event(struct loop *l, struct watch *w, uint32_t events)
{
	if (events & EPOLLOUT) {
		int rc = client_flush(l, w);

		if (rc < 0)
			client_close(l, w);
		else if (rc == 1)
			client_serve(l, w);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(l, w);
}

/* Each tick: close clients that did nothing for CTL_IDLE_MS (no request
 * completed, no output taken), and say how many were evicted. */
static void clients_expire(struct loop *l)
{
	uint64_t now = mono_ns();
	unsigned idle = 0;

	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct watch *w = l->clients[i];

		if (w && now - w->active_ns > CTL_IDLE_MS * 1000000ull) {
			client_close(l, w);
			idle++;
		}
	}
	if (idle || l->evicted)
		log_warn("control: closed %u idle client(s) and %llu to make "
			 "room for new ones",
			 idle, (unsigned long long)l->evicted);
	l->evicted = 0;
}

static void ctl_accept(struct loop *l)
{
	socklen_t len = sizeof(struct ucred);
	struct watch *w;
	int fd, slot = -1;

	fd = accept4(l->ctl.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (!l->clients[i])
			slot = i;
	if (slot < 0) {
		/* Full: the longest-idle client makes room, so idle or
		 * stuck connections can never lock the operator out. */
		for (int i = 0; i < CTL_CLIENTS_MAX; i++)
			if (slot < 0 || l->clients[i]->active_ns <
						l->clients[slot]->active_ns)
				slot = i;
		client_close(l, l->clients[slot]);
		l->evicted++;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return;
	}
	w->kind = W_CTL_CLIENT;
	w->fd = fd;
	w->active_ns = mono_ns();
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &w->cred, &len)) {
		/* Unknown peer: treat as nobody. */
		w->cred.uid = (uid_t)-1;
		w->cred.gid = (gid_t)-1;
	}
	/* Only clients that may change things send large requests
	 * (import); readers get a small cap. */
	w->line_max = pw_control_may_mutate(l->a, &w->cred) ? CTL_LINE_MAX
							    : CTL_READ_LINE_MAX;
	if (watch_add(l, w)) {
		close(fd);
		free(w);
		return;
	}
	l->clients[slot] = w;
}

static void report_read(struct loop *l)
{
	struct pw_agent *a = l->a;
	char line[PW_REPORT_LINE_MAX + 1];
	struct pw_report r;
	char err[160];

	/* Bounded per wakeup so a report flood cannot starve the tick. */
	for (int i = 0; i < 256; i++) {
		ssize_t n =
			recv(l->report.fd, line, sizeof(line), MSG_DONTWAIT);

		if (n < 0)
			return;
		if (pw_report_parse(line, (size_t)n, &r, err, sizeof(err))) {
			if (a->ctr.reports_rejected++ % REPORT_LOG_EVERY == 0)
				log_warn("report socket: rejected a report "
					 "(%llu so far): %s",
					 (unsigned long long)
						 a->ctr.reports_rejected,
					 err);
			continue;
		}
		pw_agent_report(a, &r);
	}
}

static int report_listen(struct pw_agent *a)
{
	const char *path = a->cfg.agent.report_socket;
	int fd, err;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = pw_unix_bind_0660(fd, path);
	if (err) {
		log_err("report socket %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	if (a->control_gid_set && chown(path, 0, a->control_gid))
		log_warn("report socket: chown: %s (only root can report)",
			 strerror(errno));
	return fd;
}

static int load_config(const char *path, struct pw_config *cfg)
{
	struct pw_config_errors *errs = calloc(1, sizeof(*errs));
	int err;

	if (!errs)
		return -ENOMEM;
	err = pw_config_load_file(path, cfg, errs);
	for (size_t i = 0; i < errs->n; i++)
		log_err("%s", errs->msg[i]);
	if (errs->dropped)
		log_err("%s: %zu more errors not shown", path, errs->dropped);
	free(errs);
	return err;
}

static int check_config(const char *path)
{
	struct pw_config cfg;
	int err;

	pw_log_init("peerwalld", PW_LOG_INFO, false);
	err = load_config(path, &cfg);
	if (err)
		return 1;
	printf("%s: ok (%zu interfaces, %zu protected ports, %zu trusted, "
	       "%zu bans)\n",
	       path, cfg.n_interfaces, cfg.n_protect, cfg.n_trusted,
	       cfg.n_bans);
	pw_config_free(&cfg);
	return 0;
}

/* Bans, history, runtime allowlist and posture from the state file. */
static void restore_state(struct pw_agent *a)
{
	int64_t now = pw_agent_unix_s(a);
	struct pw_state st;
	bool used_prev = false;
	char why[256] = "";
	int err;

	err = pw_state_load(a->cfg.agent.state_dir, now, &st, &used_prev, why,
			    sizeof(why));
	if (err == -ENOENT) {
		log_info("no state in %s yet: starting clean",
			 a->cfg.agent.state_dir);
		return;
	}
	if (err) {
		log_err("STATE NOT RESTORED: no verifiable state file in %s "
			"(%s); bans still in the pinned maps keep enforcing "
			"until they expire",
			a->cfg.agent.state_dir, why);
		return;
	}
	if (used_prev)
		log_err("STATE FILE CORRUPT (%s): using the previous "
			"generation",
			why);
	if (st.n_allowed) {
		a->allowed = calloc(st.n_allowed, sizeof(*a->allowed));
		if (a->allowed) {
			memcpy(a->allowed, st.allowed,
			       st.n_allowed * sizeof(*a->allowed));
			a->n_allowed = st.n_allowed;
		}
	}
	/* An emergency whose TTL ran out while we were down was dropped by
	 * the loader; one still running keeps its end time. */
	a->emergency.on = st.emergency;
	a->emergency.until_unix_s =
		st.emergency ? st.emergency_until_unix_s : 0;
	a->emergency.since_unix_s = !st.emergency ? 0
				    : st.emergency_since_unix_s > 0
					    ? st.emergency_since_unix_s
					    : st.saved_unix_s;
	a->emergency.uid = st.emergency ? st.emergency_uid : 0;
	if (st.posture >= 0 && st.posture < PW_POSTURE_NR) {
		a->cfg.agent.posture = st.posture;
		pw_engine_set_posture(a->engine, st.posture);
	}
	pw_engine_restore_history(a->engine, st.history, st.n_history, now);
	for (size_t i = 0; i < st.n_bans; i++) {
		const struct pw_ban_record *b = &st.bans[i];
		struct pw_decision d = {.cidr = b->cidr,
					.action = PW_ACT_BAN,
					.strikes = b->strikes};
		enum pw_cause cause = b->origin == PW_ORIGIN_AUTO
					      ? PW_CAUSE_VERIFIED
					      : PW_CAUSE_MANUAL;

		if (b->origin == PW_ORIGIN_CONFIG)
			continue; /* the config file is their source */
		d.ttl_s = b->expires_unix_s ? (double)(b->expires_unix_s - now)
					    : 0;
		d.cause = cause;
		pw_engine_restore_ban(a->engine, &b->cidr, d.ttl_s, cause,
				      pw_agent_now_ns(a));
		pw_agent_apply(a, &d, b->origin, b->reason);
		/* keep the original creation time */
		struct pw_ban_record keep = *b;

		pw_bans_put(a->bans, &keep);
	}
	log_info("state restored: %zu bans, %zu offenders in history, %zu "
		 "runtime trusted CIDRs",
		 st.n_bans, st.n_history, st.n_allowed);
	pw_state_free(&st);
}

static void register_config_bans(struct pw_agent *a)
{
	for (size_t i = 0; i < a->cfg.n_bans; i++) {
		struct pw_ban_record rec = {.cidr = a->cfg.bans[i],
					    .origin = PW_ORIGIN_CONFIG,
					    .created_unix_s =
						    pw_agent_unix_s(a)};

		snprintf(rec.reason, sizeof(rec.reason), "config");
		pw_bans_put(a->bans, &rec);
	}
}

static bool cidr_in(const struct pw_cidr *c, const struct pw_cidr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == c->family &&
		    v[i].prefixlen == c->prefixlen &&
		    !memcmp(v[i].addr, c->addr, sizeof(c->addr)))
			return true;
	return false;
}

/* A ban deleted from the config file is lifted on reload. */
static void lift_dropped_config_bans(struct pw_agent *a,
				     const struct pw_config *fresh)
{
	for (size_t i = 0; i < a->cfg.n_bans; i++) {
		struct pw_decision d = {.cidr = a->cfg.bans[i],
					.action = PW_ACT_UNBAN,
					.cause = PW_CAUSE_MANUAL};

		if (!cidr_in(&a->cfg.bans[i], fresh->bans, fresh->n_bans))
			pw_agent_apply(a, &d, PW_ORIGIN_CONFIG,
				       "removed from the config");
	}
}

static enum pw_xdp_mode xdp_mode(const struct pw_config *cfg)
{
	switch (cfg->agent.xdp_mode) {
	case PW_CFG_XDP_NATIVE:
		return PW_XDP_NATIVE;
	case PW_CFG_XDP_GENERIC:
		return PW_XDP_GENERIC;
	default:
		return PW_XDP_AUTO;
	}
}

static int open_datapaths(struct pw_agent *a)
{
	if (!pw_enforce_xdp(a->cfg.nft.enforce)) {
		log_info("enforce = \"nft\": no XDP program; the nftables "
			 "table carries every decision");
		/* A program a previous run left would keep enforcing
		 * decisions this run no longer makes. */
		for (size_t i = 0; i < a->cfg.n_interfaces; i++) {
			char pin[PW_PATH_MAX + IF_NAMESIZE + 2];

			snprintf(pin, sizeof(pin), "%s/%s",
				 a->cfg.agent.pin_root, a->cfg.interfaces[i]);
			pw_datapath_remove_leftover(a->cfg.interfaces[i], pin);
		}
		return 0;
	}
	for (size_t i = 0; i < a->cfg.n_interfaces; i++) {
		struct pw_iface *f = &a->ifaces[i];
		char pin[PW_PATH_MAX + IF_NAMESIZE + 2];
		struct pw_datapath_opts o = {.pin_dir = pin};
		int err;

		snprintf(f->name, sizeof(f->name), "%s", a->cfg.interfaces[i]);
		snprintf(pin, sizeof(pin), "%s/%s", a->cfg.agent.pin_root,
			 f->name);
		err = pw_datapath_load(&a->cfg, &o, &f->dp);
		if (err)
			return err;
		a->n_ifaces++;
		if (pw_datapath_adopted(f->dp))
			log_info("%s: adopted pinned maps from a previous run "
				 "(%s)",
				 f->name, pin);
		err = pw_datapath_attach(f->dp, f->name, xdp_mode(&a->cfg),
					 &f->xdp_mode);
		if (err)
			return err;
		f->rb = ring_buffer__new(pw_datapath_map_fd(f->dp, "attn"),
					 pw_agent_on_attention, a, NULL);
		if (!f->rb) {
			err = -errno;
			log_err("%s: attention ring: %s", f->name,
				strerror(-err));
			return err;
		}
		log_info("%s: XDP attached (%s mode), maps in %s", f->name,
			 f->xdp_mode, pin);
	}
	return 0;
}

int pw_agent_reload(struct pw_agent *a)
{
	struct pw_config fresh;
	int err;

	err = load_config(a->config_path, &fresh);
	if (err) {
		log_err("reload: %s is not valid; keeping the running config",
			a->config_path);
		return err;
	}
	if (fresh.n_interfaces != a->cfg.n_interfaces ||
	    memcmp(fresh.interfaces, a->cfg.interfaces,
		   sizeof(fresh.interfaces)) ||
	    memcmp(&fresh.maps, &a->cfg.maps, sizeof(fresh.maps)) ||
	    strcmp(fresh.agent.pin_root, a->cfg.agent.pin_root)) {
		log_err("reload: interfaces, map sizes and pin_root change "
			"only with a restart; keeping the running config");
		pw_config_free(&fresh);
		return -EINVAL;
	}
	/* A new watcher starts at the end of each file, so keep the running
	 * one unless the entries changed. */
	if (fresh.agent.n_logwatch != a->cfg.agent.n_logwatch ||
	    memcmp(fresh.agent.logwatch, a->cfg.agent.logwatch,
		   sizeof(fresh.agent.logwatch))) {
		struct pw_logwatch_set *lw = NULL;

		if (fresh.agent.n_logwatch &&
		    pw_logwatch_new(fresh.agent.logwatch,
				    fresh.agent.n_logwatch, &lw)) {
			log_err("reload: logwatch entries cannot be followed; "
				"keeping the running config");
			pw_config_free(&fresh);
			return -EINVAL;
		}
		pw_logwatch_free(a->logwatch);
		a->logwatch = lw;
	}
	if (fresh.tick_ms != a->cfg.tick_ms ||
	    memcmp(&fresh.scoring, &a->cfg.scoring, sizeof(fresh.scoring)) ||
	    fresh.agent.max_peers != a->cfg.agent.max_peers ||
	    strcmp(fresh.agent.control_socket, a->cfg.agent.control_socket) ||
	    strcmp(fresh.agent.report_socket, a->cfg.agent.report_socket) ||
	    strcmp(fresh.agent.metrics_listen, a->cfg.agent.metrics_listen))
		log_warn("reload: tick_ms, scoring, max_peers and socket or "
			 "metrics addresses change only with a restart; the "
			 "running values stay in force");
	fresh.tick_ms = a->cfg.tick_ms;
	fresh.scoring = a->cfg.scoring;
	fresh.agent.max_peers = a->cfg.agent.max_peers;
	memcpy(fresh.agent.control_socket, a->cfg.agent.control_socket,
	       sizeof(fresh.agent.control_socket));
	memcpy(fresh.agent.report_socket, a->cfg.agent.report_socket,
	       sizeof(fresh.agent.report_socket));
	memcpy(fresh.agent.metrics_listen, a->cfg.agent.metrics_listen,
	       sizeof(fresh.agent.metrics_listen));
	/* Posture set at runtime survives a reload. */
	fresh.agent.posture = pw_engine_posture(a->engine);
	for (size_t i = 0; i < a->n_ifaces; i++) {
		err = pw_datapath_reconfigure(a->ifaces[i].dp, &fresh);
		if (err)
			log_err("reload: %s: %s", a->ifaces[i].name,
				strerror(-err));
	}
	if (fresh.nft.enforce != a->cfg.nft.enforce ||
	    strcmp(fresh.nft.table, a->cfg.nft.table) ||
	    fresh.nft.n_mgmt != a->cfg.nft.n_mgmt ||
	    memcmp(fresh.nft.mgmt_ports, a->cfg.nft.mgmt_ports,
		   sizeof(fresh.nft.mgmt_ports))) {
		log_warn("reload: enforce, nft.table and emergency.mgmt_ports "
			 "change only with a restart; the running values stay "
			 "in force");
		fresh.nft.enforce = a->cfg.nft.enforce;
		memcpy(fresh.nft.table, a->cfg.nft.table,
		       sizeof(fresh.nft.table));
		memcpy(fresh.nft.mgmt_ports, a->cfg.nft.mgmt_ports,
		       sizeof(fresh.nft.mgmt_ports));
		fresh.nft.n_mgmt = a->cfg.nft.n_mgmt;
	}
	lift_dropped_config_bans(a, &fresh);
	pw_config_free(&a->cfg);
	a->cfg = fresh;
	pw_config_file_hash(a->config_path, a->config_hash);
	register_config_bans(a);
	pw_agent_nft_reconcile(a);
	pw_agent_sync_trusted(a);
	log_info("reload: %s applied (config %s)", a->config_path,
		 a->config_hash);
	return 0;
}

static int loop_init(struct loop *l)
{
	struct itimerspec its = {0};
	sigset_t mask;
	uint64_t tick_ns = (uint64_t)l->a->cfg.tick_ms * 1000000ull;

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	its.it_interval.tv_sec = (time_t)(tick_ns / 1000000000ull);
	its.it_interval.tv_nsec = (long)(tick_ns % 1000000000ull);
	its.it_value = its.it_interval;
	l->timer.kind = W_TIMER;
	l->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (l->timer.fd < 0 || timerfd_settime(l->timer.fd, 0, &its, NULL))
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	l->sig.kind = W_SIGNAL;
	l->sig.fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (l->sig.fd < 0)
		return -errno;
	l->ctl.kind = W_CTL_LISTEN;
	l->ctl.fd = pw_control_listen(l->a);
	if (l->ctl.fd < 0)
		return l->ctl.fd;
	l->report.kind = W_REPORT;
	l->report.fd = report_listen(l->a);
	if (l->report.fd < 0)
		return l->report.fd;
	if (watch_add(l, &l->timer) || watch_add(l, &l->sig) ||
	    watch_add(l, &l->ctl) || watch_add(l, &l->report))
		return -errno;
	/* Metrics are for people: failing to listen is logged (by
	 * pw_metrics_start) and the defense runs without them. */
	if (l->a->cfg.agent.metrics_listen[0] &&
	    !pw_metrics_start(l->a->cfg.agent.metrics_listen, l->a, &l->m)) {
		l->metrics.kind = W_METRICS;
		l->metrics.fd = pw_metrics_fd(l->m);
		if (watch_add(l, &l->metrics))
			return -errno;
	}
	return 0;
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;
	int err;

	if (read(l->sig.fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: reloading %s", l->a->config_path);
		pw_notify_reloading();
		err = pw_agent_reload(l->a);
		pw_notify_ready("%s; config %s",
				err ? "reload refused" : "reloaded",
				l->a->config_hash);
		return;
	}
	log_info("signal %u: stopping (the XDP program keeps enforcing)",
		 si.ssi_signo);
	l->a->running = false;
}

static void loop_run(struct loop *l)
{
	struct epoll_event evs[32];

	while (l->a->running) {
		int n = epoll_wait(l->epfd, evs, 32, -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n && l->a->running; i++) {
			struct watch *w = evs[i].data.ptr;
			uint64_t expirations;

			switch (w->kind) {
			case W_TIMER:
				if (read(w->fd, &expirations,
					 sizeof(expirations)) > 0)
					pw_agent_tick(l->a);
				clients_expire(l);
				pw_notify_watchdog();
				/* MHD's idle timeouts run only when it does. */
				if (l->m)
					pw_metrics_run(l->m);
				break;
			case W_SIGNAL:
				on_signal(l);
				break;
			case W_CTL_LISTEN:
				ctl_accept(l);
				break;
			case W_CTL_CLIENT:
				client_event(l, w, evs[i].events);
				break;
			case W_REPORT:
				report_read(l);
				break;
			case W_METRICS:
				pw_metrics_run(l->m);
				break;
			}
		}
	}
}

static void loop_close(struct loop *l)
{
	pw_metrics_stop(l->m);
	l->m = NULL;
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (l->clients[i])
			client_close(l, l->clients[i]);
	if (l->ctl.fd > 0) {
		close(l->ctl.fd);
		unlink(l->a->cfg.agent.control_socket);
	}
	if (l->report.fd > 0) {
		close(l->report.fd);
		unlink(l->a->cfg.agent.report_socket);
	}
	if (l->timer.fd > 0)
		close(l->timer.fd);
	if (l->sig.fd > 0)
		close(l->sig.fd);
	if (l->epfd > 0)
		close(l->epfd);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: peerwalld -c FILE [-f] [-v]\n"
		   "       peerwalld --check-config FILE\n");
}

static void agent_free(struct pw_agent *a)
{
	pw_evidence_stop(a);
	for (size_t i = 0; i < a->n_ifaces; i++) {
		ring_buffer__free(a->ifaces[i].rb);
		pw_datapath_close(a->ifaces[i].dp);
	}
	pw_logwatch_free(a->logwatch);
	pw_conns_free(a->conns);
	pw_sockdiag_close(a->sockdiag);
	pw_engine_free(a->engine);
	pw_bans_free(a->bans);
	pw_keytab_free(a->flagged);
	free(a->allowed);
	free(a->decisions);
	pw_config_free(&a->cfg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"verbose", no_argument, NULL, 'v'},
		{"check-config", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static struct pw_agent agent;
	struct pw_agent *a = &agent;
	struct loop l = {.a = a};
	bool foreground = false, verbose = false;
	const char *path = NULL;
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "c:fvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'C':
			return check_config(optarg);
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind < argc) {
		usage(stderr);
		return 2;
	}
	pw_log_init("peerwalld", verbose ? PW_LOG_DEBUG : PW_LOG_INFO,
		    !foreground);
	pw_log_libbpf(verbose);
	pw_evidence_start(a);
	snprintf(a->config_path, sizeof(a->config_path), "%s", path);
	if (load_config(path, &a->cfg))
		return 1;
	pw_config_file_hash(path, a->config_hash);
	a->start_ns = pw_agent_now_ns(a);
	a->running = true;
	a->engine = pw_engine_new(&a->cfg.scoring, a->cfg.agent.max_peers,
				  a->start_ns ^ (uint64_t)getpid());
	a->bans = pw_bans_new(PW_DEF_MAP_SANCTIONS * 2);
	a->flagged = pw_keytab_new(sizeof(struct pw_srckey), sizeof(uint32_t),
				   PW_AGENT_SOURCES_PER_TICK * 4);
	a->decisions = calloc(PW_AGENT_MAX_DECISIONS, sizeof(*a->decisions));
	if (!a->engine || !a->bans || !a->flagged || !a->decisions) {
		log_err("out of memory at start");
		goto cleanup;
	}
	pw_engine_set_posture(a->engine, a->cfg.agent.posture);
	if (a->cfg.agent.n_logwatch &&
	    pw_logwatch_new(a->cfg.agent.logwatch, a->cfg.agent.n_logwatch,
			    &a->logwatch)) {
		log_err("logwatch: cannot follow the configured logs");
		goto cleanup;
	}
	if (mkdir(a->cfg.agent.state_dir, 0700) && errno != EEXIST)
		log_warn("state dir %s: %s", a->cfg.agent.state_dir,
			 strerror(errno));
	if (open_datapaths(a))
		goto cleanup;
	register_config_bans(a);
	restore_state(a);
	if (pw_agent_nft_start(a) && a->cfg.nft.enforce == PW_ENFORCE_NFT) {
		log_err("enforce = \"nft\" and the nftables table cannot be "
			"set up: nothing would enforce; stopping");
		goto cleanup;
	}
	if (pw_agent_sync_trusted(a))
		goto cleanup;
	a->conns = pw_conns_new(a->cfg.src_prefix_v4, a->cfg.src_prefix_v6,
				PW_AGENT_CONN_SOURCES);
	if (!a->conns || pw_sockdiag_open(&a->sockdiag)) {
		log_err("sock_diag: cannot read established connections (%s); "
			"conns will read 0",
			strerror(errno));
		pw_conns_free(a->conns);
		a->conns = NULL;
	}
	/* The XDP flag and the nft rules follow the restored state (an
	 * adopted program may still carry the previous run's flag). */
	for (size_t i = 0; i < a->n_ifaces; i++)
		pw_datapath_set_emergency(a->ifaces[i].dp, a->emergency.on);
	if (a->emergency.on)
		log_warn("emergency mode restored from state (%s)",
			 a->emergency.until_unix_s ? "TTL running" : "no TTL");
	if (loop_init(&l)) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		goto cleanup;
	}
	log_info("peerwalld running: %zu interface(s), config %s (%s)",
		 a->n_ifaces, path, a->config_hash);
	pw_notify_init(a->cfg.tick_ms);
	pw_notify_ready("enforcing on %zu interface(s), config %s", a->n_ifaces,
			a->config_hash);
	loop_run(&l);
	pw_notify_stopping();
	status = 0;
	pw_agent_save_state(a);
	if (a->detach || a->cfg.agent.detach_on_exit) {
		for (size_t i = 0; i < a->n_ifaces; i++)
			pw_datapath_detach(a->ifaces[i].dp, a->ifaces[i].name);
		log_info("detached from every interface; pinned maps removed");
	}
	pw_agent_nft_stop(a, a->detach || a->cfg.nft.remove_on_exit);
cleanup:
	pw_agent_nft_stop(a, false);
	loop_close(&l);
	agent_free(a);
	return status;
}
