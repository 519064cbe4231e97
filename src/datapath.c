// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * datapath.c - the XDP object's loader and map writer.
 *
 * The object is embedded in the binary through its bpftool skeleton, so a
 * tool always runs the datapath it was built with. Lifecycle, libbpf-
 * bootstrap style: open -> rodata (replay clock) -> map sizes -> load ->
 * fill maps -> config record last, so the program never sees a record that
 * points at tries not yet filled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "dp_config.h"
#include "log.h"
#include "peerwall.skel.h"

struct pw_datapath {
	struct peerwall_bpf *skel;
	struct pw_dp_config dp;
	bool replay_clock;
};

static const char *const stat_names[PW_STAT_NR] = {
	[PW_R_PASS_UNTRACKED] = "pass_untracked",
	[PW_R_PASS_TRUSTED] = "pass_trusted",
	[PW_R_PASS] = "pass",
	[PW_R_MALFORMED] = "malformed",
	[PW_R_DROP_EMERGENCY] = "drop_emergency",
	[PW_R_DROP_BANNED] = "drop_banned",
	[PW_R_DROP_RATE_SRC] = "drop_rate_src",
	[PW_R_DROP_SYN_SRC] = "drop_syn_src",
	[PW_R_DROP_RATE_PREFIX] = "drop_rate_prefix",
	[PW_R_DROP_SYN_PREFIX] = "drop_syn_prefix",
	[PW_R_DROP_RATE_GLOBAL] = "drop_rate_global",
	[PW_R_DROP_SYN_GLOBAL] = "drop_syn_global",
	[PW_X_MONITOR_PASSED] = "monitor_passed",
	[PW_X_MALFORMED_DROPPED] = "malformed_dropped",
	[PW_X_ATTN_EVENTS] = "attention_events",
	[PW_X_ATTN_LOST] = "attention_lost",
	[PW_X_SRC_TABLE_FULL] = "source_table_full",
};

const char *pw_stat_name(unsigned idx)
{
	return idx < PW_STAT_NR ? stat_names[idx] : "unknown";
}

static int write_dp_config(struct pw_datapath *dp)
{
	__u32 zero = 0;
	int err;

	err = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.config), &zero,
				  &dp->dp, BPF_ANY);
	if (err) {
		err = -errno;
		log_err("datapath: writing config record: %s", strerror(-err));
	}
	return err;
}

