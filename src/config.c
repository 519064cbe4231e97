// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - load and validate peerwall.conf (libconfig syntax).
 *
 * The parse is one pass over the libconfig tree into a private struct
 * pw_config that starts from the defaults. Each key is checked where it is
 * read (type, sign, range), then the rules that tie keys together are
 * checked at the end. Nothing stops at the first problem: an operator
 * fixing a file wants every mistake in one run, each as "file:line: what",
 * so helpers record the error and carry on with the default. Only a fully
 * valid result is handed to the caller; on any error everything is freed
 * and the caller's struct is zeroed, so a half-applied config cannot exist.
 *
 * Unknown keys are errors rather than warnings: "limts" or "syn_ppps"
 * silently leaving a default in force is how a validator ends up with no
 * SYN limit during an attack.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libconfig.h>
#include <math.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "dp_config.h"
#include "duration.h"

/* Group allowed to run mutating control commands. */
#ifndef PW_DEF_CONTROL_GROUP
#define PW_DEF_CONTROL_GROUP "peerwall"
#endif

/* A unix socket path must fit sun_path with its terminating NUL. */
#define PW_SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* Longest group name accepted (useradd/groupadd's limit on Debian). */
#define PW_GROUP_NAME_MAX 32

/* Bounds of the agent keys. */
#define PW_MAX_REPORTS_PER_TICK 1000000
#define PW_MIN_MAX_PEERS	1024
#define PW_DEF_LOG_WEIGHT	10
#define PW_MAX_LOG_WEIGHT	100
#define PW_DEF_LOG_REASON	"log"

/* Bounds of the integer scoring keys. */
#define PW_SCORE_PREFIX_V4_MIN 8
#define PW_SCORE_PREFIX_V6_MIN 16
#define PW_MAX_PREFIX_BANS     1000000
#define PW_MAX_BANS_PER_MIN    1000000
#define PW_MAX_MIN_ESTABLISHED 1000000

/* A config file is a few KiB, or a few MiB with a long static ban list;
 * anything bigger is the wrong file (or /dev/zero), not a config. */
#define PW_CONFIG_MAX_FILE_BYTES (64u << 20)

/* How far setting_line() looks back for a string literal: more than any
 * comment between an array element and the token after it. */
#define STRING_LINE_LOOKBACK 64

/* Placeholder file name when the caller gives none. */
#define PW_CONFIG_NONAME "<config>"

/* Source lines of the keys that cross-checks refer to (0: not in the
 * file, the default is in force). */
struct pw_limit_lines {
	unsigned pps, burst, syn_pps, syn_burst;
};

/* An integer literal that libconfig 1.5 stored wrapped (see
 * scan_int_literals). */
struct pw_int_wrap {
	unsigned line;
	int stored; /* what libconfig made of it */
};

struct parse {
	const char *name;
	const char *text;	  /* what libconfig parsed */
	const char **line_starts; /* line_starts[n]: start of line n */
	unsigned n_lines;
	/* setting_line()'s place: array elements come in order, so the next
	 * search starts after the last hit (a 100k-element array on one line
	 * would otherwise be rescanned from its start for every element). */
	unsigned hit_line;
	const char *hit_next;
	struct pw_config_errors *errs; /* may be NULL: only count */
	size_t n_errors;	       /* including those not stored */
	struct pw_config cfg;	       /* built here, copied out on success */
	unsigned *trusted_lines;       /* per cfg.trusted entry */
	unsigned *ban_lines;	       /* per cfg.bans entry */
	struct pw_int_wrap *wraps;     /* literals reported as too wide */
	size_t n_wraps;
	unsigned line_bans, line_maps_bancidrs;
	unsigned line_src_prefix_v4, line_src_prefix_v6;
	unsigned line_net_prefix_v4, line_net_prefix_v6;
	struct pw_limit_lines lines_source, lines_quarantine, lines_prefix,
		lines_untrusted;
	/* scoring keys the cross-checks refer to */
	unsigned line_threshold[PW_ST_NR];
	unsigned line_ban_base, line_ban_max;
	unsigned line_throttle_bans, line_ban_bans;
};

static const char *const top_keys[] = {
	"interfaces",
	"mode",
	"malformed",
	"protect",
	"trusted",
	"bans",
	"source_prefix",
	"limits",
	"maps",
	"tick_ms",
	"attn_pkts",
	"state_dir",
	"control_socket",
	"control_group",
	"report_socket",
	"pin_root",
	"xdp_mode",
	"detach_on_exit",
	"posture",
	"metrics",
	"reports",
	"max_peers",
	"logwatch",
	"scoring",
	"enforce",
	"nft",
	"emergency",
	"capture",
	NULL,
};
static const char *const nft_keys[] = {"table", "remove_on_exit", "mirror_bans",
				       NULL};
static const char *const emergency_keys[] = {"default_ttl", "mgmt_ports", NULL};
static const char *const protect_keys[] = {"proto", "port", NULL};
static const char *const source_prefix_keys[] = {"ipv4", "ipv6", NULL};
static const char *const limits_keys[] = {"source", "quarantine", "prefix",
					  "untrusted", NULL};
static const char *const limit_keys[] = {"pps", "burst", "syn_pps", "syn_burst",
					 NULL};
static const char *const source_limit_keys[] = {
	"pps", "burst", "syn_pps", "syn_burst", "max_conns", NULL};
static const char *const prefix_limit_keys[] = {
	"ipv4",	   "ipv6",	"pps",	     "burst",
	"syn_pps", "syn_burst", "max_conns", NULL};
static const char *const maps_keys[] = {"sources", "prefixes", "sanctions",
					"bancidrs", NULL};
static const char *const metrics_keys[] = {"listen", NULL};
static const char *const reports_keys[] = {"per_tick", NULL};
static const char *const logwatch_keys[] = {"path", "pattern", "weight",
					    "reason", NULL};
static const char *const scoring_keys[] = {
	"syn",	"drop",	      "pkt",	    "invalid",	 "log",
	"conn", "thresholds", "hysteresis", "min_state", "credit",
	"ban",	"probation",  "prefix",	    "guard",	 "established_window",
	NULL,
};
static const char *const signal_keys[] = {"half_life", "budget", "weight",
					  NULL};
static const char *const thresholds_keys[] = {"watch", "throttle", "quarantine",
					      "ban", NULL};
static const char *const min_state_keys[] = {"watch", "throttle", "quarantine",
					     NULL};
static const char *const credit_keys[] = {"cap", "per_good", "serious_penalty",
					  NULL};
static const char *const ban_keys[] = {"base",	 "factor",	 "max",
				       "jitter", "strike_decay", NULL};
static const char *const probation_keys[] = {"duration", "factor", NULL};
static const char *const score_prefix_keys[] = {
	"ipv4", "ipv6", "throttle_bans", "ban_bans", "window", NULL};
static const char *const capture_keys[] = {"reasons", "per_second", "snaplen",
					   "ring_kib", NULL};
static const char *const guard_keys[] = {"max_bans_per_min", "max_fraction",
					 "min_established", NULL};

/* Copy a string known to fit (checked by the caller). */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

