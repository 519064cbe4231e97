// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_state.c - unit tests for src/state.c.
 *
 * Each test gets its own directory from mkdtemp under /tmp, removed in
 * teardown. The damage tests do not trust a sample: the newest file is
 * cut at every length from 0 to its full size and has every bit of every
 * byte flipped, and each damaged image must be refused with the previous
 * generation read instead. Header defects and JSON field defects are
 * tables: adding a case is adding a row, and a failing row prints its
 * description.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "state.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define NOW_S	   INT64_C(1700000100)
#define STATE	   "state.json"
#define STATE_PREV "state.json.prev"
#define WHY_BYTES  512

struct fixture {
	char dir[64];
};

static int setup(void **ctx)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pw-test-state-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*ctx = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **ctx)
{
	struct fixture *f = *ctx;
	int ret = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return ret;
}

/* --- helpers ------------------------------------------------------------- */

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		print_error("expected \"%s\" in \"%s\"\n", needle, hay);
		fail();
	}
}

static void path_of(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

static void write_raw(const char *dir, const char *name, const void *buf,
		      size_t len)
{
	char path[256];
	int fd;

	path_of(path, sizeof(path), dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Whole file into a malloc'd buffer; NULL when it does not exist. */
static char *read_raw(const char *dir, const char *name, size_t *len)
{
	char path[256], *buf;
	struct stat st;
	int fd;

	path_of(path, sizeof(path), dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	char path[256];

	path_of(path, sizeof(path), dir, name);
	return access(path, F_OK) == 0;
}

/* Temp files are ".<name>.tmp.<pid>"; none may survive a write. */
static unsigned count_temp_files(const char *dir)
{
	unsigned n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static uint32_t crc_of(const void *buf, size_t len)
{
	return (uint32_t)crc32(0, buf, (uInt)len);
}

static void assert_read_gives(const char *dir, const char *expect,
			      bool expect_prev)
{
	char why[WHY_BYTES];
	bool used_prev;
	char *data;
	size_t len;

	assert_int_equal(pw_state_file_read(dir, STATE, &data, &len, &used_prev,
					    why, sizeof(why)),
			 0);
	assert_int_equal(used_prev, expect_prev);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(data, expect, len);
	assert_int_equal(data[len], '\0');
	if (expect_prev)
		assert_contains(why, STATE ": ");
	else
		assert_string_equal(why, "");
	free(data);
}

static struct pw_cidr cidr(const char *s)
{
	struct pw_cidr c;
	char err[160];

	memset(&c, 0, sizeof(c));
	if (pw_cidr_parse(s, &c, err, sizeof(err))) {
		print_error("cidr '%s': %s\n", s, err);
		fail();
	}
	return c;
}

/* A state that exercises every field and both families. generation makes
 * two samples differ, for telling generations apart after a load. */
static void sample_state(struct pw_state *st, unsigned generation)
{
	static const char *const ban_addrs[] = {
		"203.0.113.7/32", "2001:db8:bad::/48", "198.51.100.0/24",
		"fd00:1::5/128"};
	size_t i;

	memset(st, 0, sizeof(*st));
	st->n_bans = ARRAY_SIZE(ban_addrs);
	st->bans = calloc(st->n_bans, sizeof(*st->bans));
	st->n_history = 2;
	st->history = calloc(st->n_history, sizeof(*st->history));
	st->n_allowed = 2;
	st->allowed = calloc(st->n_allowed, sizeof(*st->allowed));
	assert_true(st->bans && st->history && st->allowed);

	for (i = 0; i < st->n_bans; i++) {
		struct pw_ban_record *b = &st->bans[i];

		b->cidr = cidr(ban_addrs[i]);
		b->origin = (enum pw_ban_origin)(i % PW_ORIGIN_NR);
		snprintf(b->reason, sizeof(b->reason),
			 "gen %u: \"quoted\" / slash \\ tab\t %zu", generation,
			 i);
		b->created_unix_s = NOW_S - 1000 + (int64_t)i;
		/* One ban until lifted, the others expiring later. */
		b->expires_unix_s =
			i == 1 ? 0 : NOW_S + 3600 * (int64_t)(i + 1);
		b->strikes = (unsigned)i + generation;
	}
	st->history[0].key = cidr("203.0.113.7/32");
	st->history[0].strikes = 3;
	st->history[0].last_strike_unix_s = NOW_S - 50;
	st->history[1].key = cidr("2001:db8::1/128");
	st->history[1].strikes = generation;
	st->history[1].last_strike_unix_s = NOW_S - 5000;
	st->allowed[0] = cidr("198.18.7.0/24");
	st->allowed[1] = cidr("fd00:7::/64");
	st->emergency = true;
	st->emergency_until_unix_s = NOW_S + 600;
	st->emergency_since_unix_s = NOW_S - 60;
	st->emergency_uid = 1000;
	st->posture = PW_POSTURE_ELEVATED;
	st->saved_unix_s = NOW_S - (int64_t)generation;
}

static void assert_cidr_equal(const struct pw_cidr *a, const struct pw_cidr *b)
{
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->prefixlen, b->prefixlen);
	assert_memory_equal(a->addr, b->addr, sizeof(a->addr));
}

static void assert_state_equal(const struct pw_state *a,
			       const struct pw_state *b)
{
	size_t i;

	assert_int_equal(a->n_bans, b->n_bans);
	for (i = 0; i < a->n_bans; i++) {
		const struct pw_ban_record *x = &a->bans[i], *y = &b->bans[i];

		assert_cidr_equal(&x->cidr, &y->cidr);
		assert_int_equal(x->origin, y->origin);
		assert_string_equal(x->reason, y->reason);
		assert_int_equal(x->created_unix_s, y->created_unix_s);
		assert_int_equal(x->expires_unix_s, y->expires_unix_s);
		assert_int_equal(x->strikes, y->strikes);
	}
	assert_int_equal(a->n_history, b->n_history);
	for (i = 0; i < a->n_history; i++) {
		assert_cidr_equal(&a->history[i].key, &b->history[i].key);
		assert_int_equal(a->history[i].strikes, b->history[i].strikes);
		assert_int_equal(a->history[i].last_strike_unix_s,
				 b->history[i].last_strike_unix_s);
	}
	assert_int_equal(a->n_allowed, b->n_allowed);
	for (i = 0; i < a->n_allowed; i++)
		assert_cidr_equal(&a->allowed[i], &b->allowed[i]);
	assert_int_equal(a->emergency, b->emergency);
	assert_int_equal(a->emergency_until_unix_s, b->emergency_until_unix_s);
	assert_int_equal(a->emergency_since_unix_s, b->emergency_since_unix_s);
	assert_int_equal(a->emergency_uid, b->emergency_uid);
	assert_int_equal(a->posture, b->posture);
	assert_int_equal(a->saved_unix_s, b->saved_unix_s);
}

/* Write two generations of the file layer: "<name>" = g2, ".prev" = g1. */
static void write_two_generations(const char *dir, const char *g1,
				  const char *g2)
{
	assert_int_equal(pw_state_file_write(dir, STATE, g1, strlen(g1)), 0);
	assert_int_equal(pw_state_file_write(dir, STATE, g2, strlen(g2)), 0);
	assert_read_gives(dir, g2, false);
}

/* --- file layer ---------------------------------------------------------- */

static void test_file_round_trip_and_format(void **ctx)
{
	struct fixture *f = *ctx;
	const char *data = "{\"hello\": \"world\"}\n";
	char expect[128], path[256];
	struct stat st;
	size_t len;
	char *raw;

	assert_int_equal(pw_state_file_write(f->dir, STATE, data, strlen(data)),
			 0);
	assert_read_gives(f->dir, data, false);

	/* The exact bytes the file-top comment of state.c promises. */
	snprintf(expect, sizeof(expect),
		 "peerwall-state 1 %zu %08" PRIx32 "\n%s", strlen(data),
		 crc_of(data, strlen(data)), data);
	raw = read_raw(f->dir, STATE, &len);
	assert_non_null(raw);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(raw, expect, len);
	free(raw);

	path_of(path, sizeof(path), f->dir, STATE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* First write: nothing to rotate. */
	assert_false(exists(f->dir, STATE_PREV));
	assert_int_equal(count_temp_files(f->dir), 0);
}

static void test_file_empty_payload(void **ctx)
{
	struct fixture *f = *ctx;

	assert_int_equal(pw_state_file_write(f->dir, STATE, NULL, 0), 0);
	assert_read_gives(f->dir, "", false);
}

static void test_file_rotation_keeps_previous(void **ctx)
{
	struct fixture *f = *ctx;
	size_t len;
	char *raw;

	write_two_generations(f->dir, "first\n", "second\n");
	raw = read_raw(f->dir, STATE_PREV, &len);
	assert_non_null(raw);
	assert_contains(raw, "\nfirst\n");
	free(raw);
	assert_int_equal(pw_state_file_write(f->dir, STATE, "third\n", 6), 0);
	raw = read_raw(f->dir, STATE_PREV, &len);
	assert_non_null(raw);
	assert_contains(raw, "\nsecond\n");
	free(raw);
	assert_read_gives(f->dir, "third\n", false);
}

/* The window between the two renames of a write: only ".prev" exists. */
static void test_file_newest_missing_uses_prev(void **ctx)
{
	struct fixture *f = *ctx;
	char path[256], why[WHY_BYTES];
	bool used_prev;
	char *data;
	size_t len;

	write_two_generations(f->dir, "old\n", "new\n");
	path_of(path, sizeof(path), f->dir, STATE);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_string_equal(why, STATE ": missing");
	assert_memory_equal(data, "old\n", 4);
	free(data);
}

static void test_file_enoent(void **ctx)
{
	struct fixture *f = *ctx;
	char sub[128], why[WHY_BYTES];
	bool used_prev = true;
	char *data = (char *)"x";
	size_t len = 1;

	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 -ENOENT);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_false(used_prev);

	/* A state directory that does not exist yet is "no state", too. */
	path_of(sub, sizeof(sub), f->dir, "never-created");
	assert_int_equal(pw_state_file_read(sub, STATE, &data, &len, &used_prev,
					    why, sizeof(why)),
			 -ENOENT);
	assert_false(exists(f->dir, "never-created"));
}

static void test_file_missing_dir_created(void **ctx)
{
	struct fixture *f = *ctx;
	char sub[128];
	struct stat st;

	path_of(sub, sizeof(sub), f->dir, "var-lib-peerwall");
	assert_int_equal(pw_state_file_write(sub, STATE, "x\n", 2), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_read_gives(sub, "x\n", false);
}

static void test_file_bad_names(void **ctx)
{
	static const char *const names[] = {"", ".", "..", "a/b", "/abs"};
	struct fixture *f = *ctx;
	char why[WHY_BYTES];
	bool used_prev;
	char *data;
	size_t len, i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		assert_int_equal(pw_state_file_write(f->dir, names[i], "x", 1),
				 -EINVAL);
		assert_int_equal(pw_state_file_read(f->dir, names[i], &data,
						    &len, &used_prev, why,
						    sizeof(why)),
				 -EINVAL);
	}
	/* No room for ".<name>.tmp.<pid>" within NAME_MAX. */
	{
		char longname[300];

		memset(longname, 'n', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(pw_state_file_write(f->dir, longname, "x", 1),
				 -ENAMETOOLONG);
	}
	assert_int_equal(count_temp_files(f->dir), 0);
}

/* Cutting the newest file anywhere, including inside the header and at
 * 0 bytes, must fall back to the previous generation; without one, the
 * read fails with -EBADMSG. Driven through pw_state_load, the real path. */
static void test_truncated_at_every_length(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_state g1, g2, got;
	char why[WHY_BYTES], path[256];
	size_t size, cut;
	bool used_prev;
	char *image;

	sample_state(&g1, 1);
	sample_state(&g2, 2);
	assert_int_equal(pw_state_save(f->dir, &g1), 0);
	assert_int_equal(pw_state_save(f->dir, &g2), 0);
	image = read_raw(f->dir, STATE, &size);
	assert_non_null(image);

	for (cut = 0; cut <= size; cut++) {
		write_raw(f->dir, STATE, image, cut);
		assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev,
					       why, sizeof(why)),
				 0);
		if (cut == size) {
			assert_false(used_prev);
			assert_string_equal(why, "");
			assert_state_equal(&got, &g2);
		} else {
			if (!used_prev) {
				print_error("cut at %zu of %zu not detected\n",
					    cut, size);
				fail();
			}
			assert_contains(why, STATE ": ");
			assert_state_equal(&got, &g1);
		}
		pw_state_free(&got);
	}

	/* Without a previous generation nothing verifies. */
	path_of(path, sizeof(path), f->dir, STATE_PREV);
	assert_int_equal(unlink(path), 0);
	for (cut = 0; cut < size; cut++) {
		write_raw(f->dir, STATE, image, cut);
		assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev,
					       why, sizeof(why)),
				 -EBADMSG);
		assert_int_equal(got.n_bans, 0);
		assert_null(got.bans);
		assert_contains(why, STATE_PREV ": missing");
	}
	free(image);
	pw_state_free(&g1);
	pw_state_free(&g2);
}

/* Every single-bit error anywhere in the newest file (header, length,
 * checksum digits, payload) is caught by the file layer itself. */
static void test_bit_flips_detected(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_state g1, g2;
	char *json1, *json2, *image, *data;
	size_t len1, len2, size, pos;
	char why[WHY_BYTES];
	bool used_prev;
	int bit;

	sample_state(&g1, 1);
	sample_state(&g2, 2);
	assert_int_equal(pw_state_encode(&g1, &json1, &len1), 0);
	assert_int_equal(pw_state_encode(&g2, &json2, &len2), 0);
	assert_int_equal(pw_state_file_write(f->dir, STATE, json1, len1), 0);
	assert_int_equal(pw_state_file_write(f->dir, STATE, json2, len2), 0);
	image = read_raw(f->dir, STATE, &size);
	assert_non_null(image);

	for (pos = 0; pos < size; pos++) {
		for (bit = 0; bit < 8; bit++) {
			image[pos] ^= (char)(1u << bit);
			write_raw(f->dir, STATE, image, size);
			image[pos] ^= (char)(1u << bit);
			assert_int_equal(pw_state_file_read(
						 f->dir, STATE, &data, &len1,
						 &used_prev, why, sizeof(why)),
					 0);
			if (!used_prev) {
				print_error("flip of bit %d at byte %zu of %zu "
					    "not detected\n",
					    bit, pos, size);
				fail();
			}
			assert_int_equal(len1, strlen(json1));
			assert_memory_equal(data, json1, len1);
			assert_contains(why, STATE ": ");
			free(data);
		}
	}
	free(image);
	free(json1);
	free(json2);
	pw_state_free(&g1);
	pw_state_free(&g2);
}

/* Header defects. The template's {len} and {crc} become the right length
 * and lowercase checksum of the payload, {CRC} the uppercase one, so that
 * each row has exactly the one defect it names. */
struct header_row {
	const char *desc;
	const char *tmpl;
	const char *payload;
	const char *why; /* expected in the reason */
};

#define PAYLOAD "{\"bans\": []}\n"

static const struct header_row header_rows[] = {
	{"empty file", "", "", "empty file"},
	{"not ours", "hello world\n", PAYLOAD, "not a peerwall state file"},
	{"magic case", "Peerwall-state 1 {len} {crc}\n", PAYLOAD,
	 "not a peerwall state file"},
	{"leading space", " peerwall-state 1 {len} {crc}\n", PAYLOAD,
	 "not a peerwall state file"},
	{"no newline at all", "peerwall-state 1 {len} {crc}", "{}",
	 "no header line"},
	{"header too long",
	 "peerwall-state 1 {len} {crc}                    "
	 "                                 \n",
	 PAYLOAD, "no header line"},
	{"version 2", "peerwall-state 2 {len} {crc}\n", PAYLOAD,
	 "unsupported version 2"},
	{"version 0", "peerwall-state 0 {len} {crc}\n", PAYLOAD,
	 "unsupported version 0"},
	{"version leading zero", "peerwall-state 01 {len} {crc}\n", PAYLOAD,
	 "version field"},
	{"version missing", "peerwall-state  {len} {crc}\n", PAYLOAD,
	 "version field"},
	{"double space", "peerwall-state  1 {len} {crc}\n", PAYLOAD,
	 "version field"},
	{"tab separator", "peerwall-state\t1 {len} {crc}\n", PAYLOAD,
	 "version field"},
	{"length leading zero", "peerwall-state 1 0{len} {crc}\n", PAYLOAD,
	 "length field"},
	{"length with sign", "peerwall-state 1 +{len} {crc}\n", PAYLOAD,
	 "length field"},
	{"length negative", "peerwall-state 1 -1 {crc}\n", PAYLOAD,
	 "length field"},
	{"length 11 digits", "peerwall-state 1 10000000000 {crc}\n", PAYLOAD,
	 "length field"},
	{"length in hex", "peerwall-state 1 0x10 {crc}\n", PAYLOAD,
	 "length field"},
	{"length missing", "peerwall-state 1 {crc}\n", PAYLOAD, "length field"},
	/* Allocation follows the file, not this field (ASan would see it). */
	{"length huge", "peerwall-state 1 4294967295 {crc}\n", PAYLOAD,
	 "truncated: header says 4294967295 bytes, 13 present"},
	{"checksum uppercase", "peerwall-state 1 {len} {CRC}\n", PAYLOAD,
	 "checksum field"},
	{"checksum short", "peerwall-state 1 {len} abc\n", PAYLOAD,
	 "checksum field"},
	{"checksum long", "peerwall-state 1 {len} {crc}0\n", PAYLOAD,
	 "checksum field"},
	{"checksum not hex", "peerwall-state 1 {len} ghijklmn\n", PAYLOAD,
	 "checksum field"},
	{"checksum missing", "peerwall-state 1 {len}\n", PAYLOAD,
	 "length field"},
	{"trailing space", "peerwall-state 1 {len} {crc} \n", PAYLOAD,
	 "checksum field"},
	{"CRLF", "peerwall-state 1 {len} {crc}\r\n", PAYLOAD, "checksum field"},
	{"NUL in header", "peerwall-state 1\0 {len} {crc}\n", PAYLOAD,
	 "version field"},
	{"wrong checksum", "peerwall-state 1 {len} 00000000\n", PAYLOAD,
	 "checksum mismatch (file 00000000, computed "},
};

/* Expand tmpl (which may contain NULs, hence tmpl_len) into out. */
static size_t expand_header(const char *tmpl, size_t tmpl_len,
			    const char *payload, char *out, size_t size)
{
	uint32_t crc = crc_of(payload, strlen(payload));
	size_t n = 0, i = 0;
	char buf[32];

	while (i < tmpl_len) {
		const char *sub = NULL;
		size_t skip = 1;

		if (!strncmp(tmpl + i, "{len}", 5)) {
			snprintf(buf, sizeof(buf), "%zu", strlen(payload));
			sub = buf;
			skip = 5;
		} else if (!strncmp(tmpl + i, "{crc}", 5)) {
			snprintf(buf, sizeof(buf), "%08" PRIx32, crc);
			sub = buf;
			skip = 5;
		} else if (!strncmp(tmpl + i, "{CRC}", 5)) {
			snprintf(buf, sizeof(buf), "%08" PRIX32, crc);
			sub = buf;
			skip = 5;
		}
		if (sub) {
			assert_true(n + strlen(sub) < size);
			memcpy(out + n, sub, strlen(sub));
			n += strlen(sub);
		} else {
			assert_true(n + 1 < size);
			out[n++] = tmpl[i];
		}
		i += skip;
	}
	assert_true(n + strlen(payload) < size);
	memcpy(out + n, payload, strlen(payload));
	return n + strlen(payload);
}

static void test_garbage_header(void **ctx)
{
	struct fixture *f = *ctx;
	char image[256], why[WHY_BYTES], crc_hex[16];
	bool used_prev;
	size_t i, n, len;
	char *data;

	/* The uppercase row only tests something if the checksum has a
	 * letter in it. */
	snprintf(crc_hex, sizeof(crc_hex), "%08" PRIx32,
		 crc_of(PAYLOAD, strlen(PAYLOAD)));
	assert_true(strpbrk(crc_hex, "abcdef") != NULL);

	for (i = 0; i < ARRAY_SIZE(header_rows); i++) {
		const struct header_row *r = &header_rows[i];
		/* "NUL in header" embeds a NUL: measure up to the newline. */
		size_t tmpl_len = strlen(r->tmpl);

		if (!strcmp(r->desc, "NUL in header"))
			tmpl_len = strlen(r->tmpl) + 1 +
				   strlen(r->tmpl + strlen(r->tmpl) + 1);
		write_two_generations(f->dir, "good\n", "replaced below\n");
		n = expand_header(r->tmpl, tmpl_len, r->payload, image,
				  sizeof(image));
		write_raw(f->dir, STATE, image, n);
		assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
						    &used_prev, why,
						    sizeof(why)),
				 0);
		if (!used_prev || strncmp(why, STATE ": ", strlen(STATE) + 2) ||
		    !strstr(why, r->why)) {
			print_error("row '%s': used_prev %d, why \"%s\", "
				    "expected \"%s\"\n",
				    r->desc, used_prev, why, r->why);
			fail();
		}
		assert_memory_equal(data, "good\n", 5);
		free(data);
	}
}

