// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_metrics.c - unit tests for src/metrics.c.
 *
 * Rendering is tested on a hand-built agent (a real scoring engine and ban
 * registry, no interfaces: BPF is not loaded here) and the text is run
 * through a small checker of the exposition format: every line is a HELP,
 * a TYPE or a sample `name{label="value",...} value`, HELP and TYPE come
 * before a family's samples, a family's samples are contiguous, no series
 * appears twice, counters end in _total. The checker is itself tested on a
 * table of broken texts it must refuse.
 *
 * The server is tested for real: it listens on 127.0.0.1 (port chosen by
 * the kernel), this thread drives it the way the agent does (poll MHD's
 * epoll fd, pw_metrics_run) while a client thread speaks raw HTTP to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "bans.h"
#include "metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define NOW_NS	      (1000ull * 1000000000ull)
#define MAX_PEERS     1024
#define MAX_BANS      64
#define HTTP_RESP_MAX (256u << 10)
#define HTTP_WAIT_MS  5000 /* a request that takes longer has failed */
#define POLL_SLICE_MS 20
#define MAX_FAMILIES  128
#define MAX_SERIES    512
#define LABELS_MAX    512

static struct pw_agent agent;

static struct pw_cidr cidr(const char *s)
{
	struct pw_cidr c;
	char err[128];

	assert_int_equal(pw_cidr_parse(s, &c, err, sizeof(err)), 0);
	return c;
}

static int setup_agent(void **state)
{
	struct pw_score_params p;
	struct pw_ban_record rec;
	struct pw_agent *a = &agent;

	memset(a, 0, sizeof(*a));
	pw_score_params_defaults(&p);
	a->engine = pw_engine_new(&p, MAX_PEERS, 1);
	a->bans = pw_bans_new(MAX_BANS);
	assert_non_null(a->engine);
	assert_non_null(a->bans);
	snprintf(a->config_hash, sizeof(a->config_hash), "0123456789abcdef");

	memset(&rec, 0, sizeof(rec));
	rec.cidr = cidr("192.0.2.7/32");
	rec.origin = PW_ORIGIN_MANUAL;
	assert_int_equal(pw_engine_manual_ban(a->engine, &rec.cidr, 0, NOW_NS),
			 0);
	assert_int_equal(pw_bans_put(a->bans, &rec), 0);
	pw_engine_set_posture(a->engine, PW_POSTURE_SEVERE);

	a->ctr.ticks = 42;
	a->ctr.reports[PW_REPORT_INVALID] = 7;
	a->ctr.reports[PW_REPORT_GOOD] = 3;
	a->ctr.reports_rejected = 5;
	a->ctr.reports_dropped = 11;
	a->ctr.attention_events = 13;
	a->ctr.attention_deferred = 17;
	a->ctr.state_writes = 19;
	a->ctr.state_failures = 2;
	a->ctr.control_requests = 23;
	a->ctr.control_refused = 1;
	a->ctr.trusted_reported = 29;
	a->ctr.tick_ms_last = 12.5;
	a->ctr.tick_ms_max = 250;
	*state = a;
	return 0;
}

static int teardown_agent(void **state)
{
	struct pw_agent *a = *state;

	pw_engine_free(a->engine);
	pw_bans_free(a->bans);
	return 0;
}

/* --- exposition format checker ---------------------------------------- */

struct family {
	char name[128];
	char type[16];
	bool help, samples;
};

struct expo {
	struct family fam[MAX_FAMILIES];
	size_t n_fam;
	struct family *cur; /* family whose samples may follow */
	char *series[MAX_SERIES];
	size_t n_series;
};

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/* Length of the metric (or label) name at *p; advances past it. */
static size_t scan_name(const char **p, bool label)
{
	const char *start = *p, *s = *p;

	if (!name_char(*s, true) || (label && *s == ':'))
		return 0;
	while (name_char(*s, false) && !(label && *s == ':'))
		s++;
	*p = s;
	return (size_t)(s - start);
}

