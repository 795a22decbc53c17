#!/usr/bin/env python3
"""fdpass.py — which view a passed or inherited file descriptor carries (TESTPLAN
test 11), run as root.

  fdpass.py SCENARIO MNT OPENER RECEIVER...

The documented rule (DESIGN.md, fs.c): a descriptor carries the view of the user
who opened it; passing it on is the opener's disclosure. So for every record:
  - the opener passes its fd over an AF_UNIX socket (SCM_RIGHTS); a receiver reads
    through it (pread, sendfile, mmap MAP_PRIVATE) exactly the opener's view;
  - a receiver that opens the path itself gets its own view (or EACCES without a
    profile), on another inode, and the passed fd still reads the opener's view;
  - a receiver that re-opens the passed fd through /proc/self/fd/N makes a new open
    of the opener's node, which the daemon must refuse: EACCES (never the opener's
    view); the opener doing the same gets its own view (control);
  - an fd opened as OPENER (effective ids) and kept across a full setuid to the
    receiver reads the opener's view.

Each check prints one "PASS name" or "FAIL name: why" line; exit 1 if any failed."""
import errno
import os
import pwd
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import views  # noqa: E402
from worker import Worker, become, describe, errname, read_all  # noqa: E402

FAILED = False


def report(name, probs):
    global FAILED
    if probs:
        FAILED = True
        print(f'FAIL {name}: ' + '; '.join(probs[:5]) +
              (f' (+{len(probs) - 5} more)' if len(probs) > 5 else ''))
    else:
        print(f'PASS {name}')
    sys.stdout.flush()


def short(user):
    return user.replace('pfs_', '')


def same_bytes(probs, what, got, want):
    if got != want:
        probs.append(f'{what}: got {got!r}, want {want!r}')


def passed_fd_checks(scenario, mnt, opener, receiver):
    """Checks on a descriptor passed from OPENER to RECEIVER over SCM_RIGHTS."""
    s_open, s_recv = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    wa = Worker(opener, sock=s_open, close_socks=(s_recv,))
    wb = Worker(receiver, sock=s_recv, close_socks=(s_open,))
    s_open.close()
    s_recv.close()
    tag = f'{scenario}_fdpass_{short(opener)}_to_{short(receiver)}'
    p = {k: [] for k in ('read', 'sendfile', 'map', 'own_open', 'proc_reopen',
                         'proc_reopen_control')}
    observed = set()
    for record in views.records(scenario):
        path = os.path.join(mnt, record + '.txt')
        va = views.view(scenario, opener, record)
        vb = views.view(scenario, receiver, record)
        oa = wa.call('open', path=path, slot='a')
        if 'fd' not in oa:
            p['read'].append(f'{record}: opener open: {describe(oa)}')
            continue
        wa.send('sendfd', slot='a')
        rb = wb.call('recvfd', slot='a')
        if wa.recv() != {} or 'fd' not in rb:
            p['read'].append(f'{record}: passing the fd failed: {describe(rb)}')
            continue
        # through the passed fd: the opener's view, by every read path
        for op, key in (('read', 'read'), ('sendfile', 'sendfile')):
            ans = wb.call(op, slot='a')
            same_bytes(p[key], f'{record} {op}', ans.get('data', describe(ans)), va)
        m = wb.call('map', slot='a')
        t = wb.call('touch', slot='a') if 'len' in m else m
        same_bytes(p['map'], f'{record} mmap', t.get('data', describe(t)), va)
        # the receiver's own open: its own view on another node; the passed fd
        # keeps the opener's
        ob = wb.call('open', path=path, slot='b')
        if vb is None:
            if ob.get('errno') != errno.EACCES:
                p['own_open'].append(f'{record}: own open {describe(ob)}, want EACCES')
        elif 'fd' not in ob:
            p['own_open'].append(f'{record}: own open: {describe(ob)}')
        else:
            same_bytes(p['own_open'], f'{record} own open', wb.call('read', slot='b').get('data'),
                       vb)
            if ob['ino'] == oa['ino']:
                p['own_open'].append(f'{record}: own fd and passed fd share inode {ob["ino"]}')
            if ob['size'] != len(vb):
                p['own_open'].append(f'{record}: own st_size {ob["size"]}, want {len(vb)}')
            wb.call('close', slot='b')
        again = wb.call('read', slot='a')
        same_bytes(p['own_open'], f'{record} passed fd after own open',
                   again.get('data', describe(again)), va)
        # /proc/self/fd/N: a new open of the opener's node by the receiver
        pr = wb.call('open', path=f'/proc/self/fd/{rb["fd"]}', slot='p')
        if 'fd' in pr:
            got = wb.call('read', slot='p')
            wb.call('close', slot='p')
            observed.add(f'opened ino {pr["ino"]}')
            p['proc_reopen'].append(f'{record}: re-open succeeded (ino {pr["ino"]}, passed fd ino '
                                    f'{oa["ino"]}) and read {describe(got)}, want EACCES')
        else:
            observed.add(describe(pr))
            if pr.get('errno') != errno.EACCES:
                p['proc_reopen'].append(f'{record}: re-open gave {describe(pr)}, want EACCES')
        # control: the opener re-opening its own fd through /proc gets its view
        pc = wa.call('open', path=f'/proc/self/fd/{oa["fd"]}', slot='c')
        got = wa.call('read', slot='c') if 'fd' in pc else pc
        same_bytes(p['proc_reopen_control'], f'{record} opener re-open',
                   got.get('data', describe(got)), va)
        if 'fd' in pc:
            wa.call('close', slot='c')
        wa.call('close', slot='a')
        wb.call('close', slot='a')
    for k, probs in p.items():
        report(f'{tag}_{k}', probs)
    print(f'# {tag}: /proc/self/fd re-open by the receiver: {", ".join(sorted(observed))}')
    for w in (wa, wb):
        if not w.quit():
            report(f'{tag}_workers_exit', [f'worker {w.user} did not exit cleanly'])


