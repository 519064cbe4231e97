// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_logwatch.c - unit tests for src/logwatch.c.
 *
 * Each test gets its own directory from mkdtemp under /tmp, removed in
 * teardown, and plays the node: it appends to, renames, truncates and
 * deletes log files between polls, then checks which reports came out,
 * in order. Nothing sleeps: the follower only looks at files when polled.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logwatch.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define LOG	   "node.log"
#define PATTERN	   "bad block from ([^ ]+)"
#define MAX_GOT	   64
#define MANY	   1000 /* a line budget no test reaches */
#define LONG_BYTES 10000

struct got_report {
	char addr[INET6_ADDRSTRLEN];
	int family;
	unsigned weight;
	char reason[PW_REPORT_REASON_MAX + 1];
	const struct pw_logwatch *entry;
};

struct fixture {
	char dir[64];
	char log[128]; /* dir/LOG */
	struct pw_logwatch_set *set;
	size_t n;
	struct got_report got[MAX_GOT];
};

static int setup(void **ctx)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pw-test-logwatch-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->log, sizeof(f->log), "%s/%s", f->dir, LOG);
	*ctx = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **ctx)
{
	struct fixture *f = *ctx;
	int ret;

	pw_logwatch_free(f->set);
	ret = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return ret;
}

/* --- helpers ------------------------------------------------------------- */

static void path_of(char *buf, size_t size, const struct fixture *f,
		    const char *name)
{
	int n = snprintf(buf, size, "%s/%s", f->dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

static void append_raw(const struct fixture *f, const char *name,
		       const void *buf, size_t len)
{
	char path[128];
	int fd;

	path_of(path, sizeof(path), f, name);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void append(const struct fixture *f, const char *name, const char *text)
{
	append_raw(f, name, text, strlen(text));
}

static void rename_in(const struct fixture *f, const char *from, const char *to)
{
	char a[128], b[128];

	path_of(a, sizeof(a), f, from);
	path_of(b, sizeof(b), f, to);
	assert_int_equal(rename(a, b), 0);
}

static void entry(struct pw_logwatch *e, const char *path, const char *pattern,
		  unsigned weight, const char *reason)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->pattern, sizeof(e->pattern), "%s", pattern);
	e->weight = weight;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
}

/* One entry watching LOG (created empty if missing) with PATTERN, weight
 * 20, reason "bad_block". */
static void start(struct fixture *f)
{
	struct pw_logwatch e;

	append(f, LOG, "");
	entry(&e, f->log, PATTERN, 20, "bad_block");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), 0);
}

static void collect(void *arg, const struct pw_report *r,
		    const struct pw_logwatch *e)
{
	struct fixture *f = arg;
	struct got_report *g;

	assert_true(f->n < MAX_GOT);
	assert_int_equal(r->verb, PW_REPORT_INVALID);
	g = &f->got[f->n++];
	assert_non_null(
		inet_ntop(r->family, r->addr, g->addr, sizeof(g->addr)));
	g->family = r->family;
	g->weight = r->weight;
	snprintf(g->reason, sizeof(g->reason), "%s", r->reason);
	g->entry = e;
}

/* Poll once; the return value must equal the reports collected. */
static int poll_n(struct fixture *f, size_t max_lines)
{
	size_t before = f->n;
	int ret = pw_logwatch_poll(f->set, max_lines, collect, f);

	assert_true(ret >= 0);
	assert_int_equal((size_t)ret, f->n - before);
	return ret;
}

static int poll_all(struct fixture *f)
{
	return poll_n(f, MANY);
}

/* The reports collected so far are exactly these addresses, in order. */
static void expect_addrs(const struct fixture *f, const char *const *addrs,
			 size_t n)
{
	size_t i;

	if (f->n != n) {
		print_error("expected %zu reports, got %zu\n", n, f->n);
		for (i = 0; i < f->n; i++)
			print_error("  got %s\n", f->got[i].addr);
		fail();
	}
	for (i = 0; i < n; i++)
		assert_string_equal(f->got[i].addr, addrs[i]);
}

