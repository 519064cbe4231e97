// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_report.c - pw_report_parse() on arbitrary datagrams (embedded NULs,
 * CR/LF and all, as they arrive on the report socket), and pw_echo_bytes()
 * on the same bytes, since that is how a rejected line reaches the log.
 *
 * Properties: never a crash; a rejection has a one-line printable message;
 * an accepted report has a known verb and family, a weight in range and a
 * reason of allowed characters; the echo is printable and bounded.
 */
#include <sys/socket.h>

#include "fuzz_util.h"
#include "report.h"

static int reason_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	       c == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160] = "", echo[PW_ECHO_BUF];
	struct pw_report r;

	pw_echo_bytes((const char *)data, size, echo);
	fz_check_msg("echo", echo, sizeof(echo));
	if (pw_report_parse((const char *)data, size, &r, err, sizeof(err))) {
		fz_check_msg("report", err, sizeof(err));
		return 0;
	}
	if (r.verb != PW_REPORT_INVALID && r.verb != PW_REPORT_GOOD)
		fz_fail("report: verb %d", r.verb);
	if (r.family != AF_INET && r.family != AF_INET6)
		fz_fail("report: family %d", r.family);
	if (r.verb == PW_REPORT_INVALID && (r.weight < PW_REPORT_WEIGHT_MIN ||
					    r.weight > PW_REPORT_WEIGHT_MAX))
		fz_fail("report: weight %u", r.weight);
	if (strnlen(r.reason, sizeof(r.reason)) > PW_REPORT_REASON_MAX)
		fz_fail("report: reason not terminated");
	for (const char *p = r.reason; *p; p++)
		if (!reason_char_ok(*p))
			fz_fail("report: reason byte 0x%02x",
				(unsigned char)*p);
	return 0;
}
