#!/usr/bin/env python3
"""ordercheck.py STRACE_LOG FUSE_FD AUDIT_FD — log-before-reply checker (test plan
Appendix B) over the output of

  strace -f -qq -xx -s 64 -e trace=read,write,writev,fdatasync,fsync -e signal=none -p PID -o LOG

For every FUSE_OPEN (opcode 14) and FUSE_OPENDIR (27) request read from FUSE_FD
whose reply (writev to FUSE_FD with the same unique) has error 0 — a grant — it
requires, between the read of the request and the start of the reply:
  - a write(AUDIT_FD) > 0 in the same thread (the line), and
  - after that write returned, an fdatasync/fsync(AUDIT_FD) = 0 that started after
    it and returned before the reply (in any thread: group commit lets one
    thread flush for all).
Prints, per opcode: "<name> granted <n> unlogged <n> unflushed <n>" where unlogged
counts grants with no line written before the reply, and unflushed grants whose
line was not flushed before the reply (unlogged ones included)."""
import re
import struct
import sys

OPS = {14: "open", 27: "opendir"}
LINE = re.compile(r"^(\d+)\s+(.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
NAME = re.compile(r"^(\w+)\((\d+)?")
RESULT = re.compile(r"\)\s+=\s+(-?\d+)(?:\s.*)?$")
HEX = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')


def calls(path):
    pending = {}
    out = []
    with open(path) as fh:
        for idx, raw in enumerate(fh):
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            tid, rest = m.group(1), m.group(2)
            r = RESUMED.match(rest)
            if r:
                p = pending.pop(tid, None)
                if p is not None:
                    out.append(finish(tid, p[0] + r.group(2), p[1], idx))
            elif rest.endswith("<unfinished ...>"):
                pending[tid] = (rest[:-len("<unfinished ...>")], idx)
            elif not rest.endswith("<detached ...>"):
                out.append(finish(tid, rest, idx, idx))
    return [c for c in out if c]


def finish(tid, text, start, end):
    n = NAME.match(text)
    r = RESULT.search(text)
    if not n or not r:
        return None
    h = HEX.search(text)
    data = bytes(int(x, 16) for x in h.group(1).split("\\x")[1:]) if h else b""
    return {"tid": tid, "name": n.group(1), "fd": int(n.group(2)) if n.group(2) else -1,
            "res": int(r.group(1)), "data": data, "start": start, "end": end}


def main():
    path, fuse_fd, audit_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cs = calls(path)
    requests = {}  # unique -> (opcode, tid, end of the read)
    stats = {op: [0, 0, 0] for op in OPS}
    writes = [c for c in cs if c["name"] == "write" and c["fd"] == audit_fd and c["res"] > 0]
    syncs = [c for c in cs if c["name"] in ("fdatasync", "fsync") and c["fd"] == audit_fd
             and c["res"] == 0]
    for c in cs:
        if c["fd"] != fuse_fd:
            continue
        if c["name"] == "read" and c["res"] >= 16 and len(c["data"]) >= 16:
            _, opcode, unique = struct.unpack_from("<IIQ", c["data"])
            if opcode in OPS:
                requests[unique] = (opcode, c["tid"], c["end"])
        elif c["name"] == "writev" and len(c["data"]) >= 16:
            _, error, unique = struct.unpack_from("<IiQ", c["data"])
            req = requests.pop(unique, None)
            if req is None or error != 0:
                continue
            opcode, tid, rend = req
            st = stats[opcode]
            st[0] += 1
            mine = [w for w in writes if w["tid"] == tid and rend < w["end"] < c["start"]]
            if not mine:
                st[1] += 1
                st[2] += 1
                continue
            w = mine[-1]
            if not any(s["start"] > w["end"] and s["end"] < c["start"] for s in syncs):
                st[2] += 1
    for op, name in OPS.items():
        print("%s granted %d unlogged %d unflushed %d" % (name, *stats[op]))


if __name__ == "__main__":
    main()
