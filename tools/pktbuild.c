// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktbuild.c - Ethernet frames from a struct pw_pktspec (see pktbuild.h).
 *
 * Headers are written byte by byte in network order rather than through
 * the kernel's header structs: a spec may ask for values those structs'
 * users would never write (IHL 4, TCP data offset 3, a lying length), and
 * byte writes keep the builder free of alignment and bitfield questions.
 *
 * The frame is built in two passes: first every length is computed and
 * checked against the caller's buffer, then the bytes are written, so a
 * failed build never leaves half a frame behind a success code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "pktbuild.h"

#define ETH_HDR_BYTES	14
#define VLAN_TAG_BYTES	4
#define IPV4_HDR_BYTES	20
#define IPV4_IHL_MAX	15
#define IPV6_HDR_BYTES	40
#define IPV6_EXT_BYTES	8 /* hop-by-hop, routing, dstopts as we write them */
#define IPV6_FRAG_BYTES 8
#define IPV6_AH_BYTES	12 /* SPI + sequence, no ICV */
#define TCP_HDR_BYTES	20
#define TCP_DOFF_MAX	15
#define UDP_HDR_BYTES	8
#define ICMP_HDR_BYTES	8 /* echo request: type, code, sum, id, seq */
#define IP_LEN_MAX	65535u

#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

#define IPV4_MF		 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_FRAG_M	 0x0001
#define IPV6_OFFSET_MAX	 0x1fff

#define ICMP_ECHO_REQUEST    8
#define ICMPV6_ECHO_REQUEST  128
#define IPV6_OPT_PADN	     1
#define IPV6_RT_EXPERIMENTAL 253 /* RFC 4727: no routing semantics */

#define TTL_HOPS	 64
#define TCP_WINDOW_BYTES 65535

static const uint8_t mac_dst[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0, 0x01};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One's-complement sum of a byte run, folded later (RFC 1071). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the TCP/UDP/ICMPv6 pseudo-header for an upper-layer length. */
static uint32_t csum_pseudo(int family, const uint8_t *src, const uint8_t *dst,
			    uint8_t proto, size_t l4_len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t sum = 0;

	sum = csum_add(sum, src, alen);
	sum = csum_add(sum, dst, alen);
	sum += proto;
	sum += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
	return sum;
}

static bool ext_known(uint8_t type)
{
	return type == IPPROTO_HOPOPTS || type == IPPROTO_ROUTING ||
	       type == IPPROTO_DSTOPTS || type == IPPROTO_FRAGMENT ||
	       type == IPPROTO_AH;
}

static size_t ext_bytes(uint8_t type)
{
	if (type == IPPROTO_FRAGMENT)
		return IPV6_FRAG_BYTES;
	if (type == IPPROTO_AH)
		return IPV6_AH_BYTES;
	return IPV6_EXT_BYTES;
}

static void write_ext(uint8_t *p, uint8_t type, uint8_t next,
		      const struct pw_pktspec *spec)
{
	memset(p, 0, ext_bytes(type));
	p[0] = next;
	switch (type) {
	case IPPROTO_FRAGMENT:
		put16(p + 2, (uint16_t)(spec->frag_off << 3) |
				     (spec->more_frags ? IPV6_FRAG_M : 0));
		put32(p + 4, 0x70770001); /* identification */
		break;
	case IPPROTO_AH:
		/* Length in 4-byte units minus 2. */
		p[1] = IPV6_AH_BYTES / 4 - 2;
		put32(p + 4, 0x100); /* SPI */
		put32(p + 8, 1);     /* sequence */
		break;
	case IPPROTO_ROUTING:
		p[2] = IPV6_RT_EXPERIMENTAL;
		break;
	default: /* hop-by-hop, dstopts: one PadN filling the 6 bytes */
		p[2] = IPV6_OPT_PADN;
		p[3] = IPV6_EXT_BYTES - 4;
		break;
	}
}

static size_t l4_hdr_bytes(const struct pw_pktspec *spec)
{
	switch (spec->proto) {
	case IPPROTO_TCP:
		return spec->tcp_doff > 5 ? spec->tcp_doff * 4u : TCP_HDR_BYTES;
	case IPPROTO_UDP:
		return UDP_HDR_BYTES;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return ICMP_HDR_BYTES;
	default:
		return 0;
	}
}

