#!/usr/bin/env python3
"""snapshot.py DIR — the caller's whole view: every name, its mode and size,
and the sha256 of its content, one line per file (sorted)."""
import hashlib
import os
import sys

d = sys.argv[1]
for n in sorted(os.listdir(d)):
    p = os.path.join(d, n)
    st = os.stat(p)
    with open(p, "rb") as fh:
        h = hashlib.sha256(fh.read()).hexdigest()
    print(n, "%o" % st.st_mode, st.st_size, int(st.st_mtime), h)
