#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Honest traffic for `make demo` (tools/demo.sh).

  demo-traffic.py serve ADDR PORT
      A validator's P2P port, reduced to its essence: an echo service that
      answers every line on a connection, one thread per connection.

  demo-traffic.py peers --server ADDR:PORT --rate N --stats FILE SRC...
      One peer per source address. Each keeps one TCP connection (as a P2P
      peer does) and has a request/response exchange due every 1/N s of
      wall clock; a failed exchange closes the connection and the next one
      reconnects. An exchange fails when an answer (or the connection)
      takes over 0.5 s; a slot more than 0.5 s overdue (an earlier exchange
      was waiting for its timeout) fails without being tried; a slot less
      overdue is tried at once.

      FILE is replaced (atomically, every 20 ms) by one line "S OK FAILED":
      the totals of all peers over the slots due before second S (Unix
      time), written once every slot before S is settled. Each second
      therefore holds exactly N x peers slots, whatever the timing.
"""
import argparse
import os
import socket
import socketserver
import sys
import threading
import time

TIMEOUT_S = 0.5  # an answer later than this counts as a failed request
STATS_EVERY_S = 0.02  # how often FILE is replaced


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(args):
    Server((args.addr, args.port), Echo).serve_forever()


class Totals:
    """Outcomes by the second their slot was due in."""

    def __init__(self, rate):
        self.rate = rate
        self.lock = threading.Lock()
        self.by_sec = {}  # second -> [ok, failed]
        self.next_slot = {}  # peer -> its first unsettled slot
        self.done_sec = None  # totals cover the seconds before this one
        self.ok = 0
        self.failed = 0

    def start(self, peer, slot):
        with self.lock:
            self.next_slot[peer] = slot

    def settle(self, peer, slot, ok):
        with self.lock:
            counts = self.by_sec.setdefault(slot // self.rate, [0, 0])
            counts[0 if ok else 1] += 1
            self.next_slot[peer] = slot + 1

    def line(self):
        """ "S OK FAILED" for the seconds before S, S as far as settled."""
        with self.lock:
            settled = min(self.next_slot.values()) // self.rate
            if self.done_sec is None:
                self.done_sec = settled
            while self.done_sec < settled:
                ok, failed = self.by_sec.pop(self.done_sec, (0, 0))
                self.ok += ok
                self.failed += failed
                self.done_sec += 1
            return "%d %d %d\n" % (self.done_sec, self.ok, self.failed)


def exchange(sock, seq):
    msg = b"ping %d\n" % seq
    sock.sendall(msg)
    got = b""
    while not got.endswith(b"\n"):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("closed by the server")
        got += chunk
    if got != msg:
        raise ConnectionError("wrong answer")


def peer(src, server, rate, totals):
    sock = None
    # Slot k is due at k / rate seconds of Unix time; start at the next
    # whole second, so every counted second is complete.
    slot = (int(time.time()) + 1) * rate
    totals.start(src, slot)
    while True:
        late = time.time() - slot / rate
        if late < 0:
            time.sleep(-late)
        elif late > TIMEOUT_S:
            # missed while an earlier exchange waited for its timeout
            totals.settle(src, slot, False)
            slot += 1
            continue
        try:
            if sock is None:
                sock = socket.create_connection(
                    server, timeout=TIMEOUT_S, source_address=(src, 0))
            exchange(sock, slot)
            ok = True
        except OSError:
            ok = False
            if sock is not None:
                sock.close()
                sock = None
        totals.settle(src, slot, ok)
        slot += 1


def write_stats(path, totals):
    tmp = path + ".tmp"
    while True:
        line = totals.line()
        with open(tmp, "w") as f:
            f.write(line)
        os.replace(tmp, path)
        time.sleep(STATS_EVERY_S)


def peers(args):
    host, _, port = args.server.rpartition(":")
    server = (host, int(port))
    totals = Totals(args.rate)
    threads = [threading.Thread(target=peer, daemon=True,
                                args=(src, server, args.rate, totals))
               for src in args.src]
    for t in threads:
        t.start()
    while len(totals.next_slot) < len(threads):
        time.sleep(0.01)
    write_stats(args.stats, totals)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("addr")
    s.add_argument("port", type=int)
    p = sub.add_parser("peers")
    p.add_argument("--server", required=True, help="ADDR:PORT")
    p.add_argument("--rate", type=int, default=10,
                   help="exchanges per second per peer (1..100)")
    p.add_argument("--stats", required=True)
    p.add_argument("src", nargs="+")
    args = ap.parse_args()
    if args.cmd == "peers" and not 1 <= args.rate <= 100:
        ap.error("--rate %d: want 1..100" % args.rate)
    try:
        serve(args) if args.cmd == "serve" else peers(args)
    except KeyboardInterrupt:
        pass
    except OSError as e:
        print("demo-traffic.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
