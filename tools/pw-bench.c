// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pw-bench - what the datapath costs per packet, against two floors.
 *
 * Every class runs one 64-byte IPv4 TCP SYN frame (198.18.5.5:40000 ->
 * 198.18.0.1:26656; only the source or the port changes where the class
 * needs it) through BPF_PROG_TEST_RUN with .repeat = N. The kernel reports
 * the mean time per run of the program; the class's number is the median
 * over K such runs. Classes:
 *
 *   bare_pass     bare.bpf.o, a program that only returns XDP_PASS
 *   xdp_filter    xdp-tools' xdpfilt_alw_all.o (a deny list) with entries
 *                 in all four of its maps, none matching: its full path
 *   untracked     peerwall, SYN to an unprotected port
 *   trusted       peerwall, source in a trusted CIDR
 *   tracked       peerwall, every bucket taken and passing (own load with
 *                 finite, huge limits)
 *   rate_dropped  peerwall, default limits, source bucket already empty
 *   banned        peerwall, source banned (/32 sanction)
 *   emergency     peerwall, emergency mode, untrusted source
 *
 * Everything is loaded first, then the runs are interleaved: one warm-up
 * round (not timed), then K rounds each running every class once, so a
 * noisy neighbour on the host slows all classes alike instead of the one
 * that happened to be running. The process pins itself to one CPU.
 *
 * Each class checks that it measured what it claims: the verdict of every
 * run, and the counters - xdp-filter's XDP_PASS count, peerwall's
 * per-reason counters - must have counted every packet sent under the
 * class's outcome.
 *
 * Output: a table on stdout and, with --json, the "datapath" object of
 * build/bench.json ({"datapath": {class: {ns_per_pkt, verdict}}});
 * tools/bench.sh adds the replay rate. Exit 0, 1 when the benchmark could
 * not run, 3 when a class did not measure the path it names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
#define BENCH_DRAIN_PKTS   100000u
#define BENCH_FRAME_LEN	   64
#define BENCH_DEF_BARE_OBJ "build/bpf/bare.bpf.o"
#define BENCH_XDPFILT_OBJ  "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o"
#define BENCH_XDPFILT_PROG "xdpfilt_alw_all"

/* The frame: the same for every class but for source and port. */
#define BENCH_SRC_UNTRUSTED	"198.18.5.5"
#define BENCH_SRC_TRUSTED	"198.18.1.7"
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

enum bench_class_id {
	C_BARE,
	C_XDPFILT,
	C_UNTRACKED,
	C_TRUSTED,
	C_TRACKED,
	C_RATE,
	C_BANNED,
	C_EMERGENCY,
	C_NR,
};

/* How a class proves it ran the path it names. */
enum bench_check {
	CHECK_NONE,    /* bare_pass: the verdict is all there is */
	CHECK_XDPFILT, /* xdp-filter's own XDP_PASS counter */
	CHECK_PW,      /* peerwall's per-reason counters */
};

struct bench_class {
	const char *name;
	const char *saddr;
	__u16 dport;
	__u32 want; /* expected verdict */
	enum bench_check check;
	enum pw_reason reason, reason2; /* CHECK_PW: counted under either */
	bool drain;			/* source bucket emptied first */
	bool emergency;			/* emergency mode during its runs */
	/* set up at run time */
	int prog_fd;
	struct pw_datapath *dp;
	__u8 frame[BENCH_FRAME_LEN];
	__u64 count_before;
	__u64 pass_before, drained_ns; /* drain: passes and when it began */
	/* results */
	__u32 d[BENCH_MAX_RUNS];
	__u32 median, min, max, retval;
	bool ok;
	char counted[96];
};