void pw_config_defaults(struct pw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = PW_MODE_ENFORCE;
	cfg->malformed = PW_MALFORMED_PASS;
	cfg->src_prefix_v4 = PW_DEF_SRC_PREFIX_V4;
	cfg->src_prefix_v6 = PW_DEF_SRC_PREFIX_V6;
	cfg->net_prefix_v4 = PW_DEF_NET_PREFIX_V4;
	cfg->net_prefix_v6 = PW_DEF_NET_PREFIX_V6;
	cfg->source =
		(struct pw_limit){PW_DEF_SRC_PPS, PW_DEF_SRC_BURST,
				  PW_DEF_SRC_SYN_PPS, PW_DEF_SRC_SYN_BURST, 0};
	cfg->quarantine = (struct pw_limit){PW_DEF_QUAR_PPS, PW_DEF_QUAR_BURST,
					    PW_DEF_QUAR_SYN_PPS,
					    PW_DEF_QUAR_SYN_BURST, 0};
	cfg->prefix = (struct pw_limit){PW_DEF_PREFIX_PPS, PW_DEF_PREFIX_BURST,
					PW_DEF_PREFIX_SYN_PPS,
					PW_DEF_PREFIX_SYN_BURST, 0};
	cfg->untrusted = (struct pw_limit){
		PW_DEF_GLOBAL_PPS, PW_DEF_GLOBAL_BURST, PW_DEF_GLOBAL_SYN_PPS,
		PW_DEF_GLOBAL_SYN_BURST, 0};
	cfg->maps = (struct pw_map_sizes){
		PW_DEF_MAP_SOURCES, PW_DEF_MAP_PREFIXES, PW_DEF_MAP_SANCTIONS,
		PW_DEF_MAP_BANCIDRS};
	cfg->tick_ms = PW_DEF_TICK_MS;
	cfg->attn_pkts = PW_DEF_ATTN_PKTS;

	copy_str(cfg->agent.state_dir, sizeof(cfg->agent.state_dir),
		 PW_DEF_STATE_DIR);
	copy_str(cfg->agent.control_socket, sizeof(cfg->agent.control_socket),
		 PW_DEF_CONTROL_SOCKET);
	copy_str(cfg->agent.control_group, sizeof(cfg->agent.control_group),
		 PW_DEF_CONTROL_GROUP);
	copy_str(cfg->agent.report_socket, sizeof(cfg->agent.report_socket),
		 PW_DEF_REPORT_SOCKET);
	copy_str(cfg->agent.pin_root, sizeof(cfg->agent.pin_root),
		 PW_DEF_PIN_ROOT);
	copy_str(cfg->agent.metrics_listen, sizeof(cfg->agent.metrics_listen),
		 PW_DEF_METRICS_LISTEN);
	cfg->agent.xdp_mode = PW_CFG_XDP_AUTO;
	cfg->agent.detach_on_exit = false;
	cfg->agent.posture = PW_POSTURE_NORMAL;
	cfg->agent.reports_per_tick = PW_DEF_REPORTS_PER_TICK;
	cfg->agent.max_peers = PW_DEF_MAX_PEERS;
	cfg->nft.enforce = PW_ENFORCE_BOTH;
	copy_str(cfg->nft.table, sizeof(cfg->nft.table), PW_DEF_NFT_TABLE);
	cfg->nft.mgmt_ports[0] = PW_DEF_MGMT_PORT;
	cfg->nft.n_mgmt = 1;
	cfg->nft.emergency_ttl_s = PW_DEF_EMERGENCY_TTL;
	cfg->capture.per_second = PW_DEF_CAPTURE_PER_S;
	cfg->capture.snaplen = PW_DEF_CAPTURE_SNAPLEN;
	cfg->capture.ring_kib = PW_DEF_CAPTURE_RING_KIB;
	pw_score_params_defaults(&cfg->scoring);
}

void pw_config_free(struct pw_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->protect);
	free(cfg->trusted);
	free(cfg->bans);
	memset(cfg, 0, sizeof(*cfg));
}

/* --- error collection ---------------------------------------------------- */

static void add_error(struct pw_config_errors *errs, const char *file,
		      unsigned line, const char *fmt, va_list ap)
{
	char *msg;
	int n;

	if (!errs)
		return;
	if (errs->n >= PW_CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	msg = errs->msg[errs->n++];
	if (line > 0)
		n = snprintf(msg, PW_CONFIG_ERRLEN, "%s:%u: ", file, line);
	else
		n = snprintf(msg, PW_CONFIG_ERRLEN, "%s: ", file);
	if (n >= 0 && n < PW_CONFIG_ERRLEN)
		vsnprintf(msg + n, PW_CONFIG_ERRLEN - n, fmt, ap);
}

static void report_file(struct parse *p, const char *file, unsigned line,
			const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report_file(struct parse *p, const char *file, unsigned line,
			const char *fmt, ...)
{
	va_list ap;

	p->n_errors++;
	va_start(ap, fmt);
	add_error(p->errs, file ? file : p->name, line, fmt, ap);
	va_end(ap);
}

/* report_line(p, 0, ...) is an error about the file as a whole. */
#define report_line(p, line, ...) report_file(p, NULL, line, __VA_ARGS__)

/* --- source lines ------------------------------------------------------- */

/* Where line n (1-based) of the text starts and ends. */
static const char *line_bounds(const struct parse *p, unsigned n,
			       const char **end)
{
	const char *start = p->line_starts[n];

	/* Not strchr(): a 100k-element array on one line is searched once
	 * per element. */
	if (n < p->n_lines) {
		*end = p->line_starts[n + 1] - 1;
	} else {
		*end = strchr(start, '\n');
		if (!*end)
			*end = start + strlen(start);
	}
	return start;
}

/* The line of setting s. libconfig 1.5 stamps an unnamed string (an array
 * element) with the line of the token after it, because it reads ahead
 * for "a" "b" concatenation: the last CIDR of a one-per-line array would
 * point at the closing bracket. Only whitespace and comments can lie
 * between the literal and that token, so walk back to the nearest line
 * holding the literal. Escaped or concatenated strings are not found and
 * keep libconfig's line. */
/* The first "val" (quoted) in [from, end), or NULL. */
static const char *find_quoted(const char *from, const char *end,
			       const char *val, size_t len)
{
	const char *hit;

	for (hit = from; (hit = memchr(hit, '"', (size_t)(end - hit))); hit++)
		if ((size_t)(end - hit) >= len + 2 &&
		    memcmp(hit + 1, val, len) == 0 && hit[len + 1] == '"')
			return hit;
	return NULL;
}

static unsigned setting_line(struct parse *p, const config_setting_t *s)
{
	unsigned line = config_setting_source_line(s), n;
	const char *val, *start, *end, *hit, *from;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    config_setting_name(s) || config_setting_source_file(s) ||
	    line == 0 || line > p->n_lines)
		return line;
	val = config_setting_get_string(s);
	len = strlen(val);
	for (n = line; n > 0 && line - n < STRING_LINE_LOOKBACK; n--) {
		start = line_bounds(p, n, &end);
		from = n == p->hit_line && p->hit_next ? p->hit_next : start;
		hit = find_quoted(from, end, val, len);
		if (!hit && from != start)
			hit = find_quoted(start, from, val, len);
		if (hit) {
			p->hit_line = n;
			p->hit_next = hit + len + 2;
			return n;
		}
	}
	return line;
}

static int index_lines(struct parse *p, const char *text)
{
	const char *c;
	unsigned n = 1;

	for (c = text; *c; c++)
		n += *c == '\n';
	p->line_starts = calloc(n + 1, sizeof(*p->line_starts));
	if (!p->line_starts)
		return -ENOMEM;
	p->text = text;
	p->n_lines = n;
	p->line_starts[1] = text;
	for (c = text, n = 1; *c; c++)
		if (*c == '\n')
			p->line_starts[++n] = c + 1;
	return 0;
}

/* An error about setting s, at its line (and in its file, when it came
 * from an @include). */
#define report(p, s, ...)                                                      \
	report_file(p, config_setting_source_file(s), setting_line(p, s),      \
		    __VA_ARGS__)

/* --- integer literals wider than 32 bits ---------------------------------- */

/* libconfig 1.5 parses an integer literal without an L suffix with atoi():
 * "burst = 4300000000;" silently becomes 5032704, "sources = 0x100000010;"
 * becomes 16. Nothing in the parsed tree can tell, so the text is scanned
 * for such literals (skipping strings, comments and names) and each one is
 * reported with the fix. Literals in @include'd files are not scanned.
 * Returns 0 or -ENOMEM. */
static int scan_int_literals(struct parse *p, const char *text)
{
	const char *c = text, *start;
	struct pw_int_wrap *grown;
	unsigned line = 1;
	long long v;
	bool hex;

	while (*c) {
		if (*c == '\n') {
			line++;
			c++;
		} else if (*c == '#' || (c[0] == '/' && c[1] == '/')) {
			while (*c && *c != '\n')
				c++;
		} else if (c[0] == '/' && c[1] == '*') {
			for (c += 2; *c && !(c[0] == '*' && c[1] == '/'); c++)
				line += *c == '\n';
			c += *c ? 2 : 0;
		} else if (*c == '"') {
			for (c++; *c && *c != '"'; c++) {
				if (*c == '\\' && c[1])
					c++;
				line += *c == '\n';
			}
			c += *c ? 1 : 0;
		} else if (isalpha((unsigned char)*c) || *c == '*') {
			while (isalnum((unsigned char)*c) || *c == '_' ||
			       *c == '-' || *c == '*')
				c++;
		} else if (isdigit((unsigned char)*c) ||
			   ((*c == '-' || *c == '+') &&
			    isdigit((unsigned char)c[1]))) {
			start = c;
			c += *c == '-' || *c == '+';
			hex = c[0] == '0' && (c[1] == 'x' || c[1] == 'X');
			for (c += hex ? 2 : 0; isxdigit((unsigned char)*c); c++)
				if (!hex && !isdigit((unsigned char)*c))
					break;
			if (*c == 'L' || *c == '.' || *c == 'e' || *c == 'E') {
				/* int64 or float: stored faithfully. */
				while (isalnum((unsigned char)*c) ||
				       *c == '.' || *c == '+' || *c == '-')
					c++;
				continue;
			}
			errno = 0;
			v = strtoll(start, NULL, hex ? 16 : 10);
			if (errno == 0 && v >= INT_MIN && v <= INT_MAX)
				continue;
			grown = realloc(p->wraps,
					(p->n_wraps + 1) * sizeof(*p->wraps));
			if (!grown)
				return -ENOMEM;
			p->wraps = grown;
			/* atoi/strtoul keep the low 32 bits, or all ones once
			 * the literal overflows long. */
			p->wraps[p->n_wraps++] = (struct pw_int_wrap){
				.line = line,
				.stored = errno ? -1 : (int)(uint32_t)v,
			};
			report_line(p, line,
				    "integer %.*s does not fit in 32 bits; "
				    "write it as %.*sL",
				    (int)(c - start), start, (int)(c - start),
				    start);
		} else {
			c++;
		}
	}
	return 0;
}

/* Already reported by scan_int_literals: don't add a second, confusing
 * error about the wrapped value. */
static bool is_wrapped(const struct parse *p, const config_setting_t *s)
{
	size_t i;

	if (config_setting_type(s) != CONFIG_TYPE_INT ||
	    config_setting_source_file(s))
		return false;
	for (i = 0; i < p->n_wraps; i++)
		if (p->wraps[i].line == config_setting_source_line(s) &&
		    p->wraps[i].stored == config_setting_get_int(s))
			return true;
	return false;
}

/* --- setting helpers ----------------------------------------------------- */

/* "limits.source.pps", "protect[2].port": how the operator finds it. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	size_t n;

	buf[0] = '\0';
	if (!parent)
		return;
	setting_path(parent, buf, len);
	n = strlen(buf);
	if (config_setting_is_group(parent))
		snprintf(buf + n, len - n, "%s%s", n ? "." : "",
			 config_setting_name(s));
	else
		snprintf(buf + n, len - n, "[%d]", config_setting_index(s));
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "of unknown type";
	}
}

static void report_type(struct parse *p, const config_setting_t *s,
			const char *want)
{
	char path[PW_CONFIG_ERRLEN];

	setting_path(s, path, sizeof(path));
	report(p, s, "'%s' must be %s, not %s", path, want, type_name(s));
}

static void check_keys(struct parse *p, const config_setting_t *group,
		       const char *const *allowed)
{
	char path[PW_CONFIG_ERRLEN];
	int i, n = config_setting_length(group);

	setting_path(group, path, sizeof(path));
	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, i);
		const char *key = config_setting_name(m);
		const char *const *k;

		for (k = allowed; *k; k++)
			if (strcmp(*k, key) == 0)
				break;
		if (*k)
			continue;
		if (path[0])
			report(p, m, "unknown key '%s' in '%s'", key, path);
		else
			report(p, m, "unknown top-level key '%s'", key);
	}
}

/* Member `key` of group, which must be a group itself. NULL when absent
 * (defaults apply) or of the wrong type (reported). */
static config_setting_t *get_group(struct parse *p, config_setting_t *parent,
				   const char *key, const char *const *allowed)
{
	config_setting_t *s = config_setting_get_member(parent, key);

	if (!s)
		return NULL;
	if (!config_setting_is_group(s)) {
		report_type(p, s, "a group { ... }");
		return NULL;
	}
	check_keys(p, s, allowed);
	return s;
}

/* An integer setting in [min, max]. Returns 1 and sets *out when present
 * and valid, 0 when absent, -EINVAL when invalid (reported). */
static int setting_uint(struct parse *p, const config_setting_t *s,
			uint64_t min, uint64_t max, const char *unit,
			uint64_t *out)
{
	char path[PW_CONFIG_ERRLEN];
	long long v;

	setting_path(s, path, sizeof(path));
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		report_type(p, s, "an integer");
		return -EINVAL;
	}
	v = config_setting_get_int64(s);
	if (is_wrapped(p, s))
		return -EINVAL;
	if (v < 0) {
		report(p, s, "'%s' must not be negative (got %lld)", path, v);
		return -EINVAL;
	}
	if ((uint64_t)v < min || (uint64_t)v > max) {
		report(p, s, "'%s' must be %llu..%llu%s%s (got %lld)", path,
		       (unsigned long long)min, (unsigned long long)max,
		       unit[0] ? " " : "", unit, v);
		return -EINVAL;
	}
	*out = (uint64_t)v;
	return 1;
}

