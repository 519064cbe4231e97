/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.h - peerwall's configuration: the schema every tool shares.
 *
 * A libconfig file is parsed and validated into struct pw_config in one
 * pass; every problem is collected as "file:line: what is wrong" and the
 * caller gets either a fully valid config or none at all (nothing is ever
 * applied half-way). Unknown keys are errors, so a typo cannot silently
 * leave a default in force.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <peerwall/abi.h>
#include <peerwall/defaults.h>

#include "cidr.h"
#include "score.h"

#define PW_CONFIG_MAX_ERRORS 64
#define PW_CONFIG_ERRLEN     256

struct pw_config_errors {
	size_t n;	/* errors collected (capped at PW_CONFIG_MAX_ERRORS) */
	size_t dropped; /* errors beyond the cap, counted only */
	char msg[PW_CONFIG_MAX_ERRORS][PW_CONFIG_ERRLEN];
};

struct pw_limit {
	uint64_t pps;	    /* packets/s, 0 = unlimited */
	uint64_t burst;	    /* packets, >= pps when pps > 0 */
	uint64_t syn_pps;   /* TCP SYN (no ACK)/s, 0 = unlimited */
	uint64_t syn_burst; /* SYNs, >= syn_pps when syn_pps > 0 */
	/* Concurrent TCP connections to protected ports (nftables ct count;
	 * source and prefix only), 0 = unlimited. */
	uint32_t max_conns;
};

struct pw_protect {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port; /* 1..65535 */
};

struct pw_map_sizes {
	uint32_t sources;   /* LRU source table, per family */
	uint32_t prefixes;  /* LRU prefix bucket table, per family */
	uint32_t sanctions; /* ban/quarantine hash, per family */
	uint32_t bancidrs;  /* banned CIDR trie, per family */
};

#define PW_PATH_MAX		256
#define PW_MAX_LOGWATCH		32
#define PW_LOGWATCH_PATTERN_MAX 512
#define PW_REASON_MAX		63

enum pw_xdp_mode_cfg {
	PW_CFG_XDP_AUTO = 0,
	PW_CFG_XDP_NATIVE,
	PW_CFG_XDP_GENERIC
};

/* One followed log file: each line matching `pattern` (POSIX extended
 * regex, group 1 = the peer address) counts as an invalid-message report. */
struct pw_logwatch {
	char path[PW_PATH_MAX];
	char pattern[PW_LOGWATCH_PATTERN_MAX];
	unsigned weight; /* 1..100 */
	char reason[PW_REASON_MAX + 1];
};

/* Where decisions are enforced: the XDP program, the nftables table, or
 * both (defense in depth, the default). */
enum pw_enforce { PW_ENFORCE_BOTH = 0, PW_ENFORCE_XDP, PW_ENFORCE_NFT };

static inline bool pw_enforce_xdp(enum pw_enforce e)
{
	return e != PW_ENFORCE_NFT;
}

static inline bool pw_enforce_nft(enum pw_enforce e)
{
	return e != PW_ENFORCE_XDP;
}

/* nftables and emergency-mode settings. */
struct pw_nft_config {
	enum pw_enforce enforce;
	char table[64];	     /* family inet, [A-Za-z0-9_-] */
	bool remove_on_exit; /* delete the table when peerwalld stops */
	bool mirror_bans;    /* ban sets with timeouts in the table too */
	uint16_t mgmt_ports[PW_MAX_MGMT_PORTS]; /* never matched */
	size_t n_mgmt;
	double emergency_ttl_s; /* `emergency on` without --ttl */
};

/* Settings of the long-running agent (peerwalld). */
struct pw_agent_config {
	char state_dir[PW_PATH_MAX];	  /* bans, history, runtime allowlist */
	char control_socket[PW_PATH_MAX]; /* peerwallctl's unix stream socket */
	char control_group[64]; /* group allowed to mutate ("" = root) */
	char report_socket[PW_PATH_MAX]; /* node reports, unix datagram */
	char pin_root[PW_PATH_MAX]; /* maps pinned at <pin_root>/<ifname> */
	char metrics_listen[64];    /* "127.0.0.1:9477", "" = off */
	enum pw_xdp_mode_cfg xdp_mode;
	bool detach_on_exit;
	enum pw_posture posture;
	uint32_t
		reports_per_tick; /* reports processed per tick, rest dropped */
	uint32_t max_peers;	  /* sources the scoring engine keeps */
	struct pw_logwatch logwatch[PW_MAX_LOGWATCH];
	size_t n_logwatch;
};

/* Drop sampling for evidence (capture = { ... }). */
struct pw_capture_config {
	uint32_t reasons;    /* 1 << enum pw_reason sampled for good; 0 = off */
	uint32_t per_second; /* samples per second, all CPUs together */
	uint32_t snaplen;    /* bytes kept of each, 1..PW_SAMPLE_MAX_BYTES */
	uint32_t ring_kib;   /* the agent's ring of recent samples */
};

struct pw_config {
	char interfaces[PW_MAX_INTERFACES][IF_NAMESIZE];
	size_t n_interfaces;
	enum pw_mode mode;
	enum pw_malformed_policy malformed;
	struct pw_protect *protect; /* heap, n_protect entries */
	size_t n_protect;
	struct pw_cidr *trusted; /* heap, n_trusted entries */
	size_t n_trusted;
	struct pw_cidr *bans; /* static bans from the config file */
	size_t n_bans;
	unsigned src_prefix_v4, src_prefix_v6; /* source key width */
	unsigned net_prefix_v4, net_prefix_v6; /* prefix bucket width */
	struct pw_limit source, quarantine, prefix, untrusted;
	struct pw_map_sizes maps;
	uint32_t tick_ms;   /* agent tick / attention interval */
	uint32_t attn_pkts; /* packets per tick that flag a source */
	struct pw_agent_config agent;
	struct pw_nft_config nft;
	struct pw_capture_config capture;
	struct pw_score_params scoring;
};

/* Fill cfg with the documented defaults (no interfaces, no protected
 * ports, nothing trusted). */
void pw_config_defaults(struct pw_config *cfg);

/* Parse and validate. `name` is the file name used in messages. On success
 * returns 0 and cfg owns heap memory (free with pw_config_free). On failure
 * returns -EINVAL (or -ENOENT/-EIO for the file variant), cfg is left
 * zeroed and errs holds at least one message. */
int pw_config_load_string(const char *text, const char *name,
			  struct pw_config *cfg, struct pw_config_errors *errs);
int pw_config_load_file(const char *path, struct pw_config *cfg,
			struct pw_config_errors *errs);

void pw_config_free(struct pw_config *cfg);

/* The config hash operators compare across hosts (`status`, metrics,
 * evidence): FNV-1a 64 of the file's bytes as 16 hex digits. The file
 * variant hashes what is on disk now (an unreadable file hashes as
 * empty). */
#define PW_CONFIG_HASH_LEN 17
void pw_config_hash(const void *buf, size_t len, char out[PW_CONFIG_HASH_LEN]);
void pw_config_file_hash(const char *path, char out[PW_CONFIG_HASH_LEN]);

#endif /* PW_CONFIG_H */
