#!/usr/bin/env python3
"""xattrs.py PATH... — the extended-attribute calls that ls -l, cp -a, tar and
backup tools make, none of which reads one of our values: for each PATH, getxattr
of security.selinux, system.posix_acl_access and system.posix_acl_default,
listxattr, and a size probe (getxattr with a NULL buffer) of
user.protocolfs.deadline. Prints one line per call: "<call> <result>" where the
result is the size, or the errno name."""
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = ctypes.c_ssize_t

for path in sys.argv[1:]:
    for name in ("security.selinux", "system.posix_acl_access", "system.posix_acl_default"):
        try:
            print("getxattr", name, len(os.getxattr(path, name)))
        except OSError as e:
            print("getxattr", name, errno.errorcode[e.errno])
    try:
        print("listxattr", " ".join(os.listxattr(path)) or "(none)")
    except OSError as e:
        print("listxattr", errno.errorcode[e.errno])
    n = libc.getxattr(path.encode(), b"user.protocolfs.deadline", None, 0)
    print("probe user.protocolfs.deadline",
          n if n >= 0 else errno.errorcode[ctypes.get_errno()])
