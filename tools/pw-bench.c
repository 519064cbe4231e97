// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pw-bench - what the datapath costs per packet, against two floors.
 *
 * Every class runs one 64-byte IPv4 TCP SYN frame (198.18.5.5:40000 ->
 * 198.18.0.1:26656, only the source or the port changed where the class
 * needs it) through BPF_PROG_TEST_RUN with .repeat = N; the kernel reports
 * the mean time per run of the program, and the median over K such runs is
 * the class's number. Classes:
 *
 *   bare_pass     bare.bpf.o, a program that only returns XDP_PASS
 *   xdp_filter    xdp-tools' xdpfilt_alw_all.o (deny list) with entries
 *                 in all four of its maps that do not match: full path
 *   untracked     peerwall, SYN to an unprotected port
 *   trusted       peerwall, source in a trusted CIDR
 *   tracked       peerwall, every bucket run and passing (huge limits)
 *   rate_dropped  peerwall, default limits, source bucket already empty
 *   banned        peerwall, source banned (/32 sanction)
 *   emergency     peerwall, emergency mode, untrusted source
 *
 * Each class checks that it measured what it claims: the verdict of every
 * run, and for peerwall the per-reason counters (every packet sent must be
 * counted under the class's reason). One warm-up run per class is not
 * timed. The process pins itself to one CPU so per-CPU maps stay hot.
 *
 * Output: a table on stdout and, with --json, the "datapath" object of
 * build/bench.json ({"datapath": {class: {ns_per_pkt, verdict}}});
 * tools/bench.sh merges the replay rate into it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/bpf.h>

#include "cidr.h"
#include "config.h"
#include "datapath.h"
#include "log.h"
#include "pktbuild.h"

#define BENCH_DEF_REPEAT   1000000u
#define BENCH_DEF_RUNS	   5u
#define BENCH_MAX_RUNS	   101u
#define BENCH_FRAME_LEN	   64
#define BENCH_DEF_BARE_OBJ "build/bpf/bare.bpf.o"
#define BENCH_XDPFILT_OBJ  "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o"

/* The frame: everything but the source address and destination port is
 * the same for every class. */
#define BENCH_SRC_UNTRUSTED	"198.18.5.5"
#define BENCH_SRC_TRUSTED	"198.18.1.7"
#define BENCH_SRC_TRACKED	"198.18.5.6"
#define BENCH_SRC_RATE		"198.18.5.7"
#define BENCH_SRC_BANNED	"198.18.6.6"
#define BENCH_SRC_EMERGENCY	"198.18.7.7"
#define BENCH_DST		"198.18.0.1"
#define BENCH_SPORT		40000
#define BENCH_DPORT		26656
#define BENCH_DPORT_UNPROTECTED 8080

/* xdp-filter's map value flags (xdp-tools, xdp-filter/common_kern_user.h). */
#define XF_FLAG_SRC (1u << 0)
#define XF_FLAG_DST (1u << 1)
#define XF_FLAG_TCP (1u << 2)
#define XF_FLAG_UDP (1u << 3)

struct bench_opts {
	unsigned int repeat;
	unsigned int runs;
	const char *json;
	bool verbose;
};

struct bench_result {
	const char *name;
	__u32 median, min, max;
	__u32 retval;	/* verdict of the last run */
	bool ok;	/* every run gave the expected verdict/counters */
	char check[96]; /* what the counters said */
};

struct frame {
	__u8 buf[BENCH_FRAME_LEN];
	__u32 len;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pw-bench [--repeat N] [--runs K] [--json FILE] [-v]\n"
		"Per-packet cost of the peerwall datapath and two floors "
		"(bare XDP_PASS,\nxdp-filter) with BPF_PROG_TEST_RUN: median "
		"of K runs of N repetitions.\n"
		"  --repeat N  repetitions per run (default %u)\n"
		"  --runs K    timed runs per class, 1..%u (default %u)\n"
		"  --json FILE write {\"datapath\": {...}} to FILE\n"
		"Environment: PW_BARE_OBJ (default %s).\n",
		BENCH_DEF_REPEAT, BENCH_MAX_RUNS, BENCH_DEF_RUNS,
		BENCH_DEF_BARE_OBJ);
}

