/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * state.h - what survives a restart: active bans and offender history,
 * trusted CIDRs added at runtime, emergency mode.
 *
 * A state file is written atomically (temp file, fsync, rename, fsync of
 * the directory) with a checksum, and the previous generation is kept as
 * "<name>.prev". On load a truncated, bit-flipped or unparsable file is
 * detected and the previous generation used; the agent never starts from
 * state it could not verify.
 *
 * Layout on disk: one line "peerwall-state 1 <len> <crc32-hex>\n" then
 * <len> bytes of JSON. <crc32-hex> is zlib's crc32() of the JSON (plain
 * CRC-32, not CRC32C) as 8 lowercase hex digits.
 */
#ifndef PW_STATE_H
#define PW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "banlist.h"
#include "cidr.h"
#include "score.h"

struct pw_state {
	struct pw_ban_record *bans;
	size_t n_bans;
	struct pw_history_entry *history;
	size_t n_history;
	struct pw_cidr *allowed; /* trusted CIDRs added with `allow add` */
	size_t n_allowed;
	bool emergency;
	int64_t emergency_until_unix_s; /* 0 = until turned off */
	int64_t emergency_since_unix_s; /* 0 = unknown */
	uint32_t emergency_uid;		/* who turned it on / extended it */
	int posture;			/* enum pw_posture */
	int64_t saved_unix_s;
};

/* Generic layer: checksummed, atomic, two generations. */
int pw_state_file_write(const char *dir, const char *name, const void *data,
			size_t len);
/* Reads `name`, or `name.prev` when `name` fails verification. *used_prev
 * tells which; *why (if not NULL) receives why the newest failed. Returns
 * 0 (data malloc'd, caller frees), -ENOENT when neither exists, -EBADMSG
 * when none verifies. */
int pw_state_file_read(const char *dir, const char *name, char **data,
		       size_t *len, bool *used_prev, char *why, size_t whylen);

/* Serialisation of struct pw_state to and from JSON text. Expired bans are
 * dropped on decode (now_unix_s). Decode validates every field (CIDRs,
 * ranges) and fails whole on any error: -EBADMSG with a reason. */
int pw_state_encode(const struct pw_state *st, char **json, size_t *len);
int pw_state_decode(const char *json, size_t len, int64_t now_unix_s,
		    struct pw_state *out, char *why, size_t whylen);
void pw_state_free(struct pw_state *st);

/* Both together: "state.json" in dir. */
int pw_state_save(const char *dir, const struct pw_state *st);
int pw_state_load(const char *dir, int64_t now_unix_s, struct pw_state *out,
		  bool *used_prev, char *why, size_t whylen);

#endif /* PW_STATE_H */
