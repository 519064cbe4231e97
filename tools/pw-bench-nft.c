// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pw-bench-nft - drive src/nft.c by hand, from tests, and benchmark it.
 *
 * Every subcommand opens the module the way the agent does (so a fresh
 * process adopts the emergency state it finds, as a restarted agent does),
 * makes one call and reports. tests/netns/nft.sh drives the real module
 * through it; `bench` measures it.
 *
 *   pw-bench-nft [-T table] [-m port|none]... [-L] [-v] COMMAND [ARGS]
 *     reconcile [-p tcp|udp/PORT]... [-t FILE]   create/replace the table
 *     trusted FILE              replace the trusted sets (one CIDR a line)
 *     emergency on|off          emergency rules on or off
 *     status                    emergency state and drop counters
 *     remove                    delete our table
 *     selftest                  the CIDR merge table (no kernel needed)
 *     bench [-n N] [-r RUNS] [-o JSON] [--here]
 *
 * -L forces the add + delete + add table replacement (the path kernels
 * without NFT_MSG_DESTROYTABLE take).
 *
 * bench: in a private network namespace (unshare; --here uses the current
 * one), with a table of two protected ports, times with CLOCK_MONOTONIC:
 *   nft_f_first          `nft -f` of "add element { N }" into the empty
 *                        set: process start to exit
 *   set_trusted_first    the same N IPv4 /24s into the empty set (after
 *                        a reconcile emptied it), one batch
 *   set_trusted_replace  the same N again (flush + add), one batch
 *   reconcile            the whole table replaced, N trusted included
 *   nft_f_replace        `nft -f` of "flush set; add element { N }" for
 *                        the same set: process start to exit
 *   emergency_on / _off  with N trusted loaded
 *   nft_f_emergency_on   `nft -f` adding the same two drop rules
 * The /24s are every other /24 from 10.0.0.0 (never adjacent, so nothing
 * merges: N CIDRs really are N intervals), in a fixed shuffled order.
 * After each kind of load the set is listed with nft and its /24s counted,
 * so a number is only printed for a load that happened. Each figure is the
 * median (and min, max) of RUNS runs, except the first loads (one run).
 * Prints a table; -o writes {"nft": {...}} as JSON.
 *
 * Exit: 0 ok, 1 failed, 2 usage, 3 a benchmark load did not verify.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "cidr.h"
#include "log.h"
#include "nft.h"

#define EXIT_USAGE    2
#define EXIT_UNVERIFY 3

#define BENCH_DEF_N	   100000
#define BENCH_DEF_RUNS	   5
#define BENCH_EMERG_RUNS   20
#define BENCH_BASE_V4	   0x0a000000u /* 10.0.0.0 */
#define BENCH_SHUFFLE_SEED 0x9e3779b97f4a7c15ull
#define MAX_PROTECT_ARGS   256
#define LINE_MAX_LEN	   256

struct global_opts {
	struct pw_nft_opts nft;
	uint16_t mgmt[PW_MAX_MGMT_PORTS];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int open_nft(const struct global_opts *g, struct pw_nft **n)
{
	int ret = pw_nft_open(&g->nft, n);

	if (ret < 0)
		fprintf(stderr, "pw-bench-nft: opening nftables: %s\n",
			strerror(-ret));
	return ret;
}

static int report(struct pw_nft *n, const char *what, int ret)
{
	if (ret < 0)
		fprintf(stderr, "pw-bench-nft: %s: %s\n", what,
			*pw_nft_last_error(n) ? pw_nft_last_error(n)
					      : strerror(-ret));
	return ret < 0 ? 1 : 0;
}

/* One CIDR a line; blank lines and '#' comments ignored. */
static int read_cidrs(const char *path, struct pw_cidr **out, size_t *n)
{
	char line[LINE_MAX_LEN], err[128], *s, *e;
	struct pw_cidr *v = NULL, *nv;
	size_t cap = 0, lineno = 0;
	FILE *f;

	*n = 0;
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "pw-bench-nft: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		s = line + strspn(line, " \t");
		e = s + strcspn(s, "#\r\n");
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (!*s)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto fail;
			v = nv;
		}
		if (pw_cidr_parse(s, &v[*n], err, sizeof(err)) < 0) {
			fprintf(stderr, "pw-bench-nft: %s:%zu: %s\n", path,
				lineno, err);
			goto fail;
		}
		(*n)++;
	}
	fclose(f);
	*out = v;
	return 0;
