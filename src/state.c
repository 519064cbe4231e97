// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * state.c - the state file: what the agent must remember across a restart
 * (active bans, offender history, runtime-trusted CIDRs, emergency mode,
 * posture), written so that a crash or a damaged disk can cost at most the
 * newest generation, never leave the agent running on state it could not
 * verify.
 *
 * On disk, "<dir>/<name>" is one header line then the payload:
 *
 *	peerwall-state 1 <len> <crc>\n
 *	<len bytes of JSON>
 *
 * <len> is plain decimal without leading zeros, <crc> the CRC-32 of the
 * payload (zlib's crc32, the ISO-HDLC polynomial) as exactly 8 lowercase
 * hex digits. The reader accepts only that exact spelling: a bit flip that
 * turns 'a' into 'A' or "7" into "07" must not read as the same header.
 * A length that is not exactly the rest of the file, a checksum that does
 * not match, an unknown version or any other header is a file that does
 * not verify. The length field is only ever compared with what was read;
 * allocation follows the real file size, capped at STATE_FILE_MAX_BYTES.
 *
 * Crash safety. A write goes to "<dir>/.<name>.tmp.<pid>" (O_EXCL, 0600)
 * and is fsync'ed before anything is renamed, so no name ever points at
 * data that is not on disk. Then the current "<name>", if it verifies, is
 * renamed to "<name>.prev", the temp file renamed to "<name>", and the
 * directory fsync'ed to make both renames durable. Once one good
 * generation exists, the directory holds one at every instant: before the
 * first rename under "<name>", between the renames under ".prev" (the
 * reader falls back to it when "<name>" is missing), after the second
 * under both. Should the renames reach the disk in another order, each
 * name still holds nothing or a complete, fsync'ed file. A current file
 * that does NOT verify is replaced without being rotated, so a corrupt
 * newest generation can never push the last good one out of ".prev". A
 * crash can leave the temp file behind; nothing reads it, and a later
 * process with the same pid removes it. One writer per file at a time:
 * the agent saves from its main loop.
 *
 * The JSON layer is just as strict: decoding checks every type, range,
 * CIDR and name and fails as a whole, because a half-read ban list is
 * worse than falling back to the previous generation. Expired bans (and
 * an emergency whose end has passed) are dropped, not restored. Encoding
 * refuses what decoding would refuse, so the agent never writes a file it
 * could not read back and rotates a good generation out for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "report.h"
#include "state.h"

#define STATE_MAGIC	   "peerwall-state"
#define STATE_FILE_VERSION 1
#define STATE_JSON_VERSION 1
#define STATE_FILE_NAME	   "state.json"
#define STATE_PREV_SUFFIX  ".prev"
/* Whole file, header included. A state file holds at most a few hundred
 * thousand bans of ~200 bytes each; anything bigger is not ours. */
#define STATE_FILE_MAX_BYTES (256u << 20)
/* The header line is ~40 bytes; looking further for '\n' only wastes
 * time on a file that is not a state file. */
#define HEADER_MAX_BYTES 64
#define CRC_HEX_CHARS	 8
/* 9999-12-31T23:59:59Z: later "unix seconds" are corruption, not dates. */
#define UNIX_S_MAX INT64_C(253402300799)
/* Internal reason buffers; callers' why buffers may be shorter. */
#define WHY_BYTES 320

static void __attribute__((format(printf, 3, 4)))
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
append_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (!why || whylen == 0)
		return;
	used = strnlen(why, whylen);
	if (used + 1 >= whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why + used, whylen - used, fmt, ap);
	va_end(ap);
}

static uint32_t state_crc(const void *data, size_t len)
{
	return (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), data, len);
}

