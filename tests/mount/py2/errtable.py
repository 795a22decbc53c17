#!/usr/bin/env python3
"""errtable.py DIR FILE — try every mutating call on a read-only mount.

DIR is the mount point, FILE an existing file in it that the caller can see.
Prints one line per call: "<call> <errno name>", or "<call> SUCCEEDED" when the
call returned without an error (which must never happen).
"""
import errno
import os
import sys

d, f = sys.argv[1], sys.argv[2]
new = os.path.join(d, "nieuw.txt")
newdir = os.path.join(d, "nieuwe-map")


def rofd(fn):
    fd = os.open(f, os.O_RDONLY)
    try:
        fn(fd)
    finally:
        os.close(fd)


calls = [
    ("open_wronly", lambda: os.close(os.open(f, os.O_WRONLY))),
    ("open_rdwr", lambda: os.close(os.open(f, os.O_RDWR))),
    ("open_rdonly_trunc", lambda: os.close(os.open(f, os.O_RDONLY | os.O_TRUNC))),
    ("open_creat_excl", lambda: os.close(os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))),
    ("mkdir", lambda: os.mkdir(newdir)),
    ("rmdir", lambda: os.rmdir(f)),
    ("unlink", lambda: os.unlink(f)),
    ("rename", lambda: os.rename(f, new)),
    ("link", lambda: os.link(f, new)),
    ("symlink", lambda: os.symlink(f, new)),
    ("chmod", lambda: os.chmod(f, 0o666)),
    ("chown", lambda: os.chown(f, os.getuid(), os.getgid())),
    ("truncate", lambda: os.truncate(f, 0)),
    ("utime", lambda: os.utime(f, (0, 0))),
    ("mknod", lambda: os.mknod(new, 0o600 | 0o100000)),
    ("mkfifo", lambda: os.mkfifo(new)),
    ("setxattr", lambda: os.setxattr(f, "user.x", b"1")),
    ("removexattr", lambda: os.removexattr(f, "user.protocolfs.reason")),
    ("posix_fallocate", lambda: rofd(lambda fd: os.posix_fallocate(fd, 0, 4096))),
]
for name, fn in calls:
    try:
        fn()
        print(name, "SUCCEEDED")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, str(e.errno)))
