// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * capture.c - capture windows and sample draining for the agent.
 *
 * The window's end is written into each datapath's record, so the
 * datapath stops sampling on time even if the agent is gone; the agent
 * closes the window in its record too (pw_capture_poll) so the reasons
 * bit test goes back to zero. Samples carry the datapath's monotonic
 * time; one monotonic/real offset per drain turns it into Unix time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "agent.h"
#include "capture.h"
#include "datapath.h"
#include "journal.h"
#include "log.h"

struct pw_capture {
	struct pw_samples *ring;
	struct ring_buffer *rb[PW_MAX_INTERFACES];
	uint32_t window;      /* reasons of the open window, 0: none */
	uint64_t until_ns;    /* its end, datapath clock */
	int64_t until_unix_s; /* the same, for people */
	uint64_t window_first_seq;
	int64_t offset_ns; /* Unix time - datapath time, this drain */
	unsigned draining; /* interface whose ring is being drained */
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct pw_capture *c = ctx;
	struct pw_sample s;

	if (size < sizeof(s))
		return 0;
	memcpy(&s, data, sizeof(s));
	if (s.cap_len > PW_SAMPLE_MAX_BYTES)
		return 0;
	s.ts_ns = (uint64_t)((int64_t)s.ts_ns + c->offset_ns);
	s.pad = c->draining;
	pw_samples_push(c->ring, &s);
	return 0;
}

/* The capture state, created on first need. NULL when out of memory or
 * a ring cannot be opened (logged). */
static struct pw_capture *capture_get(struct pw_agent *a)
{
	struct pw_capture *c = a->capture;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ring = pw_samples_new((size_t)a->cfg.capture.ring_kib << 10);
	if (!c->ring)
		goto fail;
	for (size_t i = 0; i < a->n_ifaces; i++) {
		int fd = pw_datapath_map_fd(a->ifaces[i].dp, "samples");

		c->rb[i] = fd < 0 ? NULL
				  : ring_buffer__new(fd, on_sample, c, NULL);
		if (!c->rb[i]) {
			log_err("capture: %s: opening the sample ring: %s",
				a->ifaces[i].name,
				strerror(fd < 0 ? -fd : errno));
			goto fail;
		}
	}
	a->capture = c;
	return c;
fail:
	for (size_t i = 0; i < a->n_ifaces; i++)
		ring_buffer__free(c->rb[i]);
	pw_samples_free(c->ring);
	free(c);
	return NULL;
}

static int set_window(struct pw_agent *a, uint32_t reasons, uint64_t until_ns)
{
	int err = 0;

	for (size_t i = 0; i < a->n_ifaces; i++) {
		int rc = pw_datapath_set_sampling(a->ifaces[i].dp, reasons,
						  until_ns);

		if (rc) {
			log_err("capture: %s: setting the sampling window: %s",
				a->ifaces[i].name, strerror(-rc));
			err = err ? err : rc;
		}
	}
	return err;
}

static void drain(struct pw_agent *a, struct pw_capture *c)
{
	c->offset_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	for (size_t i = 0; i < a->n_ifaces; i++) {
		int rc;

		c->draining = (unsigned)i;
		rc = ring_buffer__consume(c->rb[i]);
		if (rc < 0)
			log_warn("capture: draining the sample ring of %s: %s",
				 a->ifaces[i].name, strerror(-rc));
	}
}

int pw_capture_start(struct pw_agent *a, uint32_t reasons, uint32_t seconds,
		     int64_t *until_unix_s)
{
	struct pw_capture *c;
	uint64_t now = pw_agent_now_ns(a);
	uint64_t until = now + (uint64_t)seconds * 1000000000ull;
	int err;

	if (!a->n_ifaces)
		return -ENODEV;
	c = capture_get(a);
	if (!c)
		return -ENOMEM;
	drain(a, c);
	if (c->window && c->until_ns > until)
		until = c->until_ns;
	if (!c->window)
		c->window_first_seq = pw_samples_next_seq(c->ring);
	err = set_window(a, c->window | reasons, until);
	if (err)
		return err;
	c->window |= reasons;
	c->until_ns = until;
	c->until_unix_s =
		pw_agent_unix_s(a) + (int64_t)((until - now) / 1000000000ull);
	*until_unix_s = c->until_unix_s;
	return 0;
}

void pw_capture_poll(struct pw_agent *a)
{
	struct pw_capture *c = a->capture;
	uint64_t n;

	if (a->simulated || (!c && !a->cfg.capture.reasons))
		return;
	if (!c)
		c = capture_get(a);
	if (!c)
		return;
	drain(a, c);
	if (c->window && pw_agent_now_ns(a) >= c->until_ns) {
		n = pw_samples_next_seq(c->ring) - c->window_first_seq;
		if (!set_window(a, 0, 0))
			c->window = 0;
		log_info("capture: window closed, %llu packets sampled in it",
			 (unsigned long long)n);
	}
}

const struct pw_samples *pw_capture_samples(const struct pw_agent *a)
{
	return a->capture ? a->capture->ring : NULL;
}

bool pw_capture_window(const struct pw_agent *a, uint32_t *reasons,
		       int64_t *until_unix_s)
{
	const struct pw_capture *c = a->capture;

	*reasons = c ? c->window : 0;
	*until_unix_s = c && c->window ? c->until_unix_s : 0;
	return c && c->window;
}

void pw_evidence_start(struct pw_agent *a)
{
	a->journal = pw_journal_new(PW_JOURNAL_AGE_S, PW_JOURNAL_MAX_BYTES);
	if (a->journal)
		pw_log_set_tap(pw_journal_tap, a->journal);
	else
		log_warn("out of memory: no in-memory log for evidence");
}

void pw_evidence_stop(struct pw_agent *a)
{
	struct pw_capture *c = a->capture;

	pw_log_set_tap(NULL, NULL);
	pw_journal_free(a->journal);
	a->journal = NULL;
	if (!c)
		return;
	for (size_t i = 0; i < a->n_ifaces; i++)
		ring_buffer__free(c->rb[i]);
	pw_samples_free(c->ring);
	free(c);
	a->capture = NULL;
}
