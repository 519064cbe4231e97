/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report.h - the node's report lines, parsed at the edge.
 *
 *   invalid <addr> [weight=<1..100>] [reason=<token>]
 *   good <addr>
 *
 * One line per datagram (a trailing "\n" or "\r\n" is allowed). <addr> is an
 * IPv4/IPv6 address, optionally with a port as "1.2.3.4:26656" or
 * "[fd00::1]:26656" (nodes log peers that way; the port is ignored).
 * <token> is 1..PW_REPORT_REASON_MAX of [A-Za-z0-9_.:-]. An IPv4-mapped
 * IPv6 address is returned as AF_INET (its packets are IPv4 on the wire);
 * "[IPv6]" without a port is accepted. Pure: no I/O.
 */
#ifndef PW_REPORT_H
#define PW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

#define PW_REPORT_LINE_MAX	 512
#define PW_REPORT_REASON_MAX	 63
#define PW_REPORT_WEIGHT_DEFAULT 10
#define PW_REPORT_WEIGHT_MIN	 1
#define PW_REPORT_WEIGHT_MAX	 100

enum pw_report_verb { PW_REPORT_INVALID = 1, PW_REPORT_GOOD };

struct pw_report {
	enum pw_report_verb verb;
	int family; /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	unsigned weight;		       /* INVALID only */
	char reason[PW_REPORT_REASON_MAX + 1]; /* "" when absent */
};

/* Parse one line of len bytes (not NUL-terminated necessarily; embedded
 * NULs are an error). 0, or -EINVAL with a one-line reason in err. */
int pw_report_parse(const char *line, size_t len, struct pw_report *out,
		    char *err, size_t errlen);

/* Untrusted text made safe to log: up to PW_ECHO_MAX_CHARS bytes of s,
 * anything not printable ASCII as \xNN, "..." when cut. out must hold
 * PW_ECHO_BUF bytes. */
#define PW_ECHO_MAX_CHARS 32
#define PW_ECHO_BUF	  (PW_ECHO_MAX_CHARS * 4 + 4)
void pw_echo_bytes(const char *s, size_t len, char *out);

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF, no NUL byte. */
bool pw_utf8_valid(const char *s, size_t len);

/* Parse "1.2.3.4", "1.2.3.4:port", "fd00::1", "[fd00::1]:port". */
int pw_addr_parse_hostport(const char *s, size_t len, int *family,
			   uint8_t addr[16]);

#endif /* PW_REPORT_H */
