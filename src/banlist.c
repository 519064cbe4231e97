// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * banlist.c - ban records out to json, csv, txt, nft and bitcoin; json and
 * txt (and Bitcoin Core's banlist.json) back in.
 *
 * Export is a faithful dump in json, csv and txt (expired records too: a
 * dump is a snapshot, and import drops them). nft and bitcoin are for
 * loading elsewhere, so they leave expired records out and turn expiries
 * into what the target wants: a relative timeout for nft, an absolute
 * "banned_until" for Bitcoin Core, which has no permanent ban, so ours
 * become now + PW_DURATION_MAX_S (ten years from the export, not from
 * creation: an old permanent ban should not come out nearly expired).
 *
 * nft interval sets refuse overlapping elements ("conflicting intervals"),
 * so the nft export sorts by address and drops a ban that lies inside a
 * broader one, saying so in a comment. The broader ban wins even if the
 * narrower one would have outlived it; the alternative, stretching the
 * broad ban, would block addresses nobody asked to block. Timeouts are
 * written with units ("3650d", "1h30m"): nft refuses a plain "Ns" of nine
 * digits or more ("value too large"), and clamped to PW_DURATION_MAX_S.
 *
 * Import is for files from elsewhere (feeds, other hosts, hand-edited
 * lists), so it never trusts them: each bad line or record is reported with
 * its line number (record index + 1 for json) and skipped while the rest
 * load; duplicates keep the first; reasons are cut to PW_BAN_REASON_MAX and
 * control bytes replaced; times outside 1970..9999 are refused; the number
 * of reported problems is capped so a binary file cannot turn into
 * gigabytes of messages. JSON goes through json-c in strict mode with its
 * default nesting limit; only a file that is not JSON at all (or not one of
 * the known layouts) fails as a whole, with -EINVAL and one problem on
 * line 0; a txt file never does, since every line stands alone (a file of
 * nothing but bad lines gives no records and a problem per line).
 *
 * The txt format carries reason and expiry in a trailing comment,
 * "# reason=..., expires=<ISO 8601 UTC|never>, origin=...", found from the
 * right so that a reason containing ", " survives a round trip. Times are
 * converted by hand (days from civil) instead of timegm/gmtime_r so the
 * result never depends on TZ or the year range of struct tm.
 *
 * No file I/O except writing to the FILE * the caller hands in.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "banlist.h"
#include "duration.h"

/* Longest txt line accepted, without its line break. */
#define TXT_LINE_MAX 1024
/* Problems listed individually; the rest are counted in one last entry. */
#define IMPORT_MAX_ERRS 1000
/* 9999-12-31T23:59:59Z: the last time ISO 8601's four-digit year can say. */
#define TIME_MAX_UNIX_S 253402300799LL
/* "9999-12-31T23:59:59Z" is 20 characters; the buffer is roomier so the
 * compiler can see snprintf never truncates. */
#define ISO_STRLEN 20
#define ISO_BUF	   40
/* Untrusted text echoed into a message is cut here. */
#define ECHO_MAX_CHARS 40
#define SECS_PER_DAY   86400

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const origin_names[PW_ORIGIN_NR] = {
	[PW_ORIGIN_AUTO] = "auto",
	[PW_ORIGIN_MANUAL] = "manual",
	[PW_ORIGIN_IMPORT] = "import",
	[PW_ORIGIN_CONFIG] = "config",
};

static const char *const format_names[] = {
	[PW_BANLIST_JSON] = "json",	  [PW_BANLIST_CSV] = "csv",
	[PW_BANLIST_TXT] = "txt",	  [PW_BANLIST_NFT] = "nft",
	[PW_BANLIST_BITCOIN] = "bitcoin",
};

const char *pw_ban_origin_name(enum pw_ban_origin o)
{
	if ((unsigned)o >= PW_ORIGIN_NR)
		return "unknown";
	return origin_names[o];
}

int pw_ban_origin_parse(const char *s, enum pw_ban_origin *out)
{
	unsigned i;

	for (i = 0; s && i < PW_ORIGIN_NR; i++) {
		if (strcmp(s, origin_names[i]) == 0) {
			*out = (enum pw_ban_origin)i;
			return 0;
		}
	}
	return -EINVAL;
}

int pw_banlist_format_parse(const char *s, enum pw_banlist_format *out)
{
	unsigned i;

	for (i = 0; s && i < ARRAY_SIZE(format_names); i++) {
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum pw_banlist_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* --- time ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm); exact for every year we allow. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "2024-05-01T12:00:00Z"; t is clamped to 1970..9999. */
static void format_iso(int64_t t, char buf[ISO_BUF])
{
	int64_t y, days, rem;
	unsigned m, d;

	if (t < 0)
		t = 0;
	if (t > TIME_MAX_UNIX_S)
		t = TIME_MAX_UNIX_S;
	days = t / SECS_PER_DAY;
	rem = t % SECS_PER_DAY;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, ISO_BUF, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static bool read_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Exactly "YYYY-MM-DDTHH:MM:SSZ", a real date, 1970 or later. */
static int parse_iso(const char *s, size_t len, int64_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se;
	bool leap;

	if (len != ISO_STRLEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -EINVAL;
	if (!read_digits(s, 4, &y) || !read_digits(s + 5, 2, &mo) ||
	    !read_digits(s + 8, 2, &d) || !read_digits(s + 11, 2, &h) ||
	    !read_digits(s + 14, 2, &mi) || !read_digits(s + 17, 2, &se))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 59)
		return -EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -EINVAL;
	*out = days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 +
	       se;
	return 0;
}

/* a + b, saturated to max (and never below a when b is positive). */
static int64_t add_sat(int64_t a, uint64_t b, int64_t max)
{
	if (a >= max || b > (uint64_t)(max - a))
		return max;
	return a + (int64_t)b;
}

/* --- export -------------------------------------------------------------- */

static bool is_expired(const struct pw_ban_record *r, int64_t now_unix_s)
{
	return r->expires_unix_s != 0 && r->expires_unix_s <= now_unix_s;
}

static bool is_host(const struct pw_cidr *c)
{
	return c->prefixlen == pw_family_bits(c->family);
}

static int cidr_str(const struct pw_cidr *c, char buf[PW_CIDR_STRLEN])
{
	if (c->prefixlen > pw_family_bits(c->family))
		return -EINVAL;
	return pw_cidr_format(c, buf, PW_CIDR_STRLEN) < 0 ? -EINVAL : 0;
}

/* json-c constructors return NULL only when out of memory; this keeps the
 * builders below to one check per record. */
static int obj_add(struct json_object *o, const char *key,
		   struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* A new array under key in o, or NULL when out of memory. */
static struct json_object *obj_add_array(struct json_object *o, const char *key)
{
	struct json_object *a = json_object_new_array();

	return obj_add(o, key, a) ? NULL : a;
}

/* A new object appended to array a, or NULL when out of memory. */
static struct json_object *array_add_object(struct json_object *a)
{
	struct json_object *o = json_object_new_object();

	if (!o || json_object_array_add(a, o)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int json_emit(FILE *f, struct json_object *root)
{
	const char *s;

	s = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	if (fputs(s, f) == EOF || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

static int write_json(FILE *f, const struct pw_ban_record *recs, size_t n)
{
	struct json_object *root, *bans;
	char cidr[PW_CIDR_STRLEN];
	int ret = -ENOMEM;
	size_t i;

	root = json_object_new_object();
	if (!root || obj_add(root, "version", json_object_new_int(1)))
		goto cleanup;
	bans = obj_add_array(root, "bans");
	if (!bans)
		goto cleanup;

	for (i = 0; i < n; i++) {
		const struct pw_ban_record *r = &recs[i];
		struct json_object *o = array_add_object(bans);

		if (!o)
			goto cleanup;
		cidr_str(&r->cidr, cidr);
		if (obj_add(o, "addr", json_object_new_string(cidr)) ||
		    obj_add(o, "origin",
			    json_object_new_string(
				    pw_ban_origin_name(r->origin))) ||
		    obj_add(o, "reason", json_object_new_string(r->reason)) ||
		    obj_add(o, "created",
			    json_object_new_int64(r->created_unix_s)))
			goto cleanup;
		/* null, not 0: "expires": 0 would read as the epoch. */
		if (r->expires_unix_s == 0) {
			if (json_object_object_add(o, "expires", NULL))
				goto cleanup;
		} else if (obj_add(o, "expires",
				   json_object_new_int64(r->expires_unix_s))) {
			goto cleanup;
		}
		if (obj_add(o, "strikes", json_object_new_int64(r->strikes)))
			goto cleanup;
	}
	ret = json_emit(f, root);
cleanup:
	json_object_put(root);
	return ret;
}

static int write_bitcoin(FILE *f, const struct pw_ban_record *recs, size_t n,
			 int64_t now_unix_s)
{
	struct json_object *root, *nets;
	char cidr[PW_CIDR_STRLEN];
	int ret = -ENOMEM;
	size_t i;

	root = json_object_new_object();
	nets = root ? obj_add_array(root, "banned_nets") : NULL;
	if (!nets)
		goto cleanup;

	for (i = 0; i < n; i++) {
		const struct pw_ban_record *r = &recs[i];
		struct json_object *o;
		int64_t until = r->expires_unix_s;

		if (is_expired(r, now_unix_s))
			continue;
		if (until == 0)
			until = add_sat(now_unix_s, PW_DURATION_MAX_S,
					INT64_MAX);
		o = array_add_object(nets);
		if (!o)
			goto cleanup;
		cidr_str(&r->cidr, cidr);
		if (obj_add(o, "version", json_object_new_int(1)) ||
		    obj_add(o, "ban_created",
			    json_object_new_int64(r->created_unix_s)) ||
		    obj_add(o, "banned_until", json_object_new_int64(until)) ||
		    obj_add(o, "address", json_object_new_string(cidr)))
			goto cleanup;
	}
	ret = json_emit(f, root);
cleanup:
	json_object_put(root);
	return ret;
}

/* RFC 4180: quote only when needed, double the quotes inside. */
static void csv_field(FILE *f, const char *s)
{
	const char *p;

	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' &&
	    (s[0] == '\0' || s[strlen(s) - 1] != ' ')) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (p = s; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

/* Lines end in "\n" rather than RFC 4180's "\r\n": every spreadsheet reads
 * both, and grep/awk users get clean lines. */
static void write_csv(FILE *f, const struct pw_ban_record *recs, size_t n)
{
	char cidr[PW_CIDR_STRLEN];
	size_t i;

	fputs("addr,origin,reason,created,expires,strikes\n", f);
	for (i = 0; i < n; i++) {
		const struct pw_ban_record *r = &recs[i];

		cidr_str(&r->cidr, cidr);
		fprintf(f, "%s,%s,", cidr, pw_ban_origin_name(r->origin));
		csv_field(f, r->reason);
		fprintf(f, ",%lld,", (long long)r->created_unix_s);
		/* Empty for permanent, as in the json's null. */
		if (r->expires_unix_s != 0)
			fprintf(f, "%lld", (long long)r->expires_unix_s);
		fprintf(f, ",%u\n", r->strikes);
	}
}

/* A reason inside a one-line comment: no control bytes. */
static void txt_reason(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, f);
}

static void write_txt(FILE *f, const struct pw_ban_record *recs, size_t n)
{
	char cidr[PW_CIDR_STRLEN], iso[ISO_BUF];
	size_t i;

	fputs("# peerwall bans: one CIDR per line\n", f);
	for (i = 0; i < n; i++) {
		const struct pw_ban_record *r = &recs[i];

		cidr_str(&r->cidr, cidr);
		fprintf(f, "%s # ", cidr);
		if (r->reason[0]) {
			fputs("reason=", f);
			txt_reason(f, r->reason);
			fputs(", ", f);
		}
		if (r->expires_unix_s == 0)
			snprintf(iso, sizeof(iso), "never");
		else
			format_iso(r->expires_unix_s, iso);
		fprintf(f, "expires=%s, origin=%s\n", iso,
			pw_ban_origin_name(r->origin));
	}
}

/* qsort has no context argument; the nft export sorts indices into this. */
struct nft_sort_key {
	const struct pw_ban_record *rec;
	size_t idx;
};

static int nft_key_cmp(const void *a, const void *b)
{
	const struct nft_sort_key *x = a, *y = b;
	const struct pw_cidr *cx = &x->rec->cidr, *cy = &y->rec->cidr;
	int c;

	if (cx->family != cy->family)
		return cx->family == AF_INET ? -1 : 1;
	c = memcmp(cx->addr, cy->addr, sizeof(cx->addr));
	if (c)
		return c;
	if (cx->prefixlen != cy->prefixlen)
		return cx->prefixlen < cy->prefixlen ? -1 : 1;
	/* Same CIDR twice: keep the one listed first. */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Elements of one family. Sorted by address with wider prefixes first, a
 * CIDR inside another lands right after the last element kept, so one
 * comparison per element finds every overlap. */
static void write_nft_family(FILE *f, const struct nft_sort_key *keys, size_t n,
			     int family, int64_t now_unix_s)
{
	const struct pw_cidr *cover = NULL;
	char cidr[PW_CIDR_STRLEN], cover_s[PW_CIDR_STRLEN], dur[64];
	bool first = true;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct pw_ban_record *r = keys[i].rec;

		if (r->cidr.family != family)
			continue;
		if (cover && pw_cidr_contains(cover, &r->cidr))
			continue;
		cover = &r->cidr;
		if (first)
			fprintf(f, "add element inet peerwall %s {\n",
				family == AF_INET ? "banned_v4" : "banned_v6");
		else
			fputs(",\n", f);
		first = false;
		if (is_host(&r->cidr))
			pw_addr_format(family, r->cidr.addr, cidr,
				       sizeof(cidr));
		else
			cidr_str(&r->cidr, cidr);
		fprintf(f, "\t%s", cidr);
		if (r->expires_unix_s != 0) {
			uint64_t left = PW_DURATION_MAX_S;
			int64_t diff;

			/* Not expired, so diff > 0 unless it overflowed. */
			if (!__builtin_sub_overflow(r->expires_unix_s,
						    now_unix_s, &diff) &&
			    (uint64_t)diff < left)
				left = (uint64_t)diff;
			pw_duration_format(left, dur, sizeof(dur));
			fprintf(f, " timeout %s", dur);
		}
	}
	if (!first)
		fputs("\n}\n", f);

	/* Say what was left out, so nobody wonders where a ban went. */
	cover = NULL;
	for (i = 0; i < n; i++) {
		const struct pw_ban_record *r = keys[i].rec;

		if (r->cidr.family != family)
			continue;
		if (cover && pw_cidr_contains(cover, &r->cidr)) {
			cidr_str(&r->cidr, cidr);
			cidr_str(cover, cover_s);
			fprintf(f, "# not loaded: %s lies inside %s\n", cidr,
				cover_s);
			continue;
		}
		cover = &r->cidr;
	}
}

static int write_nft(FILE *f, const struct pw_ban_record *recs, size_t n,
		     int64_t now_unix_s)
{
	struct nft_sort_key *keys;
	char iso[ISO_BUF];
	size_t i, k = 0;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (is_expired(&recs[i], now_unix_s))
			continue;
		keys[k].rec = &recs[i];
		keys[k].idx = i;
		k++;
	}
	qsort(keys, k, sizeof(*keys), nft_key_cmp);

	format_iso(now_unix_s, iso);
	fprintf(f,
		"# peerwall bans as of %s; load with: nft -f FILE\n"
		"table inet peerwall {\n"
		"\tset banned_v4 {\n"
		"\t\ttype ipv4_addr\n"
		"\t\tflags interval, timeout\n"
		"\t}\n"
		"\tset banned_v6 {\n"
		"\t\ttype ipv6_addr\n"
		"\t\tflags interval, timeout\n"
		"\t}\n"
		"}\n",
		iso);
	write_nft_family(f, keys, k, AF_INET, now_unix_s);
	write_nft_family(f, keys, k, AF_INET6, now_unix_s);
	free(keys);
	return 0;
}

int pw_banlist_write(FILE *f, enum pw_banlist_format fmt,
		     const struct pw_ban_record *recs, size_t n,
		     int64_t now_unix_s)
{
	char cidr[PW_CIDR_STRLEN];
	size_t i;
	int ret = 0;

	if (!f || (!recs && n > 0))
		return -EINVAL;
	/* Refuse before writing anything rather than leave half a file. */
	for (i = 0; i < n; i++)
		if (cidr_str(&recs[i].cidr, cidr))
			return -EINVAL;

	switch (fmt) {
	case PW_BANLIST_JSON:
		ret = write_json(f, recs, n);
		break;
	case PW_BANLIST_CSV:
		write_csv(f, recs, n);
		break;
	case PW_BANLIST_TXT:
		write_txt(f, recs, n);
		break;
	case PW_BANLIST_NFT:
		ret = write_nft(f, recs, n, now_unix_s);
		break;
	case PW_BANLIST_BITCOIN:
		ret = write_bitcoin(f, recs, n, now_unix_s);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	return ferror(f) ? -EIO : 0;
}

/* --- import -------------------------------------------------------------- */

struct importer {
	struct pw_banlist_import *out;
	size_t cap_recs, cap_errs;
	unsigned *rec_lines; /* parallel to out->recs, for duplicate notes */
	size_t *slots;	     /* hash of out->recs: index + 1, 0 = empty */
	size_t n_slots;
	size_t suppressed; /* problems beyond IMPORT_MAX_ERRS */
	int64_t now_unix_s;
	uint64_t default_ttl_s;
	bool oom;
	bool final; /* adding the closing note, past the cap */
};

static void add_error(struct importer *im, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a problem. Out of memory here is remembered in im->oom and
 * reported by the caller, so call sites stay one line. Past the cap only
 * the count is kept; im->final lets the closing "N more" note through. */
static void add_error(struct importer *im, unsigned line, const char *fmt, ...)
{
	struct pw_banlist_import *out = im->out;
	struct pw_banlist_error *e;
	va_list ap;

	if (out->n_errs >= IMPORT_MAX_ERRS && !im->final) {
		im->suppressed++;
		return;
	}
	if (out->n_errs == im->cap_errs) {
		size_t cap = im->cap_errs ? im->cap_errs * 2 : 16;

		e = realloc(out->errs, cap * sizeof(*e));
		if (!e) {
			im->oom = true;
			return;
		}
		out->errs = e;
		im->cap_errs = cap;
	}
	e = &out->errs[out->n_errs++];
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Printable, bounded copy of untrusted bytes for a message. */
static void echo(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < outlen; i++) {
		if (i == ECHO_MAX_CHARS) {
			snprintf(out + n, outlen - n, "...");
			return;
		}
		out[n++] = ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] >= 0x7f)
				   ? '?'
				   : s[i];
	}
	out[n] = '\0';
}

/* Reasons are free text from elsewhere: cut to fit, no control bytes, no
 * trailing blanks. The txt format cannot carry trailing blanks (its comment
 * is trimmed), so a reason keeping them, from json or from a cut that
 * lands after a blank, would change on its way through a txt export. */
static void set_reason(struct pw_ban_record *r, const char *s, size_t len)
{
	size_t i;

	if (len > PW_BAN_REASON_MAX)
		len = PW_BAN_REASON_MAX;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++)
		r->reason[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				       ? '?'
				       : s[i];
	r->reason[len] = '\0';
}

static size_t cidr_hash(const struct pw_cidr *c)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	size_t i;

	h = (h ^ (uint8_t)c->family) * 1099511628211ULL;
	h = (h ^ c->prefixlen) * 1099511628211ULL;
	for (i = 0; i < sizeof(c->addr); i++)
		h = (h ^ c->addr[i]) * 1099511628211ULL;
	return (size_t)h;
}

static bool cidr_equal(const struct pw_cidr *a, const struct pw_cidr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Slot holding c, or the empty slot where it would go. */
static size_t *find_slot(struct importer *im, const struct pw_cidr *c)
{
	size_t mask = im->n_slots - 1, i = cidr_hash(c) & mask;

	while (im->slots[i] &&
	       !cidr_equal(&im->out->recs[im->slots[i] - 1].cidr, c))
		i = (i + 1) & mask;
	return &im->slots[i];
}

/* Keep the table at most half full: lookups stay one or two probes. */
static int grow_slots(struct importer *im)
{
	size_t old_n = im->n_slots, *old = im->slots, i;

	if ((im->out->n + 1) * 2 <= im->n_slots)
		return 0;
	im->n_slots = old_n ? old_n * 2 : 64;
	im->slots = calloc(im->n_slots, sizeof(*im->slots));
	if (!im->slots) {
		im->slots = old;
		im->n_slots = old_n;
		return -ENOMEM;
	}
	for (i = 0; i < old_n; i++)
		if (old[i])
			*find_slot(im, &im->out->recs[old[i] - 1].cidr) =
				old[i];
	free(old);
	return 0;
}

/* Final checks shared by every format: expiry, then duplicates. */
static int add_record(struct importer *im, unsigned line,
		      struct pw_ban_record *r, bool has_expiry)
{
	struct pw_banlist_import *out = im->out;
	char cidr[PW_CIDR_STRLEN], iso[ISO_BUF];
	size_t *slot;

	/* Saturate: a silly TTL is "a very long time", not a wrap. */
	if (!has_expiry && im->default_ttl_s > 0)
		r->expires_unix_s = add_sat(im->now_unix_s, im->default_ttl_s,
					    TIME_MAX_UNIX_S);
	cidr_str(&r->cidr, cidr);
	if (is_expired(r, im->now_unix_s)) {
		format_iso(r->expires_unix_s, iso);
		add_error(im, line, "%s expired at %s; skipped", cidr, iso);
		return 0;
	}

	if (grow_slots(im))
		return -ENOMEM;
	slot = find_slot(im, &r->cidr);
	if (*slot) {
		add_error(im, line,
			  "duplicate of %s on line %u; kept the first", cidr,
			  im->rec_lines[*slot - 1]);
		return 0;
	}

	if (out->n == im->cap_recs) {
		size_t cap = im->cap_recs ? im->cap_recs * 2 : 16;
		struct pw_ban_record *nr;
		unsigned *nl;

		nr = realloc(out->recs, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		out->recs = nr;
		nl = realloc(im->rec_lines, cap * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		im->rec_lines = nl;
		im->cap_recs = cap;
	}
	r->origin = PW_ORIGIN_IMPORT;
	out->recs[out->n] = *r;
	im->rec_lines[out->n] = line;
	out->n++;
	*slot = out->n;
	return 0;
}

/* Parse a CIDR from len bytes; false (reported) when it is not one. */
static bool parse_cidr(struct importer *im, unsigned line, const char *s,
		       size_t len, struct pw_cidr *c)
{
	char buf[PW_CIDR_STRLEN * 2], why[128];

	/* Longer than any CIDR: pw_cidr_parse still sees enough to say so. */
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(s, '\0', len)) {
		add_error(im, line, "NUL byte in address");
		return false;
	}
	if (pw_cidr_parse(buf, c, why, sizeof(why))) {
		add_error(im, line, "%s", why);
		return false;
	}
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Last occurrence of needle in s (NUL-terminated), or NULL. */
static char *strrstr(char *s, const char *needle)
{
	char *p, *last = NULL;

	for (p = strstr(s, needle); p; p = strstr(p + 1, needle))
		last = p;
	return last;
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
}

/* The comment our own txt export writes, "reason=R, expires=E, origin=O"
 * with any of the three left out. Other comments are just comments. Split
 * from the right so that R may itself contain ", ". */
static bool parse_txt_comment(struct importer *im, unsigned line, char *c,
			      struct pw_ban_record *r, bool *has_expiry)
{
	char *p, msg[ECHO_MAX_CHARS + 4];

	while (is_blank(*c))
		c++;
	if (strncmp(c, "reason=", 7) && strncmp(c, "expires=", 8) &&
	    strncmp(c, "origin=", 7))
		return true;

	/* origin is not kept (imported records are origin import). */
	p = strrstr(c, ", origin=");
	if (p)
		*p = '\0';
	else if (strncmp(c, "origin=", 7) == 0)
		*c = '\0';

	p = strrstr(c, ", expires=");
	if (p) {
		*p = '\0';
		p += 2;
	} else if (strncmp(c, "expires=", 8) == 0) {
		p = c;
	}
	if (p) {
		char *v = p + 8;

		rtrim(v);
		if (strcmp(v, "never") == 0) {
			r->expires_unix_s = 0;
		} else if (parse_iso(v, strlen(v), &r->expires_unix_s)) {
			echo(v, strlen(v), msg, sizeof(msg));
			add_error(im, line,
				  "expires '%s' is not YYYY-MM-DDTHH:MM:SSZ "
				  "(UTC) or never",
				  msg);
			return false;
		}
		*has_expiry = true;
		if (p == c)
			*c = '\0';
	}

	if (strncmp(c, "reason=", 7) == 0) {
		rtrim(c);
		set_reason(r, c + 7, strlen(c + 7));
	}
	return true;
}

static void import_txt_line(struct importer *im, unsigned line, const char *s,
			    size_t len)
{
	char comment[TXT_LINE_MAX + 1], rest[ECHO_MAX_CHARS + 4];
	struct pw_ban_record r;
	bool has_expiry = false;
	size_t i = 0, start;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len > TXT_LINE_MAX) {
		add_error(im, line, "line longer than %d bytes; skipped",
			  TXT_LINE_MAX);
		return;
	}
	if (memchr(s, '\0', len)) {
		add_error(im, line, "NUL byte in line; skipped");
		return;
	}
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return;

	memset(&r, 0, sizeof(r));
	start = i;
	while (i < len && !is_blank(s[i]) && s[i] != '#')
		i++;
	if (!parse_cidr(im, line, s + start, i - start, &r.cidr))
		return;
	while (i < len && is_blank(s[i]))
		i++;
	if (i < len && s[i] != '#') {
		echo(s + i, len - i, rest, sizeof(rest));
		add_error(im, line,
			  "unexpected '%s' after the address (comments "
			  "start with #)",
			  rest);
		return;
	}
	if (i < len) {
		memcpy(comment, s + i + 1, len - i - 1);
		comment[len - i - 1] = '\0';
		if (!parse_txt_comment(im, line, comment, &r, &has_expiry))
			return;
	}
	r.created_unix_s = im->now_unix_s;
	if (add_record(im, line, &r, has_expiry))
		im->oom = true;
}

static void import_txt(struct importer *im, const char *buf, size_t len)
{
	size_t pos = 0;
	unsigned line = 0;

	while (pos < len && !im->oom) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (line < UINT_MAX)
			line++;
		import_txt_line(im, line, buf + pos, end - pos);
		pos = end + 1;
	}
}

/* An integer field: absent (false, nothing reported), or 0..max. */
static int json_get_int(struct importer *im, unsigned line,
			struct json_object *o, const char *key, int64_t max,
			int64_t *out, bool *present, bool *is_null)
{
	struct json_object *v;
	int64_t x;

	*present = false;
	if (is_null)
		*is_null = false;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	*present = true;
	if (!v && is_null) {
		*is_null = true;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int)) {
		add_error(im, line, "\"%s\" is not an integer%s", key,
			  is_null ? " or null" : "");
		return -EINVAL;
	}
	x = json_object_get_int64(v);
	/* json-c saturates at INT64_MAX/MIN, which the bounds catch. */
	if (x < 0 || x > max) {
		add_error(im, line, "\"%s\" is out of range 0..%lld", key,
			  (long long)max);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

static int json_get_string(struct importer *im, unsigned line,
			   struct json_object *o, const char *key,
			   const char **s, size_t *len)
{
	struct json_object *v;

	*s = NULL;
	*len = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		add_error(im, line, "\"%s\" is not a string", key);
		return -EINVAL;
	}
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 0;
}

/* One record: ours ("addr", ...) or Bitcoin Core's ("address", ...). */
static void import_json_record(struct importer *im, unsigned line,
			       struct json_object *o)
{
	const char *addr_key = "addr", *created_key = "created";
	const char *expires_key = "expires", *s;
	struct pw_ban_record r;
	bool present, is_null, has_expiry;
	int64_t v;
	size_t len;

	if (!json_object_is_type(o, json_type_object)) {
		add_error(im, line, "record is not a JSON object");
		return;
	}
	if (!json_object_object_get_ex(o, "addr", NULL) &&
	    json_object_object_get_ex(o, "address", NULL)) {
		addr_key = "address";
		created_key = "ban_created";
		expires_key = "banned_until";
	}
	memset(&r, 0, sizeof(r));
	if (json_get_string(im, line, o, addr_key, &s, &len))
		return;
	if (!s) {
		add_error(im, line, "record has no \"addr\"");
		return;
	}
	if (!parse_cidr(im, line, s, len, &r.cidr))
		return;

	if (json_get_string(im, line, o, "reason", &s, &len))
		return;
	if (s)
		set_reason(&r, s, len);

	r.created_unix_s = im->now_unix_s;
	if (json_get_int(im, line, o, created_key, TIME_MAX_UNIX_S, &v,
			 &present, NULL))
		return;
	if (present)
		r.created_unix_s = v;

	/* null is our "until lifted"; Bitcoin Core never writes it. */
	if (json_get_int(im, line, o, expires_key, TIME_MAX_UNIX_S, &v,
			 &has_expiry, &is_null))
		return;
	if (has_expiry && !is_null) {
		r.expires_unix_s = v;
		if (v == 0) {
			/* 0 is our in-memory "never"; in a file it is 1970. */
			add_error(im, line,
				  "\"%s\" is 0 (1970); use null for a "
				  "permanent ban",
				  expires_key);
			return;
		}
	}

	if (json_get_int(im, line, o, "strikes", UINT_MAX, &v, &present, NULL))
		return;
	if (present)
		r.strikes = (unsigned)v;

	if (add_record(im, line, &r, has_expiry))
		im->oom = true;
}

static void import_json_array(struct importer *im, struct json_object *arr)
{
	size_t i, n = json_object_array_length(arr);

	for (i = 0; i < n && !im->oom; i++)
		import_json_record(
			im, i + 1 > UINT_MAX ? UINT_MAX : (unsigned)(i + 1),
			json_object_array_get_idx(arr, i));
}

/* Line and column of byte offset off, for a syntax error message. */
static void line_col(const char *buf, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int import_json(struct importer *im, const char *buf, size_t len)
{
	struct json_object *root = NULL, *arr = NULL, *ver;
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	unsigned line, col;
	const char *nul;
	int ret = -EINVAL;

	nul = memchr(buf, '\0', len);
	if (nul) {
		line_col(buf, (size_t)(nul - buf), &line, &col);
		add_error(im, 0, "NUL byte at line %u, column %u", line, col);
		return -EINVAL;
	}
	if (len > INT_MAX) {
		add_error(im, 0, "JSON file too large");
		return -EINVAL;
	}
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	/* Strict: standard JSON only and nothing after it. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root || jerr != json_tokener_success) {
		line_col(buf, json_tokener_get_parse_end(tok), &line, &col);
		add_error(im, 0, "JSON %s at line %u, column %u",
			  jerr == json_tokener_continue
				  ? "ends too early"
				  : json_tokener_error_desc(jerr),
			  line, col);
		goto cleanup;
	}

	if (json_object_is_type(root, json_type_array)) {
		arr = root;
	} else if (json_object_is_type(root, json_type_object)) {
		if (json_object_object_get_ex(root, "bans", &arr)) {
			if (json_object_object_get_ex(root, "version", &ver) &&
			    (!json_object_is_type(ver, json_type_int) ||
			     json_object_get_int64(ver) != 1)) {
				add_error(im, 0,
					  "unsupported ban list \"version\" "
					  "(expected 1)");
				goto cleanup;
			}
		} else if (!json_object_object_get_ex(root, "banned_nets",
						      &arr)) {
			add_error(im, 0,
				  "JSON object has neither \"bans\" nor "
				  "\"banned_nets\"");
			goto cleanup;
		}
		if (!json_object_is_type(arr, json_type_array)) {
			add_error(im, 0, "\"%s\" is not an array",
				  json_object_object_get_ex(root, "bans", NULL)
					  ? "bans"
					  : "banned_nets");
			goto cleanup;
		}
	} else {
		add_error(im, 0, "JSON is neither an object nor an array");
		goto cleanup;
	}
	import_json_array(im, arr);
	ret = 0;
cleanup:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

void pw_banlist_import_free(struct pw_banlist_import *imp)
{
	if (!imp)
		return;
	free(imp->recs);
	free(imp->errs);
	memset(imp, 0, sizeof(*imp));
}

int pw_banlist_import(const char *buf, size_t len, int64_t now_unix_s,
		      uint64_t default_ttl_s, struct pw_banlist_import *out)
{
	struct importer im;
	size_t i = 0;
	int ret = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf && len > 0)
		return -EINVAL;
	memset(&im, 0, sizeof(im));
	im.out = out;
	im.now_unix_s = now_unix_s;
	im.default_ttl_s = default_ttl_s;

	/* A UTF-8 byte order mark, as some Windows editors write. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	while (i < len &&
	       (is_blank(buf[i]) || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && (buf[i] == '[' || buf[i] == '{'))
		ret = import_json(&im, buf, len);
	else
		import_txt(&im, buf, len);

	if (!im.oom && im.suppressed > 0) {
		im.final = true;
		add_error(&im, 0, "%zu more problems not listed",
			  im.suppressed);
	}
	if (im.oom)
		ret = -ENOMEM;
	free(im.slots);
	free(im.rec_lines);
	if (ret == -ENOMEM)
		pw_banlist_import_free(out);
	return ret;
}
