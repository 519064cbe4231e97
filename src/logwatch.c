// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * logwatch.c - follow the node's log files like `tail -F` and turn lines
 * matching a configured pattern into invalid-message reports.
 *
 * Polled, not event driven: the agent calls pw_logwatch_poll() once per
 * tick, so there are no threads and no inotify, and a file is looked at
 * no more often than the agent acts anyway. Each distinct path is opened
 * once however many entries watch it (two spellings of one file, through
 * a symlink or "//", are two paths and are read twice); every line read
 * from it is tried against each of those entries' patterns, and a line
 * matching two entries makes two reports.
 *
 * What is followed is the path, not the first file found there:
 *
 *  - At start an existing file is read from its end: what it holds is
 *    history, and replaying it on every restart would punish peers twice.
 *    If it ends inside a line, the rest of that line is discarded.
 *  - A missing path is not an error. It is tried again at every poll and,
 *    once it appears, read from its start (it is new since we started).
 *  - Rotation by rename, and deletion: each poll compares the inode the
 *    path names with the one we hold open. When they differ (or the path
 *    is gone) the file we hold is read to its end first, so lines written
 *    just before the rotation are not lost, then closed and the path
 *    opened again, from its start. A trailing line without "\n" in the
 *    old file is taken as complete, since its writer has moved on. Lines
 *    the writer still appends to the old file after that poll (it keeps
 *    writing there until told to reopen) are lost: that is the price of
 *    not holding every rotated file open.
 *  - Truncation (copytruncate): a file now shorter than our offset is
 *    read again from 0 and a partial line we held is dropped. As with
 *    tail, a file truncated and then refilled past our offset between
 *    two polls cannot be told from one that grew, and the refill's first
 *    bytes are missed; rename rotation has no such blind spot.
 *  - Reads use pread() at an offset we keep, in fixed chunks, never stdio:
 *    a line is assembled in a PW_LOGWATCH_LINE_MAX buffer per file, so a
 *    line without "\n" waits there for the next poll, and a longer line
 *    is skipped to its end and counted instead of growing anything.
 *
 * The work per poll is bounded: at most max_lines complete lines over all
 * files, and at most max_lines * (PW_LOGWATCH_LINE_MAX + 1) bytes, which
 * no run of valid lines reaches but which stops a gigabyte without a
 * newline from stalling a tick. What is not read waits for the next poll
 * (a pending rotation too: the old file is finished first).
 *
 * Log lines are untrusted (peers choose some of what nodes log): NUL and
 * other binary bytes are matched as ordinary bytes (REG_STARTEND), the
 * address in group 1 goes through the same parser as socket reports, and
 * text echoed into our own log is escaped, cut short and rate-limited.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logwatch.h"

/* Bytes asked of pread() at once. */
#define READ_CHUNK_BYTES 65536
/* Repeated warnings about one file or entry: at most one per interval. */
#define WARN_INTERVAL_S 60
/* Untrusted text echoed into a warning is cut at this many input bytes. */
#define ECHO_BUF    PW_ECHO_BUF
#define RL_NOTE_BUF 64

/* At most one message per WARN_INTERVAL_S; the ones held back are counted
 * and their number given with the next, in a note of RL_NOTE_BUF bytes. */
struct ratelimit {
	bool used;
	int64_t last_s;
	uint64_t held;
};

struct lw_file {
	char path[PW_PATH_MAX];
	int fd; /* -1 while the path names nothing we can follow */
	dev_t dev;
	ino_t ino;
	off_t off;     /* next byte of fd to read */
	size_t len;    /* bytes of the unfinished line in line[] */
	bool skipping; /* discarding up to the end of the current line */
	int open_err;  /* last failure to open the path, to log it once */
	struct ratelimit warn_rl; /* lines too long */
	struct ratelimit err_rl;  /* failed reads */
	char line[PW_LOGWATCH_LINE_MAX + 1];
};

struct lw_entry {
	struct pw_logwatch cfg; /* our copy: callbacks point into it */
	regex_t re;
	bool compiled;
	struct lw_file *file;
	struct ratelimit bad_rl;
};

struct pw_logwatch_set {
	struct lw_entry *entries;
	size_t n_entries;
	struct lw_file *files;
	size_t n_files;
	size_t first; /* file polled first, rotated so none starves */
	struct pw_logwatch_stats stats;
	char chunk[READ_CHUNK_BYTES];
};

/* What one poll may still consume. */
struct budget {
	size_t lines;
	uint64_t bytes;
};