/* A plain file name inside dir: the file layer never walks paths. */
static bool name_ok(const char *name)
{
	return name && name[0] && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static int name_printf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int name_printf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* --- header ------------------------------------------------------------- */

/* Decimal as the writer prints it: 1-10 digits, no sign, no leading 0. */
static bool eat_decimal(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	while (s < end && *s >= '0' && *s <= '9' && n < 11) {
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || n > 10 || (n > 1 && **p == '0'))
		return false;
	*p = s;
	*out = v;
	return true;
}

static bool eat_hex32(const char **p, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (end - *p < CRC_HEX_CHARS)
		return false;
	for (i = 0; i < CRC_HEX_CHARS; i++) {
		char c = (*p)[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return false;
	}
	*p += CRC_HEX_CHARS;
	*out = v;
	return true;
}

static bool eat_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* Verify a whole file image. On success *data_off and *data_len locate
 * the payload in buf. Never trusts the length field beyond comparing it. */
static int verify_image(const char *fname, const char *buf, size_t size,
			size_t *data_off, size_t *data_len, char *why,
			size_t whylen)
{
	const size_t magic_len = strlen(STATE_MAGIC);
	const char *p = buf, *nl;
	uint64_t version, len;
	uint32_t file_crc, crc;
	size_t off, have;

	if (size == 0) {
		set_why(why, whylen, "%s: empty file", fname);
		return -EBADMSG;
	}
	nl = memchr(buf, '\n',
		    size < HEADER_MAX_BYTES ? size : HEADER_MAX_BYTES);
	if (!nl) {
		set_why(why, whylen,
			"%s: no header line in the first %zu bytes", fname,
			size < HEADER_MAX_BYTES ? size : HEADER_MAX_BYTES);
		return -EBADMSG;
	}
	if ((size_t)(nl - p) < magic_len || memcmp(p, STATE_MAGIC, magic_len)) {
		set_why(why, whylen,
			"%s: bad header: not a peerwall state file", fname);
		return -EBADMSG;
	}
	p += magic_len;
	if (!eat_char(&p, nl, ' ') || !eat_decimal(&p, nl, &version) ||
	    !eat_char(&p, nl, ' ')) {
		set_why(why, whylen, "%s: bad header: version field", fname);
		return -EBADMSG;
	}
	if (version != STATE_FILE_VERSION) {
		set_why(why, whylen, "%s: unsupported version %" PRIu64, fname,
			version);
		return -EBADMSG;
	}
	if (!eat_decimal(&p, nl, &len) || !eat_char(&p, nl, ' ')) {
		set_why(why, whylen, "%s: bad header: length field", fname);
		return -EBADMSG;
	}
	if (!eat_hex32(&p, nl, &file_crc) || p != nl) {
		set_why(why, whylen, "%s: bad header: checksum field", fname);
		return -EBADMSG;
	}
	off = (size_t)(nl - buf) + 1;
	have = size - off;
	if (len > have) {
		set_why(why, whylen,
			"%s: truncated: header says %" PRIu64
			" bytes, %zu present",
			fname, len, have);
		return -EBADMSG;
	}
	if (len < have) {
		set_why(why, whylen,
			"%s: trailing data: header says %" PRIu64
			" bytes, %zu present",
			fname, len, have);
		return -EBADMSG;
	}
	crc = state_crc(buf + off, have);
	if (crc != file_crc) {
		set_why(why, whylen,
			"%s: checksum mismatch (file %08" PRIx32
			", computed %08" PRIx32 ")",
			fname, file_crc, crc);
		return -EBADMSG;
	}
	*data_off = off;
	*data_len = have;
	return 0;
}

/* --- file I/O ----------------------------------------------------------- */

/* Read and verify one generation. 0 with *data (malloc'd, NUL-terminated
 * for the JSON parser's convenience) and *len; -ENOENT when absent;
 * -EBADMSG when it does not verify; another -errno when it could not be
 * read at all. The reason, prefixed with fname, goes to why. */
static int read_verified(int dirfd, const char *fname, char **data, size_t *len,
			 char *why, size_t whylen)
{
	size_t size, got = 0, off, data_len;
	char *buf = NULL;
	struct stat st;
	int fd, ret;

	/* O_NONBLOCK: a FIFO planted under our name must not hang the agent
	 * in open(); it has no effect on the regular files we accept. */
	fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			set_why(why, whylen, "%s: missing", fname);
		else
			set_why(why, whylen, "%s: open: %s", fname,
				strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_why(why, whylen, "%s: stat: %s", fname, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_why(why, whylen, "%s: not a regular file", fname);
		ret = -EBADMSG;
		goto out;
	}
	if (st.st_size > (off_t)STATE_FILE_MAX_BYTES) {
		set_why(why, whylen, "%s: %lld bytes, over the %u-byte limit",
			fname, (long long)st.st_size, STATE_FILE_MAX_BYTES);
		ret = -EBADMSG;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (!buf) {
		ret = -ENOMEM;
		set_why(why, whylen, "%s: out of memory", fname);
		goto out;
	}
	/* Files are replaced by rename, never rewritten in place, so the
	 * size from fstat is the size; a short read only means less data,
	 * which verification then reports. */
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			set_why(why, whylen, "%s: read: %s", fname,
				strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	ret = verify_image(fname, buf, got, &off, &data_len, why, whylen);
	if (ret)
		goto out;
	memmove(buf, buf + off, data_len);
	buf[data_len] = '\0';
	*data = buf;
	*len = data_len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

static int read_generation(const char *dir, const char *fname, char **data,
			   size_t *len, char *why, size_t whylen)
{
	int dirfd, ret;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			set_why(why, whylen, "%s: missing", fname);
		else
			set_why(why, whylen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	ret = read_verified(dirfd, fname, data, len, why, whylen);
	close(dirfd);
	return ret;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Should the current file become ".prev"? Only when it verifies: a corrupt
 * one is simply replaced so the good ".prev" survives. 1 rotate, 0 do not,
 * -errno when we cannot tell (then the write is abandoned rather than risk
 * discarding what may be the only good generation). */
static int current_verifies(int dirfd, const char *name)
{
	char *data = NULL;
	size_t len;
	int ret;

	ret = read_verified(dirfd, name, &data, &len, NULL, 0);
	free(data);
	if (ret == 0)
		return 1;
	if (ret == -ENOENT || ret == -EBADMSG)
		return 0;
	return ret;
}

int pw_state_file_write(const char *dir, const char *name, const void *data,
			size_t len)
{
	char tmp[NAME_MAX + 1], prev[NAME_MAX + 1];
	char hdr[HEADER_MAX_BYTES];
	int dirfd = -1, fd = -1, ret, hdr_len;
	bool tmp_exists = false;

	if (!dir || !name_ok(name) || (!data && len))
		return -EINVAL;
	if (len > STATE_FILE_MAX_BYTES - HEADER_MAX_BYTES)
		return -EFBIG;
	ret = name_printf(tmp, sizeof(tmp), ".%s.tmp.%ld", name,
			  (long)getpid());
	if (!ret)
		ret = name_printf(prev, sizeof(prev), "%s" STATE_PREV_SUFFIX,
				  name);
	if (ret)
		return ret;
	hdr_len = snprintf(hdr, sizeof(hdr),
			   STATE_MAGIC " %d %zu %08" PRIx32 "\n",
			   STATE_FILE_VERSION, len, state_crc(data, len));
	if (hdr_len < 0 || (size_t)hdr_len >= sizeof(hdr))
		return -EOVERFLOW;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;

	fd = openat(dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* The name carries our pid, so only a process that died
		 * before a reboot (same pid, earlier life) can have left it. */
		if (unlinkat(dirfd, tmp, 0) == 0)
			fd = openat(dirfd, tmp,
				    O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
				    0600);
	}
	if (fd < 0) {
		ret = -errno;
		goto cleanup;
	}
	tmp_exists = true;

	ret = write_all(fd, hdr, (size_t)hdr_len);
	if (!ret)
		ret = write_all(fd, data, len);
	if (ret)
		goto cleanup;
	/* Durable before it gets a name: otherwise a crash after the
	 * rename can leave "<name>" pointing at an empty or partial file. */
	if (fsync(fd) < 0) {
		ret = -errno;
		goto cleanup;
	}
	ret = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (ret)
		goto cleanup;

	ret = current_verifies(dirfd, name);
	if (ret < 0)
		goto cleanup;
	if (ret == 1 && renameat(dirfd, name, dirfd, prev) < 0) {
		ret = -errno;
		goto cleanup;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		ret = -errno;
		goto cleanup;
	}
	tmp_exists = false;
	/* Make the renames themselves durable. */
	ret = fsync(dirfd) < 0 ? -errno : 0;

cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp_exists)
		unlinkat(dirfd, tmp, 0);
	close(dirfd);
	return ret;
}

int pw_state_file_read(const char *dir, const char *name, char **data,
		       size_t *len, bool *used_prev, char *why, size_t whylen)
{
	char prev[NAME_MAX + 1], prev_why[WHY_BYTES];
	int ret, prev_ret;

	*data = NULL;
	*len = 0;
	if (used_prev)
		*used_prev = false;
	set_why(why, whylen, "%s", "");
	if (!dir || !name_ok(name))
		return -EINVAL;
	ret = name_printf(prev, sizeof(prev), "%s" STATE_PREV_SUFFIX, name);
	if (ret)
		return ret;

	ret = read_generation(dir, name, data, len, why, whylen);
	if (ret == 0)
		return 0;
	prev_ret = read_generation(dir, prev, data, len, prev_why,
				   sizeof(prev_why));
	if (prev_ret == 0) {
		if (used_prev)
			*used_prev = true;
		return 0;
	}
	if (ret == -ENOENT && prev_ret == -ENOENT)
		return -ENOENT;
	append_why(why, whylen, "; %s", prev_why);
	/* The newest's problem is the one to report (EACCES says more than
	 * the older file's EBADMSG), unless the newest simply is not there. */
	return ret != -ENOENT ? ret : prev_ret;
}

/* --- JSON encoding ------------------------------------------------------ */

static bool unix_s_ok(int64_t t)
{
	return t >= 0 && t <= UNIX_S_MAX;
}

/* Adds val to obj (or arr when key is NULL), taking ownership of val in
 * every case. json-c returns NULL from constructors only when out of
 * memory. */
static int put(json_object *obj, const char *key, json_object *val,
	       bool may_be_null)
{
	int err;

	if (!val && !may_be_null)
		return -ENOMEM;
	if (key)
		err = json_object_object_add(obj, key, val);
	else
		err = json_object_array_add(obj, val);
	if (err) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* Formatted and parsed back, so that only CIDRs decode accepts (no host
 * bits, known family) are written. */
static int put_cidr(json_object *obj, const char *key, const struct pw_cidr *c)
{
	char buf[PW_CIDR_STRLEN];
	struct pw_cidr back;

	if (pw_family_bits(c->family) == 0 ||
	    c->prefixlen > pw_family_bits(c->family))
		return -EINVAL;
	pw_cidr_format(c, buf, sizeof(buf));
	if (pw_cidr_parse(buf, &back, NULL, 0))
		return -EINVAL;
	return put(obj, key, json_object_new_string(buf), false);
}

static int put_time(json_object *obj, const char *key, int64_t t,
		    bool zero_is_null)
{
	if (zero_is_null && t == 0)
		return put(obj, key, NULL, true);
	if (!unix_s_ok(t))
		return -EINVAL;
	return put(obj, key, json_object_new_int64(t), false);
}

static int encode_ban(json_object *arr, const struct pw_ban_record *b)
{
	json_object *o = json_object_new_object();
	const char *origin = pw_ban_origin_name(b->origin);
	int ret;

	if (!o)
		return -ENOMEM;
	ret = put(arr, NULL, o, false);
	if (ret)
		return ret;
	if ((unsigned)b->origin >= PW_ORIGIN_NR || !origin ||
	    strnlen(b->reason, sizeof(b->reason)) > PW_BAN_REASON_MAX)
		return -EINVAL;
	ret = put_cidr(o, "addr", &b->cidr);
	if (!ret)
		ret = put(o, "origin", json_object_new_string(origin), false);
	if (!ret)
		ret = put(o, "reason", json_object_new_string(b->reason),
			  false);
	if (!ret)
		ret = put_time(o, "created", b->created_unix_s, false);
	if (!ret)
		ret = put_time(o, "expires", b->expires_unix_s, true);
	if (!ret)
		ret = put(o, "strikes", json_object_new_int64(b->strikes),
			  false);
	return ret;
}

static int encode_history(json_object *arr, const struct pw_history_entry *h)
{
	json_object *o = json_object_new_object();
	int ret;

	if (!o)
		return -ENOMEM;
	ret = put(arr, NULL, o, false);
	if (!ret)
		ret = put_cidr(o, "addr", &h->key);
	if (!ret)
		ret = put(o, "strikes", json_object_new_int64(h->strikes),
			  false);
	if (!ret)
		ret = put_time(o, "last_strike", h->last_strike_unix_s, false);
	return ret;
}

static int encode_root(const struct pw_state *st, json_object *root)
{
	json_object *emerg, *allowed, *bans, *history;
	const char *posture;
	size_t i;
	int ret;

	posture = (unsigned)st->posture < PW_POSTURE_NR
			  ? pw_posture_name((enum pw_posture)st->posture)
			  : NULL;
	if (!posture)
		return -EINVAL;
	ret = put(root, "version", json_object_new_int(STATE_JSON_VERSION),
		  false);
	if (!ret)
		ret = put_time(root, "saved", st->saved_unix_s, false);
	if (!ret)
		ret = put(root, "posture", json_object_new_string(posture),
			  false);
	if (ret)
		return ret;

	emerg = json_object_new_object();
	ret = put(root, "emergency", emerg, false);
	if (!ret)
		ret = put(emerg, "on", json_object_new_boolean(st->emergency),
			  false);
	/* "until" only means something while emergency mode is on. */
	if (!ret)
		ret = put_time(emerg, "until",
			       st->emergency ? st->emergency_until_unix_s : 0,
			       true);
	if (!ret && st->emergency && st->emergency_since_unix_s > 0)
		ret = put_time(emerg, "since", st->emergency_since_unix_s,
			       true);
	if (!ret && st->emergency)
		ret = put(emerg, "uid",
			  json_object_new_int64(st->emergency_uid), false);
	if (ret)
		return ret;

	allowed = json_object_new_array();
	ret = put(root, "allowed", allowed, false);
	for (i = 0; !ret && i < st->n_allowed; i++)
		ret = put_cidr(allowed, NULL, &st->allowed[i]);
	if (ret)
		return ret;

	bans = json_object_new_array();
	ret = put(root, "bans", bans, false);
	for (i = 0; !ret && i < st->n_bans; i++)
		ret = encode_ban(bans, &st->bans[i]);
	if (ret)
		return ret;

	history = json_object_new_array();
	ret = put(root, "history", history, false);
	for (i = 0; !ret && i < st->n_history; i++)
		ret = encode_history(history, &st->history[i]);
	return ret;
}

int pw_state_encode(const struct pw_state *st, char **json, size_t *len)
{
	json_object *root;
	const char *text;
	size_t text_len;
	int ret;

	*json = NULL;
	*len = 0;
	root = json_object_new_object();
	if (!root)
		return -ENOMEM;
	ret = encode_root(st, root);
	if (ret)
		goto cleanup;
	/* Pretty and with '/' unescaped: operators read this file with
	 * `tail -n +2 state.json | jq` when something went wrong. */
	text = json_object_to_json_string_length(
		root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE,
		&text_len);
	if (!text) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* One more byte for a final newline, one for a terminating NUL. */
	*json = malloc(text_len + 2);
	if (!*json) {
		ret = -ENOMEM;
		goto cleanup;
	}
	memcpy(*json, text, text_len);
	(*json)[text_len] = '\n';
	(*json)[text_len + 1] = '\0';
	*len = text_len + 1;
cleanup:
	json_object_put(root);
	return ret;
}

/* --- JSON decoding ------------------------------------------------------ */

/* Where decode errors are reported. Helpers take a path to the object
 * they look into ("bans[3]", "" at the top level) so that every reason
 * names the field: "bans[3].origin: unknown origin \"robot\"". */
struct dec {
	char *why;
	size_t whylen;
};

static int __attribute__((format(printf, 2, 3)))
bad(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->why && d->whylen) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->whylen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static const char *field(char *buf, size_t size, const char *path,
			 const char *key)
{
	snprintf(buf, size, "%s%s%s", path, path[0] ? "." : "", key);
	return buf;
}

/* Every key of obj must be one of known[]: a field this version does not
 * know means a format it does not understand (which would bump
 * "version"), or a damaged file. */
static int check_keys(struct dec *d, json_object *obj, const char *path,
		      const char *const *known)
{
	json_object_object_foreach(obj, key, val)
	{
		const char *const *k;
		char f[96 + PW_ECHO_BUF], echo[PW_ECHO_BUF];

		(void)val;
		for (k = known; *k; k++)
			if (!strcmp(key, *k))
				break;
		if (!*k) {
			/* The key is the file's text: escaped for the log. */
			pw_echo_bytes(key, strlen(key), echo);
			return bad(d, "%s: unknown field",
				   field(f, sizeof(f), path, echo));
		}
	}
	return 0;
}

/* The member key of obj with the given type; *out NULL for a JSON null
 * when nullable. */
static int get(struct dec *d, json_object *obj, const char *path,
	       const char *key, json_type type, bool nullable,
	       json_object **out)
{
	char f[96];

	if (!json_object_object_get_ex(obj, key, out))
		return bad(d, "%s: missing", field(f, sizeof(f), path, key));
	if (!*out && nullable)
		return 0;
	if (!json_object_is_type(*out, type))
		return bad(d, "%s: expected %s%s, got %s",
			   field(f, sizeof(f), path, key),
			   type == json_type_int       ? "an integer"
			   : type == json_type_array   ? "an array"
			   : type == json_type_object  ? "an object"
			   : type == json_type_boolean ? "true or false"
						       : "a string",
			   nullable ? " or null" : "",
			   json_type_to_name(json_object_get_type(*out)));
	return 0;
}

/* A unix time. With nullable, null means "none" (0), so an explicit 0 is
 * refused rather than silently read as "never expires". json-c clamps
 * out-of-range integers to INT64_MIN/MAX, which the range check rejects. */
static int get_time(struct dec *d, json_object *obj, const char *path,
		    const char *key, bool nullable, int64_t *out)
{
	json_object *v;
	char f[96];
	int64_t t;
	int ret;

	ret = get(d, obj, path, key, json_type_int, nullable, &v);
	if (ret)
		return ret;
	if (!v) {
		*out = 0;
		return 0;
	}
	t = json_object_get_int64(v);
	if (!unix_s_ok(t) || (nullable && t == 0))
		return bad(d,
			   "%s: %" PRId64 " is not a unix time in [%d, %" PRId64
			   "]",
			   field(f, sizeof(f), path, key), t, nullable ? 1 : 0,
			   UNIX_S_MAX);
	*out = t;
	return 0;
}

static int get_uint(struct dec *d, json_object *obj, const char *path,
		    const char *key, unsigned *out)
{
	json_object *v;
	char f[96];
	int64_t n;
	int ret;

	ret = get(d, obj, path, key, json_type_int, false, &v);
	if (ret)
		return ret;
	n = json_object_get_int64(v);
	if (n < 0 || n > UINT_MAX)
		return bad(d, "%s: %" PRId64 " out of range [0, %u]",
			   field(f, sizeof(f), path, key), n, UINT_MAX);
	*out = (unsigned)n;
	return 0;
}

/* A string without NUL bytes ("\u0000" would silently cut it short). */
static int get_string(struct dec *d, json_object *obj, const char *path,
		      const char *key, const char **out)
{
	json_object *v;
	char f[96];
	int ret;

	ret = get(d, obj, path, key, json_type_string, false, &v);
	if (ret)
		return ret;
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return bad(d, "%s: contains a NUL character",
			   field(f, sizeof(f), path, key));
	return 0;
}

static int parse_cidr(struct dec *d, const char *what, const char *s,
		      struct pw_cidr *out)
{
	char err[160];

	if (pw_cidr_parse(s, out, err, sizeof(err)))
		return bad(d, "%s: %s", what, err);
	return 0;
}

static int get_cidr(struct dec *d, json_object *obj, const char *path,
		    const char *key, struct pw_cidr *out)
{
	const char *s;
	char f[96];
	int ret;

	ret = get_string(d, obj, path, key, &s);
	if (ret)
		return ret;
	return parse_cidr(d, field(f, sizeof(f), path, key), s, out);
}

/* An array member, with its elements allocated (NULL when empty). */
static int get_array(struct dec *d, json_object *obj, const char *key,
		     size_t elem_size, json_object **arr, void **elems,
		     size_t *n)
{
	int ret;

	ret = get(d, obj, "", key, json_type_array, false, arr);
	if (ret)
		return ret;
	*n = json_object_array_length(*arr);
	*elems = NULL;
	if (*n == 0)
		return 0;
	*elems = calloc(*n, elem_size);
	return *elems ? 0 : -ENOMEM;
}

static int decode_emergency(struct dec *d, json_object *root,
			    int64_t now_unix_s, struct pw_state *st)
{
	static const char *const keys[] = {"on", "until", "since", "uid", NULL};
	json_object *e, *on, *v;
	unsigned uid = 0;
	int ret;

	ret = get(d, root, "", "emergency", json_type_object, false, &e);
	if (!ret)
		ret = check_keys(d, e, "emergency", keys);
	if (!ret)
		ret = get(d, e, "emergency", "on", json_type_boolean, false,
			  &on);
	if (!ret)
		ret = get_time(d, e, "emergency", "until", true,
			       &st->emergency_until_unix_s);
	/* since and uid came later: optional. */
	if (!ret && json_object_object_get_ex(e, "since", &v))
		ret = get_time(d, e, "emergency", "since", true,
			       &st->emergency_since_unix_s);
	if (!ret && json_object_object_get_ex(e, "uid", &v))
		ret = get_uint(d, e, "emergency", "uid", &uid);
	if (ret)
		return ret;
	st->emergency_uid = uid;
	st->emergency = json_object_get_boolean(on);
	if (!st->emergency && st->emergency_until_unix_s)
		return bad(d, "emergency.until: set while emergency is off");
	/* Like an expired ban: an emergency that ended while we were down
	 * is not restored. */
	if (st->emergency_until_unix_s &&
	    st->emergency_until_unix_s <= now_unix_s) {
		st->emergency = false;
		st->emergency_until_unix_s = 0;
	}
	return 0;
}

static int decode_allowed(struct dec *d, json_object *root, struct pw_state *st)
{
	json_object *arr;
	void *elems;
	size_t i, n;
	int ret;

	ret = get_array(d, root, "allowed", sizeof(*st->allowed), &arr, &elems,
			&n);
	if (ret)
		return ret;
	st->allowed = elems;
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char what[48];

		snprintf(what, sizeof(what), "allowed[%zu]", i);
		if (!json_object_is_type(v, json_type_string))
			return bad(d, "%s: expected a string, got %s", what,
				   json_type_to_name(json_object_get_type(v)));
		if (strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v))
			return bad(d, "%s: contains a NUL character", what);
		ret = parse_cidr(d, what, json_object_get_string(v),
				 &st->allowed[i]);
		if (ret)
			return ret;
		st->n_allowed++;
	}
	return 0;
}

static int decode_ban(struct dec *d, json_object *o, const char *path,
		      struct pw_ban_record *b)
{
	static const char *const keys[] = {"addr",    "origin",	 "reason",
					   "created", "expires", "strikes",
					   NULL};
	const char *origin, *reason;
	char f[96], echo[PW_ECHO_BUF];
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return bad(d, "%s: expected an object, got %s", path,
			   json_type_to_name(json_object_get_type(o)));
	ret = check_keys(d, o, path, keys);
	if (!ret)
		ret = get_cidr(d, o, path, "addr", &b->cidr);
	if (!ret)
		ret = get_string(d, o, path, "origin", &origin);
	if (ret)
		return ret;
	if (pw_ban_origin_parse(origin, &b->origin) ||
	    (unsigned)b->origin >= PW_ORIGIN_NR) {
		pw_echo_bytes(origin, strlen(origin), echo);
		return bad(d, "%s: unknown origin \"%s\"",
			   field(f, sizeof(f), path, "origin"), echo);
	}
	ret = get_string(d, o, path, "reason", &reason);
	if (ret)
		return ret;
	if (strlen(reason) > PW_BAN_REASON_MAX)
		return bad(d, "%s: %zu characters, at most %d",
			   field(f, sizeof(f), path, "reason"), strlen(reason),
			   PW_BAN_REASON_MAX);
	memcpy(b->reason, reason, strlen(reason) + 1);
	ret = get_time(d, o, path, "created", false, &b->created_unix_s);
	if (!ret)
		ret = get_time(d, o, path, "expires", true, &b->expires_unix_s);
	if (!ret)
		ret = get_uint(d, o, path, "strikes", &b->strikes);
	return ret;
}

static int decode_bans(struct dec *d, json_object *root, int64_t now_unix_s,
		       struct pw_state *st)
{
	json_object *arr;
	void *elems;
	size_t i, n;
	int ret;

	ret = get_array(d, root, "bans", sizeof(*st->bans), &arr, &elems, &n);
	if (ret)
		return ret;
	st->bans = elems;
	for (i = 0; i < n; i++) {
		struct pw_ban_record *b = &st->bans[st->n_bans];
		char path[48];

		snprintf(path, sizeof(path), "bans[%zu]", i);
		memset(b, 0, sizeof(*b));
		/* Expired bans are validated too: a bad field anywhere
		 * means the file cannot be trusted as a whole. */
		ret = decode_ban(d, json_object_array_get_idx(arr, i), path, b);
		if (ret)
			return ret;
		if (b->expires_unix_s && b->expires_unix_s <= now_unix_s)
			continue;
		st->n_bans++;
	}
	return 0;
}

static int decode_history(struct dec *d, json_object *root, struct pw_state *st)
{
	static const char *const keys[] = {"addr", "strikes", "last_strike",
					   NULL};
	json_object *arr;
	void *elems;
	size_t i, n;
	int ret;

	ret = get_array(d, root, "history", sizeof(*st->history), &arr, &elems,
			&n);
	if (ret)
		return ret;
	st->history = elems;
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct pw_history_entry *h = &st->history[i];
		char path[48];

		snprintf(path, sizeof(path), "history[%zu]", i);
		if (!json_object_is_type(o, json_type_object))
			return bad(d, "%s: expected an object, got %s", path,
				   json_type_to_name(json_object_get_type(o)));
		ret = check_keys(d, o, path, keys);
		if (!ret)
			ret = get_cidr(d, o, path, "addr", &h->key);
		if (!ret)
			ret = get_uint(d, o, path, "strikes", &h->strikes);
		if (!ret)
			ret = get_time(d, o, path, "last_strike", false,
				       &h->last_strike_unix_s);
		if (ret)
			return ret;
		st->n_history++;
	}
	return 0;
}

static int decode_root(struct dec *d, json_object *root, int64_t now_unix_s,
		       struct pw_state *st)
{
	static const char *const keys[] = {"version",	"saved",   "posture",
					   "emergency", "allowed", "bans",
					   "history",	NULL};
	enum pw_posture posture;
	char echo[PW_ECHO_BUF];
	const char *s;
	json_object *v;
	int ret;

	if (!json_object_is_type(root, json_type_object))
		return bad(d, "top level: expected an object, got %s",
			   json_type_to_name(json_object_get_type(root)));
	ret = check_keys(d, root, "", keys);
	if (!ret)
		ret = get(d, root, "", "version", json_type_int, false, &v);
	if (ret)
		return ret;
	if (json_object_get_int64(v) != STATE_JSON_VERSION)
		return bad(d, "version: %" PRId64 " is not supported (want %d)",
			   json_object_get_int64(v), STATE_JSON_VERSION);
	ret = get_time(d, root, "", "saved", false, &st->saved_unix_s);
	if (!ret)
		ret = get_string(d, root, "", "posture", &s);
	if (ret)
		return ret;
	if (pw_posture_parse(s, &posture) ||
	    (unsigned)posture >= PW_POSTURE_NR) {
		pw_echo_bytes(s, strlen(s), echo);
		return bad(d, "posture: unknown posture \"%s\"", echo);
	}
	st->posture = (int)posture;
	ret = decode_emergency(d, root, now_unix_s, st);
	if (!ret)
		ret = decode_allowed(d, root, st);
	if (!ret)
		ret = decode_bans(d, root, now_unix_s, st);
	if (!ret)
		ret = decode_history(d, root, st);
	return ret;
}

int pw_state_decode(const char *json, size_t len, int64_t now_unix_s,
		    struct pw_state *out, char *why, size_t whylen)
{
	struct dec d = {.why = why, .whylen = whylen};
	struct pw_state st = {0};
	enum json_tokener_error jerr;
	json_object *root = NULL;
	json_tokener *tok;
	const char *nul;
	int ret;

	memset(out, 0, sizeof(*out));
	set_why(why, whylen, "%s", "");
	if (!json || len == 0)
		return bad(&d, "empty document");
	if (len > INT_MAX)
		return bad(&d, "document of %zu bytes is too large", len);
	nul = memchr(json, '\0', len);
	if (nul)
		return bad(&d, "NUL byte at offset %zu", (size_t)(nul - json));

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root || jerr != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		/* "continue" at the end of the input: it stopped mid-value
		 * (or the whole document is a bare "null"). */
		ret = bad(&d, "invalid JSON at offset %zu: %s",
			  json_tokener_get_parse_end(tok),
			  jerr == json_tokener_continue ||
					  jerr == json_tokener_success
				  ? "incomplete document"
				  : json_tokener_error_desc(jerr));
		goto cleanup;
	}
	ret = decode_root(&d, root, now_unix_s, &st);
	if (ret)
		goto cleanup;
	*out = st;
	memset(&st, 0, sizeof(st));
cleanup:
	pw_state_free(&st);
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

void pw_state_free(struct pw_state *st)
{
	if (!st)
		return;
	free(st->bans);
	free(st->history);
	free(st->allowed);
	memset(st, 0, sizeof(*st));
}

/* --- both --------------------------------------------------------------- */

int pw_state_save(const char *dir, const struct pw_state *st)
{
	size_t len;
	char *json;
	int ret;

	ret = pw_state_encode(st, &json, &len);
	if (ret)
		return ret;
	ret = pw_state_file_write(dir, STATE_FILE_NAME, json, len);
	free(json);
	return ret;
}

int pw_state_load(const char *dir, int64_t now_unix_s, struct pw_state *out,
		  bool *used_prev, char *why, size_t whylen)
{
	const char *prev = STATE_FILE_NAME STATE_PREV_SUFFIX;
	char dec_why[WHY_BYTES], prev_why[WHY_BYTES];
	bool from_prev = false;
	char *data = NULL;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	if (used_prev)
		*used_prev = false;
	ret = pw_state_file_read(dir, STATE_FILE_NAME, &data, &len, &from_prev,
				 why, whylen);
	if (ret)
		return ret;
	ret = pw_state_decode(data, len, now_unix_s, out, dec_why,
			      sizeof(dec_why));
	free(data);
	data = NULL;
	if (ret == 0) {
		if (used_prev)
			*used_prev = from_prev;
		return 0;
	}
	if (ret != -EBADMSG)
		return ret;
	if (from_prev) {
		/* why already says what is wrong with the newest. */
		append_why(why, whylen, "; %s: %s", prev, dec_why);
		return -EBADMSG;
	}

	/* The newest passed its checksum but is not a state we accept (a
	 * writer bug, or a file from another version): the previous
	 * generation is still better than nothing. */
	set_why(why, whylen, "%s: %s", STATE_FILE_NAME, dec_why);
	ret = read_generation(dir, prev, &data, &len, prev_why,
			      sizeof(prev_why));
	if (ret == 0) {
		ret = pw_state_decode(data, len, now_unix_s, out, dec_why,
				      sizeof(dec_why));
		free(data);
		if (ret == -EBADMSG)
			set_why(prev_why, sizeof(prev_why), "%s: %s", prev,
				dec_why);
	}
	if (ret == 0) {
		if (used_prev)
			*used_prev = true;
		return 0;
	}
	append_why(why, whylen, "; %s", prev_why);
	/* The newest exists and verifies, so nothing is "missing". */
	return ret == -ENOENT ? -EBADMSG : ret;
}