/* Optional integer member; *out keeps its default unless valid. *line
 * (if given) gets the member's line when it is present and valid. */
static void get_uint(struct parse *p, const config_setting_t *group,
		     const char *key, uint64_t min, uint64_t max,
		     const char *unit, uint64_t *out, unsigned *line)
{
	config_setting_t *s;

	if (!group)
		return;
	s = config_setting_get_member(group, key);
	if (!s)
		return;
	if (setting_uint(p, s, min, max, unit, out) > 0 && line)
		*line = config_setting_source_line(s);
}

static void get_u32(struct parse *p, const config_setting_t *group,
		    const char *key, uint32_t min, uint32_t max,
		    const char *unit, uint32_t *out, unsigned *line)
{
	uint64_t v = *out;

	get_uint(p, group, key, min, max, unit, &v, line);
	*out = (uint32_t)v;
}

static void get_unsigned(struct parse *p, const config_setting_t *group,
			 const char *key, unsigned min, unsigned max,
			 const char *unit, unsigned *out, unsigned *line)
{
	uint64_t v = *out;

	get_uint(p, group, key, min, max, unit, &v, line);
	*out = (unsigned)v;
}

struct pw_keyword {
	const char *name;
	int value;
};

/* Optional string member that must be one of `words`. */
static void get_keyword(struct parse *p, const config_setting_t *group,
			const char *key, const struct pw_keyword *words,
			const char *expected, int *out)
{
	config_setting_t *s = config_setting_get_member(group, key);
	char path[PW_CONFIG_ERRLEN];
	const struct pw_keyword *w;
	const char *v;

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report_type(p, s, "a string");
		return;
	}
	v = config_setting_get_string(s);
	for (w = words; w->name; w++) {
		if (strcmp(w->name, v) == 0) {
			*out = w->value;
			return;
		}
	}
	setting_path(s, path, sizeof(path));
	report(p, s, "'%s' must be %s (got \"%.64s\")", path, expected, v);
}

/* Member `key`, which must be an array of strings (possibly empty).
 * Returns it, or NULL when absent or wrong (reported). */
static config_setting_t *
get_string_array(struct parse *p, config_setting_t *group, const char *key)
{
	config_setting_t *s = config_setting_get_member(group, key);
	int i, n;

	if (!s)
		return NULL;
	if (!config_setting_is_array(s)) {
		report_type(p, s, "an array of strings [ \"...\", ... ]");
		return NULL;
	}
	/* libconfig arrays are homogeneous, so one element tells. */
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			report_type(p, e, "a string");
			return NULL;
		}
	}
	return s;
}

/* Optional string member. Returns it with its value in *out, or NULL when
 * absent or not a string (reported). */
static config_setting_t *get_string(struct parse *p,
				    const config_setting_t *group,
				    const char *key, const char **out)
{
	config_setting_t *s;

	if (!group)
		return NULL;
	s = config_setting_get_member(group, key);
	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report_type(p, s, "a string");
		return NULL;
	}
	*out = config_setting_get_string(s);
	return s;
}

static bool has_control_char(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < ' ' || *v == 0x7f)
			return true;
	return false;
}

/* Optional absolute path member, shorter than max bytes (max <= size of
 * out). A unix socket says so in the message: its limit is sun_path. */
static void get_path(struct parse *p, const config_setting_t *group,
		     const char *key, size_t max, bool socket, char *out)
{
	char path[PW_CONFIG_ERRLEN];
	config_setting_t *s;
	const char *v;
	size_t len;

	s = get_string(p, group, key, &v);
	if (!s)
		return;
	setting_path(s, path, sizeof(path));
	len = strlen(v);
	if (v[0] != '/') {
		report(p, s, "'%s' must be an absolute path (got \"%.64s\")",
		       path, v);
	} else if (len >= max && socket) {
		report(p, s,
		       "'%s' is %zu bytes long; a unix socket path must be "
		       "shorter than %zu bytes",
		       path, len, max);
	} else if (len >= max) {
		report(p, s, "'%s' is %zu bytes long, at most %zu allowed",
		       path, len, max - 1);
	} else if (has_control_char(v)) {
		report(p, s, "'%s' contains a control character", path);
	} else {
		copy_str(out, max, v);
	}
}

/* An optional boolean member. */
static void get_bool(struct parse *p, const config_setting_t *group,
		     const char *key, bool *out)
{
	config_setting_t *s = config_setting_get_member(group, key);

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		report_type(p, s, "a boolean (true or false)");
		return;
	}
	*out = config_setting_get_bool(s);
}

/* Bounds of a real-valued key: min/max, each inclusive or not. */
struct pw_range {
	double min, max;
	bool min_open, max_open; /* strict < / > */
};

#define RANGE_POS    ((struct pw_range){0, INFINITY, true, false})
#define RANGE_NONNEG ((struct pw_range){0, INFINITY, false, false})