def setuid_inherit(scenario, mnt, opener, receiver):
    """Open as OPENER (effective ids, real root kept), then become RECEIVER for good
    and read through the inherited fd: the opener's view."""
    name = f'{scenario}_setuid_inherit_{short(opener)}_to_{short(receiver)}'
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            pw = pwd.getpwnam(opener)
            out = []
            fds = {}
            os.setgroups(sorted(set(os.getgrouplist(opener, pw.pw_gid))))
            os.setresgid(0, pw.pw_gid, 0)
            os.setresuid(0, pw.pw_uid, 0)
            for record in views.records(scenario):
                fds[record] = os.open(os.path.join(mnt, record + '.txt'), os.O_RDONLY)
            os.setresuid(0, 0, 0)
            become(receiver)
            for record, fd in fds.items():
                out.append(f'{record} {read_all(fd).hex()}')
            os.write(w, '\n'.join(out).encode())
            os._exit(0)
        except BaseException as e:
            os.write(w, f'ERROR {e!r}'.encode())
            os._exit(1)
    os.close(w)
    data = b''
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        data += b
    os.close(r)
    _, status = os.waitpid(pid, 0)
    probs = []
    text = data.decode()
    if os.waitstatus_to_exitcode(status) != 0 or text.startswith('ERROR'):
        probs.append(f'child: {text}')
    else:
        got = dict(line.split(' ', 1) for line in text.splitlines())
        for record in views.records(scenario):
            same_bytes(probs, record, bytes.fromhex(got.get(record, '')),
                       views.view(scenario, opener, record))
    report(name, probs)


def main(argv):
    scenario, mnt, opener, receivers = argv[1], argv[2], argv[3], argv[4:]
    for receiver in receivers:
        passed_fd_checks(scenario, mnt, opener, receiver)
        setuid_inherit(scenario, mnt, opener, receiver)
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