static struct family *find_family(struct expo *x, const char *name, size_t n)
{
	for (size_t i = 0; i < x->n_fam; i++)
		if (strlen(x->fam[i].name) == n &&
		    !strncmp(x->fam[i].name, name, n))
			return &x->fam[i];
	return NULL;
}

static struct family *add_family(struct expo *x, const char *name, size_t n)
{
	struct family *f = find_family(x, name, n);

	if (f)
		return f;
	if (x->n_fam == MAX_FAMILIES || n >= sizeof(f->name))
		return NULL;
	f = &x->fam[x->n_fam++];
	memset(f, 0, sizeof(*f));
	memcpy(f->name, name, n);
	return f;
}

static bool valid_value(const char *s, size_t n, double *out)
{
	char tmp[64], *end;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!strcmp(tmp, "+Inf") || !strcmp(tmp, "-Inf") ||
	    !strcmp(tmp, "NaN")) {
		*out = 0;
		return true;
	}
	if (!isdigit((unsigned char)tmp[0]) && tmp[0] != '-' && tmp[0] != '+' &&
	    tmp[0] != '.')
		return false;
	*out = strtod(tmp, &end);
	return *end == '\0';
}

/* `# HELP name text` or `# TYPE name type`; other comments are allowed. */
static const char *check_comment(struct expo *x, const char *l, size_t n)
{
	const char *p = l + 2, *name;
	bool help;
	struct family *f;
	size_t nlen;

	if (n < 2 || l[1] != ' ')
		return "comment without a space after #";
	if (n >= 7 && !strncmp(p, "HELP ", 5))
		help = true;
	else if (n >= 7 && !strncmp(p, "TYPE ", 5))
		help = false;
	else
		return NULL;
	p += 5;
	name = p;
	nlen = scan_name(&p, false);
	if (!nlen || (p < l + n && *p != ' '))
		return "bad metric name in HELP/TYPE";
	f = add_family(x, name, nlen);
	if (!f)
		return "too many families";
	if (f->samples)
		return "HELP/TYPE after the family's samples";
	if (help) {
		if (f->help)
			return "second HELP";
		if (p >= l + n || p + 1 >= l + n)
			return "HELP without text";
		f->help = true;
	} else {
		static const char *const types[] = {
			"counter", "gauge", "histogram", "summary", "untyped"};
		size_t tlen = (size_t)(l + n - p - 1);
		bool ok = false;

		if (f->type[0])
			return "second TYPE";
		if (p >= l + n)
			return "TYPE without type";
		for (size_t i = 0; i < ARRAY_SIZE(types); i++)
			if (strlen(types[i]) == tlen &&
			    !strncmp(p + 1, types[i], tlen))
				ok = true;
		if (!ok)
			return "unknown TYPE";
		memcpy(f->type, p + 1, tlen);
	}
	x->cur = f;
	return NULL;
}

/* `name{label="value",...} value [timestamp]` */
static const char *check_sample(struct expo *x, const char *l, size_t n)
{
	const char *p = l, *end = l + n, *name = l, *v;
	char key[LABELS_MAX + 128];
	size_t nlen = scan_name(&p, false), klen;
	double value;

	if (!nlen)
		return "sample without a metric name";
	if (!x->cur || strlen(x->cur->name) != nlen ||
	    strncmp(x->cur->name, name, nlen))
		return "sample outside its family (no TYPE, or not contiguous)";
	if (!x->cur->help || !x->cur->type[0])
		return "sample before its family's HELP and TYPE";
	if (*p == '{') {
		p++;
		while (p < end && *p != '}') {
			if (!scan_name(&p, true))
				return "bad label name";
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return "label without =\"";
			p += 2;
			while (p < end && *p != '"') {
				if (*p == '\\') {
					if (p + 1 >= end ||
					    !strchr("\\\"n", p[1]))
						return "bad escape in label "
						       "value";
					p++;
				} else if (*p == '\n') {
					return "raw newline in label value";
				}
				p++;
			}
			if (p >= end)
				return "unterminated label value";
			p++;
			if (p < end && *p == ',')
				p++;
			else if (p < end && *p != '}')
				return "labels not separated by ','";
		}
		if (p >= end)
			return "unterminated label set";
		p++;
	}
	klen = (size_t)(p - l);
	if (p >= end || *p != ' ')
		return "no space before the value";
	p++;
	v = p;
	while (p < end && *p != ' ')
		p++;
	if (!valid_value(v, (size_t)(p - v), &value))
		return "value is not a number";
	if (p < end) {
		p++;
		if (p == end)
			return "trailing space";
		for (; p < end; p++)
			if (!isdigit((unsigned char)*p) && *p != '-')
				return "timestamp is not an integer";
	}
	if (!strcmp(x->cur->type, "counter")) {
		if (nlen < 6 || strncmp(name + nlen - 6, "_total", 6))
			return "counter name without _total";
		if (value < 0)
			return "negative counter";
	}
	if (klen >= sizeof(key) || x->n_series == MAX_SERIES)
		return "too many or too long series";
	memcpy(key, l, klen);
	key[klen] = '\0';
	for (size_t i = 0; i < x->n_series; i++)
		if (!strcmp(x->series[i], key))
			return "series appears twice";
	x->series[x->n_series++] = strdup(key);
	x->cur->samples = true;
	return NULL;
}

