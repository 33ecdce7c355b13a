"""fio benchmarks of the gateway against direct access and nbdkit's nbd proxy (driven by scripts/bench)."""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JAR = ROOT / "mpath-nbd-server/target/mpath-nbd.jar"

PROFILES = {
    "randread-4k-qd16": dict(rw="randread", bs="4k", iodepth=16),
    "randwrite-4k-qd16": dict(rw="randwrite", bs="4k", iodepth=16),
    "seqread-1m-qd8": dict(rw="read", bs="1m", iodepth=8),
    "seqwrite-1m-qd8": dict(rw="write", bs="1m", iodepth=8),
    "randread-4k-qd1": dict(rw="randread", bs="4k", iodepth=1),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"process {proc.args[0]} exited early (code {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Rig:
    """Backends, proxy and gateway for one benchmark run; everything is stopped by close()."""

    def __init__(self, work, size_mib, delay=None):
        self.work = work
        self.procs = []
        self.pidfiles = []
        self.image = work / "disk.img"
        with open(self.image, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(size_mib):
                f.write(chunk)
        self.delay = delay

    def spawn(self, name, cmd, port, env=None):
        log = open(self.work / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append(proc)
        wait_port(port, proc)
        return proc

    def nbdkit_file(self, name, port=None):
        # no --exit-with-parent: close() kills every process group, also of backends restarted mid-run
        port = port or free_port()
        cmd = ["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port)]
        if self.delay:
            cmd += ["--filter=delay", f"delay-read={self.delay}", f"delay-write={self.delay}"]
        cmd += ["file", f"file={self.image}"]
        return self.spawn(name, cmd, port), port

    def nbd_server(self, name):
        """nbd-server daemonizes and forks a child per client: it is stopped through its pid file."""
        port = free_port()
        conf = self.work / f"{name}.conf"
        pidfile = self.work / f"{name}.pid"
        conf.write_text(f"[generic]\nport = {port}\nlistenaddr = 127.0.0.1\nuser = root\ngroup = root\n"
                        f"[disk]\nexportname = {self.image}\nflush = true\nfua = true\ntrim = true\n")
        subprocess.run(["nbd-server", "-C", str(conf), "-p", str(pidfile)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pidfiles.append(pidfile)
        wait_port(port)
        return port

    def nbdkit_proxy(self, backend_port):
        port = free_port()
        cmd = ["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port), "nbd",
               f"uri=nbd://127.0.0.1:{backend_port}/disk"]
        self.spawn("nbdkit-proxy", cmd, port)
        return port

    def gateway(self, exports, policy, io_timeout="5s", extra=""):
        nbd_port, admin_port = free_port(), free_port()
        lines = [f"listen: 127.0.0.1:{nbd_port}", f"admin: 127.0.0.1:{admin_port}", "defaults:",
                 f"  iopolicy: {policy}", f"  io-timeout: {io_timeout}", "  reconnect-min: 50ms",
                 "  reconnect-max: 500ms", "  fence-delay: 100ms", extra, "exports:"]
        for name, uris in exports.items():
            lines.append(f"  - name: {name}")
            lines.append("    paths:")
            lines += [f"      - {u}" for u in uris]
        cfg = self.work / "gateway.yaml"
        cfg.write_text("\n".join(l for l in lines if l) + "\n")
        java = os.environ.get("JAVA", "java")
        cmd = [java, "-XX:+UseParallelGC", "-Xms256m", "-Xmx1g", "-jar", str(JAR), "serve", "--config", str(cfg)]
        env = dict(os.environ, MPATH_LOG_LEVEL=os.environ.get("MPATH_LOG_LEVEL", "INFO"))
        self.spawn("gateway", cmd, nbd_port, env=env)
        wait_ready(admin_port, list(exports))
        return nbd_port, admin_port

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for pidfile in self.pidfiles:
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_ready(admin_port, names, timeout=30.0):
    import urllib.request
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/api/exports", timeout=2) as r:
                data = json.load(r)
            ok = {e["name"] for e in data if e.get("ready") and all(p["state"] == "live" for p in e["paths"])}
            if set(names) <= ok:
                return data
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gateway exports {names} not ready with all paths live after {timeout}s")


def fio(uri, profile, runtime, size, extra=()):
    p = PROFILES[profile] if isinstance(profile, str) else profile
    cmd = ["fio", "--name=bench", "--ioengine=nbd", f"--uri={uri}", f"--rw={p['rw']}", f"--bs={p['bs']}",
           f"--iodepth={p['iodepth']}", f"--size={size}", "--time_based", f"--runtime={runtime}",
           "--ramp_time=1", "--output-format=json", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=runtime + 120)
    if out.returncode != 0:
        raise SystemExit(f"fio failed against {uri}:\n{out.stdout}\n{out.stderr}")
    job = json.loads(out.stdout[out.stdout.index("{"):])["jobs"][0]
    # the profile's own direction; verification adds reads to write runs, which count only for the worst latency
    d = job["write"] if "write" in p["rw"] else job["read"]
    pct = d["clat_ns"].get("percentile", {})
    worst = max(job["read"]["clat_ns"]["max"], job["write"]["clat_ns"]["max"])
    return dict(iops=d["iops"], mbps=d["bw_bytes"] / 1e6, errors=job["error"],
                p50=pct.get("50.000000", 0) / 1e3, p99=pct.get("99.000000", 0) / 1e3,
                p999=pct.get("99.900000", 0) / 1e3, max=worst / 1e3)


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def throughput(args):
    work = Path(tempfile.mkdtemp(prefix="mpath-bench-", dir=args.workdir))
    rig = Rig(work, args.size_mib)
    try:
        direct_port = rig.nbd_server("nbd-server-direct")
        srv_port = rig.nbd_server("nbd-server-a")
        srv2_port = rig.nbd_server("nbd-server-b")
        proxy_port = rig.nbdkit_proxy(srv_port)
        gw_port, admin_port = rig.gateway(
            {"one": [f"nbd://127.0.0.1:{srv_port}/disk"],
             "two": [f"nbd://127.0.0.1:{srv_port}/disk", f"nbd://127.0.0.1:{srv2_port}/disk"]},
            args.policy)
        targets = {
            "direct": f"nbd://127.0.0.1:{direct_port}/disk",
            "nbdkit-proxy": f"nbd://127.0.0.1:{proxy_port}/",
            "gateway-1path": f"nbd://127.0.0.1:{gw_port}/one",
            "gateway-2paths": f"nbd://127.0.0.1:{gw_port}/two",
        }
        results = {p: {t: [] for t in targets} for p in args.profiles}
        for rnd in range(args.rounds):
            for profile in args.profiles:
                order = list(targets) if rnd % 2 == 0 else list(reversed(targets))
                for t in order:
                    r = fio(targets[t], profile, args.runtime, f"{args.size_mib}m")
                    results[profile][t].append(r)
                    print(f"round {rnd + 1} {profile:18} {t:15} {r['iops']:10.0f} IOPS {r['mbps']:9.1f} MB/s "
                          f"p99 {r['p99']:8.0f} us", flush=True)
        report(args, results, work)
    finally:
        rig.close()


def report(args, results, work):
    lines = [f"# scripts/bench results ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
             f"machine: {os.cpu_count()} cores, {os.uname().release}; rounds {args.rounds} x {args.runtime}s, "
             f"median per cell; gateway iopolicy {args.policy}", "",
             "| profile | target | IOPS | MB/s | p50 us | p99 us | p99.9 us | vs direct | vs nbdkit |",
             "|---|---|---|---|---|---|---|---|---|"]
    summary = {}
    for profile, per_target in results.items():
        base = median_of(per_target["direct"], "iops")
        proxy = median_of(per_target["nbdkit-proxy"], "iops")
        for t, runs in per_target.items():
            iops = median_of(runs, "iops")
            row = dict(iops=iops, mbps=median_of(runs, "mbps"), p50=median_of(runs, "p50"),
                       p99=median_of(runs, "p99"), p999=median_of(runs, "p999"),
                       vs_direct=iops / base if base else 0, vs_nbdkit=iops / proxy if proxy else 0)
            summary.setdefault(profile, {})[t] = row
            lines.append(f"| {profile} | {t} | {row['iops']:.0f} | {row['mbps']:.1f} | {row['p50']:.0f} | "
                         f"{row['p99']:.0f} | {row['p999']:.0f} | {row['vs_direct']:.2f} | {row['vs_nbdkit']:.2f} |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    print(f"results written to {out} and {out.with_suffix('.json')} (logs in {work})")


def failover(args):
    """fio QD16 with verification over two paths while one backend is killed/restarted, then while one hangs."""
    work = Path(tempfile.mkdtemp(prefix="mpath-failover-", dir=args.workdir))
    rig = Rig(work, args.size_mib)
    try:
        a, port_a = rig.nbdkit_file("nbdkit-a")
        b, port_b = rig.nbdkit_file("nbdkit-b")
        gw_port, admin_port = rig.gateway(
            {"disk": [f"nbd://127.0.0.1:{port_a}/", f"nbd://127.0.0.1:{port_b}/"]}, args.policy,
            io_timeout=args.io_timeout)
        uri = f"nbd://127.0.0.1:{gw_port}/disk"
        verify = ["--verify=crc32c", "--verify_backlog=512", "--verify_fatal=1", "--verify_state_save=0"]
        prof = dict(rw="randwrite", bs="4k", iodepth=16)
        out = {}

        def kill_and_restart():
            time.sleep(3)
            os.killpg(b.pid, signal.SIGKILL)
            b.wait()
            time.sleep(3)
            rig.nbdkit_file("nbdkit-b-restarted", port_b)

        out["killed"] = during(uri, prof, args, verify, kill_and_restart, admin_port)

        def hang():
            time.sleep(3)
            os.killpg(a.pid, signal.SIGSTOP)
            time.sleep(4)
            os.killpg(a.pid, signal.SIGCONT)
            time.sleep(1)
            if a.poll() is not None:
                # nbdkit 1.32 can abort (raw_send_socket assertion) when it resumes onto connections the gateway
                # reset meanwhile; restart it, as an operator would
                print(f"nbdkit-a exited after SIGCONT (code {a.returncode}); restarting it", flush=True)
                rig.nbdkit_file("nbdkit-a-restarted", port_a)

        out["hung"] = during(uri, prof, args, verify, hang, admin_port)
        lines = [f"# scripts/bench failover ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
                 f"fio randwrite 4k QD16 crc32c-verified, {args.runtime}s per event, io-timeout {args.io_timeout}, "
                 f"iopolicy {args.policy}", "",
                 "| event | errors | IOPS | worst completion ms | p99.9 ms |", "|---|---|---|---|---|"]
        for ev, r in out.items():
            lines.append(f"| {ev} | {r['errors']} | {r['iops']:.0f} | {r['max'] / 1e3:.1f} | {r['p999'] / 1e3:.1f} |")
        text = "\n".join(lines) + "\n"
        print("\n" + text)
        res = Path(args.results).with_name("failover.md")
        res.parent.mkdir(parents=True, exist_ok=True)
        res.write_text(text)
        print(f"results written to {res} (logs in {work})")
    finally:
        rig.close()


def during(uri, prof, args, verify, event, admin_port):
    """Runs fio in a thread and the event in this (main) thread: processes the event restarts must outlive it."""
    box = {}
    t = threading.Thread(target=lambda: box.update(r=fio(uri, prof, args.runtime, f"{args.size_mib // 2}m", verify)))
    t.start()
    event()
    t.join()
    if "r" not in box:
        raise SystemExit("fio did not complete during the failover event (see above)")
    wait_ready(admin_port, ["disk"])
    return box["r"]


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    ap.add_argument("mode", nargs="?", default="throughput", choices=["throughput", "failover"])
    ap.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    ap.add_argument("--runtime", type=int, default=10, help="seconds per fio run (default 10)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; cells are medians (default 2)")
    ap.add_argument("--size-mib", type=int, default=1024, help="disk image size (default 1024)")
    ap.add_argument("--policy", default="queue-depth", help="gateway iopolicy (default queue-depth)")
    ap.add_argument("--io-timeout", default="1s", help="failover mode: the gateway's io-timeout (default 1s)")
    ap.add_argument("--workdir", default=str(ROOT / "bench-results"), help="where images and logs go")
    ap.add_argument("--results", default=str(ROOT / "bench-results/latest.md"))
    args = ap.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if args.mode == "failover":
        args.runtime = max(args.runtime, 12)
        failover(args)
    else:
        throughput(args)


if __name__ == "__main__":
    sys.exit(main())
