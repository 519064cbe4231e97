// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * peerwallctl - the operator's client for peerwalld's control socket.
 *
 * A table of commands (name, usage, builder, printer): each builder turns
 * argv into one JSON request, each printer turns the JSON response into a
 * human table; --json prints the response as it came. Commands that take
 * several requests (capture, evidence) run from tools/ctl_evidence.c.
 * Exit codes: 0 ok, 1 refused or failed (with the agent's reason), 2
 * usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include <peerwall/defaults.h>

#include "peerwallctl.h"

#define IMPORT_MAX_BYTES (30u << 20)

struct cmd {
	const char *name;
	const char *usage;
	/* Fill req from argv (argv[0] is the command); 0 or EXIT_USAGE. */
	int (*build)(int argc, char **argv, json_object *req);
	void (*print)(json_object *resp);
};

/* Commands of several requests (tools/ctl_evidence.c). */
struct run_cmd {
	const char *name;
	const char *usage;
	int (*run)(const char *sock, int argc, char **argv, bool json);
};

static const char *out_file; /* export -o */

static int usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "peerwallctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static const char *get_str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v
		       ? json_object_get_int64(v)
		       : 0;
}

static double get_double(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v
		       ? json_object_get_double(v)
		       : 0;
}

/* --- builders ----------------------------------------------------------- */

static int build_none(int argc, char **argv, json_object *req)
{
	(void)req;
	if (argc != 1)
		return usage_err("'%s' takes no arguments", argv[0]);
	return 0;
}

/* Options shared by several commands: -n N, --by X, --ttl D, --reason R,
 * --format F, -o FILE. Positional arguments are returned in pos[]. */
static int parse_opts(int argc, char **argv, json_object *req, char **pos,
		      int max_pos, int *n_pos)
{
	static const struct option longopts[] = {
		{"by", required_argument, NULL, 'b'},
		{"ttl", required_argument, NULL, 't'},
		{"reason", required_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	char *end;
	long n;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000)
				return usage_err("-n '%s': want 1..1000",
						 optarg);
			json_object_object_add(req, "n",
					       json_object_new_int((int)n));
			break;
		case 'b':
			add_str(req, "by", optarg);
			break;
		case 't':
			add_str(req, "ttl", optarg);
			break;
		case 'r':
			add_str(req, "reason", optarg);
			break;
		case 'F':
			add_str(req, "format", optarg);
			break;
		case 'o':
			out_file = optarg;
			break;
		default:
			return usage_err("unknown or incomplete option '%s'",
					 argv[optind - 1]);
		}
	}
	*n_pos = 0;
	for (int i = optind; i < argc; i++) {
		if (*n_pos == max_pos)
			return usage_err("unexpected argument '%s'", argv[i]);
		pos[(*n_pos)++] = argv[i];
	}
	return 0;
}

static int build_opts_only(int argc, char **argv, json_object *req)
{
	char *pos[1];
	int n;

	if (parse_opts(argc, argv, req, pos, 0, &n))
		return EXIT_USAGE;
	return 0;
}

static int build_addr(int argc, char **argv, json_object *req)
{
	char *pos[1];
	int n;

	if (parse_opts(argc, argv, req, pos, 1, &n))
		return EXIT_USAGE;
	if (n != 1)
		return usage_err("'%s' needs an address or CIDR", argv[0]);
	add_str(req, "addr", pos[0]);
	return 0;
}

static int build_allow(int argc, char **argv, json_object *req)
{
	if (argc == 2 && !strcmp(argv[1], "list")) {
		add_str(req, "op", "list");
		return 0;
	}
	if (argc == 3 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "del"))) {
		add_str(req, "op", argv[1]);
		add_str(req, "addr", argv[2]);
		return 0;
	}
	return usage_err("%s", "usage: allow add|del CIDR | allow list");
}

/* The operator's SSH session ("client_ip client_port server_ip
 * server_port"): the agent refuses emergency mode that would cut it. */
