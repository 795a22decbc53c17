#!/usr/bin/env python3
"""fdloop.py N FILE... — N times open, read all and close each FILE in turn."""
import os
import sys

n, files = int(sys.argv[1]), sys.argv[2:]
for i in range(n):
    fd = os.open(files[i % len(files)], os.O_RDONLY)
    while os.read(fd, 65536):
        pass
    os.close(fd)
print("done", n)