static void test_length_mismatch(void **ctx)
{
	struct fixture *f = *ctx;
	char image[128], why[WHY_BYTES], expect[200];
	const char *payload = "abcd";
	bool used_prev;
	char *data;
	size_t len;
	int n;

	/* Header promises more than the file has. */
	write_two_generations(f->dir, "good\n", "newer\n");
	n = snprintf(image, sizeof(image),
		     "peerwall-state 1 5 %08" PRIx32 "\n%s", crc_of(payload, 4),
		     payload);
	write_raw(f->dir, STATE, image, (size_t)n);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_string_equal(why, STATE
			    ": truncated: header says 5 bytes, 4 present");
	free(data);

	/* Fewer: bytes appended after a complete, checksummed payload. */
	n = snprintf(image, sizeof(image),
		     "peerwall-state 1 3 %08" PRIx32 "\n%s", crc_of(payload, 3),
		     payload);
	write_raw(f->dir, STATE, image, (size_t)n);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_string_equal(why, STATE
			    ": trailing data: header says 3 bytes, 4 present");
	free(data);

	/* Exact wording of a checksum failure. */
	n = snprintf(image, sizeof(image), "peerwall-state 1 4 0f0f0f0f\n%s",
		     payload);
	write_raw(f->dir, STATE, image, (size_t)n);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	snprintf(expect, sizeof(expect),
		 STATE ": checksum mismatch (file 0f0f0f0f, computed %08" PRIx32
		       ")",
		 crc_of(payload, 4));
	assert_string_equal(why, expect);
	free(data);
}

