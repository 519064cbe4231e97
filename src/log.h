/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log.h - one place every message goes through (OpenBSD daemon style).
 * Foreground tools log to stderr; the agent can switch to syslog. An error
 * is logged once, by the code that handles it.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

#include <stdbool.h>

enum pw_log_level { PW_LOG_ERR = 0, PW_LOG_WARN, PW_LOG_INFO, PW_LOG_DEBUG };

void pw_log_init(const char *ident, enum pw_log_level max, bool syslog);
void pw_log(enum pw_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   pw_log(PW_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  pw_log(PW_LOG_WARN, __VA_ARGS__)
#define log_info(...)  pw_log(PW_LOG_INFO, __VA_ARGS__)
#define log_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

/* Also hand every message that passes the level filter, formatted, to
 * tap (the agent's in-memory journal). NULL removes it. */
void pw_log_set_tap(void (*tap)(enum pw_log_level lvl, const char *line,
				void *ctx),
		    void *ctx);

/* Route libbpf's own messages through pw_log (debug unless verbose). */
void pw_log_libbpf(bool verbose);

#endif /* PW_LOG_H */
