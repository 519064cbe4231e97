/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * emergency.h - emergency allowlist mode: only trusted sources reach the
 * protected ports, in the XDP program and the nftables table together,
 * with a TTL after which it reverts by itself.
 *
 * The policy (when "on" is refused, what the new end time is) is pure and
 * unit-tested; pw_emergency_set() applies a decision to every layer, logs
 * it with the requesting uid and marks the state to be saved.
 */
#ifndef PW_EMERGENCY_H
#define PW_EMERGENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "config.h"

struct pw_agent;

/* Where the request comes from, when known (peerwallctl sends the SSH
 * client address and the port it reached this host on). */
struct pw_requester {
	bool known;
	int family;
	uint8_t addr[16];
	uint16_t port; /* local TCP port the operator's session uses */
};

struct pw_emergency_req {
	bool ttl_given;
	double ttl_s; /* 0 = until turned off (needs force) */
	bool force;
	struct pw_requester from;
};

/* Would emergency mode drop TCP traffic from `r` to its port? */
bool pw_emergency_cuts(const struct pw_config *cfg,
		       const struct pw_cidr *trusted, size_t n_trusted,
		       const struct pw_requester *r);

/* Decide "emergency on": 0 with *until_unix_s set (0 = no TTL), or
 * -EPERM with the reason in why. Pure. */
int pw_emergency_check_on(const struct pw_config *cfg,
			  const struct pw_cidr *trusted, size_t n_trusted,
			  const struct pw_emergency_req *req,
			  int64_t now_unix_s, int64_t *until_unix_s, char *why,
			  size_t whylen);

/* The end after "extend by s": from the current end (or now, if that has
 * passed). 0 stays 0 (no TTL). Pure. */
int64_t pw_emergency_extended(int64_t until_unix_s, int64_t now_unix_s,
			      double s);

/* Apply on/off to every layer, log it ("by uid N", cause), save state.
 * Returns 0 when every layer took it; otherwise the first error (the
 * layers that took it keep it: a half-applied emergency is reported in
 * status, never silently undone). */
int pw_emergency_set(struct pw_agent *a, bool on, int64_t until_unix_s,
		     uint32_t uid, const char *cause);

/* Tick: revert when the TTL has run out. */
void pw_emergency_expire(struct pw_agent *a);

#endif /* PW_EMERGENCY_H */
