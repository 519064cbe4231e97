// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcapng.c - the writer behind `peerwallctl capture`: SHB, IDBs, EPBs
 * with comments (draft-ietf-opsawg-pcapng). Every block is assembled in
 * a buffer and written with one fwrite, so a block is whole or missing;
 * errors are sticky and reported by pw_pcapng_close().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

#define BT_SHB		  0x0A0D0D0Au
#define BT_IDB		  0x00000001u
#define BT_EPB		  0x00000006u
#define BYTE_ORDER_MAGIC  0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1
#define OPT_END		  0
#define OPT_COMMENT	  1
#define OPT_SHB_USERAPPL  4
#define OPT_IF_NAME	  2
#define OPT_IF_TSRESOL	  9
#define TSRESOL_NS	  9 /* 10^-9 s */
/* The largest block: an EPB of a 64 KiB frame with a comment. */
#define BLOCK_MAX      (64 + 65536 + 8 + PW_PCAPNG_COMMENT_MAX + 8)
#define NAME_MAX_BYTES 256

struct pw_pcapng {
	FILE *f;
	uint32_t snaplen;
	int n_ifaces;
	bool failed;
	uint8_t buf[BLOCK_MAX];
	size_t len;
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void put(struct pw_pcapng *w, const void *p, size_t n)
{
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_u16(struct pw_pcapng *w, uint16_t v)
{
	put(w, &v, sizeof(v));
}

static void put_u32(struct pw_pcapng *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void put_zeros(struct pw_pcapng *w, size_t n)
{
	memset(w->buf + w->len, 0, n);
	w->len += n;
}

/* An option: code, length, value padded to 32 bits. */
static void put_opt(struct pw_pcapng *w, uint16_t code, const void *v, size_t n)
{
	put_u16(w, code);
	put_u16(w, (uint16_t)n);
	put(w, v, n);
	put_zeros(w, pad4(n) - n);
}

static void begin(struct pw_pcapng *w, uint32_t type)
{
	w->len = 0;
	put_u32(w, type);
	put_u32(w, 0); /* total length, set by finish() */
}

/* End of options, trailing length, one write. */
static int finish(struct pw_pcapng *w, bool options)
{
	uint32_t total;

	if (options) {
		put_u16(w, OPT_END);
		put_u16(w, 0);
	}
	total = (uint32_t)(w->len + 4);
	memcpy(w->buf + 4, &total, sizeof(total));
	put_u32(w, total);
	if (w->failed || fwrite(w->buf, 1, w->len, w->f) != w->len) {
		w->failed = true;
		return -EIO;
	}
	return 0;
}

int pw_pcapng_open(FILE *f, const char *app, uint32_t snaplen,
		   struct pw_pcapng **out)
{
	struct pw_pcapng *w = calloc(1, sizeof(*w));
	int64_t section_len = -1; /* not given */
	int err;

	if (!w)
		return -ENOMEM;
	w->f = f;
	w->snaplen = snaplen;
	begin(w, BT_SHB);
	put_u32(w, BYTE_ORDER_MAGIC);
	put_u16(w, 1); /* major */
	put_u16(w, 0); /* minor */
	put(w, &section_len, sizeof(section_len));
	if (app && *app)
		put_opt(w, OPT_SHB_USERAPPL, app, strnlen(app, NAME_MAX_BYTES));
	err = finish(w, app && *app);
	if (err) {
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int pw_pcapng_add_if(struct pw_pcapng *w, const char *name)
{
	uint8_t tsresol = TSRESOL_NS;
	int err;

	if (w->n_ifaces >= PW_PCAPNG_MAX_IFACES)
		return -ENOSPC;
	begin(w, BT_IDB);
	put_u16(w, LINKTYPE_ETHERNET);
	put_u16(w, 0); /* reserved */
	put_u32(w, w->snaplen);
	if (name && *name)
		put_opt(w, OPT_IF_NAME, name, strnlen(name, NAME_MAX_BYTES));
	put_opt(w, OPT_IF_TSRESOL, &tsresol, sizeof(tsresol));
	err = finish(w, true);
	return err ? err : w->n_ifaces++;
}

int pw_pcapng_write(struct pw_pcapng *w, int if_id, uint64_t ts_ns,
		    const uint8_t *data, uint32_t caplen, uint32_t origlen,
		    const char *comment)
{
	size_t clen = comment ? strnlen(comment, PW_PCAPNG_COMMENT_MAX) : 0;

	if (if_id < 0 || if_id >= w->n_ifaces || caplen > origlen ||
	    caplen > 65536)
		return -EINVAL;
	begin(w, BT_EPB);
	put_u32(w, (uint32_t)if_id);
	put_u32(w, (uint32_t)(ts_ns >> 32));
	put_u32(w, (uint32_t)ts_ns);
	put_u32(w, caplen);
	put_u32(w, origlen);
	put(w, data, caplen);
	put_zeros(w, pad4(caplen) - caplen);
	if (clen)
		put_opt(w, OPT_COMMENT, comment, clen);
	return finish(w, clen > 0);
}

int pw_pcapng_close(struct pw_pcapng *w)
{
	int err;

	if (!w)
		return 0;
	err = w->failed || fflush(w->f) || ferror(w->f) ? -EIO : 0;
	free(w);
	return err;
}
