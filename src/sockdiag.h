/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sockdiag.h - established TCP connections of this network namespace,
 * read from the kernel over NETLINK_SOCK_DIAG (inet_diag, via libmnl):
 * what `ss -tn state established` shows, without running ss.
 */
#ifndef PW_SOCKDIAG_H
#define PW_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

struct pw_sockdiag;

/* One established connection: the remote address (network order) and
 * the local port (host order). */
typedef void (*pw_sockdiag_cb)(void *arg, int family, const uint8_t *raddr,
			       uint16_t lport);

int pw_sockdiag_open(struct pw_sockdiag **out);
void pw_sockdiag_close(struct pw_sockdiag *d);

/* Dump IPv4 and IPv6 TCP sockets in ESTABLISHED and call cb for each
 * whose local port is one of ports[0..n) (n = 0: none). Returns the
 * number of connections reported or -errno. */
long pw_sockdiag_established(struct pw_sockdiag *d, const uint16_t *ports,
			     size_t n, pw_sockdiag_cb cb, void *arg);

#endif /* PW_SOCKDIAG_H */
