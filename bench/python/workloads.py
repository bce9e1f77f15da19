#!/usr/bin/env python3
"""The bench workloads on Python's concurrent.futures.

Runs each workload of ../main.go on a ThreadPoolExecutor ("py-thread") and a
ProcessPoolExecutor ("py-process") and prints every repetition as JSON on
stdout, in the units of the Go table:

    {"batch": {"py-thread": [ns per task, ...], "py-process": [...]}, ...}

Python is two orders of magnitude slower per call than the Go pools, so the
trivial workloads run fewer calls (the sizes are printed in the JSON under
"sizes"); per-call figures do not depend on the count once it is in the
thousands. The pending-memory figure comes from a fresh interpreter per pool,
as in Go.

    python3 python/workloads.py [--quick] [--only KEY ...]
"""

import argparse
import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

FULL = dict(thread_tasks=20_000, process_tasks=5_000, value_tasks=50_000, thread_rtt=5_000, process_rtt=1_000,
            pending=200_000, hash=20, sleeps=10_000, sleep=0.010, sleep_pool=100, reps=3, slow_reps=3)
QUICK = dict(thread_tasks=500, process_tasks=200, value_tasks=4_000, thread_rtt=200, process_rtt=100,
             pending=5_000, hash=8, sleeps=200, sleep=0.010, sleep_pool=100, reps=1, slow_reps=1)

WORKERS = 4  # as the Go pools of the trivial workloads
SUBMITTERS = 64


def inc(x):
    return x + 1


@dataclass
class Record:
    """The struct of the struct rows: the fields of the Go record."""
    id: int
    name: str
    values: list


def record_inc(r):
    return Record(r.id + 1, r.name, [v + 1 for v in r.values])


