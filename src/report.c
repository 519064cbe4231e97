// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report.c - parse the node's "invalid <addr> ..." / "good <addr>" lines.
 *
 * These lines arrive on a socket, so everything here treats its input as
 * hostile: a length is given and no NUL terminator is assumed, every byte
 * is checked (no control bytes, no NULs, nothing outside printable ASCII),
 * the whole line must be consumed, and any doubt is an error rather than a
 * guess. A report we misread can ban an honest peer, so "weight=007",
 * "weight=5 weight=50", "reason=" and "good 1.2.3.4 weight=3" are all
 * refused instead of being interpreted. What is accepted: tokens separated
 * by runs of spaces or tabs (leading and trailing blanks too, since shell
 * senders produce them), one trailing "\n" or "\r\n".
 *
 * Error messages go to the log, so anything echoed from the line is cut to
 * ECHO_MAX_CHARS and non-printable bytes are shown as \xNN: a sender can
 * neither forge log lines nor flood them.
 *
 * Addresses: "a.b.c.d", "a.b.c.d:port", a bare IPv6 address (which can
 * never carry a port: "fd00::1:8545" is an address) and "[IPv6]:port";
 * "[IPv6]" alone is taken too, being unambiguous. Ports must be 1..65535
 * in plain decimal though they are then ignored: a malformed port means a
 * malformed line. An IPv4-mapped IPv6 address ("::ffff:198.18.0.1", what
 * nodes with dual-stack sockets log for IPv4 peers) is turned into the IPv4
 * address. Those peers' packets are IPv4 on the wire, so that is the only
 * form the datapath can act on; keeping the IPv6 spelling would score and
 * ban an address no packet ever carries.
 *
 * Pure functions: no I/O, no allocation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "report.h"

/* Untrusted text echoed into a message is cut at this many input bytes. */
#define ECHO_MAX_CHARS PW_ECHO_MAX_CHARS
#define ECHO_BUF       PW_ECHO_BUF
/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" is 53 bytes. */
#define HOSTPORT_MAX 64
#define PORT_MAX     65535

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff};

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

void pw_echo_bytes(const char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;

	for (i = 0; i < len && i < ECHO_MAX_CHARS; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[n++] = (char)c;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		}
	}
	if (len > ECHO_MAX_CHARS) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Plain decimal without sign or leading zero, at most max_digits digits.
 * Returns the value, or -1. */
static long parse_decimal(const char *s, size_t len, size_t max_digits)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > max_digits || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int pw_addr_parse_hostport(const char *s, size_t len, int *family,
			   uint8_t addr[16])
{
	char host[HOSTPORT_MAX + 1];
	const char *port = NULL, *colon;
	size_t host_len, port_len = 0, i;
	uint8_t tmp[16] = {0};
	int fam;

	if (!s || len == 0 || len > HOSTPORT_MAX)
		return -EINVAL;
	/* inet_pton stops at a NUL; make sure there is none to hide behind. */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return -EINVAL;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close)
			return -EINVAL;
		host_len = (size_t)(close - s) - 1;
		memcpy(host, s + 1, host_len);
		host[host_len] = '\0';
		/* Brackets are for IPv6 only; "[1.2.3.4]" is someone else's
		 * syntax and we would rather not guess. */
		if (!memchr(host, ':', host_len))
			return -EINVAL;
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return -EINVAL;
			port = close + 2;
			port_len = len - (size_t)(port - s);
		}
		fam = AF_INET6;
	} else {
		colon = memchr(s, ':', len);
		if (colon &&
		    memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
			/* Two or more colons: a bare IPv6 address. It cannot
			 * carry a port ("fd00::1:26656" is an address). */
			host_len = len;
			fam = AF_INET6;
		} else if (colon) {
			host_len = (size_t)(colon - s);
			port = colon + 1;
			port_len = len - host_len - 1;
			fam = AF_INET;
		} else {
			host_len = len;
			fam = AF_INET;
		}
		memcpy(host, s, host_len);
		host[host_len] = '\0';
	}

	if (port) {
		long p = parse_decimal(port, port_len, 5);

		if (p < 1 || p > PORT_MAX)
			return -EINVAL;
	}
	if (host_len == 0 || inet_pton(fam, host, tmp) != 1)
		return -EINVAL;

	if (fam == AF_INET6 &&
	    memcmp(tmp, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(tmp, tmp + 12, 4);
		memset(tmp + 4, 0, 12);
		fam = AF_INET;
	}
	*family = fam;
	memcpy(addr, tmp, 16);
	return 0;
}

struct token {
	const char *p;
	size_t len;
};

static bool token_is(const struct token *t, const char *word)
{
	size_t n = strlen(word);

	return t->len == n && memcmp(t->p, word, n) == 0;
}

static bool reason_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       is_digit(c) || c == '_' || c == '.' || c == ':' || c == '-';
}

