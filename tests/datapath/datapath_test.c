// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * datapath_test.c - the real XDP object under BPF_PROG_TEST_RUN.
 *
 * Katran-style fixtures: every row of a table is a description, a packet,
 * a setup (limits, trusted and banned CIDRs, level, emergency, mode,
 * malformed policy), a few "prime" packets sent first and a clock step,
 * and the verdict and reason the checked packet must get. Adding a case is
 * adding a row; a failing row prints its description and its variant.
 *
 * Rows that do not name a family run for IPv4 and IPv6, and rows that do
 * not name VLAN tags run untagged and behind 802.1Q, 802.1ad and 802.1ad +
 * 802.1Q tags, so every branch of the policy is seen through every
 * encapsulation the parser accepts. Addresses, CIDRs and source rotations
 * are named symbolically (the source, its /24 or /48, ...) and resolved per
 * family, which keeps the rows family-agnostic.
 *
 * Each row gets a freshly loaded datapath (about 50 ms): no row can leak
 * bucket or ban state into the next, at the price of a longer run. Time is
 * the replay clock, starting at START_NS, so refills are exact.
 *
 * After every row and every table the per-reason counters must add up to
 * the packets sent (and bytes), drops seen must match the drop counters,
 * and monitor mode must pass everything while counting each would-drop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <peerwall/abi.h>

#include "cidr.h"
#include "config.h"
#include "datapath.h"
#include "dp_config.h"
#include "pktbuild.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Replay time starts well away from 0: TAT 0 means "fresh bucket". */
#define START_NS (1000ull * 1000000000ull)
#define NS_PER_S 1000000000ull

#define PORT_TCP  26656 /* protected, TCP only */
#define PORT_BOTH 30303 /* protected, TCP and UDP */
#define PORT_UDP  9000	/* protected, UDP only */
#define PORT_OPEN 22	/* not protected */
#define SPORT	  40000

/* netinet/tcp.h stops at TH_URG. */
#define TH_ECE 0x40
#define TH_CWR 0x80

#define ETHERTYPE_ARP	  0x0806
#define TPID_8021Q	  0x8100
#define TPID_8021AD	  0x88a8
#define ETH_HDR_BYTES	  14
#define FRAME_MAX_BYTES	  2048 /* test-run refuses frames near a page */
#define NONFIRST_FRAG_OFF 185  /* 1480 bytes, a typical second fragment */
#define PARSER_EXT_MAX	  8    /* PW_IPV6_EXT_MAX in bpf/parse.h */

/* Small maps: every row loads its own datapath. */
#define MAP_SOURCES   4096
#define MAP_PREFIXES  4096
#define MAP_SANCTIONS 1024
#define MAP_BANCIDRS  1024

/* Tight limits: 8 packets/s with a burst of 8, 4 SYN/s with a burst of 4.
 * At 8 pps the emission interval is 125 ms, so one step of T_PKT_NS
 * refills exactly one packet. Quarantine is 1/1 so the derived watch
 * (4/4, 2/2) and throttle (2/2, 1/1) levels all differ. */
#define TIGHT_PPS     8
#define TIGHT_SYN_PPS 4
#define T_PKT_NS      (NS_PER_S / TIGHT_PPS)
#define T_SYN_NS      (NS_PER_S / TIGHT_SYN_PPS)
#define T_QUAR_NS     NS_PER_S
#define BAN_TTL_NS    (10 * NS_PER_S)

static const struct pw_limit lim_tight = {TIGHT_PPS, TIGHT_PPS, TIGHT_SYN_PPS,
					  TIGHT_SYN_PPS, 0};
static const struct pw_limit lim_quar = {1, 1, 1, 1, 0};
static const struct pw_limit lim_loose = {1000, 1000, 1000, 1000, 0};
static const struct pw_limit lim_none = {0};

/* Which buckets a row makes tight; the others stay out of the way. */
enum limits {
	LIM_DEFAULT = 0, /* the shipped defaults (defaults.h) */
	LIM_SRC,	 /* source tight, prefix and global unlimited */
	LIM_PREFIX,	 /* source loose, prefix tight, global unlimited */
	LIM_GLOBAL,	 /* source and prefix loose, global tight */
	LIM_ALL,	 /* every bucket tight */
};

/* A CIDR named by its relation to the row's source, resolved per family. */
enum sel {
	SEL_NONE = 0,
	SEL_SRC,   /* exactly the source key: /32, /64 (sanction table) */
	SEL_NET,   /* the source's prefix: /24, /48 (banned-CIDR trie) */
	SEL_OTHER, /* a prefix that does not hold the source */
	SEL_ROT,   /* holds every ROT_NET source, not the row's source */
};

/* How prime packets choose their source address. */
enum rot {
	ROT_SAME = 0,	/* the row's source */
	ROT_HOST,	/* other hosts inside the source key (IPv6 /64) */
	ROT_SRC_IN_NET, /* other source keys inside the source's prefix */
	ROT_NET,	/* sources in other prefixes */
};

struct dp_setup {
	enum limits limits;
	enum sel trusted;    /* via cfg.trusted (the loader's path) */
	enum sel ban;	     /* via cfg.bans, or pw_datapath_sanction
			      * when ban_ttl_ns is set */
	uint64_t ban_ttl_ns; /* ban expires START_NS + this; 0 = never */
	enum pw_level level; /* sanction on the source key */
	bool unsanction;     /* lift the ban / level again */
	bool emergency;
	enum pw_mode mode;
	enum pw_malformed_policy malformed;
};

struct dp_row {
	const char *desc;
	struct pw_pktspec pkt; /* unset family, addresses, tags: per variant */
	struct dp_setup set;
	unsigned prime;		     /* packets sent before the clock step */
	struct pw_pktspec prime_pkt; /* .proto 0: same as pkt */
	enum rot rot;
	uint64_t step_ns;    /* clock advance before the after_step packets */
	unsigned after_step; /* more prime packets after the step */
	size_t cut_bytes;    /* bytes cut off the end of the checked frame */
	uint32_t verdict;    /* XDP_PASS / XDP_DROP */
	uint32_t reason;     /* enum pw_reason */
};

/* Per family: the row's source and the CIDRs and rotations around it. */
struct fam {
	const char *name;
	int family;
	unsigned src_prefix; /* source key width (defaults) */
	const char *src, *dst;
	const char *cidr[5]; /* by enum sel */
	const char *rot_fmt[4];
	unsigned rot_base[4];
};

static const struct fam fams[] = {
	{
		.name = "IPv4",
		.family = AF_INET,
		.src_prefix = 32,
		.src = "198.18.0.1",
		.dst = "192.0.2.10",
		.cidr = {NULL, "198.18.0.1/32", "198.18.0.0/24",
			 "203.0.113.0/24", "198.19.0.0/16"},
		/* /32 keys: another "host in the key" is the same address */
		.rot_fmt = {"198.18.0.1", "198.18.0.1", "198.18.0.%u",
			    "198.19.%u.1"},
		.rot_base = {0, 0, 10, 0},
	},
	{
		.name = "IPv6",
		.family = AF_INET6,
		.src_prefix = 64,
		.src = "2001:db8:1:1::1",
		.dst = "2001:db8:ffff::10",
		.cidr = {NULL, "2001:db8:1:1::/64", "2001:db8:1::/48",
			 "2001:db8:ff::/48", "2001:db8:100::/40"},
		.rot_fmt = {"2001:db8:1:1::1", "2001:db8:1:1:%x::2",
			    "2001:db8:1:%x::1", "2001:db8:%x::1"},
		.rot_base = {0, 0x10, 0x10, 0x100},
	},
};

struct encap {
	const char *name;
	int n_vlans;
	uint16_t tpid[2];
};

static const struct encap encaps[] = {
	{"untagged", 0, {0}},
	{"802.1Q", 1, {TPID_8021Q}},
	{"802.1ad", 1, {TPID_8021AD}},
	{"802.1ad+802.1Q", 2, {TPID_8021AD, TPID_8021Q}},
};

static const struct encap encap_as_given = {"tags as given", -1, {0}};

static struct pw_protect protect[] = {
	{IPPROTO_TCP, PORT_TCP},
	{IPPROTO_TCP, PORT_BOTH},
	{IPPROTO_UDP, PORT_BOTH},
	{IPPROTO_UDP, PORT_UDP},
};

/* What a table sent, to check the counters add up across its rows. */
struct totals {
	uint64_t pkts, bytes, drops;
	uint64_t stat_pkts, stat_bytes;
};

/* One loaded datapath and what was fed to it. */
struct dp_run {
	struct pw_datapath *dp;
	uint64_t now_ns;
	uint64_t pkts, bytes, drops;
};

/* --- helpers ------------------------------------------------------------- */

static const char *reason_name(uint32_t r)
{
	return r < PW_R_NR ? pw_stat_name(r) : "out-of-range";
}

static const char *verdict_name(uint32_t v)
{
	switch (v) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "XDP_?";
	}
}

static void cidr_or_die(const char *s, struct pw_cidr *out)
{
	char err[128];

	if (pw_cidr_parse(s, out, err, sizeof(err))) {
		print_error("bad CIDR in the test itself: %s: %s\n", s, err);
		fail();
	}
}