static void add_ssh_client(json_object *req)
{
	const char *ssh = getenv("SSH_CONNECTION");
	char ip[64], sip[64];
	unsigned cport, sport;

	if (ssh &&
	    sscanf(ssh, "%63s %u %63s %u", ip, &cport, sip, &sport) == 4 &&
	    sport > 0 && sport < 65536) {
		add_str(req, "client_addr", ip);
		json_object_object_add(req, "client_port",
				       json_object_new_int((int)sport));
	}
}

static int build_emergency(int argc, char **argv, json_object *req)
{
	static const char use[] =
		"usage: emergency on [--ttl DUR] [--force] | off | extend DUR "
		"| status";
	const char *op = argc >= 2 ? argv[1] : "";

	if (!strcmp(op, "status") || !strcmp(op, "off")) {
		if (argc != 2)
			return usage_err("%s", use);
		add_str(req, "op", op);
		return 0;
	}
	if (!strcmp(op, "extend")) {
		if (argc != 3)
			return usage_err("%s", use);
		add_str(req, "op", op);
		add_str(req, "ttl", argv[2]);
		return 0;
	}
	if (strcmp(op, "on"))
		return usage_err("%s", use);
	add_str(req, "op", op);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			json_object_object_add(req, "force",
					       json_object_new_boolean(1));
		} else if (!strcmp(argv[i], "--ttl") && i + 1 < argc) {
			add_str(req, "ttl", argv[++i]);
		} else if (!strncmp(argv[i], "--ttl=", 6)) {
			add_str(req, "ttl", argv[i] + 6);
		} else {
			return usage_err("unexpected '%s' (emergency on [--ttl "
					 "DUR] [--force])",
					 argv[i]);
		}
	}
	add_ssh_client(req);
	return 0;
}

static int build_posture(int argc, char **argv, json_object *req)
{
	if (argc != 2)
		return usage_err("%s", "usage: posture normal|elevated|severe");
	add_str(req, "level", argv[1]);
	return 0;
}

