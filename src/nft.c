// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nft.c - the `inet peerwall` nftables table over nfnetlink (libnftnl
 * builds the messages, libmnl carries them). nft(8) is never run.
 *
 * One change, one batch. Every public call that writes builds a single
 * NFNL_MSG_BATCH_BEGIN ... NFNL_MSG_BATCH_END buffer and sends it with one
 * sendmsg(); the kernel applies it as one transaction or rolls all of it
 * back. Replacing the table is therefore safe while packets flow:
 *
 *   kernel >= 6.3   DESTROYTABLE peerwall; NEWTABLE peerwall; ...
 *   older           NEWTABLE peerwall; DELTABLE peerwall; NEWTABLE ...
 *
 * (the second is nft's "flush" idiom: the first add makes the delete valid
 * when the table does not exist yet). Support for DESTROYTABLE is probed
 * at open with a batch that is always aborted, so the probe changes
 * nothing.
 *
 * Size. A batch must reach the kernel as one skb, so the buffer grows as
 * needed and SO_SNDBUFFORCE is raised to fit it (root only, which nft
 * needs anyway). What does have a hard limit is one message's element
 * list: NFTA_SET_ELEM_LIST_ELEMENTS is a netlink attribute with a 16-bit
 * length, so elements go out NFT_ELEMS_PER_MSG per NEWSETELEM message
 * (at most 36 bytes each for IPv6 with flags: 36 KiB < 64 KiB). 100k
 * trusted CIDRs are about 200 messages in one batch.
 *
 * Intervals. trusted_v4/v6 are interval sets (the kernel's rbtree): each
 * range is a start element and an end element (last + 1, flagged
 * INTERVAL_END; omitted when the range reaches the top of the address
 * space), preceded, as nft does, by an end marker at 0 when the first
 * range does not start there. Overlapping ranges are rejected by the
 * kernel, so CIDRs are first sorted and merged (pw_nft_merge_cidrs, pure).
 * Elements go out in ascending order, and must: after a flush, the 6.x
 * rbtree's overlap walk steps over the flushed elements, and in descending
 * order every insert walked all of them (100k: over ten minutes).
 *
 * Acks. Every message carries NLM_F_ACK; the kernel reports each one (in
 * order, after the commit or the abort) and with NETLINK_CAP_ACK an ack is
 * only a header, so the receive loop just waits for the last message's
 * ack, or a batch-level error (which carries the BEGIN sequence number).
 * The first error is kept with the label of the message that caused it and
 * the kernel's extended-ack text.
 *
 * Emergency rules live alone in our chain, so "off" is a chain flush and
 * "on" is flush + append: no rule handles to remember, and a restarted
 * agent needs nothing but the chain's rule count to know the state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "log.h"
#include "nft.h"

/* NFT_MSG_DESTROYTABLE (Linux 6.3): delete if it exists, no ENOENT.
 * Debian 12's UAPI headers predate it. */
#define NFT_MSG_DESTROYTABLE_ 26

/* nft's datatype ids (nftables' datatype.h); a concatenation's type is
 * the ids packed 6 bits each, first component highest. */
#define NFT_TYPE_IPADDR	       7
#define NFT_TYPE_IP6ADDR       8
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_INET_SERVICE  13
#define NFT_TYPE_BITS	       6
#define NFT_TYPE_PROTO_SERVICE                                                 \
	((NFT_TYPE_INET_PROTOCOL << NFT_TYPE_BITS) | NFT_TYPE_INET_SERVICE)
/* Each component of a concatenation takes whole 32-bit registers. */
#define PROTO_SERVICE_LEN 8
/* Header offsets the rules load from (th dport is at the same place in
 * TCP, UDP, SCTP and DCCP). */
#define TH_DPORT_OFF  offsetof(struct udphdr, uh_dport)
#define IP4_SADDR_OFF offsetof(struct ip, ip_src)
#define IP6_SADDR_OFF offsetof(struct ip6_hdr, ip6_src)

#define CHAIN_NAME     "prerouting"
#define SET_TRUSTED_V4 "trusted_v4"
#define SET_TRUSTED_V6 "trusted_v6"
#define SET_PROTECTED  "protected"
#define SET_MGMT       "mgmt"
#define COUNTER_NAME   "emergency_drops"
#define TABLE_COMMENT  "managed by peerwalld: edits are overwritten"
#define PROBE_TABLE    "peerwall-destroy-probe"
/* Set ids name the sets created in the same batch (NFTA_*_SET_ID). */
#define ID_TRUSTED_V4  1
#define ID_TRUSTED_V6  2
#define ID_PROTECTED   3
#define ID_MGMT	       4
#define ID_CONN_SRC_V4 5
#define ID_CONN_SRC_V6 6
#define ID_CONN_PFX_V4 7
#define ID_CONN_PFX_V6 8

/* Connection limits (ct count): a chain after conntrack on the input
 * path, one dynamic set per family and key width, one counter. */
#define CL_CHAIN_NAME	"connlimit"
#define CL_PRIORITY	0 /* NF_IP_PRI_FILTER: reject is allowed on input */
#define CL_COUNTER	"connlimit_rejects"
#define SET_CONN_SRC_V4 "conn_src_v4"
#define SET_CONN_SRC_V6 "conn_src_v6"
#define SET_CONN_PFX_V4 "conn_pfx_v4"
#define SET_CONN_PFX_V6 "conn_pfx_v6"
#define CT_STATE_NEW	0x8 /* NF_CT_STATE_BIT(IP_CT_NEW) */
#define CL_SET_SIZE	65535
/* Mirrored bans: sets with per-element timeouts, one counter, and a
 * chain just before the emergency chain (both before conntrack). */
#define BAN_CHAIN_NAME "bans"
#define BAN_COUNTER    "ban_drops"
#define SET_BAN_V4     "ban_v4"
#define SET_BAN_V6     "ban_v6"
#define ID_BAN_V4      9
#define ID_BAN_V6      10

#define NFT_ELEMS_PER_MSG 1024
/* Free space guaranteed before building any message: the largest is an
 * element message, NFT_ELEMS_PER_MSG * 36 bytes plus headers. */
#define NFT_MSG_ROOM   (64 * 1024)
#define NFT_BATCH_INIT (256 * 1024)
#define NFT_RECV_BUF   (64 * 1024)
/* Receive buffer per acked message (an ack skb's truesize, rounded up),
 * and the floor. */
#define NFT_ACK_TRUESIZE 2048
#define NFT_RCVBUF_MIN	 (1024 * 1024)
/* The kernel answers before sendmsg() returns; this only bounds a wait
 * for an answer that, by a bug, never comes. */
#define NFT_REPLY_TIMEOUT_MS 5000
#define NFT_ERRLEN	     256

struct pw_nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char table[PW_NFT_TABLE_MAXLEN];
	uint16_t mgmt[PW_MAX_MGMT_PORTS];
	size_t n_mgmt;
	int prio;
	bool has_destroy;
	bool emergency;
	struct pw_nft_connlimit cl;
	bool mirror; /* ban sets and chain (pw_nft_set_mirror_bans) */
	int sndbuf, rcvbuf;
	struct pw_nft_batch_stats last;
	char err[NFT_ERRLEN];
	char rbuf[NFT_RECV_BUF];
};

