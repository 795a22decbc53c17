#!/usr/bin/env python3
"""xuid.py — cross-user view-leak probe (TESTPLAN test 10, 12 and A.6), run as root.

  xuid.py seq SCENARIO MNT USER_A USER_B NAME 'A:open B:open A:read B:read'
      For every record, two children (A and B) run the steps in this order. Ops:
      open, read (pread to EOF), map (mmap MAP_PRIVATE), mapshared (MAP_SHARED),
      touch (read the whole mapping), sendfile (into a memfd), splice (into a
      pipe), close. NAME is prefixed with SCENARIO in the check names. Every
      read-type result must be exactly the reader's own view (views.py), hold
      none of the values outside the reader's profile, and every open must see
      st_size == len(view).
  xuid.py copy SCENARIO MNT USER_A USER_B TMPDIR N
      Both users run N shutil.copyfile (sendfile) rounds of the same record at the
      same time, each into a file of their own; every copy must be their view.
  xuid.py warm SCENARIO MNT USER_A USER_B N
      A stats and opens R, then B at once stats and opens R (and the other way
      round), N times per record. A no-profile B is refused (EACCES) every time;
      a B with a profile gets exactly B's view. st_size equals the bytes read.
  xuid.py inodes SCENARIO MNT USER_A USER_B
      The two users' views of one file have different inode numbers.
  xuid.py mapshared SCENARIO MNT USER
      mmap(MAP_SHARED) of each record and of the information file.

Each check prints one "PASS name" or "FAIL name: why" line; exit 1 if any failed."""
import errno
import os
import pwd
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import views  # noqa: E402
from worker import Worker, describe, errname  # noqa: E402

INFO = 'LEESMIJ-README'
READ_OPS = ('read', 'touch', 'sendfile', 'splice')
FAILED = False


def report(name, problems):
    global FAILED
    if problems:
        FAILED = True
        print(f'FAIL {name}: ' + '; '.join(problems[:5]) +
              (f' (+{len(problems) - 5} more)' if len(problems) > 5 else ''))
    else:
        print(f'PASS {name}')
    sys.stdout.flush()


def short(user):
    return user.replace('pfs_', '')


def check_view(scenario, user, record, got, what):
    """Problems with GOT as USER's view of RECORD (exact match, no foreign value)."""
    want = views.view(scenario, user, record)
    probs = []
    leaked = [m.decode(errors='replace') for m in views.markers(scenario, user, record)
              if m in got]
    if leaked:
        probs.append(f'{what}: {short(user)} got values outside its profile {leaked[:4]}')
    if got != want:
        probs.append(f'{what}: {short(user)} got {got!r}, want {want!r}')
    return probs


def cmd_seq(scenario, mnt, ua, ub, name, seq):
    steps = [s.split(':') for s in seq.split()]
    users = {'A': ua, 'B': ub}
    for record in views.records(scenario):
        path = os.path.join(mnt, record + '.txt')
        w = {k: Worker(u) for k, u in users.items()}
        probs = []
        for k, op in steps:
            ans = w[k].call(op, path=path) if op == 'open' else w[k].call(op)
            what = f'{k}:{op}'
            if 'errno' in ans or 'exc' in ans:
                probs.append(f'{what} ({short(users[k])}): {describe(ans)}')
                break
            want = views.view(scenario, users[k], record)
            if op == 'open' and ans['size'] != len(want):
                probs.append(f'{what}: {short(users[k])} st_size {ans["size"]}, want {len(want)}')
            if op in ('map', 'mapshared') and ans['len'] != len(want):
                probs.append(f'{what}: {short(users[k])} mapping length {ans["len"]}, '
                             f'want {len(want)}')
            if op in READ_OPS:
                probs += check_view(scenario, users[k], record, ans['data'], what)
        for k in w:
            if not w[k].quit():
                probs.append(f'worker {k} did not exit cleanly')
        report(f'{scenario}_{name}_{short(ua)}_{short(ub)}_{record}', probs)


def cmd_copy(scenario, mnt, ua, ub, tmpdir, n):
    for record in views.records(scenario):
        path = os.path.join(mnt, record + '.txt')
        w, dst = {}, {}
        for u in (ua, ub):
            d = os.path.join(tmpdir, f'copy-{u}')
            os.makedirs(d, exist_ok=True)
            pw = pwd.getpwnam(u)
            os.chown(d, pw.pw_uid, pw.pw_gid)
            os.chmod(d, 0o700)
            dst[u] = os.path.join(d, record + '.txt')
            w[u] = Worker(u)
        for u in (ua, ub):  # both loops run at the same time
            w[u].send('copyloop', src=path, dst=dst[u], n=n)
        probs = []
        for u in (ua, ub):
            ans = w[u].recv()
            want = views.view(scenario, u, record)
            if 'errno' in ans or 'exc' in ans:
                probs.append(f'{short(u)}: {describe(ans)}')
                continue
            if ans['errs']:
                probs.append(f'{short(u)}: errors {ans["errs"]}')
            for hexdata, count in ans['data'].items():
                got = bytes.fromhex(hexdata)
                for p in check_view(scenario, u, record, got, 'copy'):
                    probs.append(f'{count}x {p}')
            if sum(ans['data'].values()) != n:
                probs.append(f'{short(u)}: {sum(ans["data"].values())} copies, want {n}')
            if ans['sizes'] != {str(len(want)): n}:
                probs.append(f'{short(u)}: st_size {ans["sizes"]}, want {len(want)} x{n}')
            if not w[u].quit():
                probs.append(f'worker {short(u)} did not exit cleanly')
        report(f'{scenario}_copyfile_{short(ua)}_{short(ub)}_{record}', probs)