#define EXPECT(f, ...)                                                         \
	do {                                                                   \
		const char *const want_[] = {__VA_ARGS__};                     \
		expect_addrs(f, want_, ARRAY_SIZE(want_));                     \
	} while (0)

static struct pw_logwatch_stats stats(const struct fixture *f)
{
	struct pw_logwatch_stats st;

	pw_logwatch_get_stats(f->set, &st);
	return st;
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* --- start-up ------------------------------------------------------------ */

static void test_existing_content_ignored(void **ctx)
{
	struct fixture *f = *ctx;

	append(f, LOG, "bad block from 10.0.0.1\nbad block from 10.0.0.2\n");
	start(f);
	assert_int_equal(poll_all(f), 0);
	append(f, LOG, "bad block from 10.0.0.3\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.3");
	assert_int_equal(stats(f).lines, 1);
}

static void test_existing_partial_line_discarded(void **ctx)
{
	struct fixture *f = *ctx;

	/* Started mid-line: the tail of that line is not a line. */
	append(f, LOG, "old\nbad block from 10.0.0.1");
	start(f);
	append(f, LOG, "9\nbad block from 10.0.0.2\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.2");
}

static void test_bad_entries_refused(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch e;

	entry(&e, f->log, "from ([0-9.+", 10, "x");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), -EINVAL);
	entry(&e, f->log, "no group", 10, "x");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), -EINVAL);
	entry(&e, f->log, PATTERN, 0, "x");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), -EINVAL);
	entry(&e, f->log, PATTERN, 101, "x");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), -EINVAL);
	entry(&e, f->dir, PATTERN, 10, "x"); /* a directory */
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), -EINVAL);
	assert_null(f->set);

	assert_int_equal(pw_logwatch_new(NULL, 0, &f->set), 0);
	assert_int_equal(pw_logwatch_poll(f->set, MANY, collect, f), 0);
}

/* --- matching ------------------------------------------------------------ */

static void test_address_forms(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	append(f, LOG,
	       "I[2024] bad block from 198.51.100.7 height=5\n"
	       "I[2024] bad block from 198.51.100.8:26656 height=6\n"
	       "I[2024] bad block from [2001:db8::1]:26656 height=7\n"
	       "I[2024] bad block from 2001:db8::2\r\n"
	       "I[2024] bad block from [::ffff:198.51.100.9]:30303\n");
	assert_int_equal(poll_all(f), 5);
	EXPECT(f, "198.51.100.7", "198.51.100.8", "2001:db8::1", "2001:db8::2",
	       "198.51.100.9");
	assert_int_equal(f->got[0].family, AF_INET);
	assert_int_equal(f->got[1].family, AF_INET);
	assert_int_equal(f->got[2].family, AF_INET6);
	assert_int_equal(f->got[4].family, AF_INET);
	assert_int_equal(f->got[0].weight, 20);
	assert_string_equal(f->got[0].reason, "bad_block");
	assert_string_equal(f->got[2].entry->reason, "bad_block");
	assert_string_equal(f->got[2].entry->path, f->log);
	assert_int_equal(stats(f).matches, 5);
}

static void test_non_matching_ignored(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch_stats st;

	start(f);
	append(f, LOG,
	       "good block from 10.0.0.1\n"
	       "\n"
	       "bad block from\n"
	       "BAD BLOCK FROM 10.0.0.2\n"
	       "bad block from 10.0.0.3\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.3");
	st = stats(f);
	assert_int_equal(st.lines, 5);
	assert_int_equal(st.matches, 1);
	assert_int_equal(st.bad_addr, 0);
}

static void test_group_not_an_address(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch_stats st;

	start(f);
	append(f, LOG,
	       "bad block from peer-7f3a\n"
	       "bad block from 10.0.0.1:0\n"
	       "bad block from 300.1.2.3\n"
	       "bad block from 10.0.0.4\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.4");
	st = stats(f);
	assert_int_equal(st.bad_addr, 3);
	assert_int_equal(st.matches, 1);
}