static void test_not_a_regular_file(void **ctx)
{
	struct fixture *f = *ctx;
	char path[256], why[WHY_BYTES];
	bool used_prev;
	char *data;
	size_t len;
	int fd;

	write_two_generations(f->dir, "good\n", "newer\n");
	path_of(path, sizeof(path), f->dir, STATE);

	/* A FIFO must neither hang the reader nor be read. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_string_equal(why, STATE ": not a regular file");
	free(data);

	/* Over the size cap: refused before anything is allocated or read
	 * (sparse, so the test costs no disk). */
	assert_int_equal(unlink(path), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(257u << 20)), 0);
	close(fd);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_contains(why, "over the 268435456-byte limit");
	free(data);
}

/* A damaged newest generation is replaced, not rotated: the good ".prev"
 * must survive the next write. */
static void test_corrupt_current_does_not_replace_prev(void **ctx)
{
	struct fixture *f = *ctx;
	char *g1_image, *prev_image, *cur;
	size_t g1_len, prev_len, cur_len;

	assert_int_equal(pw_state_file_write(f->dir, STATE, "gen1\n", 5), 0);
	g1_image = read_raw(f->dir, STATE, &g1_len);
	assert_non_null(g1_image);
	assert_int_equal(pw_state_file_write(f->dir, STATE, "gen2\n", 5), 0);

	/* gen2 rots on disk. */
	cur = read_raw(f->dir, STATE, &cur_len);
	assert_non_null(cur);
	cur[cur_len - 2] ^= 0x01;
	write_raw(f->dir, STATE, cur, cur_len);
	free(cur);
	assert_read_gives(f->dir, "gen1\n", true);

	assert_int_equal(pw_state_file_write(f->dir, STATE, "gen3\n", 5), 0);
	assert_read_gives(f->dir, "gen3\n", false);
	prev_image = read_raw(f->dir, STATE_PREV, &prev_len);
	assert_non_null(prev_image);
	assert_int_equal(prev_len, g1_len);
	assert_memory_equal(prev_image, g1_image, g1_len);
	free(prev_image);

	/* The next write rotates normally again. */
	assert_int_equal(pw_state_file_write(f->dir, STATE, "gen4\n", 5), 0);
	prev_image = read_raw(f->dir, STATE_PREV, &prev_len);
	assert_non_null(prev_image);
	assert_contains(prev_image, "\ngen3\n");
	free(prev_image);
	free(g1_image);
	assert_int_equal(count_temp_files(f->dir), 0);
}