static void config_for(const struct dp_setup *set, struct pw_config *cfg)
{
	pw_config_defaults(cfg);
	cfg->protect = protect;
	cfg->n_protect = ARRAY_SIZE(protect);
	cfg->maps = (struct pw_map_sizes){MAP_SOURCES, MAP_PREFIXES,
					  MAP_SANCTIONS, MAP_BANCIDRS};
	cfg->mode = set->mode;
	cfg->malformed = set->malformed;
	switch (set->limits) {
	case LIM_DEFAULT:
		break;
	case LIM_SRC:
		cfg->source = lim_tight;
		cfg->quarantine = lim_quar;
		cfg->prefix = lim_none;
		cfg->untrusted = lim_none;
		break;
	case LIM_PREFIX:
		cfg->source = lim_loose;
		cfg->prefix = lim_tight;
		cfg->untrusted = lim_none;
		break;
	case LIM_GLOBAL:
		cfg->source = lim_loose;
		cfg->prefix = lim_loose;
		cfg->untrusted = lim_tight;
		break;
	case LIM_ALL:
		cfg->source = lim_tight;
		cfg->quarantine = lim_quar;
		cfg->prefix = lim_tight;
		cfg->untrusted = lim_tight;
		break;
	}
}

static int dp_open(const struct pw_config *cfg, struct dp_run *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = pw_datapath_load(
		cfg, &(struct pw_datapath_opts){.replay_clock = true}, &r->dp);
	if (err)
		return err;
	r->now_ns = START_NS;
	pw_datapath_set_replay_now(r->dp, r->now_ns);
	return 0;
}

static void dp_step(struct dp_run *r, uint64_t ns)
{
	r->now_ns += ns;
	pw_datapath_set_replay_now(r->dp, r->now_ns);
}

/* One frame through the program. Returns 0 or the test-run error. */
static int dp_feed(struct dp_run *r, const uint8_t *frame, size_t len,
		   uint32_t *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (uint32_t)len, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(pw_datapath_prog_fd(r->dp), &opts);
	if (err)
		return err;
	r->pkts++;
	r->bytes += len;
	r->drops += opts.retval == XDP_DROP;
	*verdict = opts.retval;
	return 0;
}

/* The counters must account for every packet fed: once per reason, bytes
 * included. Enforce: drops seen = drop reasons + malformed drops, nothing
 * passed by monitor. Monitor passes everything; its monitor_passed covers
 * every drop reason, and may also cover malformed packets the drop policy
 * would have dropped. Returns a failure count. */
static int dp_check_counters(struct dp_run *r, const char *where,
			     enum pw_mode mode, struct totals *tot)
{
	struct pw_stat st[PW_STAT_NR];
	uint64_t pkts = 0, bytes = 0, would_drop = 0, want_drops;
	uint64_t mon, mon_max;
	int err, bad = 0;

	err = pw_datapath_stats(r->dp, st);
	if (err) {
		print_error("%s: reading stats: %s\n", where, strerror(-err));
		return 1;
	}
	for (int i = 0; i < PW_R_NR; i++) {
		pkts += st[i].packets;
		bytes += st[i].bytes;
		if (i >= PW_R_DROP_EMERGENCY)
			would_drop += st[i].packets;
	}
	mon = st[PW_X_MONITOR_PASSED].packets;
	if (mode == PW_MODE_ENFORCE) {
		want_drops = would_drop + st[PW_X_MALFORMED_DROPPED].packets;
		mon_max = 0;
		would_drop = 0;
	} else {
		want_drops = 0;
		mon_max = would_drop + st[PW_R_MALFORMED].packets;
	}
	if (pkts != r->pkts || bytes != r->bytes) {
		print_error("%s: reasons count %llu packets / %llu bytes, "
			    "sent %llu / %llu\n",
			    where, (unsigned long long)pkts,
			    (unsigned long long)bytes,
			    (unsigned long long)r->pkts,
			    (unsigned long long)r->bytes);
		bad++;
	}
	if (r->drops != want_drops) {
		print_error("%s: %llu drops seen, counters explain %llu\n",
			    where, (unsigned long long)r->drops,
			    (unsigned long long)want_drops);
		bad++;
	}
	if (mon < would_drop || mon > mon_max) {
		print_error("%s: monitor_passed %llu, want %llu..%llu\n", where,
			    (unsigned long long)mon,
			    (unsigned long long)would_drop,
			    (unsigned long long)mon_max);
		bad++;
	}
	if (tot) {
		tot->pkts += r->pkts;
		tot->bytes += r->bytes;
		tot->drops += r->drops;
		tot->stat_pkts += pkts;
		tot->stat_bytes += bytes;
	}
	return bad;
}

static int check_totals(const char *table, const struct totals *tot)
{
	if (tot->stat_pkts == tot->pkts && tot->stat_bytes == tot->bytes)
		return 0;
	print_error("table %s: reasons sum to %llu packets / %llu bytes, "
		    "sent %llu / %llu\n",
		    table, (unsigned long long)tot->stat_pkts,
		    (unsigned long long)tot->stat_bytes,
		    (unsigned long long)tot->pkts,
		    (unsigned long long)tot->bytes);
	return 1;
}

/* The row's spec made concrete for a family, a source and tags. */
static struct pw_pktspec spec_for(const struct pw_pktspec *base,
				  const struct fam *f, const struct encap *e,
				  const char *src)
{
	struct pw_pktspec s = *base;

	s.family = f->family;
	s.src = s.src ? s.src : src;
	s.dst = s.dst ? s.dst : f->dst;
	s.sport = s.sport ? s.sport : SPORT;
	/* Rows say ICMP; IPv6 speaks ICMPv6. */
	if (f->family == AF_INET6 && s.proto == IPPROTO_ICMP)
		s.proto = IPPROTO_ICMPV6;
	if (e->n_vlans >= 0) {
		s.n_vlans = e->n_vlans;
		for (int i = 0; i < e->n_vlans; i++) {
			s.vlan_tpid[i] = e->tpid[i];
			s.vlan_id[i] = (uint16_t)(100 * (i + 1));
		}
	}
	return s;
}

static void rot_addr(const struct fam *f, enum rot rot, unsigned i, char *buf,
		     size_t len)
{
	snprintf(buf, len, f->rot_fmt[rot], f->rot_base[rot] + i);
}

/* Source key of an address string as the datapath reports it. */
static void src_key(const struct fam *f, const char *addr, uint8_t key[16])
{
	uint8_t a[16] = {0};

	memset(key, 0, 16);
	if (inet_pton(f->family, addr, a) != 1) {
		print_error("bad address in the test itself: %s\n", addr);
		fail();
	}
	pw_addr_mask(f->family, a, f->src_prefix, key);
}

/* The replay record of a checked packet: a source for tracked reasons,
 * none for untracked and malformed ones. */
static int check_replay_out(struct dp_run *r, const char *where,
			    const struct fam *f, const char *src,
			    uint32_t reason)
{
	const struct pw_replay_out *out = pw_datapath_replay_out(r->dp);
	bool tracked =
		reason != PW_R_PASS_UNTRACKED && reason != PW_R_MALFORMED;
	uint32_t want_family = f->family == AF_INET ? 4 : 6;
	uint8_t key[16];

	if (!tracked) {
		if (out->family == 0)
			return 0;
		print_error(
			"%s: replay_out.family %u for an untracked packet\n",
			where, out->family);
		return 1;
	}
	src_key(f, src, key);
	if (out->family != want_family || out->prefixlen != f->src_prefix ||
	    memcmp(out->addr, key, sizeof(key))) {
		char got[INET6_ADDRSTRLEN] = "?";

		inet_ntop(f->family, out->addr, got, sizeof(got));
		print_error("%s: replay_out family %u %s/%u, want %u %s/%u\n",
			    where, out->family, got, out->prefixlen,
			    want_family, src, f->src_prefix);
		return 1;
	}
	return 0;
}

/* Trusted, banned and sanctioned state for a row, after load. */
static int apply_setup(struct dp_run *r, const struct dp_setup *set,
		       const struct fam *f, struct pw_cidr *src_cidr,
		       const char *where)
{
	struct pw_cidr c;
	int err = 0;

	if (set->emergency)
		err = pw_datapath_set_emergency(r->dp, true);
	if (!err && set->ban && set->ban_ttl_ns) {
		cidr_or_die(f->cidr[set->ban], &c);
		err = pw_datapath_sanction(r->dp, &c, PW_SANCTION_BAN,
					   PW_LVL_NORMAL,
					   START_NS + set->ban_ttl_ns);
	}
	if (!err && set->level)
		err = pw_datapath_sanction(r->dp, src_cidr, PW_SANCTION_LEVEL,
					   set->level, 0);
	if (!err && set->unsanction && set->ban) {
		cidr_or_die(f->cidr[set->ban], &c);
		err = pw_datapath_unsanction(r->dp, &c);
	}
	if (!err && set->unsanction && set->level)
		err = pw_datapath_unsanction(r->dp, src_cidr);
	if (err)
		print_error("%s: setup: %s\n", where, strerror(-err));
	return err ? 1 : 0;
}