static int build_import(int argc, char **argv, json_object *req)
{
	char *pos[1], *buf;
	size_t len;
	FILE *f;
	int n;

	if (parse_opts(argc, argv, req, pos, 1, &n))
		return EXIT_USAGE;
	if (n != 1)
		return usage_err("%s", "usage: import FILE [--ttl DUR]");
	f = strcmp(pos[0], "-") ? fopen(pos[0], "rb") : stdin;
	if (!f) {
		fprintf(stderr, "peerwallctl: %s: %s\n", pos[0],
			strerror(errno));
		return EXIT_FAIL;
	}
	buf = malloc(IMPORT_MAX_BYTES + 1);
	len = buf ? fread(buf, 1, IMPORT_MAX_BYTES + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (!buf || len > IMPORT_MAX_BYTES) {
		fprintf(stderr, "peerwallctl: %s: larger than %u MiB\n", pos[0],
			IMPORT_MAX_BYTES >> 20);
		free(buf);
		return EXIT_FAIL;
	}
	json_object_object_add(req, "content",
			       json_object_new_string_len(buf, (int)len));
	free(buf);
	return 0;
}

static int build_report(int argc, char **argv, json_object *req)
{
	char line[512];
	size_t off = 0;

	if (argc < 3)
		return usage_err("%s", "usage: report invalid ADDR [weight=N] "
				       "[reason=TOKEN] | report good ADDR");
	for (int i = 1; i < argc && off < sizeof(line); i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
					i > 1 ? " " : "", argv[i]);
	if (off >= sizeof(line))
		return usage_err("%s", "report line too long");
	add_str(req, "line", line);
	return 0;
}

/* --- printers ----------------------------------------------------------- */

static void print_ok(json_object *resp)
{
	(void)resp;
	printf("ok\n");
}

static void print_emergency_obj(json_object *e)
{
	json_object *xdp;
	long long rem = get_int(e, "remaining_s");
	size_t i, n;

	if (!json_object_get_boolean(json_object_object_get(e, "on"))) {
		printf("off");
	} else if (rem < 0) {
		printf("ON (no TTL, by uid %lld)",
		       (long long)get_int(e, "uid"));
	} else {
		printf("ON (%lldm%02llds left, by uid %lld)", rem / 60,
		       rem % 60, (long long)get_int(e, "uid"));
	}
	printf("; xdp:");
	n = json_object_object_get_ex(e, "xdp", &xdp)
		    ? json_object_array_length(xdp)
		    : 0;
	for (i = 0; i < n; i++)
		printf(" %s", json_object_get_string(
				      json_object_array_get_idx(xdp, i)));
	if (!n)
		printf(" -");
	printf("; nft: %s", get_str(e, "nft"));
	if (json_object_get_boolean(json_object_object_get(e, "nft_rules")))
		printf(" (rules in)");
	printf("; dropped xdp %lld, nft %lld\n",
	       (long long)get_int(e, "xdp_drops"),
	       (long long)get_int(e, "nft_drops"));
	if (json_object_object_get(e, "nft_error"))
		printf("  nft error: %s\n", get_str(e, "nft_error"));
}

static void print_emergency(json_object *r)
{
	json_object *e;

	if (!json_object_object_get_ex(r, "emergency", &e))
		return;
	printf("emergency: ");
	print_emergency_obj(e);
}

static void print_status(json_object *r)
{
	json_object *ifs, *ctr, *e;

	printf("interfaces:");
	if (json_object_object_get_ex(r, "interfaces", &ifs))
		for (size_t i = 0; i < json_object_array_length(ifs); i++) {
			json_object *f = json_object_array_get_idx(ifs, i);

			printf(" %s (%s)", get_str(f, "name"),
			       get_str(f, "xdp_mode"));
		}
	printf("\nmode:               %s\n", get_str(r, "mode"));
	printf("posture:            %s\n", get_str(r, "posture"));
	printf("enforce:            %s\n", get_str(r, "enforce"));
	printf("emergency:          ");
	if (json_object_object_get_ex(r, "emergency", &e))
		print_emergency_obj(e);
	else
		printf("?\n");
	printf("sources tracked:    %lld\n",
	       (long long)get_int(r, "sources_tracked"));
	printf("bans:               %lld\n", (long long)get_int(r, "bans"));
	printf("quarantines:        %lld\n",
	       (long long)get_int(r, "quarantines"));
	printf("connections:        %lld established to protected ports\n",
	       (long long)get_int(r, "connections"));
	printf("config:             %s\n", get_str(r, "config_hash"));
	printf("uptime:             %lld s\n",
	       (long long)get_int(r, "uptime_s"));
	printf("tick:               %.2f ms (max %.2f ms)\n",
	       get_double(r, "tick_ms_last"), get_double(r, "tick_ms_max"));
	printf("attention deferred: %lld\n",
	       (long long)get_int(r, "attention_deferred"));
	if (json_object_object_get_ex(r, "counters", &ctr)) {
		printf("\npackets by reason:\n");
		json_object_object_foreach(ctr, k, v)
		{
			if (json_object_get_int64(v))
				printf("  %-20s %14lld\n", k,
				       (long long)json_object_get_int64(v));
		}
	}
}

static void print_peers(json_object *r)
{
	json_object *arr;

	if (!json_object_object_get_ex(r, "peers", &arr))
		return;
	printf("%-44s %-10s %10s %10s %10s %6s %7s\n", "source", "state",
	       "score", "pps", "drops/tick", "conns", "strikes");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *p = json_object_array_get_idx(arr, i);

		printf("%-44s %-10s %10.4g %10lld %10lld %6lld %7lld\n",
		       get_str(p, "addr"), get_str(p, "state"),
		       get_double(p, "score"), (long long)get_int(p, "pps"),
		       (long long)get_int(p, "drops_per_tick"),
		       (long long)get_int(p, "conns"),
		       (long long)get_int(p, "strikes"));
	}
}

