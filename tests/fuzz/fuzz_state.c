// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_state.c - the state file, both layers: pw_state_decode() on
 * arbitrary JSON, and the checksummed reader under pw_state_load() on
 * arbitrary files in a private temp directory.
 *
 * The first input byte picks the mode (low two bits), the rest is the data:
 *   0  decode the data as the JSON payload;
 *   1  the data is "state.json" byte for byte (header, checksum, all);
 *   2  the data is the payload, behind a correct header and checksum, so
 *      the JSON decoder is reached through the file reader;
 *   3  the data up to the first "\n--\n" is "state.json" as is, the rest
 *      the payload of a correct "state.json.prev": the fallback path.
 *
 * Properties: never a crash or leak; a decoded state encodes and decodes
 * again to the same counts and flags (the agent saves what it restored);
 * failures say why in one printable line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include <zlib.h>

#include "fuzz_util.h"
#include "state.h"

#define NOW_UNIX_S 1700000000LL
#define STATE_NAME "state.json"
#define PREV_NAME  "state.json.prev"
#define SPLIT	   "\n--\n"

static char dir[64];

static void rm_dir(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, STATE_NAME);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", dir, PREV_NAME);
	unlink(p);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	snprintf(dir, sizeof(dir), "/tmp/pw-fuzz-state-%d-XXXXXX", getpid());
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(rm_dir);
	return 0;
}

static void put(const char *name, const void *hdr, size_t hlen,
		const void *data, size_t len)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (hlen && write(fd, hdr, hlen) != (ssize_t)hlen) ||
	    (len && write(fd, data, len) != (ssize_t)len)) {
		perror(p);
		abort();
	}
	close(fd);
}

/* A file with a header that verifies. */
static void put_good(const char *name, const uint8_t *json, size_t len)
{
	char hdr[64];
	unsigned long crc = crc32(0L, json, (uInt)len);
	int n = snprintf(hdr, sizeof(hdr), "peerwall-state 1 %zu %08lx\n", len,
			 crc);

	put(name, hdr, (size_t)n, json, len);
}

static void check_state(const struct pw_state *st)
{
	struct pw_state back;
	char why[256] = "";
	char *json;
	size_t len;

	if (pw_state_encode(st, &json, &len))
		fz_fail("state: a decoded state does not encode");
	if (pw_state_decode(json, len, NOW_UNIX_S, &back, why, sizeof(why)))
		fz_fail("state: own encoding does not decode: %s", why);
	if (back.n_bans != st->n_bans || back.n_history != st->n_history ||
	    back.n_allowed != st->n_allowed ||
	    back.emergency != st->emergency ||
	    back.emergency_until_unix_s != st->emergency_until_unix_s ||
	    back.posture != st->posture)
		fz_fail("state: changed through encode/decode:\n%s", json);
	pw_state_free(&back);
	free(json);
}

static void load(void)
{
	struct pw_state st;
	char why[512] = "";
	bool used_prev;
	int err;

	err = pw_state_load(dir, NOW_UNIX_S, &st, &used_prev, why, sizeof(why));
	if (err == 0) {
		check_state(&st);
		pw_state_free(&st);
	} else if (err != -ENOENT) {
		fz_check_msg("state load", why, sizeof(why));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_state st;
	char why[256] = "", p[128];
	const uint8_t *split;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	data++;
	size--;
	snprintf(p, sizeof(p), "%s/%s", dir, STATE_NAME);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", dir, PREV_NAME);
	unlink(p);
	switch (mode) {
	case 0:
		if (pw_state_decode((const char *)data, size, NOW_UNIX_S, &st,
				    why, sizeof(why)) == 0) {
			check_state(&st);
			pw_state_free(&st);
		} else {
			fz_check_msg("state decode", why, sizeof(why));
		}
		return 0;
	case 1:
		put(STATE_NAME, NULL, 0, data, size);
		break;
	case 2:
		put_good(STATE_NAME, data, size);
		break;
	case 3:
		split = memmem(data, size, SPLIT, strlen(SPLIT));
		if (!split) {
			put(STATE_NAME, NULL, 0, data, size);
			break;
		}
		put(STATE_NAME, NULL, 0, data, (size_t)(split - data));
		split += strlen(SPLIT);
		put_good(PREV_NAME, split, size - (size_t)(split - data));
		break;
	}
	load();
	return 0;
}
