"""scripts/bench iscsi: the gateway with iSCSI paths to a private tgtd against libiscsi's iscsi-perf straight to it."""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
import time

from .fio import PROFILES, fio, size_bytes
from .rig import GATEWAY_JVM, Rig, median_of, write_results
from .tgtd import LUN_BLOCK, Tgtd, tgt_version


ISCSI_PROFILES = ["randread-4k-qd16", "seqread-1m-qd8"]


def iscsi_perf_cmd(uri, profile, runtime):
    p = PROFILES[profile]
    blocks = size_bytes(p["bs"]) // LUN_BLOCK
    cmd = ["iscsi-perf", "-i", "iqn.2026-11.io.mpathnbd:iscsi-perf", "-m", str(p["iodepth"]), "-b", str(blocks),
           "-t", str(runtime)]
    if p["rw"] == "randread":
        cmd.append("-r")
    return cmd + [uri]


def iscsi_perf(uri, profile, runtime):
    """libiscsi's iscsi-perf straight to the target: reads only; its last line is the average over the whole run."""
    cmd = iscsi_perf_cmd(uri, profile, runtime)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=runtime + 60)
    text = out.stdout + out.stderr
    averages = re.findall(r"iops average (\d+) \(", text)
    if out.returncode != 0 or "finished." not in text or not averages:
        raise SystemExit(f"iscsi-perf failed (code {out.returncode}): {' '.join(cmd)}\n{text[-2000:]}")
    iops = int(averages[-1])
    # MB/s as fio reports it (10^6 bytes); iscsi-perf's own "MB/s" figure is MiB/s
    return dict(iops=iops, mbps=iops * size_bytes(PROFILES[profile]["bs"]) / 1e6, errors=0)


def iscsi(args):
    """4k random read QD16 and 1M sequential read QD8 from one tgtd: iscsi-perf straight to it against fio through
    the gateway with one and with two iSCSI paths (one per portal), interleaved."""
    missing = [t for t in ("tgtd", "tgtadm", "iscsi-perf") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"iscsi mode needs {', '.join(missing)}: apt-get install tgt libiscsi-bin")
    profiles = args.profiles or ISCSI_PROFILES
    writes = [p for p in profiles if "read" not in PROFILES[p]["rw"]]
    if writes:
        raise SystemExit(f"iscsi mode: iscsi-perf only reads, so write profiles cannot be compared: {writes}")
    work = Path(tempfile.mkdtemp(prefix="mpath-iscsi-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, image_dir=args.image_dir)
    try:
        tgt = Tgtd(rig)
        gw_port, admin_port = rig.gateway(
            {"one": [tgt.uri(0)], "two": [tgt.uri(0), tgt.uri(1)]}, args.policy,
            extra="iscsi:\n  initiator-name: iqn.2026-11.io.mpathnbd:bench-gateway")
        targets = {
            "iscsi-perf": lambda prof: iscsi_perf(tgt.uri(0), prof, args.runtime),
            "gateway-1path": lambda prof: fio(f"nbd://127.0.0.1:{gw_port}/one", prof, args.runtime,
                                              f"{args.size_mib}m"),
            "gateway-2paths": lambda prof: fio(f"nbd://127.0.0.1:{gw_port}/two", prof, args.runtime,
                                               f"{args.size_mib}m"),
        }
        if args.compare_jar:
            # a second gateway from another build (e.g. before a change), measured in the same interleaved rounds
            base_port, _ = rig.gateway(
                {"one": [tgt.uri(0)], "two": [tgt.uri(0), tgt.uri(1)]}, args.policy,
                extra="iscsi:\n  initiator-name: iqn.2026-11.io.mpathnbd:bench-compare",
                jar=Path(args.compare_jar), name="compare-gateway")
            targets["compare-1path"] = lambda prof: fio(f"nbd://127.0.0.1:{base_port}/one", prof, args.runtime,
                                                        f"{args.size_mib}m")
            targets["compare-2paths"] = lambda prof: fio(f"nbd://127.0.0.1:{base_port}/two", prof, args.runtime,
                                                         f"{args.size_mib}m")
        results = {p: {t: [] for t in targets} for p in profiles}
        for rnd in range(args.rounds):
            for profile in profiles:
                order = list(targets) if rnd % 2 == 0 else list(reversed(targets))
                for t in order:
                    r = targets[t](profile)
                    if r["errors"]:
                        raise SystemExit(f"{t} {profile}: fio reported error {r['errors']}")
                    results[profile][t].append(r)
                    print(f"round {rnd + 1} {profile:18} {t:15} {r['iops']:10.0f} IOPS {r['mbps']:9.1f} MB/s",
                          flush=True)
        iscsi_report(args, results, tgt, gw_port, work)
    finally:
        rig.close()


def iscsi_report(args, results, tgt, gw_port, work):
    lines = [f"# scripts/bench iscsi ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
             f"machine: {os.cpu_count()} cores, {os.uname().release}; rounds {args.rounds} x {args.runtime}s, "
             f"median per cell; one tgtd ({tgt_version()}), LUN 1 = {args.size_mib} MiB image file in the page "
             f"cache, portals 127.0.0.1 and 127.0.0.2; gateway iopolicy {args.policy}, JVM {' '.join(GATEWAY_JVM)}",
             "",
             "- iscsi-perf: libiscsi's reference initiator straight to tgtd (portal 127.0.0.1); its figure is the "
             "average over the whole run, fio's excludes a 1 s ramp",
             "- gateway-1path / gateway-2paths: fio `ioengine=nbd` through the gateway, whose export has one iSCSI "
             "path (portal 127.0.0.1) or two (both portals, one session each)", "",
             "| profile | target | IOPS | MB/s | p50 us | p99 us | vs iscsi-perf |", "|---|---|---|---|---|---|---|"]
    summary = {}
    for profile, per_target in results.items():
        base = median_of(per_target["iscsi-perf"], "iops")
        for t, runs in per_target.items():
            iops = median_of(runs, "iops")
            row = dict(iops=iops, mbps=median_of(runs, "mbps"), vs_iscsi_perf=iops / base if base else 0)
            if t != "iscsi-perf":
                row.update(p50=median_of(runs, "p50"), p99=median_of(runs, "p99"))
            summary.setdefault(profile, {})[t] = row
            lat = f"{row['p50']:.0f} | {row['p99']:.0f}" if "p50" in row else "- | -"
            lines.append(f"| {profile} | {t} | {row['iops']:.0f} | {row['mbps']:.1f} | {lat} | "
                         f"{row['vs_iscsi_perf']:.2f} |")
    lines += ["", "Commands of one run (the uri's port is chosen per run):", ""]
    for profile in results:
        p = PROFILES[profile]
        lines.append(f"- {profile}: `{' '.join(iscsi_perf_cmd(tgt.uri(0), profile, args.runtime))}` against "
                     f"`fio --name=bench --ioengine=nbd --uri=nbd://127.0.0.1:{gw_port}/one --rw={p['rw']} "
                     f"--bs={p['bs']} --iodepth={p['iodepth']} --size={args.size_mib}m --time_based "
                     f"--runtime={args.runtime} --ramp_time=1` (and `/two`)")
    write_results(args, "iscsi.md", lines, summary)
    print(f"logs in {work}")
