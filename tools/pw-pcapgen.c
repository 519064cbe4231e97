// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pw-pcapgen - writes the attack and baseline captures the tests replay.
 *
 * Each scenario is a set of streams (a source, a destination, a packet
 * shape and a rate); streams are merged by time into one Ethernet pcap with
 * nanosecond timestamps. Randomness (spoofed sources, rotated IPv6
 * interface IDs) comes from a seeded xorshift, so a scenario and a seed
 * always give the same bytes. Every address is inside 198.18.0.0/15 or
 * fd00::/8, the ranges our tests may use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_in.h"
#include "pktbuild.h"

#define GEN_T0_NS	(1700000000ull * 1000000000ull)
#define GEN_MAX_STREAMS 16
#define GEN_FRAME_MAX	2048

/* pcapng block types and the interface option for ns timestamps. */
#define PCAPNG_SHB		 0x0a0d0d0au
#define PCAPNG_IDB		 0x00000001u
#define PCAPNG_EPB		 0x00000006u
#define PCAPNG_BOM		 0x1a2b3c4du
#define PCAPNG_OPT_TSRESOL	 9
#define PCAPNG_LINKTYPE_ETHERNET 1

/* Output: classic pcap through libpcap, or pcapng written here (libpcap
 * reads pcapng but cannot write it). */
struct gen_out {
	struct pw_pcap_out *pcap;
	FILE *ng;
};

enum src_kind {
	SRC_FIXED,     /* always `src` */
	SRC_SPOOF_V4,  /* random host in 198.19.0.0/16 */
	SRC_ROTATE_V6, /* `src` /64 with a random interface ID */
};

struct stream {
	const char *name;
	struct pw_pktspec spec;
	enum src_kind kind;
	double rate_pps;
	double start_s, stop_s;
	uint64_t next_ns, interval_ns;
	uint64_t left; /* packets still to send: rate * duration */
	char addr[INET6_ADDRSTRLEN];
};

struct scenario {
	const char *name;
	const char *about;
	double default_seconds;
	void (*setup)(struct stream *s, int *n, double seconds);
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct stream tcp_stream(const char *name, const char *src,
				const char *dst, uint16_t dport, uint8_t flags,
				double rate_pps, double stop_s)
{
	struct stream s = {
		.name = name,
		.kind = SRC_FIXED,
		.rate_pps = rate_pps,
		.stop_s = stop_s,
	};

	s.spec.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	s.spec.src = src;
	s.spec.dst = dst;
	s.spec.proto = IPPROTO_TCP;
	s.spec.sport = 40000;
	s.spec.dport = dport;
	s.spec.tcp_flags = flags;
	s.spec.payload_len = flags & TH_SYN ? 0 : 100;
	return s;
}

static struct stream udp_stream(const char *name, const char *src,
				const char *dst, uint16_t dport,
				double rate_pps, double stop_s)
{
	struct stream s =
		tcp_stream(name, src, dst, dport, 0, rate_pps, stop_s);

	s.spec.proto = IPPROTO_UDP;
	s.spec.payload_len = 64;
	return s;
}

#define HOST_V4 "198.18.0.1"
#define HOST_V6 "fd00::1"
#define P2P_TCP 26656
#define P2P_UDP 30303

/* One flooding source per protocol among honest and trusted peers. */
static void setup_single_flood(struct stream *s, int *n, double secs)
{
	s[(*n)++] = tcp_stream("trusted", "198.18.1.10", HOST_V4, P2P_TCP,
			       TH_ACK | TH_PUSH, 5000, secs);
	for (int i = 0; i < 5; i++) {
		static const char *const honest[] = {
			"198.18.2.10", "198.18.2.11", "198.18.2.12",
			"198.18.2.13", "198.18.2.14"};
		s[(*n)++] = tcp_stream("honest", honest[i], HOST_V4, P2P_TCP,
				       TH_ACK | TH_PUSH, 100, secs);
	}
	s[(*n)++] = tcp_stream("attacker-tcp", "198.18.9.9", HOST_V4, P2P_TCP,
			       TH_ACK, 20000, secs);
	s[(*n)++] = udp_stream("attacker-udp", "198.18.9.10", HOST_V4, P2P_UDP,
			       20000, secs);
}

/* SYNs from random sources in 198.19.0.0/16, a trusted and an honest peer
 * opening connections alongside. */
static void setup_spoofed_syn(struct stream *s, int *n, double secs)
{
	struct stream f = tcp_stream("spoofed", "198.19.0.1", HOST_V4, P2P_TCP,
				     TH_SYN, 50000, secs);

	f.kind = SRC_SPOOF_V4;
	s[(*n)++] = f;
	s[(*n)++] = tcp_stream("trusted", "198.18.1.10", HOST_V4, P2P_TCP,
			       TH_SYN, 50, secs);
	s[(*n)++] = tcp_stream("honest", "198.18.2.10", HOST_V4, P2P_TCP,
			       TH_SYN, 5, secs);
}

/* One IPv6 attacker rotating interface IDs inside one /64. */
static void setup_v6_rotation(struct stream *s, int *n, double secs)
{
	struct stream f = tcp_stream("rotating", "fd00:66:1:2::1", HOST_V6,
				     P2P_TCP, TH_ACK, 10000, secs);

	f.kind = SRC_ROTATE_V6;
	s[(*n)++] = f;
	s[(*n)++] = tcp_stream("honest-v6", "fd00:77::10", HOST_V6, P2P_TCP,
			       TH_ACK | TH_PUSH, 100, secs);
	s[(*n)++] = tcp_stream("trusted-v6", "fd00:1::10", HOST_V6, P2P_TCP,
			       TH_ACK | TH_PUSH, 3000, secs);
}

/* A flood at ports nobody protects: must pass untouched. */
static void setup_unprotected(struct stream *s, int *n, double secs)
{
	s[(*n)++] = tcp_stream("web", "198.18.9.9", HOST_V4, 8080, TH_SYN,
			       10000, secs);
	s[(*n)++] = udp_stream("dns", "198.18.9.9", HOST_V4, 53, 10000, secs);
	s[(*n)++] = udp_stream("dns-v6", "fd00:66::9", HOST_V6, 53, 1000, secs);
}

static const struct scenario scenarios[] = {
	{"single-flood",
	 "TCP and UDP floods from two sources, honest and trusted peers", 3,
	 setup_single_flood},
	{"spoofed-syn",
	 "SYN flood from random sources in 198.19.0.0/16, peers connecting", 2,
	 setup_spoofed_syn},
	{"v6-rotation",
	 "IPv6 flood rotating addresses inside one /64, honest v6 peers", 2,
	 setup_v6_rotation},
	{"unprotected", "floods to unprotected ports (8080/tcp, 53/udp)", 1,
	 setup_unprotected},
};

static const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pw-pcapgen --scenario NAME --out FILE "
		   "[--seconds S] [--seed N] [--pcapng]\nscenarios:\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, "  %-14s %s (default %.0f s)\n", scenarios[i].name,
			scenarios[i].about, scenarios[i].default_seconds);
}