def warm_one(scenario, mnt, wk, user, record, probs, tag):
    """One user stats and opens RECORD, keeping it open; returns True when it was
    opened (the caller reads and closes it later)."""
    path = os.path.join(mnt, record + '.txt')
    want = views.view(scenario, user, record)
    st = wk.call('stat', path=path)
    op = wk.call('open', path=path)
    if want is None:
        for what, ans in (('stat', st), ('open', op)):
            if ans.get('errno') != errno.EACCES:
                probs.append(f'{tag} {short(user)} {what} {record}: {describe(ans)}, want EACCES')
        return 'fd' in op
    for what, ans in (('stat', st), ('open', op)):
        if 'errno' in ans or 'exc' in ans:
            probs.append(f'{tag} {short(user)} {what} {record}: {describe(ans)}')
        elif ans['size'] != len(want):
            probs.append(f'{tag} {short(user)} {what} {record}: st_size {ans["size"]}, '
                         f'want {len(want)}')
    return 'fd' in op


def warm_finish(scenario, wk, user, record, probs, tag):
    rd = wk.call('read')
    fs = wk.call('fstat')
    wk.call('close')
    if 'data' not in rd:
        probs.append(f'{tag} {short(user)} read {record}: {describe(rd)}')
        return
    probs += check_view(scenario, user, record, rd['data'], f'{tag} read')
    if fs.get('size') != len(rd['data']):
        probs.append(f'{tag} {short(user)} {record}: st_size {fs.get("size")} but read '
                     f'{len(rd["data"])} bytes')


def cmd_warm(scenario, mnt, ua, ub, n):
    wa, wb = Worker(ua), Worker(ub)
    for order in ('AB', 'BA'):
        probs = []
        seq = [(wa, ua), (wb, ub)] if order == 'AB' else [(wb, ub), (wa, ua)]
        for i in range(n):
            for record in views.records(scenario):
                opened = [(wk, u) for wk, u in seq
                          if warm_one(scenario, mnt, wk, u, record, probs, f'#{i}')]
                for wk, u in opened:
                    warm_finish(scenario, wk, u, record, probs, f'#{i}')
        report(f'{scenario}_warm_{short(ua)}_{short(ub)}_{order}', probs)
    for wk in (wa, wb):
        wk.quit()


def cmd_inodes(scenario, mnt, ua, ub):
    wa, wb = Worker(ua), Worker(ub)
    probs, seen = [], {}
    for record in views.records(scenario):
        path = os.path.join(mnt, record + '.txt')
        ino = {}
        for wk, u in ((wa, ua), (wb, ub)):
            st, op = wk.call('stat', path=path), wk.call('open', path=path)
            if 'ino' not in st or 'ino' not in op:
                probs.append(f'{short(u)} {record}: stat {describe(st)}, open {describe(op)}')
                continue
            if st['ino'] != op['ino']:
                probs.append(f'{short(u)} {record}: stat ino {st["ino"]} != fstat ino {op["ino"]}')
            ino[u] = op['ino']
            wk.call('close')
        if len(ino) == 2 and ino[ua] == ino[ub]:
            probs.append(f'{record}: both users see inode {ino[ua]}')
        for u, i in ino.items():
            if i in seen and seen[i] != (u, record):
                probs.append(f'inode {i} is both {seen[i]} and {(u, record)}')
            seen[i] = (u, record)
    for wk in (wa, wb):
        wk.quit()
    report(f'{scenario}_inodes_differ_{short(ua)}_{short(ub)}', probs)


def cmd_mapshared(scenario, mnt, user):
    """mmap(MAP_SHARED): a person file is mapped from its own view's page cache
    (each view has its own inode, so sharing the mapping shares nothing between
    profiles) and shows exactly the user's view; the information file is
    direct_io, where the kernel refuses a shared mapping with ENODEV."""
    wk = Worker(user)
    for record in views.records(scenario) + [INFO]:
        path = os.path.join(mnt, record if record == INFO else record + '.txt')
        probs = []
        op = wk.call('open', path=path)
        if 'fd' not in op:
            probs.append(f'open: {describe(op)}')
        elif record == INFO:
            m = wk.call('map', shared=True)
            if m.get('errno') != errno.ENODEV:
                probs.append(f'mmap(MAP_SHARED) of the information file gave {describe(m)}, want ENODEV')
            wk.call('close')
        else:
            m = wk.call('map', shared=True)
            t = wk.call('touch') if 'len' in m else m
            want = views.view(scenario, user, record)
            want = want.encode() if isinstance(want, str) else want
            if t.get('data') != want:
                probs.append(f'mmap(MAP_SHARED) gave {describe(t)}, want the own view {want!r}')
            wk.call('close')
        report(f'{scenario}_map_shared_own_view_{short(user)}_{record}', probs)
    wk.quit()


def main(argv):
    cmd, scenario, mnt = argv[1], argv[2], argv[3]
    if cmd == 'seq':
        cmd_seq(scenario, mnt, argv[4], argv[5], argv[6], argv[7])
    elif cmd == 'copy':
        cmd_copy(scenario, mnt, argv[4], argv[5], argv[6], int(argv[7]))
    elif cmd == 'warm':
        cmd_warm(scenario, mnt, argv[4], argv[5], int(argv[6]))
    elif cmd == 'inodes':
        cmd_inodes(scenario, mnt, argv[4], argv[5])
    elif cmd == 'mapshared':
        cmd_mapshared(scenario, mnt, argv[4])
    else:
        sys.exit(__doc__)
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
