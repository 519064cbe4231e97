/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcapng.h - a small pcapng writer for evidence captures.
 *
 * One section (SHB naming the writer), one interface block (IDB) per
 * interface (Ethernet, the snap length, its name, nanosecond timestamps),
 * and one enhanced packet block (EPB) per packet with an opt_comment such
 * as "peerwall: drop_banned": tcpdump, tshark, Wireshark and libpcap (so
 * peerwall-replay) read it. Written in host byte order, as the format
 * allows (the byte-order magic tells readers).
 */
#ifndef PW_PCAPNG_H
#define PW_PCAPNG_H

#include <stdint.h>
#include <stdio.h>

#define PW_PCAPNG_MAX_IFACES  64
#define PW_PCAPNG_COMMENT_MAX 256

struct pw_pcapng;

/* Start a section on f (which stays the caller's): writes the SHB.
 * snaplen is every interface's: libpcap refuses a section whose
 * interfaces differ in it. 0 or -errno (-EIO when f fails). */
int pw_pcapng_open(FILE *f, const char *app, uint32_t snaplen,
		   struct pw_pcapng **out);

/* Describe an interface; returns its id (0, 1, ...) for pw_pcapng_write,
 * -ENOSPC beyond PW_PCAPNG_MAX_IFACES, or -EIO. */
int pw_pcapng_add_if(struct pw_pcapng *w, const char *name);

/* One packet: ts_ns since the Unix epoch, caplen bytes of data, origlen on
 * the wire, an optional comment (NULL or "": none; longer ones are cut at
 * PW_PCAPNG_COMMENT_MAX bytes). 0, -EINVAL (unknown interface, caplen >
 * origlen) or -EIO. */
int pw_pcapng_write(struct pw_pcapng *w, int if_id, uint64_t ts_ns,
		    const uint8_t *data, uint32_t caplen, uint32_t origlen,
		    const char *comment);

/* Flush and free the writer (not f). 0, or -EIO if anything written
 * failed. */
int pw_pcapng_close(struct pw_pcapng *w);

#endif /* PW_PCAPNG_H */