/* Run one row in one variant; returns the number of failed checks. */
static int run_row(const struct dp_row *row, const struct fam *f,
		   const struct encap *e, struct totals *tot)
{
	struct pw_cidr trusted[1], bans[1], src_cidr;
	struct pw_pktspec spec, pspec;
	uint8_t frame[FRAME_MAX_BYTES];
	char where[256], addr[INET6_ADDRSTRLEN];
	struct pw_config cfg;
	struct dp_run r;
	uint32_t verdict;
	int len, err, bad = 0;

	snprintf(where, sizeof(where), "'%s' [%s, %s]", row->desc, f->name,
		 e->name);
	config_for(&row->set, &cfg);
	cidr_or_die(f->cidr[SEL_SRC], &src_cidr);
	if (row->set.trusted) {
		cidr_or_die(f->cidr[row->set.trusted], &trusted[0]);
		cfg.trusted = trusted;
		cfg.n_trusted = 1;
	}
	if (row->set.ban && !row->set.ban_ttl_ns) {
		cidr_or_die(f->cidr[row->set.ban], &bans[0]);
		cfg.bans = bans;
		cfg.n_bans = 1;
	}
	err = dp_open(&cfg, &r);
	if (err) {
		print_error("%s: load: %s\n", where, strerror(-err));
		return 1;
	}
	bad += apply_setup(&r, &row->set, f, &src_cidr, where);

	for (unsigned i = 0; !bad && i < row->prime + row->after_step; i++) {
		if (i == row->prime)
			dp_step(&r, row->step_ns);
		rot_addr(f, row->rot, i, addr, sizeof(addr));
		pspec = spec_for(row->prime_pkt.proto ? &row->prime_pkt
						      : &row->pkt,
				 f, e, addr);
		len = pw_pkt_build(&pspec, frame, sizeof(frame));
		if (len < 0 || (err = dp_feed(&r, frame, len, &verdict))) {
			print_error("%s: prime packet %u: build %d, run %d\n",
				    where, i, len, err);
			bad++;
		}
	}
	if (!row->after_step)
		dp_step(&r, row->step_ns);

	spec = spec_for(&row->pkt, f, e, f->src);
	len = pw_pkt_build(&spec, frame, sizeof(frame));
	if (!bad && (len < 0 || (size_t)len <= row->cut_bytes)) {
		print_error("%s: building the packet: %d\n", where, len);
		bad++;
	}
	if (!bad) {
		err = dp_feed(&r, frame, (size_t)len - row->cut_bytes,
			      &verdict);
		if (err) {
			print_error("%s: test run: %s\n", where,
				    strerror(-err));
			bad++;
		}
	}
	if (!bad) {
		const struct pw_replay_out *out = pw_datapath_replay_out(r.dp);

		if (verdict != row->verdict || out->reason != row->reason) {
			print_error("%s: got %s/%s, want %s/%s\n", where,
				    verdict_name(verdict),
				    reason_name(out->reason),
				    verdict_name(row->verdict),
				    reason_name(row->reason));
			bad++;
		} else if (out->verdict != verdict) {
			print_error("%s: replay_out.verdict %u, returned %u\n",
				    where, out->verdict, verdict);
			bad++;
		} else {
			bad += check_replay_out(&r, where, f, spec.src,
						out->reason);
		}
	}
	bad += dp_check_counters(&r, where, row->set.mode, tot);
	pw_datapath_close(r.dp);
	return bad;
}

/* Every row, for every family it names (or both) and every encapsulation
 * (or the tags it names). Fails the cmocka test if any check failed. */
static void run_table(const char *name, const struct dp_row *rows, size_t n)
{
	struct totals tot = {0};
	unsigned runs = 0;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const struct dp_row *row = &rows[i];

		for (size_t fi = 0; fi < ARRAY_SIZE(fams); fi++) {
			const struct fam *f = &fams[fi];

			if (row->pkt.family && row->pkt.family != f->family)
				continue;
			if (row->pkt.n_vlans) {
				bad += run_row(row, f, &encap_as_given, &tot);
				runs++;
				continue;
			}
			for (size_t ei = 0; ei < ARRAY_SIZE(encaps); ei++) {
				bad += run_row(row, f, &encaps[ei], &tot);
				runs++;
			}
		}
	}
	bad += check_totals(name, &tot);
	print_message("[ %-8s ] %zu rows, %u runs, %llu packets, %d failures\n",
		      name, n, runs, (unsigned long long)tot.pkts, bad);
	assert_int_equal(bad, 0);
}

/* --- rows: every family, every encapsulation ------------------------------ */

#define TCP_ACK(port)                                                          \
	{                                                                      \
		.proto = IPPROTO_TCP, .dport = (port), .tcp_flags = TH_ACK,    \
		.payload_len = 32                                              \
	}
#define TCP_SYN(port)                                                          \
	{                                                                      \
		.proto = IPPROTO_TCP, .dport = (port), .tcp_flags = TH_SYN     \
	}
#define UDP(port)                                                              \
	{                                                                      \
		.proto = IPPROTO_UDP, .dport = (port), .payload_len = 48       \
	}

#define PASS(r) .verdict = XDP_PASS, .reason = (r)
#define DROP(r) .verdict = XDP_DROP, .reason = (r)