/* One interval-set or concatenation element, ready to send. */
struct nft_elem {
	uint8_t key[16];
	uint32_t flags;
	uint64_t timeout_ms; /* 0: none (sets with timeouts only) */
};

struct nft_batch {
	char *buf;
	size_t len, cap;
	uint32_t seq0;	     /* BEGIN's sequence number */
	uint32_t seq;	     /* the next one */
	const char **labels; /* per message, from seq0 */
	size_t n_labels, cap_labels;
	size_t elems;
	bool nomem;
};

static int nft_fail(struct pw_nft *n, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int nft_fail(struct pw_nft *n, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->err, sizeof(n->err), fmt, ap);
	va_end(ap);
	log_debug("nft: %s", n->err);
	return err;
}

/* --- pure helpers ---------------------------------------------------- */

static unsigned __int128 range_top(int family)
{
	return family == AF_INET ? (unsigned __int128)UINT32_MAX
				 : ~(unsigned __int128)0;
}

static unsigned __int128 addr_to_u128(int family, const uint8_t *addr)
{
	unsigned __int128 v = 0;
	unsigned i, len = family == AF_INET ? 4 : 16;

	for (i = 0; i < len; i++)
		v = v << 8 | addr[i];
	return v;
}

static void u128_to_addr(int family, unsigned __int128 v, uint8_t *addr)
{
	unsigned i, len = family == AF_INET ? 4 : 16;

	memset(addr, 0, 16);
	for (i = len; i-- > 0;) {
		addr[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int range_cmp(const void *a, const void *b)
{
	const struct pw_nft_range *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return 0;
}

size_t pw_nft_merge_cidrs(const struct pw_cidr *in, size_t n, int family,
			  struct pw_nft_range *out)
{
	unsigned __int128 top = range_top(family), host;
	unsigned bits = pw_family_bits(family);
	size_t i, k = 0, m;

	if (!bits)
		return 0;
	for (i = 0; i < n; i++) {
		if (in[i].family != family || in[i].prefixlen > bits)
			continue;
		host = in[i].prefixlen == bits ? 0 : top >> in[i].prefixlen;
		out[k].first = addr_to_u128(family, in[i].addr) & ~host & top;
		out[k].last = out[k].first | host;
		k++;
	}
	if (k < 2)
		return k;
	qsort(out, k, sizeof(*out), range_cmp);
	for (m = 0, i = 1; i < k; i++) {
		/* Overlapping or touching: extend; out[m].last == top
		 * already covers everything that follows. */
		if (out[m].last == top || out[i].first <= out[m].last + 1) {
			if (out[i].last > out[m].last)
				out[m].last = out[i].last;
			continue;
		}
		out[++m] = out[i];
	}
	return m + 1;
}

void pw_nft_range_addrs(const struct pw_nft_range *r, int family,
			uint8_t first[16], uint8_t last[16])
{
	u128_to_addr(family, r->first, first);
	u128_to_addr(family, r->last, last);
}

/* Interval elements for merged ranges, ascending; out needs 2 * n + 1
 * entries. */
static size_t ranges_to_elems(const struct pw_nft_range *r, size_t n,
			      int family, struct nft_elem *out)
{
	unsigned __int128 top = range_top(family);
	size_t i, k = 0;

	if (n && r[0].first != 0) {
		u128_to_addr(family, 0, out[k].key);
		out[k++].flags = NFT_SET_ELEM_INTERVAL_END;
	}
	for (i = 0; i < n; i++) {
		u128_to_addr(family, r[i].first, out[k].key);
		out[k++].flags = 0;
		if (r[i].last == top)
			continue;
		u128_to_addr(family, r[i].last + 1, out[k].key);
		out[k++].flags = NFT_SET_ELEM_INTERVAL_END;
	}
	return k;
}

static void proto_service_key(uint8_t proto, uint16_t port, uint8_t *key)
{
	uint16_t be = htons(port);

	memset(key, 0, 16);
	key[0] = proto;
	memcpy(key + 4, &be, sizeof(be));
}

static bool is_mgmt(const struct pw_nft *n, uint16_t port)
{
	size_t i;

	for (i = 0; i < n->n_mgmt; i++)
		if (n->mgmt[i] == port)
			return true;
	return false;
}

/* --- the batch buffer ------------------------------------------------ */

/* Sequence numbers restart well before they could wrap inside a batch
 * (acks are matched by range). */
#define NFT_SEQ_RESTART (UINT32_MAX - (1u << 24))

static void batch_init(struct nft_batch *b, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->seq0 = b->seq = seq < NFT_SEQ_RESTART ? seq : 1;
}

static void batch_free(struct nft_batch *b)
{
	free(b->buf);
	free(b->labels);
}

/* Room for the next message, or NULL (and b->nomem) when out of memory. */
static char *batch_room(struct nft_batch *b)
{
	size_t cap;
	char *p;

	if (b->nomem)
		return NULL;
	if (b->cap - b->len >= NFT_MSG_ROOM)
		return b->buf + b->len;
	cap = b->cap ? b->cap * 2 : NFT_BATCH_INIT;
	while (cap - b->len < NFT_MSG_ROOM)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p) {
		b->nomem = true;
		return NULL;
	}
	b->buf = p;
	b->cap = cap;
	return b->buf + b->len;
}

static bool batch_label(struct nft_batch *b, const char *label)
{
	const char **l;
	size_t cap;

	if (b->n_labels == b->cap_labels) {
		cap = b->cap_labels ? b->cap_labels * 2 : 64;
		l = realloc(b->labels, cap * sizeof(*l));
		if (!l) {
			b->nomem = true;
			return false;
		}
		b->labels = l;
		b->cap_labels = cap;
	}
	b->labels[b->n_labels++] = label;
	return true;
}

/* Start an nf_tables message in the batch; finish with batch_put(). */
static struct nlmsghdr *batch_msg(struct nft_batch *b, uint16_t type,
				  uint16_t flags, const char *label)
{
	char *p = batch_room(b);

	if (!p || !batch_label(b, label))
		return NULL;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags | NLM_F_ACK,
				     b->seq++);
}

static void batch_put(struct nft_batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void batch_begin(struct nft_batch *b)
{
	char *p = batch_room(b);

	if (!p || !batch_label(b, "batch"))
		return;
	batch_put(b, nftnl_batch_begin(p, b->seq++));
}

/* --- talking to the kernel ------------------------------------------- */

static const char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += mnl_nlmsg_get_payload_len(&e->msg);
	mnl_attr_for_each(a, nlh, off)
	{
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

static int grow_sockbuf(struct pw_nft *n, int opt, int opt_force, int *cur,
			size_t want)
{
	int fd = mnl_socket_get_fd(n->nl);
	int v;

	if (want > INT_MAX / 2)
		return -EMSGSIZE;
	if ((int)want <= *cur)
		return 0;
	v = (int)want;
	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
		return -errno;
	*cur = v;
	return 0;
}

/*
 * Send the batch (END is appended here) and read the acks. Returns 0 when
 * the kernel committed it, else the first error. When watch_seq is
 * non-zero, *watch_err gets that message's own result (for the probe).
 */
static int batch_send(struct pw_nft *n, struct nft_batch *b, uint32_t watch,
		      int *watch_err)
{
	uint32_t last = b->seq - 1, seq;
	struct pollfd pfd;
	int err = 0, ret;
	bool done = false;
	char *p;

	p = batch_room(b);
	if (!p || b->nomem)
		return nft_fail(n, -ENOMEM, "out of memory building a batch");
	batch_put(b, nftnl_batch_end(p, b->seq++));
	n->seq = b->seq;
	n->last.bytes = b->len;
	n->last.msgs = b->seq - b->seq0;
	n->last.elems = b->elems;

	/* +32: netlink_sendmsg() wants len <= sk_sndbuf - 32. */
	ret = grow_sockbuf(n, SO_SNDBUF, SO_SNDBUFFORCE, &n->sndbuf,
			   b->len + 64);
	if (ret == 0)
		ret = grow_sockbuf(n, SO_RCVBUF, SO_RCVBUFFORCE, &n->rcvbuf,
				   n->last.msgs * NFT_ACK_TRUESIZE);
	if (ret < 0)
		return nft_fail(n, ret,
				"socket buffer for a %zu-byte batch: %s",
				b->len, strerror(-ret));
	if (mnl_socket_sendto(n->nl, b->buf, b->len) < 0)
		return nft_fail(n, -errno, "sending a %zu-byte batch: %s",
				b->len, strerror(errno));

	pfd.fd = mnl_socket_get_fd(n->nl);
	pfd.events = POLLIN;
	while (!done) {
		const struct nlmsghdr *nlh;
		ssize_t len;
		int rem;

		ret = poll(&pfd, 1, NFT_REPLY_TIMEOUT_MS);
		if (ret == 0)
			return nft_fail(n, -ETIMEDOUT,
					"no answer to a batch from the kernel "
					"(outcome unknown)");
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return nft_fail(n, -errno, "poll: %s", strerror(errno));
		}
		len = mnl_socket_recvfrom(n->nl, n->rbuf, sizeof(n->rbuf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return nft_fail(n, -errno,
					"reading batch acks: %s (outcome "
					"unknown)",
					strerror(errno));
		}
		nlh = (const struct nlmsghdr *)n->rbuf;
		rem = (int)len;
		for (; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			const struct nlmsgerr *e;
			const char *why, *label;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			seq = nlh->nlmsg_seq;
			if (seq < b->seq0 || seq > last)
				continue; /* a stale answer */
			e = mnl_nlmsg_get_payload(nlh);
			if (seq == watch && watch_err)
				*watch_err = e->error;
			if (seq == last || seq == b->seq0)
				done = true;
			if (!e->error || err)
				continue;
			err = e->error;
			label = seq - b->seq0 < b->n_labels
					? b->labels[seq - b->seq0]
					: "?";
			why = extack_msg(nlh);
			nft_fail(n, err, "table %s: %s: %s%s%s", n->table,
				 label, strerror(-err), why ? ": " : "",
				 why ? why : "");
		}
	}
	return err;
}

typedef int (*nft_reply_cb)(const struct nlmsghdr *nlh, void *data);

/* A request outside any batch (a dump or a get): run cb per reply. */
static int nft_query(struct pw_nft *n, struct nlmsghdr *nlh, nft_reply_cb cb,
		     void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t len;
	int ret;

	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(n->nl, n->rbuf, sizeof(n->rbuf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ret = mnl_cb_run(n->rbuf, (size_t)len, seq, n->portid, cb,
				 data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* --- message builders ------------------------------------------------- */

static const char *table_label(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
		return "add table";
	case NFT_MSG_DELTABLE:
		return "delete table";
	case NFT_MSG_DESTROYTABLE_:
		return "destroy table";
	default:
		return "destroy probe (always rejected)";
	}
}

static int put_table(struct nft_batch *b, const char *name, uint16_t type,
		     uint16_t flags, bool comment)
{
	struct nftnl_udata_buf *ud = NULL;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	if (comment) {
		ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 8);
		if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT,
						 TABLE_COMMENT))
			goto out;
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA,
				     nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
	}
	nlh = batch_msg(b, type, flags, table_label(type));
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	batch_put(b, nlh);
	ret = 0;
out:
	nftnl_udata_buf_free(ud);
	nftnl_table_free(t);
	return ret;
}

/* Delete our table if it exists, as the first part of a batch. */
static int put_table_gone(struct pw_nft *n, struct nft_batch *b)
{
	int ret;

	if (n->has_destroy)
		return put_table(b, n->table, NFT_MSG_DESTROYTABLE_, 0, false);
	ret = put_table(b, n->table, NFT_MSG_NEWTABLE, NLM_F_CREATE, false);
	if (ret == 0)
		ret = put_table(b, n->table, NFT_MSG_DELTABLE, 0, false);
	return ret;
}

static int put_named_counter(struct pw_nft *n, struct nft_batch *b,
			     const char *name, uint64_t pkts, uint64_t bytes)
{
	struct nlmsghdr *nlh;
	struct nftnl_obj *o;

	o = nftnl_obj_alloc();
	if (!o)
		return -ENOMEM;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, n->table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, pkts);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, bytes);
	nlh = batch_msg(b, NFT_MSG_NEWOBJ, NLM_F_CREATE, "counter");
	if (nlh) {
		nftnl_obj_nlmsg_build_payload(nlh, o);
		batch_put(b, nlh);
	}
	nftnl_obj_free(o);
	return nlh ? 0 : -ENOMEM;
}

static int put_counter(struct pw_nft *n, struct nft_batch *b, uint64_t pkts,
		       uint64_t bytes)
{
	return put_named_counter(n, b, COUNTER_NAME, pkts, bytes);
}

static int put_set(struct pw_nft *n, struct nft_batch *b, const char *name,
		   uint32_t id, uint32_t key_type, uint32_t key_len,
		   uint32_t flags)
{
	struct nlmsghdr *nlh;
	struct nftnl_set *s;

	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, name);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		batch_put(b, nlh);
	}
	nftnl_set_free(s);
	return nlh ? 0 : -ENOMEM;
}