def run_map_values(structs, chunksize):
    """Map on a ProcessPoolExecutor of inc, or of record_inc over Records, in chunks (None: the default, 1)."""

    def run(kind, n):
        kw = {} if chunksize is None else {"chunksize": chunksize}
        with new_pool(kind, WORKERS) as ex:
            warm(ex, WORKERS)
            if not structs:
                start = time.perf_counter()
                total = sum(ex.map(inc, range(n), **kw))
                check(total, n * (n + 1) // 2)
                return per_item(start, n)
            records = (Record(i, "record", [float(i + j) for j in range(8)]) for i in range(n))
            start = time.perf_counter()
            for i, r in enumerate(ex.map(record_inc, records, **kw)):
                check((r.id, r.values[7]), (i + 1, float(i + 8)))
            return per_item(start, n)

    return run


def nap(args):
    x, seconds = args
    time.sleep(seconds)
    return x + 1


def hash_one(n):
    """The walk-through's CPU-bound task: PBKDF2-SHA256, 10,000 x i rounds for i in 1..n-1."""
    for i in range(1, n):
        hashlib.pbkdf2_hmac("sha256", b"password", b"salt", i * 10000)
    return n + 1


def new_pool(kind, workers, **kw):
    if kind == "py-thread":
        return cf.ThreadPoolExecutor(max_workers=workers, **kw)
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"), **kw)


def warm(ex, workers):
    """Start every worker, so that start-up is not measured (the Go pools are warm after a few calls)."""
    list(ex.map(inc, range(workers * 2)))


def per_item(start, n):
    return (time.perf_counter() - start) * 1e9 / n


def check(got, want):
    if got != want:
        raise SystemExit(f"wrong result: {got} != {want}")


def run_fire(kind, n):
    ex = new_pool(kind, WORKERS)
    warm(ex, WORKERS)
    start = time.perf_counter()
    for i in range(n):
        ex.submit(inc, i)
    ex.shutdown(wait=True)
    return per_item(start, n)


def run_batch(kind, n):
    with new_pool(kind, WORKERS) as ex:
        warm(ex, WORKERS)
        start = time.perf_counter()
        fs = [ex.submit(inc, i) for i in range(n)]
        for i, f in enumerate(fs):
            check(f.result(), i + 1)
        return per_item(start, n)


def run_rtt(kind, n):
    with new_pool(kind, WORKERS) as ex:
        warm(ex, WORKERS)
        start = time.perf_counter()
        for i in range(n):
            check(ex.submit(inc, i).result(), i + 1)
        return per_item(start, n)


def run_map(kind, n):
    with new_pool(kind, WORKERS) as ex:
        warm(ex, WORKERS)
        start = time.perf_counter()
        total = sum(ex.map(inc, range(n)))
        check(total, n * (n + 1) // 2)
        return per_item(start, n)


def run_map_unordered(kind, n):
    with new_pool(kind, WORKERS) as ex:
        warm(ex, WORKERS)
        start = time.perf_counter()
        fs = [ex.submit(inc, i) for i in range(n)]
        total = sum(f.result() for f in cf.as_completed(fs))
        check(total, n * (n + 1) // 2)
        return per_item(start, n)


def run_submitters(kind, n):
    per = n // SUBMITTERS
    with new_pool(kind, WORKERS) as ex:
        warm(ex, WORKERS)
        errors = []

        def submitter():
            fs = [ex.submit(inc, i) for i in range(per)]
            for i, f in enumerate(fs):
                if f.result() != i + 1:
                    errors.append(i)

        threads = [threading.Thread(target=submitter) for _ in range(SUBMITTERS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise SystemExit("submitters: wrong results")
        return per_item(start, per * SUBMITTERS)


def run_hash(kind, n):
    workers = os.cpu_count()
    with new_pool(kind, workers) as ex:
        warm(ex, workers)
        start = time.perf_counter()
        fs = [ex.submit(hash_one, i) for i in range(n)]
        for i, f in enumerate(fs):
            check(f.result(), i + 1)
        return (time.perf_counter() - start) * 1e3


def run_hash_sequential(n):
    start = time.perf_counter()
    for i in range(n):
        check(hash_one(i), i + 1)
    return (time.perf_counter() - start) * 1e3


def run_sleep(kind, sz):
    with new_pool(kind, sz["sleep_pool"]) as ex:
        warm(ex, sz["sleep_pool"])
        start = time.perf_counter()
        fs = [ex.submit(nap, (i, sz["sleep"])) for i in range(sz["sleeps"])]
        for i, f in enumerate(fs):
            check(f.result(), i + 1)
        return (time.perf_counter() - start) * 1e3


def vm_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmRSS")


_gate = None


def _set_gate(gate):
    global _gate
    _gate = gate


def block(x):
    _gate.wait()
    return x + 1


def pending_child(kind, n):
    """Block the only worker, submit n calls that stay pending, report bytes per pending future."""
    ctx = multiprocessing.get_context("fork")
    gate = ctx.Event() if kind == "py-process" else threading.Event()
    ex = new_pool(kind, 1, initializer=_set_gate, initargs=(gate,))
    blocker = ex.submit(block, 0)
    while not blocker.running():
        time.sleep(0.001)
    fs = [None] * n
    import gc
    gc.collect()
    rss0 = vm_rss()
    start = time.perf_counter()
    for i in range(n):
        fs[i] = ex.submit(inc, i)
    submit_ns = per_item(start, n)
    gc.collect()
    rss1 = vm_rss()
    gate.set()
    check(blocker.result(), 1)
    for i, f in enumerate(fs):
        check(f.result(), i + 1)
    ex.shutdown()
    print(json.dumps({"rss_per": (rss1 - rss0) / n, "submit_ns_per": submit_ns}))


def measure_pending(kind, n):
    out = subprocess.run([sys.executable, __file__, "--pending-child", kind, "--n", str(n)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["rss_per"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--pending-child")
    ap.add_argument("--n", type=int)
    a = ap.parse_args()
    if a.pending_child:
        pending_child(a.pending_child, a.n)
        return
    sz = QUICK if a.quick else FULL
    want = lambda key: not a.only or key in a.only
    res = {}

    def add(key, kind, v):
        res.setdefault(key, {}).setdefault(kind, []).append(v)

    kinds = ("py-thread", "py-process")
    tasks = lambda kind: sz["thread_tasks"] if kind == "py-thread" else sz["process_tasks"]
    fast = [("fire", run_fire, tasks), ("batch", run_batch, tasks),
            ("rtt", run_rtt, lambda kind: sz["thread_rtt"] if kind == "py-thread" else sz["process_rtt"]),
            ("map", run_map, tasks), ("map_unordered", run_map_unordered, tasks),
            ("submitters", run_submitters, tasks)]
    for key, fn, size in fast:
        if not want(key):
            continue
        print(f"py {key}", file=sys.stderr)
        for _ in range(sz["reps"]):
            for kind in kinds:
                add(key, kind, fn(kind, size(kind)))
    values = [("map_proc", False, None), ("map_proc_c1", False, 1), ("map_proc_c1000", False, 1000),
              ("map_struct", True, None), ("map_struct_c1", True, 1), ("map_struct_c1000", True, 1000)]
    for key, structs, chunksize in values:
        if not want(key):
            continue
        print(f"py {key}", file=sys.stderr)
        run = run_map_values(structs, chunksize)
        for _ in range(sz["reps"]):
            add(key, "py-process", run("py-process", sz["value_tasks"]))
    if want("pending_rss"):
        print("py pending_rss", file=sys.stderr)
        for _ in range(sz["slow_reps"]):
            for kind in kinds:
                add("pending_rss", kind, measure_pending(kind, sz["pending"]))
    if want("pbkdf2"):
        print("py pbkdf2", file=sys.stderr)
        for _ in range(sz["slow_reps"]):
            add("pbkdf2", "py-sequential", run_hash_sequential(sz["hash"]))
            for kind in kinds:
                add("pbkdf2", kind, run_hash(kind, sz["hash"]))
    if want("sleep"):
        print("py sleep", file=sys.stderr)
        for _ in range(sz["slow_reps"]):
            for kind in kinds:
                add("sleep", kind, run_sleep(kind, sz))
    res["sizes"] = {k: [float(v)] for k, v in sz.items()}
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
