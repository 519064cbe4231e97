/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sockdiag.c - established TCP connections from inet_diag (sockdiag.h).
 *
 * One dump request per family (SOCK_DIAG_BY_FAMILY, states =
 * TCPF_ESTABLISHED); the local-port filter runs here, on the replies,
 * since the ports are few and a bytecode filter would have to be
 * rebuilt on every reload.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <libmnl/libmnl.h>

#include "sockdiag.h"

#define SOCKDIAG_BUF (64 * 1024)

struct pw_sockdiag {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char buf[SOCKDIAG_BUF];
};

struct dump_ctx {
	const uint16_t *ports;
	size_t n_ports;
	pw_sockdiag_cb cb;
	void *arg;
	long count;
};

int pw_sockdiag_open(struct pw_sockdiag **out)
{
	struct pw_sockdiag *d = calloc(1, sizeof(*d));
	int err;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!d->nl || mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		pw_sockdiag_close(d);
		return err;
	}
	d->portid = mnl_socket_get_portid(d->nl);
	d->seq = (uint32_t)time(NULL);
	*out = d;
	return 0;
}

void pw_sockdiag_close(struct pw_sockdiag *d)
{
	if (!d)
		return;
	if (d->nl)
		mnl_socket_close(d->nl);
	free(d);
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	uint16_t lport;
	size_t i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
		return MNL_CB_OK;
	if (m->idiag_state != TCP_ESTABLISHED ||
	    (m->idiag_family != AF_INET && m->idiag_family != AF_INET6))
		return MNL_CB_OK;
	lport = ntohs(m->id.idiag_sport);
	for (i = 0; i < c->n_ports; i++)
		if (c->ports[i] == lport)
			break;
	if (i == c->n_ports)
		return MNL_CB_OK;
	c->cb(c->arg, m->idiag_family, (const uint8_t *)m->id.idiag_dst, lport);
	c->count++;
	return MNL_CB_OK;
}

static int dump_family(struct pw_sockdiag *d, uint8_t family,
		       struct dump_ctx *c)
{
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	uint32_t seq = ++d->seq;
	ssize_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(d->buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << TCP_ESTABLISHED;
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(d->buf, (size_t)n, seq, d->portid, on_msg, c);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			/* IPv6 disabled in this kernel: no IPv6 sockets. */
			return errno == ENOENT && family == AF_INET6 ? 0
								     : -errno;
	}
}

long pw_sockdiag_established(struct pw_sockdiag *d, const uint16_t *ports,
			     size_t n, pw_sockdiag_cb cb, void *arg)
{
	struct dump_ctx c = {
		.ports = ports, .n_ports = n, .cb = cb, .arg = arg};
	int ret;

	if (!n)
		return 0;
	ret = dump_family(d, AF_INET, &c);
	if (!ret)
		ret = dump_family(d, AF_INET6, &c);
	return ret ? ret : c.count;
}