/* Pick this packet's source address for streams that vary it. */
static void stream_source(struct stream *s)
{
	struct in6_addr a6;
	uint32_t host;

	switch (s->kind) {
	case SRC_FIXED:
		return;
	case SRC_SPOOF_V4:
		/* 198.19.0.0/16, never .0 or .255 in the last octet */
		host = (uint32_t)(rng() % 0xffff);
		if ((host & 0xff) == 0 || (host & 0xff) == 0xff)
			host ^= 0x7f;
		snprintf(s->addr, sizeof(s->addr), "198.19.%u.%u", host >> 8,
			 host & 0xff);
		break;
	case SRC_ROTATE_V6:
		inet_pton(AF_INET6, "fd00:66:1:2::", &a6);
		for (int i = 8; i < 16; i++)
			a6.s6_addr[i] = (uint8_t)rng();
		inet_ntop(AF_INET6, &a6, s->addr, sizeof(s->addr));
		break;
	}
	s->spec.src = s->addr;
}

static void ng_put32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

/* Section header and one Ethernet interface with nanosecond stamps. */
static void ng_header(FILE *f)
{
	ng_put32(f, PCAPNG_SHB);
	ng_put32(f, 28);
	ng_put32(f, PCAPNG_BOM);
	ng_put32(f, 1);		  /* version 1.0 */
	ng_put32(f, 0xffffffffu); /* section length unknown (-1) */
	ng_put32(f, 0xffffffffu);
	ng_put32(f, 28);

	ng_put32(f, PCAPNG_IDB);
	ng_put32(f, 32);
	ng_put32(f, PCAPNG_LINKTYPE_ETHERNET); /* + reserved 16 bits */
	ng_put32(f, 0);			       /* snaplen: none */
	ng_put32(f, PCAPNG_OPT_TSRESOL | (1u << 16));
	ng_put32(f, 9); /* 10^-9 s, padded */
	ng_put32(f, 0); /* opt_endofopt */
	ng_put32(f, 32);
}