/* "> 0 and < 1", ">= 1", ...: the range as the operator reads it. */
static void range_text(const struct pw_range *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %g", r->min_open ? ">" : ">=", r->min);

	if (isfinite(r->max) && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " and %s %g",
			 r->max_open ? "<" : "<=", r->max);
}

static bool in_range(const struct pw_range *r, double v)
{
	if (r->min_open ? v <= r->min : v < r->min)
		return false;
	return r->max_open ? v < r->max : v <= r->max;
}

/* Optional number member (libconfig float or integer), finite and in r.
 * *line (if given) gets its line when present and valid. */
static void get_double(struct parse *p, const config_setting_t *group,
		       const char *key, struct pw_range r, double *out,
		       unsigned *line)
{
	char path[PW_CONFIG_ERRLEN], want[64];
	config_setting_t *s;
	double v;

	if (!group)
		return;
	s = config_setting_get_member(group, key);
	if (!s)
		return;
	setting_path(s, path, sizeof(path));
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (is_wrapped(p, s))
			return;
		v = (double)config_setting_get_int64(s);
		break;
	default:
		report_type(p, s, "a number");
		return;
	}
	if (!isfinite(v)) {
		report(p, s, "'%s' must be a finite number", path);
		return;
	}
	if (!in_range(&r, v)) {
		range_text(&r, want, sizeof(want));
		report(p, s, "'%s' must be %s (got %g)", path, want, v);
		return;
	}
	*out = v;
	if (line)
		*line = config_setting_source_line(s);
}

/* Optional duration member: a string pw_duration_parse() accepts ("90s",
 * "10m", "1h30m", "7d") or a non-negative integer of seconds. Zero only
 * when allow_zero. Stored as seconds. */
static void get_duration(struct parse *p, const config_setting_t *group,
			 const char *key, bool allow_zero, double *out,
			 unsigned *line)
{
	char path[PW_CONFIG_ERRLEN], why[PW_CONFIG_ERRLEN / 2];
	config_setting_t *s;
	uint64_t v;

	if (!group)
		return;
	s = config_setting_get_member(group, key);
	if (!s)
		return;
	setting_path(s, path, sizeof(path));
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		if (pw_duration_parse(config_setting_get_string(s), &v, why,
				      sizeof(why)) < 0) {
			report(p, s, "'%s': %s", path, why);
			return;
		}
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (setting_uint(p, s, 0, PW_DURATION_MAX_S, "seconds", &v) < 0)
			return;
		break;
	default:
		report_type(p, s,
			    "a duration (\"90s\", \"10m\", \"1h30m\", \"7d\") "
			    "or an integer number of seconds");
		return;
	}
	if (v == 0 && !allow_zero) {
		report(p, s, "'%s' must be longer than 0", path);
		return;
	}
	*out = (double)v;
	if (line)
		*line = config_setting_source_line(s);
}

/* --- sections ------------------------------------------------------------ */

/* The kernel's dev_valid_name(), so a typo fails here rather than at
 * attach time with a bare -ENODEV. */
static const char *ifname_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "is empty";
	if (len >= IF_NAMESIZE)
		return "is longer than 15 characters";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "is not a valid interface name";
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return "contains '/', ':', whitespace or a control "
			       "character";
	}
	return NULL;
}

static void parse_interfaces(struct parse *p, config_setting_t *root)
{
	config_setting_t *arr = get_string_array(p, root, "interfaces");
	struct pw_config *cfg = &p->cfg;
	int i, j, n;

	if (!arr)
		return;
	n = config_setting_length(arr);
	if (n > PW_MAX_INTERFACES) {
		report(p, arr, "too many interfaces (%d, at most %d)", n,
		       PW_MAX_INTERFACES);
		n = PW_MAX_INTERFACES;
	}
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(arr, i);
		const char *name = config_setting_get_string(e);
		const char *why = ifname_problem(name);

		if (why) {
			report(p, e, "interface \"%.32s\" %s", name, why);
			continue;
		}
		for (j = 0; j < (int)cfg->n_interfaces; j++)
			if (strcmp(cfg->interfaces[j], name) == 0)
				break;
		if (j < (int)cfg->n_interfaces) {
			report(p, e, "interface \"%s\" is listed twice", name);
			continue;
		}
		memcpy(cfg->interfaces[cfg->n_interfaces++], name,
		       strlen(name) + 1);
	}
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

static void add_protect(struct parse *p, const config_setting_t *entry,
			uint8_t proto, uint16_t port, unsigned *lines)
{
	struct pw_config *cfg = &p->cfg;
	size_t i;

	for (i = 0; i < cfg->n_protect; i++) {
		if (cfg->protect[i].proto == proto &&
		    cfg->protect[i].port == port) {
			report(p, entry,
			       "duplicate protect entry %u/%s (first at line "
			       "%u)",
			       port, proto_name(proto), lines[i]);
			return;
		}
	}
	if (cfg->n_protect == PW_MAX_PROTECT) {
		report(p, entry, "too many protect entries (at most %d)",
		       PW_MAX_PROTECT);
		return;
	}
	lines[cfg->n_protect] = config_setting_source_line(entry);
	cfg->protect[cfg->n_protect++] =
		(struct pw_protect){.proto = proto, .port = port};
}

/* protect = ( { proto = "tcp"; port = 26656; }, ... ); "tcp+udp" adds
 * both, the common case for devp2p (TCP RLPx plus UDP discovery). */
static int parse_protect(struct parse *p, config_setting_t *root)
{
	static const struct pw_keyword protos[] = {
		{"tcp", PW_PORT_TCP},
		{"udp", PW_PORT_UDP},
		{"tcp+udp", PW_PORT_TCP | PW_PORT_UDP},
		{NULL, 0},
	};
	config_setting_t *list = config_setting_get_member(root, "protect");
	unsigned *lines = NULL;
	int i, n, ret = 0;

	if (!list)
		return 0;
	/* An empty "[]" is the natural way to write "none" too. */
	if (!config_setting_is_list(list) &&
	    !(config_setting_is_array(list) &&
	      config_setting_length(list) == 0)) {
		report_type(p, list, "a list of groups ( { ... }, ... )");
		return 0;
	}
	n = config_setting_length(list);
	if (n == 0)
		return 0;
	p->cfg.protect = calloc(PW_MAX_PROTECT, sizeof(*p->cfg.protect));
	lines = calloc(PW_MAX_PROTECT, sizeof(*lines));
	if (!p->cfg.protect || !lines) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, i);
		config_setting_t *proto_s, *port_s;
		char path[PW_CONFIG_ERRLEN];
		int proto_bits = 0;
		uint64_t port = 0;

		setting_path(e, path, sizeof(path));
		if (!config_setting_is_group(e)) {
			report_type(p, e,
				    "a group { proto = ...; port = ...; }");
			continue;
		}
		check_keys(p, e, protect_keys);
		proto_s = config_setting_get_member(e, "proto");
		port_s = config_setting_get_member(e, "port");
		if (!proto_s)
			report(p, e, "'%s' has no proto", path);
		else
			get_keyword(p, e, "proto", protos,
				    "\"tcp\", \"udp\" or \"tcp+udp\"",
				    &proto_bits);
		if (!port_s)
			report(p, e, "'%s' has no port", path);
		else
			setting_uint(p, port_s, 1, 65535, "", &port);
		if (!proto_bits || !port)
			continue;
		if (proto_bits & PW_PORT_TCP)
			add_protect(p, e, IPPROTO_TCP, (uint16_t)port, lines);
		if (proto_bits & PW_PORT_UDP)
			add_protect(p, e, IPPROTO_UDP, (uint16_t)port, lines);
	}
cleanup:
	free(lines);
	return ret;
}

/* trusted / bans: arrays of CIDR strings. */
static int parse_cidrs(struct parse *p, config_setting_t *root, const char *key,
		       struct pw_cidr **out, size_t *n_out,
		       unsigned **lines_out)
{
	config_setting_t *arr = get_string_array(p, root, key);
	struct pw_cidr *cidrs;
	unsigned *lines;
	int i, n;

	if (!arr || config_setting_length(arr) == 0)
		return 0;
	n = config_setting_length(arr);
	cidrs = calloc(n, sizeof(*cidrs));
	lines = calloc(n, sizeof(*lines));
	*out = cidrs;
	*lines_out = lines;
	if (!cidrs || !lines)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(arr, i);
		char why[PW_CONFIG_ERRLEN / 2];

		if (pw_cidr_parse(config_setting_get_string(e), &cidrs[*n_out],
				  why, sizeof(why)) < 0) {
			report(p, e, "%s[%d]: %s", key, i, why);
			continue;
		}
		lines[(*n_out)++] = setting_line(p, e);
	}
	return 0;
}

