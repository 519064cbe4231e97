// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctl_evidence.c - peerwallctl's evidence commands, each a short series of
 * one-request/one-response exchanges with the agent:
 *
 *   capture [--seconds N] [--reason R]... -o F.pcapng
 *       "capture start" opens a sampling window in the datapath, we wait
 *       it out, then "capture fetch" pages through the samples (since the
 *       window's first sequence number) and we write them as pcapng with
 *       the drop reason in each packet's comment.
 *   evidence -o DIR [--seconds N]
 *       one directory for the post-incident review: a capture (this
 *       window and every sample the agent still holds), status, top, the
 *       ban list, metrics, the agent's log of the last hour, the running
 *       config and its hashes, and a MANIFEST of SHA-256 sums that
 *       `sha256sum -c MANIFEST` checks.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <peerwall/abi.h>
#include <peerwall/defaults.h>

#include "base64.h"
#include "pcapng.h"
#include "peerwallctl.h"

#define ERR_MAX 512
/* Slack after a window's end before fetching: the datapath compares its
 * coarse clock against the end. */
#define WINDOW_SLACK_MS 200
#define FETCH_PAGE	2000
#define TOP_N		1000

struct capture_opts {
	unsigned seconds;
	json_object *reasons; /* array of names, NULL: all */
	const char *out;
};

struct capture_result {
	uint64_t written, missed, lost_total, limited_total;
};

static int usage(const char *text)
{
	fprintf(stderr, "usage: peerwallctl %s\n", text);
	return EXIT_USAGE;
}

static int parse_seconds(const char *s, unsigned min, unsigned *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v < (long)min || v > PW_MAX_CAPTURE_SECONDS) {
		fprintf(stderr,
			"peerwallctl: --seconds '%s': want %u..%u seconds\n", s,
			min, PW_MAX_CAPTURE_SECONDS);
		return EXIT_USAGE;
	}
	*out = (unsigned)v;
	return 0;
}

/* --reason R (repeatable, or R1,R2): names are checked by the agent. */
static void add_reasons(json_object **arr, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	if (!*arr)
		*arr = json_object_new_array();
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		json_object_array_add(*arr, json_object_new_string(t));
	free(copy);
}

static int64_t get_i64(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v
		       ? json_object_get_int64(v)
		       : 0;
}

static const char *get_str_or(json_object *o, const char *k)
{
	json_object *v = json_object_object_get(o, k);

	return v ? json_object_get_string(v) : "-";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait out the window, saying how far along it is on a terminal. */
static void wait_window(unsigned seconds)
{
	bool tty = isatty(STDERR_FILENO);

	for (unsigned s = 0; s < seconds; s++) {
		if (tty)
			fprintf(stderr, "\rcapturing: %u/%u s", s, seconds);
		sleep_ms(1000);
	}
	if (tty)
		fprintf(stderr, "\rcapturing: %u/%u s\n", seconds, seconds);
	sleep_ms(WINDOW_SLACK_MS);
}

static int start_window(const char *sock, const struct capture_opts *o,
			uint64_t *since, char *err)
{
	json_object *req = json_object_new_object(), *resp;
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string("capture"));
	json_object_object_add(req, "op", json_object_new_string("start"));
	json_object_object_add(req, "seconds",
			       json_object_new_int((int)o->seconds));
	if (o->reasons)
		json_object_object_add(req, "reasons",
				       json_object_get(o->reasons));
	rc = ctl_call(sock, req, &resp, err, ERR_MAX);
	json_object_put(req);
	if (rc)
		return rc;
	*since = (uint64_t)get_i64(resp, "since");
	json_object_put(resp);
	return 0;
}

/* The interfaces' ids in the file are their positions in "ifaces". */
static int iface_id(json_object *ifaces, const char *name)
{
	size_t n = json_object_array_length(ifaces);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(
				    json_object_array_get_idx(ifaces, i)),
			    name))
			return (int)i;
	return -1;
}