static void test_corrupt_current_without_prev_is_not_rotated(void **ctx)
{
	struct fixture *f = *ctx;

	write_raw(f->dir, STATE, "garbage\n", 8);
	assert_int_equal(pw_state_file_write(f->dir, STATE, "good\n", 5), 0);
	assert_false(exists(f->dir, STATE_PREV));
	assert_read_gives(f->dir, "good\n", false);
}

/* Failures after the temp file exists must remove it, and leave the
 * existing generations as they were. */
static void test_temp_file_never_left_behind(void **ctx)
{
	struct fixture *f = *ctx;
	char path[256], stale[64], big[8192];
	struct rlimit old, small;
	void (*old_handler)(int);
	char *before, *after;
	size_t before_len, after_len;

	write_two_generations(f->dir, "one\n", "two\n");
	assert_int_equal(count_temp_files(f->dir), 0);
	before = read_raw(f->dir, STATE, &before_len);
	assert_non_null(before);

	/* write(2) fails with EFBIG midway (file size limit). */
	memset(big, 'b', sizeof(big));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 4096;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(pw_state_file_write(f->dir, STATE, big, sizeof(big)),
			 -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(count_temp_files(f->dir), 0);
	after = read_raw(f->dir, STATE, &after_len);
	assert_non_null(after);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	free(before);
	assert_read_gives(f->dir, "two\n", false);

	/* The final rename fails: "<name>" is a non-empty directory. */
	path_of(path, sizeof(path), f->dir, STATE);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	write_raw(path, "occupied", "x", 1);
	assert_true(pw_state_file_write(f->dir, STATE, "three\n", 6) < 0);
	assert_int_equal(count_temp_files(f->dir), 0);
	assert_read_gives(f->dir, "one\n", true);
	assert_int_equal(nftw(path, rm_entry, 4, FTW_DEPTH | FTW_PHYS), 0);

	/* Too large: refused before anything is created. */
	assert_int_equal(
		pw_state_file_write(f->dir, STATE, big, (size_t)256 << 20),
		-EFBIG);
	assert_int_equal(count_temp_files(f->dir), 0);

	/* A temp file left by an earlier life of our pid is replaced. */
	snprintf(stale, sizeof(stale), "." STATE ".tmp.%ld", (long)getpid());
	write_raw(f->dir, stale, "stale", 5);
	assert_int_equal(pw_state_file_write(f->dir, STATE, "four\n", 5), 0);
	assert_int_equal(count_temp_files(f->dir), 0);
	assert_read_gives(f->dir, "four\n", false);
}

/* --- JSON and load/save ------------------------------------------------ */

static void test_encode_decode_round_trip(void **ctx)
{
	struct pw_state st, got;
	char *json, *again, why[WHY_BYTES];
	size_t len, again_len;

	(void)ctx;
	sample_state(&st, 1);
	assert_int_equal(pw_state_encode(&st, &json, &len), 0);
	assert_int_equal(strlen(json), len);
	assert_int_equal(json[len - 1], '\n');
	/* CIDRs are written as operators type them, not "\/"-escaped. */
	assert_contains(json, "\"198.18.7.0/24\"");
	assert_contains(json, "\"expires\": null");
	assert_int_equal(
		pw_state_decode(json, len, NOW_S, &got, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_state_equal(&got, &st);

	/* Stable: decoding and re-encoding gives the same bytes. */
	assert_int_equal(pw_state_encode(&got, &again, &again_len), 0);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, json, len);
	free(again);
	free(json);
	pw_state_free(&got);

	/* The empty state, emergency off. */
	pw_state_free(&st);
	assert_int_equal(st.n_bans, 0);
	assert_int_equal(pw_state_encode(&st, &json, &len), 0);
	assert_contains(json, "\"until\": null");
	assert_int_equal(
		pw_state_decode(json, len, NOW_S, &got, why, sizeof(why)), 0);
	assert_state_equal(&got, &st);
	free(json);
	pw_state_free(&got);
}

static void test_save_load_round_trip(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_state g1, g2, got;
	char why[WHY_BYTES], path[256];
	bool used_prev = true;

	sample_state(&g1, 1);
	sample_state(&g2, 2);
	assert_int_equal(pw_state_save(f->dir, &g1), 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 0);
	assert_false(used_prev);
	assert_string_equal(why, "");
	assert_state_equal(&got, &g1);
	pw_state_free(&got);

	assert_int_equal(pw_state_save(f->dir, &g2), 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 0);
	assert_false(used_prev);
	assert_state_equal(&got, &g2);
	pw_state_free(&got);

	/* The rotated generation is g1. */
	path_of(path, sizeof(path), f->dir, STATE);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_string_equal(why, STATE ": missing");
	assert_state_equal(&got, &g1);
	pw_state_free(&got);
	assert_int_equal(count_temp_files(f->dir), 0);
	pw_state_free(&g1);
	pw_state_free(&g2);
}

static void test_load_enoent(void **ctx)
{
	struct fixture *f = *ctx;
	char why[WHY_BYTES], sub[128];
	struct pw_state got;
	bool used_prev = true;

	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 -ENOENT);
	assert_false(used_prev);
	assert_null(got.bans);
	path_of(sub, sizeof(sub), f->dir, "absent");
	assert_int_equal(
		pw_state_load(sub, NOW_S, &got, &used_prev, why, sizeof(why)),
		-ENOENT);
}

static void test_save_creates_dir(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_state st, got;
	char why[WHY_BYTES], sub[128];
	struct stat sb;
	bool used_prev;

	sample_state(&st, 1);
	path_of(sub, sizeof(sub), f->dir, "state");
	assert_int_equal(pw_state_save(sub, &st), 0);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(
		pw_state_load(sub, NOW_S, &got, &used_prev, why, sizeof(why)),
		0);
	assert_state_equal(&got, &st);
	pw_state_free(&got);
	pw_state_free(&st);
}

static void test_expired_bans_dropped_on_load(void **ctx)
{
	struct fixture *f = *ctx;
	static const int64_t expires[] = {NOW_S - 100, NOW_S, NOW_S + 1, 0,
					  NOW_S - 1};
	struct pw_state st, got;
	char why[WHY_BYTES];
	bool used_prev;
	size_t i;

	memset(&st, 0, sizeof(st));
	st.n_bans = ARRAY_SIZE(expires);
	st.bans = calloc(st.n_bans, sizeof(*st.bans));
	assert_non_null(st.bans);
	for (i = 0; i < st.n_bans; i++) {
		st.bans[i].cidr = cidr("203.0.113.0/24");
		st.bans[i].cidr.addr[3] = 0;
		st.bans[i].cidr.addr[2] = (uint8_t)(100 + i);
		st.bans[i].created_unix_s = NOW_S - 1000;
		st.bans[i].expires_unix_s = expires[i];
		st.bans[i].strikes = (unsigned)i;
	}
	/* An emergency that ended while the agent was down is not restored
	 * either. */
	st.emergency = true;
	st.emergency_until_unix_s = NOW_S;
	st.saved_unix_s = NOW_S - 10;
	assert_int_equal(pw_state_save(f->dir, &st), 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 0);
	assert_false(used_prev);
	/* Kept: expires in one second, and until lifted; order preserved. */
	assert_int_equal(got.n_bans, 2);
	assert_int_equal(got.bans[0].expires_unix_s, NOW_S + 1);
	assert_int_equal(got.bans[0].strikes, 2);
	assert_int_equal(got.bans[1].expires_unix_s, 0);
	assert_int_equal(got.bans[1].strikes, 3);
	assert_false(got.emergency);
	assert_int_equal(got.emergency_until_unix_s, 0);
	pw_state_free(&got);

	/* An emergency until turned off stays on. */
	st.emergency_until_unix_s = 0;
	assert_int_equal(pw_state_save(f->dir, &st), 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 0);
	assert_true(got.emergency);
	pw_state_free(&got);
	pw_state_free(&st);
}

/* The newest file verifies by checksum but is not a state this version
 * accepts: load falls back to ".prev" and says why. */
static void test_load_falls_back_when_newest_does_not_decode(void **ctx)
{
	struct fixture *f = *ctx;
	const char *bad = "{\"version\": 2}\n";
	char why[WHY_BYTES], path[256];
	struct pw_state st, got;
	bool used_prev;

	sample_state(&st, 1);
	assert_int_equal(pw_state_save(f->dir, &st), 0);
	assert_int_equal(pw_state_file_write(f->dir, STATE, bad, strlen(bad)),
			 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 0);
	assert_true(used_prev);
	assert_contains(why, STATE ": ");
	assert_state_equal(&got, &st);
	pw_state_free(&got);

	/* Without a usable ".prev": -EBADMSG, both problems reported. */
	path_of(path, sizeof(path), f->dir, STATE_PREV);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 -EBADMSG);
	assert_contains(why, STATE ": ");
	assert_contains(why, STATE_PREV ": missing");
	assert_null(got.bans);

	/* ".prev" verifies but does not decode either. */
	assert_int_equal(pw_state_file_write(f->dir, STATE, "[]\n", 3), 0);
	assert_int_equal(pw_state_file_write(f->dir, STATE, bad, strlen(bad)),
			 0);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 -EBADMSG);
	assert_contains(why, STATE_PREV ": top level: expected an object");

	/* ".prev" used by the file layer, and it does not decode. */
	write_raw(f->dir, STATE, "junk\n", 5);
	assert_int_equal(pw_state_load(f->dir, NOW_S, &got, &used_prev, why,
				       sizeof(why)),
			 -EBADMSG);
	assert_contains(why, STATE ": bad header: not a peerwall state file");
	assert_contains(why, STATE_PREV ": top level: expected an object");
	pw_state_free(&st);
}