static int parse_uint(const char *s, unsigned int lo, unsigned int hi,
		      unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{"repeat", required_argument, NULL, 'n'},
		{"runs", required_argument, NULL, 'k'},
		{"json", required_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	o->repeat = BENCH_DEF_REPEAT;
	o->runs = BENCH_DEF_RUNS;
	while ((c = getopt_long(argc, argv, "n:k:j:vh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, 1, UINT32_MAX, &o->repeat)) {
				log_err("--repeat: expected 1..%u, got '%s'",
					UINT32_MAX, optarg);
				return -EINVAL;
			}
			break;
		case 'k':
			if (parse_uint(optarg, 1, BENCH_MAX_RUNS, &o->runs)) {
				log_err("--runs: expected 1..%u, got '%s'",
					BENCH_MAX_RUNS, optarg);
				return -EINVAL;
			}
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* --- the frame ------------------------------------------------------------ */

/* A 54-byte SYN (no options, no payload) followed by zeros up to 64
 * bytes, as a minimum-size Ethernet frame arrives (IP tot_len stays 40). */
static int make_frame(const char *saddr, __u16 dport, struct frame *f)
{
	struct pw_pktspec spec = {
		.family = AF_INET,
		.src = saddr,
		.dst = BENCH_DST,
		.proto = IPPROTO_TCP,
		.sport = BENCH_SPORT,
		.dport = dport,
		.tcp_flags = TH_SYN,
	};
	int n;

	memset(f->buf, 0, sizeof(f->buf));
	n = pw_pkt_build(&spec, f->buf, sizeof(f->buf));
	if (n < 0) {
		log_err("building the frame: %s", strerror(-n));
		return n;
	}
	f->len = BENCH_FRAME_LEN;
	return 0;
}

/* --- timing -----------------------------------------------------------------
 */

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* One untimed warm-up run, then opts->runs timed ones. Fills the timing
 * fields of r; r->ok is cleared when a run's verdict is not `want`.
 * Returns 0 or a negative errno when the kernel refused to run. */
static int time_prog(const struct bench_opts *o, int prog_fd,
		     const struct frame *f, __u32 want, struct bench_result *r)
{
	__u32 d[BENCH_MAX_RUNS];

	for (unsigned int i = 0; i <= o->runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = f->buf,
			    .data_size_in = f->len, .repeat = o->repeat);

		if (bpf_prog_test_run_opts(prog_fd, &topts)) {
			int err = -errno;

			log_err("%s: BPF_PROG_TEST_RUN: %s", r->name,
				strerror(-err));
			return err;
		}
		r->retval = topts.retval;
		if (topts.retval != want) {
			log_warn("%s: run %u returned verdict %u, expected %u",
				 r->name, i, topts.retval, want);
			r->ok = false;
		}
		if (i > 0)
			d[i - 1] = topts.duration;
	}
	qsort(d, o->runs, sizeof(d[0]), cmp_u32);
	r->min = d[0];
	r->max = d[o->runs - 1];
	r->median = o->runs % 2 ? d[o->runs / 2]
				: (d[o->runs / 2 - 1] + d[o->runs / 2] + 1) / 2;
	return 0;
}

static __u64 total_packets(const struct bench_opts *o)
{
	return (__u64)o->repeat * (o->runs + 1);
}

/* --- bare_pass ----------------------------------------------------------- */

static int bench_bare(const struct bench_opts *o, const struct frame *f,
		      struct bench_result *r)
{
	const char *path = getenv("PW_BARE_OBJ");
	struct bpf_program *prog;
	struct bpf_object *obj;
	int err;

	if (!path || !*path)
		path = BENCH_DEF_BARE_OBJ;
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		err = -errno;
		log_err("bare_pass: opening %s: %s", path, strerror(-err));
		return err;
	}
	err = bpf_object__load(obj);
	if (err) {
		log_err("bare_pass: loading %s: %s", path, strerror(-err));
		goto out;
	}
	prog = bpf_object__find_program_by_name(obj, "bare_pass");
	if (!prog) {
		err = -ENOENT;
		log_err("bare_pass: no program bare_pass in %s", path);
		goto out;
	}
	err = time_prog(o, bpf_program__fd(prog), f, XDP_PASS, r);
	snprintf(r->check, sizeof(r->check), "-");
out:
	bpf_object__close(obj);
	return err;
}

/* --- xdp_filter -------------------------------------------------------------
 */

/* Set one entry of an xdp-filter per-CPU map: every CPU's slot holds the
 * flags, as xdp-filter itself writes them (hit counters accumulate above
 * the flag bits). */
static int xf_put(struct bpf_object *obj, const char *map, const void *key,
		  __u64 flags, __u64 *percpu, int ncpu)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);

	if (!m) {
		log_err("xdp_filter: no map %s", map);
		return -ENOENT;
	}
	for (int c = 0; c < ncpu; c++)
		percpu[c] = flags;
	if (bpf_map_update_elem(bpf_map__fd(m), key, percpu, BPF_ANY)) {
		int err = -errno;

		log_err("xdp_filter: writing %s: %s", map, strerror(-err));
		return err;
	}
	return 0;
}

