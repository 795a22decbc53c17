#!/usr/bin/env python3
"""auditlog.py — read protocolfs audit logs for the tests (python3 stdlib only).

  norm LOG...            every line, checked for form (key order, ts, prev, mac)
                         and printed again without ts, prev and mac: compact JSON
                         with the keys in the file's order. A line that is not
                         well formed prints as "BAD <file>:<n>: <why>".
  count EVENT RESULT LOG...
                         "<user> <n>" per user (sorted) for the lines with that
                         event and result (a caller-less line counts as "-").
  seqs LOG...            "seq 1..N contiguous" or "seq gap: ..." naming the break.
  field N KEY LOG...     the value of KEY on the line with seq N (JSON).
  last LOG...            the last line's seq.
  lastline LOG           the last line's seq and event ("12 open").
  checkload LOADJSON FROMSEQ MODE THREADS LOG...
                         compare load.py's client-side counts with the allowed
                         "open" lines after seq FROMSEQ, per user. MODE exact:
                         prints "<user> <successes> <lines>" per user. MODE killed
                         (the daemon was killed mid-load, so a line may exist whose
                         answer never arrived): prints "covered" when every user has
                         at least as many lines as successes and the surplus is at
                         most the number of in-flight opens (THREADS), else details.
  macinfo STATE KEYFILE N LOG...
                         for line N: whether its mac equals the keyed BLAKE2b-256
                         of the line's prefix under (a) the key in the state file
                         (bytes 48..80) and (b) the verify key ratcheted N-1 times:
                         prints "state <yes|no> ratchet <yes|no>".
"""
import hashlib
import json
import re
import signal
import sys

KEYS = ["seq", "ts", "event", "result", "reason", "uid", "user", "pid", "comm", "profile",
        "path", "record", "fields", "detail"]
REVOKE = ["revoke_from", "revoke_to"]
TAIL = ["prev", "mac"]
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
RATCHET_LABEL = b"protocolfs audit ratchet v1"


def lines(files):
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        for n, raw in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else
                                data.split(b"\n"), 1):
            yield f, n, raw


def parse(raw):
    pairs = json.loads(raw.decode("utf-8"), object_pairs_hook=list)
    return pairs


def form_error(pairs):
    keys = [k for k, _ in pairs]
    want = KEYS + (REVOKE if "revoke_from" in keys else []) + TAIL
    if keys != want:
        return "keys %s" % ",".join(keys)
    d = dict(pairs)
    if not isinstance(d["seq"], int):
        return "seq not an integer"
    if not isinstance(d["ts"], str) or not TS.match(d["ts"]):
        return "ts %r" % (d["ts"],)
    if not HEX64.match(d["prev"]) or not HEX64.match(d["mac"]):
        return "prev/mac not 64 hex"
    if not isinstance(d["fields"], list):
        return "fields not a list"
    caller = d["uid"] is not None
    for k in ("user", "pid", "comm"):
        if (d[k] is not None) != caller:
            return "uid/%s disagree" % k
    return None


def cmd_norm(files):
    for f, n, raw in lines(files):
        try:
            pairs = parse(raw)
        except ValueError as e:
            print("BAD %s:%d: not JSON (%s)" % (f, n, e))
            continue
        err = form_error(pairs)
        if err:
            print("BAD %s:%d: %s" % (f, n, err))
            continue
        out = [(k, v) for k, v in pairs if k not in ("ts", "prev", "mac")]
        print("{" + ",".join(json.dumps(k) + ":" + json.dumps(v, ensure_ascii=False,
                                                               separators=(",", ":"))
                             for k, v in out) + "}")


def records(files):
    for f, n, raw in lines(files):
        yield dict(parse(raw))


def cmd_count(event, result, files):
    counts = {}
    for d in records(files):
        if d["event"] == event and d["result"] == result:
            u = d["user"] if d["user"] is not None else "-"
            counts[u] = counts.get(u, 0) + 1
    for u in sorted(counts):
        print(u, counts[u])


def cmd_seqs(files):
    want = 1
    for d in records(files):
        if d["seq"] != want:
            print("seq gap: expected %d, found %d" % (want, d["seq"]))
            return
        want += 1
    print("seq 1..%d contiguous" % (want - 1))


def cmd_field(seq, key, files):
    for d in records(files):
        if d["seq"] == seq:
            print(json.dumps(d.get(key), ensure_ascii=False, separators=(",", ":")))
            return
    print("no line %d" % seq)


def cmd_last(files):
    last = None
    for d in records(files):
        last = d
    print(last["seq"] if last else 0)


def cmd_lastline(files):
    last = None
    for d in records(files):
        last = d
    print("%d %s" % (last["seq"], last["event"]) if last else "none")


def cmd_checkload(loadjson, fromseq, mode, threads, files):
    with open(loadjson) as fh:
        load = json.load(fh)
    lines_by = {}
    for d in records(files):
        if d["seq"] > fromseq and d["event"] == "open" and d["result"] == "allowed":
            lines_by[d["user"]] = lines_by.get(d["user"], 0) + 1
    users = sorted(set(load) | set(lines_by))
    if mode == "exact":
        for u in users:
            print(u, load.get(u, {}).get("ok", 0), lines_by.get(u, 0))
        return
    bad = [u for u in users if lines_by.get(u, 0) < load.get(u, {}).get("ok", 0)]
    surplus = sum(lines_by.values()) - sum(v["ok"] for v in load.values())
    if bad or surplus > threads:
        print("not covered: " + " ".join("%s:%d/%d" % (u, load.get(u, {}).get("ok", 0),
                                                         lines_by.get(u, 0)) for u in users),
              "surplus", surplus)
    else:
        print("covered")


def mac_of(key, prefix):
    return hashlib.blake2b(prefix, digest_size=32, key=key).hexdigest()


def cmd_macinfo(state, keyfile, seq, files):
    with open(state, "rb") as fh:
        skey = fh.read()[48:80]
    with open(keyfile) as fh:
        key = bytes.fromhex(fh.read().strip())
    for _ in range(seq - 1):
        key = hashlib.blake2b(RATCHET_LABEL, digest_size=32, key=key).digest()
    for f, n, raw in lines(files):
        if dict(parse(raw))["seq"] != seq:
            continue
        cut = raw.rindex(b'","mac":"')  # the MAC covers the line up to here
        want = raw[cut + 9:cut + 9 + 64].decode()
        print("state %s ratchet %s" % ("yes" if mac_of(skey, raw[:cut]) == want else "no",
                                       "yes" if mac_of(key, raw[:cut]) == want else "no"))
        return
    print("no line %d" % seq)


def main(argv):
    cmd = argv[1]
    if cmd == "norm":
        cmd_norm(argv[2:])
    elif cmd == "count":
        cmd_count(argv[2], argv[3], argv[4:])
    elif cmd == "seqs":
        cmd_seqs(argv[2:])
    elif cmd == "field":
        cmd_field(int(argv[2]), argv[3], argv[4:])
    elif cmd == "last":
        cmd_last(argv[2:])
    elif cmd == "lastline":
        cmd_lastline(argv[2:])
    elif cmd == "checkload":
        cmd_checkload(argv[2], int(argv[3]), argv[4], int(argv[5]), argv[6:])
    elif cmd == "macinfo":
        cmd_macinfo(argv[2], argv[3], int(argv[4]), argv[5:])
    else:
        raise SystemExit("auditlog.py: unknown command " + cmd)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head is fine
    main(sys.argv)