static void test_encode_rejects_what_decode_would(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_state st;
	char *json;
	size_t len;

	sample_state(&st, 1);
	st.posture = PW_POSTURE_NR;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	assert_null(json);
	assert_int_equal(pw_state_save(f->dir, &st), -EINVAL);
	assert_false(exists(f->dir, STATE));
	st.posture = PW_POSTURE_NORMAL;

	st.bans[0].origin = PW_ORIGIN_NR;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	st.bans[0].origin = PW_ORIGIN_AUTO;

	st.bans[0].cidr.addr[3] = 1; /* host bits below /24... */
	st.bans[0].cidr.prefixlen = 24;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	st.bans[0].cidr = cidr("203.0.113.7/32");

	st.allowed[0].family = 0;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	st.allowed[0] = cidr("198.18.7.0/24");

	st.history[0].key.prefixlen = 33;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	st.history[0].key = cidr("203.0.113.7/32");

	st.bans[2].created_unix_s = -1;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	st.bans[2].created_unix_s = NOW_S;

	st.saved_unix_s = INT64_MAX;
	assert_int_equal(pw_state_encode(&st, &json, &len), -EINVAL);
	st.saved_unix_s = NOW_S;

	assert_int_equal(pw_state_encode(&st, &json, &len), 0);
	free(json);
	pw_state_free(&st);
}