static struct bench_class classes[C_NR] = {
	[C_BARE] = {.name = "bare_pass",
		    .saddr = BENCH_SRC_UNTRUSTED,
		    .dport = BENCH_DPORT,
		    .want = XDP_PASS,
		    .check = CHECK_NONE},
	[C_XDPFILT] = {.name = "xdp_filter",
		       .saddr = BENCH_SRC_UNTRUSTED,
		       .dport = BENCH_DPORT,
		       .want = XDP_PASS,
		       .check = CHECK_XDPFILT},
	[C_UNTRACKED] = {.name = "untracked",
			 .saddr = BENCH_SRC_UNTRUSTED,
			 .dport = BENCH_DPORT_UNPROTECTED,
			 .want = XDP_PASS,
			 .check = CHECK_PW,
			 .reason = PW_R_PASS_UNTRACKED,
			 .reason2 = PW_R_PASS_UNTRACKED},
	[C_TRUSTED] = {.name = "trusted",
		       .saddr = BENCH_SRC_TRUSTED,
		       .dport = BENCH_DPORT,
		       .want = XDP_PASS,
		       .check = CHECK_PW,
		       .reason = PW_R_PASS_TRUSTED,
		       .reason2 = PW_R_PASS_TRUSTED},
	[C_TRACKED] = {.name = "tracked",
		       .saddr = BENCH_SRC_UNTRUSTED,
		       .dport = BENCH_DPORT,
		       .want = XDP_PASS,
		       .check = CHECK_PW,
		       .reason = PW_R_PASS,
		       .reason2 = PW_R_PASS},
	[C_RATE] = {.name = "rate_dropped",
		    .saddr = BENCH_SRC_RATE,
		    .dport = BENCH_DPORT,
		    .want = XDP_DROP,
		    .check = CHECK_PW,
		    .reason = PW_R_DROP_RATE_SRC,
		    .reason2 = PW_R_DROP_SYN_SRC,
		    .drain = true},
	[C_BANNED] = {.name = "banned",
		      .saddr = BENCH_SRC_BANNED,
		      .dport = BENCH_DPORT,
		      .want = XDP_DROP,
		      .check = CHECK_PW,
		      .reason = PW_R_DROP_BANNED,
		      .reason2 = PW_R_DROP_BANNED},
	[C_EMERGENCY] = {.name = "emergency",
			 .saddr = BENCH_SRC_EMERGENCY,
			 .dport = BENCH_DPORT,
			 .want = XDP_DROP,
			 .check = CHECK_PW,
			 .reason = PW_R_DROP_EMERGENCY,
			 .reason2 = PW_R_DROP_EMERGENCY,
			 .emergency = true},
};

/* Everything loaded, closed at the end. */
struct bench_env {
	struct bpf_object *bare;
	struct bpf_object *xdpfilt;
	struct pw_datapath *pw_default; /* default limits, ban, trusted */
	struct pw_datapath *pw_huge;	/* huge limits: the tracked class */
	int ncpu;
	__u64 *percpu; /* ncpu x 2 u64 scratch for per-CPU map values */
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
		"  -v          libbpf's messages too\n"
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

/* A 54-byte SYN (no options, no payload) followed by zeros up to 64
 * bytes, as a minimum-size Ethernet frame arrives (IP tot_len stays 40). */
static int make_frame(struct bench_class *c)
{
	struct pw_pktspec spec = {
		.family = AF_INET,
		.src = c->saddr,
		.dst = BENCH_DST,
		.proto = IPPROTO_TCP,
		.sport = BENCH_SPORT,
		.dport = c->dport,
		.tcp_flags = TH_SYN,
	};
	int n;

	memset(c->frame, 0, sizeof(c->frame));
	n = pw_pkt_build(&spec, c->frame, sizeof(c->frame));
	if (n < 0) {
		log_err("%s: building the frame: %s", c->name, strerror(-n));
		return n;
	}
	return 0;
}

/* One BPF_PROG_TEST_RUN of `repeat` packets: verdict and mean ns. */
static int test_run(const struct bench_class *c, __u32 repeat, __u32 *retval,
		    __u32 *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = c->frame,
		    .data_size_in = sizeof(c->frame), .repeat = repeat);

	if (bpf_prog_test_run_opts(c->prog_fd, &topts)) {
		int err = -errno;

		log_err("%s: BPF_PROG_TEST_RUN: %s", c->name, strerror(-err));
		return err;
	}
	*retval = topts.retval;
	*duration = topts.duration;
	return 0;
}

