/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - packet header parsing for the XDP program.
 *
 * One cursor walks Ethernet, up to two VLAN tags (802.1Q / 802.1ad), IPv4
 * (options, fragments) or IPv6 (a bounded walk over hop-by-hop, routing,
 * destination-options, fragment and AH headers), then TCP or UDP. Each step
 * checks its bytes against data_end before reading them, so a truncated
 * frame can only end the walk, never read past the packet.
 *
 * The result is a small struct pw_pkt: what the policy needs (family,
 * source address, L4 protocol, destination port, SYN, fragment position)
 * and nothing else.
 */
#ifndef PEERWALL_BPF_PARSE_H
#define PEERWALL_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define PW_VLAN_MAX	    2 /* tags we look through */
#define PW_IPV6_EXT_MAX	    8 /* extension headers we walk before giving up */
#define PW_IPV4_OFFSET	    0x1fff
#define PW_IPV6_FRAG_OFFSET 0xfff8

enum pw_parse_rc {
	PW_PARSE_OK = 0,    /* L4 known (or a non-first fragment) */
	PW_PARSE_NOT_IP,    /* nothing for us: passes untouched */
	PW_PARSE_NO_PORTS,  /* IP, but not TCP/UDP */
	PW_PARSE_MALFORMED, /* truncated or inconsistent headers */
};

struct pw_pkt {
	__u32 family;	    /* 0, 4 or 6 */
	__u32 l4proto;	    /* IPPROTO_* once known, else 0 */
	__u16 dport;	    /* host order, valid unless nonfirst_frag */
	__u8 is_syn;	    /* TCP SYN without ACK, whatever else is set */
	__u8 nonfirst_frag; /* fragment without L4 header */
	__u32 saddr4;	    /* network order */
	__u64 saddr6[2];    /* network order, as two words */
};

struct pw_cursor {
	void *pos;
	void *end;
};

struct pw_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Ethernet plus up to PW_VLAN_MAX tags; returns the inner ethertype (network
 * order) or -1 when the frame is too short. */
static __always_inline int pw_parse_eth(struct pw_cursor *c)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	proto = eth->h_proto;
	c->pos = eth + 1;

#pragma unroll
	for (int i = 0; i < PW_VLAN_MAX; i++) {
		struct pw_vlan_hdr *vh = c->pos;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > c->end)
			return -1;
		proto = vh->encap_proto;
		c->pos = vh + 1;
	}
	return proto;
}

/* TCP/UDP header at the cursor: destination port and the SYN bit. */
static __always_inline int pw_parse_l4(struct pw_cursor *c, struct pw_pkt *p)
{
	if (p->l4proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end || th->doff < 5)
			return PW_PARSE_MALFORMED;
		p->dport = bpf_ntohs(th->dest);
		p->is_syn = th->syn && !th->ack;
		return PW_PARSE_OK;
	}
	if (p->l4proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;

		if ((void *)(uh + 1) > c->end)
			return PW_PARSE_MALFORMED;
		p->dport = bpf_ntohs(uh->dest);
		return PW_PARSE_OK;
	}
	return PW_PARSE_NO_PORTS;
}

static __always_inline int pw_parse_ipv4(struct pw_cursor *c, struct pw_pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	p->family = 4;
	if ((void *)(iph + 1) > c->end)
		return PW_PARSE_MALFORMED;
	/* Known before the checks: a malformed packet's protocol decides
	 * the malformed policy. */
	p->l4proto = iph->protocol;
	if (iph->version != 4 || iph->ihl < 5)
		return PW_PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	if (bpf_ntohs(iph->tot_len) < hlen)
		return PW_PARSE_MALFORMED;
	if (c->pos + hlen > c->end)
		return PW_PARSE_MALFORMED;
	p->saddr4 = iph->saddr;
	c->pos += hlen;
	if (iph->frag_off & bpf_htons(PW_IPV4_OFFSET)) {
		p->nonfirst_frag = 1;
		return p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP
			       ? PW_PARSE_OK
			       : PW_PARSE_NO_PORTS;
	}
	return pw_parse_l4(c, p);
}

struct pw_ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct pw_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

static __always_inline int pw_parse_ipv6(struct pw_cursor *c, struct pw_pkt *p)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;

	p->family = 6;
	if ((void *)(ip6h + 1) > c->end)
		return PW_PARSE_MALFORMED;
	if (ip6h->version != 6)
		return PW_PARSE_MALFORMED;
	__builtin_memcpy(p->saddr6, &ip6h->saddr, sizeof(p->saddr6));
	nexthdr = ip6h->nexthdr;
	c->pos = ip6h + 1;

	/* PW_IPV6_EXT_MAX headers walked, plus one pass to hand over to L4. */
#pragma unroll
	for (int i = 0; i < PW_IPV6_EXT_MAX + 1; i++) {
		struct pw_ipv6_opt_hdr *oh = c->pos;
		struct pw_ipv6_frag_hdr *fh = c->pos;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(oh + 1) > c->end)
				return PW_PARSE_MALFORMED;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(oh + 1) > c->end)
				return PW_PARSE_MALFORMED;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(fh + 1) > c->end)
				return PW_PARSE_MALFORMED;
			nexthdr = fh->nexthdr;
			c->pos = fh + 1;
			if (fh->frag_off & bpf_htons(PW_IPV6_FRAG_OFFSET)) {
				p->l4proto = nexthdr;
				p->nonfirst_frag = 1;
				return nexthdr == IPPROTO_TCP ||
						       nexthdr == IPPROTO_UDP
					       ? PW_PARSE_OK
					       : PW_PARSE_NO_PORTS;
			}
			break;
		case IPPROTO_NONE:
			return PW_PARSE_NO_PORTS;
		default:
			p->l4proto = nexthdr;
			return pw_parse_l4(c, p);
		}
	}
	/* Longer chains than any sane sender uses: count, do not walk. */
	return PW_PARSE_MALFORMED;
}

static __always_inline int pw_parse(void *data, void *data_end,
				    struct pw_pkt *p)
{
	struct pw_cursor c = {.pos = data, .end = data_end};
	int proto = pw_parse_eth(&c);

	if (proto < 0)
		return PW_PARSE_MALFORMED;
	if (proto == bpf_htons(ETH_P_IP))
		return pw_parse_ipv4(&c, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pw_parse_ipv6(&c, p);
	return PW_PARSE_NOT_IP;
}

#endif /* PEERWALL_BPF_PARSE_H */
