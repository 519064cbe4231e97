/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * keytab.h - a compact hash table from fixed-size keys to fixed-size
 * values, for the agent's per-source tables (up to millions of entries:
 * one allocation, no per-entry malloc). Open addressing with linear
 * probing and backward-shift deletion, so there are no tombstones and
 * lookups stay short after heavy churn.
 */
#ifndef PW_KEYTAB_H
#define PW_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_keytab;

/* max_entries bounds memory: inserts beyond it fail with -ENOSPC. */
struct pw_keytab *pw_keytab_new(size_t key_size, size_t val_size,
				size_t max_entries);
void pw_keytab_free(struct pw_keytab *t);

/* Value of key, or NULL. The pointer is valid until the next insert or
 * delete. */
void *pw_keytab_get(const struct pw_keytab *t, const void *key);
/* Value of key, inserted zeroed if absent (*created tells). NULL with
 * errno ENOSPC/ENOMEM. */
void *pw_keytab_upsert(struct pw_keytab *t, const void *key, bool *created);
int pw_keytab_del(struct pw_keytab *t, const void *key);
size_t pw_keytab_count(const struct pw_keytab *t);

/* Walk entries from *cursor (start at 0) visiting at most `budget` slots;
 * returns false when the walk wrapped around. Lets expiry be spread over
 * many ticks. fn returns true to delete the entry. */
bool pw_keytab_sweep(struct pw_keytab *t, size_t *cursor, size_t budget,
		     bool (*fn)(const void *key, void *val, void *arg),
		     void *arg);

#endif /* PW_KEYTAB_H */