/*
 * Flush (when flush) and fill a set: a DELSETELEM naming only the set
 * empties it, then NEWSETELEM messages of at most NFT_ELEMS_PER_MSG
 * elements. id != 0 names a set created earlier in the same batch.
 */
static int put_elems_op(struct pw_nft *n, struct nft_batch *b, const char *set,
			uint32_t id, bool flush, const struct nft_elem *e,
			size_t count, uint32_t key_len, uint16_t type)
{
	struct nftnl_set_elem *el = NULL;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	size_t i, j, end;
	int ret = -ENOMEM;

	s = nftnl_set_alloc();
	el = nftnl_set_elem_alloc();
	if (!s || !el)
		goto out;
	/* A set without elements: its payload is just the set's name. */
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	if (id)
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	if (flush) {
		nlh = batch_msg(b, NFT_MSG_DELSETELEM, 0, set);
		if (!nlh)
			goto out;
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		batch_put(b, nlh);
	}
	for (i = 0; i < count; i = end) {
		end = i + NFT_ELEMS_PER_MSG < count ? i + NFT_ELEMS_PER_MSG
						    : count;
		nlh = batch_msg(b, type,
				type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
				set);
		if (!nlh)
			goto out;
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (j = i; j < end; j++) {
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e[j].key,
					   key_len);
			if (e[j].flags)
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS,
						       e[j].flags);
			else
				nftnl_set_elem_unset(el, NFTNL_SET_ELEM_FLAGS);
			if (e[j].timeout_ms)
				nftnl_set_elem_set_u64(el,
						       NFTNL_SET_ELEM_TIMEOUT,
						       e[j].timeout_ms);
			else
				nftnl_set_elem_unset(el,
						     NFTNL_SET_ELEM_TIMEOUT);
			nftnl_set_elem_nlmsg_build(nlh, el, (int)(j - i + 1));
		}
		mnl_attr_nest_end(nlh, nest);
		batch_put(b, nlh);
		b->elems += end - i;
	}
	ret = 0;