static void test_optional_group_unmatched(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch e;

	/* The pattern matches with group 1 unset: counted, not used. */
	entry(&e, f->log, "drop(ped peer ([0-9.]+))?", 5, "drop");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), 0);
	append(f, LOG, "dropped connection\n");
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(stats(f).bad_addr, 1);
}

static void test_same_path_two_entries(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch e[2];
	size_t fds = open_fds();

	entry(&e[0], f->log, PATTERN, 20, "bad_block");
	entry(&e[1], f->log, "peer ([^ ]+) spammed", 5, "spam");
	append(f, LOG, "history\n");
	assert_int_equal(pw_logwatch_new(e, 2, &f->set), 0);
	assert_int_equal(open_fds(), fds + 1); /* one fd for one path */

	append(f, LOG,
	       "bad block from 10.0.0.1\n"
	       "peer 10.0.0.2:1 spammed\n"
	       "peer 10.0.0.3 spammed: bad block from 10.0.0.4\n");
	assert_int_equal(poll_all(f), 4);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.3");
	assert_string_equal(f->got[0].reason, "bad_block");
	assert_int_equal(f->got[1].weight, 5);
	assert_string_equal(f->got[1].reason, "spam");
	assert_string_equal(f->got[1].entry->reason, "spam");
	assert_int_equal(stats(f).lines, 3);
}

static void test_two_files(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch e[2];
	char other[128];

	path_of(other, sizeof(other), f, "geth.log");
	entry(&e[0], f->log, PATTERN, 20, "bad_block");
	entry(&e[1], other, "peer=([^ ]+) err=", 7, "geth");
	assert_int_equal(pw_logwatch_new(e, 2, &f->set), 0);
	append(f, "geth.log", "WARN peer=[fd00::7]:30303 err=bad\n");
	append(f, LOG, "bad block from 10.0.0.1\n");
	assert_int_equal(poll_all(f), 2);
	assert_int_equal(f->n, 2);
	assert_true(f->got[0].weight + f->got[1].weight == 27);
}

/* --- reading ------------------------------------------------------------- */

static void test_partial_line_completed(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	append(f, LOG, "bad block from 10.0.");
	assert_int_equal(poll_all(f), 0);
	append(f, LOG, "0.");
	assert_int_equal(poll_all(f), 0);
	append(f, LOG, "77 height=9\nbad block from 10.0.0.8");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.77");
	append(f, LOG, "\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.77", "10.0.0.8");
	assert_int_equal(stats(f).lines, 2);
}

static void test_max_lines(void **ctx)
{
	struct fixture *f = *ctx;
	char line[64];
	int i;

	start(f);
	for (i = 1; i <= 10; i++) {
		snprintf(line, sizeof(line),
			 "noise %d\nbad block from 10.0.0.%d\n", i, i);
		append(f, LOG, line);
	}
	/* 20 lines, alternating noise and match; 3 per poll, then 10. */
	assert_int_equal(poll_n(f, 3), 1);
	EXPECT(f, "10.0.0.1");
	assert_int_equal(stats(f).lines, 3);
	assert_int_equal(poll_n(f, 3), 2);
	assert_int_equal(poll_n(f, 0), 0);
	assert_int_equal(stats(f).lines, 6);
	assert_int_equal(poll_n(f, 10), 5);
	assert_int_equal(poll_n(f, 10), 2);
	assert_int_equal(poll_n(f, 10), 0);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5",
	       "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10");
	assert_int_equal(stats(f).lines, 20);
}