static void parse_limit(struct parse *p, config_setting_t *limits,
			const char *key, struct pw_limit *lim,
			struct pw_limit_lines *lines)
{
	const char *const *keys = strcmp(key, "prefix") == 0 ? prefix_limit_keys
				  : strcmp(key, "source") == 0
					  ? source_limit_keys
					  : limit_keys;
	config_setting_t *g;

	if (!limits)
		return;
	g = get_group(p, limits, key, keys);
	if (!g)
		return;
	get_uint(p, g, "pps", 0, PW_MAX_RATE_PPS, "packets/s", &lim->pps,
		 &lines->pps);
	get_uint(p, g, "burst", 0, PW_MAX_BURST_PKTS, "packets", &lim->burst,
		 &lines->burst);
	get_uint(p, g, "syn_pps", 0, PW_MAX_RATE_PPS, "SYNs/s", &lim->syn_pps,
		 &lines->syn_pps);
	get_uint(p, g, "syn_burst", 0, PW_MAX_BURST_PKTS, "SYNs",
		 &lim->syn_burst, &lines->syn_burst);
	get_u32(p, g, "max_conns", 0, PW_MAX_CONNS_LIMIT, "connections",
		&lim->max_conns, NULL);
	if (keys == prefix_limit_keys) {
		get_unsigned(p, g, "ipv4", 1, 32, "bits", &p->cfg.net_prefix_v4,
			     &p->line_net_prefix_v4);
		get_unsigned(p, g, "ipv6", 1, 128, "bits",
			     &p->cfg.net_prefix_v6, &p->line_net_prefix_v6);
	}
}

/* A group name for control_group: the portable user/group name charset,
 * not a number (a gid would be read as a name), NULL when fine. */
static const char *group_name_problem(const char *v)
{
	size_t len = strlen(v), i;
	bool digits = true;

	if (len > PW_GROUP_NAME_MAX)
		return "is longer than 32 characters";
	if (v[0] == '-')
		return "starts with '-'";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return "may only contain letters, digits, '_', '.' "
			       "and '-'";
		digits = digits && isdigit(c);
	}
	if (len > 0 && digits)
		return "is a number; give the group's name";
	return NULL;
}

/* Plain decimal port 1..65535, no sign or leading zero. */
static bool parse_port(const char *s)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return false;
	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 5)
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

/* "host:port" with an IPv4 address or a bracketed IPv6 address, or ""
 * (metrics off). NULL when fine. Names are refused: the listener binds
 * before any resolver is worth trusting, and "localhost" may be ::1. */
static const char *listen_problem(const char *v)
{
	char host[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *colon, *close;
	size_t len;

	if (v[0] == '\0')
		return NULL;
	if (strlen(v) >= sizeof(((struct pw_agent_config *)0)->metrics_listen))
		return "is too long";
	if (v[0] == '[') {
		close = strchr(v, ']');
		if (!close)
			return "has '[' without ']'";
		if (close[1] != ':')
			return "needs ':port' after ']'";
		len = (size_t)(close - v - 1);
		colon = close + 1;
		if (len == 0 || len >= sizeof(host))
			return "is not an IPv6 address in brackets";
		memcpy(host, v + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return "is not an IPv6 address in brackets";
	} else {
		colon = strrchr(v, ':');
		if (!colon)
			return "has no ':port'";
		len = (size_t)(colon - v);
		if (memchr(v, ':', len))
			return "has an IPv6 address without brackets "
			       "(write [addr]:port)";
		if (len == 0 || len >= sizeof(host))
			return "has no IPv4 address before ':port'";
		memcpy(host, v, len);
		host[len] = '\0';
		if (inet_pton(AF_INET, host, addr) != 1)
			return "has a host that is not an IPv4 address or "
			       "a [bracketed] IPv6 address";
	}
	if (!parse_port(colon + 1))
		return "has a port that is not 1..65535";
	return NULL;
}

/* reason = "bad_block": a token for logs and metrics labels. */
static bool is_reason(const char *v)
{
	size_t len = strlen(v), i;

	if (len == 0 || len > PW_REASON_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!isalnum(c) && !strchr("_.:-", c))
			return false;
	}
	return true;
}

static void parse_agent_strings(struct parse *p, config_setting_t *root)
{
	static const struct pw_keyword xdp_modes[] = {
		{"auto", PW_CFG_XDP_AUTO},
		{"native", PW_CFG_XDP_NATIVE},
		{"generic", PW_CFG_XDP_GENERIC},
		{NULL, 0},
	};
	struct pw_agent_config *a = &p->cfg.agent;
	char path[PW_CONFIG_ERRLEN];
	config_setting_t *s;
	enum pw_posture posture;
	const char *v, *why;
	int mode;

	get_path(p, root, "state_dir", sizeof(a->state_dir), false,
		 a->state_dir);
	get_path(p, root, "control_socket", PW_SUN_PATH_MAX, true,
		 a->control_socket);
	s = get_string(p, root, "control_group", &v);
	if (s) {
		why = group_name_problem(v);
		if (why)
			report(p, s,
			       "'control_group' \"%.64s\" %s (\"\" = root "
			       "only)",
			       v, why);
		else
			copy_str(a->control_group, sizeof(a->control_group), v);
	}
	get_path(p, root, "report_socket", PW_SUN_PATH_MAX, true,
		 a->report_socket);
	get_path(p, root, "pin_root", sizeof(a->pin_root), false, a->pin_root);

	mode = a->xdp_mode;
	get_keyword(p, root, "xdp_mode", xdp_modes,
		    "\"auto\", \"native\" or \"generic\"", &mode);
	a->xdp_mode = mode;
	get_bool(p, root, "detach_on_exit", &a->detach_on_exit);

	s = get_string(p, root, "posture", &v);
	if (s) {
		if (pw_posture_parse(v, &posture) == 0)
			a->posture = posture;
		else
			report(p, s,
			       "'posture' must be \"normal\", \"elevated\" or "
			       "\"severe\" (got \"%.64s\")",
			       v);
	}

	s = get_group(p, root, "metrics", metrics_keys);
	s = get_string(p, s, "listen", &v);
	if (s) {
		setting_path(s, path, sizeof(path));
		why = listen_problem(v);
		if (why)
			report(p, s,
			       "'%s' \"%.64s\" %s; write \"127.0.0.1:9477\", "
			       "\"[::1]:9477\" or \"\" to disable",
			       path, v, why);
		else
			copy_str(a->metrics_listen, sizeof(a->metrics_listen),
				 v);
	}
}

/* enforce, nft { table, remove_on_exit, mirror_bans }, emergency {
 * default_ttl, mgmt_ports }. */
static void parse_nft(struct parse *p, config_setting_t *root)
{
	static const struct pw_keyword enforces[] = {
		{"both", PW_ENFORCE_BOTH},
		{"xdp", PW_ENFORCE_XDP},
		{"nft", PW_ENFORCE_NFT},
		{NULL, 0},
	};
	struct pw_nft_config *n = &p->cfg.nft;
	config_setting_t *g, *s;
	const char *v;
	int mode = n->enforce;

	get_keyword(p, root, "enforce", enforces,
		    "\"both\", \"xdp\" or \"nft\"", &mode);
	n->enforce = mode;

	g = get_group(p, root, "nft", nft_keys);
	s = get_string(p, g, "table", &v);
	if (s) {
		size_t len = strlen(v), i;
		bool ok = len > 0 && len < sizeof(n->table);

		for (i = 0; ok && i < len; i++)
			ok = isalnum((unsigned char)v[i]) || v[i] == '_' ||
			     v[i] == '-';
		if (ok)
			copy_str(n->table, sizeof(n->table), v);
		else
			report(p, s,
			       "'nft.table' \"%.64s\" must be 1..63 letters, "
			       "digits, '_' or '-' (the table is always of "
			       "family inet)",
			       v);
	}
	if (g) {
		get_bool(p, g, "remove_on_exit", &n->remove_on_exit);
		get_bool(p, g, "mirror_bans", &n->mirror_bans);
	}

	g = get_group(p, root, "emergency", emergency_keys);
	get_duration(p, g, "default_ttl", false, &n->emergency_ttl_s, NULL);
	s = g ? config_setting_get_member(g, "mgmt_ports") : NULL;
	if (s && !config_setting_is_array(s)) {
		report_type(p, s, "an array of ports [ 22, ... ]");
	} else if (s) {
		int len = config_setting_length(s);

		if (len > PW_MAX_MGMT_PORTS) {
			report(p, s,
			       "'emergency.mgmt_ports' has %d ports, at most "
			       "%d allowed",
			       len, PW_MAX_MGMT_PORTS);
			return;
		}
		n->n_mgmt = 0;
		for (int i = 0; i < len; i++) {
			config_setting_t *e = config_setting_get_elem(s, i);
			uint64_t port;

			if (setting_uint(p, e, 1, 65535, "", &port) > 0)
				n->mgmt_ports[n->n_mgmt++] = (uint16_t)port;
		}
	}
}

/* One logwatch entry into *w (its defaults already set). Returns true
 * when valid. */
static bool parse_logwatch_entry(struct parse *p, config_setting_t *e,
				 struct pw_logwatch *w)
{
	char path[PW_CONFIG_ERRLEN], why[PW_CONFIG_ERRLEN / 2];
	config_setting_t *s;
	size_t errs = p->n_errors;
	const char *v;
	regex_t re;
	int rc;

	setting_path(e, path, sizeof(path));
	check_keys(p, e, logwatch_keys);
	if (!config_setting_get_member(e, "path"))
		report(p, e, "'%s' has no path", path);
	else
		get_path(p, e, "path", sizeof(w->path), false, w->path);

	s = get_string(p, e, "pattern", &v);
	if (!config_setting_get_member(e, "pattern")) {
		report(p, e, "'%s' has no pattern", path);
	} else if (s && strlen(v) >= sizeof(w->pattern)) {
		report(p, s,
		       "'%s.pattern' is %zu bytes long, at most %zu "
		       "allowed",
		       path, strlen(v), sizeof(w->pattern) - 1);
	} else if (s) {
		rc = regcomp(&re, v, REG_EXTENDED);
		if (rc != 0) {
			regerror(rc, &re, why, sizeof(why));
			report(p, s, "'%s.pattern' does not compile: %s", path,
			       why);
		} else {
			if (re.re_nsub < 1)
				report(p, s,
				       "'%s.pattern' has no group: group 1 "
				       "( ... ) must capture the peer's "
				       "address",
				       path);
			else
				copy_str(w->pattern, sizeof(w->pattern), v);
			regfree(&re);
		}
	}

	get_unsigned(p, e, "weight", 1, PW_MAX_LOG_WEIGHT, "", &w->weight,
		     NULL);
	s = get_string(p, e, "reason", &v);
	if (s && !is_reason(v))
		report(p, s,
		       "'%s.reason' must be 1..%d characters of A-Z a-z 0-9 "
		       "_ . : - (got \"%.64s\")",
		       path, PW_REASON_MAX, v);
	else if (s)
		copy_str(w->reason, sizeof(w->reason), v);
	return p->n_errors == errs;
}

/* logwatch = ( { path = ...; pattern = ...; weight = ...; reason = ...; },
 * ... ); every pattern compiled once here so a typo fails at load. */
static void parse_logwatch(struct parse *p, config_setting_t *root)
{
	struct pw_agent_config *a = &p->cfg.agent;
	config_setting_t *list = config_setting_get_member(root, "logwatch");
	int i, n;

	if (!list)
		return;
	if (!config_setting_is_list(list) &&
	    !(config_setting_is_array(list) &&
	      config_setting_length(list) == 0)) {
		report_type(p, list, "a list of groups ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	if (n > PW_MAX_LOGWATCH) {
		report(p, list, "too many logwatch entries (%d, at most %d)", n,
		       PW_MAX_LOGWATCH);
		n = PW_MAX_LOGWATCH;
	}
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, i);
		struct pw_logwatch *w = &a->logwatch[a->n_logwatch];

		if (!config_setting_is_group(e)) {
			report_type(p, e,
				    "a group { path = ...; pattern = ...; }");
			continue;
		}
		memset(w, 0, sizeof(*w));
		w->weight = PW_DEF_LOG_WEIGHT;
		copy_str(w->reason, sizeof(w->reason), PW_DEF_LOG_REASON);
		if (parse_logwatch_entry(p, e, w))
			a->n_logwatch++;
		else
			memset(w, 0, sizeof(*w));
	}
}

