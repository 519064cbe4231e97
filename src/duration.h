/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * duration.h - "90s", "15m", "2h", "7d", "1h30m", "0" <-> seconds. Pure.
 */
#ifndef PW_DURATION_H
#define PW_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define PW_DURATION_MAX_S (10ull * 365 * 86400) /* ten years */

/* Parse a duration: one or more <digits><unit> groups, unit one of s, m,
 * h, d, w (a bare number means seconds; "0" is zero). No signs, no spaces,
 * no overflow, at most PW_DURATION_MAX_S. 0 or -EINVAL (reason in err). */
int pw_duration_parse(const char *s, uint64_t *out_s, char *err, size_t errlen);

/* Exact and greedy over d h m s (weeks never produced): 0 -> "0s",
 * 90 -> "1m30s", 604800 -> "7d". 0, -ENOSPC (truncated, terminated) or
 * -EINVAL. */
int pw_duration_format(uint64_t secs, char *buf, size_t len);

#endif /* PW_DURATION_H */
