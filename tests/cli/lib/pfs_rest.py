#!/usr/bin/env python3
"""pfs_rest.py — what a dataset file gives away at rest (tests/cli/rest.sh).

  pfs_rest.py needles CSV [--purged-before DATE | --kept-from DATE]
      the byte strings that would identify the persons of CSV: every id and every
      field value, each as UTF-8 in its plain, lowercase, NFC and NFD forms; per id
      also its BLAKE2b-256 and SHA-256 (whole and first 8 bytes) and the pairs
      shared_on+id (the date as text and as the civil-day number, i32le, on either
      side). Strings shorter than 5 bytes are left out: random ciphertext holds
      them by chance (a 300 KB file holds a given 4-byte string with p ~ 1e-4).
      With --purged-before / --kept-from only the rows shared before / on or after
      DATE; with --purged-before, strings that also occur in a kept row (a common
      first name, a language, a street) are left out, since the kept persons'
      plaintext holds them. Prints nothing; used by the modes below.
  pfs_rest.py find CSV FILE [--public TERMS] [row filter]
      "N of M strings found" for the needles of CSV in FILE's bytes, then the
      kind and CSV line of each string found (never the value). With --public,
      strings that occur in the file TERMS (the protocol definition, whose
      strings the signed header carries in the clear) are left out first: a
      first name "Helen" lowercased is in "Mechelen".
  pfs_rest.py ids CSV [--purged-before DATE | --kept-from DATE]
      the ids of the (selected) rows, one a line, sorted bytewise.
  pfs_rest.py decrypt KEY PFS OUT
      an independent reader of format 2 (README.md, "Dataset format"), through
      libsodium by ctypes: opens the file key with the recipient secret key KEY
      (unprotected key files only), decrypts every id and every record body the
      file still holds and writes all plaintext to OUT, one record per line:
      id, then the values. Prints "present P, purged Q, decrypted P".
"""
import base64
import ctypes
import ctypes.util
import datetime
import hashlib
import struct
import sys
import unicodedata

MIN = 5


def rows(csv):
    text = open(csv, encoding="utf-8-sig").read()
    sep = ";" if text.split("\n", 1)[0].count(";") else ","
    out, row, field, q, i, line, start = [], [], "", False, 0, 1, 1
    # a small RFC 4180 reader (the sample quotes fields holding ; " or line breaks)
    while i < len(text):
        c = text[i]
        if q:
            if c == '"' and text[i + 1:i + 2] == '"':
                field += '"'
                i += 1
            elif c == '"':
                q = False
            else:
                field += c
                line += c == "\n"
        elif c == '"':
            q = True
        elif c == sep:
            row.append(field)
            field = ""
        elif c == "\r":
            pass
        elif c == "\n":
            row.append(field)
            out.append((start, row))
            row, field = [], ""
            line += 1
            start = line
        else:
            field += c
        i += 1
    if field or row:
        row.append(field)
        out.append((start, row))
    return out[0][1], out[1:]


def forms(v):
    fs = set()
    for s in (v, v.lower()):
        for t in (s, unicodedata.normalize("NFC", s), unicodedata.normalize("NFD", s)):
            fs.add(t.encode("utf-8"))
    return fs


def civil_day(date):
    return (datetime.date.fromisoformat(date) - datetime.date(1970, 1, 1)).days


def needles(csv, flt=None):
    head, body = rows(csv)
    idc, dc = head.index("dossiernummer"), head.index("gedeeld_op")
    out = set()
    for line, r in body:
        if flt and not flt(r[dc]):
            continue
        pid = r[idc]
        for k, v in enumerate(r):
            for b in forms(v):
                out.add(("id" if k == idc else head[k], line, b))
        b = pid.encode()
        for name, d in (("blake2b(id)", hashlib.blake2b(b, digest_size=32).digest()),
                        ("sha256(id)", hashlib.sha256(b).digest())):
            out.add((name, line, d))
            out.add((name + "[:8]", line, d[:8]))
        day = struct.pack("<i", civil_day(r[dc]))
        date = r[dc].encode()
        for pair in (b + day, day + b, b + date, date + b, date + b";" + b, b + b";" + date):
            out.add(("shared_on+id", line, pair))
    return [n for n in out if len(n[2]) >= MIN]


def select(csv, args):
    if not args:
        return needles(csv)
    if len(args) == 2 and args[0] == "--kept-from":
        return needles(csv, lambda d: d >= args[1])
    if len(args) == 2 and args[0] == "--purged-before":
        kept = b"\n".join(n[2] for n in needles(csv, lambda d: d >= args[1]))
        return [n for n in needles(csv, lambda d: d < args[1]) if n[2] not in kept]
    sys.exit("pfs_rest.py: bad row filter")


