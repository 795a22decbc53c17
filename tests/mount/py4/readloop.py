#!/usr/bin/env python3
"""readloop.py FILE OLD NEW STOP — until STOP exists (at most 30 s): open FILE,
read it to the end in 7-byte preads, close; classify each pass as "old" (the
bytes of file OLD), "new" (the bytes of file NEW), "mix" (anything else) or the
errno name of the failing call. Prints one line "KIND COUNT" per kind seen
(sorted), then "last KIND"."""
import errno
import os
import sys
import time

path, oldf, newf, stop = sys.argv[1:5]
old = open(oldf, "rb").read()
new = open(newf, "rb").read()
seen = {}
last = None
deadline = time.monotonic() + 30
while not os.path.exists(stop) and time.monotonic() < deadline:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            buf = b""
            while True:
                b = os.pread(fd, 7, len(buf))
                if not b:
                    break
                buf += b
        finally:
            os.close(fd)
        kind = "old" if buf == old else "new" if buf == new else "mix"
    except OSError as e:
        kind = errno.errorcode.get(e.errno, str(e.errno))
    seen[kind] = seen.get(kind, 0) + 1
    last = kind
for k in sorted(seen):
    print(k, seen[k])
print("last", last)
