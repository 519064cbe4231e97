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
 * Capture times that step backwards (merged traces) are held at the last
 * time seen and counted: the datapath's clock, like the kernel's, never
 * runs backwards. Same capture + same config = byte-identical report.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/if_ether.h>

#include "config.h"
#include "datapath.h"
#include "log.h"
#include "pcap_in.h"
#include "replay_report.h"

/* Datapath time of the first packet: far from 0 so "never seen" (0)
 * and ban expiries stay distinguishable. */
#define REPLAY_BASE_NS	  (1000ull * 1000000000ull)
#define REPLAY_MAX_TICK_S 3600.0

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct replay_opts {
	const char *config;
	const char *pcap;
	const char *write_passed;
	const char *write_dropped;
	double tick_s;
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

	o->tick_s = 1.0;
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
		  struct pw_datapath *dp, struct pw_replay_report *rep,
		  struct pw_pcap_out *dpass, struct pw_pcap_out *ddrop)
{
	char err[PW_PCAP_ERRLEN];
	struct pw_pcap_in *in = NULL;
	struct pw_pcap_pkt pkt;
	uint64_t first_ns = 0, last_ns = 0;
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

		if (pkt.index == 0)
			first_ns = last_ns = pkt.ts_ns;
		if (pkt.ts_ns < last_ns)
			rep->clock_steps_back++;
		else
			last_ns = pkt.ts_ns;
		t_ns = last_ns - first_ns;

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
	if (pw_report_init(&rep, (uint64_t)llround(o.tick_s * 1e9)))
		goto cleanup;
	if (pw_datapath_load(&cfg, &dopts, &dp))
		goto cleanup;

	rc = replay(&o, &cfg, dp, &rep, dpass, ddrop);
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
	pw_datapath_close(dp);
	pw_report_free(&rep);
	pw_config_free(&cfg);
	free(errs);
	return status;
}