/* One valid document, and one row per way of breaking a field. */
#define DOC(ver, saved, posture, emerg, allowed, bans, hist)                   \
	"{\"version\": " ver ", \"saved\": " saved ", \"posture\": " posture   \
	", \"emergency\": " emerg ", \"allowed\": " allowed                    \
	", \"bans\": " bans ", \"history\": " hist "}"
#define BAN(addr, origin, reason, created, expires, strikes)                   \
	"{\"addr\": " addr ", \"origin\": " origin ", \"reason\": " reason     \
	", \"created\": " created ", \"expires\": " expires                    \
	", \"strikes\": " strikes "}"
#define HIST(addr, strikes, last)                                              \
	"{\"addr\": " addr ", \"strikes\": " strikes                           \
	", \"last_strike\": " last "}"

#define V_OK "1"
#define S_OK "1700000000"
#define P_OK "\"normal\""
#define E_OK "{\"on\": true, \"until\": 1800000000}"
#define A_OK "[\"198.18.7.0/24\", \"fd00:7::/64\"]"
#define BAN_OK                                                                 \
	BAN("\"203.0.113.7/32\"", "\"auto\"", "\"syn flood\"", "1699990000",   \
	    "1800000000", "1")
#define B_OK	"[" BAN_OK ", " BAN_OK "]"
#define HIST_OK HIST("\"203.0.113.7\"", "2", "1699999000")
#define H_OK	"[" HIST_OK "]"
#define DOC_OK	DOC(V_OK, S_OK, P_OK, E_OK, A_OK, B_OK, H_OK)

#define R16  "0123456789abcdef"
#define R128 R16 R16 R16 R16 R16 R16 R16 R16

#define BANS(b)	 DOC(V_OK, S_OK, P_OK, E_OK, A_OK, "[" BAN_OK ", " b "]", H_OK)
#define HISTS(h) DOC(V_OK, S_OK, P_OK, E_OK, A_OK, B_OK, "[" HIST_OK ", " h "]")

struct decode_row {
	const char *desc;
	const char *json;
	const char *why;
};

