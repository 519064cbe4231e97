/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * base64.h - RFC 4648 base64 (standard alphabet, padded), for packet bytes
 * carried in the control socket's JSON. Pure.
 */
#ifndef PW_BASE64_H
#define PW_BASE64_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Characters pw_base64_encode writes for n bytes (without the NUL). */
#define PW_BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode n bytes into out (PW_BASE64_LEN(n) + 1 bytes, NUL-terminated).
 * Returns the length written. */
size_t pw_base64_encode(const uint8_t *in, size_t n, char *out);

/* Decode len characters into out (at most max bytes). Returns the number
 * of bytes, -EINVAL for anything that is not padded base64 (bad
 * character, length not a multiple of 4, padding in the middle), or
 * -ENOSPC when max is too small. */
ssize_t pw_base64_decode(const char *in, size_t len, uint8_t *out, size_t max);

#endif /* PW_BASE64_H */
