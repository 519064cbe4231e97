// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_journal.c - src/journal.c: lines come back in order with their UTC
 * time and level, and go by age (the last hour) and by size (oldest
 * first); the log tap feeds it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "log.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

static void test_text_and_age(void **state)
{
	struct pw_journal *j = pw_journal_new(3600, 1 << 20);
	size_t n;
	char *t;

	(void)state;
	pw_journal_add(j, T0, PW_LOG_INFO, "decision: ban 198.18.9.9/32\n");
	pw_journal_add(j, T0 + 1, PW_LOG_WARN, "EMERGENCY MODE ON");
	t = pw_journal_text(j, T0 + 2, &n);
	assert_int_equal(n, 2);
	assert_string_equal(t, "2023-11-14T22:13:20Z info: decision: ban "
			       "198.18.9.9/32\n"
			       "2023-11-14T22:13:21Z warning: EMERGENCY MODE "
			       "ON\n");
	free(t);
	/* an hour later the first line is gone, the second not yet */
	t = pw_journal_text(j, T0 + 3600, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "EMERGENCY"));
	free(t);
	t = pw_journal_text(j, T0 + 7200, &n);
	assert_int_equal(n, 0);
	assert_string_equal(t, "");
	free(t);
	pw_journal_free(j);
}

static void test_size_bound(void **state)
{
	struct pw_journal *j = pw_journal_new(3600, 4096);
	char line[100];
	size_t n;
	char *t;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "line %04d %s", i,
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		pw_journal_add(j, T0, PW_LOG_INFO, line);
	}
	t = pw_journal_text(j, T0, &n);
	assert_true(n > 10 && n < 100);
	/* the newest lines are the ones kept */
	assert_non_null(strstr(t, "line 0999"));
	assert_null(strstr(t, "line 0000"));
	free(t);
	pw_journal_free(j);
}

static void test_log_tap(void **state)
{
	struct pw_journal *j = pw_journal_new(3600, 1 << 20);
	size_t n;
	char *t;

	(void)state;
	pw_log_init("test", PW_LOG_INFO, false);
	pw_log_set_tap(pw_journal_tap, j);
	log_info("decision: unban %s (%s)", "198.18.9.9/32", "expired");
	log_debug("not kept: below the level");
	pw_log_set_tap(NULL, NULL);
	log_info("not kept: no tap");
	t = pw_journal_text(j, (int64_t)time(NULL), &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, " info: decision: unban 198.18.9.9/32 "
				  "(expired)\n"));
	free(t);
	pw_journal_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_age),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_log_tap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
