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
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	bool adopted;
	char pin_dir[256];
	uint64_t table_full; /* sanctions refused: table full of higher ones */
};

/* Entries a full sanction table is searched for one to give up. */
#define SANCTION_EVICT_SCAN 65536

#define PW_PROG_NAME "peerwall_xdp"

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
	[PW_X_SAMPLES] = "samples",
	[PW_X_SAMPLES_LIMITED] = "samples_limited",
	[PW_X_SAMPLES_LOST] = "samples_lost",
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

/* Every port's flags in one batch, so ports dropped from the config are
 * cleared too (matters when adopting a previous run's maps). */
static int write_ports(struct pw_datapath *dp, const struct pw_config *cfg)
{
	int fd = bpf_map__fd(dp->skel->maps.ports);
	__u32 count = PW_PORT_COUNT;
	__u32 *keys, *vals;
	int err = 0;

	keys = calloc(PW_PORT_COUNT, sizeof(*keys));
	vals = calloc(PW_PORT_COUNT, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (__u32 port = 0; port < PW_PORT_COUNT; port++) {
		keys[port] = port;
		vals[port] = pw_port_flags(cfg, port);
	}
	if (bpf_map_update_batch(fd, keys, vals, &count, NULL)) {
		err = -errno;
		log_err("datapath: writing protected ports: %s",
			strerror(-err));
	}
cleanup:
	free(keys);
	free(vals);
	return err;
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

/* How much a sanction matters when the table is full: a ban above every
 * level, higher levels above lower ones. */
static unsigned sanction_rank(const struct pw_sanction *s)
{
	return s->kind == PW_SANCTION_BAN ? PW_LVL_NR : s->level;
}

/*
 * The single-source sanction table is full (E2BIG): give up the entry
 * that matters least and ranks below `rank` (a watch level before a
 * quarantine, any level before a ban), so a spoofed flood's thousands of
 * watch levels can never keep a ban out. Losing a level only means the
 * source gets the normal buckets again until the engine re-decides.
 * Returns 0 when an entry was removed.
 */
static int make_room(int fd, size_t key_size, unsigned rank)
{
	uint8_t key[16], next[16], victim[16];
	unsigned best = rank;
	struct pw_sanction v;
	void *prev = NULL;

	for (int i = 0;
	     i < SANCTION_EVICT_SCAN && !bpf_map_get_next_key(fd, prev, next);
	     i++) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &v))
			continue;
		if (sanction_rank(&v) < best) {
			best = sanction_rank(&v);
			memcpy(victim, key, key_size);
			if (best == PW_LVL_WATCH)
				break; /* nothing ranks lower */
		}
	}
	if (best == rank)
		return -E2BIG;
	return bpf_map_delete_elem(fd, victim) ? -errno : 0;
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
		if (err == -E2BIG &&
		    !make_room(fd, v4 ? 4 : 16, sanction_rank(&val)))
			err = bpf_map_update_elem(fd, c->addr, &val, BPF_ANY)
				      ? -errno
				      : 0;
		if (err == -E2BIG && kind == PW_SANCTION_LEVEL) {
			/* Optional: the source keeps the normal buckets.
			 * Said once per 1000, not per decision. */
			if (dp->table_full++ % 1000 == 0)
				log_warn("datapath: sanction table full of "
					 "higher sanctions: %llu levels not "
					 "applied so far (maps.sanctions)",
					 (unsigned long long)dp->table_full);
			return err;
		}
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

static bool cidr_listed(const struct pw_cidr *cidrs, size_t n, int family,
			const void *lpm)
{
	struct pw_cidr c = {.family = family};

	if (family == AF_INET) {
		const struct pw_lpm_v4 *k = lpm;

		c.prefixlen = k->prefixlen;
		memcpy(c.addr, k->addr, 4);
	} else {
		const struct pw_lpm_v6 *k = lpm;

		c.prefixlen = k->prefixlen;
		memcpy(c.addr, k->addr, 16);
	}
	for (size_t i = 0; i < n; i++)
		if (cidrs[i].family == c.family &&
		    cidrs[i].prefixlen == c.prefixlen &&
		    !memcmp(cidrs[i].addr, c.addr, 16))
			return true;
	return false;
}

/* Delete the trie entries of one family not in cidrs[n]; recount. */
static int trie_prune(int fd, int family, const struct pw_cidr *cidrs, size_t n,
		      __u32 *count)
{
	struct pw_lpm_v6 key, next;
	void *prev = NULL;
	__u32 kept = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (cidr_listed(cidrs, n, family, &next)) {
			kept++;
			key = next;
			prev = &key;
			continue;
		}
		if (bpf_map_delete_elem(fd, &next))
			return -errno;
		/* restart: the iteration order of a trie changes on delete */
		prev = NULL;
		kept = 0;
	}
	*count = kept;
	return 0;
}

