#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""ctlabuse - hostile clients for peerwalld's control socket.

    ctlabuse.py SOCKET SCENARIO [ARGS...]

Prints one JSON object with what happened; tests/netns/abuse.sh asserts on
it. No assertions here: this file only measures.

Every scenario that keeps abusers connected runs a probe next to them: a
well-behaved client asking `status` every 100 ms on a fresh connection
(what `peerwallctl status` does) and timing the round trip. Its result
says whether the agent kept serving others and kept ticking:

  probe: {n, failed, failures: [why...], max_ms, p50_ms, seconds}
  ticks_during, tick_ms_max: the agent's own tick count over the scenario
          and its longest tick (from status before and after)

Scenarios:
  probe SECONDS            only the probe, for SECONDS (next to an abuser
                           run elsewhere)
  request HEX              one request (hex-encoded bytes, newline added)
  bigline SIZE [valid]     one SIZE-byte line (junk, or a valid status
                           request padded to SIZE with "valid")
  nested DEPTH             {"cmd":"status","x":[[[...]]]} nested DEPTH deep
  utf8                     requests carrying invalid UTF-8, one by one
  partial SIZE SECONDS [N] SIZE bytes without a newline, held open (by N
                           clients, default 1)
  crowd N SECONDS          N clients connected and idle
  noread SECONDS           a client that pipelines requests and never reads
                           (reconnecting whenever the agent drops it)

Outcomes of a request: "ok" (a response with ok=true), "error" (a response
with ok=false), "disconnect" (closed without a response), "timeout" (no
response and still open: a hang), "garbage" (a response that is not one
JSON object per line).
"""
import json
import os
import resource
import select
import socket
import struct
import sys
import threading
import time

SOCK = None
RESP_TIMEOUT = 5.0


def connect(timeout=3.0):
    """A blocking connect: waits (up to timeout) for room in the agent's
    listen backlog, as peerwallctl does, instead of failing with EAGAIN."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", int(timeout),
                             int((timeout % 1) * 1e6)))
    try:
        s.connect(SOCK)
    except OSError:
        s.close()
        raise
    s.settimeout(timeout)
    return s