static const struct decode_row decode_rows[] = {
	/* document */
	{"empty", "", "empty document"},
	{"not JSON", "peerwall", "invalid JSON"},
	{"cut short", "{\"version\": 1, \"saved\": 17", "incomplete document"},
	{"trailing garbage", DOC_OK " x", "invalid JSON at offset"},
	{"two documents", DOC_OK DOC_OK, "invalid JSON at offset"},
	{"bare null", "null", "invalid JSON"},
	{"top-level array", "[" DOC_OK "]", "top level: expected an object"},
	{"unknown field",
	 "{\"version\": 1, \"surprise\": 1, \"saved\": 1700000000}",
	 "surprise: unknown field"},
	{"missing history",
	 "{\"version\": 1, \"saved\": 1, \"posture\": \"normal\", "
	 "\"emergency\": " E_OK ", \"allowed\": [], \"bans\": []}",
	 "history: missing"},
	/* version, saved, posture */
	{"version 2", DOC("2", S_OK, P_OK, E_OK, A_OK, B_OK, H_OK),
	 "version: 2 is not supported"},
	{"version string", DOC("\"1\"", S_OK, P_OK, E_OK, A_OK, B_OK, H_OK),
	 "version: expected an integer, got string"},
	{"version float", DOC("1.0", S_OK, P_OK, E_OK, A_OK, B_OK, H_OK),
	 "version: expected an integer, got double"},
	{"saved negative", DOC(V_OK, "-1", P_OK, E_OK, A_OK, B_OK, H_OK),
	 "saved: -1 is not a unix time"},
	{"saved year 10000",
	 DOC(V_OK, "253402300800", P_OK, E_OK, A_OK, B_OK, H_OK),
	 "saved: 253402300800 is not a unix time"},
	{"saved beyond int64",
	 DOC(V_OK, "99999999999999999999", P_OK, E_OK, A_OK, B_OK, H_OK),
	 "saved: 9223372036854775807 is not a unix time"},
	{"saved null", DOC(V_OK, "null", P_OK, E_OK, A_OK, B_OK, H_OK),
	 "saved: expected an integer, got null"},
	{"saved exponent", DOC(V_OK, "1.7e9", P_OK, E_OK, A_OK, B_OK, H_OK),
	 "saved: expected an integer"},
	{"posture unknown",
	 DOC(V_OK, S_OK, "\"panic\"", E_OK, A_OK, B_OK, H_OK),
	 "posture: unknown posture \"panic\""},
	/* Found by tests/fuzz (fuzz_state): the file's own text went into
	 * the reason unescaped, so a damaged file could put control bytes
	 * and line breaks into the log. */
	{"unknown field with a line break",
	 "{\"version\": 1, \"a\\nb\\u0001\": 1}",
	 "a\\x0ab\\x01: unknown field"},
	{"posture with a tab",
	 DOC(V_OK, S_OK, "\"pa\\tnic\"", E_OK, A_OK, B_OK, H_OK),
	 "posture: unknown posture \"pa\\x09nic\""},
	{"bans[1].origin with a control byte",
	 BANS(BAN("\"203.0.113.8\"", "\"ro\\u0001bot\"", "\"x\"", "1", "null",
		  "0")),
	 "bans[1].origin: unknown origin \"ro\\x01bot\""},
	{"posture number", DOC(V_OK, S_OK, "0", E_OK, A_OK, B_OK, H_OK),
	 "posture: expected a string"},
	/* emergency */
	{"emergency bool", DOC(V_OK, S_OK, P_OK, "true", A_OK, B_OK, H_OK),
	 "emergency: expected an object"},
	{"emergency.on string",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": \"yes\", \"until\": null}", A_OK, B_OK,
	     H_OK),
	 "emergency.on: expected true or false"},
	{"emergency.on missing",
	 DOC(V_OK, S_OK, P_OK, "{\"until\": null}", A_OK, B_OK, H_OK),
	 "emergency.on: missing"},
	{"emergency.until zero",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": true, \"until\": 0}", A_OK, B_OK,
	     H_OK),
	 "emergency.until: 0 is not a unix time"},
	{"emergency.until string",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": true, \"until\": \"later\"}", A_OK,
	     B_OK, H_OK),
	 "emergency.until: expected an integer or null"},
	{"emergency.until while off",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": false, \"until\": 1800000000}", A_OK,
	     B_OK, H_OK),
	 "emergency.until: set while emergency is off"},
	{"emergency unknown field",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": false, \"until\": null, \"by\": 1}",
	     A_OK, B_OK, H_OK),
	 "emergency.by: unknown field"},
	{"emergency.since zero",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": true, \"until\": null, \"since\": 0}",
	     A_OK, B_OK, H_OK),
	 "emergency.since: 0 is not a unix time"},
	{"emergency.uid negative",
	 DOC(V_OK, S_OK, P_OK, "{\"on\": true, \"until\": null, \"uid\": -1}",
	     A_OK, B_OK, H_OK),
	 "emergency.uid: -1 out of range"},
	/* allowed */
	{"allowed object", DOC(V_OK, S_OK, P_OK, E_OK, "{}", B_OK, H_OK),
	 "allowed: expected an array"},
	{"allowed[1] host bits",
	 DOC(V_OK, S_OK, P_OK, E_OK, "[\"198.18.7.0/24\", \"198.18.7.1/24\"]",
	     B_OK, H_OK),
	 "allowed[1]: "},
	{"allowed[0] number", DOC(V_OK, S_OK, P_OK, E_OK, "[5]", B_OK, H_OK),
	 "allowed[0]: expected a string"},
	{"allowed[0] NUL",
	 DOC(V_OK, S_OK, P_OK, E_OK, "[\"198.18.7.0/24\\u0000\"]", B_OK, H_OK),
	 "allowed[0]: contains a NUL"},
	/* bans: bans[0] is valid, each row breaks bans[1] */
	{"bans not array", DOC(V_OK, S_OK, P_OK, E_OK, A_OK, "null", H_OK),
	 "bans: expected an array, got null"},
	{"bans[1] not object", BANS("\"203.0.113.8\""),
	 "bans[1]: expected an object, got string"},
	{"bans[1].addr invalid",
	 BANS(BAN("\"300.1.1.1\"", "\"auto\"", "\"x\"", "1", "null", "0")),
	 "bans[1].addr: "},
	{"bans[1].addr host bits",
	 BANS(BAN("\"fd00::1/64\"", "\"auto\"", "\"x\"", "1", "null", "0")),
	 "bans[1].addr: "},
	{"bans[1].addr number",
	 BANS(BAN("7", "\"auto\"", "\"x\"", "1", "null", "0")),
	 "bans[1].addr: expected a string"},
	{"bans[1].addr missing",
	 BANS("{\"origin\": \"auto\", \"reason\": \"x\", \"created\": 1, "
	      "\"expires\": null, \"strikes\": 0}"),
	 "bans[1].addr: missing"},
	{"bans[1].origin unknown",
	 BANS(BAN("\"203.0.113.8\"", "\"robot\"", "\"x\"", "1", "null", "0")),
	 "bans[1].origin: unknown origin \"robot\""},
	{"bans[1].origin null",
	 BANS(BAN("\"203.0.113.8\"", "null", "\"x\"", "1", "null", "0")),
	 "bans[1].origin: expected a string, got null"},
	{"bans[1].reason too long",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"" R128 "\"", "1", "null",
		  "0")),
	 "bans[1].reason: 128 characters, at most 127"},
	{"bans[1].reason NUL",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"a\\u0000b\"", "1", "null",
		  "0")),
	 "bans[1].reason: contains a NUL"},
	{"bans[1].reason number",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "3", "1", "null", "0")),
	 "bans[1].reason: expected a string"},
	{"bans[1].created negative",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "-5", "null", "0")),
	 "bans[1].created: -5 is not a unix time"},
	{"bans[1].created null",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "null", "null", "0")),
	 "bans[1].created: expected an integer, got null"},
	{"bans[1].expires zero",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "1", "0", "0")),
	 "bans[1].expires: 0 is not a unix time"},
	{"bans[1].expires string",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "1", "\"never\"",
		  "0")),
	 "bans[1].expires: expected an integer or null"},
	{"bans[1].strikes negative",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "1", "null", "-1")),
	 "bans[1].strikes: -1 out of range"},
	{"bans[1].strikes over 32 bits",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "1", "null",
		  "4294967296")),
	 "bans[1].strikes: 4294967296 out of range"},
	{"bans[1].strikes fraction",
	 BANS(BAN("\"203.0.113.8\"", "\"auto\"", "\"x\"", "1", "null", "1.5")),
	 "bans[1].strikes: expected an integer"},
	{"bans[1] unknown field",
	 BANS("{\"addr\": \"203.0.113.8\", \"origin\": \"auto\", \"reason\": "
	      "\"x\", \"created\": 1, \"expires\": null, \"strikes\": 0, "
	      "\"note\": 1}"),
	 "bans[1].note: unknown field"},
	/* A ban that would be dropped as expired still has to be valid. */
	{"expired bans[1] with bad origin",
	 BANS(BAN("\"203.0.113.8\"", "\"robot\"", "\"x\"", "1", "2", "0")),
	 "bans[1].origin: unknown origin"},
	/* history: history[0] is valid, each row breaks history[1] */
	{"history not array", DOC(V_OK, S_OK, P_OK, E_OK, A_OK, B_OK, "7"),
	 "history: expected an array"},
	{"history[1] not object", HISTS("[]"),
	 "history[1]: expected an object, got array"},
	{"history[1].addr host bits", HISTS(HIST("\"fd00::1/64\"", "1", "1")),
	 "history[1].addr: "},
	{"history[1].strikes string", HISTS(HIST("\"fd00::1\"", "\"3\"", "1")),
	 "history[1].strikes: expected an integer"},
	{"history[1].strikes negative", HISTS(HIST("\"fd00::1\"", "-3", "1")),
	 "history[1].strikes: -3 out of range"},
	{"history[1].last_strike null", HISTS(HIST("\"fd00::1\"", "1", "null")),
	 "history[1].last_strike: expected an integer, got null"},
	{"history[1] unknown field",
	 HISTS("{\"addr\": \"fd00::1\", \"strikes\": 1, \"last_strike\": 1, "
	       "\"why\": 1}"),
	 "history[1].why: unknown field"},
};

