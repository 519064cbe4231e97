/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cidr.h - parsing, formatting and comparing IPv4/IPv6 addresses and CIDRs.
 * Pure functions: no I/O, no allocation.
 */
#ifndef PW_CIDR_H
#define PW_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Long enough for "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128". */
#define PW_CIDR_STRLEN 64

struct pw_cidr {
	int family;	   /* AF_INET or AF_INET6 */
	uint8_t prefixlen; /* 0..32 or 0..128 */
	uint8_t addr[16];  /* network order; IPv4 in addr[0..3], rest zero */
};

/* Parse "a.b.c.d[/n]" or "x:y::z[/n]". A bare address is a host route
 * (/32 or /128). Host bits set below the prefix are an error (the message
 * suggests the network), as is anything else that is not a CIDR. Returns
 * 0, or -EINVAL with a one-line reason in err (if errlen > 0). */
int pw_cidr_parse(const char *s, struct pw_cidr *out, char *err, size_t errlen);

/* "198.18.0.0/24", "fd00:1::/48"; host routes keep their "/32" / "/128".
 * Returns the length written (as snprintf), buf always terminated. */
int pw_cidr_format(const struct pw_cidr *c, char *buf, size_t len);

/* Address only, no prefix: "198.18.0.1", "fd00::1". */
int pw_addr_format(int family, const uint8_t *addr, char *buf, size_t len);

/* Copy addr keeping its first prefixlen bits, zeroing the rest. */
void pw_addr_mask(int family, const uint8_t *addr, unsigned prefixlen,
		  uint8_t *out);

/* True when inner lies entirely inside outer (same family). */
bool pw_cidr_contains(const struct pw_cidr *outer, const struct pw_cidr *inner);

/* Address width in bits for a family: 32, 128, or 0 if unknown. */
unsigned pw_family_bits(int family);

#endif /* PW_CIDR_H */