static void print_peer(json_object *r)
{
	json_object *p, *b, *d, *ctr;

	if (json_object_object_get_ex(r, "peer", &p)) {
		printf("source:   %s%s\n", get_str(p, "addr"),
		       json_object_get_boolean(
			       json_object_object_get(p, "trusted"))
			       ? " (trusted)"
			       : "");
		printf("state:    %s\n", get_str(p, "state"));
		printf("score:    %.1f (credit %.1f)\n", get_double(p, "score"),
		       get_double(p, "credit"));
		printf("strikes:  %lld\n", (long long)get_int(p, "strikes"));
		printf("conns:    %lld established\n",
		       (long long)get_int(p, "conns"));
		if (json_object_object_get_ex(p, "counters", &ctr)) {
			printf("signals: ");
			json_object_object_foreach(ctr, k, v)
			{
				printf(" %s=%.1f", k,
				       json_object_get_double(v));
			}
			printf("\n");
		}
	}
	if (json_object_object_get_ex(r, "ban", &b) && b)
		printf("ban:      %s, %s, reason %s, expires %s\n",
		       get_str(b, "addr"), get_str(b, "origin"),
		       get_str(b, "reason"), get_str(b, "expires"));
	if (json_object_object_get_ex(r, "datapath", &d))
		printf("datapath: %lld packets, %lld bytes, %lld SYNs, %lld "
		       "dropped\n",
		       (long long)get_int(d, "packets"),
		       (long long)get_int(d, "bytes"),
		       (long long)get_int(d, "syns"),
		       (long long)get_int(d, "drops"));
}

static void print_allow(json_object *r)
{
	json_object *arr;

	if (!json_object_object_get_ex(r, "trusted", &arr)) {
		printf("ok\n");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *t = json_object_array_get_idx(arr, i);

		printf("%-44s %s\n", get_str(t, "addr"), get_str(t, "origin"));
	}
}

static void print_export(json_object *r)
{
	const char *content = get_str(r, "content");
	FILE *f = out_file ? fopen(out_file, "w") : stdout;

	if (!f) {
		fprintf(stderr, "peerwallctl: %s: %s\n", out_file,
			strerror(errno));
		return;
	}
	fputs(content, f);
	if (f != stdout) {
		fclose(f);
		fprintf(stderr, "%lld bans written to %s\n",
			(long long)get_int(r, "count"), out_file);
	}
}

static void print_import(json_object *r)
{
	json_object *errs;

	printf("applied %lld, refused %lld\n", (long long)get_int(r, "applied"),
	       (long long)get_int(r, "refused_trusted_or_failed"));
	if (json_object_object_get_ex(r, "errors", &errs))
		for (size_t i = 0; i < json_object_array_length(errs); i++) {
			json_object *e = json_object_array_get_idx(errs, i);

			printf("  line %lld: %s\n",
			       (long long)get_int(e, "line"),
			       get_str(e, "error"));
		}
}

static void print_text(json_object *r)
{
	fputs(get_str(r, "text"), stdout);
}

static void print_config(json_object *r)
{
	fputs(get_str(r, "content"), stdout);
}

static void print_forgive(json_object *r)
{
	printf("forgiven (was %s): score, strikes and history reset\n",
	       get_str(r, "was"));
}

static const struct cmd commands[] = {
	{"status", "status", build_none, print_status},
	{"top", "top [-n N] [--by pps|drops|score|conns]", build_opts_only,
	 print_peers},
	{"peers", "peers [-n N]", build_opts_only, print_peers},
	{"peer", "peer ADDR", build_addr, print_peer},
	{"ban", "ban ADDR|CIDR [--ttl DUR] [--reason TEXT]", build_addr,
	 print_ok},
	{"unban", "unban ADDR|CIDR", build_addr, print_ok},
	{"quarantine", "quarantine ADDR [--ttl DUR]", build_addr, print_ok},
	{"release", "release ADDR", build_addr, print_ok},
	{"allow", "allow add|del CIDR | allow list", build_allow, print_allow},
	{"export", "export [--format json|csv|txt|nft|bitcoin] [-o FILE]",
	 build_opts_only, print_export},
	{"import", "import FILE [--ttl DUR]", build_import, print_import},
	{"posture", "posture normal|elevated|severe", build_posture, print_ok},
	{"reload", "reload", build_none, print_ok},
	{"detach", "detach", build_none, print_ok},
	{"emergency",
	 "emergency on [--ttl DUR] [--force] | off | extend DUR | status",
	 build_emergency, print_emergency},
	{"report", "report invalid ADDR [weight=N] [reason=T] | good ADDR",
	 build_report, print_ok},
	{"forgive", "forgive ADDR", build_addr, print_forgive},
	{"metrics", "metrics", build_none, print_text},
	{"log", "log", build_none, print_text},
	{"config", "config", build_none, print_config},
};

