#!/usr/bin/env python3
"""probe.py OP PATH [ARG] — one file-system call, its result on one line.

Prints "OK <result>" or the errno's symbolic name (ENOENT, EACCES, ...), so a
shell test compares the answer of a single syscall exactly, whoever runs it.
  listdir PATH          sorted os.listdir
  stat PATH / lstat PATH   "OK <octal mode> <size>"
  open PATH             open O_RDONLY, read all: "OK <bytes read>"
  listxattr PATH        "OK <sorted names, comma separated>"
  getxattr PATH NAME    "OK <value>"
"""
import errno
import os
import sys


def run(op, path, arg):
    if op == "listdir":
        return ",".join(sorted(os.listdir(path)))
    if op in ("stat", "lstat"):
        st = (os.stat if op == "stat" else os.lstat)(path)
        return "%o %d" % (st.st_mode, st.st_size)
    if op == "open":
        fd = os.open(path, os.O_RDONLY)
        try:
            n = 0
            while True:
                b = os.read(fd, 65536)
                if not b:
                    break
                n += len(b)
            return str(n)
        finally:
            os.close(fd)
    if op == "listxattr":
        return ",".join(sorted(os.listxattr(path)))
    if op == "getxattr":
        return os.getxattr(path, arg).decode()
    raise SystemExit("probe.py: unknown op " + op)


def main():
    op, path = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        print("OK " + run(op, path, arg))
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))


main()
