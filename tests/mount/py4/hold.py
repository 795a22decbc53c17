#!/usr/bin/env python3
"""hold.py FILE READY GO — open FILE, read it, map it (MAP_SHARED) and read the
mapping, create READY, wait (at most 60 s) until GO exists, then report, one line
each, what the held descriptor and the existing mapping give now:

  pread <ERRNO> | pread same | pread other <n>   (the file's size, then 64 KiB)
  mmap SIGBUS | mmap same | mmap zeros | mmap other | mmap <ERRNO>
  sendfile <ERRNO> | sendfile 0 | sendfile same <n> | sendfile other <n>

The mapping is read in a forked child, so that a SIGBUS ends only the child."""
import errno
import mmap
import os
import signal
import sys
import time


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


path, ready, go = sys.argv[1:4]
fd = os.open(path, os.O_RDONLY)
old = os.pread(fd, 65536, 0)
m = mmap.mmap(fd, len(old), mmap.MAP_SHARED, mmap.PROT_READ)
if m[:] != old:
    print("setup mmap differs")
open(ready, "w").close()
for _ in range(1200):
    if os.path.exists(go):
        break
    time.sleep(0.05)

for size in (len(old), 65536):
    try:
        b = os.pread(fd, size, 0)
        print("pread same" if b == old else "pread other %d" % len(b))
    except OSError as e:
        print("pread " + ename(e))

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    try:
        b = m[: len(old)]
        res = "same" if b == old else ("zeros" if b == bytes(len(b)) else "other")
    except OSError as e:
        res = ename(e)
    except BaseException as e:  # noqa: BLE001
        res = type(e).__name__
    os.write(w, res.encode())
    os._exit(0)
os.close(w)
res = os.read(r, 100).decode()
os.close(r)
_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    print("mmap " + signal.Signals(os.WTERMSIG(status)).name)
else:
    print("mmap " + (res or "nothing"))

r, w = os.pipe()
try:
    n = os.sendfile(w, fd, 0, len(old))
    if n == 0:
        print("sendfile 0")
    else:
        b = os.read(r, n)
        print(("sendfile same %d" if old.startswith(b) else "sendfile other %d") % n)
except OSError as e:
    print("sendfile " + ename(e))
os.close(r)
os.close(w)
m.close()
os.close(fd)