/* --- bare_pass ------------------------------------------------------------ */

static int setup_bare(struct bench_env *env, struct bench_class *c)
{
	const char *path = getenv("PW_BARE_OBJ");
	struct bpf_program *prog;
	int err;

	if (!path || !*path)
		path = BENCH_DEF_BARE_OBJ;
	env->bare = bpf_object__open_file(path, NULL);
	if (!env->bare) {
		err = -errno;
		log_err("bare_pass: opening %s: %s", path, strerror(-err));
		return err;
	}
	err = bpf_object__load(env->bare);
	if (err) {
		log_err("bare_pass: loading %s: %s", path, strerror(-err));
		return err;
	}
	prog = bpf_object__find_program_by_name(env->bare, "bare_pass");
	if (!prog) {
		log_err("bare_pass: no program bare_pass in %s", path);
		return -ENOENT;
	}
	c->prog_fd = bpf_program__fd(prog);
	return 0;
}

/* --- xdp_filter ----------------------------------------------------------- */

/* One deny-list entry in an xdp-filter per-CPU map: every CPU's slot holds
 * the flags, as xdp-filter writes them (hits count above the flag bits). */
static int xf_put(struct bench_env *env, const char *map, const void *key,
		  __u64 flags)
{
	struct bpf_map *m = bpf_object__find_map_by_name(env->xdpfilt, map);

	if (!m) {
		log_err("xdp_filter: no map %s", map);
		return -ENOENT;
	}
	for (int i = 0; i < env->ncpu; i++)
		env->percpu[i] = flags;
	if (bpf_map_update_elem(bpf_map__fd(m), key, env->percpu, BPF_ANY)) {
		int err = -errno;

		log_err("xdp_filter: writing %s: %s", map, strerror(-err));
		return err;
	}
	return 0;
}

/* Packets xdp-filter counted under XDP_PASS in its xdp_stats_map (per-CPU
 * struct xdp_stats_record: packets, bytes). */
static int xf_passed(struct bench_env *env, __u64 *out)
{
	struct bpf_map *m =
		bpf_object__find_map_by_name(env->xdpfilt, "xdp_stats_map");
	__u32 key = XDP_PASS;

	if (!m || bpf_map_lookup_elem(bpf_map__fd(m), &key, env->percpu)) {
		log_err("xdp_filter: reading xdp_stats_map failed");
		return -ENOENT;
	}
	*out = 0;
	for (int i = 0; i < env->ncpu; i++)
		*out += env->percpu[2 * i];
	return 0;
}

static int setup_xdp_filter(struct bench_env *env, struct bench_class *c)
{
	/* Entries the frame does not match, one per map, with the flags
	 * `xdp-filter port|ip|ether ... --mode src,dst` would write. A port
	 * key is the port in network order in a u32: the program reads
	 * tcphdr->dest into a __u32. */
	__u8 mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x99};
	__u32 port = htons(23);
	struct in6_addr a6;
	struct in_addr a4;
	struct bpf_program *prog;
	struct bpf_map *m;
	int err;

	env->xdpfilt = bpf_object__open_file(BENCH_XDPFILT_OBJ, NULL);
	if (!env->xdpfilt) {
		err = -errno;
		log_err("xdp_filter: opening %s: %s (is xdp-tools installed?)",
			BENCH_XDPFILT_OBJ, strerror(-err));
		return err;
	}
	/* Its maps are pinned by name (LIBBPF_PIN_BY_NAME) for the
	 * xdp-filter tool to find; the benchmark must neither reuse a live
	 * filter's maps nor leave pins behind. */
	for (m = bpf_object__next_map(env->xdpfilt, NULL); m;
	     m = bpf_object__next_map(env->xdpfilt, m))
		bpf_map__set_pin_path(m, NULL);
	err = bpf_object__load(env->xdpfilt);
	if (err) {
		log_err("xdp_filter: loading %s: %s", BENCH_XDPFILT_OBJ,
			strerror(-err));
		return err;
	}
	prog = bpf_object__find_program_by_name(env->xdpfilt,
						BENCH_XDPFILT_PROG);
	if (!prog) {
		log_err("xdp_filter: no program %s", BENCH_XDPFILT_PROG);
		return -ENOENT;
	}
	c->prog_fd = bpf_program__fd(prog);

	inet_pton(AF_INET, "203.0.113.7", &a4);
	inet_pton(AF_INET6, "2001:db8::7", &a6);
	err = xf_put(env, "filter_ports", &port,
		     XF_FLAG_SRC | XF_FLAG_DST | XF_FLAG_TCP | XF_FLAG_UDP);
	if (!err)
		err = xf_put(env, "filter_ipv4", &a4.s_addr,
			     XF_FLAG_SRC | XF_FLAG_DST);
	if (!err)
		err = xf_put(env, "filter_ipv6", &a6,
			     XF_FLAG_SRC | XF_FLAG_DST);
	if (!err)
		err = xf_put(env, "filter_ethernet", mac,
			     XF_FLAG_SRC | XF_FLAG_DST);
	return err;
}

