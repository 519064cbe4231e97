// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_pcap.c - peerwall-replay's capture front-end, pw_pcap_open() and
 * pw_pcap_next(), on arbitrary files (pcap and pcapng: libpcap sniffs the
 * magic). The input is written to a memfd and opened by its /proc path,
 * the way replay opens a capture file.
 *
 * Properties: never a crash or leak; every byte a packet claims (caplen)
 * is readable; packet indexes count up from 0; an error names the packet
 * and is one printable line.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "pcap_in.h"

/* A crafted file can hold many tiny packets; this bounds one input. */
#define MAX_PKTS 100000

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	fd = memfd_create("pw-fuzz-pcap", MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PW_PCAP_ERRLEN] = "";
	struct pw_pcap_in *in = NULL;
	struct pw_pcap_pkt pkt;
	volatile uint8_t sink = 0;
	uint64_t n = 0;
	int rc;

	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror("memfd");
		abort();
	}
	if (pw_pcap_open(path, &in, err, sizeof(err))) {
		fz_check_msg("pcap open", err, sizeof(err));
		return 0;
	}
	while (n < MAX_PKTS &&
	       (rc = pw_pcap_next(in, &pkt, err, sizeof(err))) == 1) {
		if (pkt.index != n)
			fz_fail("pcap: packet %llu has index %llu",
				(unsigned long long)n,
				(unsigned long long)pkt.index);
		for (uint32_t i = 0; i < pkt.caplen; i++)
			sink ^= pkt.data[i];
		n++;
	}
	if (n < MAX_PKTS && rc < 0)
		fz_check_msg("pcap next", err, sizeof(err));
	(void)sink;
	pw_pcap_close(in);
	return 0;
}
