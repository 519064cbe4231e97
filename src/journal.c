// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * journal.c - a FIFO of (time, level, text) records in one growing
 * buffer, trimmed from the front by age and by size. Appends are
 * amortised O(1); the front is compacted when half the buffer is dead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"

struct rec {
	int64_t unix_s;
	uint32_t len; /* text bytes, without NUL */
	uint8_t lvl;
	char text[];
};

struct pw_journal {
	int64_t max_age_s;
	size_t max_bytes;
	char *buf;
	size_t head, tail, cap; /* live records in buf[head, tail) */
	size_t n;
};

static size_t rec_size(size_t len)
{
	return (sizeof(struct rec) + len + 7) & ~(size_t)7;
}

static struct rec *rec_at(const struct pw_journal *j, size_t off)
{
	return (struct rec *)(void *)(j->buf + off);
}

struct pw_journal *pw_journal_new(int64_t max_age_s, size_t max_bytes)
{
	struct pw_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->max_age_s = max_age_s;
	j->max_bytes = max_bytes;
	return j;
}

void pw_journal_free(struct pw_journal *j)
{
	if (!j)
		return;
	free(j->buf);
	free(j);
}

static void trim(struct pw_journal *j, int64_t now_unix_s, size_t need)
{
	while (j->head < j->tail) {
		struct rec *r = rec_at(j, j->head);

		if (r->unix_s > now_unix_s - j->max_age_s &&
		    j->tail - j->head + need <= j->max_bytes)
			break;
		j->head += rec_size(r->len);
		j->n--;
	}
	if (j->head == j->tail)
		j->head = j->tail = 0;
}

void pw_journal_add(struct pw_journal *j, int64_t now_unix_s,
		    enum pw_log_level lvl, const char *line)
{
	size_t len = strnlen(line, PW_JOURNAL_LINE_MAX), need;
	struct rec *r;

	while (len && line[len - 1] == '\n')
		len--;
	need = rec_size(len);
	if (need > j->max_bytes)
		return;
	trim(j, now_unix_s, need);
	if (j->head > j->cap / 2) {
		memmove(j->buf, j->buf + j->head, j->tail - j->head);
		j->tail -= j->head;
		j->head = 0;
	}
	if (j->tail + need > j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 4096;
		char *p;

		while (cap < j->tail + need)
			cap *= 2;
		p = realloc(j->buf, cap);
		if (!p)
			return; /* the line is lost; the agent goes on */
		j->buf = p;
		j->cap = cap;
	}
	r = rec_at(j, j->tail);
	r->unix_s = now_unix_s;
	r->len = (uint32_t)len;
	r->lvl = (uint8_t)lvl;
	memcpy(r->text, line, len);
	j->tail += need;
	j->n++;
}

char *pw_journal_text(struct pw_journal *j, int64_t now_unix_s, size_t *n_lines)
{
	static const char *const lvl_name[] = {"error", "warning", "info",
					       "debug"};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	trim(j, now_unix_s, 0);
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	*n_lines = 0;
	for (size_t off = j->head; off < j->tail;) {
		struct rec *r = rec_at(j, off);
		time_t t = (time_t)r->unix_s;
		struct tm tm;
		char when[32];

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(f, "%s %s: %.*s\n", when,
			lvl_name[r->lvl < 4 ? r->lvl : 3], (int)r->len,
			r->text);
		(*n_lines)++;
		off += rec_size(r->len);
	}
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

void pw_journal_tap(enum pw_log_level lvl, const char *line, void *ctx)
{
	if (lvl <= PW_LOG_INFO)
		pw_journal_add(ctx, (int64_t)time(NULL), lvl, line);
}