static const struct run_cmd run_commands[] = {
	{"capture", "capture [--seconds N] [--reason R]... -o FILE.pcapng",
	 ctl_capture_main},
	{"evidence", "evidence -o DIR [--seconds N]", ctl_evidence_main},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: peerwallctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	for (size_t i = 0; i < sizeof(run_commands) / sizeof(run_commands[0]);
	     i++)
		fprintf(f, "  %s\n", run_commands[i].usage);
	fprintf(f, "durations: 90s, 15m, 2h, 7d; exit: 0 ok, 1 refused or "
		   "failed, 2 usage\n");
}

/* Send one request line, read one response line. */
static int roundtrip(const char *sock, const char *req, char **resp)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = 0, cap = 65536;
	char *buf;
	int fd;

	if (strlen(sock) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    write(fd, "\n", 1) != 1) {
		int err = -errno;

		close(fd);
		return err;
	}
	buf = malloc(cap);
	while (buf) {
		ssize_t n;

		if (len == cap) {
			char *p = realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n))
			break;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (!len || buf[len - 1] != '\n') {
		free(buf);
		return -EPROTO;
	}
	buf[len - 1] = 0;
	*resp = buf;
	return 0;
}

int ctl_call(const char *sock, json_object *req, json_object **resp, char *err,
	     size_t errlen)
{
	char *line = NULL;
	int rc;

	rc = roundtrip(
		sock,
		json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
		&line);
	if (rc) {
		snprintf(err, errlen, "%s: %s (is peerwalld running?)", sock,
			 strerror(-rc));
		return EXIT_FAIL;
	}
	*resp = json_tokener_parse(line);
	free(line);
	if (!*resp) {
		snprintf(err, errlen, "unreadable response");
		return EXIT_FAIL;
	}
	if (!json_object_get_boolean(json_object_object_get(*resp, "ok"))) {
		snprintf(err, errlen, "%s", get_str(*resp, "error"));
		json_object_put(*resp);
		*resp = NULL;
		return EXIT_FAIL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = PW_DEF_CONTROL_SOCKET;
	const struct cmd *cmd = NULL;
	json_object *req, *resp;
	bool json = false;
	char *line = NULL;
	int i, rc, status;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(run_commands) / sizeof(run_commands[0]);
	     c++)
		if (!strcmp(run_commands[c].name, argv[i]))
			return run_commands[c].run(sock, argc - i, argv + i,
						   json);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(commands[c].name, argv[i]))
			cmd = &commands[c];
	if (!cmd) {
		fprintf(stderr, "peerwallctl: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	req = json_object_new_object();
	add_str(req, "cmd", cmd->name);
	rc = cmd->build(argc - i, argv + i, req);
	if (rc) {
		json_object_put(req);
		if (rc == EXIT_USAGE)
			fprintf(stderr, "usage: peerwallctl %s\n", cmd->usage);
		return rc;
	}
	rc = roundtrip(
		sock,
		json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
		&line);
	json_object_put(req);
	if (rc) {
		fprintf(stderr, "peerwallctl: %s: %s (is peerwalld running?)\n",
			sock, strerror(-rc));
		return EXIT_FAIL;
	}
	resp = json_tokener_parse(line);
	if (!resp) {
		fprintf(stderr, "peerwallctl: unreadable response\n");
		free(line);
		return EXIT_FAIL;
	}
	status = json_object_get_boolean(json_object_object_get(resp, "ok"))
			 ? EXIT_OK
			 : EXIT_FAIL;
	if (json)
		printf("%s\n", line);
	else if (status == EXIT_OK)
		cmd->print(resp);
	else
		fprintf(stderr, "peerwallctl: %s: %s\n", cmd->name,
			get_str(resp, "error"));
	json_object_put(resp);
	free(line);
	return status;
}
