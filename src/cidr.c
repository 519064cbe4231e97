// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cidr.c - IPv4/IPv6 address and CIDR parsing, formatting and containment.
 *
 * Every address the operator types (trusted ranges, bans, control
 * commands) goes through pw_cidr_parse, so it is deliberately strict: the
 * address is handed to inet_pton (which already rejects leading zeros in
 * IPv4 octets, zone ids and stray characters), the prefix must be plain
 * decimal, and a CIDR with host bits set is refused with the network it
 * probably meant. Silently masking "198.18.1.5/24" to the /24 would trust
 * or ban 255 hosts the operator did not name.
 *
 * Pure functions: no I/O, no allocation, safe from any thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

/* Longest input echoed back in a message; valid CIDRs are far shorter. */
#define ECHO_MAX_CHARS 48

unsigned pw_family_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

void pw_addr_mask(int family, const uint8_t *addr, unsigned prefixlen,
		  uint8_t *out)
{
	unsigned bits = pw_family_bits(family);
	unsigned i;

	if (prefixlen > bits)
		prefixlen = bits;
	/* Byte by byte so that out may alias addr. */
	for (i = 0; i < bits / 8; i++) {
		unsigned keep_bits = 0;

		if (prefixlen >= (i + 1) * 8)
			keep_bits = 8;
		else if (prefixlen > i * 8)
			keep_bits = prefixlen - i * 8;
		out[i] = addr[i] & (uint8_t)(0xff00u >> keep_bits);
	}
}

bool pw_cidr_contains(const struct pw_cidr *outer, const struct pw_cidr *inner)
{
	uint8_t a[16], b[16];
	unsigned bits = pw_family_bits(outer->family);

	if (bits == 0 || outer->family != inner->family)
		return false;
	if (outer->prefixlen > inner->prefixlen)
		return false;
	pw_addr_mask(outer->family, outer->addr, outer->prefixlen, a);
	pw_addr_mask(inner->family, inner->addr, outer->prefixlen, b);
	return memcmp(a, b, bits / 8) == 0;
}

int pw_addr_format(int family, const uint8_t *addr, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (pw_family_bits(family) == 0 ||
	    !inet_ntop(family, addr, tmp, sizeof(tmp))) {
		if (len > 0)
			buf[0] = '\0';
		return -EAFNOSUPPORT;
	}
	return snprintf(buf, len, "%s", tmp);
}

int pw_cidr_format(const struct pw_cidr *c, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	int ret;

	ret = pw_addr_format(c->family, c->addr, tmp, sizeof(tmp));
	if (ret < 0) {
		if (len > 0)
			buf[0] = '\0';
		return ret;
	}
	return snprintf(buf, len, "%s/%u", tmp, (unsigned)c->prefixlen);
}

/* Copy at most ECHO_MAX_CHARS of untrusted input into a message, with
 * control and non-ASCII bytes replaced, so the reason stays one line. */
static void echo_input(const char *s, char *out, size_t len)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 1 < len; i++) {
		if (i == ECHO_MAX_CHARS) {
			snprintf(out + n, len - n, "...");
			return;
		}
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	out[n] = '\0';
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Plain decimal, 1..3 digits, no sign, no leading zero (is "010" ten or
 * eight?), nothing after it. Returns the value or -1. */
static int parse_prefixlen(const char *s)
{
	int v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i]; i++) {
		if (i == 3 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int pw_cidr_parse(const char *s, struct pw_cidr *out, char *err, size_t errlen)
{
	char addr_str[PW_CIDR_STRLEN], echo[ECHO_MAX_CHARS + 4];
	char want[PW_CIDR_STRLEN];
	struct pw_cidr c, net;
	const char *slash;
	size_t addr_len;
	unsigned bits;
	int plen;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!s || s[0] == '\0')
		return fail(err, errlen, "empty address");
	echo_input(s, echo, sizeof(echo));
	if (strlen(s) >= PW_CIDR_STRLEN)
		return fail(err, errlen, "'%s' is too long for a CIDR", echo);

	slash = strchr(s, '/');
	addr_len = slash ? (size_t)(slash - s) : strlen(s);
	memcpy(addr_str, s, addr_len);
	addr_str[addr_len] = '\0';

	c.family = strchr(addr_str, ':') ? AF_INET6 : AF_INET;
	bits = pw_family_bits(c.family);
	if (inet_pton(c.family, addr_str, c.addr) != 1)
		return fail(err, errlen, "'%s' is not %s%s", echo,
			    c.family == AF_INET6    ? "an IPv6 address"
			    : strchr(addr_str, '.') ? "an IPv4 address"
						    : "an IP address",
			    slash ? " with a prefix" : "");

	if (!slash) {
		plen = (int)bits;
	} else {
		plen = parse_prefixlen(slash + 1);
		if (plen < 0)
			return fail(err, errlen,
				    "prefix length in '%s' is not a decimal "
				    "number 0..%u",
				    echo, bits);
		if ((unsigned)plen > bits)
			return fail(err, errlen,
				    "prefix length /%d in '%s' is longer than "
				    "%u bits",
				    plen, echo, bits);
	}
	c.prefixlen = (uint8_t)plen;

	net = c;
	pw_addr_mask(c.family, c.addr, c.prefixlen, net.addr);
	if (memcmp(net.addr, c.addr, sizeof(c.addr)) != 0) {
		pw_cidr_format(&net, want, sizeof(want));
		return fail(err, errlen,
			    "host bits set in %s (did you mean %s?)", echo,
			    want);
	}

	*out = c;
	return 0;
}