static const struct dp_row policy_rows[] = {
	/* Untracked: nothing for the policy to look at. */
	{"TCP to an unprotected port", TCP_ACK(PORT_OPEN), .set = {0},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"UDP to a TCP-only protected port", UDP(PORT_TCP),
	 PASS(PW_R_PASS_UNTRACKED)},
	{"TCP to a UDP-only protected port", TCP_ACK(PORT_UDP),
	 PASS(PW_R_PASS_UNTRACKED)},
	{"ICMP echo",
	 {.proto = IPPROTO_ICMP, .payload_len = 56},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"non-IP (ARP ethertype) over a TCP SYN to a protected port",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN,
	  .ethertype_override = ETHERTYPE_ARP},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"three VLAN tags: the third is not looked through",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN,
	  .n_vlans = 3,
	  .vlan_tpid = {TPID_8021AD, TPID_8021Q, TPID_8021Q},
	  .vlan_id = {1, 2, 3}},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"TCP to an unprotected port, source banned", TCP_ACK(PORT_OPEN),
	 .set = {.ban = SEL_SRC}, PASS(PW_R_PASS_UNTRACKED)},

	/* Pass: tracked and within every bucket. */
	{"TCP ACK to a protected port", TCP_ACK(PORT_TCP), PASS(PW_R_PASS)},
	{"TCP SYN to a protected port", TCP_SYN(PORT_TCP), PASS(PW_R_PASS)},
	{"UDP to a protected port", UDP(PORT_UDP), PASS(PW_R_PASS)},
	{"TCP to a tcp+udp port", TCP_ACK(PORT_BOTH), PASS(PW_R_PASS)},
	{"UDP to a tcp+udp port", UDP(PORT_BOTH), PASS(PW_R_PASS)},
	{"default limits: 100 back-to-back packets", TCP_ACK(PORT_TCP),
	 .prime = 100, PASS(PW_R_PASS)},

	/* Trusted: before everything else, never limited. */
	{"source in a trusted prefix", TCP_SYN(PORT_TCP),
	 .set = {.trusted = SEL_NET}, PASS(PW_R_PASS_TRUSTED)},
	{"source trusted at source width", UDP(PORT_UDP),
	 .set = {.trusted = SEL_SRC}, PASS(PW_R_PASS_TRUSTED)},
	{"another prefix trusted", TCP_ACK(PORT_TCP),
	 .set = {.trusted = SEL_OTHER}, PASS(PW_R_PASS)},
	{"trusted ACK past every bucket", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_ALL, .trusted = SEL_NET}, .prime = 50,
	 PASS(PW_R_PASS_TRUSTED)},
	{"trusted SYN past every bucket", TCP_SYN(PORT_TCP),
	 .set = {.limits = LIM_ALL, .trusted = SEL_SRC}, .prime = 50,
	 PASS(PW_R_PASS_TRUSTED)},
	{"trusted and banned: trust wins", TCP_ACK(PORT_TCP),
	 .set = {.trusted = SEL_NET, .ban = SEL_SRC}, PASS(PW_R_PASS_TRUSTED)},
	{"trusted and quarantined: trust wins", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC,
		 .trusted = SEL_NET,
		 .level = PW_LVL_QUARANTINE},
	 .prime = 20, PASS(PW_R_PASS_TRUSTED)},
	{"trusted traffic does not spend the global bucket", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_GLOBAL, .trusted = SEL_ROT}, .prime = 20,
	 .rot = ROT_NET, PASS(PW_R_PASS)},

	/* Emergency: drops protected untrusted traffic only. */
	{"emergency: protected, untrusted", TCP_ACK(PORT_TCP),
	 .set = {.emergency = true}, DROP(PW_R_DROP_EMERGENCY)},
	{"emergency: UDP protected, untrusted", UDP(PORT_BOTH),
	 .set = {.emergency = true}, DROP(PW_R_DROP_EMERGENCY)},
	{"emergency: trusted", TCP_SYN(PORT_TCP),
	 .set = {.emergency = true, .trusted = SEL_NET},
	 PASS(PW_R_PASS_TRUSTED)},
	{"emergency: unprotected port", TCP_SYN(PORT_OPEN),
	 .set = {.emergency = true}, PASS(PW_R_PASS_UNTRACKED)},
	{"emergency: ICMP",
	 {.proto = IPPROTO_ICMP},
	 .set = {.emergency = true},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"emergency: banned source counts as emergency", TCP_ACK(PORT_TCP),
	 .set = {.emergency = true, .ban = SEL_SRC}, DROP(PW_R_DROP_EMERGENCY)},

	/* Bans: sanction table at source width, trie for other widths. */
	{"banned source (sanction table)", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_SRC}, DROP(PW_R_DROP_BANNED)},
	{"banned source, UDP", UDP(PORT_UDP), .set = {.ban = SEL_SRC},
	 DROP(PW_R_DROP_BANNED)},
	{"banned prefix /24 or /48 (banned-CIDR trie)", TCP_SYN(PORT_TCP),
	 .set = {.ban = SEL_NET}, DROP(PW_R_DROP_BANNED)},
	{"another prefix banned", TCP_ACK(PORT_TCP), .set = {.ban = SEL_OTHER},
	 PASS(PW_R_PASS)},
	{"source ban one ns before expiry", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_SRC, .ban_ttl_ns = BAN_TTL_NS},
	 .step_ns = BAN_TTL_NS - 1, DROP(PW_R_DROP_BANNED)},
	{"source ban at expiry", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_SRC, .ban_ttl_ns = BAN_TTL_NS},
	 .step_ns = BAN_TTL_NS, PASS(PW_R_PASS)},
	{"prefix ban one ns before expiry", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_NET, .ban_ttl_ns = BAN_TTL_NS},
	 .step_ns = BAN_TTL_NS - 1, DROP(PW_R_DROP_BANNED)},
	{"prefix ban past expiry", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_NET, .ban_ttl_ns = BAN_TTL_NS},
	 .step_ns = BAN_TTL_NS + 1, PASS(PW_R_PASS)},
	{"source ban lifted", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_SRC, .unsanction = true}, PASS(PW_R_PASS)},
	{"prefix ban lifted", TCP_ACK(PORT_TCP),
	 .set = {.ban = SEL_NET, .unsanction = true}, PASS(PW_R_PASS)},

	/* Source packet bucket: 8 at once, then one per 125 ms. */
	{"source: 8th packet of the burst", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 7, PASS(PW_R_PASS)},
	{"source: burst used", TCP_ACK(PORT_TCP), .set = {.limits = LIM_SRC},
	 .prime = 8, DROP(PW_R_DROP_RATE_SRC)},
	{"source: burst used, UDP", UDP(PORT_UDP), .set = {.limits = LIM_SRC},
	 .prime = 8, DROP(PW_R_DROP_RATE_SRC)},
	{"source: one interval refills one packet", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 8, .step_ns = T_PKT_NS,
	 PASS(PW_R_PASS)},
	{"source: one ns short of an interval", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 8, .step_ns = T_PKT_NS - 1,
	 DROP(PW_R_DROP_RATE_SRC)},
	{"source: one interval refills only one", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 8, .step_ns = T_PKT_NS,
	 .after_step = 1, DROP(PW_R_DROP_RATE_SRC)},
	{"source: dropped packets spend no tokens", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 30, .step_ns = T_PKT_NS,
	 PASS(PW_R_PASS)},
	{"source: a full refill is a full burst again", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 8,
	 .step_ns = TIGHT_PPS * T_PKT_NS, .after_step = 7, PASS(PW_R_PASS)},
	{"source: a host rotating inside its key is one source",
	 TCP_ACK(PORT_TCP), .set = {.limits = LIM_SRC}, .prime = 8,
	 .rot = ROT_HOST, DROP(PW_R_DROP_RATE_SRC)},
	{"source: other keys in the prefix are other sources",
	 TCP_ACK(PORT_TCP), .set = {.limits = LIM_SRC}, .prime = 8,
	 .rot = ROT_SRC_IN_NET, PASS(PW_R_PASS)},

	/* Source SYN bucket: SYN without ACK, whatever else is set. */
	{"SYN: 4th of the SYN burst", TCP_SYN(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 3, PASS(PW_R_PASS)},
	{"SYN: SYN burst used", TCP_SYN(PORT_TCP), .set = {.limits = LIM_SRC},
	 .prime = 4, DROP(PW_R_DROP_SYN_SRC)},
	{"SYN: SYN+ECE+CWR is a SYN",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN | TH_ECE | TH_CWR},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 DROP(PW_R_DROP_SYN_SRC)},
	{"SYN: SYN+ECE+CWR after plain SYNs",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN | TH_ECE | TH_CWR},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 .prime_pkt = TCP_SYN(PORT_TCP),
	 DROP(PW_R_DROP_SYN_SRC)},
	{"SYN: SYN+FIN+PSH is a SYN",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN | TH_FIN | TH_PUSH},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 DROP(PW_R_DROP_SYN_SRC)},
	{"SYN: SYN+ACK is not a SYN",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN | TH_ACK},
	 .set = {.limits = LIM_SRC},
	 .prime = 7,
	 PASS(PW_R_PASS)},
	{"SYN: SYN+ACK after the SYN burst",
	 {.proto = IPPROTO_TCP,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN | TH_ACK},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 .prime_pkt = TCP_SYN(PORT_TCP),
	 PASS(PW_R_PASS)},
	{"SYN: ACK after the SYN burst", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 4, .prime_pkt = TCP_SYN(PORT_TCP),
	 PASS(PW_R_PASS)},
	{"SYN: one SYN interval refills one SYN", TCP_SYN(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 4, .step_ns = T_SYN_NS,
	 PASS(PW_R_PASS)},
	{"SYN: packet bucket decides first", TCP_SYN(PORT_TCP),
	 .set = {.limits = LIM_SRC}, .prime = 8, .prime_pkt = TCP_ACK(PORT_TCP),
	 DROP(PW_R_DROP_RATE_SRC)},

	/* Levels: watch halves, throttle quarters, quarantine is its own. */
	{"quarantine: second packet", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_QUARANTINE}, .prime = 1,
	 DROP(PW_R_DROP_RATE_SRC)},
	{"quarantine: first packet", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_QUARANTINE},
	 PASS(PW_R_PASS)},
	{"quarantine: refills at the quarantine rate", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_QUARANTINE}, .prime = 1,
	 .step_ns = T_QUAR_NS, PASS(PW_R_PASS)},
	{"quarantine: not at the normal rate", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_QUARANTINE}, .prime = 1,
	 .step_ns = T_PKT_NS, DROP(PW_R_DROP_RATE_SRC)},
	{"quarantine lifted", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC,
		 .level = PW_LVL_QUARANTINE,
		 .unsanction = true},
	 .prime = 1, PASS(PW_R_PASS)},
	{"watch: 4th packet", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_WATCH}, .prime = 3,
	 PASS(PW_R_PASS)},
	{"watch: 5th packet", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_WATCH}, .prime = 4,
	 DROP(PW_R_DROP_RATE_SRC)},
	{"throttle: 3rd packet", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_THROTTLE}, .prime = 2,
	 DROP(PW_R_DROP_RATE_SRC)},
	{"throttle: second SYN", TCP_SYN(PORT_TCP),
	 .set = {.limits = LIM_SRC, .level = PW_LVL_THROTTLE}, .prime = 1,
	 DROP(PW_R_DROP_SYN_SRC)},

	/* Prefix buckets: many sources in one /24 or /48. */
	{"prefix: 8th source packet in the prefix", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_PREFIX}, .prime = 7, .rot = ROT_SRC_IN_NET,
	 PASS(PW_R_PASS)},
	{"prefix: burst used by other sources", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_PREFIX}, .prime = 8, .rot = ROT_SRC_IN_NET,
	 DROP(PW_R_DROP_RATE_PREFIX)},
	{"prefix: SYN burst used by other sources", TCP_SYN(PORT_TCP),
	 .set = {.limits = LIM_PREFIX}, .prime = 4, .rot = ROT_SRC_IN_NET,
	 DROP(PW_R_DROP_SYN_PREFIX)},
	{"prefix: one interval refills one", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_PREFIX}, .prime = 8, .rot = ROT_SRC_IN_NET,
	 .step_ns = T_PKT_NS, PASS(PW_R_PASS)},
	{"prefix: other prefixes have their own bucket", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_PREFIX}, .prime = 8, .rot = ROT_NET,
	 PASS(PW_R_PASS)},

	/* Global buckets: every untrusted source together. */
	{"global: 8th packet", UDP(PORT_UDP), .set = {.limits = LIM_GLOBAL},
	 .prime = 7, .rot = ROT_NET, PASS(PW_R_PASS)},
	{"global: burst used by other prefixes", UDP(PORT_UDP),
	 .set = {.limits = LIM_GLOBAL}, .prime = 8, .rot = ROT_NET,
	 DROP(PW_R_DROP_RATE_GLOBAL)},
	{"global: SYN burst used by other prefixes", TCP_SYN(PORT_BOTH),
	 .set = {.limits = LIM_GLOBAL}, .prime = 4, .rot = ROT_NET,
	 DROP(PW_R_DROP_SYN_GLOBAL)},
	{"global: one interval refills one", UDP(PORT_UDP),
	 .set = {.limits = LIM_GLOBAL}, .prime = 8, .rot = ROT_NET,
	 .step_ns = T_PKT_NS, PASS(PW_R_PASS)},
	{"all tight: the source bucket is checked first", TCP_ACK(PORT_TCP),
	 .set = {.limits = LIM_ALL}, .prime = 8, DROP(PW_R_DROP_RATE_SRC)},

	/* Monitor: would-drops pass, counted under their reason. */
	{"monitor: banned", TCP_ACK(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR, .ban = SEL_NET},
	 PASS(PW_R_DROP_BANNED)},
	{"monitor: emergency", TCP_ACK(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR, .emergency = true},
	 PASS(PW_R_DROP_EMERGENCY)},
	{"monitor: source bucket", TCP_ACK(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR, .limits = LIM_SRC}, .prime = 8,
	 PASS(PW_R_DROP_RATE_SRC)},
	{"monitor: source SYN bucket", TCP_SYN(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR, .limits = LIM_SRC}, .prime = 4,
	 PASS(PW_R_DROP_SYN_SRC)},
	{"monitor: prefix bucket", TCP_ACK(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR, .limits = LIM_PREFIX}, .prime = 8,
	 .rot = ROT_SRC_IN_NET, PASS(PW_R_DROP_RATE_PREFIX)},
	{"monitor: global SYN bucket", TCP_SYN(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR, .limits = LIM_GLOBAL}, .prime = 4,
	 .rot = ROT_NET, PASS(PW_R_DROP_SYN_GLOBAL)},
	{"monitor: within the buckets", TCP_ACK(PORT_TCP),
	 .set = {.mode = PW_MODE_MONITOR}, PASS(PW_R_PASS)},
	{"monitor: unprotected", TCP_ACK(PORT_OPEN),
	 .set = {.mode = PW_MODE_MONITOR, .emergency = true},
	 PASS(PW_R_PASS_UNTRACKED)},

	/* Malformed L4. The policy drops malformed IP carrying a protocol
	 * that has protected ports (docs/design.md): the port may be
	 * unreadable, so the protocol decides. */
	{"TCP data offset 4, pass policy",
	 {.proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_doff = 4},
	 PASS(PW_R_MALFORMED)},
	{"TCP data offset 4, drop policy",
	 {.proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_doff = 4},
	 .set = {.malformed = PW_MALFORMED_DROP},
	 DROP(PW_R_MALFORMED)},
	{"TCP header cut after the ports, pass policy", TCP_SYN(PORT_TCP),
	 .cut_bytes = 16, PASS(PW_R_MALFORMED)},
	{"TCP header cut after the ports, drop policy", TCP_SYN(PORT_TCP),
	 .set = {.malformed = PW_MALFORMED_DROP}, .cut_bytes = 16,
	 DROP(PW_R_MALFORMED)},
	{"UDP header cut after the ports, drop policy",
	 {.proto = IPPROTO_UDP, .dport = PORT_UDP},
	 .set = {.malformed = PW_MALFORMED_DROP},
	 .cut_bytes = 4,
	 DROP(PW_R_MALFORMED)},
	{"malformed, drop policy, monitor mode passes it",
	 {.proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_doff = 4},
	 .set = {.malformed = PW_MALFORMED_DROP, .mode = PW_MODE_MONITOR},
	 PASS(PW_R_MALFORMED)},
	{"well-formed, drop policy", TCP_SYN(PORT_TCP),
	 .set = {.malformed = PW_MALFORMED_DROP}, PASS(PW_R_PASS)},
};

