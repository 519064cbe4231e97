/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sdnotify.h - tell the service manager where the agent is in its life
 * (sd_notify(3)): ready, reloading, stopping, alive (watchdog), and a one
 * line status for `systemctl status`. Without NOTIFY_SOCKET in the
 * environment (not started by systemd with Type=notify) every call is a
 * no-op, so the agent runs the same by hand.
 */
#ifndef PW_SDNOTIFY_H
#define PW_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Read the watchdog interval the service manager set (WATCHDOG_USEC) and
 * warn when a tick of tick_ms is too slow to keep it fed. */
void pw_notify_init(unsigned tick_ms);

/* READY=1 with a status line: the agent enforces and the control socket
 * listens. Also the end of a reload. */
void pw_notify_ready(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* RELOADING=1 (with MONOTONIC_USEC, as Type=notify-reload wants it). */
void pw_notify_reloading(void);

/* STOPPING=1: the loop has ended, state is being saved. */
void pw_notify_stopping(void);

/* WATCHDOG=1 when the watchdog is on and a ping is due; call every tick. */
void pw_notify_watchdog(void);

/* Pure: is a watchdog ping due at now_us, the last one at last_us, for a
 * watchdog of wd_usec? Pings at a quarter of the interval, so a tick that
 * runs late by up to three quarters of it does not trip the watchdog. */
bool pw_notify_watchdog_due(uint64_t now_us, uint64_t last_us,
			    uint64_t wd_usec);

#endif /* PW_SDNOTIFY_H */
