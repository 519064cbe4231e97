// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dp_invariants.c - the real XDP object against its invariants, on packets
 * from a seeded random generator that knows what it built.
 *
 *   dp_invariants [--packets N] [--seed S] [--verbose]
 *
 * Each packet is built layer by layer from random choices: Ethernet with
 * 0-3 VLAN tags (802.1Q / 802.1ad), IPv4 (random IHL and options, version,
 * total length, fragment fields, protocol) or IPv6 (random chains of
 * hop-by-hop, routing, destination-options, fragment and AH headers, up to
 * past the parser's limit of 8), TCP (random flags and data offset) or UDP
 * or another protocol, random payload; some frames are cut at a random
 * offset, some are other ethertypes, some are random bytes altogether.
 * Sources come from a trusted CIDR, a banned CIDR, a banned source key or
 * elsewhere; destination ports are protected or not.
 *
 * Ground truth. While building, the generator records the parser's path
 * through the frame as a list of steps, each "the parser needs the frame
 * to reach byte B here (else malformed, with L4 protocol P known or 0)"
 * or "this header is inconsistent (malformed, P)", ending in what the
 * parser finds: not IP, IP without ports, or TCP/UDP (port, SYN, non-first
 * fragment). The rules are bpf/parse.h's, restated here:
 *   - Ethernet needs 14 bytes and 4 more per VLAN tag it looks through
 *     (two at most); a third tag is an unknown ethertype: not IP.
 *   - IPv4 needs 20 bytes before anything is read (malformed with no
 *     protocol), then version 4, IHL >= 5, total length >= IHL * 4, and
 *     IHL * 4 bytes (malformed with the header's protocol). A non-zero
 *     fragment offset ends the walk (no ports). The total length is never
 *     compared with the frame.
 *   - IPv6 needs 40 bytes and version 6 (malformed, no protocol). Each
 *     extension header needs 2 bytes (8 for a fragment header) before its
 *     length is read (malformed, no protocol); the walk takes at most 8
 *     extension headers, a 9th is malformed (no protocol); a fragment
 *     header with a non-zero offset ends it (no ports); No Next Header
 *     means no ports.
 *   - TCP needs 20 bytes and a data offset >= 5, UDP 8 bytes (malformed,
 *     protocol known). Bytes past those (options, payload) are never
 *     needed, so a frame cut inside TCP options still has its port.
 * A frame cut at byte T takes the first step whose need is beyond T.
 *
 * Invariants, checked after every packet:
 *   - the test run succeeds and the verdict is XDP_PASS or XDP_DROP, and
 *     is what the program recorded for the replay report;
 *   - the reason is the one the ground truth says: malformed, untracked
 *     (not IP, no ports, unprotected port), trusted, emergency, banned;
 *     for other sources pass or a bucket drop (a SYN bucket only for a
 *     SYN); so traffic from a trusted CIDR and to unprotected ports is
 *     never dropped, a banned source never passes to a protected port,
 *     and in emergency mode only trusted and unprotected traffic passes
 *     (and malformed traffic under the "pass" policy: its port cannot be
 *     read, so the malformed policy decides, as docs/design.md says);
 *   - a malformed packet is dropped exactly when the policy is "drop" and
 *     its protocol (when known) has protected ports;
 *   - the counter of the packet's reason went up by exactly one; and at
 *     the end of every phase (and every 65536 packets) every per-reason
 *     counter equals the packets given that reason, they sum to the
 *     packets sent (bytes too), and malformed_dropped to the malformed
 *     drops seen.
 * Random-byte frames have no ground truth: for them only the verdict,
 * the reason/verdict agreement and the emergency rule are checked.
 *
 * Phases: two protected-port sets (TCP and UDP ports; TCP ports only, so
 * UDP has no protected port) x malformed policy pass / drop x emergency
 * off / on, N/8 packets each, on one datapath per port set. Same seed,
 * same packets: a failure prints the seed, phase, packet index, ground
 * truth and frame.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <peerwall/abi.h>

#include "cidr.h"
#include "config.h"
#include "datapath.h"
#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define START_NS	 (1000ull * 1000000000ull)
#define FRAME_MAX	 1600 /* test-run refuses frames near a page */
#define ETH_HLEN_BYTES	 14
#define CHECK_ALL_EVERY	 65536
#define MAX_REPORTS	 20
#define PARSER_VLAN_MAX	 2 /* PW_VLAN_MAX in bpf/parse.h */
#define PARSER_EXT_MAX	 8 /* PW_IPV6_EXT_MAX in bpf/parse.h */
#define MAX_STEPS	 64
#define N_PHASES	 8
#define DEFAULT_PACKETS	 200000
#define TPID_8021Q	 0x8100
#define TPID_8021AD	 0x88a8
#define ETHERTYPE_IPV4	 0x0800
#define ETHERTYPE_IPV6	 0x86dd
#define IPPROTO_NONE_HDR 59

#define PORT_TCP  26656
#define PORT_BOTH 30303
#define PORT_UDP  9000

/* --- random ----------------------------------------------------------------
 */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* True with probability pct/100. */
static bool chance(unsigned pct)
{
	return below(100) < pct;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* --- setup -----------------------------------------------------------------
 */

static const struct pw_protect protect_both[] = {
	{IPPROTO_TCP, PORT_TCP},
	{IPPROTO_TCP, PORT_BOTH},
	{IPPROTO_UDP, PORT_BOTH},
	{IPPROTO_UDP, PORT_UDP},
};
static const struct pw_protect protect_tcp[] = {
	{IPPROTO_TCP, PORT_TCP},
	{IPPROTO_TCP, PORT_BOTH},
};

static const char *const trusted_s[] = {"198.18.1.0/24", "fd00:1::/48"};
static const char *const bans_s[] = {"198.18.2.0/24", "fd00:2::/48"};
/* Exactly as wide as the source key: these go to the sanction table. */
static const char *const key_bans_s[] = {"198.18.3.7/32", "fd00:3:0:7::/64"};
/* A level, not a ban: changes buckets only. */
static const char *const quarantined_s[] = {"198.18.4.4/32", "fd00:4:0:4::/64"};

static struct pw_cidr trusted[2], bans[2], key_bans[2], quarantined[2];

static void cidr_or_die(const char *s, struct pw_cidr *out)
{
	char err[128];

	if (pw_cidr_parse(s, out, err, sizeof(err))) {
		fprintf(stderr, "dp_invariants: %s: %s\n", s, err);
		exit(2);
	}
}

/* Tight enough that buckets drop (the clock moves 1 ms per packet). */
static const struct pw_limit lim_src = {20, 20, 5, 5, 0};
static const struct pw_limit lim_quar = {2, 2, 1, 1, 0};
static const struct pw_limit lim_prefix = {10, 10, 4, 4, 0};
static const struct pw_limit lim_global = {30, 30, 10, 10, 0};

struct phase {
	const struct pw_protect *protect;
	size_t n_protect;
	enum pw_malformed_policy malformed;
	bool emergency;
	const char *name;
};

static const struct phase phases[N_PHASES] = {
	{protect_both, 4, PW_MALFORMED_PASS, false, "tcp+udp/pass/normal"},
	{protect_both, 4, PW_MALFORMED_PASS, true, "tcp+udp/pass/emergency"},
	{protect_both, 4, PW_MALFORMED_DROP, false, "tcp+udp/drop/normal"},
	{protect_both, 4, PW_MALFORMED_DROP, true, "tcp+udp/drop/emergency"},
	{protect_tcp, 2, PW_MALFORMED_PASS, false, "tcp/pass/normal"},
	{protect_tcp, 2, PW_MALFORMED_PASS, true, "tcp/pass/emergency"},
	{protect_tcp, 2, PW_MALFORMED_DROP, false, "tcp/drop/normal"},
	{protect_tcp, 2, PW_MALFORMED_DROP, true, "tcp/drop/emergency"},
};

static void config_for(const struct phase *ph, struct pw_config *cfg)
{
	pw_config_defaults(cfg);
	cfg->protect = (struct pw_protect *)ph->protect;
	cfg->n_protect = ph->n_protect;
	cfg->trusted = trusted;
	cfg->n_trusted = ARRAY_SIZE(trusted);
	cfg->bans = bans;
	cfg->n_bans = ARRAY_SIZE(bans);
	cfg->maps = (struct pw_map_sizes){4096, 4096, 1024, 1024};
	cfg->malformed = ph->malformed;
	cfg->source = lim_src;
	cfg->quarantine = lim_quar;
	cfg->prefix = lim_prefix;
	cfg->untrusted = lim_global;
}

static bool port_protected(const struct phase *ph, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < ph->n_protect; i++)
		if (ph->protect[i].proto == proto &&
		    ph->protect[i].port == port)
			return true;
	return false;
}

static bool proto_has_ports(const struct phase *ph, uint8_t proto)
{
	for (size_t i = 0; i < ph->n_protect; i++)
		if (ph->protect[i].proto == proto)
			return true;
	return false;
}

/* --- ground truth ------------------------------------------------------------
 */

enum step_kind {
	STEP_NEED, /* the frame must reach byte `need` */
	STEP_BAD,  /* inconsistent header: malformed */
};

struct step {
	enum step_kind kind;
	uint32_t need;
	uint8_t l4proto; /* known to the parser at this point (0: none) */
};

enum result {
	RES_NOT_IP = 0,
	RES_NO_PORTS,
	RES_PORTS, /* TCP/UDP: dport and SYN known, or a non-first fragment */
	RES_MALFORMED,
	RES_UNKNOWN, /* random bytes: no ground truth */
};

enum src_class { SRC_OTHER = 0, SRC_TRUSTED, SRC_BANNED };

struct truth {
	struct step steps[MAX_STEPS];
	size_t n_steps;
	enum result end; /* when every step passes */
	uint8_t l4proto;
	uint16_t dport;
	bool syn, nonfirst;
	int family;
	enum src_class src;
	char what[160]; /* what was built, for failure reports */
};

static void need(struct truth *t, size_t bytes, uint8_t l4proto)
{
	if (t->n_steps < MAX_STEPS)
		t->steps[t->n_steps++] =
			(struct step){STEP_NEED, (uint32_t)bytes, l4proto};
}

static void bad(struct truth *t, uint8_t l4proto)
{
	if (t->n_steps < MAX_STEPS)
		t->steps[t->n_steps++] = (struct step){STEP_BAD, 0, l4proto};
}

static void note(struct truth *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct truth *t, const char *fmt, ...)
{
	size_t n = strlen(t->what);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->what + n, sizeof(t->what) - n, fmt, ap);
	va_end(ap);
}

/* What the parser finds in a frame cut at len bytes. */
static enum result outcome(const struct truth *t, size_t len, uint8_t *l4proto)
{
	for (size_t i = 0; i < t->n_steps; i++) {
		const struct step *s = &t->steps[i];

		if (s->kind == STEP_BAD || len < s->need) {
			*l4proto = s->l4proto;
			return RES_MALFORMED;
		}
	}
	*l4proto = t->l4proto;
	return t->end;
}

/* --- sources -----------------------------------------------------------------
 */

static bool in_any(const struct pw_cidr *set, size_t n, int family,
		   const uint8_t *addr)
{
	struct pw_cidr host = {.family = family};

	host.prefixlen = family == AF_INET ? 32 : 128;
	memcpy(host.addr, addr, family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < n; i++)
		if (pw_cidr_contains(&set[i], &host))
			return true;
	return false;
}

/* A source address: from one of the configured sets or a plain range;
 * classified by membership, not by which set it was drawn from. */
static enum src_class pick_source(int family, uint8_t *addr)
{
	unsigned k = below(100);
	const struct pw_cidr *base = NULL;

	memset(addr, 0, 16);
	if (k < 20)
		base = &trusted[family == AF_INET ? 0 : 1];
	else if (k < 35)
		base = &bans[family == AF_INET ? 0 : 1];
	else if (k < 45)
		base = &key_bans[family == AF_INET ? 0 : 1];
	else if (k < 55)
		base = &quarantined[family == AF_INET ? 0 : 1];
	if (family == AF_INET) {
		if (base) {
			memcpy(addr, base->addr, 4);
			if (base->prefixlen < 32)
				addr[3] = (uint8_t)rnd();
		} else if (chance(80)) {
			/* 198.18.8.0/22: a few hundred plain sources */
			addr[0] = 198, addr[1] = 18;
			addr[2] = (uint8_t)(8 + below(4));
			addr[3] = (uint8_t)rnd();
		} else {
			fill(addr, 4);
		}
	} else {
		if (base) {
			memcpy(addr, base->addr, 16);
			fill(addr + 8, 8); /* host bits: inside any /64 */
			if (base->prefixlen < 64)
				addr[7] = (uint8_t)rnd();
		} else if (chance(80)) {
			addr[0] = 0xfd, addr[2] = 0, addr[3] = 8;
			addr[7] = (uint8_t)below(64);
			fill(addr + 8, 8);
		} else {
			fill(addr, 16);
		}
	}
	if (in_any(trusted, ARRAY_SIZE(trusted), family, addr))
		return SRC_TRUSTED;
	if (in_any(bans, ARRAY_SIZE(bans), family, addr) ||
	    in_any(key_bans, ARRAY_SIZE(key_bans), family, addr))
		return SRC_BANNED;
	return SRC_OTHER;
}

/* --- the generator
 * ------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t pick_port(void)
{
	static const uint16_t ports[] = {PORT_TCP, PORT_BOTH, PORT_UDP, 22};
	unsigned k = below(100);

	if (k < 70)
		return ports[below(ARRAY_SIZE(ports))];
	return (uint16_t)rnd();
}

static uint8_t pick_l4(bool v6)
{
	unsigned k = below(100);

	if (k < 45)
		return IPPROTO_TCP;
	if (k < 85)
		return IPPROTO_UDP;
	if (k < 92)
		return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	for (;;) {
		uint8_t p = (uint8_t)rnd();

		/* Not an extension header the IPv6 walk would follow. */
		if (p != IPPROTO_TCP && p != IPPROTO_UDP &&
		    p != IPPROTO_HOPOPTS && p != IPPROTO_ROUTING &&
		    p != IPPROTO_DSTOPTS && p != IPPROTO_FRAGMENT &&
		    p != IPPROTO_AH && p != IPPROTO_NONE_HDR)
			return p;
	}
}

