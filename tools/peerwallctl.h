/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * peerwallctl.h - what peerwallctl's multi-request commands (capture,
 * evidence: tools/ctl_evidence.c) share with its main file: one request
 * and its checked response, and the exit codes.
 */
#ifndef PW_PEERWALLCTL_H
#define PW_PEERWALLCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define EXIT_OK	   0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Send req (not consumed) to the agent at sock and parse the response.
 * 0 with *resp (the caller puts it) when it says ok; otherwise EXIT_FAIL
 * with the agent's or the transport's reason in err. */
int ctl_call(const char *sock, json_object *req, json_object **resp, char *err,
	     size_t errlen);

/* `capture` and `evidence`: argv[0] is the command. Exit codes above. */
int ctl_capture_main(const char *sock, int argc, char **argv, bool json);
int ctl_evidence_main(const char *sock, int argc, char **argv, bool json);

#endif /* PW_PEERWALLCTL_H */