out:
	nftnl_set_elem_free(el);
	nftnl_set_free(s);
	return ret;
}

static int put_elems(struct pw_nft *n, struct nft_batch *b, const char *set,
		     uint32_t id, bool flush, const struct nft_elem *e,
		     size_t count, uint32_t key_len)
{
	return put_elems_op(n, b, set, id, flush, e, count, key_len,
			    NFT_MSG_NEWSETELEM);
}

/* A base chain of ours, policy accept. */
static int put_base_chain(struct pw_nft *n, struct nft_batch *b,
			  const char *name, uint32_t hook, int prio)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;

	c = nftnl_chain_alloc();
	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, name);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		batch_put(b, nlh);
	}
	nftnl_chain_free(c);
	return nlh ? 0 : -ENOMEM;
}

static int put_chain(struct pw_nft *n, struct nft_batch *b)
{
	return put_base_chain(n, b, CHAIN_NAME, NF_INET_PRE_ROUTING, n->prio);
}

/* Expressions: each adds one to r and returns false when out of memory. */
static bool add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return false;
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool x_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	}
	return add_expr(r, e);
}

static bool x_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
		      uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return add_expr(r, e);
}

static bool x_cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data,
		     uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(r, e);
}

static bool x_lookup(struct nftnl_rule *r, uint32_t sreg, const char *set,
		     uint32_t id, bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (id)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
		if (inv)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
					   NFT_LOOKUP_F_INV);
	}
	return add_expr(r, e);
}

static bool x_counter_ref(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc("objref");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE,
				   NFT_OBJECT_COUNTER);
		nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	}
	return add_expr(r, e);
}

static bool x_verdict(struct nftnl_rule *r, uint32_t verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	}
	return add_expr(r, e);
}

/* meta l4proto . th dport in REG32_00..01, looked up in set. A packet
 * without a transport header (a non-first fragment) ends the rule. */
static bool x_proto_service_in(struct nftnl_rule *r, const char *set,
			       uint32_t id)
{
	return x_meta(r, NFT_META_L4PROTO, NFT_REG32_00) &&
	       x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, TH_DPORT_OFF,
			 sizeof(uint16_t), NFT_REG32_01) &&
	       x_lookup(r, NFT_REG32_00, set, id, false);
}

enum emergency_rule { R_LOOPBACK, R_MGMT, R_DROP_V4, R_DROP_V6, R_COUNT };

static const char *const rule_comment[R_COUNT] = {
	[R_LOOPBACK] = "peerwall emergency: the host talking to itself",
	[R_MGMT] = "peerwall emergency: management ports are never dropped",
	[R_DROP_V4] = "peerwall emergency: protected ports, untrusted IPv4",
	[R_DROP_V6] = "peerwall emergency: protected ports, untrusted IPv6",
};

static bool build_rule(struct nftnl_rule *r, enum emergency_rule which,
		       bool new_sets)
{
	static const uint16_t loopback = ARPHRD_LOOPBACK;
	uint8_t nfproto = which == R_DROP_V4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint32_t id_prot = new_sets ? ID_PROTECTED : 0;
	bool v4 = which == R_DROP_V4;

	switch (which) {
	case R_LOOPBACK:
		return x_meta(r, NFT_META_IIFTYPE, NFT_REG32_00) &&
		       x_cmp_eq(r, NFT_REG32_00, &loopback, sizeof(loopback)) &&
		       x_verdict(r, NF_ACCEPT);
	case R_MGMT:
		return x_proto_service_in(r, SET_MGMT,
					  new_sets ? ID_MGMT : 0) &&
		       x_verdict(r, NF_ACCEPT);
	case R_DROP_V4:
	case R_DROP_V6:
		/* Cheapest test first: most packets are not for a
		 * protected port and leave at the first lookup. */
		return x_proto_service_in(r, SET_PROTECTED, id_prot) &&
		       x_meta(r, NFT_META_NFPROTO, NFT_REG32_00) &&
		       x_cmp_eq(r, NFT_REG32_00, &nfproto, sizeof(nfproto)) &&
		       x_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
				 v4 ? IP4_SADDR_OFF : IP6_SADDR_OFF,
				 v4 ? sizeof(struct in_addr)
				    : sizeof(struct in6_addr),
				 NFT_REG32_00) &&
		       x_lookup(r, NFT_REG32_00,
				v4 ? SET_TRUSTED_V4 : SET_TRUSTED_V6,
				new_sets ? (v4 ? ID_TRUSTED_V4 : ID_TRUSTED_V6)
					 : 0,
				true) &&
		       x_counter_ref(r, COUNTER_NAME) && x_verdict(r, NF_DROP);
	default:
		return false;
	}
}

/* Flush our chain, then (on) append the emergency rules. */
static int put_emergency(struct pw_nft *n, struct nft_batch *b, bool flush,
			 bool on, bool new_sets)
{
	struct nftnl_udata_buf *ud = NULL;
	struct nftnl_rule *r = NULL;
	struct nlmsghdr *nlh;
	int i, ret = -ENOMEM;

	if (flush) {
		r = nftnl_rule_alloc();
		if (!r)
			return -ENOMEM;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN_NAME);
		nlh = batch_msg(b, NFT_MSG_DELRULE, 0, "chain flush");
		if (!nlh)
			goto out;
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_put(b, nlh);
		nftnl_rule_free(r);
		r = NULL;
	}
	for (i = 0; on && i < R_COUNT; i++) {
		r = nftnl_rule_alloc();
		ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 8);
		if (!r || !ud)
			goto out;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN_NAME);
		if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT,
					  rule_comment[i]))
			goto out;
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA,
				    nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
		if (!build_rule(r, (enum emergency_rule)i, new_sets))
			goto out;
		nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
				"emergency rule");
		if (!nlh)
			goto out;
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_put(b, nlh);
		nftnl_rule_free(r);
		nftnl_udata_buf_free(ud);
		r = NULL;
		ud = NULL;
	}
	ret = 0;