fail:
	fclose(f);
	free(v);
	return -1;
}

static int parse_protect(const char *s, struct pw_protect *p)
{
	char *end;
	long port;

	if (!strncmp(s, "tcp/", 4))
		p->proto = IPPROTO_TCP;
	else if (!strncmp(s, "udp/", 4))
		p->proto = IPPROTO_UDP;
	else
		return -1;
	port = strtol(s + 4, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	p->port = (uint16_t)port;
	return 0;
}

/* --- subcommands ------------------------------------------------------ */

static int cmd_reconcile(struct global_opts *g, int argc, char **argv)
{
	struct pw_protect ports[MAX_PROTECT_ARGS];
	struct pw_cidr *trusted = NULL;
	size_t n_ports = 0, n_trusted = 0;
	const char *file = NULL;
	struct pw_nft *n;
	int c, rc;

	optind = 1;
	while ((c = getopt(argc, argv, "p:t:")) != -1) {
		switch (c) {
		case 'p':
			if (n_ports == MAX_PROTECT_ARGS ||
			    parse_protect(optarg, &ports[n_ports]) < 0) {
				fprintf(stderr,
					"pw-bench-nft: bad -p %s "
					"(tcp/PORT or udp/PORT)\n",
					optarg);
				return EXIT_USAGE;
			}
			n_ports++;
			break;
		case 't':
			file = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return EXIT_USAGE;
	if (file && read_cidrs(file, &trusted, &n_trusted) < 0)
		return 1;
	if (open_nft(g, &n) < 0) {
		free(trusted);
		return 1;
	}
	rc = report(n, "reconcile",
		    pw_nft_reconcile(n, ports, n_ports, trusted, n_trusted));
	pw_nft_close(n);
	free(trusted);
	return rc;
}

static int cmd_trusted(struct global_opts *g, int argc, char **argv)
{
	struct pw_cidr *trusted = NULL;
	struct pw_nft *n;
	size_t n_trusted;
	int rc;

	if (argc != 2)
		return EXIT_USAGE;
	if (read_cidrs(argv[1], &trusted, &n_trusted) < 0)
		return 1;
	if (open_nft(g, &n) < 0) {
		free(trusted);
		return 1;
	}
	rc = report(n, "trusted", pw_nft_set_trusted(n, trusted, n_trusted));
	pw_nft_close(n);
	free(trusted);
	return rc;
}

static int cmd_emergency(struct global_opts *g, int argc, char **argv)
{
	struct pw_nft *n;
	bool on;
	int rc;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return EXIT_USAGE;
	on = !strcmp(argv[1], "on");
	if (open_nft(g, &n) < 0)
		return 1;
	rc = report(n, "emergency", pw_nft_set_emergency(n, on));
	pw_nft_close(n);
	return rc;
}

static int cmd_status(struct global_opts *g, int argc, char **argv)
{
	uint64_t pkts, bytes;
	struct pw_nft *n;
	int rc;

	(void)argv;
	if (argc != 1)
		return EXIT_USAGE;
	if (open_nft(g, &n) < 0)
		return 1;
	rc = report(n, "status", pw_nft_emergency_counters(n, &pkts, &bytes));
	if (!rc)
		printf("emergency %s\ndropped_packets %llu\n"
		       "dropped_bytes %llu\n",
		       pw_nft_emergency(n) ? "on" : "off",
		       (unsigned long long)pkts, (unsigned long long)bytes);
	pw_nft_close(n);
	return rc;
}

static int cmd_remove(struct global_opts *g, int argc, char **argv)
{
	struct pw_nft *n;
	int rc;

	(void)argv;
	if (argc != 1)
		return EXIT_USAGE;
	if (open_nft(g, &n) < 0)
		return 1;
	rc = report(n, "remove", pw_nft_remove(n));
	pw_nft_close(n);
	return rc;
}

/* --- selftest: the merge helper, one row per case ---------------------- */

struct merge_case {
	const char *desc;
	int family;
	const char *in[6];     /* CIDRs, NULL-terminated */
	const char *expect[4]; /* "first-last", NULL-terminated */
};

static const struct merge_case merge_cases[] = {
	{"nothing", AF_INET, {NULL}, {NULL}},
	{"one /24", AF_INET, {"198.18.0.0/24"}, {"198.18.0.0-198.18.0.255"}},
	{"overlap: a /25 inside a /24",
	 AF_INET,
	 {"198.18.0.128/25", "198.18.0.0/24"},
	 {"198.18.0.0-198.18.0.255"}},
	{"adjacent /24s merge",
	 AF_INET,
	 {"198.18.1.0/24", "198.18.0.0/24"},
	 {"198.18.0.0-198.18.1.255"}},
	{"a gap keeps two ranges",
	 AF_INET,
	 {"198.18.2.0/24", "198.18.0.0/24"},
	 {"198.18.0.0-198.18.0.255", "198.18.2.0-198.18.2.255"}},
	{"big first swallows later ones",
	 AF_INET,
	 {"198.18.0.0/15", "198.18.5.0/24", "198.19.255.255"},
	 {"198.18.0.0-198.19.255.255"}},
	{"duplicates",
	 AF_INET,
	 {"198.18.0.1", "198.18.0.1", "198.18.0.3", "198.18.0.2"},
	 {"198.18.0.1-198.18.0.3"}},
	{"everything",
	 AF_INET,
	 {"198.18.0.0/24", "0.0.0.0/0", "255.255.255.255"},
	 {"0.0.0.0-255.255.255.255"}},
	{"the top two addresses",
	 AF_INET,
	 {"255.255.255.255", "255.255.255.254"},
	 {"255.255.255.254-255.255.255.255"}},
	{"other family skipped",
	 AF_INET,
	 {"fd00::1", "198.18.0.1", "fd00::/8"},
	 {"198.18.0.1-198.18.0.1"}},
	{"v6 adjacent /64s",
	 AF_INET6,
	 {"fd00:0:0:1::/64", "fd00::/64"},
	 {"fd00::-fd00::1:ffff:ffff:ffff:ffff"}},
	{"v6 everything",
	 AF_INET6,
	 {"::/0", "fd00::1"},
	 {"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
	{"v6 top host and a gap",
	 AF_INET6,
	 {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd00::1"},
	 {"fd00::1-fd00::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-"
			     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
};

static int cmd_selftest(struct global_opts *g, int argc, char **argv)
{
	struct pw_nft_range out[6];
	struct pw_cidr in[6];
	char got[256], a[PW_CIDR_STRLEN], b[PW_CIDR_STRLEN], err[128];
	uint8_t fa[16], la[16];
	size_t i, j, k, m, failed = 0;

	(void)g;
	(void)argv;
	if (argc != 1)
		return EXIT_USAGE;
	for (i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		const struct merge_case *c = &merge_cases[i];
		bool ok = true;

		for (k = 0; c->in[k]; k++)
			if (pw_cidr_parse(c->in[k], &in[k], err, sizeof(err))) {
				fprintf(stderr, "selftest: %s: %s\n", c->desc,
					err);
				return 1;
			}
		m = pw_nft_merge_cidrs(in, k, c->family, out);
		for (j = 0; j < m || c->expect[j]; j++) {
			if (j >= m || !c->expect[j]) {
				ok = false;
				break;
			}
			pw_nft_range_addrs(&out[j], c->family, fa, la);
			pw_addr_format(c->family, fa, a, sizeof(a));
			pw_addr_format(c->family, la, b, sizeof(b));
			snprintf(got, sizeof(got), "%s-%s", a, b);
			if (strcmp(got, c->expect[j])) {
				ok = false;
				break;
			}
		}
		printf("  %-4s  merge: %s\n", ok ? "ok" : "FAIL", c->desc);
		if (!ok) {
			failed++;
			for (j = 0; j < m; j++) {
				pw_nft_range_addrs(&out[j], c->family, fa, la);
				pw_addr_format(c->family, fa, a, sizeof(a));
				pw_addr_format(c->family, la, b, sizeof(b));
				printf("        got %s-%s\n", a, b);
			}
		}
	}
	return failed ? 1 : 0;
}

/* --- bench ------------------------------------------------------------ */

struct stat3 {
	double median, min, max;
};

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stat3 stats(double *v, size_t n)
{
	struct stat3 s;

	qsort(v, n, sizeof(*v), dbl_cmp);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* Run argv to completion; its wall time in *ms. stdout to /dev/null. */
static int run_timed(char *const argv[], double *ms)
{
	double t0 = now_ms();
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	*ms = now_ms() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* /24s in trusted_v4, counted from nft's JSON listing. */
static long count_set_24s(const char *table)
{
	char cmd[256], buf[65536];
	const char *needle = "\"len\": 24";
	long count = 0;
	size_t len, keep = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nft -j list set inet %s trusted_v4", table);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	/* Count across reads; keep a needle's length of overlap. */
	while ((len = fread(buf + keep, 1, sizeof(buf) - keep - 1, p)) > 0) {
		char *s = buf;

		len += keep;
		buf[len] = '\0';
		while ((s = strstr(s, needle))) {
			count++;
			s += strlen(needle);
		}
		keep = strlen(needle) - 1 < len ? strlen(needle) - 1 : len;
		memmove(buf, buf + len - keep, keep);
	}
	return pclose(p) == 0 ? count : -1;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct pw_cidr *bench_cidrs(size_t n)
{
	struct pw_cidr *v = calloc(n, sizeof(*v)), t;
	uint64_t seed = BENCH_SHUFFLE_SEED;
	uint32_t a;
	size_t i, j;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		a = htonl(BENCH_BASE_V4 + (uint32_t)(2 * i) * 256);
		v[i].family = AF_INET;
		v[i].prefixlen = 24;
		memcpy(v[i].addr, &a, sizeof(a));
	}
	for (i = n; i > 1; i--) {
		j = xorshift(&seed) % i;
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
	return v;
}

/* An nft script loading v[] into trusted_v4, replacing it when flush. */
static int write_nft_load(const char *path, const char *table,
			  const struct pw_cidr *v, size_t n, bool flush)
{
	char s[PW_CIDR_STRLEN];
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -1;
	if (flush)
		fprintf(f, "flush set inet %s trusted_v4\n", table);
	fprintf(f, "add element inet %s trusted_v4 {\n", table);
	for (i = 0; i < n; i++) {
		pw_cidr_format(&v[i], s, sizeof(s));
		fprintf(f, "\t%s,\n", s);
	}
	fprintf(f, "}\n");
	return fclose(f);
}

static int write_nft_emergency(const char *path, const char *table)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f,
		"add rule inet %s prerouting meta l4proto . th dport @protected"
		" ip saddr != @trusted_v4 counter name emergency_drops drop\n"
		"add rule inet %s prerouting meta l4proto . th dport @protected"
		" ip6 saddr != @trusted_v6 counter name emergency_drops drop\n",
		table, table);
	return fclose(f);
}

struct bench_result {
	size_t n, runs, emerg_runs;
	double first_ms, nft_first_ms;
	struct stat3 replace, reconcile, nft_replace, on, off, nft_on;
	struct pw_nft_batch_stats batch;
	bool verified;
};

static void print_stat(const char *name, const struct stat3 *s)
{
	printf("  %-22s %10.2f %10.2f %10.2f\n", name, s->median, s->min,
	       s->max);
}

static void json_stat(FILE *f, const char *name, const struct stat3 *s,
		      bool last)
{
	fprintf(f,
		"    \"%s\": {\"median\": %.3f, \"min\": %.3f, \"max\": "
		"%.3f}%s\n",
		name, s->median, s->min, s->max, last ? "" : ",");
}

static int write_json(const char *path, const struct bench_result *r)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "{\"nft\": {\n");
	fprintf(f,
		"    \"cidrs\": %zu, \"runs\": %zu, \"emergency_runs\": %zu,\n",
		r->n, r->runs, r->emerg_runs);
	fprintf(f, "    \"verified\": %s,\n", r->verified ? "true" : "false");
	fprintf(f,
		"    \"batch\": {\"bytes\": %zu, \"messages\": %zu, "
		"\"elements\": %zu},\n",
		r->batch.bytes, r->batch.msgs, r->batch.elems);
	fprintf(f, "    \"unit\": \"ms\",\n");
	fprintf(f, "    \"set_trusted_first\": %.3f,\n", r->first_ms);
	fprintf(f, "    \"nft_f_first\": %.3f,\n", r->nft_first_ms);
	json_stat(f, "set_trusted_replace", &r->replace, false);
	json_stat(f, "reconcile", &r->reconcile, false);
	json_stat(f, "nft_f_replace", &r->nft_replace, false);
	json_stat(f, "emergency_on", &r->on, false);
	json_stat(f, "emergency_off", &r->off, false);
	json_stat(f, "nft_f_emergency_on", &r->nft_on, true);
	fprintf(f, "}}\n");
	return fclose(f);
}

static int bench_fail(struct pw_nft *n, const char *what, int ret)
{
	report(n, what, ret);
	return 1;
}

static int run_bench(struct global_opts *g, size_t cidrs, size_t runs,
		     const char *json)
{
	static const struct pw_protect ports[] = {{IPPROTO_TCP, 26656},
						  {IPPROTO_UDP, 30303}};
	char dir[] = "/tmp/pw-bench-nft.XXXXXX", ffirst[64], fset[64];
	char femerg[64];
	double *t = NULL, *t2 = NULL, t0;
	const char *table = g->nft.table;
	struct bench_result r = {0};
	struct pw_cidr *v = NULL;
	struct pw_nft *n = NULL;
	bool have_dir = false;
	size_t i, nruns;
	int ret, rc = 1;

	r.n = cidrs;
	r.runs = runs;
	r.emerg_runs = runs > BENCH_EMERG_RUNS ? runs : BENCH_EMERG_RUNS;
	nruns = r.emerg_runs;
	v = bench_cidrs(cidrs);
	t = calloc(nruns, sizeof(*t));
	t2 = calloc(nruns, sizeof(*t2));
	if (!v || !t || !t2 || !mkdtemp(dir))
		goto out;
	have_dir = true;
	snprintf(ffirst, sizeof(ffirst), "%s/first.nft", dir);
	snprintf(fset, sizeof(fset), "%s/replace.nft", dir);
	snprintf(femerg, sizeof(femerg), "%s/emergency.nft", dir);
	if (write_nft_load(ffirst, table, v, cidrs, false) < 0 ||
	    write_nft_load(fset, table, v, cidrs, true) < 0 ||
	    write_nft_emergency(femerg, table) < 0)
		goto out;
	if (open_nft(g, &n) < 0)
		goto out;
	ret = pw_nft_reconcile(n, ports, 2, NULL, 0);
	if (ret < 0) {
		rc = bench_fail(n, "reconcile", ret);
		goto out;
	}
	r.verified = true;

	/* First loads into the empty set: nft's, then ours. */
	{
		char *argv[] = {"nft", "-f", ffirst, NULL};

		if (run_timed(argv, &r.nft_first_ms) < 0) {
			fprintf(stderr, "pw-bench-nft: nft -f %s failed\n",
				ffirst);
			goto out;
		}
	}
	r.verified &= count_set_24s(table) == (long)cidrs;
	ret = pw_nft_reconcile(n, ports, 2, NULL, 0);
	if (ret < 0) {
		rc = bench_fail(n, "reconcile", ret);
		goto out;
	}
	t0 = now_ms();
	ret = pw_nft_set_trusted(n, v, cidrs);
	r.first_ms = now_ms() - t0;
	if (ret < 0) {
		rc = bench_fail(n, "set_trusted", ret);
		goto out;
	}
	pw_nft_last_batch(n, &r.batch);
	r.verified &= count_set_24s(table) == (long)cidrs;

	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		ret = pw_nft_set_trusted(n, v, cidrs);
		t[i] = now_ms() - t0;
		if (ret < 0) {
			rc = bench_fail(n, "set_trusted", ret);
			goto out;
		}
	}
	r.replace = stats(t, runs);
	r.verified &= count_set_24s(table) == (long)cidrs;

	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		ret = pw_nft_reconcile(n, ports, 2, v, cidrs);
		t[i] = now_ms() - t0;
		if (ret < 0) {
			rc = bench_fail(n, "reconcile", ret);
			goto out;
		}
	}
	r.reconcile = stats(t, runs);
	r.verified &= count_set_24s(table) == (long)cidrs;

	for (i = 0; i < runs; i++) {
		char *argv[] = {"nft", "-f", fset, NULL};

		if (run_timed(argv, &t[i]) < 0) {
			fprintf(stderr, "pw-bench-nft: nft -f %s failed\n",
				fset);
			goto out;
		}
	}
	r.nft_replace = stats(t, runs);
	r.verified &= count_set_24s(table) == (long)cidrs;

	for (i = 0; i < nruns; i++) {
		t0 = now_ms();
		ret = pw_nft_set_emergency(n, true);
		t[i] = now_ms() - t0;
		if (ret < 0) {
			rc = bench_fail(n, "emergency on", ret);
			goto out;
		}
		t0 = now_ms();
		ret = pw_nft_set_emergency(n, false);
		t2[i] = now_ms() - t0;
		if (ret < 0) {
			rc = bench_fail(n, "emergency off", ret);
			goto out;
		}
	}
	r.on = stats(t, nruns);
	r.off = stats(t2, nruns);

	for (i = 0; i < nruns; i++) {
		char *argv[] = {"nft", "-f", femerg, NULL};

		if (run_timed(argv, &t[i]) < 0 ||
		    pw_nft_set_emergency(n, false) < 0) {
			fprintf(stderr, "pw-bench-nft: nft -f %s failed\n",
				femerg);
			goto out;
		}
	}
	r.nft_on = stats(t, nruns);

	printf("nft batches: %zu trusted IPv4 /24s (non-adjacent), "
	       "times in ms\n",
	       cidrs);
	printf("  batch of the first load: %zu bytes, %zu messages, "
	       "%zu elements\n",
	       r.batch.bytes, r.batch.msgs, r.batch.elems);
	printf("  %-22s %10s %10s %10s\n", "operation", "median", "min", "max");
	printf("  %-22s %10.2f %10s %10s\n", "set_trusted_first", r.first_ms,
	       "-", "-");
	printf("  %-22s %10.2f %10s %10s\n", "nft_f_first", r.nft_first_ms, "-",
	       "-");
	print_stat("set_trusted_replace", &r.replace);
	print_stat("reconcile", &r.reconcile);
	print_stat("nft_f_replace", &r.nft_replace);
	print_stat("emergency_on", &r.on);
	print_stat("emergency_off", &r.off);
	print_stat("nft_f_emergency_on", &r.nft_on);
	printf("  runs: %zu (emergency: %zu); loads verified: %s\n", runs,
	       nruns, r.verified ? "yes" : "NO");
	if (json && write_json(json, &r) < 0) {
		fprintf(stderr, "pw-bench-nft: %s: %s\n", json,
			strerror(errno));
		goto out;
	}
	rc = r.verified ? 0 : EXIT_UNVERIFY;
out:
	if (n) {
		pw_nft_remove(n);
		pw_nft_close(n);
	}
	if (have_dir) {
		unlink(ffirst);
		unlink(fset);
		unlink(femerg);
		rmdir(dir);
	}
	free(t);
	free(t2);
	free(v);
	return rc;
}

static int cmd_bench(struct global_opts *g, int argc, char **argv)
{
	static const struct option lo[] = {{"here", no_argument, NULL, 'H'},
					   {NULL, 0, NULL, 0}};
	size_t cidrs = BENCH_DEF_N, runs = BENCH_DEF_RUNS;
	const char *json = NULL;
	bool here = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:r:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			cidrs = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 10);
			break;
		case 'o':
			json = optarg;
			break;
		case 'H':
			here = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !cidrs || cidrs > (1u << 22) || !runs ||
	    runs > 1000)
		return EXIT_USAGE;
	/* The host's ruleset is never touched: a namespace of our own. */
	if (!here && unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "pw-bench-nft: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 1;
	}
	return run_bench(g, cidrs, runs, json);
}

/* --- main ------------------------------------------------------------- */

struct command {
	const char *name;
	int (*run)(struct global_opts *g, int argc, char **argv);
};

static const struct command commands[] = {
	{"reconcile", cmd_reconcile}, {"trusted", cmd_trusted},
	{"emergency", cmd_emergency}, {"status", cmd_status},
	{"remove", cmd_remove},	      {"selftest", cmd_selftest},
	{"bench", cmd_bench},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pw-bench-nft [-T table] [-m port|none]... [-L] [-v] "
		   "COMMAND [ARGS]\n"
		   "  reconcile [-p tcp|udp/PORT]... [-t FILE]\n"
		   "  trusted FILE\n"
		   "  emergency on|off\n"
		   "  status\n"
		   "  remove\n"
		   "  selftest\n"
		   "  bench [-n N] [-r RUNS] [-o JSON] [--here]\n");
}

int main(int argc, char **argv)
{
	struct global_opts g;
	bool mgmt_set = false;
	size_t i;
	long port;
	int c, rc;

	pw_nft_opts_default(&g.nft);
	pw_log_init("pw-bench-nft", PW_LOG_WARN, false);
	while ((c = getopt(argc, argv, "+T:m:Lvh")) != -1) {
		switch (c) {
		case 'T':
			g.nft.table = optarg;
			break;
		case 'm':
			if (!mgmt_set) {
				g.nft.mgmt_ports = g.mgmt;
				g.nft.n_mgmt = 0;
				mgmt_set = true;
			}
			if (!strcmp(optarg, "none"))
				break;
			port = strtol(optarg, NULL, 10);
			if (port < 1 || port > 65535 ||
			    g.nft.n_mgmt == PW_MAX_MGMT_PORTS) {
				usage(stderr);
				return EXIT_USAGE;
			}
			g.mgmt[g.nft.n_mgmt++] = (uint16_t)port;
			break;
		case 'L':
			g.nft.legacy_replace = true;
			break;
		case 'v':
			pw_log_init("pw-bench-nft", PW_LOG_DEBUG, false);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		rc = commands[i].run(&g, argc - optind, argv + optind);
		if (rc == EXIT_USAGE)
			usage(stderr);
		return rc;
	}
	fprintf(stderr, "pw-bench-nft: unknown command %s\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
