// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pw-flood - a SYN or UDP flood on one interface, for the network-namespace
 * tests and the live benchmarks.
 *
 * Frames are written straight onto the link with an AF_PACKET socket
 * (PACKET_QDISC_BYPASS, sendmmsg in batches), so the flood costs the sender
 * one syscall per batch and reaches the receiver's XDP program as fast as
 * this host can make it. Source addresses are one address or a random one
 * per packet drawn from a CIDR; only 198.18.0.0/15 (benchmarking, RFC 2544)
 * and fd00::/8 (unique local) are accepted, for sources and destination
 * alike, so a slip in a test can never aim traffic at a real network.
 *
 * The frame is built once with pktbuild; a random source is patched in
 * place per packet and the IPv4 header and L4 checksums are updated
 * incrementally (RFC 1624), so the kernel stack behind an unprotected link
 * sees valid packets. Randomness is a seeded xorshift (--seed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/if_packet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "pktbuild.h"

#define FLOOD_BATCH_MAX	    1024
#define FLOOD_BATCH_DEFAULT 64
#define FLOOD_FRAME_MAX	    2048
#define FLOOD_SPORT_DEFAULT 40000
#define FLOOD_MAX_SECONDS   3600.0
#define FLOOD_MAX_PAYLOAD   1400
/* Paced floods send about one batch per millisecond, so the rate is
 * smooth at any timescale a token bucket looks at. */
#define FLOOD_PACE_BATCHES_PER_S 1000.0
#define NS_PER_S		 1000000000ull

/* The only ranges pw-flood sends from or to. */
static const char *const allowed_ranges[] = {"198.18.0.0/15", "fd00::/8"};

struct flood_opts {
	const char *dev;
	uint8_t dst_mac[6];
	bool have_dst_mac;
	struct pw_cidr dst, src;
	bool have_dst, have_src;
	bool random_src;
	uint8_t proto; /* IPPROTO_TCP (SYN) or IPPROTO_UDP */
	uint16_t sport, dport;
	size_t payload_len;
	double rate_pps; /* 0: as fast as possible */
	double seconds;	 /* 0: until count */
	uint64_t count;	 /* 0: until seconds */
	unsigned batch;
	bool qdisc_bypass;
	bool json;
	uint64_t seed;
};

/* Where, in a built frame, a new source address goes and which checksums
 * cover it. */
struct frame_tpl {
	uint8_t bytes[FLOOD_FRAME_MAX];
	size_t len;
	int family;
	size_t src_off, src_len;
	long ip_csum_off; /* -1: none (IPv6) */
	long l4_csum_off;
	bool udp;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* NULL when c lies inside one of allowed_ranges, else why not. */
static const char *range_refusal(const struct pw_cidr *c)
{
	for (size_t i = 0;
	     i < sizeof(allowed_ranges) / sizeof(allowed_ranges[0]); i++) {
		struct pw_cidr r;

		if (pw_cidr_parse(allowed_ranges[i], &r, NULL, 0) == 0 &&
		    pw_cidr_contains(&r, c))
			return NULL;
	}
	return "outside 198.18.0.0/15 and fd00::/8, the only ranges "
	       "pw-flood sends from or to";
}

/* One address of c: its first one, or random host bits. */
static void draw_addr(const struct pw_cidr *c, bool random, uint8_t *out)
{
	unsigned bits = pw_family_bits(c->family);

	memcpy(out, c->addr, bits / 8);
	if (!random)
		return;
	for (unsigned byte = c->prefixlen / 8; byte < bits / 8; byte++) {
		unsigned first_bit = byte * 8;
		uint8_t host_mask = 0xff;

		if (first_bit < c->prefixlen)
			host_mask =
				(uint8_t)(0xff >> (c->prefixlen - first_bit));
		out[byte] = (uint8_t)((out[byte] & ~host_mask) |
				      ((uint8_t)rng() & host_mask));
	}
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over 16-bit words. */
static void csum_replace(uint8_t *csum, const uint8_t *old_bytes,
			 const uint8_t *new_bytes, size_t len, bool udp)
{
	uint32_t sum = (uint16_t) ~(csum[0] << 8 | csum[1]);

	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint16_t) ~(old_bytes[i] << 8 | old_bytes[i + 1]);
		sum += (uint16_t)(new_bytes[i] << 8 | new_bytes[i + 1]);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	/* In UDP a zero checksum means "none"; 0xffff is the same value. */
	if (udp && sum == 0)
		sum = 0xffff;
	csum[0] = (uint8_t)(sum >> 8);
	csum[1] = (uint8_t)sum;
}

/* Put a new source address into a copy of the template's frame. */
static void frame_set_src(const struct frame_tpl *t, uint8_t *frame,
			  const uint8_t *src)
{
	uint8_t *old = frame + t->src_off;

	if (t->ip_csum_off >= 0)
		csum_replace(frame + t->ip_csum_off, old, src, t->src_len,
			     false);
	csum_replace(frame + t->l4_csum_off, old, src, t->src_len, t->udp);
	memcpy(old, src, t->src_len);
}

static int build_template(const struct flood_opts *o, const uint8_t *src_mac,
			  struct frame_tpl *t)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint8_t first[16];
	struct pw_pktlayout lay;
	struct pw_pktspec spec = {
		.family = o->dst.family,
		.src = src,
		.dst = dst,
		.proto = o->proto,
		.sport = o->sport,
		.dport = o->dport,
		.tcp_flags = o->proto == IPPROTO_TCP ? TH_SYN : 0,
		.payload_len = o->payload_len,
	};
	int n;

	draw_addr(&o->src, false, first);
	pw_addr_format(o->src.family, first, src, sizeof(src));
	pw_addr_format(o->dst.family, o->dst.addr, dst, sizeof(dst));
	n = pw_pkt_build_layout(&spec, t->bytes, sizeof(t->bytes), &lay);
	if (n < 0) {
		fprintf(stderr, "pw-flood: cannot build the frame: %s\n",
			strerror(-n));
		return n;
	}
	memcpy(t->bytes, o->dst_mac, 6);
	memcpy(t->bytes + 6, src_mac, 6);
	t->len = (size_t)n;
	t->family = o->src.family;
	t->udp = o->proto == IPPROTO_UDP;
	t->l4_csum_off = (long)lay.l4_off + (t->udp ? 6 : 16);
	if (t->family == AF_INET) {
		t->src_off = lay.l3_off + 12;
		t->src_len = 4;
		t->ip_csum_off = (long)lay.l3_off + 10;
	} else {
		t->src_off = lay.l3_off + 8;
		t->src_len = 16;
		t->ip_csum_off = -1;
	}
	return 0;
}

static int open_link(const struct flood_opts *o, uint8_t *src_mac)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	struct ifreq ifr = {0};
	int fd, one = 1, err;

	if (strlen(o->dev) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "pw-flood: --dev '%s': name too long\n",
			o->dev);
		return -EINVAL;
	}
	/* Protocol 0: this socket sends and never receives. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "pw-flood: AF_PACKET socket: %s%s\n",
			strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return err;
	}
	strcpy(ifr.ifr_name, o->dev);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0 ||
	    (sll.sll_ifindex = ifr.ifr_ifindex,
	     ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)) {
		err = -errno;
		fprintf(stderr, "pw-flood: interface %s: %s\n", o->dev,
			strerror(errno));
		goto fail;
	}
	memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		fprintf(stderr, "pw-flood: bind to %s: %s\n", o->dev,
			strerror(errno));
		goto fail;
	}
	if (o->qdisc_bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS,
					  &one, sizeof(one)) < 0) {
		err = -errno;
		fprintf(stderr, "pw-flood: PACKET_QDISC_BYPASS: %s\n",
			strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

struct flood_result {
	uint64_t sent, failed;
	uint64_t elapsed_ns;
	int err; /* first error that stopped the flood, 0 if none */
};

