// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pcapng.c - src/pcapng.c: a capture written by the writer reads back
 * through libpcap (pw_pcap_open / pw_pcap_next, what peerwall-replay uses)
 * with every byte, length and nanosecond intact; the blocks are well
 * formed (lengths agree, 32-bit aligned) and carry their comments and
 * interface names; bad arguments are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap_in.h"
#include "pcapng.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TS0	      1700000000123456789ull

struct pkt {
	int iface;
	uint64_t ts_ns;
	uint32_t caplen, origlen;
	const char *comment;
};

static const struct pkt pkts[] = {
	{0, TS0, 60, 60, "peerwall: drop_banned"},
	{1, TS0 + 1, 256, 1514, "peerwall: drop_rate_src"},
	{0, TS0 + 1000000001ull, 61, 61, NULL},
	{1, TS0 + 2000000000ull, 1, 9000,
	 "peerwall: drop_syn_src (monitor: "
	 "passed)"},
};

static void fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 13);
}

/* Write pkts to a fresh file; returns its path (caller unlinks). */
static void write_capture(char *path)
{
	struct pw_pcapng *w;
	uint8_t data[2048];
	FILE *f;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(pw_pcapng_open(f, "peerwallctl test", 256, &w), 0);
	assert_int_equal(pw_pcapng_add_if(w, "pw0"), 0);
	assert_int_equal(pw_pcapng_add_if(w, "eth1"), 1);
	for (size_t i = 0; i < ARRAY_SIZE(pkts); i++) {
		fill(data, pkts[i].caplen, (unsigned)i);
		assert_int_equal(
			pw_pcapng_write(w, pkts[i].iface, pkts[i].ts_ns, data,
					pkts[i].caplen, pkts[i].origlen,
					pkts[i].comment),
			0);
	}
	assert_int_equal(pw_pcapng_close(w), 0);
	assert_int_equal(fclose(f), 0);
}

static void test_round_trip(void **state)
{
	char path[] = "/tmp/pw-test-pcapng-XXXXXX", err[PW_PCAP_ERRLEN];
	struct pw_pcap_in *in;
	struct pw_pcap_pkt p;
	uint8_t want[2048];

	(void)state;
	write_capture(path);
	assert_int_equal(pw_pcap_open(path, &in, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(pkts); i++) {
		assert_int_equal(pw_pcap_next(in, &p, err, sizeof(err)), 1);
		fill(want, pkts[i].caplen, (unsigned)i);
		assert_int_equal(p.caplen, pkts[i].caplen);
		assert_int_equal(p.wirelen, pkts[i].origlen);
		assert_int_equal(p.ts_ns, pkts[i].ts_ns);
		assert_int_equal(p.index, i);
		assert_memory_equal(p.data, want, p.caplen);
	}
	assert_int_equal(pw_pcap_next(in, &p, err, sizeof(err)), 0);
	pw_pcap_close(in);
	unlink(path);
}

/* Walk the blocks: types in order, both lengths equal, 4-aligned. */
static void test_blocks(void **state)
{
	static const uint32_t types[] = {0x0A0D0D0A, 1, 1, 6, 6, 6, 6};
	char path[] = "/tmp/pw-test-pcapng-XXXXXX";
	uint8_t *buf = malloc(1 << 16);
	size_t len, off = 0, nb = 0;
	FILE *f;

	(void)state;
	write_capture(path);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	unlink(path);
	while (off < len) {
		uint32_t type, blen, tail;

		memcpy(&type, buf + off, 4);
		memcpy(&blen, buf + off + 4, 4);
		assert_true(nb < ARRAY_SIZE(types));
		assert_int_equal(type, types[nb]);
		assert_int_equal(blen % 4, 0);
		assert_true(off + blen <= len);
		memcpy(&tail, buf + off + blen - 4, 4);
		assert_int_equal(tail, blen);
		off += blen;
		nb++;
	}
	assert_int_equal(off, len);
	assert_int_equal(nb, ARRAY_SIZE(types));
	assert_non_null(memmem(buf, len, "peerwall: drop_banned", 21));
	assert_non_null(memmem(buf, len, "(monitor: passed)", 17));
	assert_non_null(memmem(buf, len, "eth1", 4));
	assert_non_null(memmem(buf, len, "peerwallctl test", 16));
	free(buf);
}

static void test_refused(void **state)
{
	struct pw_pcapng *w;
	uint8_t data[64] = {0};
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);

	(void)state;
	assert_int_equal(pw_pcapng_open(f, NULL, 64, &w), 0);
	/* no interface yet */
	assert_int_equal(pw_pcapng_write(w, 0, TS0, data, 60, 60, NULL),
			 -EINVAL);
	assert_int_equal(pw_pcapng_add_if(w, "pw0"), 0);
	assert_int_equal(pw_pcapng_write(w, 1, TS0, data, 60, 60, NULL),
			 -EINVAL);
	assert_int_equal(pw_pcapng_write(w, -1, TS0, data, 60, 60, NULL),
			 -EINVAL);
	/* more captured than was on the wire */
	assert_int_equal(pw_pcapng_write(w, 0, TS0, data, 61, 60, NULL),
			 -EINVAL);
	assert_int_equal(pw_pcapng_write(w, 0, TS0, data, 60, 60, ""), 0);
	for (int i = 1; i < PW_PCAPNG_MAX_IFACES; i++)
		assert_int_equal(pw_pcapng_add_if(w, "x"), i);
	assert_int_equal(pw_pcapng_add_if(w, "x"), -ENOSPC);
	assert_int_equal(pw_pcapng_close(w), 0);
	fclose(f);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
