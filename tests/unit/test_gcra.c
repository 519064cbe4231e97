// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gcra.c - the bucket math the XDP program runs (include/peerwall/
 * gcra.h), checked against a plain token bucket written the obvious way.
 *
 * The reference keeps credit in nanoseconds: a full bucket holds
 * burst * T, time adds credit up to that cap, a packet needs T. That is a
 * token bucket of `burst` tokens refilled at 1/T, and GCRA with
 * tau = (burst - 1) * T must decide every packet the same way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <peerwall/gcra.h>

struct ref_bucket {
	uint64_t credit_ns, cap_ns, interval_ns, last_ns;
};

static void ref_init(struct ref_bucket *b, uint64_t interval_ns, uint64_t burst,
		     uint64_t now_ns)
{
	b->interval_ns = interval_ns;
	b->cap_ns = burst * interval_ns;
	b->credit_ns = b->cap_ns;
	b->last_ns = now_ns;
}

static int ref_take(struct ref_bucket *b, uint64_t now_ns)
{
	b->credit_ns += now_ns - b->last_ns;
	if (b->credit_ns > b->cap_ns)
		b->credit_ns = b->cap_ns;
	b->last_ns = now_ns;
	if (b->credit_ns < b->interval_ns)
		return 0;
	b->credit_ns -= b->interval_ns;
	return 1;
}

static int gcra_take(uint64_t *tat, uint64_t now_ns,
		     const struct pw_gcra_params *p)
{
	__u64 next;

	if (!pw_gcra_conform(*tat, now_ns, p, &next))
		return 0;
	*tat = next;
	return 1;
}

/* Deterministic xorshift so failures reproduce. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_fresh_bucket_allows_exactly_burst(void **state)
{
	struct pw_gcra_params p = pw_gcra_params_make(100, 7);
	uint64_t tat = 0, now = 5 * PW_NS_PER_S;
	int passed = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		passed += gcra_take(&tat, now, &p);
	assert_int_equal(passed, 7);
	/* One interval later exactly one more conforms. */
	now += p.interval_ns;
	assert_true(gcra_take(&tat, now, &p));
	assert_false(gcra_take(&tat, now, &p));
}

static void test_long_run_rate_is_exact(void **state)
{
	struct pw_gcra_params p = pw_gcra_params_make(1000, 1000);
	uint64_t tat = 0, now = PW_NS_PER_S;
	uint64_t passed = 0;

	(void)state;
	/* 10 s of offered load at 10x the rate, one packet every 100 us. */
	for (uint64_t t = 0; t < 10 * PW_NS_PER_S; t += 100000)
		passed += gcra_take(&tat, now + t, &p);
	/* burst + rate * duration, give or take the last interval */
	assert_in_range(passed, 1000 + 10000 - 1, 1000 + 10000 + 1);
}

static void test_unlimited(void **state)
{
	struct pw_gcra_params p = pw_gcra_params_make(0, 0);
	uint64_t tat = 0;

	(void)state;
	assert_int_equal(p.interval_ns, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(gcra_take(&tat, 1, &p));
}

static void test_params(void **state)
{
	struct pw_gcra_params p;

	(void)state;
	p = pw_gcra_params_make(2000, 4000);
	assert_int_equal(p.interval_ns, 500000);
	assert_int_equal(p.tolerance_ns, 3999ull * 500000);
	p = pw_gcra_params_make(3, 0); /* burst < 1 acts as 1 */
	assert_int_equal(p.interval_ns, 333333333);
	assert_int_equal(p.tolerance_ns, 0);
	p = pw_gcra_params_make(2000000000ull, 1); /* faster than 1/ns */
	assert_int_equal(p.interval_ns, 1);
}

static void test_idle_refills_to_burst_not_beyond(void **state)
{
	struct pw_gcra_params p = pw_gcra_params_make(10, 5);
	uint64_t tat = 0, now = PW_NS_PER_S;
	int passed = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_true(gcra_take(&tat, now, &p));
	now += 3600 * PW_NS_PER_S; /* an hour idle */
	for (int i = 0; i < 50; i++)
		passed += gcra_take(&tat, now, &p);
	assert_int_equal(passed, 5);
}

static void test_matches_reference_token_bucket(void **state)
{
	static const struct {
		uint64_t rate_pps, burst;
		uint64_t max_gap_ns;
	} cases[] = {
		{1, 1, 3 * PW_NS_PER_S}, {20, 40, 200000000},
		{2000, 4000, 2000000},	 {200, 400, 20000000},
		{200000, 400000, 20000}, {1000000, 1, 3000},
		{5000, 10000, 500000},	 {7, 3, 500000000},
	};
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct pw_gcra_params p =
			pw_gcra_params_make(cases[c].rate_pps, cases[c].burst);
		uint64_t now = 42 * PW_NS_PER_S, tat = 0;
		struct ref_bucket ref;
		uint64_t agree = 0;

		ref_init(&ref, p.interval_ns, cases[c].burst, now);
		for (int i = 0; i < 200000; i++) {
			/* bursts of back-to-back packets and gaps */
			if (rng_next(&seed) % 4)
				now += rng_next(&seed) % cases[c].max_gap_ns;
			int g = gcra_take(&tat, now, &p);
			int r = ref_take(&ref, now);

			if (g != r)
				fail_msg("case %zu (rate %llu burst %llu): "
					 "packet %d at %llu: gcra %d ref %d",
					 c,
					 (unsigned long long)cases[c].rate_pps,
					 (unsigned long long)cases[c].burst, i,
					 (unsigned long long)now, g, r);
			agree++;
		}
		assert_int_equal(agree, 200000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_bucket_allows_exactly_burst),
		cmocka_unit_test(test_long_run_rate_is_exact),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_idle_refills_to_burst_not_beyond),
		cmocka_unit_test(test_matches_reference_token_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
