/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * banlist.h - ban records and the export/import formats operators move
 * between hosts: json, csv, txt, nft (an `nft -f` file) and bitcoin (Bitcoin
 * Core's banlist.json layout) out; txt and json in. Pure: formats to and
 * parses from memory buffers; the caller does the file I/O.
 */
#ifndef PW_BANLIST_H
#define PW_BANLIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"

#define PW_BAN_REASON_MAX 127

enum pw_ban_origin {
	PW_ORIGIN_AUTO = 0, /* the scoring engine */
	PW_ORIGIN_MANUAL,   /* peerwallctl ban */
	PW_ORIGIN_IMPORT,   /* peerwallctl import */
	PW_ORIGIN_CONFIG,   /* bans = [...] in the config */
	PW_ORIGIN_NR,
};

struct pw_ban_record {
	struct pw_cidr cidr;
	enum pw_ban_origin origin;
	char reason[PW_BAN_REASON_MAX + 1];
	int64_t created_unix_s;
	int64_t expires_unix_s; /* 0 = until lifted */
	unsigned strikes;
};

enum pw_banlist_format {
	PW_BANLIST_JSON = 0,
	PW_BANLIST_CSV,
	PW_BANLIST_TXT,
	PW_BANLIST_NFT,
	PW_BANLIST_BITCOIN,
};

const char *pw_ban_origin_name(enum pw_ban_origin o);
int pw_ban_origin_parse(const char *s, enum pw_ban_origin *out);
int pw_banlist_format_parse(const char *s, enum pw_banlist_format *out);

/* Write n records in a format to f. now_unix_s turns expiries into the
 * relative timeouts nft and bitcoin want. nft output: elements for sets
 * named "banned_v4" / "banned_v6" in table `inet peerwall` (flags interval,
 * timeout), created if absent. 0 or -errno. */
int pw_banlist_write(FILE *f, enum pw_banlist_format fmt,
		     const struct pw_ban_record *recs, size_t n,
		     int64_t now_unix_s);

/* One problem found while importing: line (1-based; for json the record's
 * index + 1; 0 = the file as a whole) and what is wrong. */
struct pw_banlist_error {
	unsigned line;
	char msg[160];
};

struct pw_banlist_import {
	struct pw_ban_record *recs; /* heap; free with pw_banlist_import_free */
	size_t n;
	struct pw_banlist_error *errs; /* heap */
	size_t n_errs;
};

/* Parse a txt or json ban list from memory (format sniffed: json starts
 * with '[' or '{' after whitespace). Good records are kept, bad lines
 * reported and skipped. Records get origin IMPORT; expiry from the file
 * (json "expires"), or now + default_ttl_s when default_ttl_s > 0 and the
 * file has none; records already expired are skipped (reported). Returns
 * 0, or -EINVAL when nothing at all could be parsed (e.g. not json when
 * json was sniffed; errs then holds the reason on line 0), -ENOMEM. out
 * is always initialised: call pw_banlist_import_free after any return. */
int pw_banlist_import(const char *buf, size_t len, int64_t now_unix_s,
		      uint64_t default_ttl_s, struct pw_banlist_import *out);
void pw_banlist_import_free(struct pw_banlist_import *imp);

#endif /* PW_BANLIST_H */