static void expo_free(struct expo *x)
{
	for (size_t i = 0; i < x->n_series; i++)
		free(x->series[i]);
	free(x);
}

/* NULL when text is valid exposition; else what is wrong (and *line). */
static const char *check_exposition(const char *text, size_t len,
				    unsigned *line)
{
	struct expo *x = calloc(1, sizeof(*x));
	const char *p = text, *end = text + len, *err = NULL;

	assert_non_null(x);
	*line = 0;
	if (len == 0 || text[len - 1] != '\n')
		err = "text does not end with a newline";
	while (!err && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		++*line;
		if (memchr(p, '\0', n))
			err = "NUL byte";
		else if (n == 0)
			err = NULL; /* blank lines are allowed */
		else if (p[0] == '#')
			err = check_comment(x, p, n);
		else
			err = check_sample(x, p, n);
		p = nl + 1;
	}
	for (size_t i = 0; !err && i < x->n_fam; i++)
		if (!x->fam[i].help || !x->fam[i].type[0])
			err = "family without HELP or TYPE";
	expo_free(x);
	return err;
}

static void assert_exposition(const char *text, size_t len)
{
	unsigned line;
	const char *err = check_exposition(text, len, &line);

	if (err)
		fail_msg("exposition invalid at line %u: %s", line, err);
}

/* The checker must refuse each of these: one row per rule. */
static void test_checker_refuses(void **state)
{
	static const struct {
		const char *desc, *text;
	} rows[] = {
		{"no final newline",
		 "# HELP a_total x\n# TYPE a_total counter\n"
		 "a_total 1"},
		{"sample without TYPE", "a 1\n"},
		{"sample without HELP", "# TYPE a gauge\na 1\n"},
		{"bad type", "# HELP a x\n# TYPE a gauges\na 1\n"},
		{"counter without _total",
		 "# HELP a x\n# TYPE a counter\na 1\n"},
		{"negative counter",
		 "# HELP a_total x\n# TYPE a_total counter\na_total -1\n"},
		{"value not a number", "# HELP a x\n# TYPE a gauge\na one\n"},
		{"no value", "# HELP a x\n# TYPE a gauge\na\n"},
		{"two spaces", "# HELP a x\n# TYPE a gauge\na  1\n"},
		{"label unquoted", "# HELP a x\n# TYPE a gauge\na{b=c} 1\n"},
		{"label unterminated",
		 "# HELP a x\n# TYPE a gauge\na{b=\"c} 1\n"},
		{"bad escape", "# HELP a x\n# TYPE a gauge\na{b=\"\\t\"} 1\n"},
		{"label name with colon",
		 "# HELP a x\n# TYPE a gauge\na{b:c=\"d\"} 1\n"},
		{"labels without comma",
		 "# HELP a x\n# TYPE a gauge\na{b=\"1\"c=\"2\"} 1\n"},
		{"duplicate series",
		 "# HELP a x\n# TYPE a gauge\na{b=\"1\"} 1\na{b=\"1\"} 2\n"},
		{"family not contiguous",
		 "# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\n"
		 "b 1\na{c=\"1\"} 1\n"},
		{"TYPE after samples",
		 "# HELP a x\n# TYPE a gauge\na 1\n# TYPE a gauge\n"},
		{"HELP without TYPE", "# HELP a x\n"},
		{"bad metric name", "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n"},
		{"trailing space", "# HELP a x\n# TYPE a gauge\na 1 \n"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		unsigned line;

		if (!check_exposition(rows[i].text, strlen(rows[i].text),
				      &line))
			fail_msg("checker accepted: %s", rows[i].desc);
	}
	/* And accepts the forms the format allows. */
	{
		static const char ok[] =
			"# HELP a_total x y z\n# TYPE a_total counter\n"
			"a_total{b=\"q\\\"\\\\\\n\",c=\"\"} 1.5e3 "
			"1700000000000\n"
			"a_total{b=\"r\",} 0\n\n# a free comment\n"
			"# HELP g x\n# TYPE g gauge\ng -Inf\ng{x=\"1\"} NaN\n";
		unsigned line;
		const char *err = check_exposition(ok, strlen(ok), &line);

		if (err)
			fail_msg("checker refused valid text at line %u: %s",
				 line, err);
	}
}

/* --- rendering --------------------------------------------------------- */

static void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("missing from the exposition: %s", needle);
}