/* --- rows: IPv4 only ------------------------------------------------------ */

#define V4 .family = AF_INET

static const struct dp_row ipv4_rows[] = {
	{"IHL 15 (40 bytes of options), ACK",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_flags = TH_ACK,
	  .ipv4_ihl = 15},
	 PASS(PW_R_PASS)},
	{"IHL 15, SYNs read past the options",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_flags = TH_SYN,
	  .ipv4_ihl = 15},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 DROP(PW_R_DROP_SYN_SRC)},
	{"IHL 15 to an unprotected port",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_OPEN, .ipv4_ihl = 15},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"IHL 8, UDP",
	 {V4, .proto = IPPROTO_UDP, .dport = PORT_UDP, .ipv4_ihl = 8,
	  .payload_len = 100},
	 PASS(PW_R_PASS)},
	{"IHL 4",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP, .ipv4_ihl = 4},
	 PASS(PW_R_MALFORMED)},
	{"IHL 15 beyond the frame",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP, .ipv4_ihl = 15},
	 .cut_bytes = 20 + 10,
	 PASS(PW_R_MALFORMED)},
	{"total length below the header",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP, .l3_len_override = 19},
	 PASS(PW_R_MALFORMED)},
	{"first fragment: SYN read",
	 {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_flags = TH_SYN,
	  .more_frags = true, .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 DROP(PW_R_DROP_SYN_SRC)},
	{"first fragment to an unprotected port",
	 {V4, .proto = IPPROTO_UDP, .dport = PORT_OPEN, .more_frags = true,
	  .payload_len = 64},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"non-first fragment, TCP: tracked without a port",
	 {V4, .proto = IPPROTO_TCP, .frag_off = NONFIRST_FRAG_OFF,
	  .more_frags = true, .payload_len = 64},
	 PASS(PW_R_PASS)},
	{"last fragment, UDP: tracked without a port",
	 {V4, .proto = IPPROTO_UDP, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 PASS(PW_R_PASS)},
	{"non-first fragments use up the source bucket",
	 {V4, .proto = IPPROTO_UDP, .frag_off = NONFIRST_FRAG_OFF,
	  .more_frags = true, .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 8,
	 DROP(PW_R_DROP_RATE_SRC)},
	{"non-first fragment after the source's burst",
	 {V4, .proto = IPPROTO_TCP, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 8,
	 .prime_pkt = {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP,
		       .tcp_flags = TH_ACK},
	 DROP(PW_R_DROP_RATE_SRC)},
	{"non-first fragment is not a SYN",
	 {V4, .proto = IPPROTO_TCP, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 .prime_pkt = {V4, .proto = IPPROTO_TCP, .dport = PORT_TCP,
		       .tcp_flags = TH_SYN},
	 PASS(PW_R_PASS)},
	{"non-first fragment from a banned source",
	 {V4, .proto = IPPROTO_TCP, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 .set = {.ban = SEL_SRC},
	 DROP(PW_R_DROP_BANNED)},
	{"non-first fragment, ICMP",
	 {V4, .proto = IPPROTO_ICMP, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 PASS(PW_R_PASS_UNTRACKED)},
};

/* --- rows: IPv6 only ------------------------------------------------------ */

#define V6 .family = AF_INET6
#define CHAIN3                                                                 \
	.n_ext = 3,                                                            \
	.ext_types = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING}
#define EXT_N(n)                                                               \
	.n_ext = (n),                                                          \
	.ext_types = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,       \
		      IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,       \
		      IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_ROUTING,       \
		      IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS}

static const struct dp_row ipv6_rows[] = {
	{"hop-by-hop, dstopts, routing, then TCP",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_flags = TH_ACK,
	  CHAIN3},
	 PASS(PW_R_PASS)},
	{"SYNs read through a three-header chain",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_flags = TH_SYN,
	  CHAIN3},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 DROP(PW_R_DROP_SYN_SRC)},
	{"chain, then UDP to a protected port",
	 {V6, .proto = IPPROTO_UDP, .dport = PORT_UDP, CHAIN3},
	 PASS(PW_R_PASS)},
	{"chain, then UDP to an unprotected port",
	 {V6, .proto = IPPROTO_UDP, .dport = PORT_OPEN, CHAIN3},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"chain with AH",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, .n_ext = 3,
	  .ext_types = {IPPROTO_HOPOPTS, IPPROTO_AH, IPPROTO_DSTOPTS}},
	 .set = {.ban = SEL_SRC},
	 DROP(PW_R_DROP_BANNED)},
	{"chain, then no next header",
	 {V6, .proto = IPPROTO_NONE, CHAIN3},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"chain, then ICMPv6",
	 {V6, .proto = IPPROTO_ICMPV6, CHAIN3},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"routing header cut short",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, CHAIN3},
	 .cut_bytes = 20 + 4,
	 PASS(PW_R_MALFORMED)},
	{"fragment header, first fragment: SYN read",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, .tcp_flags = TH_SYN,
	  .more_frags = true, .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 4,
	 DROP(PW_R_DROP_SYN_SRC)},
	{"fragment header, first fragment, unprotected port",
	 {V6, .proto = IPPROTO_UDP, .dport = PORT_OPEN, .more_frags = true,
	  .payload_len = 64},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"hop-by-hop, fragment, dstopts: first fragment",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, .more_frags = true,
	  .n_ext = 3,
	  .ext_types = {IPPROTO_HOPOPTS, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS}},
	 PASS(PW_R_PASS)},
	{"fragment header, non-first: tracked without a port",
	 {V6, .proto = IPPROTO_TCP, .frag_off = NONFIRST_FRAG_OFF,
	  .more_frags = true, .payload_len = 64},
	 PASS(PW_R_PASS)},
	{"hop-by-hop, then a non-first fragment",
	 {V6, .proto = IPPROTO_UDP, .frag_off = NONFIRST_FRAG_OFF, .n_ext = 1,
	  .ext_types = {IPPROTO_HOPOPTS}, .payload_len = 64},
	 PASS(PW_R_PASS)},
	{"non-first fragments use up the source bucket",
	 {V6, .proto = IPPROTO_TCP, .frag_off = NONFIRST_FRAG_OFF,
	  .more_frags = true, .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 8,
	 DROP(PW_R_DROP_RATE_SRC)},
	{"non-first fragment after the source's burst",
	 {V6, .proto = IPPROTO_UDP, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 .set = {.limits = LIM_SRC},
	 .prime = 8,
	 .prime_pkt = {V6, .proto = IPPROTO_UDP, .dport = PORT_UDP},
	 DROP(PW_R_DROP_RATE_SRC)},
	{"non-first fragment, ICMPv6",
	 {V6, .proto = IPPROTO_ICMPV6, .frag_off = NONFIRST_FRAG_OFF,
	  .payload_len = 64},
	 PASS(PW_R_PASS_UNTRACKED)},
	{"7 extension headers, then TCP",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP,
	  EXT_N(PARSER_EXT_MAX - 1)},
	 PASS(PW_R_PASS)},
	{"8 extension headers (PW_IPV6_EXT_MAX), then TCP",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, EXT_N(PARSER_EXT_MAX)},
	 PASS(PW_R_PASS)},
	{"9 extension headers: longer than PW_IPV6_EXT_MAX",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP,
	  EXT_N(PARSER_EXT_MAX + 1)},
	 PASS(PW_R_MALFORMED)},
	{"12 extension headers, drop policy: protocol unknown, passes",
	 {V6, .proto = IPPROTO_TCP, .dport = PORT_TCP, EXT_N(12)},
	 .set = {.malformed = PW_MALFORMED_DROP},
	 PASS(PW_R_MALFORMED)},
};

