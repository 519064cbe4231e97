// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_keytab.c - the agent's hash table against a plain array model under
 * random inserts, deletes and sweeps (backward-shift deletion is where such
 * tables break).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "keytab.h"

#define MODEL_KEYS 5000

struct model {
	bool present[MODEL_KEYS];
	uint64_t val[MODEL_KEYS];
};

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_model(struct pw_keytab *t, const struct model *m)
{
	size_t n = 0;

	for (uint32_t k = 0; k < MODEL_KEYS; k++) {
		uint64_t *v = pw_keytab_get(t, &k);

		if (m->present[k]) {
			n++;
			assert_non_null(v);
			assert_int_equal(*v, m->val[k]);
		} else {
			assert_null(v);
		}
	}
	assert_int_equal(pw_keytab_count(t), n);
}

static bool drop_odd(const void *key, void *val, void *arg)
{
	struct model *m = arg;
	uint32_t k;

	(void)val;
	memcpy(&k, key, sizeof(k));
	if (k % 2 == 0)
		return false;
	m->present[k] = false;
	return true;
}

static void test_random_against_model(void **state)
{
	static struct model m;
	struct pw_keytab *t =
		pw_keytab_new(sizeof(uint32_t), sizeof(uint64_t), MODEL_KEYS);
	uint64_t seed = 88172645463325252ull;

	(void)state;
	assert_non_null(t);
	for (int round = 0; round < 200000; round++) {
		uint32_t k = (uint32_t)(rng(&seed) % MODEL_KEYS);
		bool created;

		if (rng(&seed) % 3) {
			uint64_t *v = pw_keytab_upsert(t, &k, &created);

			assert_non_null(v);
			assert_int_equal(created, !m.present[k]);
			*v = m.val[k] = rng(&seed);
			m.present[k] = true;
		} else {
			assert_int_equal(pw_keytab_del(t, &k),
					 m.present[k] ? 0 : -ENOENT);
			m.present[k] = false;
		}
		if (round % 20000 == 0)
			check_model(t, &m);
	}
	check_model(t, &m);

	/* a sweep in small budgets visits and deletes every odd key */
	size_t cursor = 0;

	while (pw_keytab_sweep(t, &cursor, 97, drop_odd, &m))
		;
	check_model(t, &m);
	for (uint32_t k = 1; k < MODEL_KEYS; k += 2)
		assert_null(pw_keytab_get(t, &k));
	pw_keytab_free(t);
}

static void test_capacity_bound(void **state)
{
	struct pw_keytab *t = pw_keytab_new(sizeof(uint32_t), 8, 10);
	bool created;

	(void)state;
	for (uint32_t k = 0; k < 10; k++)
		assert_non_null(pw_keytab_upsert(t, &k, &created));
	uint32_t k = 99;

	errno = 0;
	assert_null(pw_keytab_upsert(t, &k, &created));
	assert_int_equal(errno, ENOSPC);
	k = 3; /* existing keys still update */
	assert_non_null(pw_keytab_upsert(t, &k, &created));
	assert_false(created);
	pw_keytab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_capacity_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
