#!/usr/bin/env python3
"""strictlines.py FILE... — every line of every FILE must decode as strict UTF-8
and parse as one JSON object; print "N lines" or the first bad line's file:number."""
import json
import sys

n = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for i, raw in enumerate(f.read().split(b"\n")[:-1], 1):
            try:
                obj = json.loads(raw.decode("utf-8", errors="strict"))
                assert isinstance(obj, dict)
            except Exception as e:  # noqa: BLE001 - any failure is the answer
                print("%s:%d: %s" % (path, i, type(e).__name__))
                sys.exit(1)
            n += 1
print(n, "lines")
