"""scripts/bench paths: two slow backends (nbdkit's delay filter), one path against two, per iopolicy."""
import os
import tempfile
import time
from pathlib import Path

from .fio import fio
from .rig import Rig, median_of, write_results


def paths(args):
    """Two backends that each add latency (nbdkit's delay filter): QD64 IOPS of one path vs two paths, per policy."""
    work = Path(tempfile.mkdtemp(prefix="mpath-paths-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, delay=args.delay, image_dir=args.image_dir)
    try:
        _, port_a = rig.nbdkit_file("nbdkit-a")
        _, port_b = rig.nbdkit_file("nbdkit-b")
        a, b = f"nbd://127.0.0.1:{port_a}/", f"nbd://127.0.0.1:{port_b}/"
        gw_port, _ = rig.gateway({"one": [a],
                                  "two-queue-depth": dict(paths=[a, b], iopolicy="queue-depth"),
                                  "two-round-robin": dict(paths=[a, b], iopolicy="round-robin")}, args.policy)
        targets = {"one-path": "one", "two-paths-queue-depth": "two-queue-depth",
                   "two-paths-round-robin": "two-round-robin"}
        prof = dict(rw=args.rw, bs="4k", iodepth=args.qd)
        results = {t: [] for t in targets}
        for rnd in range(args.rounds):
            order = list(targets) if rnd % 2 == 0 else list(reversed(targets))
            for t in order:
                r = fio(f"nbd://127.0.0.1:{gw_port}/{targets[t]}", prof, args.runtime, f"{args.size_mib}m")
                results[t].append(r)
                print(f"round {rnd + 1} {t:22} {r['iops']:9.0f} IOPS p50 {r['p50']:7.0f} us p99 {r['p99']:7.0f} us",
                      flush=True)
        one = median_of(results["one-path"], "iops")
        lines = [f"# scripts/bench paths ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
                 f"machine: {os.cpu_count()} cores, {os.uname().release}; fio {args.rw} 4k QD{args.qd}, "
                 f"{args.rounds} interleaved rounds x {args.runtime}s, median per cell; each backend is nbdkit "
                 f"(file plugin, default threads) with the delay filter adding {args.delay} per request", "",
                 "| target | IOPS | p50 us | p99 us | vs one path |", "|---|---|---|---|---|"]
        summary = {}
        for t, runs in results.items():
            iops = median_of(runs, "iops")
            summary[t] = dict(iops=iops, p50=median_of(runs, "p50"), p99=median_of(runs, "p99"),
                              vs_one=iops / one if one else 0)
            lines.append(f"| {t} | {iops:.0f} | {summary[t]['p50']:.0f} | {summary[t]['p99']:.0f} | "
                         f"{summary[t]['vs_one']:.2f} |")
        write_results(args, "paths.md", lines, summary)
    finally:
        rig.close()