static int write_sample(struct pw_pcapng *w, json_object *ifaces,
			json_object *s, char *err)
{
	uint8_t data[PW_SAMPLE_MAX_BYTES];
	const char *b64 =
		json_object_get_string(json_object_object_get(s, "data"));
	const char *reason =
		json_object_get_string(json_object_object_get(s, "reason"));
	uint32_t orig = (uint32_t)get_i64(s, "orig_len");
	char comment[128];
	ssize_t len;
	int id;

	id = iface_id(ifaces, json_object_get_string(
				      json_object_object_get(s, "iface")));
	len = b64 ? pw_base64_decode(b64, strlen(b64), data, sizeof(data))
		  : -EINVAL;
	if (id < 0 || len < 0 || !reason) {
		snprintf(err, ERR_MAX, "sample %lld: malformed in the reply",
			 (long long)get_i64(s, "seq"));
		return EXIT_FAIL;
	}
	snprintf(comment, sizeof(comment), "peerwall: %s%s", reason,
		 json_object_get_boolean(json_object_object_get(s, "monitor"))
			 ? " (monitor mode: passed)"
			 : "");
	if (orig < (uint32_t)len)
		orig = (uint32_t)len;
	if (pw_pcapng_write(w, id, (uint64_t)get_i64(s, "ts_ns"), data,
			    (uint32_t)len, orig, comment)) {
		snprintf(err, ERR_MAX, "writing: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

/* Page through "capture fetch" from since on, writing pcapng to path. */
static int fetch_to_file(const char *sock, json_object *reasons, uint64_t since,
			 const char *path, struct capture_result *res,
			 char *err)
{
	json_object *req = json_object_new_object(), *resp = NULL;
	struct pw_pcapng *w = NULL;
	FILE *f = fopen(path, "wb");
	bool more = true, first = true;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!f) {
		snprintf(err, ERR_MAX, "%s: %s", path, strerror(errno));
		json_object_put(req);
		return EXIT_FAIL;
	}
	json_object_object_add(req, "cmd", json_object_new_string("capture"));
	json_object_object_add(req, "op", json_object_new_string("fetch"));
	json_object_object_add(req, "max", json_object_new_int(FETCH_PAGE));
	if (reasons)
		json_object_object_add(req, "reasons",
				       json_object_get(reasons));
	while (!rc && more) {
		json_object *samples, *ifaces;
		size_t n;

		json_object_object_add(req, "since",
				       json_object_new_int64((int64_t)since));
		rc = ctl_call(sock, req, &resp, err, ERR_MAX);
		if (rc)
			break;
		ifaces = json_object_object_get(resp, "ifaces");
		samples = json_object_object_get(resp, "samples");
		if (!ifaces || !samples) {
			snprintf(err, ERR_MAX,
				 "the agent's reply has no "
				 "samples");
			rc = EXIT_FAIL;
			break;
		}
		if (first) {
			/* Every interface the agent samples, in its order,
			 * and one snap length: the most the datapath keeps. */
			if (pw_pcapng_open(f, "peerwallctl capture",
					   PW_SAMPLE_MAX_BYTES, &w))
				rc = EXIT_FAIL;
			for (size_t i = 0;
			     !rc && i < json_object_array_length(ifaces); i++)
				if (pw_pcapng_add_if(
					    w,
					    json_object_get_string(
						    json_object_array_get_idx(
							    ifaces, i))) < 0)
					rc = EXIT_FAIL;
			if (rc)
				snprintf(err, ERR_MAX, "%s: %s", path,
					 strerror(errno));
			if (get_i64(resp, "oldest") > (int64_t)since)
				res->missed =
					(uint64_t)get_i64(resp, "oldest") -
					since;
			first = false;
		}
		n = json_object_array_length(samples);
		for (size_t i = 0; !rc && i < n; i++) {
			rc = write_sample(w, ifaces,
					  json_object_array_get_idx(samples, i),
					  err);
			res->written += !rc;
		}
		more = json_object_get_boolean(
			json_object_object_get(resp, "more"));
		since = (uint64_t)get_i64(resp, "next");
		res->lost_total = (uint64_t)get_i64(resp, "lost_total");
		res->limited_total = (uint64_t)get_i64(resp, "limited_total");
		json_object_put(resp);
		resp = NULL;
	}
	json_object_put(req);
	if (pw_pcapng_close(w) && !rc) {
		snprintf(err, ERR_MAX, "%s: write failed", path);
		rc = EXIT_FAIL;
	}
	if (fclose(f) && !rc) {
		snprintf(err, ERR_MAX, "%s: %s", path, strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}

static void print_capture(const char *path, const struct capture_result *r,
			  bool json)
{
	if (json) {
		printf("{\"ok\":true,\"file\":\"%s\",\"packets\":%llu,"
		       "\"missed\":%llu,\"lost_total\":%llu,"
		       "\"limited_total\":%llu}\n",
		       path, (unsigned long long)r->written,
		       (unsigned long long)r->missed,
		       (unsigned long long)r->lost_total,
		       (unsigned long long)r->limited_total);
		return;
	}
	printf("%llu packets written to %s\n", (unsigned long long)r->written,
	       path);
	if (r->missed)
		printf("warning: %llu samples were overwritten in the agent's "
		       "ring before they were read (capture.ring_kib)\n",
		       (unsigned long long)r->missed);
	if (r->limited_total || r->lost_total)
		printf("datapath totals: %llu drops not sampled over the "
		       "per-second budget (capture.per_second), %llu lost to a "
		       "full ring\n",
		       (unsigned long long)r->limited_total,
		       (unsigned long long)r->lost_total);
}

int ctl_capture_main(const char *sock, int argc, char **argv, bool json)
{
	static const char use[] =
		"capture [--seconds N] [--reason R]... -o FILE.pcapng";
	static const struct option longopts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"reason", required_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	struct capture_opts o = {.seconds = PW_DEF_CAPTURE_SECONDS};
	struct capture_result res;
	char err[ERR_MAX] = "";
	uint64_t since;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c == 's' && parse_seconds(optarg, 1, &o.seconds))
			goto usage;
		else if (c == 'r')
			add_reasons(&o.reasons, optarg);
		else if (c == 'o')
			o.out = optarg;
		else if (c != 's')
			goto usage;
	}
	if (!o.out || optind != argc)
		goto usage;
	rc = start_window(sock, &o, &since, err);
	if (!rc) {
		wait_window(o.seconds);
		rc = fetch_to_file(sock, o.reasons, since, o.out, &res, err);
	}
	json_object_put(o.reasons);
	if (rc) {
		fprintf(stderr, "peerwallctl: capture: %s\n", err);
		return rc;
	}
	print_capture(o.out, &res, json);
	return EXIT_OK;
usage:
	json_object_put(o.reasons);
	return usage(use);
}

/* --- evidence ------------------------------------------------------------ */

struct bundle {
	char dir[PATH_MAX];
	char **files; /* names written, for the MANIFEST */
	size_t n_files;
	FILE *errors; /* memstream of what could not be gathered */
	char *errors_buf;
	size_t errors_len;
};

static int bundle_note(struct bundle *b, const char *name)
{
	char **grown = realloc(b->files, (b->n_files + 1) * sizeof(*grown));

	if (!grown || !(grown[b->n_files] = strdup(name)))
		return -ENOMEM;
	b->files = grown;
	b->n_files++;
	return 0;
}

static void bundle_error(struct bundle *b, const char *what, const char *why)
{
	fprintf(b->errors, "%s: %s\n", what, why);
	fprintf(stderr, "peerwallctl: evidence: %s: %s\n", what, why);
}

static void bundle_path(const struct bundle *b, const char *name, char *out,
			size_t len)
{
	snprintf(out, len, "%s/%s", b->dir, name);
}

static void bundle_write(struct bundle *b, const char *name, const char *data,
			 size_t len)
{
	char path[PATH_MAX + 64];
	FILE *f;

	bundle_path(b, name, path, sizeof(path));
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len) {
		bundle_error(b, name, strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	if (fclose(f)) {
		bundle_error(b, name, strerror(errno));
		return;
	}
	bundle_note(b, name);
}

/* One request; its whole reply as pretty JSON in name, or a string
 * member of it (field) as the file's content. */
static void bundle_req(struct bundle *b, const char *sock, const char *name,
		       json_object *req, const char *field)
{
	json_object *resp;
	char err[ERR_MAX];
	const char *text;

	if (ctl_call(sock, req, &resp, err, sizeof(err))) {
		bundle_error(b, name, err);
		json_object_put(req);
		return;
	}
	if (field) {
		json_object *v = json_object_object_get(resp, field);

		text = v ? json_object_get_string(v) : "";
		bundle_write(b, name, text,
			     v ? (size_t)json_object_get_string_len(v) : 0);
	} else {
		text = json_object_to_json_string_ext(
			resp, JSON_C_TO_STRING_PRETTY |
				      JSON_C_TO_STRING_NOSLASHESCAPE);
		bundle_write(b, name, text, strlen(text));
	}
	json_object_put(resp);
	json_object_put(req);
}

static json_object *req_of(const char *cmd)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

/* The running config: the file's content, and its hashes (the agent's
 * and the file's now) in config.json. */
static void bundle_config(struct bundle *b, const char *sock)
{
	json_object *resp, *meta;
	char err[ERR_MAX];
	const char *text;
	json_object *req = req_of("config");

	if (ctl_call(sock, req, &resp, err, sizeof(err))) {
		bundle_error(b, "config", err);
		json_object_put(req);
		return;
	}
	json_object_put(req);
	text = json_object_get_string(json_object_object_get(resp, "content"));
	bundle_write(b, "peerwall.conf", text ? text : "",
		     text ? strlen(text) : 0);
	meta = json_object_new_object();
	for (const char *const *k =
		     (const char *const[]){"path", "running_hash", "file_hash",
					   "running", NULL};
	     *k; k++)
		json_object_object_add(
			meta, *k,
			json_object_get(json_object_object_get(resp, *k)));
	text = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY);
	bundle_write(b, "config.json", text, strlen(text));
	if (!json_object_get_boolean(json_object_object_get(resp, "running")))
		fprintf(stderr,
			"peerwallctl: evidence: warning: %s changed since the "
			"agent loaded it (hashes in config.json): what runs "
			"may differ from peerwall.conf\n",
			get_str_or(resp, "path"));
	json_object_put(meta);
	json_object_put(resp);
}

static int sha256_file(const char *path, char hex[65])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	FILE *f = fopen(path, "rb");
	size_t n;
	int ok;

	ok = ctx && f && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen);
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* sha256sum's format: "<hex>  <name>", checked with sha256sum -c. */
static int write_manifest(struct bundle *b)
{
	char path[PATH_MAX + 64], hex[65];
	FILE *m;
	int rc = 0;

	bundle_path(b, "MANIFEST", path, sizeof(path));
	m = fopen(path, "w");
	if (!m) {
		fprintf(stderr, "peerwallctl: evidence: %s: %s\n", path,
			strerror(errno));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < b->n_files; i++) {
		bundle_path(b, b->files[i], path, sizeof(path));
		if (sha256_file(path, hex)) {
			fprintf(stderr,
				"peerwallctl: evidence: hashing %s failed\n",
				path);
			rc = EXIT_FAIL;
			continue;
		}
		fprintf(m, "%s  %s\n", hex, b->files[i]);
	}
	if (fclose(m))
		rc = EXIT_FAIL;
	return rc;
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST) {
		/* An empty directory is fine; a used one is someone's
		 * evidence already. */
		if (rmdir(dir) == 0 && mkdir(dir, 0700) == 0)
			return 0;
		fprintf(stderr,
			"peerwallctl: evidence: %s exists and is not empty\n",
			dir);
		return EXIT_FAIL;
	}
	fprintf(stderr, "peerwallctl: evidence: %s: %s\n", dir,
		strerror(errno));
	return EXIT_FAIL;
}

