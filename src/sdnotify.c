// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sdnotify.c - the agent's side of systemd's notify protocol, through
 * libsystemd's sd_notify() (one datagram to $NOTIFY_SOCKET per call).
 *
 * The unit is Type=notify: systemd considers peerwalld started only when
 * it says READY=1, which it does once the XDP program is attached, state
 * restored and the control socket listening, so `systemctl start` returning
 * means `peerwallctl` works. WatchdogSec= makes systemd kill (and, with
 * Restart=on-failure, restart) an agent whose loop stopped turning; the
 * datapath keeps enforcing meanwhile (fail-static). The ping comes from the
 * tick, so a stuck tick is what trips it.
 *
 * A failed sd_notify() is logged once (the first time) and otherwise
 * ignored: the defense must not depend on the service manager listening.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "sdnotify.h"

#define NOTIFY_STATUS_MAX 256
/* Ping at this fraction of WatchdogSec (systemd recommends half or less). */
#define WATCHDOG_PING_DIV 4u
/* Warn when a tick is longer than this fraction of WatchdogSec. */
#define WATCHDOG_TICK_DIV 2u

static uint64_t wd_usec;    /* 0: no watchdog */
static uint64_t wd_last_us; /* last ping, CLOCK_MONOTONIC */
static bool warned;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void send_state(const char *state)
{
	int err = sd_notify(0, state);

	if (err < 0 && !warned) {
		warned = true;
		log_warn("sd_notify: %s (further failures not logged)",
			 strerror(-err));
	}
}

/* "STATE\nSTATUS=text" with the status formatted from fmt. */
static void send_with_status(const char *state, const char *fmt, va_list ap)
{
	char status[NOTIFY_STATUS_MAX];
	char msg[NOTIFY_STATUS_MAX + 64];

	vsnprintf(status, sizeof(status), fmt, ap);
	/* A newline would start a new assignment in the datagram. */
	for (char *p = status; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s", state, status);
	send_state(msg);
}

void pw_notify_init(unsigned tick_ms)
{
	uint64_t usec = 0;
	int r = sd_watchdog_enabled(0, &usec);

	if (r < 0) {
		log_warn("systemd watchdog: bad WATCHDOG_USEC/WATCHDOG_PID: "
			 "%s; not pinging",
			 strerror(-r));
		return;
	}
	if (r == 0)
		return;
	wd_usec = usec;
	wd_last_us = 0;
	if ((uint64_t)tick_ms * 1000u > usec / WATCHDOG_TICK_DIV)
		log_warn("systemd watchdog: tick_ms %u is longer than half of "
			 "WatchdogSec (%" PRIu64 " ms): raise WatchdogSec or "
			 "the watchdog may kill a healthy agent",
			 tick_ms, usec / 1000u);
	else
		log_info("systemd watchdog: %" PRIu64 " ms, pinged from the "
			 "tick",
			 usec / 1000u);
}

void pw_notify_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_with_status("READY=1", fmt, ap);
	va_end(ap);
}

void pw_notify_reloading(void)
{
	char msg[96];

	snprintf(msg, sizeof(msg),
		 "RELOADING=1\nMONOTONIC_USEC=%" PRIu64
		 "\nSTATUS=reloading the config",
		 mono_us());
	send_state(msg);
}

void pw_notify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping: saving state (the XDP "
		   "program keeps enforcing)");
}

bool pw_notify_watchdog_due(uint64_t now_us, uint64_t last_us, uint64_t wd_usec)
{
	if (!wd_usec)
		return false;
	if (!last_us || now_us < last_us)
		return true;
	return now_us - last_us >= wd_usec / WATCHDOG_PING_DIV;
}

void pw_notify_watchdog(void)
{
	uint64_t now = mono_us();

	if (!pw_notify_watchdog_due(now, wd_last_us, wd_usec))
		return;
	wd_last_us = now;
	send_state("WATCHDOG=1");
}