/* capture = { reasons = [ "drop_banned", ... ]; per_second; snaplen;
 * ring_kib; } */
static void parse_capture(struct parse *p, config_setting_t *root)
{
	struct pw_capture_config *c = &p->cfg.capture;
	config_setting_t *g, *s;

	g = get_group(p, root, "capture", capture_keys);
	if (!g)
		return;
	s = get_string_array(p, g, "reasons");
	for (int i = 0; s && i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = config_setting_get_string(e);
		uint32_t mask;

		if (pw_sample_reasons_parse(v, &mask))
			report(p, e,
			       "'capture.reasons': \"%.64s\" is not a drop "
			       "reason (%s, or \"all\")",
			       v, PW_SAMPLE_REASON_NAMES);
		else
			c->reasons |= mask;
	}
	get_u32(p, g, "per_second", 1, PW_MAX_CAPTURE_PER_S, "samples/s",
		&c->per_second, NULL);
	get_u32(p, g, "snaplen", 1, PW_SAMPLE_MAX_BYTES, "bytes", &c->snaplen,
		NULL);
	get_u32(p, g, "ring_kib", PW_MIN_CAPTURE_RING_KIB,
		PW_MAX_CAPTURE_RING_KIB, "KiB", &c->ring_kib, NULL);
}

static void parse_agent(struct parse *p, config_setting_t *root)
{
	struct pw_agent_config *a = &p->cfg.agent;
	config_setting_t *g;

	parse_agent_strings(p, root);
	parse_nft(p, root);
	g = get_group(p, root, "reports", reports_keys);
	get_u32(p, g, "per_tick", 1, PW_MAX_REPORTS_PER_TICK,
		"reports per tick", &a->reports_per_tick, NULL);
	get_u32(p, root, "max_peers", PW_MIN_MAX_PEERS, PW_MAP_MAX_ENTRIES,
		"sources", &a->max_peers, NULL);
	parse_logwatch(p, root);
	parse_capture(p, root);
}

static void parse_scoring(struct parse *p, config_setting_t *root)
{
	static const struct {
		const char *key;
		enum pw_signal sig;
	} signals[] = {
		{"syn", PW_SIG_SYN}, {"drop", PW_SIG_DROP},
		{"pkt", PW_SIG_PKT}, {"invalid", PW_SIG_INVALID},
		{"log", PW_SIG_LOG}, {"conn", PW_SIG_CONN},
	};
	static const struct {
		const char *key;
		enum pw_peer_state st;
	} states[] = {
		{"watch", PW_ST_WATCH},
		{"throttle", PW_ST_THROTTLE},
		{"quarantine", PW_ST_QUARANTINE},
		{"ban", PW_ST_BANNED},
	};
	struct pw_score_params *sp = &p->cfg.scoring;
	config_setting_t *sc, *g;
	size_t i;

	sc = get_group(p, root, "scoring", scoring_keys);
	if (!sc)
		return;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct pw_signal_params *sig = &sp->sig[signals[i].sig];

		g = get_group(p, sc, signals[i].key, signal_keys);
		get_duration(p, g, "half_life", false, &sig->half_life_s, NULL);
		get_double(p, g, "budget", RANGE_NONNEG, &sig->budget, NULL);
		get_double(p, g, "weight", RANGE_NONNEG, &sig->weight, NULL);
	}

	g = get_group(p, sc, "thresholds", thresholds_keys);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		get_double(p, g, states[i].key, RANGE_POS,
			   &sp->threshold[states[i].st],
			   &p->line_threshold[states[i].st]);
	get_double(p, sc, "hysteresis", (struct pw_range){0, 1, true, true},
		   &sp->hysteresis, NULL);

	g = get_group(p, sc, "min_state", min_state_keys);
	for (i = 0; i < 3; i++)
		get_duration(p, g, states[i].key, true,
			     &sp->min_state_s[states[i].st], NULL);

	g = get_group(p, sc, "credit", credit_keys);
	get_double(p, g, "cap", RANGE_NONNEG, &sp->credit_cap, NULL);
	get_double(p, g, "per_good", RANGE_NONNEG, &sp->credit_per_good, NULL);
	get_double(p, g, "serious_penalty", RANGE_NONNEG, &sp->serious_penalty,
		   NULL);

	g = get_group(p, sc, "ban", ban_keys);
	get_duration(p, g, "base", false, &sp->ban_base_s, &p->line_ban_base);
	get_double(p, g, "factor", (struct pw_range){1, INFINITY, false, false},
		   &sp->ban_factor, NULL);
	get_duration(p, g, "max", false, &sp->ban_max_s, &p->line_ban_max);
	get_double(p, g, "jitter", (struct pw_range){0, 0.5, false, true},
		   &sp->ban_jitter, NULL);
	get_duration(p, g, "strike_decay", false, &sp->strike_decay_s, NULL);

	g = get_group(p, sc, "probation", probation_keys);
	get_duration(p, g, "duration", true, &sp->probation_s, NULL);
	get_double(p, g, "factor", (struct pw_range){0, 1, true, false},
		   &sp->probation_factor, NULL);

	g = get_group(p, sc, "prefix", score_prefix_keys);
	get_unsigned(p, g, "ipv4", PW_SCORE_PREFIX_V4_MIN, 32, "bits",
		     &sp->prefix_v4, NULL);
	get_unsigned(p, g, "ipv6", PW_SCORE_PREFIX_V6_MIN, 128, "bits",
		     &sp->prefix_v6, NULL);
	get_unsigned(p, g, "throttle_bans", 1, PW_MAX_PREFIX_BANS,
		     "banned sources", &sp->prefix_throttle_bans,
		     &p->line_throttle_bans);
	get_unsigned(p, g, "ban_bans", 1, PW_MAX_PREFIX_BANS, "banned sources",
		     &sp->prefix_ban_bans, &p->line_ban_bans);
	get_duration(p, g, "window", false, &sp->prefix_window_s, NULL);

	g = get_group(p, sc, "guard", guard_keys);
	get_unsigned(p, g, "max_bans_per_min", 0, PW_MAX_BANS_PER_MIN,
		     "bans per minute", &sp->max_auto_bans_per_min, NULL);
	get_double(p, g, "max_fraction", (struct pw_range){0, 1, true, false},
		   &sp->max_ban_fraction, NULL);
	get_unsigned(p, g, "min_established", 0, PW_MAX_MIN_ESTABLISHED,
		     "sources", &sp->min_established_for_fraction, NULL);

	get_duration(p, sc, "established_window", false,
		     &sp->established_window_s, NULL);
}