static void test_render_families(void **state)
{
	static const struct {
		const char *name, *type;
	} families[] = {
		{"peerwall_packets_total", "counter"},
		{"peerwall_bytes_total", "counter"},
		{"peerwall_malformed_dropped_total", "counter"},
		{"peerwall_monitor_passed_total", "counter"},
		{"peerwall_attention_events_total", "counter"},
		{"peerwall_attention_lost_total", "counter"},
		{"peerwall_source_table_full_total", "counter"},
		{"peerwall_attention_consumed_total", "counter"},
		{"peerwall_attention_deferred_total", "counter"},
		{"peerwall_sources_tracked", "gauge"},
		{"peerwall_sources_evicted_total", "counter"},
		{"peerwall_bans_active", "gauge"},
		{"peerwall_bans_issued_total", "counter"},
		{"peerwall_guard_limited_total", "counter"},
		{"peerwall_trusted_ignored_total", "counter"},
		{"peerwall_reports_total", "counter"},
		{"peerwall_reports_rejected_total", "counter"},
		{"peerwall_reports_dropped_total", "counter"},
		{"peerwall_reports_trusted_total", "counter"},
		{"peerwall_emergency", "gauge"},
		{"peerwall_emergency_drops_total", "counter"},
		{"peerwall_connlimit_rejects_total", "counter"},
		{"peerwall_nft_ban_drops_total", "counter"},
		{"peerwall_connections_established", "gauge"},
		{"peerwall_nft_failures_total", "counter"},
		{"peerwall_posture", "gauge"},
		{"peerwall_mode", "gauge"},
		{"peerwall_interface_attached", "gauge"},
		{"peerwall_config_info", "gauge"},
		{"peerwall_tick_duration_seconds", "gauge"},
		{"peerwall_tick_duration_max_seconds", "gauge"},
		{"peerwall_ticks_total", "counter"},
		{"peerwall_state_writes_total", "counter"},
		{"peerwall_state_write_failures_total", "counter"},
		{"peerwall_control_requests_total", "counter"},
		{"peerwall_control_refused_total", "counter"},
		{"peerwall_samples_total", "counter"},
		{"peerwall_samples_limited_total", "counter"},
		{"peerwall_samples_lost_total", "counter"},
	};
	struct pw_agent *a = *state;
	char *text, want[256];
	size_t len;
	unsigned n_help = 0;

	assert_int_equal(pw_metrics_render(a, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_exposition(text, len);
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		snprintf(want, sizeof(want), "# HELP %s ", families[i].name);
		assert_has(text, want);
		snprintf(want, sizeof(want), "# TYPE %s %s\n", families[i].name,
			 families[i].type);
		assert_has(text, want);
	}
	/* No family that the list above (and docs/metrics.md) lacks. */
	for (const char *p = text; (p = strstr(p, "# HELP ")); p++)
		n_help++;
	assert_int_equal(n_help, ARRAY_SIZE(families));
	free(text);
}

static void test_render_values(void **state)
{
	struct pw_agent *a = *state;
	struct pw_engine_stats es;
	char *text, want[128];
	size_t len;

	pw_engine_get_stats(a->engine, &es);
	assert_int_equal(pw_metrics_render(a, &text, &len), 0);
	/* Every per-packet reason, with the verdict it implies. */
	for (unsigned r = 0; r < PW_R_NR; r++) {
		const char *name = pw_stat_name(r);
		const char *verdict =
			!strncmp(name, "drop_", 5) ? "drop" : "pass";

		snprintf(want, sizeof(want),
			 "peerwall_packets_total{reason=\"%s\",verdict=\"%s\"} "
			 "0\n",
			 name, verdict);
		assert_has(text, want);
		snprintf(want, sizeof(want),
			 "peerwall_bytes_total{reason=\"%s\",verdict=\"%s\"} "
			 "0\n",
			 name, verdict);
		assert_has(text, want);
	}
	assert_has(text, "{reason=\"malformed\",verdict=\"pass\"}");
	assert_has(text, "{reason=\"drop_banned\",verdict=\"drop\"}");
	/* Extras are not reasons. */
	assert_null(strstr(text, "reason=\"monitor_passed\""));

	assert_has(text, "peerwall_bans_issued_total{cause=\"manual\"} 1\n");
	assert_has(text, "peerwall_bans_issued_total{cause=\"spoofable\"} 0\n");
	assert_has(text, "peerwall_bans_issued_total{cause=\"verified\"} 0\n");
	assert_has(text, "peerwall_bans_issued_total{cause=\"prefix\"} 0\n");
	assert_has(text, "peerwall_bans_active 1\n");
	snprintf(want, sizeof(want), "peerwall_sources_tracked %llu\n",
		 (unsigned long long)es.peers);
	assert_has(text, want);

	assert_has(text, "peerwall_posture{posture=\"normal\"} 0\n");
	assert_has(text, "peerwall_posture{posture=\"elevated\"} 0\n");
	assert_has(text, "peerwall_posture{posture=\"severe\"} 1\n");
	assert_has(text, "peerwall_mode{mode=\"enforce\"} 1\n");
	assert_has(text, "peerwall_mode{mode=\"monitor\"} 0\n");
	assert_has(text, "peerwall_emergency 0\n");
	assert_null(strstr(text, "peerwall_interface_attached{"));
	assert_has(text, "peerwall_config_info{hash=\"0123456789abcdef\"} 1\n");

	assert_has(text, "peerwall_ticks_total 42\n");
	assert_has(text, "peerwall_reports_total{verb=\"invalid\"} 7\n");
	assert_has(text, "peerwall_reports_total{verb=\"good\"} 3\n");
	assert_has(text, "peerwall_reports_rejected_total 5\n");
	assert_has(text, "peerwall_reports_dropped_total 11\n");
	assert_has(text, "peerwall_reports_trusted_total 29\n");
	assert_has(text, "peerwall_attention_consumed_total 13\n");
	assert_has(text, "peerwall_attention_deferred_total 17\n");
	assert_has(text, "peerwall_state_writes_total 19\n");
	assert_has(text, "peerwall_state_write_failures_total 2\n");
	assert_has(text, "peerwall_control_requests_total 23\n");
	assert_has(text, "peerwall_control_refused_total 1\n");
	assert_has(text, "peerwall_tick_duration_seconds 0.0125\n");
	assert_has(text, "peerwall_tick_duration_max_seconds 0.25\n");
	free(text);
}

/* Gauges follow the engine: posture back to normal, ban lifted. */
static void test_render_follows_state(void **state)
{
	struct pw_agent *a = *state;
	struct pw_cidr c = cidr("192.0.2.7/32");
	char *text;
	size_t len;

	pw_engine_set_posture(a->engine, PW_POSTURE_NORMAL);
	assert_int_equal(pw_bans_del(a->bans, &c), 0);
	a->cfg.mode = PW_MODE_MONITOR;
	assert_int_equal(pw_metrics_render(a, &text, &len), 0);
	assert_exposition(text, len);
	assert_has(text, "peerwall_posture{posture=\"normal\"} 1\n");
	assert_has(text, "peerwall_posture{posture=\"severe\"} 0\n");
	assert_has(text, "peerwall_mode{mode=\"monitor\"} 1\n");
	assert_has(text, "peerwall_bans_active 0\n");
	/* Issued is a counter: lifting a ban does not take it back. */
	assert_has(text, "peerwall_bans_issued_total{cause=\"manual\"} 1\n");
	free(text);
	a->cfg.mode = PW_MODE_ENFORCE;
}

/* --- listen strings ---------------------------------------------------- */

static void test_parse_listen(void **state)
{
	static const struct {
		const char *s;
		int family; /* 0: must be refused */
		uint16_t port;
	} rows[] = {
		{"127.0.0.1:9477", AF_INET, 9477},
		{"[::1]:9477", AF_INET6, 9477},
		{"10.1.2.3:1", AF_INET, 1},
		{"127.0.0.1:0", AF_INET, 0},
		{"[fe80::1]:65535", AF_INET6, 65535},
		{"", 0, 0},
		{"127.0.0.1", 0, 0},
		{"127.0.0.1:", 0, 0},
		{"127.0.0.1:65536", 0, 0},
		{"127.0.0.1:-1", 0, 0},
		{"127.0.0.1:80x", 0, 0},
		{"127.0.0.1:123456", 0, 0},
		{"localhost:9477", 0, 0},
		{":9477", 0, 0},
		{"::1:9477", 0, 0},
		{"[::1]", 0, 0},
		{"[::1]9477", 0, 0},
		{"[::1:9477", 0, 0},
		{"[]:9477", 0, 0},
		{"[127.0.0.1]:9477", 0, 0},
		{"1.2.3:9477", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int err = pw_metrics_parse_listen(rows[i].s, &ss, &len);
		uint16_t port;

		if (!rows[i].family) {
			if (err != -EINVAL)
				fail_msg("\"%s\" accepted", rows[i].s);
			continue;
		}
		if (err)
			fail_msg("\"%s\" refused: %d", rows[i].s, err);
		assert_int_equal(ss.ss_family, rows[i].family);
		port = rows[i].family == AF_INET
			       ? ((struct sockaddr_in *)&ss)->sin_port
			       : ((struct sockaddr_in6 *)&ss)->sin6_port;
		assert_int_equal(ntohs(port), rows[i].port);
		assert_int_equal(len, rows[i].family == AF_INET
					      ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6));
	}
	assert_int_equal(pw_metrics_parse_listen(NULL,
						 &(struct sockaddr_storage){0},
						 &(socklen_t){0}),
			 -EINVAL);
}

static void test_start_refuses_bad_listen(void **state)
{
	static const char *const bad[] = {"", "127.0.0.1", "localhost:9477",
					  "0:9477"};
	struct pw_metrics *m;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		m = (struct pw_metrics *)&m; /* garbage start must clear */
		assert_int_equal(pw_metrics_start(bad[i], *state, &m), -EINVAL);
		assert_null(m);
	}
}