/* --- tests --------------------------------------------------------------- */

static void test_policy(void **state)
{
	(void)state;
	run_table("policy", policy_rows, ARRAY_SIZE(policy_rows));
}

static void test_ipv4(void **state)
{
	(void)state;
	run_table("ipv4", ipv4_rows, ARRAY_SIZE(ipv4_rows));
}

static void test_ipv6(void **state)
{
	(void)state;
	run_table("ipv6", ipv6_rows, ARRAY_SIZE(ipv6_rows));
}

/* Source keys: hosts rotating inside a /64 share one key, and with it one
 * bucket; the next /64 is another source. */
static void test_ipv6_source_key(void **state)
{
	static const char *const hosts[] = {
		"2001:db8:1:1::1", "2001:db8:1:1:ffff:ffff:ffff:ffff",
		"2001:db8:1:1:8000::", "2001:db8:1:2::1"};
	uint8_t keys[ARRAY_SIZE(hosts)][16], want[16], frame[FRAME_MAX_BYTES];
	struct pw_config cfg;
	struct dp_run r;
	uint32_t verdict;

	(void)state;
	config_for(&(struct dp_setup){0}, &cfg);
	assert_int_equal(dp_open(&cfg, &r), 0);
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
		struct pw_pktspec s = {.family = AF_INET6,
				       .src = hosts[i],
				       .proto = IPPROTO_TCP,
				       .dport = PORT_TCP,
				       .tcp_flags = TH_ACK};
		const struct pw_replay_out *out;
		int len = pw_pkt_build(&s, frame, sizeof(frame));

		assert_true(len > 0);
		assert_int_equal(dp_feed(&r, frame, len, &verdict), 0);
		out = pw_datapath_replay_out(r.dp);
		assert_int_equal(out->reason, PW_R_PASS);
		assert_int_equal(out->family, 6);
		assert_int_equal(out->prefixlen, 64);
		memcpy(keys[i], out->addr, 16);
		src_key(&fams[1], hosts[i], want);
		assert_memory_equal(keys[i], want, 16);
	}
	assert_memory_equal(keys[0], keys[1], 16);
	assert_memory_equal(keys[0], keys[2], 16);
	assert_memory_not_equal(keys[0], keys[3], 16);
	assert_int_equal(
		dp_check_counters(&r, "source key", PW_MODE_ENFORCE, NULL), 0);
	pw_datapath_close(r.dp);
}

/* A truncation case: a well-formed frame and the reason it gets whole. */
struct trunc_case {
	const char *desc;
	struct pw_pktspec pkt;
	uint32_t reason;
};

static const struct trunc_case trunc_cases[] = {
	{"IPv4 SYN, untagged",
	 {.family = AF_INET,
	  .src = "198.18.0.1",
	  .proto = IPPROTO_TCP,
	  .sport = SPORT,
	  .dport = PORT_TCP,
	  .tcp_flags = TH_SYN},
	 PW_R_PASS},
	{"IPv6 TCP behind 2 VLAN tags and hop-by-hop, dstopts, routing",
	 {.family = AF_INET6,
	  .src = "2001:db8:1:1::1",
	  .proto = IPPROTO_TCP,
	  .sport = SPORT,
	  .dport = PORT_BOTH,
	  .tcp_flags = TH_ACK,
	  .n_vlans = 2,
	  .vlan_tpid = {TPID_8021AD, TPID_8021Q},
	  .vlan_id = {100, 200},
	  CHAIN3,
	  .payload_len = 8},
	 PW_R_PASS},
	{"IPv4 UDP with options (IHL 8)",
	 {.family = AF_INET,
	  .src = "198.18.0.2",
	  .proto = IPPROTO_UDP,
	  .sport = SPORT,
	  .dport = PORT_UDP,
	  .ipv4_ihl = 8,
	  .payload_len = 8},
	 PW_R_PASS},
	{"IPv6 UDP, first fragment, 802.1Q",
	 {.family = AF_INET6,
	  .src = "2001:db8:1:2::1",
	  .proto = IPPROTO_UDP,
	  .sport = SPORT,
	  .dport = PORT_UDP,
	  .more_frags = true,
	  .n_vlans = 1,
	  .vlan_tpid = {TPID_8021Q},
	  .vlan_id = {7},
	  .payload_len = 8},
	 PW_R_PASS},
};

/* Every prefix of a well-formed frame. Below an Ethernet header the
 * kernel's test-run refuses the frame (-EINVAL); from there on the program
 * must return PASS or DROP (never ABORTED), call anything cut before the
 * end of the L4 header malformed and pass it (pass policy), and give the
 * whole frame its reason. */
static void test_truncation(void **state)
{
	struct totals tot = {0};
	int bad = 0;

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(trunc_cases); c++) {
		const struct trunc_case *tc = &trunc_cases[c];
		uint8_t frame[FRAME_MAX_BYTES];
		struct pw_pktlayout lay;
		struct pw_config cfg;
		struct dp_run r;
		char where[256];
		int len;

		len = pw_pkt_build_layout(&tc->pkt, frame, sizeof(frame), &lay);
		assert_true(len > 0);
		config_for(&(struct dp_setup){0}, &cfg);
		assert_int_equal(dp_open(&cfg, &r), 0);
		for (int n = 0; n <= len; n++) {
			const struct pw_replay_out *out;
			uint32_t verdict, want;
			int err;

			snprintf(where, sizeof(where), "'%s' cut to %d of %d",
				 tc->desc, n, len);
			err = dp_feed(&r, frame, (size_t)n, &verdict);
			if (n < ETH_HDR_BYTES) {
				if (err != -EINVAL) {
					print_error("%s: test run %d, want "
						    "-EINVAL\n",
						    where, err);
					bad++;
				}
				continue;
			}
			if (err) {
				print_error("%s: test run: %s\n", where,
					    strerror(-err));
				bad++;
				continue;
			}
			out = pw_datapath_replay_out(r.dp);
			want = (size_t)n < lay.l4_end ? PW_R_MALFORMED
						      : tc->reason;
			if (verdict != XDP_PASS || out->reason != want) {
				print_error("%s: got %s/%s, want "
					    "XDP_PASS/%s\n",
					    where, verdict_name(verdict),
					    reason_name(out->reason),
					    reason_name(want));
				bad++;
			}
		}
		bad += dp_check_counters(&r, tc->desc, PW_MODE_ENFORCE, &tot);
		pw_datapath_close(r.dp);
	}
	bad += check_totals("truncation", &tot);
	print_message("[ trunc    ] %zu frames, %llu packets, %d failures\n",
		      ARRAY_SIZE(trunc_cases), (unsigned long long)tot.pkts,
		      bad);
	assert_int_equal(bad, 0);
}

/* The builder itself: lengths, the IPv4 header checksum, layer offsets
 * and the specs it must refuse. The datapath rows above trust it. */

/* A sanction table full of levels (a spoofed flood's watch levels) still
 * takes a ban: the lowest level gives way. A level never evicts a ban or
 * a higher level; with nothing lower it is refused. */