out:
	nftnl_udata_buf_free(ud);
	if (r)
		nftnl_rule_free(r);
	return ret;
}

/* The trusted sets' elements for both families, from raw CIDRs. */
struct trusted_elems {
	struct nft_elem *v4, *v6;
	size_t n4, n6;
};

static int trusted_elems(const struct pw_cidr *c, size_t n,
			 struct trusted_elems *t)
{
	struct pw_nft_range *r;
	size_t nr;

	memset(t, 0, sizeof(*t));
	r = calloc(n ? n : 1, sizeof(*r));
	t->v4 = calloc(2 * n + 1, sizeof(*t->v4));
	t->v6 = calloc(2 * n + 1, sizeof(*t->v6));
	if (!r || !t->v4 || !t->v6) {
		free(r);
		free(t->v4);
		free(t->v6);
		return -ENOMEM;
	}
	nr = pw_nft_merge_cidrs(c, n, AF_INET, r);
	t->n4 = ranges_to_elems(r, nr, AF_INET, t->v4);
	nr = pw_nft_merge_cidrs(c, n, AF_INET6, r);
	t->n6 = ranges_to_elems(r, nr, AF_INET6, t->v6);
	free(r);
	return 0;
}

static void trusted_elems_free(struct trusted_elems *t)
{
	free(t->v4);
	free(t->v6);
}

/* --- queries ---------------------------------------------------------- */

static int count_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(size_t *)data;
	return MNL_CB_OK;
}

/* Rules in our chain: > 0 means emergency mode is on. */
static int chain_rules(struct pw_nft *n, size_t *count)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	int ret;

	*count = 0;
	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, n->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = nft_query(n, nlh, count_rule_cb, count);
	return ret == -ENOENT ? 0 : ret;
}

struct counter_vals {
	uint64_t pkts, bytes;
};

static int counter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counter_vals *v = data;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0) {
		v->pkts = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		v->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

static int read_named_counter(struct pw_nft *n, const char *name,
			      struct counter_vals *v)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nftnl_obj *o;

	memset(v, 0, sizeof(*v));
	o = nftnl_obj_alloc();
	if (!o)
		return -ENOMEM;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, n->table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET,
				    NLM_F_ACK, n->seq++);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	return nft_query(n, nlh, counter_cb, v);
}

static int read_counter(struct pw_nft *n, struct counter_vals *v)
{
	return read_named_counter(n, COUNTER_NAME, v);
}

/* --- connection limits ------------------------------------------------ */

static bool x_bitwise_mask(struct nftnl_rule *r, uint32_t reg, uint32_t len,
			   unsigned prefixlen)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint8_t mask[16] = {0}, zero[16] = {0};
	unsigned i;

	for (i = 0; i < len * 8 && i < prefixlen; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return add_expr(r, e);
}

/* ct state new: (ct state & new) != 0 */
static bool x_ct_state_new(struct nftnl_rule *r)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	static const uint32_t zero = 0;
	uint32_t mask = CT_STATE_NEW;
	struct nftnl_expr *bw, *cmp;

	if (ct) {
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG32_00);
	}
	if (!add_expr(r, ct))
		return false;
	bw = nftnl_expr_alloc("bitwise");
	if (bw) {
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG32_00);
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG32_00);
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
		nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask,
			       sizeof(mask));
		nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	}
	if (!add_expr(r, bw))
		return false;
	cmp = nftnl_expr_alloc("cmp");
	if (cmp) {
		nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG32_00);
		nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
		nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &zero, sizeof(zero));
	}
	return add_expr(r, cmp);
}

/* add @set { <key in reg> ct count over max } */
static bool x_dynset_connlimit(struct nftnl_rule *r, const char *set,
			       uint32_t id, uint32_t max)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");
	struct nftnl_expr *cl = nftnl_expr_alloc("connlimit");

	if (!e || !cl) {
		nftnl_expr_free(e);
		nftnl_expr_free(cl);
		return false;
	}
	nftnl_expr_set_u32(cl, NFTNL_EXPR_CONNLIMIT_COUNT, max);
	nftnl_expr_set_u32(cl, NFTNL_EXPR_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, id);
	nftnl_expr_add_expr(e, NFTNL_EXPR_DYNSET_EXPRESSIONS, cl);
	return add_expr(r, e);
}

static bool x_reject_tcp_reset(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
				   NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
	}
	return add_expr(r, e);
}

/* One connlimit rule: new TCP connections to a protected port from an
 * untrusted source whose key (address masked to prefixlen) already holds
 * max connections are reset and counted. */
static bool build_connlimit_rule(struct nftnl_rule *r, bool v4,
				 unsigned prefixlen, const char *set,
				 uint32_t set_id, uint32_t max)
{
	static const uint8_t tcp = IPPROTO_TCP;
	uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint32_t alen = v4 ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	uint32_t off = v4 ? IP4_SADDR_OFF : IP6_SADDR_OFF;

	return x_meta(r, NFT_META_L4PROTO, NFT_REG32_00) &&
	       x_cmp_eq(r, NFT_REG32_00, &tcp, sizeof(tcp)) &&
	       x_ct_state_new(r) &&
	       x_proto_service_in(r, SET_PROTECTED, ID_PROTECTED) &&
	       x_meta(r, NFT_META_NFPROTO, NFT_REG32_00) &&
	       x_cmp_eq(r, NFT_REG32_00, &nfproto, sizeof(nfproto)) &&
	       x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen,
			 NFT_REG32_00) &&
	       x_lookup(r, NFT_REG32_00, v4 ? SET_TRUSTED_V4 : SET_TRUSTED_V6,
			v4 ? ID_TRUSTED_V4 : ID_TRUSTED_V6, true) &&
	       x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen,
			 NFT_REG32_00) &&
	       (prefixlen >= alen * 8 ||
		x_bitwise_mask(r, NFT_REG32_00, alen, prefixlen)) &&
	       x_dynset_connlimit(r, set, set_id, max) &&
	       x_counter_ref(r, CL_COUNTER) && x_reject_tcp_reset(r);
}

static int put_rule(struct pw_nft *n, struct nft_batch *b, const char *chain,
		    struct nftnl_rule *r)
{
	struct nlmsghdr *nlh;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
			"connlimit rule");
	if (!nlh)
		return -ENOMEM;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_put(b, nlh);
	return 0;
}

