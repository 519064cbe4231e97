/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * datapath.h - loading the XDP object and keeping its maps in line with the
 * config: protected ports, trusted tries, bans and levels, the config
 * record, counters. The one place userspace touches the datapath's maps.
 */
#ifndef PW_DATAPATH_H
#define PW_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>

#include <peerwall/abi.h>

#include "cidr.h"
#include "config.h"

struct pw_datapath;

struct pw_datapath_opts {
	bool replay_clock;   /* time comes from pw_datapath_set_replay_now() */
	const char *pin_dir; /* pin (and adopt) maps here; NULL = no pins */
};

enum pw_xdp_mode {
	PW_XDP_AUTO = 0, /* native, falling back to generic with a warning */
	PW_XDP_NATIVE,
	PW_XDP_GENERIC,
};

/* Open the embedded object, size its maps from cfg, load it and fill the
 * maps from cfg (ports, trusted, static bans, config record). */
int pw_datapath_load(const struct pw_config *cfg,
		     const struct pw_datapath_opts *opts,
		     struct pw_datapath **out);
void pw_datapath_close(struct pw_datapath *dp);

/* True when load() found pinned maps from a previous run and adopted them
 * (sources, bans and buckets carry over). */
bool pw_datapath_adopted(const struct pw_datapath *dp);

/* Attach to ifname, atomically replacing a peerwall program left attached
 * by a previous run (never a foreign one: -EBUSY). On success *used_mode
 * is "native" or "generic". */
int pw_datapath_attach(struct pw_datapath *dp, const char *ifname,
		       enum pw_xdp_mode mode, const char **used_mode);
/* Detach our program from ifname and remove the pinned maps. */
int pw_datapath_detach(struct pw_datapath *dp, const char *ifname);

/* Without a loaded datapath: detach a peerwall program (by name) left on
 * ifname by a previous run and remove the pinned maps in pin_dir (after
 * a switch to enforce = "nft"). A foreign program is left alone. */
int pw_datapath_remove_leftover(const char *ifname, const char *pin_dir);

/* Make the trusted tries equal to cidrs[n]: add what is new first, then
 * delete what is gone, so no moment has fewer trusted entries than both. */
int pw_datapath_set_trusted(struct pw_datapath *dp, const struct pw_cidr *cidrs,
			    size_t n);

int pw_datapath_prog_fd(const struct pw_datapath *dp);

/* Apply a new (validated) config to a loaded datapath: record, ports,
 * trusted, config bans. Emergency state and map contents are kept; map
 * sizes cannot change this way. */
int pw_datapath_reconfigure(struct pw_datapath *dp,
			    const struct pw_config *cfg);

/* Current record and rewriting it (mode, emergency, ...). */
const struct pw_dp_config *pw_datapath_dp_config(const struct pw_datapath *dp);
int pw_datapath_set_mode(struct pw_datapath *dp, enum pw_mode mode);
int pw_datapath_set_emergency(struct pw_datapath *dp, bool on);

/* Drop sampling for a capture window: `reasons` (bits 1 << enum
 * pw_reason) are sampled until until_ns on the datapath clock, besides
 * the reasons the config samples for good; reasons 0 ends the window.
 * Samples land in the "samples" ring buffer (struct pw_sample). */
int pw_datapath_set_sampling(struct pw_datapath *dp, uint32_t reasons,
			     uint64_t until_ns);

/* Trusted CIDRs (LPM tries). */
int pw_datapath_trust(struct pw_datapath *dp, const struct pw_cidr *c);

/* A sanction on a CIDR. A CIDR exactly as wide as the source key goes to
 * the sanction table (ban or level); any other width goes to the banned-
 * CIDR trie (bans only). expires_ns is on the datapath clock, 0 = never. */
int pw_datapath_sanction(struct pw_datapath *dp, const struct pw_cidr *c,
			 enum pw_sanction_kind kind, enum pw_level level,
			 uint64_t expires_ns);
int pw_datapath_unsanction(struct pw_datapath *dp, const struct pw_cidr *c);

/* Sum the per-CPU counters into out[PW_STAT_NR]. */
int pw_datapath_stats(const struct pw_datapath *dp, struct pw_stat *out);

/* Datapath clock now: CLOCK_MONOTONIC, or the replay clock. */
uint64_t pw_datapath_now_ns(const struct pw_datapath *dp);

/* Replay clock and last-packet record (replay_clock loads only). */
void pw_datapath_set_replay_now(struct pw_datapath *dp, uint64_t now_ns);
const struct pw_replay_out *
pw_datapath_replay_out(const struct pw_datapath *dp);

/* Map fds for tools and tests that read tables directly. */
int pw_datapath_map_fd(const struct pw_datapath *dp, const char *name);

/* Names of counters, for reports: "pass_untracked", "drop_banned", ... */
const char *pw_stat_name(unsigned idx);

#endif /* PW_DATAPATH_H */
