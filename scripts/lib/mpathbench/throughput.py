"""scripts/bench throughput: fio against direct nbd-server, nbdkit's nbd proxy, HAProxy relaying TCP and the
gateway with one and two paths, interleaved in one run; optionally a gateway from another jar (--compare-jar) and the
same jar with other settings (--variant)."""
import json
import os
import re
import tempfile
import time
from pathlib import Path

from .fio import PROFILES, RAMP_S, fio
from .rig import Rig, median_of, proc_status


def throughput(args):
    work = Path(tempfile.mkdtemp(prefix="mpath-bench-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, image_dir=args.image_dir)
    try:
        direct_port = rig.nbd_server("nbd-server-direct")
        srv_port = rig.nbd_server("nbd-server-a")
        srv2_port = rig.nbd_server("nbd-server-b")
        proxy_port = rig.nbdkit_proxy(srv_port)
        relay_port = rig.haproxy(srv_port)
        gateway_exports = {"one": [f"nbd://127.0.0.1:{srv_port}/disk"],
                           "two": [f"nbd://127.0.0.1:{srv_port}/disk", f"nbd://127.0.0.1:{srv2_port}/disk"]}
        targets = {
            "direct": f"nbd://127.0.0.1:{direct_port}/disk",
            "nbdkit-proxy": f"nbd://127.0.0.1:{proxy_port}/",
            "haproxy-tcp": f"nbd://127.0.0.1:{relay_port}/disk",
        }
        # the process in the middle of each row (nbdkit, haproxy or a gateway), for its CPU time per request
        pids = {"nbdkit-proxy": rig.proxy_proc.pid, "haproxy-tcp": rig.relay_proc.pid}

        def add_gateway(prefix, **kw):
            port, _ = rig.gateway(gateway_exports, args.policy, **kw)
            for rows, export in ((f"{prefix}-1path", "one"), (f"{prefix}-2paths", "two")):
                targets[rows] = f"nbd://127.0.0.1:{port}/{export}"
                pids[rows] = rig.gateway_proc.pid

        add_gateway("gateway")
        if args.compare_jar:
            # a second gateway from another build (e.g. before a change), measured in the same interleaved rounds
            add_gateway("compare", jar=Path(args.compare_jar), name="compare-gateway")
        for name, yaml in variants(args):
            # the same jar with other settings, e.g. busy-poll on against off
            add_gateway(name, extra=yaml, name=f"{name}-gateway")
        profiles = args.profiles or list(PROFILES)
        results = {p: {t: [] for t in targets} for p in profiles}
        ticks = os.sysconf("SC_CLK_TCK")
        for rnd in range(args.rounds):
            for profile in profiles:
                order = list(targets) if rnd % 2 == 0 else list(reversed(targets))
                for t in order:
                    pid = pids.get(t)
                    cpu0 = proc_status(pid)[2] if pid else 0
                    r = fio(targets[t], profile, args.runtime, f"{args.size_mib}m")
                    cpu = ""
                    if pid:
                        # the proxy's CPU time over the whole fio run, ramp included, so the requests are
                        # counted over ramp + runtime at the measured rate
                        seconds = (proc_status(pid)[2] - cpu0) / ticks
                        r["proxy_cpu_us"] = seconds * 1e6 / max(r["iops"] * (args.runtime + RAMP_S), 1)
                        cpu = f" proxy CPU {r['proxy_cpu_us']:5.1f} us/req"
                    results[profile][t].append(r)
                    print(f"round {rnd + 1} {profile:18} {t:15} {r['iops']:10.0f} IOPS {r['mbps']:9.1f} MB/s "
                          f"p50 {r['p50']:6.0f} us p99 {r['p99']:8.0f} us{cpu}", flush=True)
        report(args, results, work)
    finally:
        rig.close()


def variants(args):
    """--variant NAME=YAML as (name, YAML text); a literal \\n in YAML separates lines."""
    out = []
    for spec in args.variant or []:
        name, sep, yaml = spec.partition("=")
        if not sep or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or not yaml.strip():
            raise SystemExit(f"--variant '{spec}': expected NAME=YAML, NAME of a-z, 0-9 and '-' "
                             f"(e.g. --variant 'busypoll=busy-poll: 50us')")
        if name in ("gateway", "compare") or name in (n for n, _ in out):
            raise SystemExit(f"--variant '{spec}': the name '{name}' is taken")
        out.append((name, yaml.replace("\\n", "\n")))
    return out


def report(args, results, work):
    lines = [f"# scripts/bench results ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
             f"machine: {os.cpu_count()} cores, {os.uname().release}; rounds {args.rounds} x {args.runtime}s, "
             f"median per cell; gateway iopolicy {args.policy}"]
    for name, yaml in variants(args):
        lines.append(f"variant {name}: the gateway with `{yaml.replace(chr(10), '; ')}`")
    lines += ["", "proxy CPU: the CPU time (user + system) of the process between fio and nbd-server (nbdkit or the "
              "gateway) per request, over the whole fio run", "",
              "| profile | target | IOPS | MB/s | p50 us | p99 us | p99.9 us | proxy CPU us/req | vs direct | vs nbdkit "
              "| vs haproxy |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = {}
    for profile, per_target in results.items():
        base = median_of(per_target["direct"], "iops")
        proxy = median_of(per_target["nbdkit-proxy"], "iops")
        relay = median_of(per_target["haproxy-tcp"], "iops")
        for t, runs in per_target.items():
            iops = median_of(runs, "iops")
            row = dict(iops=iops, mbps=median_of(runs, "mbps"), p50=median_of(runs, "p50"),
                       p99=median_of(runs, "p99"), p999=median_of(runs, "p999"),
                       vs_direct=iops / base if base else 0, vs_nbdkit=iops / proxy if proxy else 0,
                       vs_haproxy=iops / relay if relay else 0)
            if "proxy_cpu_us" in runs[0]:
                row["proxy_cpu_us_per_req"] = median_of(runs, "proxy_cpu_us")
            summary.setdefault(profile, {})[t] = row
            cpu = f"{row['proxy_cpu_us_per_req']:.1f}" if "proxy_cpu_us_per_req" in row else "-"
            lines.append(f"| {profile} | {t} | {row['iops']:.0f} | {row['mbps']:.1f} | {row['p50']:.0f} | "
                         f"{row['p99']:.0f} | {row['p999']:.0f} | {cpu} | {row['vs_direct']:.2f} | "
                         f"{row['vs_nbdkit']:.2f} | {row['vs_haproxy']:.2f} |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    print(f"results written to {out} and {out.with_suffix('.json')} (logs in {work})")
