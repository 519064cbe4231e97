// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bare.bpf.c - the floors peerwall is measured against: a program that only
 * passes and one that only drops. Benchmarks only; never attached in
 * production.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bare_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

SEC("xdp")
int bare_drop(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_DROP;
}
