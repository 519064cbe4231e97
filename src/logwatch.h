/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * logwatch.h - follow the node's log files like `tail -F`, turning lines
 * that match a configured pattern into invalid-message reports.
 *
 * Single-threaded and polled: the agent calls pw_logwatch_poll() once per
 * tick with a line budget. See logwatch.c for the rotation semantics.
 */
#ifndef PW_LOGWATCH_H
#define PW_LOGWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "report.h"

/* Longest line (bytes, without its "\n") that is matched; longer lines are
 * skipped and counted in too_long. */
#define PW_LOGWATCH_LINE_MAX 4096

struct pw_logwatch_set;

/* Counters for metrics, monotonic over the set's life. */
struct pw_logwatch_stats {
	uint64_t lines;	   /* complete lines read, too long ones included */
	uint64_t matches;  /* reports handed to the callback */
	uint64_t bad_addr; /* matches whose group 1 is not an address */
	uint64_t too_long; /* lines longer than PW_LOGWATCH_LINE_MAX */
	uint64_t reopened; /* rotations, truncations, files (re)appearing */
};

typedef void (*pw_logwatch_cb)(void *arg, const struct pw_report *r,
			       const struct pw_logwatch *entry);

/* Compile every pattern (POSIX ERE, group 1 = the peer address), open each
 * distinct path once and start at its end: what is already there is
 * history, not news. A missing path is not an error; it is retried at
 * every poll and read from its start once it appears. A path that exists
 * but cannot be followed (unreadable, not a regular file) and a bad entry
 * are errors here. The entries are copied; cfg may be freed afterwards.
 * Returns 0 or -errno (-EINVAL, -ENOMEM, open(2)'s errors). */
int pw_logwatch_new(const struct pw_logwatch *cfg, size_t n,
		    struct pw_logwatch_set **out);

void pw_logwatch_free(struct pw_logwatch_set *s);

/* Read what was appended since the last poll, at most max_lines complete
 * lines over all files (the rest stays for the next poll), and call cb
 * (may be NULL) for each line and each entry whose pattern matches it,
 * with verb INVALID, the entry's weight and reason, and the address from
 * group 1. `entry` points into the set and lives as long as it. Returns
 * the number of reports made, or -errno for the first hard error (a
 * failed read or fstat on an open file; every file is still polled, and
 * reports made before are not undone). A missing file is never an error. */
int pw_logwatch_poll(struct pw_logwatch_set *s, size_t max_lines,
		     pw_logwatch_cb cb, void *arg);

void pw_logwatch_get_stats(const struct pw_logwatch_set *s,
			   struct pw_logwatch_stats *out);

#endif /* PW_LOGWATCH_H */