/* TCP, UDP or another protocol's bytes at off; returns the new end. */
static size_t build_l4(uint8_t *f, size_t off, uint8_t proto, bool v6,
		       struct truth *t)
{
	size_t payload = below(4) == 0 ? below(64) : below(8);

	t->l4proto = proto;
	t->end = RES_NO_PORTS;
	if (proto == IPPROTO_TCP) {
		unsigned k = below(100);
		uint8_t doff = k < 85	? 5
			       : k < 93 ? (uint8_t)(6 + below(10))
					: (uint8_t)below(5);
		size_t hlen = doff >= 5 ? doff * 4u : 20u;
		uint8_t flags;

		k = below(100);
		flags = k < 30	 ? 0x02		   /* SYN */
			: k < 40 ? 0x12		   /* SYN+ACK */
			: k < 45 ? 0xc2		   /* SYN+ECE+CWR */
			: k < 75 ? 0x10		   /* ACK */
				 : (uint8_t)rnd(); /* anything */
		fill(f + off, hlen);
		t->dport = pick_port();
		put16(f + off + 2, t->dport);
		f[off + 12] = (uint8_t)(doff << 4 | (f[off + 12] & 0x0f));
		f[off + 13] = flags;
		need(t, off + 20, IPPROTO_TCP);
		if (doff < 5)
			bad(t, IPPROTO_TCP);
		t->syn = (flags & 0x02) && !(flags & 0x10);
		t->end = RES_PORTS;
		note(t, " tcp dport %u flags 0x%02x doff %u", t->dport, flags,
		     doff);
		off += hlen;
	} else if (proto == IPPROTO_UDP) {
		fill(f + off, 8);
		t->dport = pick_port();
		put16(f + off + 2, t->dport);
		need(t, off + 8, IPPROTO_UDP);
		t->end = RES_PORTS;
		note(t, " udp dport %u", t->dport);
		off += 8;
	} else {
		note(t, " proto %u", proto);
		(void)v6;
	}
	fill(f + off, payload);
	return off + payload;
}

