// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * keytab.c - open addressing, linear probing, backward-shift deletion.
 *
 * Slots are [used | key | value] in one array kept at most half full, so a
 * probe sequence is short; the table doubles up to the capacity that
 * max_entries needs and never shrinks (the agent's tables grow to the attack
 * they saw and stay ready for the next one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"

#define KEYTAB_MIN_SLOTS 1024

/* Slot: [used byte, padding to 8 | key | value], key and value 8-byte
 * aligned so callers may store structs with 64-bit fields. */
#define SLOT_HDR  8
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

struct pw_keytab {
	size_t key_size, val_size, slot_size, val_off;
	size_t n_slots, count, max_entries;
	uint8_t *slots;
};

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static uint8_t *slot(const struct pw_keytab *t, size_t i)
{
	return t->slots + i * t->slot_size;
}

struct pw_keytab *pw_keytab_new(size_t key_size, size_t val_size,
				size_t max_entries)
{
	struct pw_keytab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->key_size = key_size;
	t->val_size = val_size;
	t->val_off = SLOT_HDR + ALIGN8(key_size);
	t->slot_size = t->val_off + ALIGN8(val_size);
	t->max_entries = max_entries;
	t->n_slots = KEYTAB_MIN_SLOTS;
	t->slots = calloc(t->n_slots, t->slot_size);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void pw_keytab_free(struct pw_keytab *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

/* Slot holding key, or the empty slot where it would go. */
static size_t find(const struct pw_keytab *t, const void *key)
{
	size_t mask = t->n_slots - 1;
	size_t i = hash_bytes(key, t->key_size) & mask;

	while (slot(t, i)[0] && memcmp(slot(t, i) + SLOT_HDR, key, t->key_size))
		i = (i + 1) & mask;
	return i;
}

void *pw_keytab_get(const struct pw_keytab *t, const void *key)
{
	uint8_t *s = slot(t, find(t, key));

	return s[0] ? s + t->val_off : NULL;
}

static int grow(struct pw_keytab *t)
{
	struct pw_keytab bigger = *t;

	bigger.n_slots = t->n_slots * 2;
	bigger.slots = calloc(bigger.n_slots, t->slot_size);
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_slots; i++) {
		uint8_t *s = slot(t, i);

		if (s[0])
			memcpy(slot(&bigger, find(&bigger, s + SLOT_HDR)), s,
			       t->slot_size);
	}
	free(t->slots);
	t->slots = bigger.slots;
	t->n_slots = bigger.n_slots;
	return 0;
}

void *pw_keytab_upsert(struct pw_keytab *t, const void *key, bool *created)
{
	size_t i = find(t, key);
	uint8_t *s = slot(t, i);

	*created = false;
	if (s[0])
		return s + t->val_off;
	if (t->count >= t->max_entries) {
		errno = ENOSPC;
		return NULL;
	}
	if ((t->count + 1) * 2 > t->n_slots) {
		if (grow(t)) {
			errno = ENOMEM;
			return NULL;
		}
		s = slot(t, find(t, key));
	}
	memset(s, 0, t->slot_size);
	s[0] = 1;
	memcpy(s + SLOT_HDR, key, t->key_size);
	t->count++;
	*created = true;
	return s + t->val_off;
}

/* Backward-shift: pull later members of the probe run into the hole so
 * every remaining key is still reachable from its home slot. */
static void delete_at(struct pw_keytab *t, size_t hole)
{
	size_t mask = t->n_slots - 1, i = hole;

	slot(t, hole)[0] = 0;
	t->count--;
	for (;;) {
		size_t home;
		uint8_t *s;

		i = (i + 1) & mask;
		s = slot(t, i);
		if (!s[0])
			return;
		home = hash_bytes(s + SLOT_HDR, t->key_size) & mask;
		/* s may move into the hole when the hole lies cyclically
		 * between its home and its current slot */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			memcpy(slot(t, hole), s, t->slot_size);
			s[0] = 0;
			hole = i;
		}
	}
}

int pw_keytab_del(struct pw_keytab *t, const void *key)
{
	size_t i = find(t, key);

	if (!slot(t, i)[0])
		return -ENOENT;
	delete_at(t, i);
	return 0;
}

size_t pw_keytab_count(const struct pw_keytab *t)
{
	return t->count;
}

bool pw_keytab_sweep(struct pw_keytab *t, size_t *cursor, size_t budget,
		     bool (*fn)(const void *key, void *val, void *arg),
		     void *arg)
{
	while (budget--) {
		uint8_t *s;

		if (*cursor >= t->n_slots) {
			*cursor = 0;
			return false;
		}
		s = slot(t, *cursor);
		if (s[0] && fn(s + SLOT_HDR, s + t->val_off, arg)) {
			delete_at(t, *cursor);
			/* a later entry may have shifted into this slot */
			continue;
		}
		(*cursor)++;
	}
	return true;
}
