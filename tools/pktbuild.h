/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pktbuild.h - build one Ethernet frame from a small declarative spec.
 *
 * The datapath tests, the pcap generator and the benchmark all need frames
 * the XDP parser has opinions about: VLAN stacks, IPv4 options, fragments,
 * IPv6 extension chains, TCP flag mixes, and deliberately broken headers.
 * A spec names what the frame is; pw_pkt_build() writes it. Pure: no I/O,
 * no allocation, the caller owns the buffer.
 *
 * Lengths and the IPv4 header checksum are always right (unless a spec
 * overrides a length on purpose). TCP/UDP/ICMP checksums are computed for
 * unfragmented packets and left zero in fragments, where they would cover
 * bytes this frame does not carry.
 */
#ifndef PW_PKTBUILD_H
#define PW_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_PKT_VLAN_MAX 3  /* one more than the datapath looks through */
#define PW_PKT_EXT_MAX	12 /* IPv6 extension headers, past the parser's 8 */

/* The largest frame a spec can produce: Ethernet, every tag, an IPv6
 * header and a full 16-bit payload length. */
#define PW_PKT_MAX_BYTES (14 + 4 * PW_PKT_VLAN_MAX + 40 + 65535)

struct pw_pktspec {
	int family; /* AF_INET / AF_INET6 */
	/* Address strings; NULL picks documentation addresses,
	 * 192.0.2.1 -> 192.0.2.254 or 2001:db8::1 -> 2001:db8::fe. */
	const char *src, *dst;
	/* IPPROTO_TCP, _UDP, _ICMP and _ICMPV6 get an L4 header; anything
	 * else (IPPROTO_NONE, ...) is followed by the payload only. */
	uint8_t proto;
	uint16_t sport, dport; /* host order */
	uint8_t tcp_flags;     /* TH_SYN | TH_ACK ... (netinet/tcp.h) */
	/* 0 = 5; 6..15 add NOP options; 1..4 write that (invalid) value
	 * over a 20-byte header. */
	uint8_t tcp_doff;
	int n_vlans; /* 0..PW_PKT_VLAN_MAX tags, outermost first */
	uint16_t vlan_tpid[PW_PKT_VLAN_MAX]; /* 0x8100 or 0x88a8; 0 = 0x8100 */
	uint16_t vlan_id[PW_PKT_VLAN_MAX];   /* 12-bit VID */
	/* 0 = 5; 6..15 add options (NOPs, then EOL); 1..4 write that
	 * (invalid) value over a 20-byte header. */
	int ipv4_ihl;
	/* In 8-byte units. IPv4: the header field. IPv6: non-zero (or
	 * more_frags) adds a fragment header at the end of the chain unless
	 * ext_types already holds one. A non-first fragment carries no L4
	 * header, only payload. */
	uint16_t frag_off;
	bool more_frags; /* IPv4 MF / IPv6 M flag */
	/* IPv6 extension headers before L4, in order: IPPROTO_HOPOPTS,
	 * _ROUTING, _DSTOPTS (8 bytes each), _FRAGMENT (8), _AH (12). */
	int n_ext;
	uint8_t ext_types[PW_PKT_EXT_MAX];
	size_t payload_len; /* bytes after the L4 header */
	/* 0 = derived from family; e.g. 0x0806 for an ARP-typed frame (the
	 * IP packet still follows it, to show it is not looked at). */
	uint16_t ethertype_override;
	/* 0 = correct; else the IPv4 tot_len or IPv6 payload_len to write. */
	uint16_t l3_len_override;
};

/* Where the layers of a built frame start, for tests that cut frames. */
struct pw_pktlayout {
	size_t l3_off; /* first byte of the IP header (after the tags) */
	size_t l4_off; /* first byte after the IP header and extensions */
	size_t l4_end; /* first byte after the L4 header (= l4_off if none) */
	size_t len;    /* whole frame */
};

/* Write the frame described by spec into buf. Returns its length, -EINVAL
 * for a spec that cannot be built (bad family, address, tag count, IHL,
 * extension type, a datagram over 64 KiB), or -ENOSPC when buflen is too
 * small. layout (may be NULL) receives the layer offsets on success. */
int pw_pkt_build_layout(const struct pw_pktspec *spec, uint8_t *buf,
			size_t buflen, struct pw_pktlayout *layout);

/* pw_pkt_build_layout() without the layout. */
int pw_pkt_build(const struct pw_pktspec *spec, uint8_t *buf, size_t buflen);

#endif /* PW_PKTBUILD_H */
