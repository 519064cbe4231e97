// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcap_in.c - a thin, strict front-end over libpcap's offline reader.
 *
 * libpcap already parses both pcap and pcapng and detects truncation; what
 * this adds is the policy: Ethernet only (the datapath parses Ethernet),
 * nanosecond timestamps, and errors that say which packet broke the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pcap_in.h"

struct pw_pcap_in {
	pcap_t *pcap;
	uint64_t next_index;
};

int pw_pcap_open(const char *path, struct pw_pcap_in **out, char *err,
		 size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct pw_pcap_in *in;
	int lt;

	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->pcap = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!in->pcap) {
		snprintf(err, errlen, "%s: cannot read capture: %s", path,
			 perr);
		free(in);
		return -EINVAL;
	}
	lt = pcap_datalink(in->pcap);
	if (lt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(lt);

		snprintf(err, errlen,
			 "%s: link type %d (%s) is not supported: "
			 "peerwall-replay reads Ethernet (EN10MB) captures",
			 path, lt, name ? name : "unknown");
		pw_pcap_close(in);
		return -ENOTSUP;
	}
	*out = in;
	return 0;
}

int pw_pcap_next(struct pw_pcap_in *in, struct pw_pcap_pkt *pkt, char *err,
		 size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;

	rc = pcap_next_ex(in->pcap, &hdr, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "packet %llu: %s",
			 (unsigned long long)in->next_index,
			 pcap_geterr(in->pcap));
		return -EIO;
	}
	pkt->data = data;
	pkt->caplen = hdr->caplen;
	pkt->wirelen = hdr->len;
	pkt->ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull +
		     (uint64_t)hdr->ts.tv_usec;
	pkt->index = in->next_index++;
	return 1;
}

struct pw_pcap_out {
	pcap_t *dead;
	pcap_dumper_t *dumper;
};

int pw_pcap_out_open(const char *path, struct pw_pcap_out **out, char *err,
		     size_t errlen)
{
	struct pw_pcap_out *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->dead = pcap_open_dead_with_tstamp_precision(
		DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
	if (!o->dead) {
		free(o);
		return -ENOMEM;
	}
	o->dumper = pcap_dump_open(o->dead, path);
	if (!o->dumper) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(o->dead));
		pw_pcap_out_close(o);
		return -EIO;
	}
	*out = o;
	return 0;
}

void pw_pcap_out_write(struct pw_pcap_out *o, const struct pw_pcap_pkt *pkt)
{
	struct pcap_pkthdr h = {
		.ts = {.tv_sec = pkt->ts_ns / 1000000000ull,
		       .tv_usec = pkt->ts_ns % 1000000000ull},
		.caplen = pkt->caplen,
		.len = pkt->wirelen,
	};

	pcap_dump((u_char *)o->dumper, &h, pkt->data);
}

void pw_pcap_out_close(struct pw_pcap_out *o)
{
	if (!o)
		return;
	if (o->dumper)
		pcap_dump_close(o->dumper);
	if (o->dead)
		pcap_close(o->dead);
	free(o);
}

void pw_pcap_close(struct pw_pcap_in *in)
{
	if (!in)
		return;
	if (in->pcap)
		pcap_close(in->pcap);
	free(in);
}