/* The connlimit chain, its sets, counter and rules (only when a limit is
 * set), inside the reconcile batch (sets referenced by id). */
static int put_connlimit(struct pw_nft *n, struct nft_batch *b, uint64_t pkts,
			 uint64_t bytes)
{
	const struct pw_nft_connlimit *cl = &n->cl;
	struct {
		bool v4;
		unsigned prefixlen;
		const char *set;
		uint32_t id, max;
	} rules[4] = {
		{true, cl->src_v4, SET_CONN_SRC_V4, ID_CONN_SRC_V4,
		 cl->per_source},
		{false, cl->src_v6, SET_CONN_SRC_V6, ID_CONN_SRC_V6,
		 cl->per_source},
		{true, cl->pfx_v4, SET_CONN_PFX_V4, ID_CONN_PFX_V4,
		 cl->per_prefix},
		{false, cl->pfx_v6, SET_CONN_PFX_V6, ID_CONN_PFX_V6,
		 cl->per_prefix},
	};
	struct nlmsghdr *nlh;
	int ret, i;

	if (!cl->per_source && !cl->per_prefix)
		return 0;
	ret = put_named_counter(n, b, CL_COUNTER, pkts, bytes);
	if (ret)
		return ret;
	ret = put_base_chain(n, b, CL_CHAIN_NAME, NF_INET_LOCAL_IN,
			     CL_PRIORITY);
	if (ret)
		return ret;
	for (i = 0; i < 4; i++) {
		struct nftnl_set *s;
		struct nftnl_rule *r;

		if (!rules[i].max)
			continue;
		s = nftnl_set_alloc();
		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, rules[i].set);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
				  rules[i].v4 ? NFT_TYPE_IPADDR
					      : NFT_TYPE_IP6ADDR);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, rules[i].v4 ? 4 : 16);
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_EVAL);
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, CL_SET_SIZE);
		nftnl_set_set_u32(s, NFTNL_SET_ID, rules[i].id);
		nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, rules[i].set);
		if (nlh) {
			nftnl_set_nlmsg_build_payload(nlh, s);
			batch_put(b, nlh);
		}
		nftnl_set_free(s);
		if (!nlh)
			return -ENOMEM;
		r = nftnl_rule_alloc();
		if (!r)
			return -ENOMEM;
		ret = build_connlimit_rule(r, rules[i].v4, rules[i].prefixlen,
					   rules[i].set, rules[i].id,
					   rules[i].max)
			      ? put_rule(n, b, CL_CHAIN_NAME, r)
			      : -ENOMEM;
		nftnl_rule_free(r);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- mirrored bans ------------------------------------------------------ */

static bool build_ban_rule(struct nftnl_rule *r, bool v4)
{
	uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

	return x_proto_service_in(r, SET_PROTECTED, ID_PROTECTED) &&
	       x_meta(r, NFT_META_NFPROTO, NFT_REG32_00) &&
	       x_cmp_eq(r, NFT_REG32_00, &nfproto, sizeof(nfproto)) &&
	       x_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
			 v4 ? IP4_SADDR_OFF : IP6_SADDR_OFF,
			 v4 ? sizeof(struct in_addr) : sizeof(struct in6_addr),
			 NFT_REG32_00) &&
	       x_lookup(r, NFT_REG32_00, v4 ? SET_BAN_V4 : SET_BAN_V6,
			v4 ? ID_BAN_V4 : ID_BAN_V6, false) &&
	       x_counter_ref(r, BAN_COUNTER) && x_verdict(r, NF_DROP);
}

/* Ban sets, counter and chain inside the reconcile batch (the sets start
 * empty; the caller reloads the active bans). */
static int put_bans(struct pw_nft *n, struct nft_batch *b, uint64_t pkts,
		    uint64_t bytes)
{
	int ret, i;

	if (!n->mirror)
		return 0;
	ret = put_named_counter(n, b, BAN_COUNTER, pkts, bytes);
	if (!ret)
		ret = put_set(n, b, SET_BAN_V4, ID_BAN_V4, NFT_TYPE_IPADDR, 4,
			      NFT_SET_INTERVAL | NFT_SET_TIMEOUT);
	if (!ret)
		ret = put_set(n, b, SET_BAN_V6, ID_BAN_V6, NFT_TYPE_IP6ADDR, 16,
			      NFT_SET_INTERVAL | NFT_SET_TIMEOUT);
	if (ret)
		return ret;
	ret = put_base_chain(n, b, BAN_CHAIN_NAME, NF_INET_PRE_ROUTING,
			     n->prio - 1);
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		ret = build_ban_rule(r, i == 0)
			      ? put_rule(n, b, BAN_CHAIN_NAME, r)
			      : -ENOMEM;
		nftnl_rule_free(r);
		if (ret)
			return ret;
	}
	return 0;
}

void pw_nft_set_mirror_bans(struct pw_nft *n, bool on)
{
	n->mirror = on;
}

/* A ban's interval elements: [first, last + 1) with the timeout on the
 * start, after the "0 .. end" element nft sends before every interval
 * add. */
static size_t ban_elems(const struct pw_cidr *c, uint64_t timeout_ms, bool add,
			struct nft_elem out[3])
{
	struct pw_nft_range r;
	size_t k = 0;

	if (pw_nft_merge_cidrs(c, 1, c->family, &r) != 1)
		return 0;
	memset(out, 0, 3 * sizeof(*out));
	if (add && r.first != 0) {
		u128_to_addr(c->family, 0, out[k].key);
		out[k++].flags = NFT_SET_ELEM_INTERVAL_END;
	}
	u128_to_addr(c->family, r.first, out[k].key);
	out[k++].timeout_ms = add ? timeout_ms : 0;
	if (r.last != range_top(c->family)) {
		u128_to_addr(c->family, r.last + 1, out[k].key);
		/* The kernel takes no timeout on an interval's end. */
		out[k++].flags = NFT_SET_ELEM_INTERVAL_END;
	}
	return k;
}