def read_line(s, timeout):
    """Read up to the first newline: (bytes or None, why)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return None, "timeout"
        except OSError as e:
            return (buf or None), "disconnect:%s" % e.strerror
        if not chunk:
            return (buf or None), "disconnect"
        buf += chunk
    return buf[: buf.index(b"\n")], "line"


def classify(raw, why):
    """Outcome of one request from the response bytes."""
    out = {"utf8_valid": True}
    if raw is None or why != "line":
        out["outcome"] = "timeout" if why == "timeout" else "disconnect"
        if raw:
            out["partial"] = raw[:200].decode("latin-1")
        return out
    try:
        raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        out["utf8_valid"] = False
    try:
        resp = json.loads(raw.decode("utf-8", errors="surrogateescape"))
    except ValueError:
        out["outcome"] = "garbage"
        out["response"] = raw[:200].decode("latin-1")
        return out
    if not isinstance(resp, dict):
        out["outcome"] = "garbage"
        return out
    out["outcome"] = "ok" if resp.get("ok") is True else "error"
    if "error" in resp:
        out["error"] = resp["error"]
    out["response"] = raw[:200].decode("latin-1")
    return out


def one_request(data, timeout=RESP_TIMEOUT):
    """Send data (+ newline) on a fresh connection; classify the answer."""
    t0 = time.monotonic()
    try:
        s = connect()
    except OSError as e:
        return {"outcome": "connect-failed", "errno": e.errno,
                "why": e.strerror}
    sent_all = True
    try:
        s.settimeout(timeout)
        s.sendall(data + b"\n")
    except OSError:
        sent_all = False  # the agent may hang up mid-send: read its answer
    raw, why = read_line(s, timeout)
    s.close()
    r = classify(raw, why)
    r["sent_all"] = sent_all
    r["ms"] = round((time.monotonic() - t0) * 1000, 1)
    return r


class Probe(threading.Thread):
    """A normal client asking status every 100 ms while abusers run."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.lat, self.failures = [], []
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop.is_set():
            r = one_request(b'{"cmd":"status"}', timeout=3.0)
            if r["outcome"] == "ok":
                self.lat.append(r["ms"])
            else:
                self.failures.append("%s after %.0f ms" % (r["outcome"],
                                                           r.get("ms", 0)))
            self.stop.wait(0.1)

    def result(self):
        self.stop.set()
        self.join(10)
        lat = sorted(self.lat)
        return {
            "n": len(lat) + len(self.failures),
            "failed": len(self.failures),
            "failures": self.failures[:5],
            "max_ms": lat[-1] if lat else None,
            "p50_ms": lat[len(lat) // 2] if lat else None,
            "seconds": round(time.monotonic() - self.t0, 2),
        }


def status():
    """One status answer as a dict (None if none came)."""
    try:
        s = connect()
        s.sendall(b'{"cmd":"status"}\n')
        raw, why = read_line(s, RESP_TIMEOUT)
        s.close()
        return json.loads(raw) if why == "line" else None
    except (OSError, ValueError):
        return None


def with_probe(fn):
    """Run fn() with the probe alongside; add ticks seen by status."""
    before = status()
    p = Probe()
    p.start()
    t0 = time.monotonic()
    res = fn()
    res["probe"] = p.result()
    after = status()
    res["wall_s"] = round(time.monotonic() - t0, 2)
    if before and after:
        res["ticks_during"] = after["ticks"] - before["ticks"]
        res["tick_ms_max"] = after["tick_ms_max"]
    return res


def sc_probe(seconds):
    seconds = float(seconds)
    return with_probe(lambda: time.sleep(seconds) or {})


def sc_request(hexdata):
    return one_request(bytes.fromhex(hexdata))


def sc_bigline(size, valid=None):
    size = int(size)
    if valid:
        head = b'{"cmd":"status","pad":"'
        data = head + b"p" * max(0, size - len(head) - 2) + b'"}'
    else:
        data = b"x" * size
    r = one_request(data, timeout=10)
    r["bytes"] = len(data) + 1
    return r


def sc_nested(depth):
    depth = int(depth)
    data = (b'{"cmd":"status","x":' + b"[" * depth + b"]" * depth + b"}")
    r = one_request(data)
    obj = (b'{"cmd":"status","x":' + b'{"a":' * depth + b"1" +
           b"}" * depth + b"}")
    r2 = one_request(obj)
    return {"arrays": r, "objects": r2, "depth": depth}


UTF8_CASES = [
    # (name, request bytes)
    ("stray byte in an ignored string", b'{"cmd":"status","x":"\xff\xfe"}'),
    ("truncated sequence in cmd", b'{"cmd":"\xc3"}'),
    ("overlong encoding in cmd", b'{"cmd":"st\xc1\xa1tus"}'),
    ("surrogate half (CESU) in cmd", b'{"cmd":"\xed\xa0\x80"}'),
    ("invalid byte in addr", b'{"cmd":"peer","addr":"198.18.9.9\xff"}'),
    ("invalid byte in a key", b'{"cmd":"status","\xfe":1}'),
    ("overlong encoding in an ignored string",
     b'{"cmd":"status","x":"\xc1\xa1"}'),
    ("surrogate half in an ignored string",
     b'{"cmd":"status","x":"\xed\xb0\x80"}'),
    ("code point above U+10FFFF in an ignored string",
     b'{"cmd":"status","x":"\xf4\x90\x80\x80"}'),
]


def sc_utf8():
    out = []
    for name, data in UTF8_CASES:
        r = one_request(data)
        r["case"] = name
        out.append(r)
    return {"cases": out}


def sc_partial(size, seconds, n=1):
    size, seconds, n = int(size), float(seconds), int(n)

    def push(s):
        s.setblocking(False)
        chunk, sent = b"[" * 65536, 0
        deadline = time.monotonic() + 10
        while sent < size and time.monotonic() < deadline:
            try:
                sent += s.send(chunk[: min(len(chunk), size - sent)])
            except BlockingIOError:
                select.select([], [s], [], 0.1)
            except OSError:
                break
        return sent

    def run():
        socks = [connect() for _ in range(n)]
        sent = sum(push(s) for s in socks)
        time.sleep(seconds)
        # Still connected? (a closed peer reads as EOF)
        states = {}
        for s in socks:
            r, _, _ = select.select([s], [], [], 0)
            state = "open"
            if r:
                try:
                    state = "closed" if not s.recv(4096) else "got-data"
                except OSError:
                    state = "closed"
            states[state] = states.get(state, 0) + 1
            s.close()
        return {"clients": n, "sent": sent, "held_s": seconds,
                "state_after": states}

    return with_probe(run)


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def sc_crowd(n, seconds):
    n, seconds = int(n), float(seconds)
    raise_nofile(n + 64)

    def run():
        socks, failed = [], 0
        t0 = time.monotonic()
        # Blocking connects wait for room in the listen backlog: all N
        # really reach the agent, which must accept or refuse each one.
        for _ in range(n):
            try:
                socks.append(connect(2.0))
            except OSError:
                failed += 1
        connect_s = time.monotonic() - t0
        time.sleep(seconds)
        # Who did the agent hang up on? Then ask every survivor for status:
        # each must get an answer, an error or a disconnect, never a hang.
        dropped = 0
        alive = []
        for s in socks:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                try:
                    if not s.recv(1):
                        dropped += 1
                        s.close()
                        continue
                except OSError:
                    dropped += 1
                    s.close()
                    continue
            alive.append(s)
        outcomes = {}
        for s in alive:
            try:
                s.sendall(b'{"cmd":"status"}\n')
                raw, why = read_line(s, 2.0)
                o = classify(raw, why)["outcome"]
            except OSError:
                o = "disconnect"
            outcomes[o] = outcomes.get(o, 0) + 1
            s.close()
        return {"clients": n, "connect_failed": failed,
                "connect_s": round(connect_s, 2),
                "dropped_by_agent": dropped, "still_open": len(alive),
                "final_request": outcomes}

    return with_probe(run)


def sc_noread(seconds):
    seconds = float(seconds)
    req = b'{"cmd":"status"}\n' * 4096  # 68 KiB of requests

    def run():
        conns = dropped = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                s = connect()
            except OSError:
                time.sleep(0.05)
                continue
            conns += 1
            s.setblocking(False)
            # Push requests while the agent takes them; never read.
            while time.monotonic() < deadline:
                try:
                    s.send(req)
                except BlockingIOError:
                    r, _, _ = select.select([], [s], [], 0.05)
                except OSError:
                    dropped += 1
                    break
                # EOF or a reset means the agent hung up on us.
                try:
                    if s.recv(1, socket.MSG_PEEK) == b"":
                        dropped += 1
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    dropped += 1
                    break
                time.sleep(0.01)
            s.close()
        return {"connections": conns, "dropped_by_agent": dropped}

    return with_probe(run)


SCENARIOS = {
    "probe": sc_probe,
    "request": sc_request,
    "bigline": sc_bigline,
    "nested": sc_nested,
    "utf8": sc_utf8,
    "partial": sc_partial,
    "crowd": sc_crowd,
    "noread": sc_noread,
}


def main():
    global SOCK
    if len(sys.argv) < 3 or sys.argv[2] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    SOCK = sys.argv[1]
    res = SCENARIOS[sys.argv[2]](*sys.argv[3:])
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
