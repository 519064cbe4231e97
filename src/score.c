// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * score.c - the peer-scoring engine: per-source signals in, datapath
 * decisions out. The contract is src/score.h; every parameter, its unit,
 * default and reason is in docs/scoring.md.
 *
 * Shape. Each source ("node", keyed by family/prefixlen/address) keeps one
 * exponentially decaying counter per signal. Over its free budget a
 * counter costs weight * excess^2, so background noise is free and bursts
 * escalate quadratically. score = sum of penalties - capped credit. The
 * state is the highest one whose threshold the score meets (escalation is
 * immediate, a flood goes straight to ban); it steps down one state at a
 * time, only below threshold * hysteresis and after the minimum time in
 * the state, so a score hovering at a threshold cannot flap.
 *
 * Spoofable vs verified. SYN, drop and packet counts can be forged with
 * spoofed source addresses, so on their own they may ban only with the
 * first, short TTL, never escalate strikes, and never ban (nor quarantine)
 * a source that completed a handshake or earned credit within the window:
 * that one is capped at throttle. Invalid-message reports and log matches
 * come after a handshake and escalate fully: strikes grow the TTL
 * geometrically up to a cap, with jitter so repeat offenders cannot time
 * their return, and decay one per clean period counted from the end of
 * the ban that earned them.
 *
 * Cost. The agent may track a million sources, so nothing per tick is
 * O(sources): a source is touched when it was observed since the last
 * tick (the dirty ones) or when something about it falls due (a min-heap
 * of due times: ban expiry, the end of a level's minimum time, probation,
 * an operator hold, the end of its "recently established" window, the
 * pruning of a prefix's recent bans). Counters decay lazily from the
 * source's last update. Operator lookups (top, history, set_trusted) walk
 * the table; they are rare.
 *
 * The datapath's running totals (packets, SYNs, drops) are kept per node
 * and turned into deltas here (pw_engine_observe_totals), so the agent
 * keeps no per-source table of its own.
 *
 * Memory. Nodes live in fixed-size chunks (pointers stay valid while the
 * table grows) and are found through a hash keyed by SipHash with a key
 * drawn from the seed, so an attacker choosing source addresses cannot
 * build long chains. Beyond max_peers the least recently seen source in
 * state normal is forgotten (preferring ones without strikes or penalty);
 * sanctioned sources are never in that list. Sanctions themselves (bans,
 * holds, prefix records) may exceed max_peers: a ban must never be lost to
 * make room, the same rule the datapath's sanction table follows.
 * A node holds what every source needs (168 bytes: packed key, links,
 * counters, the datapath totals turned into deltas); what only sanctioned,
 * credited or struck sources need (timers, strikes, credit, the prefix
 * record) lives in a side record allocated the first time it is set and
 * kept until the node is forgotten. Signals observed since the last tick
 * wait in a stack of pending entries, one per dirty source, rather than in
 * every node. The due heap holds (due time, node) pairs.
 *
 * Decisions. pw_engine_tick fills the caller's array; when it is full the
 * engine stops touching sources (they stay due or dirty for the next tick)
 * and the few decisions of the source in hand wait in a small backlog that
 * the next call drains first. Nothing here does I/O, logging or reads a
 * clock: time and randomness come from the caller, so tests and
 * peerwall-replay reproduce every decision.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "score.h"

#define NIL	 UINT32_MAX
#define FOREVER	 UINT64_MAX
#define NS_PER_S 1000000000.0
/* Longest duration we convert, so that now + it never reaches FOREVER
 * (about 570 years). */
#define MAX_DURATION_S 1.8e10
/* The self-isolation guard's rate window. */
#define GUARD_WINDOW_NS (60ull * 1000000000ull)
/* Nodes per allocation chunk: a chunk is about 0.7 MB. */
#define CHUNK_SHIFT 12
#define CHUNK_NODES (1u << CHUNK_SHIFT)
/* Side records per allocation chunk (about 90 kB). */
#define SIDE_SHIFT 10
#define SIDE_CHUNK (1u << SIDE_SHIFT)
/* Side records one node_update() may need: the node and its prefix. */
#define SIDE_PER_UPDATE 2
/* Pending entries kept allocated once the stack is empty again. */
#define PEND_KEEP 65536u
/* How far eviction looks from the idle end of the LRU for a source with
 * no strikes and no penalty before taking the idlest one anyway. */
#define EVICT_SCAN_NODES 16
/* Decayed counters below this are zero, so idle sources read as clean. */
#define COUNTER_EPSILON 1e-9
#define MIN_BUCKETS	64u
#define MAX_BUCKETS	(1u << 24)

/* A canonical source key, packed: no padding, 18 bytes. */
struct nkey {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t addr[16];
};

/* One source recently banned inside a prefix. */
struct recent_ban {
	struct nkey key;
	uint64_t at_ns;
};

/* Prefix aggregation record, hung off the prefix's node. */
struct agg {
	unsigned n;
	bool trusted_counted; /* trusted_ignored counted for this episode */
	struct recent_ban ban[];
};

/* What only some sources need: those that were ever in a state other
 * than normal, held, banned, credited, struck, or are a prefix with a
 * record. Read through sd() (a node without one reads zeros), written
 * through sw() (which creates it). */
struct side {
	uint64_t state_since_ns;
	uint64_t level_until_ns; /* the datapath level we emitted ends */
	uint64_t hold_until_ns;	 /* 0 none, FOREVER until lifted */
	uint64_t probation_until_ns;
	uint64_t ban_until_ns; /* 0 none, FOREVER until lifted */
	uint64_t last_credit_ns;
	int64_t strike_clock_ns; /* engine time the clean period started */
	double credit;
	struct agg *agg;
	unsigned strikes;
	uint32_t next_free;		/* free list */
	uint8_t hold_state, hold_cause; /* operator/prefix level floor */
	bool has_credit;		/* last_credit_ns is meaningful */
	bool ban_est;			/* counted in n_banned_est */
	bool guard_held; /* quarantined because the guard refused a ban */
};

/* Signals of one dirty source observed since the last tick. */
struct pend {
	double v[PW_SIG_NR];
	uint32_t node;
	unsigned good;
};

struct heap_ent {
	uint64_t due_ns;
	uint32_t idx;
};

/* One source, 168 bytes: the hash chain and key first (what a lookup
 * reads), then links, then times, totals and counters. */
struct node {
	uint32_t hnext; /* hash chain, or free list */
	struct nkey key;
	uint8_t state, cause;  /* enum pw_peer_state, enum pw_cause */
	uint32_t idx;	       /* own index */
	uint32_t dslot;	       /* pending entry: dirty; NIL: not dirty */
	uint32_t lprev, lnext; /* LRU of evictable nodes */
	uint32_t heap_idx;     /* position in the due heap, NIL if absent */
	uint32_t trusted_gen;
	uint32_t side;	       /* side record, NIL if none */
	uint8_t ignored_state; /* highest would-be state counted (trusted) */
	bool in_use : 1, in_lru : 1, trusted : 1;
	bool observed : 1;    /* signals were seen (not only a sanction) */
	bool est_counted : 1; /* counted in n_est_recent */
	uint64_t updated_ns;  /* counters decayed up to here */
	uint64_t last_seen_ns, last_est_ns;
	/* Datapath totals last given (pw_engine_observe_totals), and the
	 * deltas they made. */
	uint64_t tot_packets, tot_syns, tot_drops;
	uint64_t d_packets, d_drops;
	double counter[PW_SIG_NR];
	double score;
};

_Static_assert(sizeof(struct node) == 176, "struct node grew");

struct pw_engine {
	struct pw_score_params p;
	size_t max_peers;
	enum pw_posture posture;

	struct node **chunks;
	uint32_t n_chunks, free_head, n_nodes;
	uint32_t *buckets, bucket_mask;
	uint64_t hkey[2];

	struct side **side_chunks;
	uint32_t n_side_chunks, side_chunks_cap, side_free, side_n_free;
	struct side side_sink; /* written if a side record could not be had */

	/* Dirty sources: a stack, so the last observed is scored first. */
	struct pend *pend;
	uint32_t pend_len, pend_cap;
	uint32_t lru_head, lru_tail;
	struct heap_ent *heap;
	uint32_t heap_len, heap_cap;

	struct pw_cidr *trusted;
	size_t n_trusted;
	uint32_t trusted_gen;

	uint64_t *guard_ring; /* times of the last auto bans */
	unsigned guard_len, guard_pos;
	uint64_t n_est_recent, n_banned_est;

	/* Output of the call in progress, then the overflow backlog. */
	struct pw_decision *out;
	size_t out_max, out_n;
	struct pw_decision *bl;
	size_t bl_head, bl_len, bl_cap;

	uint64_t now_ns, epoch_ns;
	bool clock_known;
	uint64_t rng;
	struct pw_engine_stats stats;
};

/* --- small helpers ------------------------------------------------------- */

static struct node *node_at(const struct pw_engine *e, uint32_t i)
{
	return &e->chunks[i >> CHUNK_SHIFT][i & (CHUNK_NODES - 1)];
}

static uint64_t s_to_ns(double s)
{
	if (!(s > 0))
		return 0;
	if (s > MAX_DURATION_S)
		s = MAX_DURATION_S;
	return (uint64_t)(s * NS_PER_S + 0.5);
}

static uint64_t time_add(uint64_t now_ns, double s)
{
	uint64_t d = s_to_ns(s);

	return d >= FOREVER - now_ns ? FOREVER - 1 : now_ns + d;
}

/* Engine-internal signed time: strike clocks may lie before the first
 * timestamp the engine saw (restored history). */
static int64_t itime(const struct pw_engine *e, uint64_t now_ns)
{
	return (int64_t)(now_ns - e->epoch_ns);
}

/* Time never runs backwards inside the engine: every "elapsed" below is
 * an unsigned difference, so a stale timestamp is read as the latest one
 * seen. Returns the time to use. */
static uint64_t clock_seen(struct pw_engine *e, uint64_t now_ns)
{
	if (!e->clock_known) {
		e->epoch_ns = now_ns;
		e->clock_known = true;
	}
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	return e->now_ns;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(struct pw_engine *e)
{
	return (double)(splitmix64(&e->rng) >> 11) * 0x1.0p-53;
}

static bool key_eq(const struct nkey *a, const struct nkey *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Canonical pw_cidr <-> packed key. */
static struct nkey nkey_of(const struct pw_cidr *c)
{
	struct nkey k;

	k.family = (uint8_t)c->family;
	k.prefixlen = c->prefixlen;
	memcpy(k.addr, c->addr, sizeof(k.addr));
	return k;
}

static struct pw_cidr cidr_of(const struct nkey *k)
{
	struct pw_cidr c;

	memset(&c, 0, sizeof(c));
	c.family = k->family;
	c.prefixlen = k->prefixlen;
	memcpy(c.addr, k->addr, sizeof(c.addr));
	return c;
}

/* Validate and canonicalise a key: host bits cleared, padding zeroed, so
 * that hashing and comparison see one form. */
static int key_norm(const struct pw_cidr *in, struct pw_cidr *out)
{
	unsigned bits;

	if (!in)
		return -EINVAL;
	bits = pw_family_bits(in->family);
	if (!bits || in->prefixlen > bits)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	out->prefixlen = in->prefixlen;
	pw_addr_mask(in->family, in->addr, in->prefixlen, out->addr);
	return 0;
}

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

/* SipHash-2-4 of the 24-byte key (family, prefixlen, address). */
static uint64_t key_hash(const struct pw_engine *e, const struct nkey *k)
{
	uint64_t v[4] = {
		e->hkey[0] ^ 0x736f6d6570736575ull,
		e->hkey[1] ^ 0x646f72616e646f6dull,
		e->hkey[0] ^ 0x6c7967656e657261ull,
		e->hkey[1] ^ 0x7465646279746573ull,
	};
	uint64_t m[4];
	unsigned i;

	m[0] = ((uint64_t)(uint32_t)k->family << 8) | k->prefixlen;
	memcpy(&m[1], k->addr, 8);
	memcpy(&m[2], k->addr + 8, 8);
	m[3] = 24ull << 56;
	for (i = 0; i < 4; i++) {
		v[3] ^= m[i];
		sipround(v);
		sipround(v);
		v[0] ^= m[i];
	}
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static bool overlaps(const struct pw_cidr *a, const struct pw_cidr *b)
{
	return pw_cidr_contains(a, b) || pw_cidr_contains(b, a);
}

/* Trusted means overlapping a trusted CIDR either way: a source key wider
 * than a trusted address (an IPv6 /64 holding a trusted /128) would
 * sanction the trusted address with it. */
static bool cidr_trusted(const struct pw_engine *e, const struct pw_cidr *c)
{
	size_t i;

	for (i = 0; i < e->n_trusted; i++)
		if (overlaps(&e->trusted[i], c))
			return true;
	return false;
}

static bool node_trusted(struct pw_engine *e, struct node *n)
{
	if (n->trusted_gen != e->trusted_gen) {
		struct pw_cidr c = cidr_of(&n->key);

		n->trusted = cidr_trusted(e, &c);
		n->trusted_gen = e->trusted_gen;
	}
	return n->trusted;
}

/* --- side records -------------------------------------------------------- */

static const struct side side_none;

static struct side *side_at(const struct pw_engine *e, uint32_t i)
{
	return &e->side_chunks[i >> SIDE_SHIFT][i & (SIDE_CHUNK - 1)];
}

/* For reading: the node's side record, or zeros. */
static const struct side *sd(const struct pw_engine *e, const struct node *n)
{
	return n->side == NIL ? &side_none : side_at(e, n->side);
}

static int side_grow(struct pw_engine *e)
{
	struct side *c;
	uint32_t base, i;

	if (e->n_side_chunks >= (NIL >> SIDE_SHIFT))
		return -ENOSPC;
	if (e->n_side_chunks == e->side_chunks_cap) {
		uint32_t cap = e->side_chunks_cap ? 2 * e->side_chunks_cap : 16;
		struct side **sc = realloc(e->side_chunks, cap * sizeof(*sc));

		if (!sc)
			return -ENOMEM;
		e->side_chunks = sc;
		e->side_chunks_cap = cap;
	}
	c = malloc(SIDE_CHUNK * sizeof(*c));
	if (!c)
		return -ENOMEM;
	base = e->n_side_chunks * SIDE_CHUNK;
	e->side_chunks[e->n_side_chunks++] = c;
	for (i = SIDE_CHUNK; i-- > 0;) {
		c[i].agg = NULL;
		c[i].next_free = e->side_free;
		e->side_free = base + i;
	}
	e->side_n_free += SIDE_CHUNK;
	return 0;
}

/* Make sure the next k side records can be created without allocating:
 * every path that may create one reserves first, and fails (or, in a
 * tick, stops) cleanly when memory is short. */
static int side_reserve(struct pw_engine *e, unsigned k)
{
	while (e->side_n_free < k) {
		int ret = side_grow(e);

		if (ret)
			return ret;
	}
	return 0;
}

/* For writing: the node's side record, created (zeroed) if it has none. */
static struct side *sw(struct pw_engine *e, struct node *n)
{
	struct side *x;

	if (n->side != NIL)
		return side_at(e, n->side);
	/* Not expected: callers reserve. The write is lost, not the node. */
	if (!e->side_n_free && side_grow(e))
		return &e->side_sink;
	n->side = e->side_free;
	x = side_at(e, n->side);
	e->side_free = x->next_free;
	e->side_n_free--;
	memset(x, 0, sizeof(*x));
	x->next_free = NIL;
	return x;
}

static void side_release(struct pw_engine *e, struct node *n)
{
	struct side *x;

	if (n->side == NIL)
		return;
	x = side_at(e, n->side);
	free(x->agg);
	x->agg = NULL;
	x->next_free = e->side_free;
	e->side_free = n->side;
	e->side_n_free++;
	n->side = NIL;
}

/* --- pending signals of dirty sources ------------------------------------ */

/* Room for one more dirty source. */
static int pend_reserve(struct pw_engine *e)
{
	struct pend *p;
	uint32_t cap;

	if (e->pend_len < e->pend_cap)
		return 0;
	if (e->pend_cap >= NIL / 2)
		return -ENOSPC;
	cap = e->pend_cap ? 2 * e->pend_cap : 256;
	p = realloc(e->pend, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	e->pend = p;
	e->pend_cap = cap;
	return 0;
}

/* The node's pending entry, made dirty if it was not (after
 * pend_reserve()). */
static struct pend *pend_of(struct pw_engine *e, struct node *n)
{
	struct pend *pd;

	if (n->dslot != NIL)
		return &e->pend[n->dslot];
	n->dslot = e->pend_len++;
	pd = &e->pend[n->dslot];
	memset(pd, 0, sizeof(*pd));
	pd->node = n->idx;
	return pd;
}

static void pend_shrink(struct pw_engine *e)
{
	struct pend *p;

	if (e->pend_len || e->pend_cap <= PEND_KEEP)
		return;
	p = realloc(e->pend, PEND_KEEP * sizeof(*p));
	if (p) {
		e->pend = p;
		e->pend_cap = PEND_KEEP;
	}
}

/* --- node table ---------------------------------------------------------- */

static int pool_grow(struct pw_engine *e)
{
	struct node **chunks, *c;
	uint32_t base, i;

	if (e->n_chunks >= (NIL >> CHUNK_SHIFT))
		return -ENOSPC;
	chunks = realloc(e->chunks, (e->n_chunks + 1) * sizeof(*chunks));
	if (!chunks)
		return -ENOMEM;
	e->chunks = chunks;
	c = calloc(CHUNK_NODES, sizeof(*c));
	if (!c)
		return -ENOMEM;
	base = e->n_chunks * CHUNK_NODES;
	chunks[e->n_chunks++] = c;
	/* Pushed in reverse so that low indices are handed out first. */
	for (i = CHUNK_NODES; i-- > 0;) {
		c[i].idx = base + i;
		c[i].hnext = e->free_head;
		e->free_head = base + i;
	}
	return 0;
}

static uint32_t lookup(const struct pw_engine *e, const struct nkey *k)
{
	uint32_t i = e->buckets[key_hash(e, k) & e->bucket_mask];

	while (i != NIL) {
		const struct node *n = node_at(e, i);

		if (key_eq(&n->key, k))
			return i;
		i = n->hnext;
	}
	return NIL;
}

/* A canonical key's node, or NIL. */
static uint32_t lookup_cidr(const struct pw_engine *e, const struct pw_cidr *c)
{
	struct nkey k = nkey_of(c);

	return lookup(e, &k);
}

/* --- due heap (min-heap on due_ns) --------------------------------------- */

static void heap_put(struct pw_engine *e, uint32_t pos, struct heap_ent he)
{
	e->heap[pos] = he;
	node_at(e, he.idx)->heap_idx = pos;
}

static void heap_up(struct pw_engine *e, uint32_t pos)
{
	struct heap_ent he = e->heap[pos];

	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;

		if (e->heap[parent].due_ns <= he.due_ns)
			break;
		heap_put(e, pos, e->heap[parent]);
		pos = parent;
	}
	heap_put(e, pos, he);
}

static void heap_down(struct pw_engine *e, uint32_t pos)
{
	struct heap_ent he = e->heap[pos];

	for (;;) {
		uint32_t c = 2 * pos + 1;

		if (c >= e->heap_len)
			break;
		if (c + 1 < e->heap_len &&
		    e->heap[c + 1].due_ns < e->heap[c].due_ns)
			c++;
		if (e->heap[c].due_ns >= he.due_ns)
			break;
		heap_put(e, pos, e->heap[c]);
		pos = c;
	}
	heap_put(e, pos, he);
}

static int heap_set(struct pw_engine *e, struct node *n, uint64_t due_ns)
{
	if (n->heap_idx == NIL) {
		if (e->heap_len == e->heap_cap) {
			uint32_t cap = e->heap_cap ? 2 * e->heap_cap : 64;
			struct heap_ent *h = realloc(e->heap, cap * sizeof(*h));

			if (!h)
				return -ENOMEM;
			e->heap = h;
			e->heap_cap = cap;
		}
		heap_put(e, e->heap_len++,
			 (struct heap_ent){.due_ns = due_ns, .idx = n->idx});
		heap_up(e, n->heap_idx);
		return 0;
	}
	e->heap[n->heap_idx].due_ns = due_ns;
	heap_up(e, n->heap_idx);
	heap_down(e, n->heap_idx);
	return 0;
}

static void heap_remove(struct pw_engine *e, struct node *n)
{
	uint32_t pos = n->heap_idx, last;
	struct heap_ent moved;

	if (pos == NIL)
		return;
	last = --e->heap_len;
	n->heap_idx = NIL;
	if (pos == last)
		return;
	moved = e->heap[last];
	heap_put(e, pos, moved);
	heap_up(e, pos);
	heap_down(e, node_at(e, moved.idx)->heap_idx);
}

/* --- LRU of evictable nodes ---------------------------------------------- */

static void lru_unlink(struct pw_engine *e, struct node *n)
{
	if (!n->in_lru)
		return;
	if (n->lprev != NIL)
		node_at(e, n->lprev)->lnext = n->lnext;
	else
		e->lru_head = n->lnext;
	if (n->lnext != NIL)
		node_at(e, n->lnext)->lprev = n->lprev;
	else
		e->lru_tail = n->lprev;
	n->lprev = n->lnext = NIL;
	n->in_lru = false;
}

static void lru_append(struct pw_engine *e, struct node *n)
{
	n->lprev = e->lru_tail;
	n->lnext = NIL;
	if (e->lru_tail != NIL)
		node_at(e, e->lru_tail)->lnext = n->idx;
	else
		e->lru_head = n->idx;
	e->lru_tail = n->idx;
	n->in_lru = true;
}

/* Only sources with nothing to remember but counters may be forgotten. */
static bool lru_eligible(const struct pw_engine *e, const struct node *n)
{
	const struct side *x = sd(e, n);

	return n->state == PW_ST_NORMAL && !x->hold_until_ns &&
	       !x->probation_until_ns && !x->ban_until_ns &&
	       !(x->agg && x->agg->n);
}

static void lru_sync(struct pw_engine *e, struct node *n)
{
	bool ok = lru_eligible(e, n);

	if (ok && !n->in_lru)
		lru_append(e, n);
	else if (!ok && n->in_lru)
		lru_unlink(e, n);
}

static void lru_touch(struct pw_engine *e, struct node *n)
{
	if (n->in_lru) {
		lru_unlink(e, n);
		lru_append(e, n);
	}
}

/* --- node life cycle ----------------------------------------------------- */

static void node_free(struct pw_engine *e, struct node *n)
{
	uint32_t *pp = &e->buckets[key_hash(e, &n->key) & e->bucket_mask];
	uint32_t idx = n->idx;

	while (*pp != idx)
		pp = &node_at(e, *pp)->hnext;
	*pp = n->hnext;
	heap_remove(e, n);
	lru_unlink(e, n);
	if (n->est_counted)
		e->n_est_recent--;
	if (sd(e, n)->ban_est)
		e->n_banned_est--;
	side_release(e, n);
	memset(n, 0, sizeof(*n));
	n->idx = idx;
	n->hnext = e->free_head;
	e->free_head = idx;
	e->n_nodes--;
}

/* Forget one idle normal source: the idlest without strikes or penalty
 * among the first few, else the idlest. Sources observed this tick
 * (dirty) are kept: their signals are not scored yet. */
static bool evict_one(struct pw_engine *e)
{
	uint32_t i = e->lru_head, pick = NIL, fallback = NIL;
	unsigned k;

	for (k = 0; i != NIL && k < EVICT_SCAN_NODES; k++) {
		struct node *n = node_at(e, i);

		if (n->dslot == NIL) {
			if (fallback == NIL)
				fallback = i;
			if (sd(e, n)->strikes == 0 && n->score <= 0) {
				pick = i;
				break;
			}
		}
		i = n->lnext;
	}
	if (pick == NIL)
		pick = fallback;
	if (pick == NIL)
		return false;
	node_free(e, node_at(e, pick));
	e->stats.peers_evicted++;
	return true;
}

/* Find or create the node for a canonical key. Sanction records (bans,
 * holds, prefixes) may exceed max_peers; observed sources evict. */
static int node_get(struct pw_engine *e, const struct pw_cidr *c, bool sanction,
		    struct node **out)
{
	struct nkey nk = nkey_of(c), *k = &nk;
	uint32_t idx = lookup(e, k), b;
	struct node *n;
	int ret;

	if (idx != NIL) {
		*out = node_at(e, idx);
		return 0;
	}
	if (!sanction && e->n_nodes >= e->max_peers && !evict_one(e))
		return -ENOSPC;
	if (e->free_head == NIL) {
		ret = pool_grow(e);
		if (ret)
			return ret;
	}
	idx = e->free_head;
	n = node_at(e, idx);
	e->free_head = n->hnext;
	memset(n, 0, sizeof(*n));
	n->idx = idx;
	n->key = *k;
	n->heap_idx = n->lprev = n->lnext = n->dslot = n->side = NIL;
	n->in_use = true;
	b = (uint32_t)(key_hash(e, k) & e->bucket_mask);
	n->hnext = e->buckets[b];
	e->buckets[b] = idx;
	e->n_nodes++;
	lru_append(e, n);
	*out = n;
	return 0;
}

/* --- decisions ----------------------------------------------------------- */

static void backlog_push(struct pw_engine *e, const struct pw_decision *d)
{
	if (e->bl_head + e->bl_len == e->bl_cap) {
		if (e->bl_head) {
			memmove(e->bl, e->bl + e->bl_head,
				e->bl_len * sizeof(*e->bl));
			e->bl_head = 0;
		} else {
			size_t cap = e->bl_cap ? 2 * e->bl_cap : 16;
			struct pw_decision *bl =
				realloc(e->bl, cap * sizeof(*bl));

			/* Out of memory: the decision is lost, but every
			 * one of them is also carried by a TTL, so the
			 * datapath still converges. */
			if (!bl)
				return;
			e->bl = bl;
			e->bl_cap = cap;
		}
	}
	e->bl[e->bl_head + e->bl_len++] = *d;
}

/* Decisions reach the agent in the order they were made: once one waits
 * in the backlog, so do all later ones. */
static void emit(struct pw_engine *e, const struct pw_decision *d)
{
	if (!e->bl_len && e->out && e->out_n < e->out_max)
		e->out[e->out_n++] = *d;
	else
		backlog_push(e, d);
}

static void backlog_drain(struct pw_engine *e)
{
	while (e->bl_len && e->out_n < e->out_max) {
		e->out[e->out_n++] = e->bl[e->bl_head++];
		e->bl_len--;
	}
	if (!e->bl_len)
		e->bl_head = 0;
}

static double ttl_of(uint64_t until_ns, uint64_t now_ns)
{
	if (until_ns == FOREVER)
		return 0;
	return until_ns > now_ns ? (double)(until_ns - now_ns) / NS_PER_S : 0;
}

static void emit_node(struct pw_engine *e, const struct node *n,
		      enum pw_action action, enum pw_peer_state st,
		      enum pw_cause cause, double ttl_s, bool guard)
{
	struct pw_decision d;

	memset(&d, 0, sizeof(d));
	d.cidr = cidr_of(&n->key);
	d.action = action;
	d.state = st;
	d.cause = cause ? cause : PW_CAUSE_SPOOFABLE;
	d.ttl_s = ttl_s;
	d.strikes = sd(e, n)->strikes;
	d.score = n->score;
	d.guard_limited = guard;
	emit(e, &d);
}

/* --- scoring ------------------------------------------------------------- */

static double posture_scale(const struct pw_engine *e)
{
	return e->p.posture_scale[e->posture];
}

static bool on_probation(const struct side *x, uint64_t now_ns)
{
	return x->probation_until_ns && now_ns < x->probation_until_ns;
}

static bool hold_active(const struct side *x, uint64_t now_ns)
{
	return x->hold_until_ns && now_ns < x->hold_until_ns;
}

/* The lowest state the node may be in: watch on probation, an operator's
 * or a prefix's level while it lasts. */
static enum pw_peer_state node_floor(const struct pw_engine *e,
				     const struct node *n, uint64_t now_ns)
{
	const struct side *x = sd(e, n);
	enum pw_peer_state f = PW_ST_NORMAL;

	if (on_probation(x, now_ns))
		f = PW_ST_WATCH;
	if (hold_active(x, now_ns) && x->hold_state > f)
		f = x->hold_state;
	return f;
}

static double threshold(const struct pw_engine *e, const struct node *n,
			enum pw_peer_state st, uint64_t now_ns)
{
	double t = e->p.threshold[st] * posture_scale(e);

	if (on_probation(sd(e, n), now_ns))
		t *= e->p.probation_factor;
	return t;
}

static enum pw_peer_state state_for(const struct pw_engine *e,
				    const struct node *n, double score,
				    uint64_t now_ns)
{
	int st;

	for (st = PW_ST_BANNED; st > PW_ST_NORMAL; st--)
		if (score >= threshold(e, n, st, now_ns))
			return st;
	return PW_ST_NORMAL;
}

struct scores {
	double penalty;	 /* all signals, before credit */
	double score;	 /* penalty - credit */
	double verified; /* verified signals' penalty - credit */
};

static void scores_of(const struct pw_engine *e, const double *counter,
		      double credit, struct scores *sc)
{
	double scale = posture_scale(e), vpen = 0;
	int s;

	sc->penalty = 0;
	for (s = 0; s < PW_SIG_NR; s++) {
		const struct pw_signal_params *sp = &e->p.sig[s];
		double x = counter[s] - sp->budget * scale;
		double pen = x > 0 ? sp->weight * x * x : 0;

		sc->penalty += pen;
		if (!PW_SIG_SPOOFABLE(s))
			vpen += pen;
	}
	sc->score = sc->penalty - credit;
	sc->verified = vpen - credit;
}

/* Counters as of now without touching the node (lookups are const). */
static void counters_at(const struct pw_engine *e, const struct node *n,
			uint64_t now_ns, double *out)
{
	double dt_s = now_ns > n->updated_ns
			      ? (double)(now_ns - n->updated_ns) / NS_PER_S
			      : 0;
	const struct pend *pd = n->dslot != NIL ? &e->pend[n->dslot] : NULL;
	int s;

	for (s = 0; s < PW_SIG_NR; s++) {
		if (n->state == PW_ST_BANNED) {
			out[s] = n->counter[s];
			continue;
		}
		out[s] = n->counter[s] * exp2(-dt_s / e->p.sig[s].half_life_s) +
			 (pd ? pd->v[s] : 0);
		if (out[s] < COUNTER_EPSILON)
			out[s] = 0;
	}
}

static void decay_to(const struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	double dt_s;
	int s;

	if (now_ns <= n->updated_ns)
		return;
	dt_s = (double)(now_ns - n->updated_ns) / NS_PER_S;
	for (s = 0; s < PW_SIG_NR; s++) {
		n->counter[s] *= exp2(-dt_s / e->p.sig[s].half_life_s);
		if (n->counter[s] < COUNTER_EPSILON)
			n->counter[s] = 0;
	}
	n->updated_ns = now_ns;
}

/* Signals observed since the last tick (pend) are kept: they arrived after
 * the ban or the pardon and belong to the fresh start. */
static void counters_reset(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	memset(n->counter, 0, sizeof(n->counter));
	if (n->side != NIL)
		sw(e, n)->credit = 0;
	n->score = 0;
	n->updated_ns = now_ns;
}

/* Strikes after the clean periods elapsed by internal time t; one strike
 * forgiven per strike_decay_s, the clock advancing by whole periods so a
 * partial period still counts towards the next. */
static void strikes_at(const struct pw_engine *e, unsigned strikes,
		       int64_t clock_ns, int64_t t_ns, unsigned *out_strikes,
		       int64_t *out_clock_ns)
{
	int64_t period = (int64_t)s_to_ns(e->p.strike_decay_s);
	int64_t el = t_ns - clock_ns;
	uint64_t k;

	*out_strikes = strikes;
	*out_clock_ns = clock_ns;
	if (!strikes || period <= 0 || el < period)
		return;
	k = (uint64_t)(el / period);
	if (k >= strikes) {
		*out_strikes = 0;
		*out_clock_ns = t_ns;
		return;
	}
	*out_strikes = strikes - (unsigned)k;
	*out_clock_ns = clock_ns + (int64_t)k * period;
}

static void strikes_decay(const struct pw_engine *e, struct side *x,
			  uint64_t now_ns)
{
	strikes_at(e, x->strikes, x->strike_clock_ns, itime(e, now_ns),
		   &x->strikes, &x->strike_clock_ns);
}

/* Recently established or credited: spoofable signals must not cut it
 * off, whoever forges its address. */
static bool node_protected(const struct pw_engine *e, const struct node *n,
			   uint64_t now_ns)
{
	const struct side *x = sd(e, n);

	if (n->est_counted)
		return true;
	return x->has_credit &&
	       now_ns - x->last_credit_ns < s_to_ns(e->p.established_window_s);
}

/* A change of state always has a side record to write: one of the two
 * states is not normal. */
static void set_state(struct pw_engine *e, struct node *n,
		      enum pw_peer_state st, uint64_t now_ns)
{
	struct side *x;

	if (st == n->state)
		return;
	x = sw(e, n);
	n->state = st;
	x->state_since_ns = now_ns;
	x->guard_held = false;
}

/* When the datapath level for st ends: with the hold or probation that
 * imposes it, else after the state's minimum time (so a level expires by
 * itself if the agent dies, and is refreshed while it lasts). */
static uint64_t level_until(const struct pw_engine *e, const struct node *n,
			    enum pw_peer_state st, uint64_t now_ns)
{
	const struct side *x = sd(e, n);

	if (st == PW_ST_NORMAL)
		return 0;
	if (hold_active(x, now_ns) && st == x->hold_state)
		return x->hold_until_ns;
	if (on_probation(x, now_ns) && st == PW_ST_WATCH)
		return x->probation_until_ns;
	return time_add(now_ns, e->p.min_state_s[st]);
}

static void emit_level(struct pw_engine *e, struct node *n,
		       enum pw_peer_state st, enum pw_cause cause,
		       uint64_t now_ns, bool guard)
{
	struct side *x = sw(e, n);

	x->level_until_ns = level_until(e, n, st, now_ns);
	emit_node(e, n, PW_ACT_LEVEL, st, cause,
		  ttl_of(x->level_until_ns, now_ns), guard);
}

/* --- self-isolation guard ------------------------------------------------ */

static bool guard_rate_limited(const struct pw_engine *e, uint64_t now_ns)
{
	unsigned cap = e->p.max_auto_bans_per_min;

	if (!cap || e->guard_len < cap)
		return false;
	/* Full ring: guard_pos is the oldest of the last cap bans. */
	return now_ns - e->guard_ring[e->guard_pos] < GUARD_WINDOW_NS;
}

static void guard_note(struct pw_engine *e, uint64_t now_ns)
{
	unsigned cap = e->p.max_auto_bans_per_min;

	if (!cap)
		return;
	e->guard_ring[e->guard_pos] = now_ns;
	e->guard_pos = (e->guard_pos + 1) % cap;
	if (e->guard_len < cap)
		e->guard_len++;
}

static bool guard_limited(const struct pw_engine *e, const struct node *n,
			  uint64_t now_ns)
{
	if (guard_rate_limited(e, now_ns))
		return true;
	/* Only a ban of a recently established source moves the fraction:
	 * that is what a node bug reporting all its peers would do. */
	return n->est_counted &&
	       e->n_est_recent >= e->p.min_established_for_fraction &&
	       (double)(e->n_banned_est + 1) >
		       e->p.max_ban_fraction * (double)e->n_est_recent;
}

/* --- bans and prefixes --------------------------------------------------- */

static void heap_sched(struct pw_engine *e, struct node *n, uint64_t now_ns);

static void lift_ban_accounting(struct pw_engine *e, struct node *n)
{
	struct side *x;

	if (n->side == NIL)
		return; /* never banned: nothing to lift */
	x = sw(e, n);
	if (x->ban_est) {
		x->ban_est = false;
		e->n_banned_est--;
	}
	x->ban_until_ns = 0;
}

static void agg_prune(const struct pw_engine *e, struct node *n,
		      uint64_t now_ns)
{
	uint64_t win_ns = s_to_ns(e->p.prefix_window_s);
	struct agg *a = sd(e, n)->agg;
	unsigned i, j;

	if (!a)
		return;
	for (i = j = 0; i < a->n; i++)
		if (a->ban[i].at_ns + win_ns > now_ns)
			a->ban[j++] = a->ban[i];
	a->n = j;
	if (a->n < e->p.prefix_ban_bans)
		a->trusted_counted = false;
}

/* A prefix level lasts the aggregation window from the latest ban in it;
 * re-emitted with each ban so the agent's TTL follows. */
static void prefix_hold(struct pw_engine *e, struct node *pn,
			enum pw_peer_state st, uint64_t now_ns, bool guard)
{
	struct side *x = sw(e, pn);

	if (hold_active(x, now_ns) && x->hold_state > st)
		st = x->hold_state;
	x->hold_state = st;
	x->hold_until_ns = time_add(now_ns, e->p.prefix_window_s);
	x->hold_cause = PW_CAUSE_PREFIX;
	pn->cause = PW_CAUSE_PREFIX;
	if (st > pn->state)
		set_state(e, pn, st, now_ns);
	emit_level(e, pn, pn->state, PW_CAUSE_PREFIX, now_ns, guard);
}

static void do_ban(struct pw_engine *e, struct node *n, enum pw_cause cause,
		   double ttl_s, uint64_t now_ns, bool automatic);

/* Count a source's automatic ban against its prefix: enough distinct
 * banned neighbours within the window throttle, then ban, the prefix. */
static void prefix_note(struct pw_engine *e, const struct node *n,
			uint64_t now_ns)
{
	const struct pw_score_params *p = &e->p;
	unsigned bits = n->key.family == AF_INET ? p->prefix_v4 : p->prefix_v6;
	unsigned cap = p->prefix_throttle_bans > p->prefix_ban_bans
			       ? p->prefix_throttle_bans
			       : p->prefix_ban_bans;
	unsigned i, oldest = 0;
	struct pw_cidr pk;
	struct node *pn;
	struct side *x;
	struct agg *a;

	if (!cap || n->key.prefixlen <= bits)
		return;
	memset(&pk, 0, sizeof(pk));
	pk.family = n->key.family;
	pk.prefixlen = (uint8_t)bits;
	pw_addr_mask(n->key.family, n->key.addr, bits, pk.addr);
	if (node_get(e, &pk, true, &pn))
		return;
	if (pn->state == PW_ST_BANNED)
		goto out;
	x = sw(e, pn);
	if (!x->agg) {
		x->agg = calloc(1, sizeof(*a) + cap * sizeof(a->ban[0]));
		if (!x->agg)
			goto out;
	}
	a = x->agg;
	agg_prune(e, pn, now_ns);
	for (i = 0; i < a->n; i++) {
		if (key_eq(&a->ban[i].key, &n->key))
			break;
		if (a->ban[i].at_ns < a->ban[oldest].at_ns)
			oldest = i;
	}
	if (i == a->n) {
		if (a->n < cap)
			a->n++;
		else
			i = oldest;
	}
	a->ban[i].key = n->key;
	a->ban[i].at_ns = now_ns;

	if (p->prefix_ban_bans && a->n >= p->prefix_ban_bans) {
		if (node_trusted(e, pn)) {
			if (!a->trusted_counted)
				e->stats.trusted_ignored++;
			a->trusted_counted = true;
		} else if (guard_rate_limited(e, now_ns)) {
			bool first = !x->guard_held;

			if (first)
				e->stats.guard_limited++;
			prefix_hold(e, pn, PW_ST_QUARANTINE, now_ns, first);
			x->guard_held = true;
			goto out;
		} else {
			/* The ban supersedes the throttle; the neighbours
			 * counted so far are spent. */
			a->n = 0;
			x->hold_until_ns = 0;
			x->hold_state = PW_ST_NORMAL;
			do_ban(e, pn, PW_CAUSE_PREFIX, p->ban_base_s, now_ns,
			       true);
			goto out;
		}
	}
	if (p->prefix_throttle_bans && a->n >= p->prefix_throttle_bans)
		prefix_hold(e, pn, PW_ST_THROTTLE, now_ns, false);
out:
	lru_sync(e, pn);
	heap_sched(e, pn, now_ns);
}

static void do_ban(struct pw_engine *e, struct node *n, enum pw_cause cause,
		   double ttl_s, uint64_t now_ns, bool automatic)
{
	struct side *x;

	if (n->state == PW_ST_BANNED)
		lift_ban_accounting(e, n);
	set_state(e, n, PW_ST_BANNED, now_ns);
	x = sw(e, n);
	n->cause = cause;
	x->level_until_ns = 0;
	x->ban_until_ns = ttl_s > 0 ? time_add(now_ns, ttl_s) : FOREVER;
	if (!automatic)
		return;
	e->stats.bans_by_cause[cause]++;
	guard_note(e, now_ns);
	if (n->est_counted) {
		x->ban_est = true;
		e->n_banned_est++;
	}
	emit_node(e, n, PW_ACT_BAN, PW_ST_BANNED, cause,
		  ttl_of(x->ban_until_ns, now_ns), false);
	if (cause != PW_CAUSE_PREFIX)
		prefix_note(e, n, now_ns);
}

/* base * factor^(strikes-1), capped, then jittered below the cap: the cap
 * is a promise to the operator, the jitter only spreads expiries. */
static double verified_ttl_s(struct pw_engine *e, unsigned strikes)
{
	const struct pw_score_params *p = &e->p;
	double ttl = p->ban_base_s * pow(p->ban_factor, (double)strikes - 1);

	if (!(ttl < p->ban_max_s))
		ttl = p->ban_max_s;
	ttl *= 1 + p->ban_jitter * (2 * rng_unit(e) - 1);
	return ttl < p->ban_max_s ? ttl : p->ban_max_s;
}

/* --- evaluation ---------------------------------------------------------- */

static enum pw_cause level_cause(const struct pw_engine *e,
				 const struct node *n, enum pw_peer_state st,
				 const struct scores *sc, uint64_t now_ns)
{
	const struct side *x = sd(e, n);

	if (st == PW_ST_NORMAL)
		return n->cause ? n->cause : PW_CAUSE_SPOOFABLE;
	if (hold_active(x, now_ns) && st == x->hold_state)
		return x->hold_cause;
	return sc->verified >= threshold(e, n, st, now_ns) ? PW_CAUSE_VERIFIED
							   : PW_CAUSE_SPOOFABLE;
}

/* Where the score says the node belongs, spoofable signals capped at
 * throttle for a protected source. */
static enum pw_peer_state target_of(const struct pw_engine *e,
				    const struct node *n,
				    const struct scores *sc, uint64_t now_ns,
				    enum pw_peer_state *vtarget)
{
	enum pw_peer_state t = state_for(e, n, sc->score, now_ns);

	*vtarget = state_for(e, n, sc->verified, now_ns);
	if (t > PW_ST_THROTTLE && *vtarget < t && node_protected(e, n, now_ns))
		t = *vtarget > PW_ST_THROTTLE ? *vtarget : PW_ST_THROTTLE;
	return t;
}

static void node_eval(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	const struct pw_score_params *p = &e->p;
	enum pw_peer_state target, vtarget, floor, next;
	enum pw_cause cause;
	struct scores sc;
	double credit = sd(e, n)->credit;
	struct side *x;

	if (n->state == PW_ST_BANNED)
		return;
	scores_of(e, n->counter, credit, &sc);
	if (sc.penalty >= p->serious_penalty && credit > 0) {
		/* Credit cannot be banked against misbehaviour. */
		sw(e, n)->credit = 0;
		scores_of(e, n->counter, 0, &sc);
	}
	n->score = sc.score;
	target = target_of(e, n, &sc, now_ns, &vtarget);

	if (node_trusted(e, n)) {
		if (target > n->ignored_state)
			e->stats.trusted_ignored++;
		n->ignored_state = target;
		return;
	}

	if (target == PW_ST_BANNED) {
		if (!guard_limited(e, n, now_ns)) {
			if (vtarget == PW_ST_BANNED) {
				x = sw(e, n);
				strikes_decay(e, x, now_ns);
				x->strikes++;
				do_ban(e, n, PW_CAUSE_VERIFIED,
				       verified_ttl_s(e, x->strikes), now_ns,
				       true);
				/* Clean periods count from the ban's end. */
				x->strike_clock_ns = itime(e, x->ban_until_ns);
			} else {
				do_ban(e, n, PW_CAUSE_SPOOFABLE, p->ban_base_s,
				       now_ns, true);
			}
			return;
		}
		cause = vtarget == PW_ST_BANNED ? PW_CAUSE_VERIFIED
						: PW_CAUSE_SPOOFABLE;
		x = sw(e, n);
		if (!x->guard_held) {
			e->stats.guard_limited++;
			set_state(e, n, PW_ST_QUARANTINE, now_ns);
			n->cause = cause;
			emit_level(e, n, PW_ST_QUARANTINE, cause, now_ns, true);
			x->guard_held = true;
		} else if (x->level_until_ns != FOREVER &&
			   now_ns >= x->level_until_ns) {
			/* Still held back: keep the datapath level alive. */
			emit_level(e, n, PW_ST_QUARANTINE, cause, now_ns, true);
		}
		return;
	}

	floor = node_floor(e, n, now_ns);
	if (target < floor)
		target = floor;
	if (target > n->state) {
		cause = level_cause(e, n, target, &sc, now_ns);
		set_state(e, n, target, now_ns);
		n->cause = cause;
		emit_level(e, n, target, cause, now_ns, false);
		return;
	}
	if (n->state > floor &&
	    now_ns - sd(e, n)->state_since_ns >=
		    s_to_ns(p->min_state_s[n->state]) &&
	    sc.score < threshold(e, n, n->state, now_ns) * p->hysteresis) {
		next = n->state - 1;
		cause = level_cause(e, n, next, &sc, now_ns);
		set_state(e, n, next, now_ns);
		if (next != PW_ST_NORMAL)
			n->cause = cause;
		emit_level(e, n, next, cause, now_ns, false);
		return;
	}
	if (n->state > PW_ST_NORMAL && sd(e, n)->level_until_ns != FOREVER &&
	    now_ns >= sd(e, n)->level_until_ns)
		emit_level(e, n, n->state,
			   level_cause(e, n, n->state, &sc, now_ns), now_ns,
			   false);
}

static void ban_expire(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	enum pw_cause cause = n->cause;
	enum pw_peer_state st;
	double score = n->score;
	struct side *x = sw(e, n);

	lift_ban_accounting(e, n);
	counters_reset(e, n, now_ns);
	/* Only the engine's own bans put a source on probation: an
	 * operator's or a prefix's expiry returns it to normal. */
	if ((cause == PW_CAUSE_SPOOFABLE || cause == PW_CAUSE_VERIFIED) &&
	    e->p.probation_s > 0)
		x->probation_until_ns = time_add(now_ns, e->p.probation_s);
	st = node_floor(e, n, now_ns);
	n->state = st;
	x->state_since_ns = now_ns;
	x->guard_held = false;
	n->score = score;
	emit_node(e, n, PW_ACT_UNBAN, st, cause, 0, false);
	n->score = 0;
	if (st > PW_ST_NORMAL)
		emit_level(e, n, st,
			   hold_active(x, now_ns) && st == x->hold_state
				   ? x->hold_cause
				   : cause,
			   now_ns, false);
	else
		x->level_until_ns = 0;
}

/* An operator's or a prefix's level ended: go where the score says (not
 * one step at a time: the hold was not the score's doing). */
static void hold_expire(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	struct side *x = sw(e, n);
	enum pw_cause cause = x->hold_cause;
	enum pw_peer_state target, vtarget, floor;
	struct scores sc;

	x->hold_until_ns = 0;
	x->hold_state = PW_ST_NORMAL;
	if (n->state == PW_ST_BANNED)
		return;
	scores_of(e, n->counter, x->credit, &sc);
	target = target_of(e, n, &sc, now_ns, &vtarget);
	/* A ban, if deserved, is node_eval's to decide right after. */
	if (node_trusted(e, n))
		target = PW_ST_NORMAL;
	else if (target > PW_ST_QUARANTINE)
		target = PW_ST_QUARANTINE;
	floor = node_floor(e, n, now_ns);
	if (target < floor)
		target = floor;
	if (target != n->state) {
		set_state(e, n, target, now_ns);
		emit_level(e, n, target,
			   target == PW_ST_NORMAL
				   ? cause
				   : level_cause(e, n, target, &sc, now_ns),
			   now_ns, false);
	} else if (target > PW_ST_NORMAL && x->level_until_ns <= now_ns) {
		emit_level(e, n, target, level_cause(e, n, target, &sc, now_ns),
			   now_ns, false);
	}
}

static uint64_t node_next_due(const struct pw_engine *e, const struct node *n)
{
	const struct side *x = sd(e, n);
	uint64_t due = FOREVER;

#define DUE_MIN(t)                                                             \
	do {                                                                   \
		if ((t) && (t) < due)                                          \
			due = (t);                                             \
	} while (0)
	if (n->state == PW_ST_BANNED) {
		DUE_MIN(x->ban_until_ns);
	} else {
		if (n->state > PW_ST_NORMAL)
			DUE_MIN(x->level_until_ns);
		DUE_MIN(x->hold_until_ns);
		DUE_MIN(x->probation_until_ns);
	}
	if (n->est_counted)
		DUE_MIN(time_add(n->last_est_ns, e->p.established_window_s));
	if (x->agg) {
		uint64_t win_ns = s_to_ns(e->p.prefix_window_s);
		unsigned i;

		for (i = 0; i < x->agg->n; i++)
			DUE_MIN(x->agg->ban[i].at_ns + win_ns);
	}
#undef DUE_MIN
	return due;
}

/* Keep the node in the heap while anything about it will fall due, or
 * while it is sanctioned at all (set_trusted finds sanctions there). */
static void heap_sched(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	uint64_t due = node_next_due(e, n);

	if (due == FOREVER && n->state == PW_ST_NORMAL &&
	    !sd(e, n)->hold_until_ns) {
		heap_remove(e, n);
		return;
	}
	/* Anything due already is handled by the next tick. */
	if (due <= now_ns)
		due = now_ns + 1;
	heap_set(e, n, due);
}

/* Needs SIDE_PER_UPDATE side records in reserve. */
static void node_update(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	const struct pw_score_params *p = &e->p;
	struct pend *pd = n->dslot != NIL ? &e->pend[n->dslot] : NULL;
	int s;

	if (n->state == PW_ST_BANNED && sd(e, n)->ban_until_ns != FOREVER &&
	    now_ns >= sd(e, n)->ban_until_ns)
		ban_expire(e, n, now_ns);
	if (n->state != PW_ST_BANNED) {
		decay_to(e, n, now_ns);
		if (pd) {
			for (s = 0; s < PW_SIG_NR; s++)
				n->counter[s] += pd->v[s];
			if (pd->good) {
				struct side *x = sw(e, n);

				x->credit += pd->good * p->credit_per_good;
				if (x->credit > p->credit_cap)
					x->credit = p->credit_cap;
			}
		}
	}
	if (pd) {
		memset(pd->v, 0, sizeof(pd->v));
		pd->good = 0;
	}
	if (n->side != NIL) {
		struct side *x = sw(e, n);

		if (x->probation_until_ns && now_ns >= x->probation_until_ns)
			x->probation_until_ns = 0;
	}
	if (n->est_counted &&
	    now_ns - n->last_est_ns >= s_to_ns(p->established_window_s)) {
		n->est_counted = false;
		e->n_est_recent--;
	}
	agg_prune(e, n, now_ns);
	if (sd(e, n)->hold_until_ns && now_ns >= sd(e, n)->hold_until_ns)
		hold_expire(e, n, now_ns);
	node_eval(e, n, now_ns);
	lru_sync(e, n);
	heap_sched(e, n, now_ns);
}

/* --- public API ---------------------------------------------------------- */

void pw_score_params_defaults(struct pw_score_params *p)
{
	memset(p, 0, sizeof(*p));
	p->sig[PW_SIG_SYN] = (struct pw_signal_params){60, 30, 0.05};
	p->sig[PW_SIG_DROP] = (struct pw_signal_params){60, 200, 0.01};
	p->sig[PW_SIG_PKT] = (struct pw_signal_params){10, 50000, 1e-6};
	p->sig[PW_SIG_INVALID] = (struct pw_signal_params){1800, 15, 1};
	p->sig[PW_SIG_LOG] = (struct pw_signal_params){3600, 3, 50};
	/* A P2P peer holds one or two connections and reconnects now and
	 * then: 16 new ones per 5 minutes is noise, 60 is churn. */
	p->sig[PW_SIG_CONN] = (struct pw_signal_params){300, 16, 1};
	p->threshold[PW_ST_NORMAL] = 0;
	p->threshold[PW_ST_WATCH] = 10;
	p->threshold[PW_ST_THROTTLE] = 100;
	p->threshold[PW_ST_QUARANTINE] = 400;
	p->threshold[PW_ST_BANNED] = 1000;
	p->hysteresis = 0.5;
	p->min_state_s[PW_ST_WATCH] = 30;
	p->min_state_s[PW_ST_THROTTLE] = 60;
	p->min_state_s[PW_ST_QUARANTINE] = 120;
	p->credit_cap = 20;
	p->credit_per_good = 1;
	p->serious_penalty = 50;
	p->established_window_s = 3600;
	p->ban_base_s = 600;
	p->ban_factor = 4;
	p->ban_max_s = 7 * 86400;
	p->ban_jitter = 0.1;
	p->strike_decay_s = 86400;
	p->probation_s = 600;
	p->probation_factor = 0.5;
	p->prefix_v4 = 24;
	p->prefix_v6 = 48;
	p->prefix_throttle_bans = 3;
	p->prefix_ban_bans = 8;
	p->prefix_window_s = 600;
	p->max_auto_bans_per_min = 30;
	p->max_ban_fraction = 0.5;
	p->min_established_for_fraction = 10;
	p->posture_scale[PW_POSTURE_NORMAL] = 1;
	p->posture_scale[PW_POSTURE_ELEVATED] = 0.5;
	p->posture_scale[PW_POSTURE_SEVERE] = 0.25;
}

static bool nonneg(double x)
{
	return isfinite(x) && x >= 0;
}

static int params_check(const struct pw_score_params *p)
{
	int i;

	for (i = 0; i < PW_SIG_NR; i++)
		if (!(isfinite(p->sig[i].half_life_s) &&
		      p->sig[i].half_life_s > 0) ||
		    !nonneg(p->sig[i].budget) || !nonneg(p->sig[i].weight))
			return -EINVAL;
	/* Strictly increasing and positive: a zero watch threshold would
	 * put every source on watch. */
	for (i = PW_ST_WATCH; i < PW_ST_NR; i++)
		if (!isfinite(p->threshold[i]) ||
		    !(p->threshold[i] > p->threshold[i - 1]) ||
		    !(p->threshold[i] > 0))
			return -EINVAL;
	for (i = 0; i < PW_ST_NR; i++)
		if (!nonneg(p->min_state_s[i]))
			return -EINVAL;
	if (!(p->hysteresis > 0 && p->hysteresis < 1))
		return -EINVAL;
	if (!nonneg(p->credit_cap) || !nonneg(p->credit_per_good) ||
	    !nonneg(p->serious_penalty) || !nonneg(p->established_window_s) ||
	    !nonneg(p->strike_decay_s) || !nonneg(p->probation_s) ||
	    !nonneg(p->prefix_window_s))
		return -EINVAL;
	if (!(isfinite(p->ban_base_s) && p->ban_base_s > 0) ||
	    !(isfinite(p->ban_factor) && p->ban_factor >= 1) ||
	    !(isfinite(p->ban_max_s) && p->ban_max_s >= p->ban_base_s) ||
	    !(p->ban_jitter >= 0 && p->ban_jitter < 1))
		return -EINVAL;
	if (!(p->probation_factor > 0 && p->probation_factor <= 1))
		return -EINVAL;
	if (p->prefix_v4 > 32 || p->prefix_v6 > 128)
		return -EINVAL;
	if (!(p->max_ban_fraction >= 0 && p->max_ban_fraction <= 1))
		return -EINVAL;
	for (i = 0; i < PW_POSTURE_NR; i++)
		if (!(isfinite(p->posture_scale[i]) && p->posture_scale[i] > 0))
			return -EINVAL;
	return 0;
}

struct pw_engine *pw_engine_new(const struct pw_score_params *p,
				size_t max_peers, uint64_t seed)
{
	struct pw_engine *e;
	uint64_t s = seed ^ 0x70656572776c6c31ull; /* separate hash stream */
	uint32_t nb = MIN_BUCKETS;

	if (!p || !max_peers || params_check(p)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->p = *p;
	e->max_peers = max_peers;
	e->rng = seed;
	e->hkey[0] = splitmix64(&s);
	e->hkey[1] = splitmix64(&s);
	e->free_head = e->lru_head = e->lru_tail = e->side_free = NIL;
	e->trusted_gen = 1;
	while (nb < max_peers && nb < MAX_BUCKETS)
		nb <<= 1;
	e->buckets = malloc(nb * sizeof(*e->buckets));
	if (p->max_auto_bans_per_min)
		e->guard_ring =
			calloc(p->max_auto_bans_per_min, sizeof(uint64_t));
	if (!e->buckets || (p->max_auto_bans_per_min && !e->guard_ring)) {
		pw_engine_free(e);
		errno = ENOMEM;
		return NULL;
	}
	memset(e->buckets, 0xff, nb * sizeof(*e->buckets));
	e->bucket_mask = nb - 1;
	return e;
}

void pw_engine_free(struct pw_engine *e)
{
	uint32_t c, i;

	if (!e)
		return;
	for (c = 0; c < e->n_chunks; c++)
		free(e->chunks[c]);
	/* Free records have no agg. */
	for (c = 0; c < e->n_side_chunks; c++) {
		for (i = 0; i < SIDE_CHUNK; i++)
			free(e->side_chunks[c][i].agg);
		free(e->side_chunks[c]);
	}
	free(e->side_sink.agg);
	free(e->side_chunks);
	free(e->chunks);
	free(e->buckets);
	free(e->heap);
	free(e->pend);
	free(e->trusted);
	free(e->guard_ring);
	free(e->bl);
	free(e);
}

void pw_engine_set_posture(struct pw_engine *e, enum pw_posture posture)
{
	if ((unsigned)posture < PW_POSTURE_NR)
		e->posture = posture;
}

enum pw_posture pw_engine_posture(const struct pw_engine *e)
{
	return e->posture;
}

int pw_engine_set_trusted(struct pw_engine *e, const struct pw_cidr *cidrs,
			  size_t n, uint64_t now_ns, struct pw_decision *out,
			  size_t max)
{
	struct pw_cidr *t = NULL;
	uint32_t *lift = NULL, n_lift = 0, i;
	size_t k;

	if (n && !cidrs)
		return -EINVAL;
	if (n) {
		t = calloc(n, sizeof(*t));
		if (!t)
			return -ENOMEM;
		for (k = 0; k < n; k++) {
			if (key_norm(&cidrs[k], &t[k])) {
				free(t);
				return -EINVAL;
			}
		}
	}
	if (e->heap_len) {
		lift = malloc(e->heap_len * sizeof(*lift));
		if (!lift) {
			free(t);
			return -ENOMEM;
		}
	}
	now_ns = clock_seen(e, now_ns);
	free(e->trusted);
	e->trusted = t;
	e->n_trusted = n;
	e->trusted_gen++;

	/* Every sanctioned node is in the heap. Collect first: lifting
	 * reorders the heap. */
	for (i = 0; i < e->heap_len; i++) {
		struct node *nd = node_at(e, e->heap[i].idx);

		if ((nd->state != PW_ST_NORMAL || sd(e, nd)->hold_until_ns) &&
		    node_trusted(e, nd))
			lift[n_lift++] = nd->idx;
	}
	/* Decisions still waiting from a full tick go first: the agent must
	 * apply an old BAN before the UNBAN that lifts it. */
	e->out = out;
	e->out_max = out ? max : 0;
	e->out_n = 0;
	backlog_drain(e);
	for (i = 0; i < n_lift; i++) {
		struct node *nd = node_at(e, lift[i]);
		enum pw_cause cause = nd->cause;
		struct side *x = sw(e, nd); /* sanctioned: it has one */

		if (nd->state == PW_ST_BANNED) {
			lift_ban_accounting(e, nd);
			emit_node(e, nd, PW_ACT_UNBAN, PW_ST_NORMAL, cause, 0,
				  false);
		} else if (nd->state != PW_ST_NORMAL) {
			emit_node(e, nd, PW_ACT_LEVEL, PW_ST_NORMAL, cause, 0,
				  false);
		}
		x->hold_until_ns = 0;
		x->hold_state = PW_ST_NORMAL;
		x->probation_until_ns = 0;
		x->level_until_ns = 0;
		nd->state = PW_ST_NORMAL;
		x->state_since_ns = now_ns;
		x->guard_held = false;
		nd->ignored_state = PW_ST_NORMAL;
		/* The frozen counters restart decaying from now. */
		nd->updated_ns = now_ns;
		lru_sync(e, nd);
		heap_sched(e, nd, now_ns);
	}
	free(lift);
	k = e->out_n;
	e->out = NULL;
	e->out_max = e->out_n = 0;
	return (int)k;
}

/* Signals for node n (pend_reserve() done, and side_reserve() if
 * sig->good). */
static void observe_node(struct pw_engine *e, struct node *n,
			 const struct pw_signals *sig, uint64_t now_ns)
{
	struct pend *pd;
	int s;

	n->observed = true;
	n->last_seen_ns = now_ns;
	lru_touch(e, n);
	if (n->state == PW_ST_BANNED && (sd(e, n)->ban_until_ns == FOREVER ||
					 now_ns < sd(e, n)->ban_until_ns))
		return; /* frozen: what a banned source does is not scored */
	pd = pend_of(e, n);
	for (s = 0; s < PW_SIG_NR; s++)
		pd->v[s] += sig->v[s];
	if (sig->good) {
		struct side *x = sw(e, n);

		pd->good += sig->good;
		x->has_credit = true;
		x->last_credit_ns = now_ns;
	}
	if (sig->established) {
		n->last_est_ns = now_ns;
		if (!n->est_counted) {
			n->est_counted = true;
			e->n_est_recent++;
		}
	}
}

int pw_engine_observe(struct pw_engine *e, const struct pw_cidr *key,
		      const struct pw_signals *sig, uint64_t now_ns)
{
	struct pw_cidr k;
	struct node *n;
	int ret, s;

	if (!sig || key_norm(key, &k))
		return -EINVAL;
	for (s = 0; s < PW_SIG_NR; s++)
		if (!nonneg(sig->v[s]))
			return -EINVAL;
	ret = pend_reserve(e);
	if (!ret && sig->good)
		ret = side_reserve(e, 1);
	if (ret)
		return ret;
	now_ns = clock_seen(e, now_ns);
	ret = node_get(e, &k, false, &n);
	if (ret)
		return ret;
	observe_node(e, n, sig, now_ns);
	return 0;
}

/* A total below the last one: the datapath recycled the entry, the total
 * is all new. */
static uint64_t total_delta(uint64_t total, uint64_t last)
{
	return total >= last ? total - last : total;
}

int pw_engine_observe_totals(struct pw_engine *e, const struct pw_cidr *key,
			     uint64_t packets, uint64_t syns, uint64_t drops,
			     bool established, uint64_t now_ns)
{
	struct pw_signals sig;
	struct pw_cidr k;
	struct node *n;
	int ret;

	if (key_norm(key, &k))
		return -EINVAL;
	ret = pend_reserve(e);
	if (ret)
		return ret;
	now_ns = clock_seen(e, now_ns);
	ret = node_get(e, &k, false, &n);
	if (ret)
		return ret;
	memset(&sig, 0, sizeof(sig));
	n->d_packets = total_delta(packets, n->tot_packets);
	n->d_drops = total_delta(drops, n->tot_drops);
	sig.v[PW_SIG_SYN] = (double)total_delta(syns, n->tot_syns);
	sig.v[PW_SIG_DROP] = (double)n->d_drops;
	sig.v[PW_SIG_PKT] = (double)n->d_packets;
	sig.established = established;
	n->tot_packets = packets;
	n->tot_syns = syns;
	n->tot_drops = drops;
	observe_node(e, n, &sig, now_ns);
	return 0;
}

size_t pw_engine_tick(struct pw_engine *e, uint64_t now_ns,
		      struct pw_decision *out, size_t max)
{
	size_t n_out;

	now_ns = clock_seen(e, now_ns);
	e->out = out;
	e->out_max = out ? max : 0;
	e->out_n = 0;
	backlog_drain(e);
	/* Short of memory for side records, the rest waits (due or dirty)
	 * for the next tick, as when out is full. */
	while (e->heap_len && e->out_n < e->out_max &&
	       e->heap[0].due_ns <= now_ns && !side_reserve(e, SIDE_PER_UPDATE))
		node_update(e, node_at(e, e->heap[0].idx), now_ns);
	while (e->pend_len && e->out_n < e->out_max &&
	       !side_reserve(e, SIDE_PER_UPDATE)) {
		struct node *n = node_at(e, e->pend[e->pend_len - 1].node);

		node_update(e, n, now_ns);
		/* node_update() never makes a source dirty: still on top. */
		e->pend_len--;
		n->dslot = NIL;
	}
	pend_shrink(e);
	n_out = e->out_n;
	e->out = NULL;
	e->out_max = e->out_n = 0;
	return n_out;
}

static int ttl_check(double ttl_s)
{
	return nonneg(ttl_s) && ttl_s <= MAX_DURATION_S ? 0 : -EINVAL;
}

/* What every operator sanction and restored ban does first: refuse a
 * trusted key, reserve the side record, advance the clock, find or create
 * the node. 0, -EPERM, or the allocation error. */
static int sanction_node(struct pw_engine *e, const struct pw_cidr *k,
			 uint64_t *now_ns, struct node **n)
{
	int ret;

	if (cidr_trusted(e, k))
		return -EPERM;
	ret = side_reserve(e, 1);
	if (ret)
		return ret;
	*now_ns = clock_seen(e, *now_ns);
	return node_get(e, k, true, n);
}

int pw_engine_manual_ban(struct pw_engine *e, const struct pw_cidr *c,
			 double ttl_s, uint64_t now_ns)
{
	struct pw_cidr k;
	struct node *n;
	int ret;

	if (key_norm(c, &k) || ttl_check(ttl_s))
		return -EINVAL;
	ret = sanction_node(e, &k, &now_ns, &n);
	if (ret)
		return ret;
	do_ban(e, n, PW_CAUSE_MANUAL, ttl_s, now_ns, false);
	e->stats.bans_by_cause[PW_CAUSE_MANUAL]++;
	lru_sync(e, n);
	heap_sched(e, n, now_ns);
	return 0;
}

/* An operator's pardon: back to normal, counters and levels cleared;
 * strikes stay (they are history, not state). */
static void pardon(struct pw_engine *e, struct node *n, uint64_t now_ns)
{
	struct side *x = sw(e, n); /* sanctioned: it has one */

	if (n->state == PW_ST_BANNED)
		lift_ban_accounting(e, n);
	counters_reset(e, n, now_ns);
	x->hold_until_ns = 0;
	x->hold_state = PW_ST_NORMAL;
	x->probation_until_ns = 0;
	x->level_until_ns = 0;
	set_state(e, n, PW_ST_NORMAL, now_ns);
	lru_sync(e, n);
	heap_sched(e, n, now_ns);
}

int pw_engine_manual_unban(struct pw_engine *e, const struct pw_cidr *c,
			   uint64_t now_ns)
{
	struct pw_cidr k;
	uint32_t idx;

	if (key_norm(c, &k))
		return -EINVAL;
	idx = lookup_cidr(e, &k);
	if (idx == NIL || node_at(e, idx)->state != PW_ST_BANNED)
		return -ENOENT;
	now_ns = clock_seen(e, now_ns);
	pardon(e, node_at(e, idx), now_ns);
	return 0;
}

int pw_engine_manual_quarantine(struct pw_engine *e, const struct pw_cidr *c,
				double ttl_s, uint64_t now_ns)
{
	struct pw_cidr k;
	struct node *n;
	struct side *x;
	int ret;

	if (key_norm(c, &k) || ttl_check(ttl_s))
		return -EINVAL;
	ret = sanction_node(e, &k, &now_ns, &n);
	if (ret)
		return ret;
	x = sw(e, n);
	if (n->state == PW_ST_BANNED) {
		/* The operator chose the lesser sanction. */
		lift_ban_accounting(e, n);
		counters_reset(e, n, now_ns);
		n->state = PW_ST_NORMAL;
	}
	x->hold_state = PW_ST_QUARANTINE;
	x->hold_until_ns = ttl_s > 0 ? time_add(now_ns, ttl_s) : FOREVER;
	x->hold_cause = PW_CAUSE_MANUAL;
	n->cause = PW_CAUSE_MANUAL;
	set_state(e, n, PW_ST_QUARANTINE, now_ns);
	x->level_until_ns = x->hold_until_ns;
	lru_sync(e, n);
	heap_sched(e, n, now_ns);
	return 0;
}

int pw_engine_manual_release(struct pw_engine *e, const struct pw_cidr *c,
			     uint64_t now_ns)
{
	struct pw_cidr k;
	uint32_t idx;
	struct node *n;

	if (key_norm(c, &k))
		return -EINVAL;
	idx = lookup_cidr(e, &k);
	if (idx == NIL)
		return -ENOENT;
	n = node_at(e, idx);
	if (n->state == PW_ST_NORMAL || n->state == PW_ST_BANNED)
		return -ENOENT;
	now_ns = clock_seen(e, now_ns);
	pardon(e, n, now_ns);
	return 0;
}

int pw_engine_forgive(struct pw_engine *e, const struct pw_cidr *c,
		      uint64_t now_ns, enum pw_peer_state *was)
{
	struct pw_cidr k;
	struct node *n;
	struct side *x;
	uint32_t idx;

	if (key_norm(c, &k))
		return -EINVAL;
	idx = lookup_cidr(e, &k);
	if (idx == NIL)
		return -ENOENT;
	now_ns = clock_seen(e, now_ns);
	n = node_at(e, idx);
	*was = n->state;
	n->cause = 0;
	n->ignored_state = PW_ST_NORMAL;
	if (n->side == NIL) {
		/* Never sanctioned, credited or struck: only counters. */
		counters_reset(e, n, now_ns);
		lru_sync(e, n);
		heap_sched(e, n, now_ns);
		return 0;
	}
	x = sw(e, n);
	x->strikes = 0;
	x->strike_clock_ns = itime(e, now_ns);
	x->has_credit = false;
	x->last_credit_ns = 0;
	if (x->agg) {
		x->agg->n = 0;
		x->agg->trusted_counted = false;
	}
	pardon(e, n, now_ns);
	x->guard_held = false;
	return 0;
}

int pw_engine_restore_ban(struct pw_engine *e, const struct pw_cidr *c,
			  double remaining_s, enum pw_cause cause,
			  uint64_t now_ns)
{
	struct pw_cidr k;
	struct node *n;
	int ret;

	if (key_norm(c, &k) || ttl_check(remaining_s) ||
	    cause < PW_CAUSE_SPOOFABLE || cause > PW_CAUSE_MANUAL)
		return -EINVAL;
	ret = sanction_node(e, &k, &now_ns, &n);
	if (ret)
		return ret;
	do_ban(e, n, cause, remaining_s, now_ns, false);
	lru_sync(e, n);
	heap_sched(e, n, now_ns);
	return 0;
}

static void info_fill(const struct pw_engine *e, const struct node *n,
		      uint64_t now_ns, struct pw_peer_info *out)
{
	const struct side *x = sd(e, n);
	struct scores sc;
	int64_t clock;

	memset(out, 0, sizeof(*out));
	out->key = cidr_of(&n->key);
	out->state = n->state;
	counters_at(e, n, now_ns, out->counter);
	out->credit = x->credit;
	if (n->state == PW_ST_BANNED) {
		out->score = n->score;
	} else {
		scores_of(e, out->counter, x->credit, &sc);
		out->score = sc.score;
	}
	/* Before the engine has seen a clock, restored history sits at
	 * internal time 0 (see pw_engine_restore_history). */
	strikes_at(e, x->strikes, x->strike_clock_ns,
		   !e->clock_known
			   ? 0
			   : itime(e, now_ns > e->now_ns ? now_ns : e->now_ns),
		   &out->strikes, &clock);
	out->state_since_ns = x->state_since_ns;
	out->ban_until_ns = n->state == PW_ST_BANNED ? x->ban_until_ns : 0;
	out->last_seen_ns = n->last_seen_ns;
	out->last_established_ns = n->last_est_ns;
	out->d_packets = n->d_packets;
	out->d_drops = n->d_drops;
	out->trusted = n->trusted_gen == e->trusted_gen
			       ? n->trusted
			       : cidr_trusted(e, &out->key);
}

int pw_engine_peer(const struct pw_engine *e, const struct pw_cidr *key,
		   uint64_t now_ns, struct pw_peer_info *out)
{
	struct pw_cidr k;
	uint32_t idx;

	if (!out || key_norm(key, &k))
		return -EINVAL;
	idx = lookup_cidr(e, &k);
	if (idx == NIL)
		return -ENOENT;
	info_fill(e, node_at(e, idx), now_ns, out);
	return 0;
}

/* Sources worth showing: observed ones and any sanction or history. */
static bool node_listed(const struct pw_engine *e, const struct node *n)
{
	return n->in_use &&
	       (n->observed || n->state != PW_ST_NORMAL || sd(e, n)->strikes);
}

size_t pw_engine_top(const struct pw_engine *e, uint64_t now_ns,
		     struct pw_peer_info *out, size_t max)
{
	size_t k = 0, j;
	uint32_t c, i;

	if (!out || !max)
		return 0;
	/* Bounded insertion: max is a screenful, the walk is the cost. */
	for (c = 0; c < e->n_chunks; c++) {
		for (i = 0; i < CHUNK_NODES; i++) {
			const struct node *n = &e->chunks[c][i];
			struct pw_peer_info info;

			if (!node_listed(e, n))
				continue;
			info_fill(e, n, now_ns, &info);
			if (k == max && !(info.score > out[k - 1].score))
				continue;
			j = k < max ? k++ : k - 1;
			while (j > 0 && out[j - 1].score < info.score) {
				out[j] = out[j - 1];
				j--;
			}
			out[j] = info;
		}
	}
	return k;
}

static uint64_t top_value(const struct pw_peer_info *p, enum pw_top_by by)
{
	return by == PW_TOP_PACKETS ? p->d_packets : p->d_drops;
}

size_t pw_engine_top_by(const struct pw_engine *e, enum pw_top_by by,
			uint64_t now_ns, uint64_t max_idle_ns,
			struct pw_peer_info *out, size_t max)
{
	size_t k = 0, j;
	uint32_t c, i;

	if (by == PW_TOP_SCORE)
		return pw_engine_top(e, now_ns, out, max);
	if (!out || !max || (by != PW_TOP_PACKETS && by != PW_TOP_DROPS))
		return 0;
	/* The value decides before any info is filled in: most sources
	 * are passed over on one compare. */
	for (c = 0; c < e->n_chunks; c++) {
		for (i = 0; i < CHUNK_NODES; i++) {
			const struct node *n = &e->chunks[c][i];
			uint64_t v = by == PW_TOP_PACKETS ? n->d_packets
							  : n->d_drops;

			if (!n->in_use || !v ||
			    (k == max && v <= top_value(&out[k - 1], by)))
				continue;
			if (max_idle_ns && now_ns > n->last_seen_ns &&
			    now_ns - n->last_seen_ns > max_idle_ns)
				continue;
			j = k < max ? k++ : k - 1;
			while (j > 0 && top_value(&out[j - 1], by) < v) {
				out[j] = out[j - 1];
				j--;
			}
			info_fill(e, n, now_ns, &out[j]);
		}
	}
	return k;
}

void pw_engine_get_stats(const struct pw_engine *e, struct pw_engine_stats *out)
{
	*out = e->stats;
	out->peers = e->n_nodes;
}

size_t pw_engine_count_state(const struct pw_engine *e, enum pw_peer_state st)
{
	size_t k = 0;

	for (uint32_t c = 0; c < e->n_chunks; c++)
		for (uint32_t i = 0; i < CHUNK_NODES; i++)
			k += e->chunks[c][i].in_use &&
			     e->chunks[c][i].state == st;
	return k;
}

/* The strike clock is exported as the unix time the current clean period
 * started: the end of the last ban, which may lie in the future while
 * that ban runs (the ban itself is saved alongside). */
size_t pw_engine_history(const struct pw_engine *e, int64_t now_unix_s,
			 struct pw_history_entry *out, size_t max)
{
	int64_t cur = e->clock_known ? itime(e, e->now_ns) : 0;
	size_t k = 0;
	uint32_t c, i;

	if (!out)
		return 0;
	for (c = 0; c < e->n_chunks && k < max; c++) {
		for (i = 0; i < CHUNK_NODES && k < max; i++) {
			const struct node *n = &e->chunks[c][i];
			unsigned strikes;
			int64_t clock, t;

			if (!n->in_use || !sd(e, n)->strikes)
				continue;
			strikes_at(e, sd(e, n)->strikes,
				   sd(e, n)->strike_clock_ns, cur, &strikes,
				   &clock);
			if (!strikes)
				continue;
			t = now_unix_s - (cur - clock) / 1000000000;
			out[k].key = cidr_of(&n->key);
			out[k].strikes = strikes;
			out[k].last_strike_unix_s = t > 0 ? t : 0;
			k++;
		}
	}
	return k;
}

int pw_engine_restore_history(struct pw_engine *e,
			      const struct pw_history_entry *h, size_t n,
			      int64_t now_unix_s)
{
	int64_t cur = e->clock_known ? itime(e, e->now_ns) : 0;
	int ret = 0;
	size_t i;

	if (n && !h)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		struct pw_cidr k;

		if (key_norm(&h[i].key, &k))
			return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		struct pw_cidr k;
		struct node *nd;
		unsigned strikes;
		int64_t clock, ago_s;
		int r;

		if (!h[i].strikes)
			continue;
		key_norm(&h[i].key, &k);
		ago_s = now_unix_s - h[i].last_strike_unix_s;
		/* Bounded so the conversion to ns cannot overflow. */
		if (ago_s > (int64_t)MAX_DURATION_S)
			ago_s = (int64_t)MAX_DURATION_S;
		if (ago_s < -(int64_t)MAX_DURATION_S)
			ago_s = -(int64_t)MAX_DURATION_S;
		strikes_at(e, h[i].strikes, cur - ago_s * 1000000000, cur,
			   &strikes, &clock);
		if (!strikes)
			continue;
		r = side_reserve(e, 1);
		if (!r)
			r = node_get(e, &k, false, &nd);
		if (r) {
			ret = r;
			continue;
		}
		if (strikes >= sd(e, nd)->strikes) {
			struct side *x = sw(e, nd);

			x->strikes = strikes;
			x->strike_clock_ns = clock;
		}
	}
	return ret;
}

const char *pw_peer_state_name(enum pw_peer_state s)
{
	static const char *const names[PW_ST_NR] = {
		[PW_ST_NORMAL] = "normal",
		[PW_ST_WATCH] = "watch",
		[PW_ST_THROTTLE] = "throttle",
		[PW_ST_QUARANTINE] = "quarantine",
		[PW_ST_BANNED] = "banned",
	};

	return (unsigned)s < PW_ST_NR ? names[s] : "unknown";
}

const char *pw_cause_name(enum pw_cause c)
{
	switch (c) {
	case PW_CAUSE_SPOOFABLE:
		return "spoofable";
	case PW_CAUSE_VERIFIED:
		return "verified";
	case PW_CAUSE_PREFIX:
		return "prefix";
	case PW_CAUSE_MANUAL:
		return "manual";
	}
	return "unknown";
}

static const char *const posture_names[PW_POSTURE_NR] = {
	[PW_POSTURE_NORMAL] = "normal",
	[PW_POSTURE_ELEVATED] = "elevated",
	[PW_POSTURE_SEVERE] = "severe",
};

const char *pw_posture_name(enum pw_posture p)
{
	return (unsigned)p < PW_POSTURE_NR ? posture_names[p] : "unknown";
}

int pw_posture_parse(const char *s, enum pw_posture *out)
{
	int i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < PW_POSTURE_NR; i++) {
		if (strcmp(s, posture_names[i]) == 0) {
			*out = (enum pw_posture)i;
			return 0;
		}
	}
	return -EINVAL;
}
