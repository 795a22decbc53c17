#!/usr/bin/env python3
"""holdopen.py FILE READY GO — open FILE, create READY, wait (at most 20 s) until
GO exists, then read 64 bytes through the open descriptor, print them (or the
errno name), close and exit 0."""
import errno
import os
import sys
import time

path, ready, go = sys.argv[1:4]
fd = os.open(path, os.O_RDONLY)
open(ready, "w").close()
for _ in range(400):
    if os.path.exists(go):
        break
    time.sleep(0.05)
try:
    sys.stdout.write(os.pread(fd, 64, 0).decode("utf-8", "replace"))
except OSError as e:
    sys.stdout.write(errno.errorcode.get(e.errno, str(e.errno)))
os.close(fd)
