// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_duration.c - pw_duration_parse() on arbitrary text.
 *
 * Properties: never a crash; a rejection has a one-line printable message;
 * an accepted duration is at most PW_DURATION_MAX_S and survives a round
 * trip through pw_duration_format() unchanged.
 */
#include "duration.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);
	char err[128] = "", buf[64];
	uint64_t v = 0, back = 0;

	if (pw_duration_parse(s, &v, err, sizeof(err))) {
		fz_check_msg("duration", err, sizeof(err));
		goto out;
	}
	if (v > PW_DURATION_MAX_S)
		fz_fail("duration '%s' -> %llu, over the maximum", s,
			(unsigned long long)v);
	if (pw_duration_format(v, buf, sizeof(buf)))
		fz_fail("duration %llu does not format", (unsigned long long)v);
	if (pw_duration_parse(buf, &back, err, sizeof(err)) || back != v)
		fz_fail("duration '%s' -> %llu -> '%s' -> %llu (%s)", s,
			(unsigned long long)v, buf, (unsigned long long)back,
			err);
out:
	free(s);
	return 0;
}