static size_t build_ipv4(uint8_t *f, size_t off, struct truth *t)
{
	unsigned k = below(100);
	uint8_t ihl = k < 80   ? 5
		      : k < 92 ? (uint8_t)(6 + below(10))
			       : (uint8_t)below(5);
	uint8_t version = chance(97) ? 4 : (uint8_t)below(16);
	size_t hlen = ihl >= 5 ? ihl * 4u : 20u, l3 = off, end;
	uint8_t proto = pick_l4(false), addr[16];
	uint16_t frag = 0, tot;
	bool nonfirst = false;
	struct truth l4;

	t->family = 4;
	t->src = pick_source(AF_INET, addr);
	fill(f + off, hlen); /* options are random bytes */
	f[off] = (uint8_t)(version << 4 | ihl);
	f[off + 9] = proto;
	memcpy(f + off + 12, addr, 4);
	k = below(100);
	if (k < 10) {
		frag = 0x2000; /* MF: a first fragment, ports present */
	} else if (k < 22) {
		frag = (uint16_t)(1 + below(0x1fff)) |
		       (chance(50) ? 0x2000 : 0);
		nonfirst = true;
	} else if (k < 60) {
		frag = 0x4000; /* DF */
	}
	put16(f + off + 6, frag);
	note(t, "ipv4 v%u ihl %u frag 0x%04x src %u.%u.%u.%u", version, ihl,
	     frag, addr[0], addr[1], addr[2], addr[3]);

	need(t, l3 + 20, 0);
	if (version != 4 || ihl < 5)
		bad(t, proto);
	if (nonfirst) {
		size_t data = below(32);

		fill(f + l3 + hlen, data);
		end = l3 + hlen + data;
		t->l4proto = proto;
		t->nonfirst = true;
		t->end = (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
				 ? RES_PORTS
				 : RES_NO_PORTS;
		note(t, " non-first fragment proto %u", proto);
	} else {
		/* Built now (the total length covers it), checked by the
		 * parser after the IPv4 steps below. */
		l4 = *t;
		l4.n_steps = 0;
		end = build_l4(f, l3 + hlen, proto, false, &l4);
	}
	/* Total length: right, or random (the parser only checks >= IHL*4). */
	tot = (uint16_t)(end - l3);
	if (chance(8))
		tot = (uint16_t)rnd();
	put16(f + off + 2, tot);
	if (tot < ihl * 4u)
		bad(t, proto);
	need(t, l3 + hlen, proto);
	if (!nonfirst) {
		for (size_t i = 0; i < l4.n_steps; i++)
			if (l4.steps[i].kind == STEP_BAD)
				bad(t, l4.steps[i].l4proto);
			else
				need(t, l4.steps[i].need, l4.steps[i].l4proto);
		t->end = l4.end;
		t->l4proto = l4.l4proto;
		t->dport = l4.dport;
		t->syn = l4.syn;
		memcpy(t->what, l4.what, sizeof(t->what));
	}
	return end;
}

static size_t build_ipv6(uint8_t *f, size_t off, struct truth *t)
{
	static const uint8_t ext_types[] = {IPPROTO_HOPOPTS, IPPROTO_ROUTING,
					    IPPROTO_DSTOPTS, IPPROTO_FRAGMENT,
					    IPPROTO_AH};
	unsigned k = below(100);
	size_t n_ext = k < 65 ? 0 : k < 90 ? 1 + below(4) : 5 + below(7);
	uint8_t types[16], final, addr[16], version;
	size_t pos = off + 40, l3 = off;

	version = chance(97) ? 6 : (uint8_t)below(16);
	t->family = 6;
	t->src = pick_source(AF_INET6, addr);
	for (size_t i = 0; i < n_ext; i++)
		types[i] = ext_types[below(ARRAY_SIZE(ext_types))];
	final = chance(5) ? IPPROTO_NONE_HDR : pick_l4(true);
	fill(f + off, 40);
	f[off] = (uint8_t)(version << 4 | (f[off] & 0x0f));
	f[off + 6] = n_ext ? types[0] : final;
	memcpy(f + off + 8, addr, 16);
	note(t, "ipv6 v%u ext %zu src %02x%02x:%02x%02x:..%02x", version, n_ext,
	     addr[0], addr[1], addr[2], addr[3], addr[15]);
	need(t, l3 + 40, 0);
	if (version != 6)
		bad(t, 0);

	for (size_t i = 0; i < n_ext; i++) {
		uint8_t next = i + 1 < n_ext ? types[i + 1] : final;
		size_t len;

		if (types[i] == IPPROTO_FRAGMENT) {
			uint16_t fo =
				chance(30) ? (uint16_t)(1 + below(0x1fff)) : 0;

			fill(f + pos, 8);
			f[pos] = next;
			put16(f + pos + 2,
			      (uint16_t)(fo << 3 | (f[pos + 3] & 1)));
			need(t, pos + 8, 0);
			note(t, " frag(%u)", fo);
			if (fo) {
				t->nonfirst = true;
				t->l4proto = next;
				t->end = (next == IPPROTO_TCP ||
					  next == IPPROTO_UDP)
						 ? RES_PORTS
						 : RES_NO_PORTS;
				len = below(32);
				fill(f + pos + 8, len);
				return pos + 8 + len;
			}
			if (i == PARSER_EXT_MAX) {
				/* A 9th header: the walk ends without L4. */
				bad(t, 0);
				return pos + 8;
			}
			pos += 8;
			continue;
		}
		/* Options, routing, AH: a small random length. */
		if (types[i] == IPPROTO_AH) {
			uint8_t hl = (uint8_t)(1 + below(4));

			len = (hl + 2u) * 4u;
			fill(f + pos, len);
			f[pos + 1] = hl;
		} else {
			uint8_t hl = (uint8_t)below(3);

			len = (hl + 1u) * 8u;
			fill(f + pos, len);
			f[pos + 1] = hl;
		}
		f[pos] = next;
		need(t, pos + 2, 0);
		note(t, " %u(%zu)", types[i], len);
		if (i == PARSER_EXT_MAX) {
			/* Nine headers: the walk never dispatches. */
			bad(t, 0);
			return pos + len;
		}
		pos += len;
	}
	if (final == IPPROTO_NONE_HDR) {
		t->end = RES_NO_PORTS;
		size_t len = below(16);

		note(t, " no-next-header");
		fill(f + pos, len);
		return pos + len;
	}
	return build_l4(f, pos, final, true, t);
}

/* One frame into f; returns its full length (before any cut). */
static size_t build(uint8_t *f, struct truth *t)
{
	unsigned k = below(100), n_tags;
	size_t off = 12, end;
	uint16_t etype;

	memset(t, 0, sizeof(*t));
	fill(f, 12);
	if (k < 4) {
		size_t len = ETH_HLEN_BYTES + below(200);

		fill(f, len);
		t->end = RES_UNKNOWN;
		note(t, "random bytes");
		return len;
	}
	k = below(100);
	n_tags = k < 70 ? 0 : k < 85 ? 1 : k < 95 ? 2 : 3;
	for (unsigned i = 0; i < n_tags; i++) {
		put16(f + off, chance(50) ? TPID_8021Q : TPID_8021AD);
		put16(f + off + 2, (uint16_t)rnd());
		off += 4;
	}
	k = below(100);
	etype = k < 45 ? ETHERTYPE_IPV4 : k < 90 ? ETHERTYPE_IPV6 : 0x0806;
	if (k >= 95) {
		etype = (uint16_t)rnd();
		if (etype == ETHERTYPE_IPV4 || etype == ETHERTYPE_IPV6 ||
		    etype == TPID_8021Q || etype == TPID_8021AD)
			etype = 0x88b5; /* local experimental */
	}
	put16(f + off, etype);
	off += 2;
	note(t, "%u tags, ", n_tags);
	need(t, ETH_HLEN_BYTES, 0);
	for (unsigned i = 0; i < n_tags && i < PARSER_VLAN_MAX; i++)
		need(t, ETH_HLEN_BYTES + 4 * (i + 1), 0);
	if (n_tags > PARSER_VLAN_MAX) {
		end = off + below(64);
		fill(f + off, end - off);
		t->end = RES_NOT_IP;
		note(t, "third tag");
		return end;
	}
	if (etype == ETHERTYPE_IPV4)
		return build_ipv4(f, off, t);
	if (etype == ETHERTYPE_IPV6)
		return build_ipv6(f, off, t);
	end = off + below(64);
	fill(f + off, end - off);
	t->end = RES_NOT_IP;
	note(t, "ethertype 0x%04x", etype);
	return end;
}

/* --- running
 * ------------------------------------------------------------------ */

struct run {
	const struct phase *ph;
	struct pw_datapath *dp;
	int stats_fd, ncpu;
	struct pw_stat *percpu;
	uint64_t now_ns;
	uint64_t pkts, bytes, by_reason[PW_R_NR], bytes_by_reason[PW_R_NR];
	uint64_t malformed_dropped;
	uint64_t violations;
	uint64_t seed;
	bool verbose;
};

static const char *verdict_name(uint32_t v)
{
	return v == XDP_PASS	  ? "XDP_PASS"
	       : v == XDP_DROP	  ? "XDP_DROP"
	       : v == XDP_ABORTED ? "XDP_ABORTED"
				  : "XDP_other";
}

static const char *reason_name(uint32_t r)
{
	return r < PW_STAT_NR ? pw_stat_name(r) : "out-of-range";
}

static void report(struct run *r, uint64_t idx, const uint8_t *f, size_t len,
		   size_t full, const struct truth *t, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void report(struct run *r, uint64_t idx, const uint8_t *f, size_t len,
		   size_t full, const struct truth *t, const char *fmt, ...)
{
	va_list ap;

	r->violations++;
	if (r->violations > MAX_REPORTS)
		return;
	fprintf(stderr,
		"VIOLATION seed %" PRIu64 " phase %s packet %" PRIu64 ": ",
		r->seed, r->ph->name, idx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  built: %s\n  frame %zu of %zu bytes:", t->what,
		len, full);
	for (size_t i = 0; i < len && i < 128; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n   ", f[i]);
	fputc('\n', stderr);
}

/* The reason the ground truth allows, or -1 for "pass or a bucket drop". */
static int expected_reason(const struct run *r, const struct truth *t,
			   enum result res, bool *syn_ok)
{
	bool protected;

	*syn_ok = false;
	switch (res) {
	case RES_MALFORMED:
		return PW_R_MALFORMED;
	case RES_NOT_IP:
	case RES_NO_PORTS:
		return PW_R_PASS_UNTRACKED;
	default:
		break;
	}
	protected = t->nonfirst ? proto_has_ports(r->ph, t->l4proto)
				: port_protected(r->ph, t->l4proto, t->dport);
	if (!protected)
		return PW_R_PASS_UNTRACKED;
	if (t->src == SRC_TRUSTED)
		return PW_R_PASS_TRUSTED;
	if (r->ph->emergency)
		return PW_R_DROP_EMERGENCY;
	if (t->src == SRC_BANNED)
		return PW_R_DROP_BANNED;
	*syn_ok = t->syn && !t->nonfirst;
	return -1;
}

static bool is_bucket_reason(uint32_t reason, bool syn_ok)
{
	switch (reason) {
	case PW_R_PASS:
	case PW_R_DROP_RATE_SRC:
	case PW_R_DROP_RATE_PREFIX:
	case PW_R_DROP_RATE_GLOBAL:
		return true;
	case PW_R_DROP_SYN_SRC:
	case PW_R_DROP_SYN_PREFIX:
	case PW_R_DROP_SYN_GLOBAL:
		return syn_ok;
	default:
		return false;
	}
}

static int stat_packets(struct run *r, uint32_t idx, uint64_t *out)
{
	*out = 0;
	if (bpf_map_lookup_elem(r->stats_fd, &idx, r->percpu))
		return -errno;
	for (int c = 0; c < r->ncpu; c++)
		*out += r->percpu[c].packets;
	return 0;
}

/* Every counter against what was sent. */
static void check_all_counters(struct run *r, uint64_t idx)
{
	struct pw_stat st[PW_STAT_NR];
	uint64_t pkts = 0, bytes = 0;
	struct truth none = {.what = "(counter check)"};

	if (pw_datapath_stats(r->dp, st)) {
		report(r, idx, NULL, 0, 0, &none, "reading the counters");
		return;
	}
	for (int i = 0; i < PW_R_NR; i++) {
		pkts += st[i].packets;
		bytes += st[i].bytes;
		if (st[i].packets != r->by_reason[i] ||
		    st[i].bytes != r->bytes_by_reason[i])
			report(r, idx, NULL, 0, 0, &none,
			       "counter %s: %" PRIu64 " packets / %" PRIu64
			       " bytes, verdicts say %" PRIu64 " / %" PRIu64,
			       reason_name(i), (uint64_t)st[i].packets,
			       (uint64_t)st[i].bytes, r->by_reason[i],
			       r->bytes_by_reason[i]);
	}
	if (pkts != r->pkts || bytes != r->bytes)
		report(r, idx, NULL, 0, 0, &none,
		       "reasons sum to %" PRIu64 " packets / %" PRIu64
		       " bytes, sent %" PRIu64 " / %" PRIu64,
		       pkts, bytes, r->pkts, r->bytes);
	if (st[PW_X_MALFORMED_DROPPED].packets != r->malformed_dropped)
		report(r, idx, NULL, 0, 0, &none,
		       "malformed_dropped %" PRIu64 ", seen %" PRIu64,
		       (uint64_t)st[PW_X_MALFORMED_DROPPED].packets,
		       r->malformed_dropped);
}

static void one_packet(struct run *r, uint64_t idx)
{
	static uint8_t f[FRAME_MAX + 256];
	struct truth t;
	size_t full = build(f, &t), len = full;
	const struct pw_replay_out *out;
	uint32_t verdict, reason;
	enum result res;
	uint8_t l4p = 0;
	uint64_t after;
	bool syn_ok;
	int want, err;

	if (len > FRAME_MAX)
		len = full = FRAME_MAX;
	if (full > ETH_HLEN_BYTES && chance(30))
		len = ETH_HLEN_BYTES + below((uint32_t)(full - ETH_HLEN_BYTES));
	res = t.end == RES_UNKNOWN ? RES_UNKNOWN : outcome(&t, len, &l4p);

	r->now_ns += 1000000;
	pw_datapath_set_replay_now(r->dp, r->now_ns);
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f,
			    .data_size_in = (uint32_t)len, .repeat = 1);

		err = bpf_prog_test_run_opts(pw_datapath_prog_fd(r->dp), &opts);
		verdict = opts.retval;
	}
	if (err) {
		report(r, idx, f, len, full, &t, "test run failed: %s",
		       strerror(errno));
		return;
	}
	out = pw_datapath_replay_out(r->dp);
	reason = out->reason;
	r->pkts++;
	r->bytes += len;
	if (reason < PW_R_NR) {
		r->by_reason[reason]++;
		r->bytes_by_reason[reason] += len;
	}
	if (verdict != XDP_PASS && verdict != XDP_DROP) {
		report(r, idx, f, len, full, &t, "verdict %s",
		       verdict_name(verdict));
		return;
	}
	if (out->verdict != verdict)
		report(r, idx, f, len, full, &t, "returned %s, recorded %s",
		       verdict_name(verdict), verdict_name(out->verdict));
	if (reason >= PW_R_NR) {
		report(r, idx, f, len, full, &t, "reason %u out of range",
		       reason);
		return;
	}
	/* The verdict follows from the reason (and the malformed policy). */
	if (reason == PW_R_MALFORMED) {
		if (verdict == XDP_DROP) {
			r->malformed_dropped++;
			if (r->ph->malformed != PW_MALFORMED_DROP)
				report(r, idx, f, len, full, &t,
				       "malformed dropped under policy pass");
		}
	} else if ((verdict == XDP_DROP) != (reason >= PW_R_DROP_EMERGENCY)) {
		report(r, idx, f, len, full, &t, "%s with reason %s",
		       verdict_name(verdict), reason_name(reason));
	}
	if (r->ph->emergency &&
	    (reason == PW_R_PASS || reason == PW_R_DROP_BANNED ||
	     reason >= PW_R_DROP_RATE_SRC))
		report(r, idx, f, len, full, &t,
		       "emergency mode, yet reason %s", reason_name(reason));

	/* The counter of this reason moved by exactly one. */
	err = stat_packets(r, reason, &after);
	if (err || after != r->by_reason[reason])
		report(r, idx, f, len, full, &t,
		       "counter %s is %" PRIu64 " after this packet, want "
		       "%" PRIu64,
		       reason_name(reason), after, r->by_reason[reason]);

	if (res == RES_UNKNOWN)
		return;
	want = expected_reason(r, &t, res, &syn_ok);
	if (want >= 0 ? reason != (uint32_t)want
		      : !is_bucket_reason(reason, syn_ok)) {
		report(r, idx, f, len, full, &t,
		       "reason %s, ground truth %s (result %d, l4 %u, src "
		       "class %d, cut %zu/%zu)",
		       reason_name(reason),
		       want >= 0 ? reason_name((uint32_t)want)
				 : "pass or a bucket drop",
		       res, l4p, t.src, len, full);
		return;
	}
	if (res == RES_MALFORMED) {
		bool drop = r->ph->malformed == PW_MALFORMED_DROP &&
			    proto_has_ports(r->ph, l4p);

		if ((verdict == XDP_DROP) != drop)
			report(r, idx, f, len, full, &t,
			       "malformed (l4 %u) got %s, policy says %s", l4p,
			       verdict_name(verdict), drop ? "drop" : "pass");
	}
}

static int load(struct run *r, const struct phase *ph)
{
	struct pw_config cfg;
	int err;

	config_for(ph, &cfg);
	err = pw_datapath_load(
		&cfg, &(struct pw_datapath_opts){.replay_clock = true}, &r->dp);
	if (err) {
		fprintf(stderr,
			"dp_invariants: loading the datapath: %s "
			"(run as root)\n",
			strerror(-err));
		return err;
	}
	r->now_ns = START_NS;
	pw_datapath_set_replay_now(r->dp, r->now_ns);
	for (int i = 0; i < 2; i++) {
		err = pw_datapath_sanction(r->dp, &key_bans[i], PW_SANCTION_BAN,
					   PW_LVL_NORMAL, 0);
		if (!err)
			err = pw_datapath_sanction(r->dp, &quarantined[i],
						   PW_SANCTION_LEVEL,
						   PW_LVL_QUARANTINE, 0);
		if (err)
			return err;
	}
	r->stats_fd = pw_datapath_map_fd(r->dp, "stats");
	return r->stats_fd < 0 ? r->stats_fd : 0;
}

/* Switch the loaded datapath to a phase's policy and emergency state. */
static int enter(struct run *r, const struct phase *ph)
{
	struct pw_config cfg;
	int err;

	config_for(ph, &cfg);
	err = pw_datapath_reconfigure(r->dp, &cfg);
	if (!err)
		err = pw_datapath_set_emergency(r->dp, ph->emergency);
	r->ph = ph;
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dp_invariants [--packets N] [--seed S] "
		   "[--verbose]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"packets", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t packets = DEFAULT_PACKETS, total = 0, bad = 0;
	struct run r = {.seed = 1};
	struct timespec t0, t1;
	double secs;
	int opt;

	while ((opt = getopt_long(argc, argv, "p:s:vh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'p':
			packets = strtoull(optarg, NULL, 10);
			break;
		case 's':
			r.seed = strtoull(optarg, NULL, 10);
			break;
		case 'v':
			r.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	pw_log_init("dp_invariants", r.verbose ? PW_LOG_DEBUG : PW_LOG_WARN,
		    false);
	pw_log_libbpf(r.verbose);
	for (int i = 0; i < 2; i++) {
		cidr_or_die(trusted_s[i], &trusted[i]);
		cidr_or_die(bans_s[i], &bans[i]);
		cidr_or_die(key_bans_s[i], &key_bans[i]);
		cidr_or_die(quarantined_s[i], &quarantined[i]);
	}
	r.ncpu = libbpf_num_possible_cpus();
	if (r.ncpu <= 0)
		return 2;
	r.percpu = calloc((size_t)r.ncpu, sizeof(*r.percpu));
	if (!r.percpu)
		return 2;
	rng_state = r.seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (int p = 0; p < N_PHASES; p++) {
		const struct phase *ph = &phases[p];
		uint64_t n = packets / N_PHASES +
			     (p == N_PHASES - 1 ? packets % N_PHASES : 0);

		/* One datapath per port set; counters then run across its
		 * four phases. */
		if (p == 0 || ph->protect != phases[p - 1].protect) {
			pw_datapath_close(r.dp);
			memset(r.by_reason, 0, sizeof(r.by_reason));
			memset(r.bytes_by_reason, 0, sizeof(r.bytes_by_reason));
			r.pkts = r.bytes = r.malformed_dropped = 0;
			if (load(&r, ph))
				return 2;
		}
		if (enter(&r, ph)) {
			fprintf(stderr, "dp_invariants: entering phase %s\n",
				ph->name);
			return 2;
		}
		bad = r.violations;
		for (uint64_t i = 0; i < n; i++) {
			one_packet(&r, total + i);
			if ((i + 1) % CHECK_ALL_EVERY == 0)
				check_all_counters(&r, total + i);
		}
		check_all_counters(&r, total + n);
		total += n;
		printf("phase %-24s packets=%-9" PRIu64 " violations=%" PRIu64
		       "\n",
		       ph->name, n, r.violations - bad);
		if (r.verbose)
			for (int i = 0; i < PW_R_NR; i++)
				printf("    %-18s %" PRIu64 "\n",
				       reason_name(i), r.by_reason[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	pw_datapath_close(r.dp);
	free(r.percpu);
	printf("total: packets=%" PRIu64 " seconds=%.1f pps=%.0f seed=%" PRIu64
	       " violations=%" PRIu64 "\n",
	       total, secs, secs > 0 ? (double)total / secs : 0.0, r.seed,
	       r.violations);
	return r.violations ? 1 : 0;
}
