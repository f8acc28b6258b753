#!/usr/bin/env python3
"""Calls per request to one function (default `malloc`), from two callgrind runs.

    for n in 2000 4000; do
      valgrind --tool=callgrind --callgrind-out-file=cg.$n $CARGO_TARGET_DIR/release/bench-server profile axum-hookwise $n
    done
    bench/tools/callgrind-calls.py cg.2000 cg.4000 [malloc]

Per request = (calls in the 4000 run - calls in the 2000 run) / 2000: setup cancels.
Counts every call site's `calls=` line whose callee is the function (by name, or
`file:name`); callgrind names a function once, by id, and then by id alone.
"""
import re, sys

def calls(path, name):
    names, total, callee = {}, 0, None
    for line in open(path, errors="replace"):
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
        if m:
            kind, fid, fname = m.groups()
            if fname:
                names[fid] = fname.strip()
            callee = names.get(fid) if kind == "cfn" else None
        elif line.startswith("calls=") and callee is not None:
            if callee == name or callee.endswith(":" + name):
                total += int(line.split("=", 1)[1].split()[0])
            callee = None
    return total

small, large = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else "malloc"
print(f"{name}: {(calls(large, name) - calls(small, name)) / 2000:.2f} calls per request")
