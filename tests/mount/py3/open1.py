#!/usr/bin/env python3
"""open1.py PATH... — open each PATH read-only, read it to the end and close it;
print one line per PATH: "ok <bytes>" or "errno <NAME>" (from the open or the
read). Run it as the user under test (setpriv)."""
import errno
import os
import sys

for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        print("errno", errno.errorcode.get(e.errno, str(e.errno)))
        continue
    n = 0
    try:
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            n += len(b)
        print("ok", n)
    except OSError as e:
        print("errno", errno.errorcode.get(e.errno, str(e.errno)), "after", n, "bytes")
    finally:
        os.close(fd)
sys.stdout.flush()