static void test_long_line_skipped(void **ctx)
{
	struct fixture *f = *ctx;
	char *big = malloc(LONG_BYTES + 1);
	struct pw_logwatch_stats st;

	assert_non_null(big);
	memset(big, 'x', LONG_BYTES);
	memcpy(big, "bad block from 10.9.9.9 ", 24);
	big[LONG_BYTES] = '\n';

	start(f);
	append(f, LOG, "bad block from 10.0.0.1\n");
	append_raw(f, LOG, big, LONG_BYTES + 1);
	append(f, LOG, "bad block from 10.0.0.2\n");
	assert_int_equal(poll_all(f), 2);
	EXPECT(f, "10.0.0.1", "10.0.0.2");
	st = stats(f);
	assert_int_equal(st.too_long, 1);
	assert_int_equal(st.lines, 3);

	/* The same line arriving in pieces across polls. */
	append_raw(f, LOG, big, 3000);
	assert_int_equal(poll_all(f), 0);
	append_raw(f, LOG, big + 3000, 3000);
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(stats(f).too_long, 2);
	append_raw(f, LOG, big + 6000, LONG_BYTES + 1 - 6000);
	append(f, LOG, "bad block from 10.0.0.3\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3");
	st = stats(f);
	assert_int_equal(st.too_long, 2);
	assert_int_equal(st.lines, 5);
	free(big);
}

static void test_line_max_exactly(void **ctx)
{
	struct fixture *f = *ctx;
	char *line = malloc(PW_LOGWATCH_LINE_MAX + 2);

	/* PW_LOGWATCH_LINE_MAX bytes before "\n" still match; one more
	 * does not. */
	assert_non_null(line);
	memset(line, ' ', PW_LOGWATCH_LINE_MAX + 1);
	memcpy(line, "bad block from 10.0.0.1", 23);
	line[PW_LOGWATCH_LINE_MAX] = '\n';
	start(f);
	append_raw(f, LOG, line, PW_LOGWATCH_LINE_MAX + 1);
	assert_int_equal(poll_all(f), 1);
	line[PW_LOGWATCH_LINE_MAX] = ' ';
	line[PW_LOGWATCH_LINE_MAX + 1] = '\n';
	append_raw(f, LOG, line, PW_LOGWATCH_LINE_MAX + 2);
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(stats(f).too_long, 1);
	free(line);
}

static void test_binary_garbage(void **ctx)
{
	struct fixture *f = *ctx;
	static const char junk[] = "\0\0\xff\xfe\x01 bad block \0from\n"
				   "bad block from 10.0.0.1\0\0\n"
				   "\0\0bad block from 10.0.0.2\n"
				   "bad block from \x80\x81\n"
				   "\0\0\0\0\n"
				   "bad block from 10.0.0.3\n";
	struct pw_logwatch_stats st;

	start(f);
	append_raw(f, LOG, junk, sizeof(junk) - 1);
	/* A NUL does not end a line, so text after it is still seen; an
	 * address with NULs glued to it is not an address. */
	assert_int_equal(poll_all(f), 2);
	EXPECT(f, "10.0.0.2", "10.0.0.3");
	st = stats(f);
	assert_int_equal(st.lines, 6);
	assert_int_equal(st.bad_addr, 2);
}

/* --- rotation ------------------------------------------------------------ */

static void test_rotation_rename(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	append(f, LOG, "bad block from 10.0.0.1\n");
	assert_int_equal(poll_all(f), 1);

	/* Written before the rename, and by the writer that still holds the
	 * old file after it, then the new file: nothing may be lost. */
	append(f, LOG, "bad block from 10.0.0.2\n");
	rename_in(f, LOG, LOG ".1");
	append(f, LOG ".1", "bad block from 10.0.0.3\nbad block from 10.0.0.4");
	append(f, LOG, "bad block from 10.0.0.5\n");
	assert_int_equal(poll_all(f), 4);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5");
	assert_int_equal(stats(f).reopened, 1);

	/* Now following the new file. */
	append(f, LOG, "bad block from 10.0.0.6\n");
	append(f, LOG ".1", "bad block from 10.0.0.99\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5",
	       "10.0.0.6");
}