static int64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static bool rl_allow(struct ratelimit *rl, char note[RL_NOTE_BUF])
{
	int64_t now = now_s();

	if (rl->used && now - rl->last_s < WARN_INTERVAL_S) {
		rl->held++;
		return false;
	}
	note[0] = '\0';
	if (rl->held)
		snprintf(note, RL_NOTE_BUF, " (%" PRIu64 " more held back)",
			 rl->held);
	rl->held = 0;
	rl->used = true;
	rl->last_s = now;
	return true;
}

/* Open f->path as a regular file, at its end or its start. -ENOENT when
 * there is nothing there yet, another -errno when there is something we
 * cannot follow (-EINVAL: not a regular file). */
static int file_open(struct lw_file *f, bool at_end)
{
	struct stat st;
	char last;
	int fd, ret;

	/* O_NONBLOCK: a FIFO put at the path must not hang the agent. */
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto fail;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->off = at_end ? st.st_size : 0;
	f->len = 0;
	f->skipping = false;
	/* Starting inside a line: its tail is not a line of its own. */
	if (f->off > 0 && pread(fd, &last, 1, f->off - 1) == 1 && last != '\n')
		f->skipping = true;
	return 0;
fail:
	close(fd);
	return ret;
}

static void file_close(struct lw_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
	f->skipping = false;
}

static void warn_open(struct lw_file *f, int err)
{
	if (err == f->open_err)
		return;
	f->open_err = err;
	if (err == -ENOENT)
		log_info("logwatch: %s does not exist; it will be read from "
			 "its start when it appears",
			 f->path);
	else if (err == -EINVAL)
		log_warn("logwatch: %s is not a regular file; retrying every "
			 "poll",
			 f->path);
	else
		log_warn("logwatch: cannot open %s: %s; retrying every poll",
			 f->path, strerror(-err));
}

/* Try each entry whose file is f on one complete line (NUL-terminated at
 * len, possibly holding NULs before). Returns the reports made. */
static size_t line_match(struct pw_logwatch_set *s, struct lw_file *f,
			 const char *line, size_t len, pw_logwatch_cb cb,
			 void *arg)
{
	char echo[ECHO_BUF];
	struct pw_report r;
	regmatch_t m[2];
	size_t i, n = 0;
	char note[RL_NOTE_BUF];

	for (i = 0; i < s->n_entries; i++) {
		struct lw_entry *e = &s->entries[i];
		const char *a;
		size_t alen;

		if (e->file != f)
			continue;
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)len;
		if (regexec(&e->re, line, 2, m, REG_STARTEND) != 0)
			continue;

		memset(&r, 0, sizeof(r));
		a = line + (m[1].rm_so >= 0 ? m[1].rm_so : 0);
		alen = m[1].rm_so >= 0 ? (size_t)(m[1].rm_eo - m[1].rm_so) : 0;
		if (pw_addr_parse_hostport(a, alen, &r.family, r.addr)) {
			s->stats.bad_addr++;
			if (rl_allow(&e->bad_rl, note)) {
				pw_echo_bytes(a, alen, echo);
				log_warn("logwatch: %s: pattern %zu (%s) "
					 "matched "
					 "but group 1 '%s' is not an address%s",
					 f->path, i, e->cfg.reason, echo, note);
			}
			continue;
		}
		r.verb = PW_REPORT_INVALID;
		r.weight = e->cfg.weight;
		_Static_assert(sizeof(r.reason) == sizeof(e->cfg.reason),
			       "report and config reasons differ in size");
		memcpy(r.reason, e->cfg.reason, sizeof(r.reason));
		s->stats.matches++;
		n++;
		if (cb)
			cb(arg, &r, &e->cfg);
	}
	return n;
}

/* Add len bytes (no "\n" among them) to the unfinished line. */
static void line_append(struct pw_logwatch_set *s, struct lw_file *f,
			const char *p, size_t len)
{
	char note[RL_NOTE_BUF];

	if (f->skipping || len == 0)
		return;
	if (len > PW_LOGWATCH_LINE_MAX - f->len) {
		f->skipping = true;
		f->len = 0;
		s->stats.too_long++;
		if (rl_allow(&f->warn_rl, note))
			log_warn("logwatch: %s: skipping a line longer than %d "
				 "bytes%s",
				 f->path, PW_LOGWATCH_LINE_MAX, note);
		return;
	}
	memcpy(f->line + f->len, p, len);
	f->len += len;
}

