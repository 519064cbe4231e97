// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dgflood - one sender pushing node reports at a unix datagram socket as
 * fast as it can, every other one malformed.
 *
 *   dgflood SOCKET COUNT
 *
 * Blocking sends: AF_UNIX datagram sockets never drop a datagram once
 * sendto() has accepted it; a full receive queue makes the sender wait
 * (or fail with EAGAIN when non-blocking). So with a blocking sender every
 * datagram counted as sent here is one the receiver must account for:
 * processed, rejected as malformed, or dropped over its per-tick cap.
 *
 * Valid reports are "good 198.18.100.N" and "invalid 198.18.1.N
 * weight=1 reason=flood" (N in 0..15, so the engine tracks few sources;
 * 198.18.1.0/24 is trusted in abuse.sh, so the flood bans nobody and the
 * state file stays small).
 * Malformed ones cycle through the kinds in bad[] plus a 2000-byte line
 * (longer than the 512-byte limit; the receiver's buffer truncates it).
 * Prints one line of key=value pairs: valid, malformed, errors, seconds,
 * per_s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LONG_LINE 2000

struct dgram {
	const char *p;
	size_t len;
};

#define D(s)                                                                   \
	{                                                                      \
		s, sizeof(s) - 1                                               \
	}
static const struct dgram bad[] = {
	D(""),
	D("invalid"),
	D("frobnicate 198.18.0.9"),
	D("invalid 198.18.0.9 weight=0"),
	D("invalid 999.1.1.1"),
	D("good 198.18.0.9 weight=3"),
	D("invalid 198.18.0.9\nx"),
	D("invalid 198.18.0.9\0weight=5"),
	D("\xff\xfe\x80invalid 198.18.0.9"),
	D("invalid 198.18.0.9 reason=\x1b[31mred"),
};
#define N_BAD (sizeof(bad) / sizeof(bad[0]))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	unsigned long count, valid = 0, malformed = 0, errors = 0;
	char good[16][64], inval[16][64], longline[LONG_LINE];
	double t0, dt;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: dgflood SOCKET COUNT\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	strcpy(sun.sun_path, argv[1]);
	for (int i = 0; i < 16; i++) {
		snprintf(good[i], sizeof(good[i]), "good 198.18.100.%d", i);
		snprintf(inval[i], sizeof(inval[i]),
			 "invalid 198.18.1.%d weight=1 reason=flood", i);
	}
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "invalid 198.18.0.9 reason=", 26);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		perror("dgflood: connect");
		return 1;
	}
	t0 = now_s();
	for (unsigned long i = 0; i < count; i++) {
		const char *p;
		size_t len;
		ssize_t n;

		if (i % 2 == 0) {
			const char *v = (i / 2) % 2 ? inval[(i / 4) % 16]
						    : good[(i / 4) % 16];

			p = v;
			len = strlen(v);
		} else if ((i / 2) % (N_BAD + 1) == N_BAD) {
			p = longline;
			len = sizeof(longline);
		} else {
			p = bad[(i / 2) % (N_BAD + 1)].p;
			len = bad[(i / 2) % (N_BAD + 1)].len;
		}
		do
			n = send(fd, p, len, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			errors++;
			continue;
		}
		if (i % 2 == 0)
			valid++;
		else
			malformed++;
	}
	dt = now_s() - t0;
	printf("valid=%lu malformed=%lu errors=%lu seconds=%.3f per_s=%.0f\n",
	       valid, malformed, errors, dt, (double)(valid + malformed) / dt);
	close(fd);
	return errors ? 1 : 0;
}