/* One "key=value" option of an invalid report. */
static int parse_option(const struct token *t, struct pw_report *r,
			bool *seen_weight, bool *seen_reason, char *err,
			size_t errlen)
{
	const char *eq = memchr(t->p, '=', t->len);
	char echo[ECHO_BUF];
	const char *val;
	size_t klen, vlen, i;
	long w;

	pw_echo_bytes(t->p, t->len, echo);
	if (!eq)
		return fail(err, errlen,
			    "unexpected '%s' after the address (options are "
			    "weight=N and reason=TOKEN)",
			    echo);
	klen = (size_t)(eq - t->p);
	val = eq + 1;
	vlen = t->len - klen - 1;

	if (klen == 6 && memcmp(t->p, "weight", 6) == 0) {
		if (*seen_weight)
			return fail(err, errlen, "duplicate option 'weight'");
		*seen_weight = true;
		pw_echo_bytes(val, vlen, echo);
		if (vlen == 0)
			return fail(err, errlen, "empty weight");
		w = parse_decimal(val, vlen, 3);
		if (w < 0)
			return fail(err, errlen,
				    "weight '%s' is not a plain decimal "
				    "number",
				    echo);
		if (w < PW_REPORT_WEIGHT_MIN || w > PW_REPORT_WEIGHT_MAX)
			return fail(err, errlen, "weight %ld is outside %d..%d",
				    w, PW_REPORT_WEIGHT_MIN,
				    PW_REPORT_WEIGHT_MAX);
		r->weight = (unsigned)w;
		return 0;
	}
	if (klen == 6 && memcmp(t->p, "reason", 6) == 0) {
		if (*seen_reason)
			return fail(err, errlen, "duplicate option 'reason'");
		*seen_reason = true;
		if (vlen == 0)
			return fail(err, errlen, "empty reason");
		if (vlen > PW_REPORT_REASON_MAX)
			return fail(err, errlen,
				    "reason is longer than %d characters",
				    PW_REPORT_REASON_MAX);
		for (i = 0; i < vlen; i++) {
			if (!reason_char_ok(val[i])) {
				pw_echo_bytes(val + i, 1, echo);
				return fail(err, errlen,
					    "character '%s' not allowed in "
					    "reason (A-Z a-z 0-9 _ . : -)",
					    echo);
			}
		}
		memcpy(r->reason, val, vlen);
		r->reason[vlen] = '\0';
		return 0;
	}
	pw_echo_bytes(t->p, klen, echo);
	return fail(err, errlen,
		    "unknown option '%s' (options are weight and reason)",
		    echo);
}

int pw_report_parse(const char *line, size_t len, struct pw_report *out,
		    char *err, size_t errlen)
{
	struct token tok[2 + 2 + 1]; /* verb addr opt opt, plus one extra */
	bool seen_weight = false, seen_reason = false;
	char echo[ECHO_BUF];
	struct pw_report r;
	size_t i, ntok = 0;
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || (!line && len > 0))
		return fail(err, errlen, "no report given");
	if (len > PW_REPORT_LINE_MAX)
		return fail(err, errlen, "report longer than %d bytes",
			    PW_REPORT_LINE_MAX);

	/* One line terminator is allowed, nothing after it. */
	if (len > 0 && line[len - 1] == '\n') {
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0')
			return fail(err, errlen, "NUL byte at offset %zu", i);
		if (c == '\n' || c == '\r')
			return fail(err, errlen,
				    "line break at offset %zu (one report per "
				    "line)",
				    i);
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return fail(err, errlen,
				    "byte \\x%02x at offset %zu is not "
				    "printable ASCII",
				    c, i);
	}

	i = 0;
	while (i < len) {
		size_t start;

		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			break;
		if (ntok == sizeof(tok) / sizeof(tok[0])) {
			pw_echo_bytes(line + i, len - i, echo);
			return fail(err, errlen, "too many fields at '%s'",
				    echo);
		}
		start = i;
		while (i < len && !is_blank(line[i]))
			i++;
		tok[ntok].p = line + start;
		tok[ntok].len = i - start;
		ntok++;
	}
	if (ntok == 0)
		return fail(err, errlen, "empty report");

	memset(&r, 0, sizeof(r));
	if (token_is(&tok[0], "invalid")) {
		r.verb = PW_REPORT_INVALID;
		r.weight = PW_REPORT_WEIGHT_DEFAULT;
	} else if (token_is(&tok[0], "good")) {
		r.verb = PW_REPORT_GOOD;
	} else {
		pw_echo_bytes(tok[0].p, tok[0].len, echo);
		return fail(err, errlen,
			    "unknown verb '%s' (expected 'invalid' or 'good')",
			    echo);
	}

	if (ntok < 2)
		return fail(err, errlen, "'%s' needs an address",
			    r.verb == PW_REPORT_GOOD ? "good" : "invalid");
	if (pw_addr_parse_hostport(tok[1].p, tok[1].len, &r.family, r.addr)) {
		pw_echo_bytes(tok[1].p, tok[1].len, echo);
		return fail(err, errlen,
			    "'%s' is not an address (a.b.c.d, a.b.c.d:port, "
			    "IPv6 or [IPv6]:port with port 1..%d)",
			    echo, PORT_MAX);
	}

	if (r.verb == PW_REPORT_GOOD && ntok > 2)
		return fail(err, errlen, "'good' takes no options");
	for (i = 2; i < ntok; i++) {
		ret = parse_option(&tok[i], &r, &seen_weight, &seen_reason, err,
				   errlen);
		if (ret)
			return ret;
	}

	*out = r;
	return 0;
}

bool pw_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		unsigned need, min;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return false; /* continuation, 0xc0/0xc1, > 0xf4 */
		}
		if (len - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}
