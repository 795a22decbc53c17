"""worker.py — a forked child that has become another user and runs operations on
request, so that one test can interleave two users' system calls step by step.

The child drops to the user the way gocryptfs's tests do: supplementary groups
(the user's own list, so a profile granted through a group matches), then real,
effective and saved gid, then real, effective and saved uid, and it checks all
of them before it answers anything. Requests and answers are JSON lines over two
pipes; bytes travel as hex. An OSError comes back as {"errno": N}; anything else
as {"exc": "..."}. Run as root."""
import errno
import json
import mmap
import os
import pwd
import shutil
import socket
from collections import Counter


def become(user):
    """Turn this process into USER for good (real, effective and saved ids)."""
    pw = pwd.getpwnam(user)
    groups = sorted(set(os.getgrouplist(user, pw.pw_gid)))
    os.setgroups(groups)
    os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
    os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    if (os.getresuid() != (pw.pw_uid,) * 3 or os.getresgid() != (pw.pw_gid,) * 3 or
            sorted(set(os.getgroups())) != groups):
        raise SystemExit(f'could not become {user}')
    try:
        os.setresuid(0, 0, 0)
    except PermissionError:
        return
    raise SystemExit(f'{user} could get root back')


def read_all(fd):
    """The whole file from offset 0 by pread, until end of file."""
    out, off = b'', 0
    while True:
        b = os.pread(fd, 65536, off)
        if not b:
            return out
        out, off = out + b, off + len(b)


def sendfile_all(fd):
    mfd = os.memfd_create('sf')
    try:
        off = 0
        while True:
            n = os.sendfile(mfd, fd, off, 65536)
            if n == 0:
                break
            off += n
        return read_all(mfd)
    finally:
        os.close(mfd)


def splice_all(fd):
    r, w = os.pipe()
    try:
        out, off = b'', 0
        while True:
            n = os.splice(fd, w, 65536, offset_src=off)
            if n == 0:
                return out
            off += n
            while n:
                b = os.read(r, n)
                out, n = out + b, n - len(b)
    finally:
        os.close(r)
        os.close(w)


class _Child:
    def __init__(self, sock):
        self.fds, self.maps, self.sock = {}, {}, sock

    def op_open(self, path, slot='f', flags=os.O_RDONLY):
        fd = os.open(path, flags)
        if slot in self.fds:
            os.close(self.fds[slot])
        self.fds[slot] = fd
        st = os.fstat(fd)
        return dict(fd=fd, ino=st.st_ino, size=st.st_size)

    def op_stat(self, path):
        st = os.stat(path)
        return dict(ino=st.st_ino, size=st.st_size)

    def op_fstat(self, slot='f'):
        st = os.fstat(self.fds[slot])
        return dict(ino=st.st_ino, size=st.st_size)

    def op_close(self, slot='f'):
        m = self.maps.pop(slot, None)
        if m is not None:
            m.close()
        os.close(self.fds.pop(slot))
        return {}

    def op_read(self, slot='f'):
        return dict(data=read_all(self.fds[slot]).hex())

    def op_map(self, slot='f', shared=False):
        flags = mmap.MAP_SHARED if shared else mmap.MAP_PRIVATE
        self.maps[slot] = mmap.mmap(self.fds[slot], 0, flags=flags, prot=mmap.PROT_READ)
        return dict(len=len(self.maps[slot]))

    def op_mapshared(self, slot='f'):
        return self.op_map(slot, shared=True)

    def op_touch(self, slot='f'):
        return dict(data=self.maps[slot][:].hex())

    def op_sendfile(self, slot='f'):
        return dict(data=sendfile_all(self.fds[slot]).hex())

    def op_splice(self, slot='f'):
        return dict(data=splice_all(self.fds[slot]).hex())

    def op_sendfd(self, slot='f'):
        socket.send_fds(self.sock, [b'fd'], [self.fds[slot]])
        return {}

    def op_recvfd(self, slot='f'):
        msg, fds, _, _ = socket.recv_fds(self.sock, 16, 1)
        if msg != b'fd' or len(fds) != 1:
            raise RuntimeError(f'recv_fds: {msg!r} {fds!r}')
        self.fds[slot] = fds[0]
        return dict(fd=fds[0])

    def op_copyloop(self, src, dst, n):
        """N rounds of shutil.copyfile (sendfile on Linux) and stat of SRC; counts
        each distinct copy and st_size."""
        data, sizes, errs = Counter(), Counter(), Counter()
        for _ in range(n):
            try:
                shutil.copyfile(src, dst)
                sizes[os.stat(src).st_size] += 1
                with open(dst, 'rb') as f:
                    data[f.read().hex()] += 1
            except OSError as e:
                errs[errno.errorcode.get(e.errno, str(e.errno))] += 1
        return dict(data=dict(data), sizes={str(k): v for k, v in sizes.items()},
                    errs=dict(errs))

    def run(self, rfile, wfile):
        for line in rfile:
            req = json.loads(line)
            op = req.pop('op')
            if op == 'quit':
                os._exit(0)
            try:
                ans = getattr(self, 'op_' + op)(**req)
            except OSError as e:
                ans = dict(errno=e.errno)
            except Exception as e:  # reported to the parent, which fails the check
                ans = dict(exc=repr(e))
            wfile.write(json.dumps(ans) + '\n')
            wfile.flush()
        os._exit(0)


class Worker:
    """A child process running as USER. call(op, ...) returns the answer dict."""

    def __init__(self, user, sock=None, close_socks=()):
        self.user = user
        cr, cw = os.pipe()
        rr, rw = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(cw)
                os.close(rr)
                for s in close_socks:
                    s.close()
                become(user)
                _Child(sock).run(os.fdopen(cr, 'r'), os.fdopen(rw, 'w'))
            except BaseException as e:
                os.write(2, f'worker {user}: {e!r}\n'.encode())
            finally:
                os._exit(3)
        os.close(cr)
        os.close(rw)
        self.w = os.fdopen(cw, 'w')
        self.r = os.fdopen(rr, 'r')

    def send(self, op, **kw):
        try:
            self.w.write(json.dumps(dict(op=op, **kw)) + '\n')
            self.w.flush()
        except BrokenPipeError:
            self._died()

    def _died(self):
        _, status = os.waitpid(self.pid, 0)
        raise RuntimeError(f'worker {self.user} died (exit status '
                           f'{os.waitstatus_to_exitcode(status)})')

    def recv(self):
        line = self.r.readline()
        if not line:
            self._died()
        ans = json.loads(line)
        if 'data' in ans and isinstance(ans['data'], str):
            ans['data'] = bytes.fromhex(ans['data'])
        return ans

    def call(self, op, **kw):
        self.send(op, **kw)
        return self.recv()

    def quit(self):
        """Stop the child; True when it exited 0."""
        try:
            self.w.write('{"op": "quit"}\n')
            self.w.flush()
        except BrokenPipeError:
            pass
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status) == 0


def errname(n):
    return errno.errorcode.get(n, str(n))


def describe(ans):
    """A short text for a failure message."""
    if 'errno' in ans:
        return errname(ans['errno'])
    if 'exc' in ans:
        return ans['exc']
    if 'data' in ans:
        return repr(ans['data'])
    return repr(ans)
