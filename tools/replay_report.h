/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * replay_report.h - what peerwall-replay accumulates while it feeds packets
 * (totals, per-reason, per-source, bans, a timeline) and how it prints it.
 * No BPF here: the driver hands in what the datapath decided per packet.
 */
#ifndef PW_REPLAY_REPORT_H
#define PW_REPLAY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <peerwall/abi.h>

#include "cidr.h"

struct pw_replay_src {
	int family; /* AF_INET / AF_INET6 */
	uint8_t prefixlen;
	uint8_t addr[16];
	uint64_t packets, passed, dropped;
	int64_t quarantined_at_ns; /* -1 = never */
	int64_t banned_at_ns;	   /* -1 = never */
};

struct pw_replay_ban {
	struct pw_cidr cidr;
	int64_t at_ns;
	int64_t ttl_ns; /* -1 = until removed */
	char reason[64];
};

struct pw_replay_tick {
	uint64_t index; /* tick number since the first packet */
	uint64_t passed, dropped;
};

struct pw_replay_report {
	uint64_t packets, passed, dropped;
	uint64_t not_run;	   /* frames too short for any NIC to deliver */
	uint64_t clock_steps_back; /* capture times that went backwards */
	uint64_t by_reason[PW_R_NR];
	struct pw_stat counters[PW_STAT_NR];
	uint64_t tick_ns;

	struct pw_replay_src *srcs; /* open-addressing table */
	size_t srcs_cap, n_srcs;
	struct pw_replay_ban *bans;
	size_t n_bans, bans_cap;
	struct pw_replay_tick *ticks;
	size_t n_ticks, ticks_cap;

	bool failed; /* the capture broke at error_index */
	uint64_t error_index;
	char error[512];
};

int pw_report_init(struct pw_replay_report *r, uint64_t tick_ns);
void pw_report_free(struct pw_replay_report *r);

/* One packet at t_ns (since the first packet) with the datapath's record. */
int pw_report_packet(struct pw_replay_report *r, uint64_t t_ns,
		     const struct pw_replay_out *o);
/* A packet that was not run (too short to be a frame): malformed, passed. */
int pw_report_not_run(struct pw_replay_report *r, uint64_t t_ns);

int pw_report_ban(struct pw_replay_report *r, const struct pw_cidr *c,
		  int64_t at_ns, int64_t ttl_ns, const char *reason);

/* A source reached quarantine at at_ns (first time kept). */
void pw_report_quarantine(struct pw_replay_report *r, const struct pw_cidr *c,
			  int64_t at_ns);

/* Fill sources' banned_at from the bans that cover them. */
void pw_report_finish(struct pw_replay_report *r);

int pw_report_print_json(const struct pw_replay_report *r, FILE *out);
void pw_report_print_human(const struct pw_replay_report *r, FILE *out);

#endif /* PW_REPLAY_REPORT_H */