/* --- HTTP --------------------------------------------------------------- */

struct http_call {
	int family;
	const char *addr;
	uint16_t port;
	const char *request;
	char *resp; /* NUL-terminated */
	size_t len;
	int err;
	atomic_bool done;
};

static void *http_client(void *arg)
{
	struct http_call *h = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t off = 0, n = strlen(h->request);
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (h->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(h->port);
		inet_pton(AF_INET6, h->addr, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(h->port);
		inet_pton(AF_INET, h->addr, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	h->len = 0;
	h->err = 0;
	h->resp = calloc(1, HTTP_RESP_MAX + 1);
	fd = socket(h->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!h->resp || fd < 0) {
		h->err = -errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl)) {
		h->err = -errno;
		goto out;
	}
	while (off < n) {
		ssize_t w = send(fd, h->request + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			h->err = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	for (;;) {
		ssize_t r =
			recv(fd, h->resp + h->len, HTTP_RESP_MAX - h->len, 0);

		if (r < 0) {
			h->err = -errno;
			break;
		}
		if (r == 0 || (h->len += (size_t)r) == HTTP_RESP_MAX)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	atomic_store(&h->done, true);
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the request on a client thread while driving the server here the
 * way the agent's loop does: MHD's fd in an epoll set of our own. */
static void http_do(struct pw_metrics *m, struct http_call *h)
{
	struct epoll_event ev = {.events = EPOLLIN}, out;
	uint64_t deadline = mono_ms() + HTTP_WAIT_MS;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	pthread_t t;

	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, pw_metrics_fd(m), &ev),
			 0);
	atomic_init(&h->done, false);
	assert_int_equal(pthread_create(&t, NULL, http_client, h), 0);
	while (!atomic_load(&h->done) && mono_ms() < deadline) {
		epoll_wait(ep, &out, 1, POLL_SLICE_MS);
		pw_metrics_run(m);
	}
	close(ep);
	assert_true(atomic_load(&h->done));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(h->err, 0);
}

static int http_status(const struct http_call *h)
{
	int status = 0;

	if (sscanf(h->resp, "HTTP/1.%*d %d ", &status) != 1)
		return -1;
	return status;
}

/* Value of header name (case-insensitive) into out; false if absent. */
static bool http_header(const struct http_call *h, const char *name, char *out,
			size_t len)
{
	const char *end = strstr(h->resp, "\r\n\r\n");
	size_t n = strlen(name);

	for (const char *p = strstr(h->resp, "\r\n"); p && p < end;
	     p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2, *eol = strstr(l, "\r\n");

		if (!strncasecmp(l, name, n) && l[n] == ':') {
			l += n + 1;
			while (*l == ' ')
				l++;
			snprintf(out, len, "%.*s", (int)(eol - l), l);
			return true;
		}
	}
	return false;
}

static const char *http_body(const struct http_call *h)
{
	const char *p = strstr(h->resp, "\r\n\r\n");

	return p ? p + 4 : NULL;
}

static void http_call_free(struct http_call *h)
{
	free(h->resp);
	h->resp = NULL;
	h->len = 0;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#define GET(path)                                                              \
	"GET " path " HTTP/1.1\r\nHost: localhost\r\nConnection: "             \
	"close\r\n\r\n"

static void test_http_v4(void **state)
{
	static const struct {
		const char *desc, *request;
		int status;
	} statuses[] = {
		{"query string ignored", GET("/metrics?x=1"), 200},
		{"other path", GET("/other"), 404},
		{"trailing slash", GET("/metrics/"), 404},
		{"POST with a body",
		 "POST /metrics HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Type: text/plain\r\nContent-Length: 5\r\n"
		 "Connection: close\r\n\r\nhello",
		 405},
		{"DELETE",
		 "DELETE /metrics HTTP/1.1\r\nHost: localhost\r\n"
		 "Connection: close\r\n\r\n",
		 405},
		{"POST elsewhere",
		 "POST /x HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Length: 0\r\n"
		 "Connection: close\r\n\r\n",
		 404},
	};
	struct pw_metrics *m;
	struct http_call h = {.family = AF_INET, .addr = "127.0.0.1"};
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	unsigned fds = open_fds();
	char v[256];
	const char *body;
	int idle;

	assert_int_equal(pw_metrics_start("127.0.0.1:0", *state, &m), 0);
	assert_non_null(m);
	assert_true(pw_metrics_fd(m) >= 0);
	h.port = pw_metrics_port(m);
	assert_true(h.port > 0);
	/* Idle: nothing to do, returns at once. */
	pw_metrics_run(m);

	/* A client that connects and stalls mid-request does not hold up
	 * the others: the server never blocks on one connection. */
	idle = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(idle >= 0);
	sin.sin_port = htons(h.port);
	assert_int_equal(connect(idle, (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	assert_int_equal(send(idle, "GET /met", 8, MSG_NOSIGNAL), 8);

	h.request = GET("/metrics");
	http_do(m, &h);
	assert_int_equal(http_status(&h), 200);
	assert_true(http_header(&h, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, PW_METRICS_CONTENT_TYPE);
	assert_non_null(strstr(v, "text/plain; version=0.0.4"));
	body = http_body(&h);
	assert_non_null(body);
	assert_true(http_header(&h, "Content-Length", v, sizeof(v)));
	assert_int_equal(strtoul(v, NULL, 10), strlen(body));
	assert_exposition(body, strlen(body));
	assert_non_null(strstr(body, "peerwall_ticks_total 42\n"));
	http_call_free(&h);

	h.request = "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n"
		    "Connection: close\r\n\r\n";
	http_do(m, &h);
	assert_int_equal(http_status(&h), 200);
	assert_string_equal(http_body(&h), "");
	http_call_free(&h);

	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		h.request = statuses[i].request;
		http_do(m, &h);
		if (http_status(&h) != statuses[i].status)
			fail_msg("%s: status %d, want %d", statuses[i].desc,
				 http_status(&h), statuses[i].status);
		if (statuses[i].status == 405) {
			assert_true(http_header(&h, "Allow", v, sizeof(v)));
			assert_string_equal(v, "GET, HEAD");
		}
		http_call_free(&h);
	}

	/* Not HTTP at all: answered 400 or closed, never a crash. */
	h.request = "\x01\x02garbage\r\n\r\n";
	http_do(m, &h);
	assert_true(h.len == 0 || http_status(&h) == 400);
	http_call_free(&h);

	/* Bound to exactly 127.0.0.1: another loopback address is refused
	 * (it would connect if the socket were bound to 0.0.0.0). */
	h.addr = "127.0.0.2";
	h.request = GET("/metrics");
	atomic_init(&h.done, false);
	http_client(&h);
	assert_int_equal(h.err, -ECONNREFUSED);
	http_call_free(&h);

	close(idle);

	pw_metrics_stop(m);
	assert_int_equal(open_fds(), fds);
}

static void test_http_v6(void **state)
{
	struct pw_metrics *m;
	struct http_call h = {.family = AF_INET6, .addr = "::1"};
	int err = pw_metrics_start("[::1]:0", *state, &m);

	if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT) {
		skip();
		return;
	}
	assert_int_equal(err, 0);
	h.port = pw_metrics_port(m);
	h.request = GET("/metrics");
	http_do(m, &h);
	assert_int_equal(http_status(&h), 200);
	assert_exposition(http_body(&h), strlen(http_body(&h)));
	http_call_free(&h);
	pw_metrics_stop(m);
}

static void test_port_in_use(void **state)
{
	struct pw_metrics *m, *m2;
	char listen[32];
	unsigned fds = open_fds();

	assert_int_equal(pw_metrics_start("127.0.0.1:0", *state, &m), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", pw_metrics_port(m));
	assert_int_equal(pw_metrics_start(listen, *state, &m2), -EADDRINUSE);
	assert_null(m2);
	pw_metrics_stop(m);
	pw_metrics_stop(NULL);
	assert_int_equal(open_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_refuses),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test_setup_teardown(test_render_families,
						setup_agent, teardown_agent),
		cmocka_unit_test_setup_teardown(test_render_values, setup_agent,
						teardown_agent),
		cmocka_unit_test_setup_teardown(test_render_follows_state,
						setup_agent, teardown_agent),
		cmocka_unit_test_setup_teardown(test_start_refuses_bad_listen,
						setup_agent, teardown_agent),
		cmocka_unit_test_setup_teardown(test_http_v4, setup_agent,
						teardown_agent),
		cmocka_unit_test_setup_teardown(test_http_v6, setup_agent,
						teardown_agent),
		cmocka_unit_test_setup_teardown(test_port_in_use, setup_agent,
						teardown_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
