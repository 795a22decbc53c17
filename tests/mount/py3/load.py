#!/usr/bin/env python3
"""load.py MNT SPEC OPENS [--kill PID AFTER] — concurrent opens by several users.

SPEC is USER:THREADS[,USER:THREADS...]. Run as root: one forked child per user
becomes that user (supplementary groups, then real/effective/saved gid and uid,
checked), then runs THREADS threads; each thread opens the person files of MNT in
turn (os.open, read to the end, close) OPENS times. An open counts as a success
once os.open has returned a descriptor (whatever the read does after).

With --kill PID AFTER, the parent sends SIGKILL to PID once AFTER opens in total
have succeeded; threads stop at their first ENOTCONN/ECONNABORTED/ENOENT.

Prints one JSON object: {"USER": {"ok": n, "errors": {"ERRNO": n}, "bytes": n,
"short": n}, ...}; "short" counts successful opens whose read returned no bytes."""
import errno
import json
import mmap
import os
import pwd
import signal
import struct
import sys
import threading
import time

STOP = {errno.ENOTCONN, errno.ECONNABORTED, errno.ENOENT}


def become(user):
    pw = pwd.getpwnam(user)
    groups = sorted(set(os.getgrouplist(user, pw.pw_gid)))
    os.setgroups(groups)
    os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
    os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    if os.getresuid() != (pw.pw_uid,) * 3 or os.getresgid() != (pw.pw_gid,) * 3:
        raise SystemExit("could not become " + user)


def run_user(user, threads, opens, files, shared, wfd):
    become(user)
    lock = threading.Lock()
    res = {"ok": 0, "errors": {}, "bytes": 0, "short": 0}

    def worker(k):
        for i in range(opens):
            path = files[(i + k) % len(files)]
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError as e:
                name = errno.errorcode.get(e.errno, str(e.errno))
                with lock:
                    res["errors"][name] = res["errors"].get(name, 0) + 1
                if e.errno in STOP:
                    return
                continue
            with lock:
                res["ok"] += 1
                with shared_lock:
                    struct.pack_into("q", shared, 0, struct.unpack_from("q", shared, 0)[0] + 1)
            n = 0
            try:
                while True:
                    b = os.read(fd, 65536)
                    if not b:
                        break
                    n += len(b)
            except OSError:
                pass
            os.close(fd)
            with lock:
                res["bytes"] += n
                if n == 0:
                    res["short"] += 1

    shared_lock = threading.Lock()  # per process; the counter is only a progress hint
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    os.write(wfd, json.dumps({user: res}).encode() + b"\n")
    os._exit(0)


def main():
    mnt, spec, opens = sys.argv[1], sys.argv[2], int(sys.argv[3])
    kill_pid = kill_after = None
    if len(sys.argv) > 4 and sys.argv[4] == "--kill":
        kill_pid, kill_after = int(sys.argv[5]), int(sys.argv[6])
    files = sorted(os.path.join(mnt, f) for f in ["INB0000001.txt", "INB0000002.txt",
                                                 "INB0000003.txt"])
    shared = mmap.mmap(-1, 8 * 64)
    rfd, wfd = os.pipe()
    kids = []
    for slot, item in enumerate(spec.split(",")):
        user, threads = item.split(":")
        view = memoryview(shared)[8 * slot:8 * slot + 8]
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            run_user(user, int(threads), opens, files, view, wfd)
        kids.append(pid)
    os.close(wfd)
    done = {}
    while kill_pid is not None:
        total = sum(struct.unpack_from("q", shared, 8 * s)[0] for s in range(len(kids)))
        if total >= kill_after:
            os.kill(kill_pid, signal.SIGKILL)
            break
        for k in kids:
            if k not in done and os.waitpid(k, os.WNOHANG)[0] == k:
                done[k] = True
        if len(done) == len(kids):
            raise SystemExit("load.py: the load ended before %d opens" % kill_after)
        time.sleep(0.001)
    out = {}
    with os.fdopen(rfd, "rb") as fh:
        for line in fh:
            out.update(json.loads(line))
    for k in kids:
        if k not in done:
            os.waitpid(k, 0)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
