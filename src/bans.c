// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bans.c - the ban registry: a keytab from the packed CIDR to its record.
 * Imports can bring 100k entries, so lookups are hashed, and listing sorts
 * so exports and state files are stable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "bans.h"
#include "keytab.h"

struct pw_bans {
	struct pw_keytab *tab;
};

struct pw_bans *pw_bans_new(size_t max)
{
	struct pw_bans *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->tab = pw_keytab_new(sizeof(struct pw_srckey),
			       sizeof(struct pw_ban_record), max);
	if (!b->tab) {
		free(b);
		return NULL;
	}
	return b;
}

void pw_bans_free(struct pw_bans *b)
{
	if (!b)
		return;
	pw_keytab_free(b->tab);
	free(b);
}

int pw_bans_put(struct pw_bans *b, const struct pw_ban_record *rec)
{
	struct pw_srckey k = pw_srckey_from_cidr(&rec->cidr);
	struct pw_ban_record *v;
	bool created;

	v = pw_keytab_upsert(b->tab, &k, &created);
	if (!v)
		return -errno;
	*v = *rec;
	return 0;
}

int pw_bans_del(struct pw_bans *b, const struct pw_cidr *c)
{
	struct pw_srckey k = pw_srckey_from_cidr(c);

	return pw_keytab_del(b->tab, &k);
}

const struct pw_ban_record *pw_bans_get(const struct pw_bans *b,
					const struct pw_cidr *c)
{
	struct pw_srckey k = pw_srckey_from_cidr(c);

	return pw_keytab_get(b->tab, &k);
}

size_t pw_bans_count(const struct pw_bans *b)
{
	return pw_keytab_count(b->tab);
}

struct collect {
	struct pw_ban_record *v;
	size_t n;
};

static bool collect_one(const void *key, void *val, void *arg)
{
	struct collect *c = arg;

	(void)key;
	c->v[c->n++] = *(const struct pw_ban_record *)val;
	return false;
}

static int rec_cmp(const void *a, const void *b)
{
	struct pw_srckey x =
		pw_srckey_from_cidr(&((const struct pw_ban_record *)a)->cidr);
	struct pw_srckey y =
		pw_srckey_from_cidr(&((const struct pw_ban_record *)b)->cidr);

	return memcmp(&x, &y, sizeof(x));
}

long pw_bans_list(const struct pw_bans *b, struct pw_ban_record **out)
{
	size_t n = pw_keytab_count(b->tab), cursor = 0;
	struct collect c = {.v = calloc(n ? n : 1, sizeof(*c.v))};

	if (!c.v)
		return -ENOMEM;
	while (pw_keytab_sweep(b->tab, &cursor, 65536, collect_one, &c))
		;
	qsort(c.v, c.n, sizeof(*c.v), rec_cmp);
	*out = c.v;
	return (long)c.n;
}