/* The unfinished line is complete: match it unless it is being skipped. */
static size_t line_end(struct pw_logwatch_set *s, struct lw_file *f,
		       pw_logwatch_cb cb, void *arg)
{
	size_t len = f->len, n = 0;

	s->stats.lines++;
	if (!f->skipping) {
		if (len > 0 && f->line[len - 1] == '\r')
			len--;
		f->line[len] = '\0';
		n = line_match(s, f, f->line, len, cb, arg);
	}
	f->len = 0;
	f->skipping = false;
	return n;
}

/* Read f from its offset until end of file or budget. *eof tells which.
 * Returns the reports made, or -errno from pread(). */
static ssize_t file_read(struct pw_logwatch_set *s, struct lw_file *f,
			 struct budget *b, bool *eof, pw_logwatch_cb cb,
			 void *arg)
{
	size_t matches = 0, pos, seg, want;
	char note[RL_NOTE_BUF];
	const char *p, *nl;
	ssize_t n;
	int ret;

	*eof = false;
	while (b->lines > 0 && b->bytes > 0) {
		want = b->bytes < sizeof(s->chunk) ? (size_t)b->bytes
						   : sizeof(s->chunk);
		n = pread(f->fd, s->chunk, want, f->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			if (rl_allow(&f->err_rl, note))
				log_err("logwatch: reading %s: %s%s", f->path,
					strerror(-ret), note);
			return ret;
		}
		if (n == 0) {
			*eof = true;
			break;
		}
		for (pos = 0; pos < (size_t)n && b->lines > 0;) {
			p = s->chunk + pos;
			nl = memchr(p, '\n', (size_t)n - pos);
			seg = nl ? (size_t)(nl - p) : (size_t)n - pos;
			line_append(s, f, p, seg);
			pos += seg;
			if (nl) {
				pos++;
				matches += line_end(s, f, cb, arg);
				b->lines--;
			}
		}
		/* Bytes after the last line the budget allowed are read
		 * again next time. */
		f->off += (off_t)pos;
		b->bytes -= pos;
	}
	return (ssize_t)matches;
}

/* f is closed: open its path from the start if something is there now,
 * and read it. Returns the reports made or -errno. */
static ssize_t file_appear(struct pw_logwatch_set *s, struct lw_file *f,
			   struct budget *b, pw_logwatch_cb cb, void *arg)
{
	bool eof;
	int ret;

	ret = file_open(f, false);
	if (ret) {
		warn_open(f, ret);
		return 0;
	}
	f->open_err = 0;
	s->stats.reopened++;
	log_info("logwatch: reading %s from its start", f->path);
	return file_read(s, f, b, &eof, cb, arg);
}

static ssize_t poll_file(struct pw_logwatch_set *s, struct lw_file *f,
			 struct budget *b, pw_logwatch_cb cb, void *arg)
{
	struct stat pst, fst;
	ssize_t got, more;
	int path_err = 0, ret;
	char note[RL_NOTE_BUF];
	bool eof;

	if (f->fd < 0)
		return file_appear(s, f, b, cb, arg);

	/* Where the path points, taken before draining what we hold, so
	 * the old file's writer has had the longest time to finish. */
	if (stat(f->path, &pst))
		path_err = errno;
	if (fstat(f->fd, &fst)) {
		ret = -errno;
		if (rl_allow(&f->err_rl, note))
			log_err("logwatch: fstat %s: %s%s", f->path,
				strerror(-ret), note);
		return ret;
	}
	if (fst.st_size < f->off) {
		log_info("logwatch: %s was truncated; reading it again from "
			 "its start",
			 f->path);
		f->off = 0;
		f->len = 0;
		f->skipping = false;
		s->stats.reopened++;
	}

	got = file_read(s, f, b, &eof, cb, arg);
	if (got < 0 || !eof)
		return got;
	if (!path_err && pst.st_dev == f->dev && pst.st_ino == f->ino)
		return got;
	/* Cannot tell where the path points (EACCES on a directory, say):
	 * keep following what we have rather than guess. */
	if (path_err && path_err != ENOENT)
		return got;

	/* Another file or none is at the path now: ours is finished. eof
	 * means the budget still had a line left for its last one. */
	if (f->len > 0 || f->skipping) {
		got += (ssize_t)line_end(s, f, cb, arg);
		b->lines--;
	}
	file_close(f);
	if (!path_err)
		log_info("logwatch: %s was replaced (rotated)", f->path);
	more = file_appear(s, f, b, cb, arg);
	return more < 0 ? more : got + more;
}

