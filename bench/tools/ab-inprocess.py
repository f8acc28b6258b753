#!/usr/bin/env python3
"""Interleaved in-process A/B of bench-server binaries (one core, `taskset -c 1`).

    bench/tools/ab-inprocess.py ROUNDS N BIN1 [BIN2 ...] -- VARIANT...

Each round runs `BIN profile VARIANT N` for every binary and variant (every
other round in reverse order) and reads its µs/request. Prints the median and
best round of each, the paired differences of the later binaries against the
first (mean ± 95 % CI), per binary each variant against the first one, and
each hookwise variant against each other one (paired by round).
"""
import subprocess, sys, re, statistics as st
args=sys.argv[1:]; rounds=int(args[0]); n=args[1]; sep=args.index('--')
bins=args[2:sep]; variants=args[sep+1:]
res={(b,v):[] for b in bins for v in variants}
for r in range(rounds):
    order=[(b,v) for v in variants for b in bins]
    if r%2: order.reverse()
    for b,v in order:
        out=subprocess.run(['taskset','-c','1',b,'profile',v,n],capture_output=True,text=True); out=out.stdout+out.stderr
        m=re.search(r'\(([\d.]+) µs/request',out)
        if not m: sys.exit(f"{b} profile {v}: no timing in its output:\n{out}")
        res[(b,v)].append(float(m.group(1)))
for v in variants:
    for b in bins:
        x=res[(b,v)]; print(f"{v:22} {b.split('/')[-1]:24} median {st.median(x):.3f} best {min(x):.3f}  all {' '.join(f'{y:.2f}' for y in x)}")
    for b in bins[1:]:
        d=[y-x for x,y in zip(res[(bins[0],v)],res[(b,v)])]
        m=st.mean(d); ci=1.96*st.stdev(d)/len(d)**0.5 if len(d)>1 else 0
        print(f"{'':22} {b.split('/')[-1]} - {bins[0].split('/')[-1]}: {m:+.3f} ± {ci:.3f} µs (lower in {sum(1 for z in d if z<0)} of {len(d)})")
base=bins[0]
for b in bins:
    for v in variants[1:]:
        d=[y-x for x,y in zip(res[(b,variants[0])],res[(b,v)])]
        m=st.mean(d); ci=1.96*st.stdev(d)/len(d)**0.5 if len(d)>1 else 0
        print(f"{b.split('/')[-1]:24} {v} - {variants[0]}: {m:+.3f} ± {ci:.3f}")
# Each hookwise variant against every other variant of the run (paired by
# round): "ahead of the hand-written check" needs this, not two intervals
# against plain.
for b in bins:
    for h in (v for v in variants if 'hookwise' in v):
        for v in (v for v in variants if 'hookwise' not in v and v != variants[0]):
            d=[x-y for x,y in zip(res[(b,h)],res[(b,v)])]
            m=st.mean(d); ci=1.96*st.stdev(d)/len(d)**0.5 if len(d)>1 else 0
            print(f"{b.split('/')[-1]:24} {h} - {v}: {m:+.3f} ± {ci:.3f} (lower in {sum(1 for z in d if z<0)} of {len(d)})")