/* Packets xdp-filter counted under XDP_PASS (its xdp_stats_map). */
static int xf_passed(struct bpf_object *obj, __u64 *percpu, int ncpu,
		     __u64 *out)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "xdp_stats_map");
	__u32 key = XDP_PASS;

	/* struct xdp_stats_record: packets, bytes (2 x u64 per CPU). */
	if (!m || bpf_map_lookup_elem(bpf_map__fd(m), &key, percpu))
		return -ENOENT;
	*out = 0;
	for (int c = 0; c < ncpu; c++)
		*out += percpu[2 * c];
	return 0;
}

static int xf_fill(struct bpf_object *obj, __u64 *percpu, int ncpu)
{
	/* Deny list entries that the benchmark frame does not match: a
	 * port (key: port in network order in a u32, as the program reads
	 * tcphdr->dest), an IPv4 and an IPv6 address, a MAC address. */
	__u32 port = htons(23);
	__u8 mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x99};
	struct in6_addr a6;
	struct in_addr a4;
	int err;

	inet_pton(AF_INET, "203.0.113.7", &a4);
	inet_pton(AF_INET6, "2001:db8::7", &a6);
	err = xf_put(obj, "filter_ports", &port,
		     XF_FLAG_DST | XF_FLAG_TCP | XF_FLAG_UDP, percpu, ncpu);
	if (!err)
		err = xf_put(obj, "filter_ipv4", &a4.s_addr,
			     XF_FLAG_SRC | XF_FLAG_DST, percpu, ncpu);
	if (!err)
		err = xf_put(obj, "filter_ipv6", &a6, XF_FLAG_SRC | XF_FLAG_DST,
			     percpu, ncpu);
	if (!err)
		err = xf_put(obj, "filter_ethernet", mac,
			     XF_FLAG_SRC | XF_FLAG_DST, percpu, ncpu);
	return err;
}

static int bench_xdp_filter(const struct bench_opts *o, const struct frame *f,
			    struct bench_result *r)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *percpu = NULL, before = 0, after = 0;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *m;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	obj = bpf_object__open_file(BENCH_XDPFILT_OBJ, NULL);
	if (!obj) {
		err = -errno;
		log_err("xdp_filter: opening %s: %s (is xdp-tools installed?)",
			BENCH_XDPFILT_OBJ, strerror(-err));
		return err;
	}
	/* Its maps are pinned by name (LIBBPF_PIN_BY_NAME) so that the
	 * xdp-filter tool finds them; a benchmark must neither reuse a live
	 * filter's maps nor leave pins behind. */
	bpf_object__for_each_map(m, obj) bpf_map__set_pin_path(m, NULL);
	err = bpf_object__load(obj);
	if (err) {
		log_err("xdp_filter: loading %s: %s", BENCH_XDPFILT_OBJ,
			strerror(-err));
		goto out;
	}
	prog = bpf_object__find_program_by_name(obj, "xdpfilt_alw_all");
	if (!prog) {
		err = -ENOENT;
		log_err("xdp_filter: no program xdpfilt_alw_all");
		goto out;
	}
	percpu = calloc((size_t)ncpu * 2, sizeof(*percpu));
	if (!percpu) {
		err = -ENOMEM;
		goto out;
	}
	err = xf_fill(obj, percpu, ncpu);
	if (!err)
		err = xf_passed(obj, percpu, ncpu, &before);
	if (!err)
		err = time_prog(o, bpf_program__fd(prog), f, XDP_PASS, r);
	if (!err)
		err = xf_passed(obj, percpu, ncpu, &after);
	if (!err) {
		snprintf(r->check, sizeof(r->check), "xdp_pass %llu/%llu",
			 (unsigned long long)(after - before),
			 (unsigned long long)total_packets(o));
		if (after - before != total_packets(o))
			r->ok = false;
	}
