/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bans.h - the registry of active bans: what is banned, why, by whom,
 * until when. The datapath holds the enforcement; this holds the story
 * (for `peerwallctl peer/export`, the state file and the audit log).
 */
#ifndef PW_BANS_H
#define PW_BANS_H

#include <stddef.h>

#include "banlist.h"

struct pw_bans;

struct pw_bans *pw_bans_new(size_t max);
void pw_bans_free(struct pw_bans *b);

/* Insert or replace the record for rec->cidr. */
int pw_bans_put(struct pw_bans *b, const struct pw_ban_record *rec);
int pw_bans_del(struct pw_bans *b, const struct pw_cidr *c);
const struct pw_ban_record *pw_bans_get(const struct pw_bans *b,
					const struct pw_cidr *c);
size_t pw_bans_count(const struct pw_bans *b);

/* All records, copied into a malloc'd array sorted by CIDR (*out, caller
 * frees). Returns the count or -ENOMEM. */
long pw_bans_list(const struct pw_bans *b, struct pw_ban_record **out);

#endif /* PW_BANS_H */