static int write_ports(struct pw_datapath *dp, const struct pw_config *cfg)
{
	int fd = bpf_map__fd(dp->skel->maps.ports);

	for (size_t i = 0; i < cfg->n_protect; i++) {
		__u32 port = cfg->protect[i].port;
		__u32 flags = pw_port_flags(cfg, port);

		if (bpf_map_update_elem(fd, &port, &flags, BPF_ANY)) {
			int err = -errno;

			log_err("datapath: protecting port %u: %s", port,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* LPM key for a CIDR in the buffer `key` (struct pw_lpm_v4 or _v6). */
static size_t lpm_key(const struct pw_cidr *c, void *key)
{
	if (c->family == AF_INET) {
		struct pw_lpm_v4 *k = key;

		k->prefixlen = c->prefixlen;
		memcpy(k->addr, c->addr, 4);
		return sizeof(*k);
	}
	struct pw_lpm_v6 *k6 = key;

	k6->prefixlen = c->prefixlen;
	memcpy(k6->addr, c->addr, 16);
	return sizeof(*k6);
}

/* Insert into a trie and keep the record's entry count exact. */
static int trie_put(int fd, const struct pw_cidr *c, const void *value,
		    __u32 *count)
{
	struct pw_lpm_v6 key = {0};
	struct pw_sanction old;
	bool existed;

	lpm_key(c, &key);
	existed = bpf_map_lookup_elem(fd, &key, &old) == 0;
	if (bpf_map_update_elem(fd, &key, value, BPF_ANY))
		return -errno;
	if (!existed)
		(*count)++;
	return 0;
}

int pw_datapath_trust(struct pw_datapath *dp, const struct pw_cidr *c)
{
	struct pw_trusted val = {0};
	char buf[PW_CIDR_STRLEN];
	bool v4 = c->family == AF_INET;
	int err;

	err = trie_put(bpf_map__fd(v4 ? dp->skel->maps.trusted_v4
				      : dp->skel->maps.trusted_v6),
		       c, &val,
		       v4 ? &dp->dp.trusted_v4_count
			  : &dp->dp.trusted_v6_count);
	if (err) {
		pw_cidr_format(c, buf, sizeof(buf));
		log_err("datapath: trusting %s: %s", buf, strerror(-err));
		return err;
	}
	return write_dp_config(dp);
}

static unsigned src_width(const struct pw_datapath *dp, int family)
{
	return family == AF_INET ? dp->dp.src_prefix_v4 : dp->dp.src_prefix_v6;
}

int pw_datapath_sanction(struct pw_datapath *dp, const struct pw_cidr *c,
			 enum pw_sanction_kind kind, enum pw_level level,
			 uint64_t expires_ns)
{
	struct pw_sanction val = {
		.expires_ns = expires_ns, .kind = kind, .level = level};
	bool v4 = c->family == AF_INET;
	char buf[PW_CIDR_STRLEN];
	int fd, err;

	if (c->prefixlen == src_width(dp, c->family)) {
		fd = bpf_map__fd(v4 ? dp->skel->maps.sanction_v4
				    : dp->skel->maps.sanction_v6);
		err = bpf_map_update_elem(fd, c->addr, &val, BPF_ANY) ? -errno
								      : 0;
	} else if (kind == PW_SANCTION_BAN) {
		fd = bpf_map__fd(v4 ? dp->skel->maps.bancidr_v4
				    : dp->skel->maps.bancidr_v6);
		err = trie_put(fd, c, &val,
			       v4 ? &dp->dp.bancidr_v4_count
				  : &dp->dp.bancidr_v6_count);
		if (!err)
			err = write_dp_config(dp);
	} else {
		err = -EINVAL;
	}
	if (err) {
		pw_cidr_format(c, buf, sizeof(buf));
		log_err("datapath: sanctioning %s: %s", buf,
			err == -EINVAL ? "levels apply to single sources only"
				       : strerror(-err));
	}
	return err;
}

int pw_datapath_unsanction(struct pw_datapath *dp, const struct pw_cidr *c)
{
	bool v4 = c->family == AF_INET;
	struct pw_lpm_v6 key = {0};
	__u32 *count;
	int fd;

	if (c->prefixlen == src_width(dp, c->family)) {
		fd = bpf_map__fd(v4 ? dp->skel->maps.sanction_v4
				    : dp->skel->maps.sanction_v6);
		return bpf_map_delete_elem(fd, c->addr) ? -errno : 0;
	}
	fd = bpf_map__fd(v4 ? dp->skel->maps.bancidr_v4
			    : dp->skel->maps.bancidr_v6);
	count = v4 ? &dp->dp.bancidr_v4_count : &dp->dp.bancidr_v6_count;
	lpm_key(c, &key);
	if (bpf_map_delete_elem(fd, &key))
		return -errno;
	if (*count)
		(*count)--;
	return write_dp_config(dp);
}

static int fill_maps(struct pw_datapath *dp, const struct pw_config *cfg)
{
	int err;

	err = write_ports(dp, cfg);
	for (size_t i = 0; !err && i < cfg->n_trusted; i++)
		err = pw_datapath_trust(dp, &cfg->trusted[i]);
	for (size_t i = 0; !err && i < cfg->n_bans; i++)
		err = pw_datapath_sanction(dp, &cfg->bans[i], PW_SANCTION_BAN,
					   PW_LVL_NORMAL, 0);
	if (!err)
		err = write_dp_config(dp);
	return err;
}

static void size_maps(struct peerwall_bpf *skel, const struct pw_config *cfg)
{
	bpf_map__set_max_entries(skel->maps.src_v4, cfg->maps.sources);
	bpf_map__set_max_entries(skel->maps.src_v6, cfg->maps.sources);
	bpf_map__set_max_entries(skel->maps.prefix_v4, cfg->maps.prefixes);
	bpf_map__set_max_entries(skel->maps.prefix_v6, cfg->maps.prefixes);
	bpf_map__set_max_entries(skel->maps.sanction_v4, cfg->maps.sanctions);
	bpf_map__set_max_entries(skel->maps.sanction_v6, cfg->maps.sanctions);
	bpf_map__set_max_entries(skel->maps.bancidr_v4, cfg->maps.bancidrs);
	bpf_map__set_max_entries(skel->maps.bancidr_v6, cfg->maps.bancidrs);
}

int pw_datapath_load(const struct pw_config *cfg,
		     const struct pw_datapath_opts *opts,
		     struct pw_datapath **out)
{
	struct pw_datapath *dp;
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->replay_clock = opts && opts->replay_clock;
	pw_dp_config_build(cfg, &dp->dp);

	dp->skel = peerwall_bpf__open();
	if (!dp->skel) {
		err = -errno;
		log_err("datapath: opening BPF object: %s", strerror(-err));
		goto cleanup;
	}
	dp->skel->rodata->replay_clock = dp->replay_clock;
	size_maps(dp->skel, cfg);
	err = peerwall_bpf__load(dp->skel);
	if (err) {
		log_err("datapath: loading BPF object: %s (run as root; "
			"check `ulimit -l` and kernel BPF support)",
			strerror(-err));
		goto cleanup;
	}
	err = fill_maps(dp, cfg);
	if (err)
		goto cleanup;
	*out = dp;
	return 0;
cleanup:
	pw_datapath_close(dp);
	return err;
}

void pw_datapath_close(struct pw_datapath *dp)
{
	if (!dp)
		return;
	peerwall_bpf__destroy(dp->skel);
	free(dp);
}

int pw_datapath_prog_fd(const struct pw_datapath *dp)
{
	return bpf_program__fd(dp->skel->progs.peerwall_xdp);
}

const struct pw_dp_config *pw_datapath_dp_config(const struct pw_datapath *dp)
{
	return &dp->dp;
}

int pw_datapath_set_mode(struct pw_datapath *dp, enum pw_mode mode)
{
	dp->dp.mode = mode;
	return write_dp_config(dp);
}

int pw_datapath_set_emergency(struct pw_datapath *dp, bool on)
{
	dp->dp.emergency = on;
	return write_dp_config(dp);
}

int pw_datapath_stats(const struct pw_datapath *dp, struct pw_stat *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(dp->skel->maps.stats);
	struct pw_stat *percpu;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 i = 0; i < PW_STAT_NR; i++) {
		out[i].packets = out[i].bytes = 0;
		if (bpf_map_lookup_elem(fd, &i, percpu)) {
			int err = -errno;

			free(percpu);
			return err;
		}
		for (int c = 0; c < ncpu; c++) {
			out[i].packets += percpu[c].packets;
			out[i].bytes += percpu[c].bytes;
		}
	}
	free(percpu);
	return 0;
}

uint64_t pw_datapath_now_ns(const struct pw_datapath *dp)
{
	struct timespec ts;

	if (dp->replay_clock)
		return dp->skel->bss->replay_now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void pw_datapath_set_replay_now(struct pw_datapath *dp, uint64_t now_ns)
{
	dp->skel->bss->replay_now_ns = now_ns;
}

const struct pw_replay_out *pw_datapath_replay_out(const struct pw_datapath *dp)
{
	return &dp->skel->bss->replay_out;
}

int pw_datapath_map_fd(const struct pw_datapath *dp, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(dp->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}