out:
	free(percpu);
	bpf_object__close(obj);
	return err;
}

/* --- peerwall --------------------------------------------------------------
 */

/* The config every peerwall class starts from: defaults, 26656/tcp
 * protected, the example trusted CIDRs, small maps so load is quick. */
static int pw_bench_config(struct pw_config *cfg, struct pw_protect *prot,
			   struct pw_cidr trusted[2])
{
	pw_config_defaults(cfg);
	prot->proto = IPPROTO_TCP;
	prot->port = BENCH_DPORT;
	cfg->protect = prot;
	cfg->n_protect = 1;
	if (pw_cidr_parse("198.18.1.0/24", &trusted[0], NULL, 0) ||
	    pw_cidr_parse("fd00:1::/48", &trusted[1], NULL, 0))
		return -EINVAL;
	cfg->trusted = trusted;
	cfg->n_trusted = 2;
	cfg->maps.sources = 65536;
	cfg->maps.prefixes = 16384;
	cfg->maps.sanctions = 16384;
	cfg->maps.bancidrs = 1024;
	return 0;
}

/* Run one peerwall class and check that every packet sent (warm-up
 * included, unless `skip_warmup_count`) was counted under reason `a` or
 * `b`. */
struct pw_class {
	const char *name;
	const char *saddr;
	__u16 dport;
	__u32 verdict;
	enum pw_reason a, b;
	bool drain_first; /* bucket must be empty before the timed runs */
};

static int bench_pw_class(const struct bench_opts *o, struct pw_datapath *dp,
			  const struct pw_class *c, struct bench_result *r)
{
	struct pw_stat before[PW_STAT_NR], after[PW_STAT_NR];
	__u64 counted, sent = total_packets(o);
	struct frame f;
	int err;

	err = make_frame(c->saddr, c->dport, &f);
	if (err)
		return err;
	if (c->drain_first) {
		/* Empty the source's buckets; the timed runs start over
		 * the limit. */
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = f.buf,
			    .data_size_in = f.len, .repeat = 100000);

		if (bpf_prog_test_run_opts(pw_datapath_prog_fd(dp), &topts)) {
			err = -errno;
			log_err("%s: BPF_PROG_TEST_RUN: %s", c->name,
				strerror(-err));
			return err;
		}
	}
	err = pw_datapath_stats(dp, before);
	if (!err)
		err = time_prog(o, pw_datapath_prog_fd(dp), &f, c->verdict, r);
	if (!err)
		err = pw_datapath_stats(dp, after);
	if (err)
		return err;
	counted = after[c->a].packets - before[c->a].packets;
	if (c->b != c->a)
		counted += after[c->b].packets - before[c->b].packets;
	if (c->b != c->a)
		snprintf(r->check, sizeof(r->check), "%s+%s %llu/%llu",
			 pw_stat_name(c->a), pw_stat_name(c->b),
			 (unsigned long long)counted, (unsigned long long)sent);
	else
		snprintf(r->check, sizeof(r->check), "%s %llu/%llu",
			 pw_stat_name(c->a), (unsigned long long)counted,
			 (unsigned long long)sent);
	/* A drained bucket still refills at its rate while the runs go on
	 * (20 SYN/s, 2000 pkt/s by default): allow those few passes. */
	if (counted != sent &&
	    !(c->drain_first && sent - counted <= sent / 1000)) {
		log_warn("%s: only %llu of %llu packets counted as %s", c->name,
			 (unsigned long long)counted, (unsigned long long)sent,
			 pw_stat_name(c->a));
		r->ok = false;
	}
	return 0;
}

