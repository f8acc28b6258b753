#!/usr/bin/env python3
"""memcpy/memmove per request of a bench-server variant, by call site and size.

    gcc -O2 -shared -fPIC -o /tmp/memcpy-count.so bench/tools/memcpy-count.c -ldl
    cargo build --profile bench -p hookwise-bench-http   # line tables for addr2line
    bench/tools/memcpy-count.py $CARGO_TARGET_DIR/release/bench-server axum-hookwise

Runs `profile <variant> 2000` and `4000` under the counting shim; per request =
the difference / 2000 (setup cancels). Call sites are named with addr2line.
"""
import os, sys, subprocess, collections
binary, variant = sys.argv[1], sys.argv[2]
def run(n):
    out=f"/tmp/mc.{variant}.{n}.txt"
    subprocess.run([binary,"profile",variant,str(n)],env={"MC_ON":"1","MC_OUT":out,"LD_PRELOAD":os.environ.get("MC_SO","/tmp/memcpy-count.so"),"PATH":"/usr/bin"},capture_output=True)
    d={}
    for l in open(out):
        c,sz,off,obj=l.split(); d[(off,int(sz),obj)]=int(c)
    return d
a=run(2000); b=run(4000)
per={k:(b[k]-a.get(k,0))/2000 for k in b if b[k]-a.get(k,0)>=1000}
offs=sorted({k[0] for k in per if k[2].endswith("bench-server")})
sym={}
if offs:
    # One address at a time: with -i each gives a variable number of lines.
    for o in offs:
        r=subprocess.run(["addr2line","-f","-i","-C","-e",binary,hex(int(o,16)-1)],capture_output=True,text=True).stdout.strip().split("\n")
        frames=[(r[i],r[i+1]) for i in range(0,len(r)-1,2)]
        sym[o]=" <- ".join(f"{f.split('::')[-2] if '::' in f else f}::{f.split('::')[-1][:30]}@{l.split('/')[-1]}" for f,l in frames[:3])
tot_calls=sum(per.values()); tot_bytes=sum(v*k[1] for k,v in per.items())
print(f"{variant}: {tot_calls:.1f} memcpy/memmove calls per request, {tot_bytes:.0f} bytes")
for k,v in sorted(per.items(), key=lambda kv:-kv[1]*kv[0][1]):
    print(f"{v:5.1f} x {k[1]:6d} B  {sym.get(k[0],k[2].split('/')[-1])[:200]}")