def find(csv, path, args):
    data = open(path, "rb").read()
    public = b""
    if len(args) >= 2 and args[0] == "--public":
        public = open(args[1], "rb").read()
        args = args[2:]
    ns = [n for n in select(csv, args) if n[2] not in public]
    hits = [n for n in ns if n[2] in data]
    print(f"{len(hits)} of {len(ns)} strings found")
    for kind, line, _ in sorted(hits)[:20]:
        print(f"  {kind} of line {line}")


def sodium():
    lib = ctypes.CDLL(ctypes.util.find_library("sodium"))
    if lib.sodium_init() < 0:
        sys.exit("pfs_rest.py: sodium_init failed")
    return lib


def decrypt(keyfile, path, out):
    lib = sodium()
    blob = base64.b64decode(open(keyfile).read().splitlines()[1])
    # "PF" 'R' 'S' 'N' keyid[8] salt[16] opslimit memlimit nonce[24] sk[32] pk[32]
    if len(blob) != 133 or blob[:5] != b"PFRSN":
        sys.exit("pfs_rest.py: not an unprotected recipient secret key")
    sk, pk = blob[69:101], blob[101:133]
    d = open(path, "rb").read()
    if d[:8] != b"PFSDATA2":
        sys.exit("pfs_rest.py: not a format 2 dataset")
    hl = struct.unpack_from("<I", d, 8)[0]
    h = d[12:12 + hl]
    n = struct.unpack_from("<I", h, 64)[0]
    uuid, serial, sealed = h[20:36], h[36:44], h[100:180]
    off = 180
    for _ in range(4):  # protocol id, issuer, recipient, timezone
        off += 1 + h[off]
    nfields = h[off]
    fk = ctypes.create_string_buffer(32)
    if lib.crypto_box_seal_open(fk, sealed, ctypes.c_ulonglong(80), pk, sk) != 0:
        sys.exit("pfs_rest.py: the file key does not open with this key")
    idk, bodyk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    lib.crypto_kdf_derive_from_key(idk, ctypes.c_size_t(32), ctypes.c_uint64(1), b"pfsdata2", fk)
    lib.crypto_kdf_derive_from_key(bodyk, ctypes.c_size_t(32), ctypes.c_uint64(2), b"pfsdata2", fk)
    moff = 12 + hl + 64
    flags = d[moff + 36 * n:moff + 37 * n]
    cur = moff + 37 * n
    lines, present = [], 0
    for i in range(n):
        if not flags[i]:
            continue
        present += 1
        ul = 4 + struct.unpack_from("<I", d, cur)[0]
        u = d[cur:cur + ul]
        if hashlib.blake2b(u, digest_size=32).digest() != d[moff + 36 * i + 4:moff + 36 * i + 36]:
            sys.exit(f"pfs_rest.py: record {i + 1}: commitment mismatch")
        nonce = u[4:28]
        pid = ctypes.create_string_buffer(64)
        ad = uuid + serial
        if lib.crypto_aead_chacha20poly1305_ietf_decrypt(
                pid, None, None, u[28:108], ctypes.c_ulonglong(80), ad,
                ctypes.c_ulonglong(len(ad)), nonce[:12], idk) != 0:
            sys.exit(f"pfs_rest.py: record {i + 1}: id does not decrypt")
        pid = pid.raw.rstrip(b"\0")
        body = u[108:]
        plain = ctypes.create_string_buffer(len(body))
        ad = uuid + serial + pid
        if lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
                plain, None, None, body, ctypes.c_ulonglong(len(body)), ad,
                ctypes.c_ulonglong(len(ad)), nonce, bodyk) != 0:
            sys.exit(f"pfs_rest.py: record {i + 1}: values do not decrypt")
        p, off, vals = plain.raw[:len(body) - 16], 0, []
        for _ in range(nfields):
            vl = struct.unpack_from("<H", p, off)[0]
            vals.append(p[off + 2:off + 2 + vl])
            off += 2 + vl
        if len(p) % 32 or len(p) - off >= 32 or any(p[off:]):
            sys.exit(f"pfs_rest.py: record {i + 1}: bad padding")
        lines.append(b"\t".join([pid] + vals))
        cur += ul
    open(out, "wb").write(b"\n".join(lines) + b"\n")
    print(f"present {present}, purged {n - present}, decrypted {len(lines)}")


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "find":
        find(a[1], a[2], a[3:])
    elif len(a) in (2, 4) and a[0] == "ids":
        head, body = rows(a[1])
        idc, dc = head.index("dossiernummer"), head.index("gedeeld_op")
        keep = {"--purged-before": lambda d: d < a[3], "--kept-from": lambda d: d >= a[3]}
        f = keep[a[2]] if len(a) == 4 else (lambda d: True)
        print("\n".join(sorted((r[idc] for _, r in body if f(r[dc])), key=lambda x: x.encode())))
    elif len(a) == 4 and a[0] == "decrypt":
        decrypt(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)