static int pw_load(const struct pw_config *cfg, struct pw_datapath **dp)
{
	struct pw_datapath_opts dopts = {.replay_clock = false};
	int err = pw_datapath_load(cfg, &dopts, dp);

	if (err)
		log_err("peerwall: loading the datapath: %s", strerror(-err));
	return err;
}

/* tracked: its own load with finite but huge limits at every level, so the
 * bucket code runs on every packet and never says no. */
static int bench_tracked(const struct bench_opts *o, struct bench_result *r)
{
	static const struct pw_class c = {
		.name = "tracked",
		.saddr = BENCH_SRC_TRACKED,
		.dport = BENCH_DPORT,
		.verdict = XDP_PASS,
		.a = PW_R_PASS,
		.b = PW_R_PASS,
	};
	const struct pw_limit huge = {PW_MAX_RATE_PPS, PW_MAX_RATE_PPS,
				      PW_MAX_RATE_PPS, PW_MAX_RATE_PPS};
	struct pw_cidr trusted[2];
	struct pw_protect prot;
	struct pw_datapath *dp;
	struct pw_config cfg;
	int err;

	err = pw_bench_config(&cfg, &prot, trusted);
	if (err)
		return err;
	cfg.source = cfg.quarantine = cfg.prefix = cfg.untrusted = huge;
	err = pw_load(&cfg, &dp);
	if (err)
		return err;
	err = bench_pw_class(o, dp, &c, r);
	pw_datapath_close(dp);
	return err;
}

enum {
	C_BARE,
	C_XDPFILT,
	C_UNTRACKED,
	C_TRUSTED,
	C_TRACKED,
	C_RATE,
	C_BANNED,
	C_EMERGENCY,
	C_NR
};

static const char *const class_names[C_NR] = {
	[C_BARE] = "bare_pass",	     [C_XDPFILT] = "xdp_filter",
	[C_UNTRACKED] = "untracked", [C_TRUSTED] = "trusted",
	[C_TRACKED] = "tracked",     [C_RATE] = "rate_dropped",
	[C_BANNED] = "banned",	     [C_EMERGENCY] = "emergency",
};

/* The classes that share one load with the default limits. */
static int bench_default_load(const struct bench_opts *o,
			      struct bench_result *res)
{
	static const struct pw_class cls[] = {
		{.name = "untracked",
		 .saddr = BENCH_SRC_UNTRUSTED,
		 .dport = BENCH_DPORT_UNPROTECTED,
		 .verdict = XDP_PASS,
		 .a = PW_R_PASS_UNTRACKED,
		 .b = PW_R_PASS_UNTRACKED},
		{.name = "trusted",
		 .saddr = BENCH_SRC_TRUSTED,
		 .dport = BENCH_DPORT,
		 .verdict = XDP_PASS,
		 .a = PW_R_PASS_TRUSTED,
		 .b = PW_R_PASS_TRUSTED},
		{.name = "rate_dropped",
		 .saddr = BENCH_SRC_RATE,
		 .dport = BENCH_DPORT,
		 .verdict = XDP_DROP,
		 .a = PW_R_DROP_RATE_SRC,
		 .b = PW_R_DROP_SYN_SRC,
		 .drain_first = true},
		{.name = "banned",
		 .saddr = BENCH_SRC_BANNED,
		 .dport = BENCH_DPORT,
		 .verdict = XDP_DROP,
		 .a = PW_R_DROP_BANNED,
		 .b = PW_R_DROP_BANNED},
		{.name = "emergency",
		 .saddr = BENCH_SRC_EMERGENCY,
		 .dport = BENCH_DPORT,
		 .verdict = XDP_DROP,
		 .a = PW_R_DROP_EMERGENCY,
		 .b = PW_R_DROP_EMERGENCY},
	};
	static const int slot[] = {C_UNTRACKED, C_TRUSTED, C_RATE, C_BANNED,
				   C_EMERGENCY};
	struct pw_cidr trusted[2], ban;
	struct pw_protect prot;
	struct pw_datapath *dp;
	struct pw_config cfg;
	int err;