static void test_sanction_table_full(void **state)
{
	struct pw_config cfg;
	struct pw_cidr c = {.family = AF_INET, .prefixlen = 32};
	struct dp_run r;
	struct pw_sanction v;
	uint8_t key[4];
	int fd, n = 0;
	void *prev = NULL;

	(void)state;
	config_for(&(struct dp_setup){0}, &cfg);
	cfg.maps.sanctions = PW_MAP_MIN_ENTRIES;
	assert_int_equal(dp_open(&cfg, &r), 0);
	fd = pw_datapath_map_fd(r.dp, "sanction_v4");
	assert_true(fd >= 0);
	for (int i = 0; i < PW_MAP_MIN_ENTRIES; i++) {
		c.addr[0] = 198, c.addr[1] = 18, c.addr[2] = 7;
		c.addr[3] = (uint8_t)(i + 1);
		assert_int_equal(
			pw_datapath_sanction(
				r.dp, &c, PW_SANCTION_LEVEL,
				i == 0 ? PW_LVL_QUARANTINE : PW_LVL_WATCH, 0),
			0);
	}
	/* Full: a new watch level has nothing lower to displace. */
	c.addr[2] = 8;
	c.addr[3] = 1;
	assert_int_equal(pw_datapath_sanction(r.dp, &c, PW_SANCTION_LEVEL,
					      PW_LVL_WATCH, 0),
			 -E2BIG);
	/* Bans get in, each displacing a watch level. */
	for (int i = 0; i < PW_MAP_MIN_ENTRIES - 1; i++) {
		c.addr[3] = (uint8_t)(i + 1);
		assert_int_equal(pw_datapath_sanction(r.dp, &c, PW_SANCTION_BAN,
						      PW_LVL_NORMAL, 0),
				 0);
	}
	/* Now only the quarantine and bans: the quarantine goes for the
	 * next ban, then bans are never displaced. */
	c.addr[3] = 100;
	assert_int_equal(pw_datapath_sanction(r.dp, &c, PW_SANCTION_BAN,
					      PW_LVL_NORMAL, 0),
			 0);
	c.addr[3] = 101;
	assert_int_equal(pw_datapath_sanction(r.dp, &c, PW_SANCTION_BAN,
					      PW_LVL_NORMAL, 0),
			 -E2BIG);
	while (!bpf_map_get_next_key(fd, prev, key)) {
		assert_int_equal(bpf_map_lookup_elem(fd, key, &v), 0);
		assert_int_equal(v.kind, PW_SANCTION_BAN);
		n++;
		prev = key;
	}
	assert_int_equal(n, PW_MAP_MIN_ENTRIES);
	pw_datapath_close(r.dp);
}

/* A spoofed flood against a tight global bucket: the packets it drops
 * from sources without state create none (no table churn, no attention
 * events), an honest source's entry stays and still counts its drops (the
 * flood emptied the packet bucket too: rate or SYN, either counts), and
 * every packet is still counted under its reason. Per family. */
static void test_spoofed_no_state(void **state)
{
	static const struct pw_pktspec syn = TCP_SYN(PORT_BOTH);
	const struct encap *e = &encaps[0];
	enum { SPOOFED = 100 };

	(void)state;
	for (size_t fi = 0; fi < ARRAY_SIZE(fams); fi++) {
		const struct fam *f = &fams[fi];
		uint8_t frame[FRAME_MAX_BYTES], key[16], next[16];
		struct pw_stat st[PW_STAT_NR];
		struct pw_pktspec spec;
		struct pw_src_state v;
		struct pw_config cfg;
		char addr[INET6_ADDRSTRLEN];
		struct dp_run r;
		uint32_t verdict, passed = 0, entries = 0;
		void *prev = NULL;
		int fd, len;

		config_for(&(struct dp_setup){.limits = LIM_GLOBAL}, &cfg);
		assert_int_equal(dp_open(&cfg, &r), 0);
		fd = pw_datapath_map_fd(r.dp, f->family == AF_INET ? "src_v4"
								   : "src_v6");
		assert_true(fd >= 0);

		/* The honest source first: one SYN of the global burst. */
		spec = spec_for(&syn, f, e, f->src);
		len = pw_pkt_build(&spec, frame, sizeof(frame));
		assert_true(len > 0);
		assert_int_equal(dp_feed(&r, frame, (size_t)len, &verdict), 0);
		assert_int_equal(verdict, XDP_PASS);

		/* The flood: the rest of the SYN burst passes, then nothing. */
		for (unsigned i = 0; i < SPOOFED; i++) {
			rot_addr(f, ROT_NET, i, addr, sizeof(addr));
			spec = spec_for(&syn, f, e, addr);
			len = pw_pkt_build(&spec, frame, sizeof(frame));
			assert_true(len > 0);
			assert_int_equal(
				dp_feed(&r, frame, (size_t)len, &verdict), 0);
			passed += verdict == XDP_PASS;
		}
		assert_int_equal(passed, TIGHT_SYN_PPS - 1);

		/* State for the honest source and the ones that passed only. */
		while (!bpf_map_get_next_key(fd, prev, next)) {
			memcpy(key, next, sizeof(key));
			prev = key;
			entries++;
		}
		assert_int_equal(entries, TIGHT_SYN_PPS);

		/* The honest source, once more: its entry is there, and the
		 * global bucket's drop is counted on it. */
		spec = spec_for(&syn, f, e, f->src);
		len = pw_pkt_build(&spec, frame, sizeof(frame));
		assert_int_equal(dp_feed(&r, frame, (size_t)len, &verdict), 0);
		assert_int_equal(verdict, XDP_DROP);
		src_key(f, f->src, key);
		assert_int_equal(bpf_map_lookup_elem(fd, key, &v), 0);
		assert_int_equal(v.syns, 2);
		assert_int_equal(v.drops[PW_SD_RATE_GLOBAL] +
					 v.drops[PW_SD_SYN_GLOBAL],
				 1);

		/* Every packet under its reason; one attention event per
		 * source with state (each opened a connection). */
		assert_int_equal(pw_datapath_stats(r.dp, st), 0);
		assert_int_equal(st[PW_R_PASS].packets, TIGHT_SYN_PPS);
		assert_int_equal(st[PW_R_DROP_RATE_GLOBAL].packets +
					 st[PW_R_DROP_SYN_GLOBAL].packets,
				 SPOOFED - (TIGHT_SYN_PPS - 1) + 1);
		assert_int_equal(st[PW_X_ATTN_EVENTS].packets, TIGHT_SYN_PPS);
		pw_datapath_close(r.dp);
	}
}

static void test_pktbuild(void **state)
{
	static const struct pw_pktspec bad[] = {
		{.family = 0, .proto = IPPROTO_TCP},
		{.family = AF_INET, .src = "198.18.0.300"},
		{.family = AF_INET6, .src = "198.18.0.1"},
		{.family = AF_INET, .n_vlans = PW_PKT_VLAN_MAX + 1},
		{.family = AF_INET, .ipv4_ihl = 16},
		{.family = AF_INET, .n_ext = 1},
		{.family = AF_INET6, .ipv4_ihl = 6},
		{.family = AF_INET6, .n_ext = PW_PKT_EXT_MAX + 1},
		{.family = AF_INET6, .n_ext = 1, .ext_types = {IPPROTO_TCP}},
		{.family = AF_INET, .proto = IPPROTO_TCP, .tcp_doff = 16},
		{.family = AF_INET, .payload_len = 65535},
	};
	struct pw_pktspec v4 = {.family = AF_INET,
				.proto = IPPROTO_UDP,
				.dport = PORT_UDP,
				.ipv4_ihl = 7,
				.n_vlans = 2,
				.payload_len = 11};
	struct pw_pktspec v6 = {.family = AF_INET6,
				.proto = IPPROTO_TCP,
				.tcp_doff = 6,
				.n_ext = 2,
				.ext_types = {IPPROTO_HOPOPTS, IPPROTO_AH},
				.frag_off = 0,
				.more_frags = true,
				.payload_len = 5};
	uint8_t frame[FRAME_MAX_BYTES];
	struct pw_pktlayout lay;
	uint32_t sum = 0;
	int len;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t *big = malloc(PW_PKT_MAX_BYTES);

		assert_non_null(big);
		assert_int_equal(pw_pkt_build(&bad[i], big, PW_PKT_MAX_BYTES),
				 -EINVAL);
		free(big);
	}

	/* 14 + 2 tags + 28-byte IPv4 header + 8 UDP + 11 payload */
	len = pw_pkt_build_layout(&v4, frame, sizeof(frame), &lay);
	assert_int_equal(len, 14 + 8 + 28 + 8 + 11);
	assert_int_equal(lay.l3_off, 22);
	assert_int_equal(lay.l4_off, 50);
	assert_int_equal(lay.l4_end, 58);
	assert_int_equal(frame[12] << 8 | frame[13], TPID_8021Q);
	assert_int_equal(frame[20] << 8 | frame[21], 0x0800);
	assert_int_equal(frame[22], 0x47);
	assert_int_equal(frame[24] << 8 | frame[25], len - 22);
	for (int i = 0; i < 28; i += 2)
		sum += frame[22 + i] << 8 | frame[22 + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff); /* header sums to -0: checksum ok */
	assert_int_equal(frame[54] << 8 | frame[55], 8 + 11); /* UDP length */
	assert_int_equal(pw_pkt_build(&v4, frame, (size_t)len - 1), -ENOSPC);
	assert_int_equal(pw_pkt_build(&v4, frame, (size_t)len), len);

	/* 14 + 40 + hop-by-hop 8 + AH 12 + fragment 8 + TCP 24 + 5 */
	len = pw_pkt_build_layout(&v6, frame, sizeof(frame), &lay);
	assert_int_equal(len, 14 + 40 + 8 + 12 + 8 + 24 + 5);
	assert_int_equal(lay.l4_off, 14 + 40 + 28);
	assert_int_equal(lay.l4_end, lay.l4_off + 24);
	assert_int_equal(frame[18] << 8 | frame[19], len - 54);
	assert_int_equal(frame[20], IPPROTO_HOPOPTS);
	assert_int_equal(frame[54], IPPROTO_AH);
	assert_int_equal(frame[62], IPPROTO_FRAGMENT);
	assert_int_equal(frame[74], IPPROTO_TCP);
	assert_int_equal(frame[76] << 8 | frame[77], 1); /* offset 0, M */
	assert_int_equal(frame[lay.l4_off + 12] >> 4, 6);

	/* A non-first fragment has no L4 header. */
	v6.frag_off = NONFIRST_FRAG_OFF;
	len = pw_pkt_build_layout(&v6, frame, sizeof(frame), &lay);
	assert_int_equal(len, 14 + 40 + 28 + 5);
	assert_int_equal(lay.l4_end, lay.l4_off);
}

