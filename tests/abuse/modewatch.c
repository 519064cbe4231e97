// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * modewatch - watch files' permission bits as fast as stat() allows.
 *
 *   modewatch PATH...
 *
 * Polls lstat() on every PATH in a tight loop until SIGTERM/SIGINT, then
 * prints one line per PATH: "PATH polls=N seen=M modes=0755:12,0660:99812"
 * (every distinct mode observed while the file existed, with how many
 * polls saw it, in the order first seen). Used by tests/netns/abuse.sh to
 * catch a socket that exists, even for microseconds, with wider
 * permissions than it ends up with (bind() before chmod()).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PATHS 8
#define MAX_MODES 16

struct watched {
	const char *path;
	unsigned long polls, seen;
	int n_modes;
	unsigned mode[MAX_MODES];
	unsigned long count[MAX_MODES];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void note(struct watched *w, unsigned mode)
{
	int i;

	w->seen++;
	for (i = 0; i < w->n_modes; i++) {
		if (w->mode[i] == mode) {
			w->count[i]++;
			return;
		}
	}
	if (w->n_modes < MAX_MODES) {
		w->mode[w->n_modes] = mode;
		w->count[w->n_modes++] = 1;
	}
}

int main(int argc, char **argv)
{
	struct watched w[MAX_PATHS];
	struct sigaction sa;
	int n = argc - 1;

	if (n < 1 || n > MAX_PATHS) {
		fprintf(stderr, "usage: modewatch PATH... (at most %d)\n",
			MAX_PATHS);
		return 2;
	}
	memset(w, 0, sizeof(w));
	for (int i = 0; i < n; i++)
		w[i].path = argv[i + 1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		for (int i = 0; i < n; i++) {
			struct stat st;

			w[i].polls++;
			if (lstat(w[i].path, &st) == 0)
				note(&w[i], (unsigned)(st.st_mode & 07777));
		}
	}
	for (int i = 0; i < n; i++) {
		printf("%s polls=%lu seen=%lu modes=", w[i].path, w[i].polls,
		       w[i].seen);
		for (int m = 0; m < w[i].n_modes; m++)
			printf("%s%04o:%lu", m ? "," : "", w[i].mode[m],
			       w[i].count[m]);
		printf("\n");
	}
	return 0;
}