static void bundle_info(struct bundle *b, unsigned seconds,
			const struct capture_result *cap, bool captured)
{
	json_object *o = json_object_new_object();
	char host[256] = "", when[32];
	time_t now = time(NULL);
	struct tm tm;
	const char *text;

	gethostname(host, sizeof(host) - 1);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "taken", json_object_new_string(when));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "capture_seconds",
			       json_object_new_int((int)seconds));
	if (captured) {
		json_object_object_add(
			o, "capture_packets",
			json_object_new_int64((int64_t)cap->written));
		json_object_object_add(
			o, "capture_missed",
			json_object_new_int64((int64_t)cap->missed));
	}
	fflush(b->errors);
	json_object_object_add(
		o, "errors",
		json_object_new_string_len(b->errors_buf ? b->errors_buf : "",
					   (int)b->errors_len));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	bundle_write(b, "info.json", text, strlen(text));
	json_object_put(o);
}

int ctl_evidence_main(const char *sock, int argc, char **argv, bool json)
{
	static const char use[] = "evidence -o DIR [--seconds N]";
	static const struct option longopts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	struct capture_opts o = {.seconds = PW_DEF_CAPTURE_SECONDS};
	struct capture_result cap = {0};
	struct bundle b = {0};
	char err[ERR_MAX] = "", path[PATH_MAX + 64];
	bool captured = false, failed;
	uint64_t since;
	json_object *req;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c == 's') {
			if (parse_seconds(optarg, 0, &o.seconds))
				return usage(use);
		} else if (c == 'o') {
			o.out = optarg;
		} else {
			return usage(use);
		}
	}
	if (!o.out || optind != argc)
		return usage(use);
	if (snprintf(b.dir, sizeof(b.dir), "%s", o.out) >= (int)sizeof(b.dir))
		return usage(use);
	rc = make_dir(b.dir);
	if (rc)
		return rc;
	b.errors = open_memstream(&b.errors_buf, &b.errors_len);
	if (!b.errors)
		return EXIT_FAIL;

	/* The capture first: the snapshots then describe its end. */
	rc = o.seconds ? start_window(sock, &o, &since, err) : 0;
	if (rc) {
		bundle_error(&b, "capture.pcapng", err);
	} else {
		if (o.seconds)
			wait_window(o.seconds);
		bundle_path(&b, "capture.pcapng", path, sizeof(path));
		/* Every sample the agent still holds, this window's and
		 * earlier ones. */
		if (fetch_to_file(sock, NULL, 0, path, &cap, err)) {
			bundle_error(&b, "capture.pcapng", err);
			unlink(path);
		} else {
			bundle_note(&b, "capture.pcapng");
			captured = true;
		}
	}
	bundle_req(&b, sock, "status.json", req_of("status"), NULL);
	req = req_of("top");
	json_object_object_add(req, "n", json_object_new_int(TOP_N));
	bundle_req(&b, sock, "top.json", req, NULL);
	req = req_of("top");
	json_object_object_add(req, "n", json_object_new_int(TOP_N));
	json_object_object_add(req, "by", json_object_new_string("pps"));
	bundle_req(&b, sock, "top-pps.json", req, NULL);
	req = req_of("export");
	json_object_object_add(req, "format", json_object_new_string("json"));
	bundle_req(&b, sock, "bans.json", req, "content");
	bundle_req(&b, sock, "metrics.txt", req_of("metrics"), "text");
	bundle_req(&b, sock, "agent.log", req_of("log"), "text");
	bundle_config(&b, sock);
	bundle_info(&b, o.seconds, &cap, captured);
	fclose(b.errors);
	failed = b.errors_len > 0;
	rc = write_manifest(&b);
	if (json)
		printf("{\"ok\":%s,\"dir\":\"%s\",\"files\":%zu,"
		       "\"capture_packets\":%llu}\n",
		       failed || rc ? "false" : "true", b.dir, b.n_files + 1,
		       (unsigned long long)cap.written);
	else
		printf("%s: %zu files and MANIFEST (%llu captured packets)%s\n",
		       b.dir, b.n_files, (unsigned long long)cap.written,
		       failed ? "; some parts are missing, see info.json" : "");
	for (size_t i = 0; i < b.n_files; i++)
		free(b.files[i]);
	free(b.files);
	free(b.errors_buf);
	return failed || rc ? EXIT_FAIL : EXIT_OK;
}