/* --- drop sampling ------------------------------------------------------- */

#define SAMPLE_SRC     "198.18.7.7"
#define SAMPLE_PAYLOAD 100
#define SAMPLE_MAX     64

/* A sampling case: the config's and the window's reasons, what is sent,
 * and what the "samples" ring must hold afterwards. */
struct sample_row {
	const char *desc;
	uint32_t always;     /* capture.reasons */
	uint32_t window;     /* pw_datapath_set_sampling() reasons */
	int64_t window_s;    /* window end, seconds from START_NS */
	uint32_t per_second; /* 0: the default */
	uint32_t snaplen;    /* 0: the default */
	enum pw_mode mode;
	bool ban;	/* ban SAMPLE_SRC first */
	unsigned sent;	/* packets sent at one instant */
	unsigned later; /* more packets sent one second later */
	unsigned want;	/* records expected */
	uint32_t want_reason;
	uint32_t want_flags;
	uint64_t want_limited; /* samples_limited counter */
};

#define BIT(r) (1u << (r))

static const struct sample_row sample_rows[] = {
	{"off: a banned source's drops leave no record", .ban = true,
	 .sent = 5},
	{"window on drop_banned: one record per drop",
	 .window = BIT(PW_R_DROP_BANNED), .window_s = 10, .ban = true,
	 .sent = 3, .want = 3, .want_reason = PW_R_DROP_BANNED},
	{"passed packets are never sampled", .window = PW_SAMPLE_REASONS_ALL,
	 .window_s = 10, .sent = 5},
	{"a reason not asked for is not sampled",
	 .window = BIT(PW_R_DROP_RATE_SRC), .window_s = 10, .ban = true,
	 .sent = 5},
	{"the window has ended: nothing", .window = BIT(PW_R_DROP_BANNED),
	 .window_s = -1, .ban = true, .sent = 5},
	{"capture.reasons samples with no window",
	 .always = BIT(PW_R_DROP_BANNED), .ban = true, .sent = 2, .want = 2,
	 .want_reason = PW_R_DROP_BANNED},
	{"the per-second budget holds a flood back",
	 .always = BIT(PW_R_DROP_BANNED), .per_second = 4, .ban = true,
	 .sent = 10, .later = 10, .want = 8, .want_reason = PW_R_DROP_BANNED,
	 .want_limited = 12},
	{"monitor: a would-drop is sampled and marked",
	 .window = BIT(PW_R_DROP_BANNED), .window_s = 10,
	 .mode = PW_MODE_MONITOR, .ban = true, .sent = 1, .want = 1,
	 .want_reason = PW_R_DROP_BANNED, .want_flags = PW_SAMPLE_MONITOR},
	{"snaplen beyond the frame keeps the whole frame",
	 .window = BIT(PW_R_DROP_BANNED), .window_s = 10,
	 .snaplen = PW_SAMPLE_MAX_BYTES, .ban = true, .sent = 1, .want = 1,
	 .want_reason = PW_R_DROP_BANNED},
};

struct sample_seen {
	const struct sample_row *row;
	const uint8_t *frame;
	uint32_t frame_len, snaplen;
	unsigned n, bad;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct sample_seen *seen = ctx;
	const struct sample_row *row = seen->row;
	const struct pw_sample *rec = data;
	uint32_t cap = seen->snaplen < seen->frame_len ? seen->snaplen
						       : seen->frame_len;

	seen->n++;
	if (size < sizeof(*rec) || rec->reason != row->want_reason ||
	    rec->flags != row->want_flags || rec->orig_len != seen->frame_len ||
	    rec->cap_len != cap || memcmp(rec->data, seen->frame, cap) ||
	    rec->ts_ns < START_NS) {
		print_error("%s: record %u: reason %s flags %u orig %u cap %u "
			    "(want %s, %u, %u, %u)\n",
			    row->desc, seen->n, reason_name(rec->reason),
			    rec->flags, rec->orig_len, rec->cap_len,
			    reason_name(row->want_reason), row->want_flags,
			    seen->frame_len, cap);
		seen->bad++;
	}
	return 0;
}

static int run_sample_row(const struct sample_row *row)
{
	struct pw_pktspec spec = {.family = AF_INET,
				  .src = SAMPLE_SRC,
				  .proto = IPPROTO_TCP,
				  .sport = SPORT,
				  .dport = PORT_TCP,
				  .tcp_flags = TH_ACK,
				  .payload_len = SAMPLE_PAYLOAD};
	uint8_t frame[FRAME_MAX_BYTES];
	struct sample_seen seen = {.row = row, .frame = frame};
	struct pw_stat st[PW_STAT_NR];
	struct ring_buffer *rb = NULL;
	struct pw_config cfg;
	struct pw_cidr src;
	struct dp_run r;
	uint32_t verdict;
	int len, fails = 0;

	config_for(&(struct dp_setup){.mode = row->mode}, &cfg);
	cfg.capture.reasons = row->always;
	if (row->per_second)
		cfg.capture.per_second = row->per_second;
	if (row->snaplen)
		cfg.capture.snaplen = row->snaplen;
	seen.snaplen = cfg.capture.snaplen;
	len = pw_pkt_build(&spec, frame, sizeof(frame));
	if (len <= 0 || dp_open(&cfg, &r))
		return 1;
	seen.frame_len = (uint32_t)len;
	cidr_or_die(SAMPLE_SRC "/32", &src);
	if (row->ban)
		fails += !!pw_datapath_sanction(r.dp, &src, PW_SANCTION_BAN,
						PW_LVL_NORMAL, 0);
	if (row->window)
		fails += !!pw_datapath_set_sampling(
			r.dp, row->window,
			(uint64_t)((int64_t)START_NS +
				   row->window_s * (int64_t)NS_PER_S));
	rb = ring_buffer__new(pw_datapath_map_fd(r.dp, "samples"), on_sample,
			      &seen, NULL);
	fails += !rb;
	for (unsigned i = 0; !fails && i < row->sent + row->later; i++) {
		if (i == row->sent)
			dp_step(&r, NS_PER_S);
		fails += !!dp_feed(&r, frame, (size_t)len, &verdict);
	}
	if (rb && ring_buffer__consume(rb) < 0)
		fails++;
	if (seen.n != row->want) {
		print_error("%s: %u records, want %u\n", row->desc, seen.n,
			    row->want);
		fails++;
	}
	if (pw_datapath_stats(r.dp, st) ||
	    st[PW_X_SAMPLES].packets != row->want ||
	    st[PW_X_SAMPLES_LIMITED].packets != row->want_limited ||
	    st[PW_X_SAMPLES_LOST].packets != 0) {
		print_error(
			"%s: counters samples %llu limited %llu lost %llu "
			"(want %u, %llu, 0)\n",
			row->desc, (unsigned long long)st[PW_X_SAMPLES].packets,
			(unsigned long long)st[PW_X_SAMPLES_LIMITED].packets,
			(unsigned long long)st[PW_X_SAMPLES_LOST].packets,
			row->want, (unsigned long long)row->want_limited);
		fails++;
	}
	fails += dp_check_counters(&r, row->desc, row->mode, NULL);
	ring_buffer__free(rb);
	pw_datapath_close(r.dp);
	return fails + (int)seen.bad;
}

static void test_sampling(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sample_rows); i++)
		fails += run_sample_row(&sample_rows[i]) ? 1 : 0;
	assert_int_equal(fails, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pktbuild),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ipv6_source_key),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_sanction_table_full),
		cmocka_unit_test(test_spoofed_no_state),
		cmocka_unit_test(test_sampling),
	};

	return cmocka_run_group_tests_name("datapath", tests, NULL, NULL);
}