static void ng_packet(FILE *f, const struct pw_pcap_pkt *pkt)
{
	uint32_t padded = (pkt->caplen + 3) & ~3u;
	uint32_t len = 32 + padded;
	static const uint8_t zero[4];

	ng_put32(f, PCAPNG_EPB);
	ng_put32(f, len);
	ng_put32(f, 0); /* interface 0 */
	ng_put32(f, (uint32_t)(pkt->ts_ns >> 32));
	ng_put32(f, (uint32_t)pkt->ts_ns);
	ng_put32(f, pkt->caplen);
	ng_put32(f, pkt->wirelen);
	fwrite(pkt->data, 1, pkt->caplen, f);
	fwrite(zero, 1, padded - pkt->caplen, f);
	ng_put32(f, len);
}

static int out_open(struct gen_out *o, const char *path, bool pcapng)
{
	char err[256];
	int rc;

	memset(o, 0, sizeof(*o));
	if (pcapng) {
		o->ng = fopen(path, "wb");
		if (!o->ng) {
			rc = -errno;
			fprintf(stderr, "pw-pcapgen: %s: %s\n", path,
				strerror(errno));
			return rc;
		}
		ng_header(o->ng);
		return 0;
	}
	rc = pw_pcap_out_open(path, &o->pcap, err, sizeof(err));
	if (rc)
		fprintf(stderr, "pw-pcapgen: %s\n", err);
	return rc;
}

static void out_write(struct gen_out *o, const struct pw_pcap_pkt *pkt)
{
	if (o->ng)
		ng_packet(o->ng, pkt);
	else
		pw_pcap_out_write(o->pcap, pkt);
}

static int out_close(struct gen_out *o)
{
	int rc = 0;

	if (o->ng && fclose(o->ng))
		rc = -errno;
	pw_pcap_out_close(o->pcap);
	return rc;
}

static int generate(const struct scenario *sc, double secs, const char *out,
		    bool pcapng)
{
	struct stream st[GEN_MAX_STREAMS];
	struct gen_out w;
	uint8_t frame[GEN_FRAME_MAX];
	uint64_t written = 0;
	int n = 0, rc;

	memset(st, 0, sizeof(st));
	sc->setup(st, &n, secs);
	for (int i = 0; i < n; i++) {
		st[i].interval_ns = (uint64_t)llround(1e9 / st[i].rate_pps);
		st[i].left = (uint64_t)llround(st[i].rate_pps *
					       (st[i].stop_s - st[i].start_s));
		/* stagger the streams so they interleave */
		st[i].next_ns = GEN_T0_NS +
				(uint64_t)llround(st[i].start_s * 1e9) +
				(uint64_t)i * 997;
	}
	rc = out_open(&w, out, pcapng);
	if (rc)
		return rc;
	for (;;) {
		struct pw_pcap_pkt pkt = {0};
		struct stream *s = NULL;
		int len;

		for (int i = 0; i < n; i++) {
			if (!st[i].left)
				continue;
			if (!s || st[i].next_ns < s->next_ns)
				s = &st[i];
		}
		if (!s)
			break;
		stream_source(s);
		s->spec.sport = (uint16_t)(32768 + rng() % 28000);
		len = pw_pkt_build(&s->spec, frame, sizeof(frame));
		if (len < 0) {
			fprintf(stderr,
				"pw-pcapgen: stream %s: cannot build "
				"packet: %s\n",
				s->name, strerror(-len));
			out_close(&w);
			return len;
		}
		pkt.data = frame;
		pkt.caplen = pkt.wirelen = (uint32_t)len;
		pkt.ts_ns = s->next_ns;
		out_write(&w, &pkt);
		written++;
		s->next_ns += s->interval_ns;
		s->left--;
	}
	rc = out_close(&w);
	if (rc) {
		fprintf(stderr, "pw-pcapgen: %s: %s\n", out, strerror(-rc));
		return rc;
	}
	fprintf(stderr, "pw-pcapgen: %s: %llu packets, %.3f s -> %s\n",
		sc->name, (unsigned long long)written, secs, out);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"scenario", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},
		{"seconds", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, 'S'},
		{"pcapng", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const struct scenario *sc = NULL;
	const char *out = NULL;
	bool pcapng = false;
	double secs = 0;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "s:o:t:S:nh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			sc = find_scenario(optarg);
			if (!sc) {
				fprintf(stderr,
					"pw-pcapgen: unknown scenario '%s'\n",
					optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || !(secs > 0 && secs <= 600)) {
				fprintf(stderr,
					"pw-pcapgen: --seconds '%s': "
					"want 0 < S <= 600\n",
					optarg);
				return 2;
			}
			break;
		case 'S':
			rng_state = strtoull(optarg, &end, 0);
			if (*end || !rng_state) {
				fprintf(stderr,
					"pw-pcapgen: --seed '%s': want "
					"a non-zero integer\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			pcapng = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!sc || !out) {
		usage(stderr);
		return 2;
	}
	return generate(sc, secs > 0 ? secs : sc->default_seconds, out, pcapng)
		       ? 1
		       : 0;
}