/* Top-level keys in the order the example file and the docs use, so
 * errors come out roughly in file order. Returns 0 or -ENOMEM. */
static int parse_sections(struct parse *p, config_setting_t *root)
{
	static const struct pw_keyword modes[] = {
		{"enforce", PW_MODE_ENFORCE},
		{"monitor", PW_MODE_MONITOR},
		{NULL, 0},
	};
	static const struct pw_keyword malformed[] = {
		{"pass", PW_MALFORMED_PASS},
		{"drop", PW_MALFORMED_DROP},
		{NULL, 0},
	};
	struct pw_config *cfg = &p->cfg;
	config_setting_t *g;
	int v, ret;

	check_keys(p, root, top_keys);
	parse_interfaces(p, root);

	v = cfg->mode;
	get_keyword(p, root, "mode", modes, "\"enforce\" or \"monitor\"", &v);
	cfg->mode = v;
	v = cfg->malformed;
	get_keyword(p, root, "malformed", malformed, "\"pass\" or \"drop\"",
		    &v);
	cfg->malformed = v;

	ret = parse_protect(p, root);
	if (ret == 0)
		ret = parse_cidrs(p, root, "trusted", &cfg->trusted,
				  &cfg->n_trusted, &p->trusted_lines);
	if (ret == 0)
		ret = parse_cidrs(p, root, "bans", &cfg->bans, &cfg->n_bans,
				  &p->ban_lines);
	if (ret < 0)
		return ret;
	g = config_setting_get_member(root, "bans");
	if (g)
		p->line_bans = config_setting_source_line(g);

	g = get_group(p, root, "source_prefix", source_prefix_keys);
	if (g) {
		get_unsigned(p, g, "ipv4", 1, 32, "bits", &cfg->src_prefix_v4,
			     &p->line_src_prefix_v4);
		get_unsigned(p, g, "ipv6", 1, 128, "bits", &cfg->src_prefix_v6,
			     &p->line_src_prefix_v6);
	}

	g = get_group(p, root, "limits", limits_keys);
	parse_limit(p, g, "source", &cfg->source, &p->lines_source);
	parse_limit(p, g, "quarantine", &cfg->quarantine, &p->lines_quarantine);
	parse_limit(p, g, "prefix", &cfg->prefix, &p->lines_prefix);
	parse_limit(p, g, "untrusted", &cfg->untrusted, &p->lines_untrusted);

	g = get_group(p, root, "maps", maps_keys);
	get_u32(p, g, "sources", PW_MAP_MIN_ENTRIES, PW_MAP_MAX_ENTRIES,
		"entries", &cfg->maps.sources, NULL);
	get_u32(p, g, "prefixes", PW_MAP_MIN_ENTRIES, PW_MAP_MAX_ENTRIES,
		"entries", &cfg->maps.prefixes, NULL);
	get_u32(p, g, "sanctions", PW_MAP_MIN_ENTRIES, PW_MAP_MAX_ENTRIES,
		"entries", &cfg->maps.sanctions, NULL);
	get_u32(p, g, "bancidrs", PW_MAP_MIN_ENTRIES, PW_MAP_MAX_ENTRIES,
		"entries", &cfg->maps.bancidrs, &p->line_maps_bancidrs);

	get_u32(p, root, "tick_ms", PW_MIN_TICK_MS, PW_MAX_TICK_MS, "ms",
		&cfg->tick_ms, NULL);
	get_u32(p, root, "attn_pkts", 1, UINT32_MAX, "packets per tick",
		&cfg->attn_pkts, NULL);

	parse_agent(p, root);
	parse_scoring(p, root);
	return 0;
}

/* --- rules across keys --------------------------------------------------- */

static unsigned first_line(unsigned a, unsigned b)
{
	return a ? a : b;
}

static void check_limit(struct parse *p, const char *name,
			const struct pw_limit *lim,
			const struct pw_limit_lines *lines)
{
	if (lim->pps > 0 && lim->burst < lim->pps)
		report_line(p, first_line(lines->burst, lines->pps),
			    "burst (%llu) < pps (%llu) in limits.%s",
			    (unsigned long long)lim->burst,
			    (unsigned long long)lim->pps, name);
	if (lim->syn_pps > 0 && lim->syn_burst < lim->syn_pps)
		report_line(p, first_line(lines->syn_burst, lines->syn_pps),
			    "syn_burst (%llu) < syn_pps (%llu) in limits.%s",
			    (unsigned long long)lim->syn_burst,
			    (unsigned long long)lim->syn_pps, name);
}

/* Quarantine is the harshest level: a rate above the normal source rate,
 * or unlimited while the source rate is limited, would reward being
 * quarantined. */
static void check_quarantine_rate(struct parse *p, const char *key,
				  uint64_t quar, uint64_t src, unsigned line)
{
	if (src == 0 || (quar > 0 && quar <= src))
		return;
	if (quar == 0)
		report_line(p, line,
			    "limits.quarantine.%s is unlimited (0) but "
			    "limits.source.%s is %llu: quarantine must not be "
			    "looser than the source limit",
			    key, key, (unsigned long long)src);
	else
		report_line(p, line,
			    "limits.quarantine.%s (%llu) > limits.source.%s "
			    "(%llu): quarantine must not be looser than the "
			    "source limit",
			    key, (unsigned long long)quar, key,
			    (unsigned long long)src);
}

static void check_prefix_width(struct parse *p, const char *family,
			       unsigned net, unsigned src, unsigned line)
{
	if (net <= src)
		return;
	report_line(p, line,
		    "limits.prefix.%s (/%u) is longer than source_prefix.%s "
		    "(/%u): a prefix bucket must cover whole sources",
		    family, net, family, src);
}

static void check_bans(struct parse *p)
{
	const struct pw_config *cfg = &p->cfg;
	char ban[PW_CIDR_STRLEN], trusted[PW_CIDR_STRLEN];
	size_t n_v4 = 0, n_v6 = 0;
	size_t i, j;

	for (i = 0; i < cfg->n_bans; i++) {
		const struct pw_cidr *b = &cfg->bans[i];

		if (b->family == AF_INET)
			n_v4++;
		else
			n_v6++;
		for (j = 0; j < cfg->n_trusted; j++) {
			const struct pw_cidr *t = &cfg->trusted[j];

			if (!pw_cidr_contains(b, t) && !pw_cidr_contains(t, b))
				continue;
			pw_cidr_format(b, ban, sizeof(ban));
			pw_cidr_format(t, trusted, sizeof(trusted));
			report_line(p, p->ban_lines[i],
				    "ban %s overlaps trusted %s at line %u",
				    ban, trusted, p->trusted_lines[j]);
		}
	}
	if (n_v4 > cfg->maps.bancidrs || n_v6 > cfg->maps.bancidrs)
		report_line(p, first_line(p->line_maps_bancidrs, p->line_bans),
			    "bans has %zu IPv4 and %zu IPv6 entries but "
			    "maps.bancidrs holds %u per family",
			    n_v4, n_v6, cfg->maps.bancidrs);
}

static void check_trusted_count(struct parse *p)
{
	size_t n_v4 = 0, n_v6 = 0;

	for (size_t i = 0; i < p->cfg.n_trusted; i++)
		p->cfg.trusted[i].family == AF_INET ? n_v4++ : n_v6++;
	if (n_v4 > PW_MAX_TRUSTED || n_v6 > PW_MAX_TRUSTED)
		report_line(p, 0,
			    "trusted has %zu IPv4 and %zu IPv6 entries; at "
			    "most %d per family",
			    n_v4, n_v6, PW_MAX_TRUSTED);
}

