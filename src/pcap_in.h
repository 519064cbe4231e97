/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcap_in.h - reading captures (pcap and pcapng, via libpcap) for replay:
 * Ethernet only, nanosecond timestamps, and a clear message naming the
 * packet index where a truncated or corrupt file breaks.
 */
#ifndef PW_PCAP_IN_H
#define PW_PCAP_IN_H

#include <stddef.h>
#include <stdint.h>

#define PW_PCAP_ERRLEN 512

struct pw_pcap_in;

struct pw_pcap_pkt {
	const uint8_t *data; /* valid until the next pw_pcap_next() */
	uint32_t caplen;     /* bytes captured (what the datapath sees) */
	uint32_t wirelen;    /* bytes on the wire */
	uint64_t ts_ns;	     /* capture time, ns since the Unix epoch */
	uint64_t index;	     /* 0-based position in the file */
};

/* Open `path`; refuses non-Ethernet link types. 0 or -errno, with a
 * message in err. */
int pw_pcap_open(const char *path, struct pw_pcap_in **out, char *err,
		 size_t errlen);

/* 1 and *pkt filled, 0 at the end of the file, or -EIO with a message
 * ("packet 1234: truncated dump file; ...") in err. */
int pw_pcap_next(struct pw_pcap_in *in, struct pw_pcap_pkt *pkt, char *err,
		 size_t errlen);

/* A writer of Ethernet captures at nanosecond precision. libpcap's
 * headers stay inside pcap_in.c: they clash with <linux/bpf.h>. */
struct pw_pcap_out;
int pw_pcap_out_open(const char *path, struct pw_pcap_out **out, char *err,
		     size_t errlen);
void pw_pcap_out_write(struct pw_pcap_out *o, const struct pw_pcap_pkt *pkt);
void pw_pcap_out_close(struct pw_pcap_out *o);

void pw_pcap_close(struct pw_pcap_in *in);

#endif /* PW_PCAP_IN_H */