int pw_logwatch_poll(struct pw_logwatch_set *s, size_t max_lines,
		     pw_logwatch_cb cb, void *arg)
{
	struct budget b = {.lines = max_lines};
	size_t i, total = 0;
	ssize_t got;
	int err = 0;

	if (!s)
		return -EINVAL;
	if (max_lines > UINT64_MAX / (PW_LOGWATCH_LINE_MAX + 1))
		b.bytes = UINT64_MAX;
	else
		b.bytes = (uint64_t)max_lines * (PW_LOGWATCH_LINE_MAX + 1);

	for (i = 0; i < s->n_files && b.lines > 0; i++) {
		got = poll_file(s, &s->files[(s->first + i) % s->n_files], &b,
				cb, arg);
		if (got < 0 && !err)
			err = (int)got;
		else if (got > 0)
			total += (size_t)got;
	}
	if (s->n_files > 0)
		s->first = (s->first + 1) % s->n_files;
	if (err)
		return err;
	return total > INT_MAX ? INT_MAX : (int)total;
}

static struct lw_file *file_for(struct pw_logwatch_set *s, const char *path)
{
	struct lw_file *f;
	size_t i;

	for (i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return &s->files[i];
	f = &s->files[s->n_files++];
	strcpy(f->path, path);
	f->fd = -1;
	return f;
}

static bool str_fits(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int entry_init(struct pw_logwatch_set *s, const struct pw_logwatch *c,
		      size_t idx)
{
	struct lw_entry *e = &s->entries[idx];
	char why[128];
	int rc;

	if (!str_fits(c->path, sizeof(c->path)) || !c->path[0] ||
	    !str_fits(c->pattern, sizeof(c->pattern)) ||
	    !str_fits(c->reason, sizeof(c->reason))) {
		log_err("logwatch: entry %zu: path, pattern or reason is empty "
			"or not terminated",
			idx);
		return -EINVAL;
	}
	if (c->weight < PW_REPORT_WEIGHT_MIN ||
	    c->weight > PW_REPORT_WEIGHT_MAX) {
		log_err("logwatch: entry %zu (%s): weight %u is outside %d..%d",
			idx, c->path, c->weight, PW_REPORT_WEIGHT_MIN,
			PW_REPORT_WEIGHT_MAX);
		return -EINVAL;
	}
	e->cfg = *c;
	rc = regcomp(&e->re, c->pattern, REG_EXTENDED);
	if (rc) {
		regerror(rc, &e->re, why, sizeof(why));
		log_err("logwatch: entry %zu (%s): pattern does not compile: "
			"%s",
			idx, c->path, why);
		return -EINVAL;
	}
	e->compiled = true;
	if (e->re.re_nsub < 1) {
		log_err("logwatch: entry %zu (%s): pattern has no group 1 for "
			"the address",
			idx, c->path);
		return -EINVAL;
	}
	e->file = file_for(s, c->path);
	return 0;
}

int pw_logwatch_new(const struct pw_logwatch *cfg, size_t n,
		    struct pw_logwatch_set **out)
{
	struct pw_logwatch_set *s;
	struct lw_file *f;
	size_t i;
	int ret;

	if (!out || (n > 0 && !cfg))
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->entries = calloc(n ? n : 1, sizeof(*s->entries));
	s->files = calloc(n ? n : 1, sizeof(*s->files));
	if (!s->entries || !s->files) {
		ret = -ENOMEM;
		goto cleanup;
	}

	for (i = 0; i < n; i++) {
		ret = entry_init(s, &cfg[i], i);
		s->n_entries = i + 1; /* regfree what was compiled */
		if (ret)
			goto cleanup;
	}
	for (i = 0; i < s->n_files; i++) {
		f = &s->files[i];
		ret = file_open(f, true);
		if (ret == -ENOENT) {
			warn_open(f, ret);
			continue;
		}
		if (ret) {
			if (ret == -EINVAL)
				log_err("logwatch: %s is not a regular file",
					f->path);
			else
				log_err("logwatch: cannot open %s: %s", f->path,
					strerror(-ret));
			goto cleanup;
		}
	}
	*out = s;
	return 0;

cleanup:
	pw_logwatch_free(s);
	return ret;
}

void pw_logwatch_free(struct pw_logwatch_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_entries; i++)
		if (s->entries[i].compiled)
			regfree(&s->entries[i].re);
	for (i = 0; i < s->n_files; i++)
		file_close(&s->files[i]);
	free(s->entries);
	free(s->files);
	free(s);
}

void pw_logwatch_get_stats(const struct pw_logwatch_set *s,
			   struct pw_logwatch_stats *out)
{
	if (s)
		*out = s->stats;
	else
		memset(out, 0, sizeof(*out));
}