	err = pw_bench_config(&cfg, &prot, trusted);
	if (!err)
		err = pw_cidr_parse(BENCH_SRC_BANNED "/32", &ban, NULL, 0);
	if (err)
		return err;
	err = pw_load(&cfg, &dp);
	if (err)
		return err;
	err = pw_datapath_sanction(dp, &ban, PW_SANCTION_BAN, PW_LVL_NORMAL, 0);
	for (size_t i = 0; !err && i < sizeof(cls) / sizeof(cls[0]); i++) {
		if (slot[i] == C_EMERGENCY)
			err = pw_datapath_set_emergency(dp, true);
		if (!err)
			err = bench_pw_class(o, dp, &cls[i], &res[slot[i]]);
	}
	pw_datapath_close(dp);
	return err;
}

/* --- output ------------------------------------------------------------------
 */

static const char *verdict_name(__u32 v)
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
		return "unknown";
	}
}

static void print_table(const struct bench_opts *o,
			const struct bench_result *res, int cpu)
{
	printf("pw-bench: BPF_PROG_TEST_RUN, %u-byte IPv4 TCP SYN, repeat %u, "
	       "median of %u runs, CPU %d\n",
	       BENCH_FRAME_LEN, o->repeat, o->runs, cpu);
	printf("%-13s %9s %6s %6s  %-9s %s\n", "class", "ns/pkt", "min", "max",
	       "verdict", "counted as");
	for (int i = 0; i < C_NR; i++) {
		const struct bench_result *r = &res[i];

		if (!r->name)
			continue;
		printf("%-13s %9u %6u %6u  %-9s %s%s\n", r->name, r->median,
		       r->min, r->max, verdict_name(r->retval), r->check,
		       r->ok ? "" : "  (UNEXPECTED)");
	}
}

static int write_json(const char *path, const struct bench_result *res)
{
	struct json_object *root = json_object_new_object();
	struct json_object *dpo = json_object_new_object();
	int err = 0;

	json_object_object_add(root, "datapath", dpo);
	for (int i = 0; i < C_NR; i++) {
		struct json_object *c;

		if (!res[i].name)
			continue;
		c = json_object_new_object();
		json_object_object_add(c, "ns_per_pkt",
				       json_object_new_int64(res[i].median));
		json_object_object_add(
			c, "verdict",
			json_object_new_string(verdict_name(res[i].retval)));
		json_object_object_add(dpo, res[i].name, c);
	}
	if (json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY)) {
		log_err("writing %s: %s", path, json_util_get_last_err());
		err = -EIO;
	}
	json_object_put(root);
	return err;
}

/* Stay on the CPU we started on: per-CPU maps stay in its cache and a
 * migration never lands inside a run. */
static int pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	return cpu;
}

int main(int argc, char **argv)
{
	struct bench_result res[C_NR];
	struct bench_opts o = {0};
	struct frame frame;
	bool all_ok = true;
	int err, cpu;

	pw_log_init("pw-bench", PW_LOG_INFO, false);
	if (parse_args(argc, argv, &o))
		return 2;
	pw_log_libbpf(o.verbose);

	memset(res, 0, sizeof(res));
	for (int i = 0; i < C_NR; i++) {
		res[i].name = class_names[i];
		res[i].ok = true;
	}
	cpu = pin_cpu();

	err = make_frame(BENCH_SRC_UNTRUSTED, BENCH_DPORT, &frame);
	if (!err)
		err = bench_bare(&o, &frame, &res[C_BARE]);
	if (!err)
		err = bench_xdp_filter(&o, &frame, &res[C_XDPFILT]);
	if (!err)
		err = bench_default_load(&o, res);
	if (!err)
		err = bench_tracked(&o, &res[C_TRACKED]);
	if (err) {
		log_err("benchmark aborted: %s", strerror(-err));
		return 1;
	}

	print_table(&o, res, cpu);
	for (int i = 0; i < C_NR; i++)
		all_ok &= res[i].ok;
	if (o.json && write_json(o.json, res))
		return 1;
	if (!all_ok) {
		log_warn("some classes did not measure the path they name "
			 "(see UNEXPECTED above)");
		return 3;
	}
	return 0;
}