/* --- peerwall ------------------------------------------------------------- */

/* Defaults, 26656/tcp protected, the example trusted CIDRs, small maps so
 * load is quick. */
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

static int pw_load(const struct pw_config *cfg, struct pw_datapath **dp)
{
	struct pw_datapath_opts dopts = {.replay_clock = false};
	int err = pw_datapath_load(cfg, &dopts, dp);

	if (err)
		log_err("peerwall: loading the datapath: %s", strerror(-err));
	return err;
}

static int setup_peerwall(struct bench_env *env)
{
	/* Finite limits at every level, so every bucket is taken, but so
	 * large that none ever says no. */
	const struct pw_limit huge = {PW_MAX_RATE_PPS, PW_MAX_RATE_PPS,
				      PW_MAX_RATE_PPS, PW_MAX_RATE_PPS, 0};
	struct pw_cidr trusted[2], ban;
	struct pw_protect prot;
	struct pw_config cfg;
	int err;

	err = pw_bench_config(&cfg, &prot, trusted);
	if (!err)
		err = pw_load(&cfg, &env->pw_default);
	if (!err)
		err = pw_cidr_parse(BENCH_SRC_BANNED "/32", &ban, NULL, 0);
	if (!err)
		err = pw_datapath_sanction(env->pw_default, &ban,
					   PW_SANCTION_BAN, PW_LVL_NORMAL, 0);
	if (err)
		return err;

	err = pw_bench_config(&cfg, &prot, trusted);
	if (err)
		return err;
	cfg.source = cfg.quarantine = cfg.prefix = cfg.untrusted = huge;
	err = pw_load(&cfg, &env->pw_huge);
	if (err)
		return err;

	for (int i = C_UNTRACKED; i < C_NR; i++) {
		classes[i].dp = i == C_TRACKED ? env->pw_huge : env->pw_default;
		classes[i].prog_fd = pw_datapath_prog_fd(classes[i].dp);
	}
	return 0;
}

/* --- runs ----------------------------------------------------------------- */

/* The count this class's check watches. */
static int class_count(struct bench_env *env, const struct bench_class *c,
		       __u64 *out)
{
	struct pw_stat st[PW_STAT_NR];
	int err;

	*out = 0;
	switch (c->check) {
	case CHECK_NONE:
		return 0;
	case CHECK_XDPFILT:
		return xf_passed(env, out);
	case CHECK_PW:
		err = pw_datapath_stats(c->dp, st);
		if (err) {
			log_err("%s: reading counters: %s", c->name,
				strerror(-err));
			return err;
		}
		*out = st[c->reason].packets;
		if (c->reason2 != c->reason)
			*out += st[c->reason2].packets;
		return 0;
	}
	return -EINVAL;
}

