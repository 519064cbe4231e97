// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_control.c - pw_control_handle(): one request line from the control
 * socket, against an agent.
 *
 * The agent is the simulated one peerwall-replay runs (pw_agent_init_sim):
 * the real engine, ban registry and control code over a really loaded
 * datapath (replay clock, small maps), without sockets or state files.
 * Each input gets a fresh agent, and the datapath's bans, trusted set and
 * record are put back to the config's afterwards, so an input's outcome
 * does not depend on the inputs before it and a crash reproduces alone.
 * The peer is root, so every command is reachable.
 *
 * Skipped: "reload" re-reads the agent's config file from disk; it lives
 * in peerwalld.c, not in the agent library, and this harness links a
 * pw_agent_reload() that aborts, so a reload the filter below missed
 * would show up as a crash. ("detach" only sets flags for the main loop
 * and runs as is.)
 *
 * Properties: never a crash or leak; the response is a JSON object with a
 * boolean "ok", and a string "error" whenever ok is false.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <json-c/json.h>

#include "agent.h"
#include "control.h"
#include "datapath.h"
#include "fuzz_util.h"

#define SIM_START_NS (1000ull * 1000000000ull)
#define SIM_SEED     1

static const char config_text[] =
	"interfaces = [ \"fuzz0\" ];\n"
	"protect = ( { proto = \"tcp\"; port = 26656; },\n"
	"            { proto = \"tcp+udp\"; port = 30303; } );\n"
	"trusted = [ \"198.18.1.0/24\", \"fd00:1::/48\" ];\n"
	"bans = [ \"198.18.2.0/24\", \"fd00:2::/48\" ];\n"
	"maps = { sources = 1024; prefixes = 1024; sanctions = 1024;\n"
	"         bancidrs = 1024; };\n"
	"max_peers = 1024;\n"
	"state_dir = \"/nonexistent/peerwall-fuzz\";\n";

static struct pw_config cfg;
static struct pw_datapath *dp;

int pw_agent_reload(struct pw_agent *a)
{
	(void)a;
	fz_fail("control: a reload request got past the harness's filter");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct pw_config_errors errs;
	int err;

	(void)argc;
	(void)argv;
	fz_quiet();
	pw_log_libbpf(false);
	if (pw_config_load_string(config_text, "fuzz_control.conf", &cfg,
				  &errs)) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		exit(1);
	}
	err = pw_datapath_load(
		&cfg, &(struct pw_datapath_opts){.replay_clock = true}, &dp);
	if (err) {
		fprintf(stderr,
			"fuzz_control: loading the datapath: %s "
			"(run as root)\n",
			strerror(-err));
		exit(1);
	}
	pw_datapath_set_replay_now(dp, SIM_START_NS);
	return 0;
}

/* The request's command, read the way pw_control_handle reads it. */
static bool is_reload(const uint8_t *data, size_t size)
{
	json_tokener *tok = json_tokener_new();
	json_object *req, *v;
	bool reload = false;

	if (!tok)
		abort();
	req = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (req && json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "cmd", &v) &&
	    json_object_is_type(v, json_type_string))
		reload = !strcmp(json_object_get_string(v), "reload");
	json_object_put(req);
	json_tokener_free(tok);
	return reload;
}

static void check_response(const char *resp)
{
	json_object *o = json_tokener_parse(resp), *ok, *e;

	if (!o || !json_object_is_type(o, json_type_object))
		fz_fail("control: response is not a JSON object: %s", resp);
	if (!json_object_object_get_ex(o, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		fz_fail("control: response without boolean ok: %s", resp);
	if (!json_object_get_boolean(ok) &&
	    (!json_object_object_get_ex(o, "error", &e) ||
	     !json_object_is_type(e, json_type_string)))
		fz_fail("control: failure without an error: %s", resp);
	json_object_put(o);
}

static bool is_config_ban(const struct pw_cidr *c)
{
	for (size_t i = 0; i < cfg.n_bans; i++)
		if (cfg.bans[i].family == c->family &&
		    cfg.bans[i].prefixlen == c->prefixlen &&
		    !memcmp(cfg.bans[i].addr, c->addr, sizeof(c->addr)))
			return true;
	return false;
}

/* Lift every sanction in one map but the config's bans, through the
 * datapath's own API so its entry counts stay right. Sanction tables are
 * keyed by the bare source key, the tries by (prefixlen, address). */
static void lift_all(const char *map, int family, bool trie)
{
	const struct pw_dp_config *rec = pw_datapath_dp_config(dp);
	int fd = pw_datapath_map_fd(dp, map);
	size_t alen = family == AF_INET ? 4 : 16;
	uint8_t next[sizeof(uint32_t) + 16], prev[sizeof(next)];
	bool have_prev = false;
	struct pw_cidr c;

	while (bpf_map_get_next_key(fd, have_prev ? prev : NULL, next) == 0) {
		memset(&c, 0, sizeof(c));
		c.family = family;
		if (trie) {
			uint32_t plen;

			memcpy(&plen, next, sizeof(plen));
			c.prefixlen = (uint8_t)plen;
			memcpy(c.addr, next + sizeof(plen), alen);
		} else {
			c.prefixlen = (uint8_t)(family == AF_INET
							? rec->src_prefix_v4
							: rec->src_prefix_v6);
			memcpy(c.addr, next, alen);
		}
		if (is_config_ban(&c)) {
			memcpy(prev, next, sizeof(prev));
			have_prev = true;
			continue;
		}
		if (pw_datapath_unsanction(dp, &c))
			fz_fail("control: reset: cannot lift a sanction");
		have_prev = false; /* a trie reorders on delete */
	}
}

/* Put the datapath back to the config: no runtime bans or levels, the
 * config's trusted set, emergency off, the config's posture. Rewriting
 * the whole record (65536 port entries) only when posture changed keeps
 * the harness at hundreds of inputs per second. */
static void reset_datapath(const struct pw_agent *a)
{
	lift_all("sanction_v4", AF_INET, false);
	lift_all("sanction_v6", AF_INET6, false);
	lift_all("bancidr_v4", AF_INET, true);
	lift_all("bancidr_v6", AF_INET6, true);
	if (pw_datapath_set_emergency(dp, false) ||
	    pw_datapath_set_trusted(dp, cfg.trusted, cfg.n_trusted))
		fz_fail("control: reset: emergency / trusted");
	if (a->cfg.agent.posture != cfg.agent.posture &&
	    pw_datapath_reconfigure(dp, &cfg))
		fz_fail("control: reset: reconfigure");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pw_agent a;
	const struct ucred root = {.pid = 1, .uid = 0, .gid = 0};
	char *resp;

	if (size > 1 << 20 || is_reload(data, size))
		return 0;
	memset(&a, 0, sizeof(a));
	a.deterministic = true;
	if (pw_agent_init_sim(&a, &cfg, dp, SIM_START_NS, SIM_SEED))
		fz_fail("control: simulated agent failed to start");
	resp = pw_control_handle(&a, (const char *)data, size, &root);
	if (!resp)
		fz_fail("control: no response (out of memory?)");
	check_response(resp);
	free(resp);
	reset_datapath(&a);
	pw_agent_fini_sim(&a);
	return 0;
}
