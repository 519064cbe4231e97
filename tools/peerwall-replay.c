// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * peerwall-replay - run a capture through the real XDP object, offline.
 *
 * The object is loaded exactly as the agent loads it, but with the replay
 * clock: before each packet the capture's own timestamp (relative to the
 * first packet, on a fixed base so the datapath never sees time 0) is
 * written to the program's .bss and the packet is fed with
 * BPF_PROG_TEST_RUN. The program records what it decided for whom, which
 * is all the report needs: nothing is re-derived in userspace.
 *
 * The agent's own tick (src/tick.c, the scoring engine, decision
 * application) runs on the same simulated clock every --tick seconds of
 * capture time, so bans and quarantines in the report come from the real
 * agent logic and are written back into the datapath as they would be
 * live. Long idle gaps are crossed in one step (expiries inside a gap take
 * effect at its end).
 *
 * Capture times that step backwards (merged traces) are held at the last
 * time seen and counted: the datapath's clock, like the kernel's, never
 * runs backwards. Same capture + same config = byte-identical report (the
 * engine's jitter is seeded from the capture, not the wall clock).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include "agent.h"
#include "bans.h"
#include "config.h"
#include "datapath.h"
#include "log.h"
#include "pcap_in.h"
#include "replay_report.h"

/* Datapath time of the first packet: far from 0 so "never seen" (0)
 * and ban expiries stay distinguishable. */
#define REPLAY_BASE_NS	  (1000ull * 1000000000ull)
#define REPLAY_MAX_TICK_S 3600.0
/* Gaps longer than this many ticks are crossed in one step. */
#define REPLAY_GAP_TICKS 100
#define REPLAY_SEED	 0x7065657277616c6cull /* "peerwall" */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct replay_opts {
	const char *config;
	const char *pcap;
	const char *write_passed;
	const char *write_dropped;
	double tick_s; /* 0 = the config's tick_ms */
	bool json;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: peerwall-replay --config FILE --pcap FILE [--json] "
		"[--tick S]\n"
		"                       [--write-passed P] [--write-dropped P] "
		"[-v]\n"
		"Runs a pcap/pcapng capture (Ethernet) through the peerwall "
		"XDP object\nwith BPF_PROG_TEST_RUN at the capture's own "
		"timestamps and reports\nverdicts per reason, per source, bans "
		"and a pass/drop timeline.\n");
}