/* Packets the pace allows by t (ns since start), capped at the target. */
static uint64_t paced_quota(const struct flood_opts *o, uint64_t t_ns)
{
	return (uint64_t)(o->rate_pps * (double)t_ns / 1e9) + 1;
}

static void flood(int fd, const struct flood_opts *o, const struct frame_tpl *t,
		  struct flood_result *res)
{
	static uint8_t frames[FLOOD_BATCH_MAX][FLOOD_FRAME_MAX];
	struct mmsghdr msgs[FLOOD_BATCH_MAX];
	struct iovec iov[FLOOD_BATCH_MAX];
	uint64_t end_ns = 0, start_ns;
	unsigned batch = o->batch;
	uint8_t src[16];

	if (o->rate_pps > 0) {
		double per_ms = o->rate_pps / FLOOD_PACE_BATCHES_PER_S;

		if (per_ms < batch)
			batch = per_ms < 1 ? 1 : (unsigned)per_ms;
	}
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < batch; i++) {
		memcpy(frames[i], t->bytes, t->len);
		iov[i].iov_base = frames[i];
		iov[i].iov_len = t->len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start_ns = now_ns();
	if (o->seconds > 0)
		end_ns = start_ns + (uint64_t)llround(o->seconds * 1e9);
	while (!stop_requested) {
		uint64_t now = now_ns(), done = res->sent + res->failed;
		unsigned n = batch;
		int rc;

		if (end_ns && now >= end_ns)
			break;
		if (o->count && done >= o->count)
			break;
		if (o->count && o->count - done < n)
			n = (unsigned)(o->count - done);
		if (o->rate_pps > 0) {
			uint64_t quota = paced_quota(o, now - start_ns);

			if (done >= quota) {
				struct timespec ts = {0, 200000};

				nanosleep(&ts, NULL);
				continue;
			}
			if (quota - done < n)
				n = (unsigned)(quota - done);
		}
		if (o->random_src) {
			for (unsigned i = 0; i < n; i++) {
				draw_addr(&o->src, true, src);
				frame_set_src(t, frames[i], src);
			}
		}
		/* sendmmsg stops at the first frame that fails: it returns
		 * -1 when that is the first, else the frames sent before it
		 * (and the error is lost). Either way one frame failed and the
		 * rest of the batch was not tried. */
		rc = sendmmsg(fd, msgs, n, 0);
		if (rc < 0) {
			/* A full queue (veth: the peer's ring): count the
			 * frame as lost and keep going, as a flood would. */
			if (errno == ENOBUFS || errno == EAGAIN) {
				res->failed++;
				continue;
			}
			if (errno == EINTR)
				continue;
			res->err = -errno;
			fprintf(stderr, "pw-flood: sendmmsg on %s: %s\n",
				o->dev, strerror(errno));
			break;
		}
		res->sent += (uint64_t)rc;
		if ((unsigned)rc < n)
			res->failed++;
	}
	res->elapsed_ns = now_ns() - start_ns;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pw-flood --dev IF --dst-mac MAC --dst ADDR --dport "
		"PORT\n"
		"                --src CIDR [--random-src] [--proto tcp|udp]\n"
		"                [--sport PORT] [--payload BYTES]\n"
		"                [--rate PPS] [--seconds S] [--count N]\n"
		"                [--batch N] [--no-qdisc-bypass] [--seed N] "
		"[--json]\n"
		"\n"
		"Sends TCP SYNs (or UDP datagrams) from --src out of --dev.\n"
		"Sources and destination must lie in 198.18.0.0/15 or "
		"fd00::/8.\n"
		"  --src CIDR      sources; without --random-src its first "
		"address\n"
		"  --random-src    a random address of --src per packet\n"
		"  --rate PPS      pace to PPS packets/s (default: as fast as "
		"possible)\n"
		"  --seconds S     stop after S seconds; --count N after N "
		"packets;\n"
		"                  with neither, until SIGINT/SIGTERM\n"
		"  --batch N       frames per sendmmsg, 1..%d (default %d)\n"
		"Prints the packets sent and the rate; --json as one "
		"object.\n",
		FLOOD_BATCH_MAX, FLOOD_BATCH_DEFAULT);
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* A number in [min, max]; false (and a message naming opt) otherwise. */
static bool parse_num(const char *opt, const char *s, double min, double max,
		      double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		fprintf(stderr,
			"pw-flood: %s '%s': expected a number in "
			"%.0f..%.0f\n",
			opt, s, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_addr_opt(const char *opt, const char *s, struct pw_cidr *c)
{
	char err[128];
	const char *why;

	if (pw_cidr_parse(s, c, err, sizeof(err))) {
		fprintf(stderr, "pw-flood: %s '%s': %s\n", opt, s, err);
		return false;
	}
	why = range_refusal(c);
	if (why) {
		fprintf(stderr, "pw-flood: %s '%s': refused: %s\n", opt, s,
			why);
		return false;
	}
	return true;
}

/* Fill o from argv; 0, or 2 (usage error) after saying why. */
static int parse_args(int argc, char **argv, struct flood_opts *o)
{
	static const struct option longopts[] = {
		{"dev", required_argument, NULL, 'i'},
		{"dst-mac", required_argument, NULL, 'm'},
		{"dst", required_argument, NULL, 'd'},
		{"dport", required_argument, NULL, 'p'},
		{"src", required_argument, NULL, 's'},
		{"random-src", no_argument, NULL, 'r'},
		{"proto", required_argument, NULL, 'P'},
		{"sport", required_argument, NULL, 'S'},
		{"payload", required_argument, NULL, 'l'},
		{"rate", required_argument, NULL, 'R'},
		{"seconds", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'c'},
		{"batch", required_argument, NULL, 'b'},
		{"no-qdisc-bypass", no_argument, NULL, 'Q'},
		{"seed", required_argument, NULL, 'z'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	double v;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->dev = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, o->dst_mac)) {
				fprintf(stderr,
					"pw-flood: --dst-mac '%s': expected "
					"six hex bytes like "
					"02:00:00:00:00:02\n",
					optarg);
				return 2;
			}
			o->have_dst_mac = true;
			break;
		case 'd':
			if (!parse_addr_opt("--dst", optarg, &o->dst))
				return 2;
			if (o->dst.prefixlen != pw_family_bits(o->dst.family)) {
				fprintf(stderr,
					"pw-flood: --dst '%s': one "
					"address, not a network\n",
					optarg);
				return 2;
			}
			o->have_dst = true;
			break;
		case 's':
			if (!parse_addr_opt("--src", optarg, &o->src))
				return 2;
			o->have_src = true;
			break;
		case 'r':
			o->random_src = true;
			break;
		case 'P':
			if (!strcmp(optarg, "tcp")) {
				o->proto = IPPROTO_TCP;
			} else if (!strcmp(optarg, "udp")) {
				o->proto = IPPROTO_UDP;
			} else {
				fprintf(stderr,
					"pw-flood: --proto '%s': "
					"expected tcp or udp\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
		case 'S':
			if (!parse_num(c == 'p' ? "--dport" : "--sport", optarg,
				       1, 65535, &v))
				return 2;
			*(c == 'p' ? &o->dport : &o->sport) = (uint16_t)v;
			break;
		case 'l':
			if (!parse_num("--payload", optarg, 0,
				       FLOOD_MAX_PAYLOAD, &v))
				return 2;
			o->payload_len = (size_t)v;
			break;
		case 'R':
			if (!parse_num("--rate", optarg, 1, 1e9, &o->rate_pps))
				return 2;
			break;
		case 't':
			if (!parse_num("--seconds", optarg, 0.001,
				       FLOOD_MAX_SECONDS, &o->seconds))
				return 2;
			break;
		case 'c':
			if (!parse_num("--count", optarg, 1, 1e15, &v))
				return 2;
			o->count = (uint64_t)v;
			break;
		case 'b':
			if (!parse_num("--batch", optarg, 1, FLOOD_BATCH_MAX,
				       &v))
				return 2;
			o->batch = (unsigned)v;
			break;
		case 'Q':
			o->qdisc_bypass = false;
			break;
		case 'z':
			if (!parse_num("--seed", optarg, 1, 1e18, &v))
				return 2;
			o->seed = (uint64_t)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pw-flood: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!o->dev || !o->have_dst_mac || !o->have_dst || !o->dport ||
	    !o->have_src) {
		fprintf(stderr, "pw-flood: --dev, --dst-mac, --dst, --dport "
				"and --src are required\n");
		usage(stderr);
		return 2;
	}
	if (o->src.family != o->dst.family) {
		fprintf(stderr, "pw-flood: --src and --dst must be of the "
				"same family\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct flood_opts o = {
		.proto = IPPROTO_TCP,
		.sport = FLOOD_SPORT_DEFAULT,
		.batch = FLOOD_BATCH_DEFAULT,
		.qdisc_bypass = true,
	};
	struct flood_result res = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	struct frame_tpl *tpl;
	uint8_t src_mac[6];
	char srcs[PW_CIDR_STRLEN];
	double secs, pps;
	int fd, rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (o.proto == IPPROTO_UDP && o.payload_len == 0)
		o.payload_len = 18; /* a 64-byte frame, like a SYN's */
	rng_state = o.seed ? o.seed : now_ns() | 1;
	tpl = calloc(1, sizeof(*tpl));
	if (!tpl) {
		fprintf(stderr, "pw-flood: out of memory\n");
		return 1;
	}
	fd = open_link(&o, src_mac);
	if (fd < 0) {
		free(tpl);
		return 1;
	}
	rc = build_template(&o, src_mac, tpl);
	if (rc)
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	flood(fd, &o, tpl, &res);
	secs = (double)res.elapsed_ns / 1e9;
	pps = secs > 0 ? (double)res.sent / secs : 0;
	pw_cidr_format(&o.src, srcs, sizeof(srcs));
	if (o.json)
		printf("{\"sent\": %llu, \"failed\": %llu, \"seconds\": %.6f, "
		       "\"pps\": %.0f, \"frame_bytes\": %zu}\n",
		       (unsigned long long)res.sent,
		       (unsigned long long)res.failed, secs, pps, tpl->len);
	else
		printf("pw-flood: %s %s from %s%s: %llu packets sent (%llu "
		       "lost to a full queue) in %.3f s, %.0f pps\n",
		       o.dev, o.proto == IPPROTO_TCP ? "SYN" : "UDP", srcs,
		       o.random_src ? " (random)" : "",
		       (unsigned long long)res.sent,
		       (unsigned long long)res.failed, secs, pps);
	rc = res.err ? 1 : 0;
out:
	close(fd);
	free(tpl);
	return rc;
}
