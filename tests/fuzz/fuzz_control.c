// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_control.c - pw_control_handle(): one request line from the control
 * socket, against an agent.
 *
 * The agent is the simulated one peerwall-replay runs (pw_agent_init_sim):
 * the real engine, ban registry and control code over a really loaded
 * datapath (replay clock, small maps), without sockets or state files.
 * The peer is root, so every command is reachable.
 *
 * One agent serves every input (opening its attention ring maps it into
 * memory, which cost most of the time when each input had its own
 * agent), and after each input everything a request can change is put
 * back to what a fresh agent has: the engine and the ban registry are
 * replaced by new ones, the runtime allowlist, capture state, counters,
 * emergency state, flags and config copy go back to the agent's first
 * values, and the datapath's bans, trusted set, emergency flag, sampling
 * window and posture go back to the config's. The datapath's record is
 * then compared with the one the harness started from, so a reset that
 * missed something fails loudly. An input's outcome does not depend on
 * the inputs before it and a crash reproduces alone.
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
#include "bans.h"
#include "capture.h"
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
/* The agent every input runs against, what it looked like when it was
 * new, and the datapath's record then. */
static struct pw_agent agent;
static struct pw_agent agent0;
static struct pw_dp_config rec0;

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
	agent.deterministic = true;
	if (pw_agent_init_sim(&agent, &cfg, dp, SIM_START_NS, SIM_SEED))
		fz_fail("control: simulated agent failed to start");
	agent0 = agent;
	rec0 = *pw_datapath_dp_config(dp);
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

/* Lift every sanction in one map, through the datapath's own API so its
 * entry counts stay right. Sanction tables are
 * keyed by the bare source key, the tries by (prefixlen, address). */
static void lift_all(const char *map, int family, bool trie)
{
	const struct pw_dp_config *rec = pw_datapath_dp_config(dp);
	int fd = pw_datapath_map_fd(dp, map);
	size_t alen = family == AF_INET ? 4 : 16;
	uint8_t next[sizeof(uint32_t) + 16];
	struct pw_cidr c;

	for (unsigned n = 0; bpf_map_get_next_key(fd, NULL, next) == 0; n++) {
		if (n > 4096) /* the maps hold 1024 */
			fz_fail("control: reset: %s does not empty", map);
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
		if (pw_datapath_unsanction(dp, &c))
			fz_fail("control: reset: cannot lift a sanction");
	}
}

/* Put the datapath back to the config: its bans only (a request may have
 * lifted one or given it an expiry), no sampling window, emergency off,
 * the config's posture (the trusted set is pushed by
 * pw_agent_sync_trusted() in reset_agent). Rewriting the
 * whole record (65536 port entries) only when posture changed keeps the
 * harness fast. */
static void reset_datapath(const struct pw_agent *a)
{
	lift_all("sanction_v4", AF_INET, false);
	lift_all("sanction_v6", AF_INET6, false);
	lift_all("bancidr_v4", AF_INET, true);
	lift_all("bancidr_v6", AF_INET6, true);
	for (size_t i = 0; i < cfg.n_bans; i++)
		if (pw_datapath_sanction(dp, &cfg.bans[i], PW_SANCTION_BAN,
					 PW_LVL_NORMAL, 0))
			fz_fail("control: reset: cannot restore a config ban");
	if (pw_datapath_set_emergency(dp, false) ||
	    pw_datapath_set_sampling(dp, 0, 0))
		fz_fail("control: reset: emergency / sampling");
	if (a->cfg.agent.posture != cfg.agent.posture &&
	    pw_datapath_reconfigure(dp, &cfg))
		fz_fail("control: reset: reconfigure");
}

/* An empty ban registry. Emptying the one the agent has keeps its memory
 * (a new one costs a 1024-slot table per input, and listing it walks
 * every slot); one that grew past its first table (it doubles at half
 * full) is replaced, so later inputs do not walk a bigger table. */
static struct pw_bans *empty_bans(struct pw_bans *b)
{
	struct pw_ban_record *recs = NULL;
	long n;

	if (!pw_bans_count(b))
		return b;
	n = pw_bans_count(b) < 512 ? pw_bans_list(b, &recs) : -1;
	for (long i = 0; i < n; i++)
		if (pw_bans_del(b, &recs[i].cidr))
			fz_fail("control: reset: cannot empty the registry");
	free(recs);
	if (n >= 0)
		return b;
	pw_bans_free(b);
	return pw_bans_new(PW_DEF_MAP_SANCTIONS * 2); /* as init_sim */
}

/* Make the agent what pw_agent_init_sim() made: a new engine (as
 * init_sim creates it), an empty ban registry, no runtime allowlist or
 * capture state, every other field as it was then. The attention ring,
 * the flagged table and the decision buffer are kept: only the tick uses
 * them, and control never ticks (the flagged table must still be empty). */
static void reset_agent(struct pw_agent *a)
{
	struct pw_bans *bans;

	if (pw_keytab_count(a->flagged))
		fz_fail("control: a request flagged sources for the tick");
	reset_datapath(a);
	pw_evidence_stop(a);
	free(a->allowed);
	pw_engine_free(a->engine);
	bans = empty_bans(a->bans);
	*a = agent0;
	a->bans = bans;
	a->engine = pw_engine_new(&cfg.scoring, cfg.agent.max_peers, SIM_SEED);
	if (!a->engine || !a->bans)
		fz_fail("control: reset: out of memory");
	pw_engine_set_posture(a->engine, cfg.agent.posture);
	if (pw_agent_sync_trusted(a))
		fz_fail("control: reset: trusted set");
	if (memcmp(pw_datapath_dp_config(dp), &rec0, sizeof(rec0)))
		fz_fail("control: reset: the datapath's record differs from "
			"the one the harness started with");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ucred root = {.pid = 1, .uid = 0, .gid = 0};
	char *resp;

	if (size > 1 << 20 || is_reload(data, size))
		return 0;
	resp = pw_control_handle(&agent, (const char *)data, size, &root);
	if (!resp)
		fz_fail("control: no response (out of memory?)");
	check_response(resp);
	free(resp);
	reset_agent(&agent);
	return 0;
}