static int parse_args(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"pcap", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"tick", required_argument, NULL, 't'},
		{"write-passed", required_argument, NULL, 'P'},
		{"write-dropped", required_argument, NULL, 'D'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *end;
	int c;

	o->tick_s = 0;
	while ((c = getopt_long(argc, argv, "c:r:jt:P:D:vh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'r':
			o->pcap = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			errno = 0;
			o->tick_s = strtod(optarg, &end);
			if (errno || *end || end == optarg ||
			    !isfinite(o->tick_s) || o->tick_s < 0.001 ||
			    o->tick_s > REPLAY_MAX_TICK_S) {
				fprintf(stderr,
					"peerwall-replay: --tick '%s': want "
					"seconds between 0.001 and %.0f\n",
					optarg, REPLAY_MAX_TICK_S);
				return -EINVAL;
			}
			break;
		case 'P':
			o->write_passed = optarg;
			break;
		case 'D':
			o->write_dropped = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "peerwall-replay: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!o->config || !o->pcap) {
		fprintf(stderr, "peerwall-replay: --config and --pcap are "
				"required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Every decision the simulated agent applies, into the report. */
static void on_decision(struct pw_agent *a, const struct pw_decision *d,
			enum pw_ban_origin origin)
{
	struct pw_replay_report *rep = a->user;
	int64_t at_ns = (int64_t)(a->sim_now_ns - REPLAY_BASE_NS);

	(void)origin;
	if (d->action == PW_ACT_BAN)
		pw_report_ban(rep, &d->cidr, at_ns,
			      d->ttl_s > 0 ? (int64_t)(d->ttl_s * 1e9) : -1,
			      pw_cause_name(d->cause));
	else if (d->action == PW_ACT_LEVEL && d->state == PW_ST_QUARANTINE)
		pw_report_quarantine(rep, &d->cidr, at_ns);
}

/* Run the agent's tick at datapath time t_ns. */
static void agent_tick_at(struct pw_agent *a, struct pw_datapath *dp,
			  uint64_t t_ns)
{
	a->sim_now_ns = t_ns;
	pw_datapath_set_replay_now(dp, t_ns);
	pw_agent_tick(a);
}

/* Every tick due up to now_ns (datapath time). */
static void agent_catch_up(struct pw_agent *a, struct pw_datapath *dp,
			   uint64_t *next_tick_ns, uint64_t tick_ns,
			   uint64_t now_ns)
{
	while (*next_tick_ns <= now_ns) {
		agent_tick_at(a, dp, *next_tick_ns);
		*next_tick_ns += tick_ns;
		if (*next_tick_ns < now_ns &&
		    now_ns - *next_tick_ns > REPLAY_GAP_TICKS * tick_ns)
			*next_tick_ns +=
				(now_ns - *next_tick_ns) / tick_ns * tick_ns;
	}
}

static int run_one(struct pw_datapath *dp, const struct pw_pcap_pkt *pkt,
		   const struct pw_replay_out **out)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt->data,
		    .data_size_in = pkt->caplen, .repeat = 1);

	if (bpf_prog_test_run_opts(pw_datapath_prog_fd(dp), &topts))
		return -errno;
	*out = pw_datapath_replay_out(dp);
	return 0;
}

static int replay(const struct replay_opts *o, const struct pw_config *cfg,
		  struct pw_datapath *dp, struct pw_agent *a,
		  struct pw_replay_report *rep, struct pw_pcap_out *dpass,
		  struct pw_pcap_out *ddrop)
{
	uint64_t first_ns = 0, last_ns = 0, tick_ns = rep->tick_ns;
	uint64_t next_tick_ns = REPLAY_BASE_NS + tick_ns;
	char err[PW_PCAP_ERRLEN];
	struct pw_pcap_in *in = NULL;
	struct pw_pcap_pkt pkt;
	int rc;

	for (size_t i = 0; i < cfg->n_bans; i++)
		pw_report_ban(rep, &cfg->bans[i], 0, -1, "config");

	rc = pw_pcap_open(o->pcap, &in, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		return rc;
	}
	while ((rc = pw_pcap_next(in, &pkt, err, sizeof(err))) == 1) {
		const struct pw_replay_out *res = NULL;
		uint64_t t_ns;

		if (pkt.index == 0) {
			first_ns = last_ns = pkt.ts_ns;
			a->sim_unix_offset_s =
				(int64_t)(first_ns / 1000000000ull) -
				(int64_t)(REPLAY_BASE_NS / 1000000000ull);
		}
		if (pkt.ts_ns < last_ns)
			rep->clock_steps_back++;
		else
			last_ns = pkt.ts_ns;
		t_ns = last_ns - first_ns;
		agent_catch_up(a, dp, &next_tick_ns, tick_ns,
			       REPLAY_BASE_NS + t_ns);

		if (pkt.caplen < ETH_HLEN) {
			rc = pw_report_not_run(rep, t_ns);
			if (rc)
				break;
			if (dpass)
				pw_pcap_out_write(dpass, &pkt);
			continue;
		}
		pw_datapath_set_replay_now(dp, REPLAY_BASE_NS + t_ns);
		rc = run_one(dp, &pkt, &res);
		if (rc) {
			snprintf(err, sizeof(err),
				 "packet %llu: BPF_PROG_TEST_RUN failed: %s",
				 (unsigned long long)pkt.index, strerror(-rc));
			break;
		}
		rc = pw_report_packet(rep, t_ns, res);
		if (rc)
			break;
		if (res->verdict == XDP_PASS && dpass)
			pw_pcap_out_write(dpass, &pkt);
		else if (res->verdict != XDP_PASS && ddrop)
			pw_pcap_out_write(ddrop, &pkt);
	}
	/* Score the last interval too. */
	if (rep->packets)
		agent_tick_at(a, dp, next_tick_ns);
	if (rc < 0) {
		rep->failed = true;
		rep->error_index = rep->packets;
		snprintf(rep->error, sizeof(rep->error), "%s",
			 rc == -ENOMEM ? "out of memory" : err);
		log_err("%s: %s", o->pcap, rep->error);
	}
	pw_pcap_close(in);
	return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
	struct pw_datapath_opts dopts = {.replay_clock = true};
	struct pw_config_errors *errs = NULL;
	struct replay_opts o = {0};
	struct pw_replay_report rep = {0};
	struct pw_datapath *dp = NULL;
	struct pw_pcap_out *dpass = NULL, *ddrop = NULL;
	static struct pw_agent agent;
	bool agent_up = false;
	struct pw_config cfg = {0};
	char err[PW_PCAP_ERRLEN];
	int rc, status = EXIT_FAIL;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	pw_log_init("peerwall-replay", o.verbose ? PW_LOG_DEBUG : PW_LOG_WARN,
		    false);
	pw_log_libbpf(o.verbose);

	errs = calloc(1, sizeof(*errs));
	if (!errs)
		goto cleanup;
	if (pw_config_load_file(o.config, &cfg, errs)) {
		for (size_t i = 0; i < errs->n; i++)
			fprintf(stderr, "%s\n", errs->msg[i]);
		status = EXIT_USAGE;
		goto cleanup;
	}
	if (o.write_passed &&
	    pw_pcap_out_open(o.write_passed, &dpass, err, sizeof(err))) {
		log_err("%s", err);
		goto cleanup;
	}
	if (o.write_dropped &&
	    pw_pcap_out_open(o.write_dropped, &ddrop, err, sizeof(err))) {
		log_err("%s", err);
		goto cleanup;
	}
	if (pw_report_init(&rep, o.tick_s > 0
					 ? (uint64_t)llround(o.tick_s * 1e9)
					 : (uint64_t)cfg.tick_ms * 1000000ull))
		goto cleanup;
	if (pw_datapath_load(&cfg, &dopts, &dp))
		goto cleanup;
	agent_up = true;
	agent.on_decision = on_decision;
	agent.user = &rep;
	agent.deterministic = true;
	if (pw_agent_init_sim(&agent, &cfg, dp, REPLAY_BASE_NS, REPLAY_SEED)) {
		log_err("cannot set up the simulated agent");
		goto cleanup;
	}

	rc = replay(&o, &cfg, dp, &agent, &rep, dpass, ddrop);
	if (rc && !rep.failed)
		goto cleanup; /* the capture could not even be opened */
	pw_datapath_stats(dp, rep.counters);
	pw_report_finish(&rep);
	if (o.json)
		pw_report_print_json(&rep, stdout);
	else
		pw_report_print_human(&rep, stdout);
	status = rep.failed ? EXIT_FAIL : EXIT_OK;
cleanup:
	pw_pcap_out_close(dpass);
	pw_pcap_out_close(ddrop);
	if (agent_up)
		pw_agent_fini_sim(&agent);
	pw_datapath_close(dp);
	pw_report_free(&rep);
	pw_config_free(&cfg);
	free(errs);
	return status;
}
