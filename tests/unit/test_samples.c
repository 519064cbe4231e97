// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_samples.c - src/samples.c: the ring keeps the latest samples in
 * order, readers page with sequence numbers, filter by reason, and learn
 * where they lost samples to overwriting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "samples.h"

static struct pw_sample sample(uint32_t reason, uint8_t mark)
{
	struct pw_sample s;

	memset(&s, 0, sizeof(s));
	s.reason = reason;
	s.cap_len = 1;
	s.data[0] = mark;
	return s;
}

static void test_order_and_overwrite(void **state)
{
	struct pw_samples *r = pw_samples_new(4 * PW_SAMPLE_SLOT_BYTES + 10);
	const struct pw_kept_sample *got[8];
	uint64_t next;
	size_t n;

	(void)state;
	assert_non_null(r);
	assert_int_equal(pw_samples_capacity(r), 4);
	assert_int_equal(pw_samples_next_seq(r), 1);
	assert_int_equal(pw_samples_oldest_seq(r), 1);
	assert_int_equal(pw_samples_get(r, 0, ~0u, got, 8, &next), 0);
	for (uint8_t i = 1; i <= 6; i++) {
		struct pw_sample s = sample(PW_R_DROP_BANNED, i);

		pw_samples_push(r, &s);
	}
	/* 6 pushed into 4 slots: 3..6 kept */
	assert_int_equal(pw_samples_next_seq(r), 7);
	assert_int_equal(pw_samples_oldest_seq(r), 3);
	n = pw_samples_get(r, 1, ~0u, got, 8, &next);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i]->seq, 3 + i);
		assert_int_equal(got[i]->s.data[0], 3 + i);
	}
	assert_int_equal(next, 7);
	/* paging: two at a time from 4 */
	n = pw_samples_get(r, 4, ~0u, got, 2, &next);
	assert_int_equal(n, 2);
	assert_int_equal(got[0]->seq, 4);
	assert_int_equal(next, 6);
	n = pw_samples_get(r, next, ~0u, got, 2, &next);
	assert_int_equal(n, 1);
	assert_int_equal(got[0]->seq, 6);
	assert_int_equal(next, 7);
	/* beyond the end: nothing */
	assert_int_equal(pw_samples_get(r, 9, ~0u, got, 8, &next), 0);
	pw_samples_free(r);
}

static void test_reason_filter(void **state)
{
	struct pw_samples *r = pw_samples_new(16 * PW_SAMPLE_SLOT_BYTES);
	const struct pw_kept_sample *got[16];
	uint64_t next;
	size_t n;

	(void)state;
	for (uint8_t i = 0; i < 10; i++) {
		struct pw_sample s = sample(
			i % 2 ? PW_R_DROP_RATE_SRC : PW_R_DROP_BANNED, i);

		pw_samples_push(r, &s);
	}
	n = pw_samples_get(r, 0, 1u << PW_R_DROP_RATE_SRC, got, 16, &next);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i]->s.reason, PW_R_DROP_RATE_SRC);
	assert_int_equal(next, 11);
	/* max counts matches, next resumes after the last one looked at */
	n = pw_samples_get(r, 0, 1u << PW_R_DROP_BANNED, got, 2, &next);
	assert_int_equal(n, 2);
	assert_int_equal(got[1]->seq, 3);
	assert_int_equal(next, 4);
	pw_samples_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_overwrite),
		cmocka_unit_test(test_reason_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