static void test_decode_rejects_each_invalid_field(void **ctx)
{
	char why[WHY_BYTES];
	struct pw_state got;
	size_t i;

	(void)ctx;
	/* The base of every row is itself valid. */
	assert_int_equal(pw_state_decode(DOC_OK, strlen(DOC_OK), NOW_S, &got,
					 why, sizeof(why)),
			 0);
	assert_int_equal(got.n_bans, 2);
	assert_int_equal(got.n_history, 1);
	assert_int_equal(got.n_allowed, 2);
	assert_true(got.emergency);
	assert_int_equal(got.posture, PW_POSTURE_NORMAL);
	pw_state_free(&got);

	for (i = 0; i < ARRAY_SIZE(decode_rows); i++) {
		const struct decode_row *r = &decode_rows[i];
		int ret = pw_state_decode(r->json, strlen(r->json), NOW_S, &got,
					  why, sizeof(why));

		if (ret != -EBADMSG || !strstr(why, r->why)) {
			print_error("row '%s': ret %d, why \"%s\", expected "
				    "\"%s\"\n",
				    r->desc, ret, why, r->why);
			fail();
		}
		/* One printable line: the reason goes to the log. */
		for (const char *c = why; *c; c++)
			if (*c < 0x20 || *c > 0x7e) {
				print_error("row '%s': byte 0x%02x in why\n",
					    r->desc, (unsigned char)*c);
				fail();
			}
		/* Failing whole: nothing half-decoded is handed out. */
		assert_null(got.bans);
		assert_null(got.history);
		assert_null(got.allowed);
		assert_int_equal(got.n_bans + got.n_history + got.n_allowed, 0);
	}
}

static void test_decode_rejects_nul_byte(void **ctx)
{
	static const char doc[] = "{\"version\": 1}\0 {}";
	char why[WHY_BYTES];
	struct pw_state got;

	(void)ctx;
	assert_int_equal(pw_state_decode(doc, sizeof(doc) - 1, NOW_S, &got, why,
					 sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "NUL byte at offset 14");
}

/* A short why buffer is truncated, never overrun (ASan watches). */
static void test_short_why_buffer(void **ctx)
{
	struct fixture *f = *ctx;
	char why[8];
	bool used_prev;
	char *data;
	size_t len;

	write_two_generations(f->dir, "good\n", "newer\n");
	write_raw(f->dir, STATE, "junk", 4);
	assert_int_equal(pw_state_file_read(f->dir, STATE, &data, &len,
					    &used_prev, why, sizeof(why)),
			 0);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	free(data);
	assert_int_equal(
		pw_state_file_read(f->dir, STATE, &data, &len, NULL, NULL, 0),
		0);
	free(data);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_file_round_trip_and_format),
		T(test_file_empty_payload),
		T(test_file_rotation_keeps_previous),
		T(test_file_newest_missing_uses_prev),
		T(test_file_enoent),
		T(test_file_missing_dir_created),
		T(test_file_bad_names),
		T(test_truncated_at_every_length),
		T(test_bit_flips_detected),
		T(test_garbage_header),
		T(test_length_mismatch),
		T(test_not_a_regular_file),
		T(test_corrupt_current_does_not_replace_prev),
		T(test_corrupt_current_without_prev_is_not_rotated),
		T(test_temp_file_never_left_behind),
		T(test_encode_decode_round_trip),
		T(test_save_load_round_trip),
		T(test_load_enoent),
		T(test_save_creates_dir),
		T(test_expired_bans_dropped_on_load),
		T(test_load_falls_back_when_newest_does_not_decode),
		T(test_encode_rejects_what_decode_would),
		T(test_decode_rejects_each_invalid_field),
		T(test_decode_rejects_nul_byte),
		T(test_short_why_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
