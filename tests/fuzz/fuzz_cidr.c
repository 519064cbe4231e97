// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_cidr.c - the address parsers: pw_cidr_parse() (config, control,
 * ban lists) and pw_addr_parse_hostport() (reports, "[v6]:port") on the
 * same arbitrary bytes.
 *
 * Properties: never a crash; a rejected CIDR has a one-line printable
 * message; what parses formats back to text that parses to the same
 * value, has no host bits below its prefix, and contains itself.
 */
#include <sys/socket.h>

#include "cidr.h"
#include "fuzz_util.h"
#include "report.h"

static void check_cidr(const char *s)
{
	struct pw_cidr c, back, masked;
	char err[160] = "", buf[PW_CIDR_STRLEN];
	unsigned bits;

	if (pw_cidr_parse(s, &c, err, sizeof(err))) {
		fz_check_msg("cidr", err, sizeof(err));
		return;
	}
	bits = pw_family_bits(c.family);
	if (!bits || c.prefixlen > bits)
		fz_fail("cidr '%s': family %d prefix /%u", s, c.family,
			c.prefixlen);
	masked = c;
	pw_addr_mask(c.family, c.addr, c.prefixlen, masked.addr);
	if (memcmp(&masked, &c, sizeof(c)))
		fz_fail("cidr '%s' parsed with host bits set", s);
	if (!pw_cidr_contains(&c, &c))
		fz_fail("cidr '%s' does not contain itself", s);
	pw_cidr_format(&c, buf, sizeof(buf));
	if (pw_cidr_parse(buf, &back, err, sizeof(err)) ||
	    memcmp(&back, &c, sizeof(c)))
		fz_fail("cidr '%s' -> '%s' does not parse back (%s)", s, buf,
			err);
}

static void check_hostport(const uint8_t *data, size_t size)
{
	uint8_t addr[16], back[16];
	char buf[PW_CIDR_STRLEN];
	int fam, fam2;

	if (pw_addr_parse_hostport((const char *)data, size, &fam, addr))
		return;
	if (fam != AF_INET && fam != AF_INET6)
		fz_fail("hostport: family %d", fam);
	pw_addr_format(fam, addr, buf, sizeof(buf));
	if (pw_addr_parse_hostport(buf, strlen(buf), &fam2, back) ||
	    fam2 != fam || memcmp(back, addr, fam == AF_INET ? 4 : 16))
		fz_fail("hostport '%s' does not parse back", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);

	check_cidr(s);
	check_hostport(data, size);
	free(s);
	return 0;
}
