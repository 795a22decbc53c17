#!/usr/bin/env python3
"""sizes.py DIR MTIME — for every file the caller sees: st_size must equal the
number of bytes read, st_mtime must equal MTIME (epoch seconds) and the mode
must be a regular file -r--r--r--. Prints one line per mismatch and then
"checked N"."""
import os
import stat
import sys

d, want_mtime = sys.argv[1], int(sys.argv[2])
n = 0
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    st = os.stat(p)
    with open(p, "rb") as fh:
        data = fh.read()
    if st.st_size != len(data):
        print("%s: st_size %d, read %d bytes" % (name, st.st_size, len(data)))
    if st.st_mtime != want_mtime or st.st_mtime_ns != want_mtime * 10**9:
        print("%s: mtime %s, want %d" % (name, st.st_mtime_ns, want_mtime))
    if st.st_mode != stat.S_IFREG | 0o444:
        print("%s: mode %s, want -r--r--r--" % (name, stat.filemode(st.st_mode)))
    n += 1
print("checked", n)
