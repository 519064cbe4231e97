/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conns.c - established connections per source (conns.h).
 *
 * One table of source key -> {now, before}. A snapshot moves every
 * `now` to `before`, counts afresh, and drops entries at zero in both.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conns.h"
#include "keytab.h"

struct conn_key {
	uint8_t family;
	uint8_t prefixlen;
	uint8_t addr[16];
};

struct conn_val {
	uint32_t now, before;
};

struct pw_conns {
	struct pw_keytab *t;
	unsigned src_v4, src_v6;
	uint64_t total, total_building;
};

struct pw_conns *pw_conns_new(unsigned src_v4, unsigned src_v6,
			      size_t max_sources)
{
	struct pw_conns *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t = pw_keytab_new(sizeof(struct conn_key), sizeof(struct conn_val),
			     max_sources);
	if (!c->t) {
		free(c);
		return NULL;
	}
	c->src_v4 = src_v4;
	c->src_v6 = src_v6;
	return c;
}

void pw_conns_free(struct pw_conns *c)
{
	if (!c)
		return;
	pw_keytab_free(c->t);
	free(c);
}

static struct conn_key key_of(const struct pw_conns *c, int family,
			      const uint8_t *addr)
{
	struct conn_key k;

	memset(&k, 0, sizeof(k));
	k.family = family == AF_INET ? 4 : 6;
	k.prefixlen = (uint8_t)(family == AF_INET ? c->src_v4 : c->src_v6);
	pw_addr_mask(family, addr, k.prefixlen, k.addr);
	return k;
}

static bool shift(const void *key, void *val, void *arg)
{
	struct conn_val *v = val;

	(void)key;
	(void)arg;
	if (!v->now)
		return true; /* gone in the last snapshot too */
	v->before = v->now;
	v->now = 0;
	return false;
}

void pw_conns_begin(struct pw_conns *c)
{
	size_t cursor = 0;

	while (pw_keytab_sweep(c->t, &cursor, (size_t)-1, shift, NULL))
		;
	c->total_building = 0;
}

void pw_conns_add(struct pw_conns *c, int family, const uint8_t *addr)
{
	struct conn_key k = key_of(c, family, addr);
	struct conn_val *v;
	bool created;

	c->total_building++;
	v = pw_keytab_upsert(c->t, &k, &created);
	if (v && v->now < UINT32_MAX)
		v->now++;
}

void pw_conns_end(struct pw_conns *c)
{
	c->total = c->total_building;
}

static struct pw_cidr cidr_of(const struct conn_key *k)
{
	struct pw_cidr r;

	memset(&r, 0, sizeof(r));
	r.family = k->family == 4 ? AF_INET : AF_INET6;
	r.prefixlen = k->prefixlen;
	memcpy(r.addr, k->addr, sizeof(r.addr));
	return r;
}

uint32_t pw_conns_of(const struct pw_conns *c, const struct pw_cidr *key)
{
	struct conn_key k = key_of(c, key->family, key->addr);
	const struct conn_val *v = pw_keytab_get(c->t, &k);

	return v ? v->now : 0;
}

uint64_t pw_conns_total(const struct pw_conns *c)
{
	return c->total;
}

size_t pw_conns_sources(const struct pw_conns *c)
{
	return pw_keytab_count(c->t);
}

struct each_ctx {
	void (*fn)(const struct pw_conns_entry *e, void *arg);
	void *arg;
};

static bool visit(const void *key, void *val, void *arg)
{
	const struct conn_val *v = val;
	struct each_ctx *x = arg;
	struct pw_conns_entry e = {
		.key = cidr_of(key),
		.now = v->now,
		.gained = v->now > v->before ? v->now - v->before : 0,
	};

	x->fn(&e, x->arg);
	return false;
}

void pw_conns_each(const struct pw_conns *c,
		   void (*fn)(const struct pw_conns_entry *e, void *arg),
		   void *arg)
{
	struct each_ctx x = {fn, arg};
	size_t cursor = 0;

	while (pw_keytab_sweep(c->t, &cursor, (size_t)-1, visit, &x))
		;
}
