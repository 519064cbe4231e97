#!/usr/bin/env bash
# make demo: until the live namespace demo lands, show the datapath and the
# agent's scoring defending a host, by replaying generated floods through
# the real XDP object and the agent's tick (peerwall-replay) and printing
# what they decided.
set -euo pipefail
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
conf=$root/tests/replay/replay.conf

say() { printf '\n== %s\n' "$*"; }

say "config: P2P ports 26656/tcp, 30303/tcp+udp; trusted 198.18.1.0/24, fd00:1::/48"
say "defaults: per source 2000 pps (burst 4000), 20 SYN/s; per /24 20000 pps; untrusted total 200000 pps, 5000 SYN/s"

say "1. one TCP and one UDP flooder (20000 pps each) beside 5 honest peers and a busy trusted peer, 3 s"
"$root/$BUILD/bin/pw-pcapgen" --scenario single-flood --out "$tmp/flood.pcap"
"$root/$BUILD/bin/peerwall-replay" --config "$conf" --pcap "$tmp/flood.pcap"

say "2. spoofed SYN flood (50000 SYN/s from 65k addresses in 198.19.0.0/16), 2 s"
"$root/$BUILD/bin/pw-pcapgen" --scenario spoofed-syn --out "$tmp/syn.pcap"
"$root/$BUILD/bin/peerwall-replay" --config "$conf" --pcap "$tmp/syn.pcap" | sed -n '1,12p'

say "3. an IPv6 flooder rotating addresses inside its /64"
"$root/$BUILD/bin/pw-pcapgen" --scenario v6-rotation --out "$tmp/v6.pcap"
"$root/$BUILD/bin/peerwall-replay" --config "$conf" --pcap "$tmp/v6.pcap"

say "summary"
cat <<'TXT'
- single-source floods: each flooder got its own bucket (burst + rate x time)
  until the agent's scoring banned it one tick in (first ban: short TTL,
  since a flood alone could be spoofed); honest and trusted peers lost
  nothing.
- spoofed SYN flood: no per-source bucket can see it, so the untrusted-global
  SYN budget caps it. That budget is shared: honest untrusted peers' new
  connections are capped with it (198.18.2.10 above). The trusted list is
  what keeps a validator's own peers whole: 198.18.1.10 lost nothing.
- IPv6: a flooder rotating inside its /64 is one source.
TXT
