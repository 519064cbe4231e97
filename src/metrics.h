/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the Prometheus endpoint: GET /metrics on metrics.listen.
 *
 * Served by libmicrohttpd in "external epoll" mode: no thread of its own.
 * The agent adds pw_metrics_fd() to its epoll set and calls
 * pw_metrics_run() when it is readable and once per tick (MHD's connection
 * timeouts are only honoured when it runs). The exposition text is built
 * by pw_metrics_render(), which only reads the agent and its datapaths, so
 * tests can render a hand-built agent without a server or BPF.
 * Metric names, labels and meanings: docs/metrics.md.
 */
#ifndef PW_METRICS_H
#define PW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct pw_agent;
struct pw_metrics;

/* Content type of the text exposition format. */
#define PW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "IPv4:port" or "[IPv6]:port" -> a socket address, exactly that address
 * (never a wildcard unless the string says so). Port 0 is accepted here
 * (the kernel picks one, for tests); the config refuses it. 0 or -EINVAL. */
int pw_metrics_parse_listen(const char *listen, struct sockaddr_storage *ss,
			    socklen_t *len);

/* Bind listen and start serving /metrics for agent a. 0, -EINVAL for a
 * listen string that does not parse (or is ""), or -errno from socket(),
 * bind() (-EADDRINUSE, -EADDRNOTAVAIL) or listen(); -EIO when MHD refuses
 * to start. Errors are logged. */
int pw_metrics_start(const char *listen, struct pw_agent *a,
		     struct pw_metrics **out);

/* MHD's epoll fd: add it (EPOLLIN) to the agent's epoll set. */
int pw_metrics_fd(const struct pw_metrics *m);

/* The port actually bound (the one asked for, or the kernel's pick). */
uint16_t pw_metrics_port(const struct pw_metrics *m);

/* Accept, read, answer, time out idle connections; never blocks. Call when
 * the fd is readable and once per tick. */
void pw_metrics_run(struct pw_metrics *m);

/* Close every connection and the listening socket. NULL is fine. */
void pw_metrics_stop(struct pw_metrics *m);

/* The exposition text for the agent's current state, NUL-terminated,
 * malloc'd (*text, caller frees; *len excludes the NUL). Reads the agent,
 * its engine, its ban registry and its datapaths' counters; no other I/O.
 * Works with a->n_ifaces == 0 (datapath families are then all zero).
 * 0, -ENOMEM, or -errno when a datapath's counters cannot be read (no
 * partial sums: a counter must never appear to go backwards); failures
 * are logged. */
int pw_metrics_render(const struct pw_agent *a, char **text, size_t *len);

#endif /* PW_METRICS_H */