int pw_datapath_set_trusted(struct pw_datapath *dp, const struct pw_cidr *cidrs,
			    size_t n)
{
	int fd4 = bpf_map__fd(dp->skel->maps.trusted_v4);
	int fd6 = bpf_map__fd(dp->skel->maps.trusted_v6);
	struct pw_trusted val = {0};
	char buf[PW_CIDR_STRLEN];
	__u32 scratch = 0;
	int err;

	for (size_t i = 0; i < n; i++) {
		bool v4 = cidrs[i].family == AF_INET;

		err = trie_put(v4 ? fd4 : fd6, &cidrs[i], &val, &scratch);
		if (err) {
			pw_cidr_format(&cidrs[i], buf, sizeof(buf));
			log_err("datapath: trusting %s: %s", buf,
				strerror(-err));
			return err;
		}
	}
	/* Counts must cover the new entries before anything is deleted. */
	dp->dp.trusted_v4_count = dp->dp.trusted_v6_count = 1;
	err = write_dp_config(dp);
	if (!err)
		err = trie_prune(fd4, AF_INET, cidrs, n,
				 &dp->dp.trusted_v4_count);
	if (!err)
		err = trie_prune(fd6, AF_INET6, cidrs, n,
				 &dp->dp.trusted_v6_count);
	if (err) {
		log_err("datapath: pruning trusted entries: %s",
			strerror(-err));
		return err;
	}
	return write_dp_config(dp);
}

/* Entries in a trie (for counts after adopting pinned maps). */
static __u32 trie_count(int fd)
{
	struct pw_lpm_v6 key, next;
	void *prev = NULL;
	__u32 n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		n++;
		key = next;
		prev = &key;
	}
	return n;
}

