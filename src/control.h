/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control.h - the control socket: JSON request line in, JSON line out.
 */
#ifndef PW_CONTROL_H
#define PW_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct pw_agent;

/* Create, bind and listen on the configured socket (0660, group
 * control_group). Returns the listening fd or -errno. */
int pw_control_listen(struct pw_agent *a);

/* Bind an AF_UNIX socket at path (replacing a stale file) with mode 0660
 * from the start: the file never exists with a wider mode. */
int pw_unix_bind_0660(int fd, const char *path);

/* Root, or a member of control_group (changes allowed). */
bool pw_control_may_mutate(const struct pw_agent *a, const struct ucred *c);

/* Handle one request line from a peer with these credentials; returns a
 * malloc'd response line (no newline), NULL only when out of memory. */
char *pw_control_handle(struct pw_agent *a, const char *line, size_t len,
			const struct ucred *cred);

#endif /* PW_CONTROL_H */
