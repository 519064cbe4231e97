/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * journal.h - the agent's own log of the last hour, in memory, for
 * `peerwallctl evidence`: every line it logs at info level or above
 * (decisions with their causes, operator actions with their uid,
 * emergency mode, warnings, errors), whether the log goes to syslog or
 * stderr. Bounded by age and by bytes; the oldest lines go first. The
 * ring itself is pure (time is an argument); pw_journal_tap() is the
 * log.c tap that feeds it with the wall clock.
 */
#ifndef PW_JOURNAL_H
#define PW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct pw_journal;

struct pw_journal *pw_journal_new(int64_t max_age_s, size_t max_bytes);
void pw_journal_free(struct pw_journal *j);

/* Keep one line (a trailing newline is not needed; longer lines than
 * PW_JOURNAL_LINE_MAX are cut). Lines older than max_age_s at now_unix_s
 * are dropped. */
#define PW_JOURNAL_LINE_MAX 1024
void pw_journal_add(struct pw_journal *j, int64_t now_unix_s,
		    enum pw_log_level lvl, const char *line);

/* The lines of the last max_age_s at now_unix_s as text, one per line:
 * "2024-05-01T12:00:00Z info: decision: ban ...". malloc'd, NUL-
 * terminated; *n_lines gets the count. NULL when out of memory. */
char *pw_journal_text(struct pw_journal *j, int64_t now_unix_s,
		      size_t *n_lines);

/* For pw_log_set_tap(): ctx is the journal. */
void pw_journal_tap(enum pw_log_level lvl, const char *line, void *ctx);

#endif /* PW_JOURNAL_H */
