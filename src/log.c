// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * log.c - stderr or syslog, one line per message, a level filter.
 * libbpf's chatter is routed here too so it obeys the same verbosity.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include <bpf/libbpf.h>

#include "log.h"

static const char *log_ident = "peerwall";
static enum pw_log_level log_max = PW_LOG_INFO;
static bool log_syslog;
static bool libbpf_verbose;
/* A journal line: longer messages are cut (the log itself is not). */
#define LOG_TAP_LINE_MAX 1024
static void (*log_tap)(enum pw_log_level, const char *, void *);
static void *log_tap_ctx;

void pw_log_set_tap(void (*tap)(enum pw_log_level lvl, const char *line,
				void *ctx),
		    void *ctx)
{
	log_tap = tap;
	log_tap_ctx = ctx;
}

void pw_log_init(const char *ident, enum pw_log_level max, bool use_syslog)
{
	log_ident = ident;
	log_max = max;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void pw_vlog(enum pw_log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *const tag[] = {"error", "warning", "info", "debug"};

	if (lvl > log_max)
		return;
	if (log_tap) {
		char line[LOG_TAP_LINE_MAX];
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(line, sizeof(line), fmt, copy);
		va_end(copy);
		log_tap(lvl, line, log_tap_ctx);
	}
	if (log_syslog) {
		vsyslog(prio[lvl], fmt, ap);
		return;
	}
	fprintf(stderr, "%s: %s: ", log_ident, tag[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pw_log(enum pw_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pw_vlog(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!libbpf_verbose && level != LIBBPF_WARN)
		return 0;
	if (log_syslog) {
		vsyslog(level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG, fmt,
			ap);
		return 0;
	}
	return vfprintf(stderr, fmt, ap);
}

void pw_log_libbpf(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}