/* One run of one class; timed ones go to d[run]. */
static int run_class(const struct bench_opts *o, struct bench_class *c, int run)
{
	__u32 retval, duration;
	int err = 0, err2;

	if (c->emergency)
		err = pw_datapath_set_emergency(c->dp, true);
	if (!err)
		err = test_run(c, o->repeat, &retval, &duration);
	if (c->emergency) {
		err2 = pw_datapath_set_emergency(c->dp, false);
		err = err ? err : err2;
	}
	if (err)
		return err;
	c->retval = retval;
	if (retval != c->want) {
		log_warn("%s: run %d returned verdict %u, expected %u", c->name,
			 run, retval, c->want);
		c->ok = false;
	}
	if (run >= 0)
		c->d[run] = duration;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static const char *reason_label(const struct bench_class *c, char *buf,
				size_t len)
{
	if (c->check == CHECK_XDPFILT)
		return "xdp_pass";
	if (c->reason2 == c->reason)
		return pw_stat_name(c->reason);
	snprintf(buf, len, "%s+%s", pw_stat_name(c->reason),
		 pw_stat_name(c->reason2));
	return buf;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int pw_passed(const struct bench_class *c, __u64 *out)
{
	struct pw_stat st[PW_STAT_NR];
	int err = pw_datapath_stats(c->dp, st);

	if (err) {
		log_err("%s: reading counters: %s", c->name, strerror(-err));
		return err;
	}
	*out = st[PW_R_PASS].packets;
	return 0;
}

/* A drained source bucket refills while the benchmark goes on: by the SYN
 * rate (default 20/s) since the drain, a SYN passes now and then. Those
 * passes must add up with the drops to every packet sent, and be no more
 * than the refill allows. */
static bool drain_passes_ok(const struct bench_class *c, __u64 sent,
			    __u64 counted)
{
	__u64 passed, allowed;

	if (pw_passed(c, &passed))
		return false;
	passed -= c->pass_before;
	allowed = (mono_ns() - c->drained_ns) * PW_DEF_SRC_SYN_PPS /
			  1000000000ull +
		  2;
	if (counted + passed != sent || passed > allowed) {
		log_warn("%s: %llu passed (refill allows %llu), %llu dropped, "
			 "%llu sent",
			 c->name, (unsigned long long)passed,
			 (unsigned long long)allowed,
			 (unsigned long long)counted, (unsigned long long)sent);
		return false;
	}
	return true;
}

/* Counters after the runs: every packet sent must be counted under the
 * class's outcome (for a drained bucket: or passed by its refill). */
static int check_counts(struct bench_env *env, const struct bench_opts *o,
			struct bench_class *c)
{
	__u64 sent = (__u64)o->repeat * (o->runs + 1), now, counted;
	char buf[64];
	int err;

	if (c->check == CHECK_NONE) {
		snprintf(c->counted, sizeof(c->counted), "-");
		return 0;
	}
	err = class_count(env, c, &now);
	if (err)
		return err;
	counted = now - c->count_before;
	snprintf(c->counted, sizeof(c->counted), "%s %llu/%llu",
		 reason_label(c, buf, sizeof(buf)), (unsigned long long)counted,
		 (unsigned long long)sent);
	if (c->drain) {
		if (!drain_passes_ok(c, sent, counted))
			c->ok = false;
	} else if (counted != sent) {
		log_warn("%s: %llu of %llu packets counted as expected",
			 c->name, (unsigned long long)counted,
			 (unsigned long long)sent);
		c->ok = false;
	}
	return 0;
}

static int bench_all(struct bench_env *env, const struct bench_opts *o)
{
	int err;

	for (int i = 0; i < C_NR; i++) {
		struct bench_class *c = &classes[i];

		if (c->drain) {
			__u32 retval, duration;

			c->drained_ns = mono_ns();
			err = test_run(c, BENCH_DRAIN_PKTS, &retval, &duration);
			if (!err)
				err = pw_passed(c, &c->pass_before);
			if (err)
				return err;
		}
		err = class_count(env, c, &c->count_before);
		if (err)
			return err;
	}
	/* Round -1 warms up; the first class of each round rotates so no
	 * class always runs first (after the loader's work) or last. */
	for (int run = -1; run < (int)o->runs; run++) {
		for (int k = 0; k < C_NR; k++) {
			int i = (k + run + 1) % C_NR;

			err = run_class(o, &classes[i], run);
			if (err)
				return err;
		}
	}
	for (int i = 0; i < C_NR; i++) {
		struct bench_class *c = &classes[i];
		unsigned int n = o->runs;

		err = check_counts(env, o, c);
		if (err)
			return err;
		qsort(c->d, n, sizeof(c->d[0]), cmp_u32);
		c->min = c->d[0];
		c->max = c->d[n - 1];
		c->median = n % 2 ? c->d[n / 2]
				  : (c->d[n / 2 - 1] + c->d[n / 2] + 1) / 2;
	}
	return 0;
}

/* --- output --------------------------------------------------------------- */

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

static void print_table(const struct bench_opts *o, int cpu)
{
	printf("pw-bench: BPF_PROG_TEST_RUN, %u-byte IPv4 TCP SYN, repeat %u, "
	       "median of %u interleaved runs, CPU %d\n",
	       BENCH_FRAME_LEN, o->repeat, o->runs, cpu);
	printf("%-13s %7s %6s %6s  %-9s %s\n", "class", "ns/pkt", "min", "max",
	       "verdict", "counted as");
	for (int i = 0; i < C_NR; i++) {
		const struct bench_class *c = &classes[i];

		printf("%-13s %7u %6u %6u  %-9s %s%s\n", c->name, c->median,
		       c->min, c->max, verdict_name(c->retval), c->counted,
		       c->ok ? "" : "  UNEXPECTED");
	}
}

static int write_json(const char *path)
{
	struct json_object *root = json_object_new_object();
	struct json_object *dpo = json_object_new_object();
	int err = 0;

	json_object_object_add(root, "datapath", dpo);
	for (int i = 0; i < C_NR; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(
			c, "ns_per_pkt",
			json_object_new_int64(classes[i].median));
		json_object_object_add(c, "verdict",
				       json_object_new_string(verdict_name(
					       classes[i].retval)));
		json_object_object_add(dpo, classes[i].name, c);
	}
	if (json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY)) {
		log_err("writing %s: %s", path, json_util_get_last_err());
		err = -EIO;
	}
	json_object_put(root);
	return err;
}

/* Stay on the CPU we started on: per-CPU maps stay in its cache and no
 * migration lands inside a run. */
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

static void env_close(struct bench_env *env)
{
	pw_datapath_close(env->pw_huge);
	pw_datapath_close(env->pw_default);
	bpf_object__close(env->xdpfilt);
	bpf_object__close(env->bare);
	free(env->percpu);
}

int main(int argc, char **argv)
{
	struct bench_env env = {0};
	struct bench_opts o = {0};
	bool all_ok = true;
	int err = 0, cpu;

	pw_log_init("pw-bench", PW_LOG_INFO, false);
	if (parse_args(argc, argv, &o))
		return 2;
	pw_log_libbpf(o.verbose);
	cpu = pin_cpu();

	env.ncpu = libbpf_num_possible_cpus();
	if (env.ncpu <= 0) {
		log_err("cannot count CPUs: %s", strerror(-env.ncpu));
		return 1;
	}
	env.percpu = calloc((size_t)env.ncpu * 2, sizeof(*env.percpu));
	if (!env.percpu)
		return 1;
	for (int i = 0; !err && i < C_NR; i++) {
		classes[i].ok = true;
		err = make_frame(&classes[i]);
	}
	if (!err)
		err = setup_bare(&env, &classes[C_BARE]);
	if (!err)
		err = setup_xdp_filter(&env, &classes[C_XDPFILT]);
	if (!err)
		err = setup_peerwall(&env);
	if (!err)
		err = bench_all(&env, &o);
	env_close(&env);
	if (err) {
		log_err("benchmark aborted: %s", strerror(-err));
		return 1;
	}

	print_table(&o, cpu);
	for (int i = 0; i < C_NR; i++)
		all_ok &= classes[i].ok;
	if (o.json && write_json(o.json))
		return 1;
	if (!all_ok) {
		log_warn("a class did not measure the path it names (see "
			 "UNEXPECTED above)");
		return 3;
	}
	return 0;
}