static int ban_op(struct pw_nft *n, const struct pw_cidr *c,
		  uint64_t timeout_ms, bool add)
{
	struct nft_elem e[3];
	struct nft_batch b;
	size_t k;
	int ret;

	n->err[0] = '\0';
	if (!n->mirror)
		return 0;
	k = ban_elems(c, timeout_ms, add, e);
	if (!k)
		return -EINVAL;
	batch_init(&b, n->seq);
	batch_begin(&b);
	ret = put_elems_op(n, &b,
			   c->family == AF_INET ? SET_BAN_V4 : SET_BAN_V6, 0,
			   false, e, k, c->family == AF_INET ? 4 : 16,
			   add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	if (ret < 0)
		nft_fail(n, ret, "building the ban batch: %s", strerror(-ret));
	else
		ret = batch_send(n, &b, 0, NULL);
	batch_free(&b);
	return ret;
}

int pw_nft_ban(struct pw_nft *n, const struct pw_cidr *c, uint64_t timeout_ms)
{
	return ban_op(n, c, timeout_ms, true);
}

int pw_nft_unban(struct pw_nft *n, const struct pw_cidr *c)
{
	int ret = ban_op(n, c, 0, false);

	return ret == -ENOENT ? 0 : ret;
}

int pw_nft_ban_drops(struct pw_nft *n, uint64_t *packets)
{
	struct counter_vals v;
	int ret;

	*packets = 0;
	if (!n->mirror)
		return 0;
	ret = read_named_counter(n, BAN_COUNTER, &v);
	if (ret < 0)
		return nft_fail(n, ret, "table %s: reading counter %s: %s",
				n->table, BAN_COUNTER, strerror(-ret));
	*packets = v.pkts;
	return 0;
}

void pw_nft_set_connlimit(struct pw_nft *n, const struct pw_nft_connlimit *cl)
{
	n->cl = *cl;
}

int pw_nft_connlimit_rejects(struct pw_nft *n, uint64_t *packets)
{
	struct counter_vals v;
	int ret;

	n->err[0] = '\0';
	*packets = 0;
	if (!n->cl.per_source && !n->cl.per_prefix)
		return 0;
	ret = read_named_counter(n, CL_COUNTER, &v);
	if (ret < 0)
		return nft_fail(n, ret, "table %s: reading counter %s: %s",
				n->table, CL_COUNTER, strerror(-ret));
	*packets = v.pkts;
	return 0;
}

/*
 * Does this kernel take NFT_MSG_DESTROYTABLE? The batch holds a destroy of
 * PROBE_TABLE followed by a GETTABLE, which nfnetlink never accepts inside
 * a batch (-EINVAL): the batch is always aborted, so nothing is ever
 * deleted, and the destroy's own ack says whether it was understood. (Not
 * our own table: rolling back a destroy of 100k elements costs ~10 ms.)
 */
static int probe_destroy(struct pw_nft *n)
{
	int derr = 1, ret; /* 1: the destroy got no answer of its own */
	uint32_t seq_destroy;
	struct nft_batch b;

	batch_init(&b, n->seq);
	batch_begin(&b);
	seq_destroy = b.seq;
	ret = put_table(&b, PROBE_TABLE, NFT_MSG_DESTROYTABLE_, 0, false);
	if (ret == 0)
		ret = put_table(&b, PROBE_TABLE, NFT_MSG_GETTABLE, 0, false);
	if (ret == 0)
		ret = batch_send(n, &b, seq_destroy, &derr);
	batch_free(&b);
	if (ret == 0)
		return nft_fail(n, -EPROTO, "destroy probe was not aborted");
	if (derr == 1)
		return ret; /* refused whole (-EPERM...): n->err says why */
	n->err[0] = '\0';
	n->has_destroy = derr == 0;
	log_debug("nft: table replacement by %s",
		  n->has_destroy ? "destroy + add" : "add + delete + add");
	return 0;
}

/* --- public API ------------------------------------------------------- */

void pw_nft_opts_default(struct pw_nft_opts *o)
{
	static const uint16_t mgmt_default[] = {PW_DEF_MGMT_PORT};

	memset(o, 0, sizeof(*o));
	o->table = PW_DEF_NFT_TABLE;
	o->mgmt_ports = mgmt_default;
	o->n_mgmt = 1;
	o->hook_priority = PW_NFT_DEF_PRIORITY;
}

static bool table_name_ok(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len >= PW_NFT_TABLE_MAXLEN)
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

int pw_nft_open(const struct pw_nft_opts *o, struct pw_nft **out)
{
	struct pw_nft_opts def;
	struct pw_nft *n;
	socklen_t len;
	size_t i, rules;
	int ret, one = 1;

	*out = NULL;
	if (!o) {
		pw_nft_opts_default(&def);
		o = &def;
	}
	if (!o->table || !table_name_ok(o->table) ||
	    o->n_mgmt > PW_MAX_MGMT_PORTS)
		return -EINVAL;
	for (i = 0; o->mgmt_ports && i < o->n_mgmt; i++)
		if (!o->mgmt_ports[i])
			return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->table, sizeof(n->table), "%s", o->table);
	if (o->mgmt_ports) {
		memcpy(n->mgmt, o->mgmt_ports, o->n_mgmt * sizeof(*n->mgmt));
		n->n_mgmt = o->n_mgmt;
	} else {
		n->mgmt[0] = PW_DEF_MGMT_PORT;
		n->n_mgmt = 1;
	}
	n->prio = o->hook_priority;
	n->seq = 1;

	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	/* Acks without the echoed request, and the kernel's reason text. */
	mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* The kernel reports twice what was asked for: keep what to ask. */
	len = sizeof(n->sndbuf);
	if (getsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_SNDBUF,
		       &n->sndbuf, &len) == 0)
		n->sndbuf /= 2;
	ret = grow_sockbuf(n, SO_RCVBUF, SO_RCVBUFFORCE, &n->rcvbuf,
			   NFT_RCVBUF_MIN);
	if (ret < 0)
		goto fail;

	if (!o->legacy_replace) {
		ret = probe_destroy(n);
		if (ret < 0)
			goto fail;
	}
	ret = chain_rules(n, &rules);
	if (ret < 0)
		goto fail;
	n->emergency = rules > 0;
	*out = n;
	return 0;
fail:
	pw_nft_close(n);
	return ret;
}

void pw_nft_close(struct pw_nft *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n);
}

const char *pw_nft_last_error(const struct pw_nft *n)
{
	return n->err;
}

void pw_nft_last_batch(const struct pw_nft *n, struct pw_nft_batch_stats *st)
{
	*st = n->last;
}

bool pw_nft_emergency(const struct pw_nft *n)
{
	return n->emergency;
}

static int proto_cmp(const void *a, const void *b)
{
	const struct nft_elem *x = a, *y = b;

	return memcmp(x->key, y->key, PROTO_SERVICE_LEN);
}