static void check_scoring(struct parse *p)
{
	static const char *const names[PW_ST_NR] = {
		[PW_ST_WATCH] = "watch",
		[PW_ST_THROTTLE] = "throttle",
		[PW_ST_QUARANTINE] = "quarantine",
		[PW_ST_BANNED] = "ban",
	};
	const struct pw_score_params *sp = &p->cfg.scoring;
	char base[32], max[32];
	int st;

	for (st = PW_ST_THROTTLE; st <= PW_ST_BANNED; st++) {
		if (sp->threshold[st] > sp->threshold[st - 1])
			continue;
		report_line(p,
			    first_line(p->line_threshold[st],
				       p->line_threshold[st - 1]),
			    "scoring.thresholds.%s (%g) must be greater than "
			    "scoring.thresholds.%s (%g)",
			    names[st], sp->threshold[st], names[st - 1],
			    sp->threshold[st - 1]);
	}
	if (sp->ban_max_s < sp->ban_base_s) {
		pw_duration_format((uint64_t)sp->ban_max_s, max, sizeof(max));
		pw_duration_format((uint64_t)sp->ban_base_s, base,
				   sizeof(base));
		report_line(p, first_line(p->line_ban_max, p->line_ban_base),
			    "scoring.ban.max (%s) is shorter than "
			    "scoring.ban.base (%s)",
			    max, base);
	}
	if (sp->prefix_ban_bans < sp->prefix_throttle_bans)
		report_line(p,
			    first_line(p->line_ban_bans, p->line_throttle_bans),
			    "scoring.prefix.ban_bans (%u) < "
			    "scoring.prefix.throttle_bans (%u): a prefix is "
			    "throttled before it is banned",
			    sp->prefix_ban_bans, sp->prefix_throttle_bans);
}

/* Emergency mode must never cut the way in: a management port cannot
 * also be a protected port. */
static void check_mgmt_ports(struct parse *p)
{
	const struct pw_config *cfg = &p->cfg;

	for (size_t i = 0; i < cfg->nft.n_mgmt; i++)
		for (size_t j = 0; j < cfg->n_protect; j++)
			if (cfg->protect[j].port == cfg->nft.mgmt_ports[i])
				report_line(p, 0,
					    "port %u is both protected and an "
					    "emergency.mgmt_ports entry "
					    "(default 22): emergency mode "
					    "would cut management access; "
					    "drop one of them",
					    cfg->nft.mgmt_ports[i]);
}

static void check_rules(struct parse *p)
{
	const struct pw_config *cfg = &p->cfg;

	check_limit(p, "source", &cfg->source, &p->lines_source);
	check_limit(p, "quarantine", &cfg->quarantine, &p->lines_quarantine);
	check_limit(p, "prefix", &cfg->prefix, &p->lines_prefix);
	check_limit(p, "untrusted", &cfg->untrusted, &p->lines_untrusted);

	check_quarantine_rate(
		p, "pps", cfg->quarantine.pps, cfg->source.pps,
		first_line(p->lines_quarantine.pps, p->lines_source.pps));
	check_quarantine_rate(p, "syn_pps", cfg->quarantine.syn_pps,
			      cfg->source.syn_pps,
			      first_line(p->lines_quarantine.syn_pps,
					 p->lines_source.syn_pps));

	check_prefix_width(
		p, "ipv4", cfg->net_prefix_v4, cfg->src_prefix_v4,
		first_line(p->line_net_prefix_v4, p->line_src_prefix_v4));
	check_prefix_width(
		p, "ipv6", cfg->net_prefix_v6, cfg->src_prefix_v6,
		first_line(p->line_net_prefix_v6, p->line_src_prefix_v6));

	check_bans(p);
	check_trusted_count(p);
	check_scoring(p);
	check_mgmt_ports(p);
}

/* --- entry points -------------------------------------------------------- */

static int load_text(const char *text, const char *name,
		     const char *include_dir, struct pw_config *cfg,
		     struct pw_config_errors *errs)
{
	struct parse p = {.name = name ? name : PW_CONFIG_NONAME, .errs = errs};
	config_t lc;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (errs)
		memset(errs, 0, sizeof(*errs));
	pw_config_defaults(&p.cfg);

	config_init(&lc);
	if (include_dir)
		config_set_include_dir(&lc, include_dir);
	if (!text) {
		report_line(&p, 0, "no configuration text");
		ret = -EINVAL;
		goto cleanup;
	}
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		report_file(&p, config_error_file(&lc),
			    (unsigned)config_error_line(&lc), "%s",
			    config_error_text(&lc) ? config_error_text(&lc)
						   : "parse error");
		ret = -EINVAL;
		goto cleanup;
	}
	ret = index_lines(&p, text);
	if (ret == 0)
		ret = scan_int_literals(&p, text);
	if (ret == 0)
		ret = parse_sections(&p, config_root_setting(&lc));
	if (ret < 0) {
		report_line(&p, 0, "%s", strerror(-ret));
		goto cleanup;
	}
	check_rules(&p);
	if (p.n_errors > 0) {
		ret = -EINVAL;
		goto cleanup;
	}
	*cfg = p.cfg;
	memset(&p.cfg, 0, sizeof(p.cfg));
	ret = 0;
cleanup:
	pw_config_free(&p.cfg);
	free(p.trusted_lines);
	free(p.ban_lines);
	free(p.wraps);
	free(p.line_starts);
	config_destroy(&lc);
	return ret;
}

int pw_config_load_string(const char *text, const char *name,
			  struct pw_config *cfg, struct pw_config_errors *errs)
{
	return load_text(text, name, NULL, cfg, errs);
}

static void file_error(const char *path, struct pw_config_errors *errs,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void file_error(const char *path, struct pw_config_errors *errs,
		       const char *fmt, ...)
{
	va_list ap;

	if (!errs)
		return;
	memset(errs, 0, sizeof(*errs));
	va_start(ap, fmt);
	add_error(errs, path, 0, fmt, ap);
	va_end(ap);
}

/* Read the whole file, NUL-terminated. Not stdio's config_read_file: we
 * want to tell "missing" from "unreadable" from "not a config" by errno. */
static int read_file(const char *path, char **text_out,
		     struct pw_config_errors *errs)
{
	size_t len = 0, cap = 0;
	char *text = NULL, *grown;
	ssize_t n;
	int fd, ret;

	*text_out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		file_error(path, errs, "cannot open: %s", strerror(-ret));
		return ret;
	}
	for (;;) {
		if (cap - len < 2) {
			cap = cap ? cap * 2 : 16384;
			grown = realloc(text, cap);
			if (!grown) {
				ret = -ENOMEM;
				file_error(path, errs, "out of memory");
				goto cleanup;
			}
			text = grown;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			file_error(path, errs, "cannot read: %s",
				   strerror(errno));
			ret = -EIO;
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > PW_CONFIG_MAX_FILE_BYTES) {
			file_error(path, errs,
				   "larger than %u MiB, not a config file",
				   PW_CONFIG_MAX_FILE_BYTES >> 20);
			ret = -EINVAL;
			goto cleanup;
		}
	}
	text[len] = '\0';
	/* libconfig would stop at the NUL and report a misleading line. */
	if (strlen(text) != len) {
		file_error(path, errs,
			   "contains a NUL byte, not a config file");
		ret = -EINVAL;
		goto cleanup;
	}
	*text_out = text;
	text = NULL;
	ret = 0;
cleanup:
	free(text);
	close(fd);
	return ret;
}

int pw_config_load_file(const char *path, struct pw_config *cfg,
			struct pw_config_errors *errs)
{
	char *text = NULL, *dir = NULL, *slash;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	ret = read_file(path, &text, errs);
	if (ret < 0)
		return ret;
	/* @include "x.conf" is relative to the including file, not to the
	 * daemon's working directory. */
	dir = strdup(path);
	if (!dir) {
		file_error(path, errs, "out of memory");
		ret = -ENOMEM;
		goto cleanup;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	ret = load_text(text, path, slash ? dir : NULL, cfg, errs);
cleanup:
	free(dir);
	free(text);
	return ret;
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

#define FNV1A_INIT 1469598103934665603ull

void pw_config_hash(const void *buf, size_t len, char out[PW_CONFIG_HASH_LEN])
{
	snprintf(out, PW_CONFIG_HASH_LEN, "%016llx",
		 (unsigned long long)fnv1a(FNV1A_INIT, buf, len));
}

void pw_config_file_hash(const char *path, char out[PW_CONFIG_HASH_LEN])
{
	uint64_t h = FNV1A_INIT;
	uint8_t chunk[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			h = fnv1a(h, chunk, n);
		fclose(f);
	}
	snprintf(out, PW_CONFIG_HASH_LEN, "%016llx", (unsigned long long)h);
}
