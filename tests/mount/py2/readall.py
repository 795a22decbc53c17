#!/usr/bin/env python3
"""readall.py MODE FILE — print FILE's bytes as read through one access path:
  read      open(FILE, "rb").read()
  text      open(FILE, encoding="utf-8").read() (decoded, re-encoded)
  copyfile  shutil.copyfile (sendfile) into a temporary file, then that file
  mmap      mmap.mmap(MAP_PRIVATE) of the whole file
"""
import mmap
import os
import shutil
import sys
import tempfile

mode, path = sys.argv[1], sys.argv[2]
out = sys.stdout.buffer
if mode == "read":
    with open(path, "rb") as fh:
        out.write(fh.read())
elif mode == "text":
    with open(path, encoding="utf-8") as fh:
        out.write(fh.read().encode("utf-8"))
elif mode == "copyfile":
    with tempfile.TemporaryDirectory() as d:
        dst = os.path.join(d, "copy")
        shutil.copyfile(path, dst)
        with open(dst, "rb") as fh:
            out.write(fh.read())
elif mode == "mmap":
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size:
            with mmap.mmap(fh.fileno(), size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ) as m:
                out.write(m[:])
else:
    raise SystemExit("readall.py: unknown mode " + mode)