/* @protected's elements: deduplicated, management ports left out. */
static int protected_elems(struct pw_nft *n, const struct pw_protect *p,
			   size_t np, struct nft_elem *e, size_t *ne)
{
	size_t i, k = 0, m;

	for (i = 0; i < np; i++) {
		if ((p[i].proto != IPPROTO_TCP && p[i].proto != IPPROTO_UDP) ||
		    !p[i].port)
			return nft_fail(n, -EINVAL,
					"protected port %u/%u: need tcp or udp "
					"and a port 1-65535",
					p[i].port, p[i].proto);
		if (is_mgmt(n, p[i].port)) {
			log_warn("nft: %s/%u is a management port: emergency "
				 "mode will not drop it",
				 p[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				 p[i].port);
			continue;
		}
		proto_service_key(p[i].proto, p[i].port, e[k].key);
		e[k++].flags = 0;
	}
	if (k > 1) {
		qsort(e, k, sizeof(*e), proto_cmp);
		for (m = 0, i = 1; i < k; i++)
			if (proto_cmp(&e[m], &e[i]))
				e[++m] = e[i];
		k = m + 1;
	}
	*ne = k;
	return 0;
}

int pw_nft_reconcile(struct pw_nft *n, const struct pw_protect *ports,
		     size_t n_ports, const struct pw_cidr *trusted,
		     size_t n_trusted)
{
	struct nft_elem *prot = NULL, mgmt[2 * PW_MAX_MGMT_PORTS] = {0};
	struct counter_vals ctr = {0, 0}, clctr = {0, 0}, banctr = {0, 0};
	struct trusted_elems t = {0};
	size_t n_prot = 0, i;
	struct nft_batch b;
	int ret;

	n->err[0] = '\0';
	batch_init(&b, n->seq);
	prot = calloc(n_ports ? n_ports : 1, sizeof(*prot));
	if (!prot) {
		ret = -ENOMEM;
		goto out;
	}
	ret = protected_elems(n, ports, n_ports, prot, &n_prot);
	if (ret < 0)
		goto out;
	for (i = 0; i < n->n_mgmt; i++) {
		proto_service_key(IPPROTO_TCP, n->mgmt[i], mgmt[2 * i].key);
		proto_service_key(IPPROTO_UDP, n->mgmt[i], mgmt[2 * i + 1].key);
		mgmt[2 * i].flags = mgmt[2 * i + 1].flags = 0;
	}
	ret = trusted_elems(trusted, n_trusted, &t);
	if (ret < 0)
		goto out;
	/* Carry the drop counter over the replacement (absent: zeros). */
	if (read_counter(n, &ctr) < 0)
		ctr.pkts = ctr.bytes = 0;
	if (read_named_counter(n, CL_COUNTER, &clctr) < 0)
		clctr.pkts = clctr.bytes = 0;
	if (read_named_counter(n, BAN_COUNTER, &banctr) < 0)
		banctr.pkts = banctr.bytes = 0;

	batch_begin(&b);
	ret = put_table_gone(n, &b);
	if (!ret)
		ret = put_table(&b, n->table, NFT_MSG_NEWTABLE, NLM_F_CREATE,
				true);
	if (!ret)
		ret = put_counter(n, &b, ctr.pkts, ctr.bytes);
	if (!ret)
		ret = put_set(n, &b, SET_TRUSTED_V4, ID_TRUSTED_V4,
			      NFT_TYPE_IPADDR, 4, NFT_SET_INTERVAL);
	if (!ret)
		ret = put_set(n, &b, SET_TRUSTED_V6, ID_TRUSTED_V6,
			      NFT_TYPE_IP6ADDR, 16, NFT_SET_INTERVAL);
	if (!ret)
		ret = put_set(n, &b, SET_PROTECTED, ID_PROTECTED,
			      NFT_TYPE_PROTO_SERVICE, PROTO_SERVICE_LEN, 0);
	if (!ret)
		ret = put_set(n, &b, SET_MGMT, ID_MGMT, NFT_TYPE_PROTO_SERVICE,
			      PROTO_SERVICE_LEN, 0);
	if (!ret)
		ret = put_elems(n, &b, SET_TRUSTED_V4, ID_TRUSTED_V4, false,
				t.v4, t.n4, 4);
	if (!ret)
		ret = put_elems(n, &b, SET_TRUSTED_V6, ID_TRUSTED_V6, false,
				t.v6, t.n6, 16);
	if (!ret)
		ret = put_elems(n, &b, SET_PROTECTED, ID_PROTECTED, false, prot,
				n_prot, PROTO_SERVICE_LEN);
	if (!ret)
		ret = put_elems(n, &b, SET_MGMT, ID_MGMT, false, mgmt,
				2 * n->n_mgmt, PROTO_SERVICE_LEN);
	if (!ret)
		ret = put_chain(n, &b);
	if (!ret)
		ret = put_emergency(n, &b, false, n->emergency, true);
	if (!ret)
		ret = put_connlimit(n, &b, clctr.pkts, clctr.bytes);
	if (!ret)
		ret = put_bans(n, &b, banctr.pkts, banctr.bytes);
	if (ret < 0) {
		nft_fail(n, ret, "building the table batch: %s",
			 strerror(-ret));
		goto out;
	}
	ret = batch_send(n, &b, 0, NULL);
out:
	batch_free(&b);
	trusted_elems_free(&t);
	free(prot);
	return ret;
}

int pw_nft_set_trusted(struct pw_nft *n, const struct pw_cidr *trusted,
		       size_t n_trusted)
{
	struct trusted_elems t;
	struct nft_batch b;
	int ret;

	n->err[0] = '\0';
	ret = trusted_elems(trusted, n_trusted, &t);
	if (ret < 0)
		return nft_fail(n, ret, "out of memory for %zu CIDRs",
				n_trusted);
	batch_init(&b, n->seq);
	batch_begin(&b);
	ret = put_elems(n, &b, SET_TRUSTED_V4, 0, true, t.v4, t.n4, 4);
	if (!ret)
		ret = put_elems(n, &b, SET_TRUSTED_V6, 0, true, t.v6, t.n6, 16);
	if (ret < 0)
		nft_fail(n, ret, "building the trusted batch: %s",
			 strerror(-ret));
	else
		ret = batch_send(n, &b, 0, NULL);
	batch_free(&b);
	trusted_elems_free(&t);
	return ret;
}

int pw_nft_set_emergency(struct pw_nft *n, bool on)
{
	struct nft_batch b;
	int ret;

	n->err[0] = '\0';
	batch_init(&b, n->seq);
	batch_begin(&b);
	ret = put_emergency(n, &b, true, on, false);
	if (ret < 0)
		nft_fail(n, ret, "building the emergency batch: %s",
			 strerror(-ret));
	else
		ret = batch_send(n, &b, 0, NULL);
	batch_free(&b);
	if (ret == 0)
		n->emergency = on;
	return ret;
}

void pw_nft_want_emergency(struct pw_nft *n, bool on)
{
	n->emergency = on;
}

int pw_nft_emergency_counters(struct pw_nft *n, uint64_t *packets,
			      uint64_t *bytes)
{
	struct counter_vals v;
	int ret;

	n->err[0] = '\0';
	ret = read_counter(n, &v);
	if (ret < 0)
		return nft_fail(n, ret, "table %s: reading counter %s: %s",
				n->table, COUNTER_NAME, strerror(-ret));
	*packets = v.pkts;
	*bytes = v.bytes;
	return 0;
}

int pw_nft_remove(struct pw_nft *n)
{
	struct nft_batch b;
	int ret;

	n->err[0] = '\0';
	batch_init(&b, n->seq);
	batch_begin(&b);
	ret = put_table_gone(n, &b);
	if (ret < 0)
		nft_fail(n, ret, "building the removal batch: %s",
			 strerror(-ret));
	else
		ret = batch_send(n, &b, 0, NULL);
	batch_free(&b);
	if (ret == 0)
		n->emergency = false;
	return ret;
}