static void test_rotation_waits_for_budget(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	append(f, LOG, "bad block from 10.0.0.1\nbad block from 10.0.0.2\n");
	rename_in(f, LOG, LOG ".1");
	append(f, LOG, "bad block from 10.0.0.3\n");
	/* The old file is finished first, one line per poll. */
	assert_int_equal(poll_n(f, 1), 1);
	assert_int_equal(stats(f).reopened, 0);
	assert_int_equal(poll_n(f, 1), 1);
	assert_int_equal(poll_n(f, 1), 1);
	assert_int_equal(poll_n(f, 1), 0);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3");
	assert_int_equal(stats(f).reopened, 1);
}

static void test_rotation_twice(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	append(f, LOG, "bad block from 10.0.0.1\n");
	rename_in(f, LOG, LOG ".1");
	append(f, LOG, "bad block from 10.0.0.2\n");
	assert_int_equal(poll_all(f), 2);
	rename_in(f, LOG, LOG ".2");
	append(f, LOG, "bad block from 10.0.0.3\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3");
	assert_int_equal(stats(f).reopened, 2);
}

static void test_copytruncate(void **ctx)
{
	struct fixture *f = *ctx;
	int fd;

	start(f);
	append(f, LOG, "bad block from 10.0.0.1 and a long tail of text\n");
	assert_int_equal(poll_all(f), 1);

	/* logrotate copytruncate: same inode, size drops to 0, the writer
	 * (O_APPEND) carries on from the start. A partial line we held
	 * belonged to the old content and is dropped. */
	append(f, LOG, "bad block from 10.0.0.");
	assert_int_equal(poll_all(f), 0);
	fd = open(f->log, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	append(f, LOG, "bad block from 10.0.0.2\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2");
	assert_int_equal(stats(f).reopened, 1);

	append(f, LOG, "bad block from 10.0.0.3\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3");
}

static void test_delete_then_recreate(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	append(f, LOG, "bad block from 10.0.0.1\n");
	assert_int_equal(unlink(f->log), 0);
	/* Written to the deleted file before we looked: still read. */
	assert_int_equal(poll_all(f), 1);
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(stats(f).reopened, 0);

	append(f, LOG, "bad block from 10.0.0.2\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2");
	assert_int_equal(stats(f).reopened, 1);

	/* Deleted and recreated between two polls. */
	assert_int_equal(unlink(f->log), 0);
	append(f, LOG, "bad block from 10.0.0.3\n");
	assert_int_equal(poll_all(f), 1);
	EXPECT(f, "10.0.0.1", "10.0.0.2", "10.0.0.3");
	assert_int_equal(stats(f).reopened, 2);
}

static void test_missing_at_start(void **ctx)
{
	struct fixture *f = *ctx;
	struct pw_logwatch e;
	char path[128];

	/* Even the directory does not exist yet. */
	path_of(path, sizeof(path), f, "later/node.log");
	entry(&e, path, PATTERN, 20, "bad_block");
	assert_int_equal(pw_logwatch_new(&e, 1, &f->set), 0);
	assert_int_equal(poll_all(f), 0);
	path_of(path, sizeof(path), f, "later");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(poll_all(f), 0);

	/* It appeared after we started: read from its start. */
	append(f, "later/node.log",
	       "bad block from 10.0.0.1\nbad block from 10.0.0.2\n");
	assert_int_equal(poll_all(f), 2);
	EXPECT(f, "10.0.0.1", "10.0.0.2");
	assert_int_equal(stats(f).reopened, 1);
}

static void test_replaced_by_directory(void **ctx)
{
	struct fixture *f = *ctx;

	start(f);
	assert_int_equal(unlink(f->log), 0);
	assert_int_equal(mkdir(f->log, 0700), 0);
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(poll_all(f), 0);
	assert_int_equal(rmdir(f->log), 0);
	append(f, LOG, "bad block from 10.0.0.1\n");
	assert_int_equal(poll_all(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_existing_content_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_existing_partial_line_discarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_address_forms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_non_matching_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_not_an_address,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_group_unmatched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_path_two_entries,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partial_line_completed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_line_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_line_max_exactly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_binary_garbage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation_rename, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation_waits_for_budget,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_twice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copytruncate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_then_recreate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_at_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replaced_by_directory,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