static int fill_maps(struct pw_datapath *dp, const struct pw_config *cfg)
{
	int err;

	dp->dp.bancidr_v4_count =
		trie_count(bpf_map__fd(dp->skel->maps.bancidr_v4));
	dp->dp.bancidr_v6_count =
		trie_count(bpf_map__fd(dp->skel->maps.bancidr_v6));
	err = write_ports(dp, cfg);
	if (!err)
		err = pw_datapath_set_trusted(dp, cfg->trusted, cfg->n_trusted);
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

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[256];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Pin every map under pin_dir/<name>; libbpf reuses pins that exist (the
 * previous run's maps, with their sources and bans) and creates the rest. */
static int set_pins(struct pw_datapath *dp, const char *pin_dir)
{
	char path[512], probe[512];
	struct bpf_map *m;
	int err;

	if (snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir) >=
	    (int)sizeof(dp->pin_dir))
		return -ENAMETOOLONG;
	err = mkdir_p(pin_dir, 0700);
	if (err) {
		log_err("datapath: creating %s: %s (is bpffs mounted on "
			"/sys/fs/bpf?)",
			pin_dir, strerror(-err));
		return err;
	}
	snprintf(probe, sizeof(probe), "%s/config", pin_dir);
	dp->adopted = access(probe, F_OK) == 0;
	bpf_object__for_each_map(m, dp->skel->obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir,
			 bpf_map__name(m));
		err = bpf_map__set_pin_path(m, path);
		if (err)
			return err;
	}
	return 0;
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
	if (opts && opts->pin_dir) {
		err = set_pins(dp, opts->pin_dir);
		if (err)
			goto cleanup;
	}
	err = peerwall_bpf__load(dp->skel);
	if (err) {
		log_err("datapath: loading BPF object: %s (run as root; "
			"check kernel BPF support; if maps pinned in %s come "
			"from a run with other map sizes, detach first)",
			strerror(-err), dp->pin_dir[0] ? dp->pin_dir : "-");
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

int pw_datapath_reconfigure(struct pw_datapath *dp, const struct pw_config *cfg)
{
	__u32 emergency = dp->dp.emergency;
	__u32 window = dp->dp.sample_reasons & ~dp->dp.sample_always;
	__u64 until = dp->dp.sample_until_ns;

	pw_dp_config_build(cfg, &dp->dp);
	dp->dp.emergency = emergency;
	dp->dp.sample_reasons |= window;
	dp->dp.sample_until_ns = until;
	return fill_maps(dp, cfg);
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

int pw_datapath_set_sampling(struct pw_datapath *dp, uint32_t reasons,
			     uint64_t until_ns)
{
	dp->dp.sample_reasons = dp->dp.sample_always | reasons;
	dp->dp.sample_until_ns = reasons ? until_ns : 0;
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

bool pw_datapath_adopted(const struct pw_datapath *dp)
{
	return dp->adopted;
}

static __u32 mode_flags(enum pw_xdp_mode mode)
{
	return mode == PW_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* Name of the program with this id ("" if it vanished). */
static void prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {0};
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = 0;
	if (fd < 0) {
		/* Opening a program by id needs CAP_SYS_ADMIN. */
		log_warn("datapath: cannot open XDP program %u to read its "
			 "name: %s",
			 id, strerror(errno));
		return;
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

int pw_datapath_remove_leftover(const char *ifname, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	int ifindex = if_nametoindex(ifname);
	char name[BPF_OBJ_NAME_LEN], path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	if (ifindex && !bpf_xdp_query(ifindex, 0, &q) && q.prog_id) {
		prog_name(q.prog_id, name, sizeof(name));
		if (!strcmp(name, PW_PROG_NAME)) {
			a.old_prog_fd = bpf_prog_get_fd_by_id(q.prog_id);
			err = a.old_prog_fd < 0
				      ? -errno
				      : bpf_xdp_detach(
						ifindex,
						q.attach_mode ==
								XDP_ATTACHED_SKB
							? XDP_FLAGS_SKB_MODE
							: XDP_FLAGS_DRV_MODE,
						&a);
			if (a.old_prog_fd >= 0)
				close(a.old_prog_fd);
			if (err)
				log_err("datapath: removing the previous "
					"peerwall program %u from %s: %s",
					q.prog_id, ifname, strerror(-err));
			else
				log_info("datapath: %s: removed the previous "
					 "peerwall program %u",
					 ifname, q.prog_id);
		}
	}
	d = opendir(pin_dir);
	if (!d)
		return err;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", pin_dir,
				     de->d_name) < sizeof(path))
			unlink(path);
	closedir(d);
	if (rmdir(pin_dir) && errno != ENOENT)
		log_warn("datapath: removing %s: %s", pin_dir, strerror(errno));
	else
		log_info("datapath: removed the pinned maps in %s", pin_dir);
	return err;
}

int pw_datapath_attach(struct pw_datapath *dp, const char *ifname,
		       enum pw_xdp_mode mode, const char **used_mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	int ifindex = if_nametoindex(ifname);
	int prog_fd = pw_datapath_prog_fd(dp);
	char name[BPF_OBJ_NAME_LEN];
	__u32 flags;
	int err;

	if (!ifindex) {
		log_err("datapath: interface %s: %s", ifname, strerror(errno));
		return -ENODEV;
	}
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err) {
		log_err("datapath: querying XDP on %s: %s", ifname,
			strerror(-err));
		return err;
	}
	if (q.prog_id) {
		prog_name(q.prog_id, name, sizeof(name));
		if (strcmp(name, PW_PROG_NAME)) {
			log_err("datapath: %s already runs XDP program %u "
				"(%s); peerwall will not replace a foreign "
				"program",
				ifname, q.prog_id, name[0] ? name : "?");
			return -EBUSY;
		}
		/* Ours, from a previous run: swap atomically, same mode. */
		a.old_prog_fd = bpf_prog_get_fd_by_id(q.prog_id);
		if (a.old_prog_fd < 0)
			return -errno;
		flags = XDP_FLAGS_REPLACE | (q.attach_mode == XDP_ATTACHED_SKB
						     ? XDP_FLAGS_SKB_MODE
						     : XDP_FLAGS_DRV_MODE);
		err = bpf_xdp_attach(ifindex, prog_fd, flags, &a);
		close(a.old_prog_fd);
		if (err) {
			log_err("datapath: replacing program %u on %s: %s",
				q.prog_id, ifname, strerror(-err));
			return err;
		}
		*used_mode = flags & XDP_FLAGS_SKB_MODE ? "generic" : "native";
		log_info("datapath: %s: replaced previous peerwall program %u "
			 "(%s mode)",
			 ifname, q.prog_id, *used_mode);
		return 0;
	}
	flags = XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flags(mode);
	err = bpf_xdp_attach(ifindex, prog_fd, flags, NULL);
	if (err && mode == PW_XDP_AUTO) {
		log_warn("datapath: native XDP on %s failed (%s); falling back "
			 "to generic mode, which is slower",
			 ifname, strerror(-err));
		flags = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(ifindex, prog_fd, flags, NULL);
	}
	if (err) {
		log_err("datapath: attaching XDP to %s: %s", ifname,
			strerror(-err));
		return err;
	}
	*used_mode = flags & XDP_FLAGS_SKB_MODE ? "generic" : "native";
	return 0;
}

int pw_datapath_detach(struct pw_datapath *dp, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	int ifindex = if_nametoindex(ifname);
	int err = 0;

	if (ifindex && !bpf_xdp_query(ifindex, 0, &q) && q.prog_id) {
		a.old_prog_fd = pw_datapath_prog_fd(dp);
		err = bpf_xdp_detach(ifindex,
				     q.attach_mode == XDP_ATTACHED_SKB
					     ? XDP_FLAGS_SKB_MODE
					     : XDP_FLAGS_DRV_MODE,
				     &a);
		if (err)
			log_err("datapath: detaching from %s: %s", ifname,
				strerror(-err));
	}
	if (dp->pin_dir[0]) {
		bpf_object__unpin_maps(dp->skel->obj, NULL);
		if (rmdir(dp->pin_dir) && errno != ENOENT)
			log_warn("datapath: removing %s: %s", dp->pin_dir,
				 strerror(errno));
		dp->pin_dir[0] = 0;
	}
	return err;
}