/* L4 header at p (l4_len bytes of header + payload follow) and its
 * checksum when csum is set. */
static void write_l4(uint8_t *p, const struct pw_pktspec *spec, size_t hdr,
		     size_t l4_len, const uint8_t *src, const uint8_t *dst,
		     bool csum)
{
	uint32_t sum;

	switch (spec->proto) {
	case IPPROTO_TCP:
		put16(p, spec->sport);
		put16(p + 2, spec->dport);
		put32(p + 4, 0x10000000); /* sequence */
		put32(p + 8, spec->tcp_flags & 0x10 ? 0x20000000 : 0);
		p[12] = (spec->tcp_doff ? spec->tcp_doff : 5) << 4;
		p[13] = spec->tcp_flags;
		put16(p + 14, TCP_WINDOW_BYTES);
		memset(p + 16, 0, 4);
		memset(p + TCP_HDR_BYTES, 1 /* NOP */, hdr - TCP_HDR_BYTES);
		if (csum) {
			sum = csum_pseudo(spec->family, src, dst, spec->proto,
					  l4_len);
			put16(p + 16, csum_fold(csum_add(sum, p, l4_len)));
		}
		break;
	case IPPROTO_UDP:
		put16(p, spec->sport);
		put16(p + 2, spec->dport);
		put16(p + 4, (uint16_t)l4_len);
		put16(p + 6, 0);
		if (csum) {
			uint16_t c;

			sum = csum_pseudo(spec->family, src, dst, spec->proto,
					  l4_len);
			c = csum_fold(csum_add(sum, p, l4_len));
			/* Zero means "no checksum" on the wire. */
			put16(p + 6, c ? c : 0xffff);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p[0] = spec->proto == IPPROTO_ICMP ? ICMP_ECHO_REQUEST
						   : ICMPV6_ECHO_REQUEST;
		p[1] = 0;
		put16(p + 2, 0);
		put16(p + 4, spec->sport); /* identifier */
		put16(p + 6, 1);	   /* sequence */
		if (csum) {
			sum = spec->proto == IPPROTO_ICMPV6
				      ? csum_pseudo(spec->family, src, dst,
						    spec->proto, l4_len)
				      : 0;
			put16(p + 2, csum_fold(csum_add(sum, p, l4_len)));
		}
		break;
	default:
		break;
	}
}

int pw_pkt_build_layout(const struct pw_pktspec *spec, uint8_t *buf,
			size_t buflen, struct pw_pktlayout *layout)
{
	uint8_t src[16] = {0}, dst[16] = {0};
	uint8_t ext[PW_PKT_EXT_MAX + 1];
	size_t n_ext = 0, l3_off, l3_hdr, ext_len = 0, l4_hdr, l4_len, len;
	size_t ip_len, i;
	bool v4 = spec->family == AF_INET, nonfirst, has_frag = false;
	int ihl;
	uint16_t ethertype;
	uint8_t *p;

	if (!v4 && spec->family != AF_INET6)
		return -EINVAL;
	if (inet_pton(spec->family,
		      spec->src ? spec->src
		      : v4	? "192.0.2.1"
				: "2001:db8::1",
		      src) != 1 ||
	    inet_pton(spec->family,
		      spec->dst ? spec->dst
		      : v4	? "192.0.2.254"
				: "2001:db8::fe",
		      dst) != 1)
		return -EINVAL;
	if (spec->n_vlans < 0 || spec->n_vlans > PW_PKT_VLAN_MAX)
		return -EINVAL;
	if (spec->tcp_doff > TCP_DOFF_MAX)
		return -EINVAL;

	ihl = spec->ipv4_ihl ? spec->ipv4_ihl : 5;
	if (v4) {
		if (ihl < 1 || ihl > IPV4_IHL_MAX || spec->n_ext ||
		    spec->frag_off > IPV4_OFFSET_MASK)
			return -EINVAL;
		/* A lying IHL below 5 still gets a whole base header. */
		l3_hdr = ihl < 5 ? IPV4_HDR_BYTES : (size_t)ihl * 4;
		nonfirst = spec->frag_off != 0;
	} else {
		if (spec->ipv4_ihl || spec->n_ext < 0 ||
		    spec->n_ext > PW_PKT_EXT_MAX ||
		    spec->frag_off > IPV6_OFFSET_MAX)
			return -EINVAL;
		for (i = 0; i < (size_t)spec->n_ext; i++) {
			if (!ext_known(spec->ext_types[i]))
				return -EINVAL;
			has_frag |= spec->ext_types[i] == IPPROTO_FRAGMENT;
			ext[n_ext++] = spec->ext_types[i];
		}
		if (!has_frag && (spec->frag_off || spec->more_frags)) {
			ext[n_ext++] = IPPROTO_FRAGMENT;
			has_frag = true;
		}
		for (i = 0; i < n_ext; i++)
			ext_len += ext_bytes(ext[i]);
		l3_hdr = IPV6_HDR_BYTES;
		nonfirst = has_frag && spec->frag_off != 0;
	}

	/* A non-first fragment carries payload only. */
	l4_hdr = nonfirst ? 0 : l4_hdr_bytes(spec);
	l4_len = l4_hdr + spec->payload_len;
	if (spec->payload_len > IP_LEN_MAX)
		return -EINVAL;
	ip_len = (v4 ? l3_hdr : 0) + ext_len + l4_len;
	if (ip_len > IP_LEN_MAX)
		return -EINVAL;
	l3_off = ETH_HDR_BYTES + (size_t)spec->n_vlans * VLAN_TAG_BYTES;
	len = l3_off + l3_hdr + ext_len + l4_len;
	if (len > buflen)
		return -ENOSPC;

	/* Ethernet and tags: each type field names what follows it. */
	ethertype = spec->ethertype_override ? spec->ethertype_override
		    : v4		     ? ETHERTYPE_IPV4
					     : ETHERTYPE_IPV6;
	p = buf;
	memcpy(p, mac_dst, 6);
	memcpy(p + 6, mac_src, 6);
	p += 12;
	for (i = 0; i < (size_t)spec->n_vlans; i++) {
		put16(p,
		      spec->vlan_tpid[i] ? spec->vlan_tpid[i] : ETHERTYPE_VLAN);
		put16(p + 2, spec->vlan_id[i] & 0x0fff);
		p += VLAN_TAG_BYTES;
	}
	put16(p, ethertype);
	p += 2;

	if (v4) {
		uint16_t frag =
			spec->frag_off | (spec->more_frags ? IPV4_MF : 0);

		p[0] = 0x40 | ihl;
		p[1] = 0;
		put16(p + 2, spec->l3_len_override ? spec->l3_len_override
						   : (uint16_t)ip_len);
		put16(p + 4, 0x1234); /* identification */
		put16(p + 6, frag);
		p[8] = TTL_HOPS;
		p[9] = spec->proto;
		put16(p + 10, 0);
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		/* Options: NOPs, and an end-of-list in the last byte. */
		if (l3_hdr > IPV4_HDR_BYTES) {
			memset(p + IPV4_HDR_BYTES, 1, l3_hdr - IPV4_HDR_BYTES);
			p[l3_hdr - 1] = 0;
		}
		put16(p + 10, csum_fold(csum_add(0, p, l3_hdr)));
	} else {
		p[0] = 0x60;
		p[1] = p[2] = p[3] = 0; /* traffic class, flow label */
		put16(p + 4, spec->l3_len_override ? spec->l3_len_override
						   : (uint16_t)ip_len);
		p[6] = n_ext ? ext[0] : spec->proto;
		p[7] = TTL_HOPS;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
	}
	p += l3_hdr;
	for (i = 0; i < n_ext; i++) {
		write_ext(p, ext[i], i + 1 < n_ext ? ext[i + 1] : spec->proto,
			  spec);
		p += ext_bytes(ext[i]);
	}

	/* Payload first: the L4 checksum covers it. */
	for (i = 0; i < spec->payload_len; i++)
		p[l4_hdr + i] = (uint8_t)i;
	if (l4_hdr) {
		bool fragmented = v4 ? spec->more_frags : has_frag;

		write_l4(p, spec, l4_hdr, l4_len, src, dst, !fragmented);
	}

	if (layout) {
		layout->l3_off = l3_off;
		layout->l4_off = l3_off + l3_hdr + ext_len;
		layout->l4_end = layout->l4_off + l4_hdr;
		layout->len = len;
	}
	return (int)len;
}

int pw_pkt_build(const struct pw_pktspec *spec, uint8_t *buf, size_t buflen)
{
	return pw_pkt_build_layout(spec, buf, buflen, NULL);
}
