"""Benchmarks of the gateway (driven by scripts/bench): fio throughput against direct access and nbdkit's nbd proxy,
failover, two slow paths against one, many connections and exports, iSCSI paths to tgtd against libiscsi's
iscsi-perf, and the JMH micro-benchmarks. See BENCHMARKS.md."""
import argparse
import json
import os
import re
import shutil
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
JAR = Path(os.environ.get("MPATH_BENCH_JAR") or
           ROOT / "mpath-nbd-server" / os.environ.get("MPATH_BUILD_DIR", "target") / "mpath-nbd.jar").resolve()

# the gateway's JVM in every mode unless a mode says otherwise (kept fixed so results stay comparable)
GATEWAY_JVM = ["-XX:+UseParallelGC", "-Xms256m", "-Xmx1g"]

PROFILES = {
    "randread-4k-qd16": dict(rw="randread", bs="4k", iodepth=16),
    "randwrite-4k-qd16": dict(rw="randwrite", bs="4k", iodepth=16),
    "seqread-1m-qd8": dict(rw="read", bs="1m", iodepth=8),
    "seqwrite-1m-qd8": dict(rw="write", bs="1m", iodepth=8),
    "randread-4k-qd1": dict(rw="randread", bs="4k", iodepth=1),
}


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=20.0, host="127.0.0.1"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"process {proc.args[0]} exited early (code {proc.returncode})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {host}:{port} after {timeout}s")


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
            cmd.append("--filter=delay")
        # filter parameters go after the plugin, like the plugin's own
        cmd += ["file", f"file={self.image}"]
        if self.delay:
            cmd += [f"delay-read={self.delay}", f"delay-write={self.delay}"]
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
        self.proxy_proc = self.spawn("nbdkit-proxy", cmd, port)
        return port

    def gateway(self, exports, policy, io_timeout="5s", extra="", jar=JAR, name="gateway", jvm=None):
        """exports: name -> list of path URIs, or name -> dict(paths=[...], iopolicy=...) for a per-export policy."""
        nbd_port, admin_port = free_port(), free_port()
        lines = [f"listen: 127.0.0.1:{nbd_port}", f"admin: 127.0.0.1:{admin_port}", "defaults:",
                 f"  iopolicy: {policy}", f"  io-timeout: {io_timeout}", "  reconnect-min: 50ms",
                 "  reconnect-max: 500ms", extra, "exports:"]
        for export, spec in exports.items():
            uris = spec["paths"] if isinstance(spec, dict) else spec
            lines.append(f"  - name: {export}")
            if isinstance(spec, dict) and spec.get("iopolicy"):
                lines.append(f"    iopolicy: {spec['iopolicy']}")
            lines.append("    paths:")
            lines += [f"      - {u}" for u in uris]
        cfg = self.work / f"{name}.yaml"
        cfg.write_text("\n".join(l for l in lines if l) + "\n")
        java = os.environ.get("JAVA", "java")
        cmd = [java, *(jvm or GATEWAY_JVM), "-jar", str(jar), "serve", "--config", str(cfg)]
        env = dict(os.environ, MPATH_LOG_LEVEL=os.environ.get("MPATH_LOG_LEVEL", "INFO"))
        self.gateway_proc = self.spawn(name, cmd, nbd_port, env=env)
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


RAMP_S = 1  # fio's ramp_time: I/O before the measured part, done at the same queue depth


def fio(uri, profile, runtime, size, extra=()):
    p = PROFILES[profile] if isinstance(profile, str) else profile
    cmd = ["fio", "--name=bench", "--ioengine=nbd", f"--uri={uri}", f"--rw={p['rw']}", f"--bs={p['bs']}",
           f"--iodepth={p['iodepth']}", f"--size={size}", "--time_based", f"--runtime={runtime}",
           f"--ramp_time={RAMP_S}", "--output-format=json", *extra]
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
    work = Path(tempfile.mkdtemp(prefix="mpath-bench-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib)
    try:
        direct_port = rig.nbd_server("nbd-server-direct")
        srv_port = rig.nbd_server("nbd-server-a")
        srv2_port = rig.nbd_server("nbd-server-b")
        proxy_port = rig.nbdkit_proxy(srv_port)
        gateway_exports = {"one": [f"nbd://127.0.0.1:{srv_port}/disk"],
                           "two": [f"nbd://127.0.0.1:{srv_port}/disk", f"nbd://127.0.0.1:{srv2_port}/disk"]}
        targets = {
            "direct": f"nbd://127.0.0.1:{direct_port}/disk",
            "nbdkit-proxy": f"nbd://127.0.0.1:{proxy_port}/",
        }
        # the process in the middle of each row (nbdkit or a gateway), for its CPU time per request
        pids = {"nbdkit-proxy": rig.proxy_proc.pid}

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
              "| profile | target | IOPS | MB/s | p50 us | p99 us | p99.9 us | proxy CPU us/req | vs direct | vs nbdkit |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    summary = {}
    for profile, per_target in results.items():
        base = median_of(per_target["direct"], "iops")
        proxy = median_of(per_target["nbdkit-proxy"], "iops")
        for t, runs in per_target.items():
            iops = median_of(runs, "iops")
            row = dict(iops=iops, mbps=median_of(runs, "mbps"), p50=median_of(runs, "p50"),
                       p99=median_of(runs, "p99"), p999=median_of(runs, "p999"),
                       vs_direct=iops / base if base else 0, vs_nbdkit=iops / proxy if proxy else 0)
            if "proxy_cpu_us" in runs[0]:
                row["proxy_cpu_us_per_req"] = median_of(runs, "proxy_cpu_us")
            summary.setdefault(profile, {})[t] = row
            cpu = f"{row['proxy_cpu_us_per_req']:.1f}" if "proxy_cpu_us_per_req" in row else "-"
            lines.append(f"| {profile} | {t} | {row['iops']:.0f} | {row['mbps']:.1f} | {row['p50']:.0f} | "
                         f"{row['p99']:.0f} | {row['p999']:.0f} | {cpu} | {row['vs_direct']:.2f} | "
                         f"{row['vs_nbdkit']:.2f} |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    print(f"results written to {out} and {out.with_suffix('.json')} (logs in {work})")


def failover(args):
    """fio QD16 with verification over two paths while one backend is killed/restarted, then while one hangs."""
    work = Path(tempfile.mkdtemp(prefix="mpath-failover-", dir=args.workdir)).resolve()
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


MODES = ["throughput", "failover", "paths", "scale", "iscsi", "jmh"]


def write_results(args, name, text, data=None):
    out = Path(args.results).with_name(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if data is not None:
        out.with_suffix(".json").write_text(json.dumps(data, indent=2))
    print(f"results written to {out}")


# ---------------------------------------------------------------- paths: two slow paths against one

def paths(args):
    """Two backends that each add latency (nbdkit's delay filter): QD64 IOPS of one path vs two paths, per policy."""
    work = Path(tempfile.mkdtemp(prefix="mpath-paths-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, delay=args.delay)
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
        text = "\n".join(lines) + "\n"
        print("\n" + text)
        write_results(args, "paths.md", text, summary)
    finally:
        rig.close()


# ---------------------------------------------------------------- iscsi: the gateway to tgtd against iscsi-perf

ISCSI_IQN = "iqn.2026-11.io.mpathnbd:bench"
ISCSI_PROFILES = ["randread-4k-qd16", "seqread-1m-qd8"]
LUN_BLOCK = 512  # tgtd's default logical block size, the unit of iscsi-perf's -b


class Tgtd:
    """A private tgtd: its own IPC socket in the work dir, portals 127.0.0.1 and 127.0.0.2 on free ports, target
    ISCSI_IQN with LUN 1 on the rig's image (buffered I/O: the page-cached file). Stopped by the rig's close()."""

    def __init__(self, rig, attempts=5):
        self.rig = rig
        for attempt in range(attempts):
            self.dir = rig.work / f"tgtd-{attempt}"
            self.dir.mkdir()
            self.env = dict(os.environ, TGT_IPC_SOCKET=str(self.dir / "socket"))
            port = free_port()
            log = open(rig.work / f"tgtd-{attempt}.log", "wb")
            self.proc = subprocess.Popen(["tgtd", "-f", "--iscsi", f"portal=127.0.0.1:{port}"], stdout=log,
                                         stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
            rig.procs.append(self.proc)
            # tgtd falls back to 0.0.0.0:3260 when it cannot bind its portal: only our own portal will do
            listed = self.await_ipc()
            if f"127.0.0.1:{port}," in listed:
                break
            print(f"tgtd did not take 127.0.0.1:{port} (portals: {listed.split()}); trying another port", flush=True)
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        else:
            raise SystemExit(f"tgtd could not take a portal on 127.0.0.1 in {attempts} attempts (logs in {rig.work})")
        self.portals = [("127.0.0.1", port), self.add_portal("127.0.0.2")]
        self.tgtadm("--op", "new", "--mode", "target", "--tid", "1", "-T", ISCSI_IQN)
        self.tgtadm("--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "-b", str(rig.image))
        self.tgtadm("--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL")
        for host, p in self.portals:
            wait_port(p, self.proc, host=host)
        print(f"tgtd pid {self.proc.pid} serves {ISCSI_IQN} LUN 1 = {rig.image} on "
              f"{', '.join(f'{h}:{p}' for h, p in self.portals)}", flush=True)

    def run_tgtadm(self, *args):
        return subprocess.run(["tgtadm", "--lld", "iscsi", *args], env=self.env, capture_output=True, text=True,
                              timeout=30)

    def tgtadm(self, *args):
        r = self.run_tgtadm(*args)
        if r.returncode != 0:
            raise SystemExit(f"tgtadm {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def await_ipc(self, timeout=10.0):
        """The portal list, once tgtd answers on its IPC socket."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"tgtd exited early (code {self.proc.returncode}); logs in {self.rig.work}")
            r = self.run_tgtadm("--op", "show", "--mode", "portal")
            if r.returncode == 0:
                return r.stdout
            time.sleep(0.1)
        raise SystemExit(f"tgtd did not answer on {self.env['TGT_IPC_SOCKET']} within {timeout}s")

    def add_portal(self, host, attempts=5):
        for _ in range(attempts):
            port = free_port(host)
            if self.run_tgtadm("--op", "new", "--mode", "portal", "--param", f"portal={host}:{port}").returncode == 0:
                return host, port
        raise SystemExit(f"tgtd could not add a portal on {host} in {attempts} attempts")

    def uri(self, i):
        host, port = self.portals[i]
        return f"iscsi://{host}:{port}/{ISCSI_IQN}/1"


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


def size_bytes(text):
    units = {"k": 1 << 10, "m": 1 << 20}
    return int(text[:-1]) * units[text[-1].lower()] if text[-1].lower() in units else int(text)


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
    rig = Rig(work, args.size_mib)
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
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    write_results(args, "iscsi.md", text, summary)
    print(f"logs in {work}")


def tgt_version():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "tgt"], capture_output=True, text=True)
    return f"tgt {r.stdout.strip()}" if r.returncode == 0 and r.stdout.strip() else "tgt"


# ---------------------------------------------------------------- scale: many connections and exports

NBD_MAGIC = 0x4e42444d41474943
IHAVEOPT = 0x49484156454F5054
OPT_REPLY_MAGIC = 0x3e889045565a9
OPT_GO = 7
REP_ACK = 1


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed during the handshake")
        buf += chunk
    return bytes(buf)


def attach_idle(port, export):
    """One client connection through the fixed-newstyle handshake (NBD_OPT_GO) into transmission, then left idle."""
    import struct
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    magic, opt_magic, _flags = struct.unpack(">QQH", recv_exact(s, 18))
    if magic != NBD_MAGIC or opt_magic != IHAVEOPT:
        raise OSError("not a fixed-newstyle NBD server")
    name = export.encode()
    data = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
    s.sendall(struct.pack(">IQII", 3, IHAVEOPT, OPT_GO, len(data)) + data)  # flags: FIXED_NEWSTYLE | NO_ZEROES
    while True:
        magic, _opt, rtype, length = struct.unpack(">QIII", recv_exact(s, 20))
        if magic != OPT_REPLY_MAGIC:
            raise OSError("bad option reply magic")
        recv_exact(s, length)
        if rtype == REP_ACK:
            return s
        if rtype & 0x80000000:
            raise OSError(f"NBD_OPT_GO refused: reply type {rtype:#x}")


def alive(sock):
    """True while the server has not closed this idle connection (nothing should arrive on it either)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def proc_status(pid):
    """(VmRSS KiB, VmHWM KiB, utime+stime clock ticks) of a process."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, hwm, int(fields[11]) + int(fields[12])


class RssSampler:
    """Samples a process's resident memory once a second in the background."""

    def __init__(self, pid):
        self.pid = pid
        self.samples = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(1.0):
            try:
                self.samples.append((time.time(), proc_status(self.pid)[0]))
            except OSError:
                return

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.samples


def busy_fio(port, exports, jobs, runtime, size):
    """fio with `jobs` jobs (one NBD connection each) spread over the exports, 4k random read QD4, one report."""
    per = max(1, jobs // len(exports))
    # no ramp_time: the gateway's CPU time is read around the whole fio run, so every request must count
    lines = ["[global]", "ioengine=nbd", "rw=randread", "bs=4k", "iodepth=4", f"size={size}", "time_based",
             f"runtime={runtime}", "group_reporting"]
    for i, e in enumerate(exports):
        n = per if i < len(exports) - 1 else jobs - per * (len(exports) - 1)
        if n > 0:
            lines += [f"[{e}]", f"uri=nbd://127.0.0.1:{port}/{e}", f"numjobs={n}"]
    with tempfile.NamedTemporaryFile("w", suffix=".fio", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        jobfile = f.name
    try:
        out = subprocess.run(["fio", "--output-format=json", jobfile], capture_output=True, text=True,
                             timeout=runtime + 300)
    finally:
        os.unlink(jobfile)
    if out.returncode != 0:
        raise SystemExit(f"fio failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    job = json.loads(out.stdout[out.stdout.index("{"):])["jobs"][0]
    d = job["read"]
    pct = d["clat_ns"].get("percentile", {})
    return dict(iops=d["iops"], mbps=d["bw_bytes"] / 1e6, ios=d["total_ios"], errors=job["error"],
                p99=pct.get("99.000000", 0) / 1e3)


def scale(args):
    """Idle client connections (64, 256, 1024 by default) plus busy fio jobs over many exports: throughput, the
    gateway's resident memory and its CPU time per request; with a long --duration, memory growth over the run."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = Path(tempfile.mkdtemp(prefix="mpath-scale-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib)
    ticks = os.sysconf("SC_CLK_TCK")
    rows = []
    try:
        _, port = rig.nbdkit_file("nbdkit")
        exports = [f"e{i}" for i in range(args.exports)]
        gw_port, _ = rig.gateway({e: [f"nbd://127.0.0.1:{port}/"] for e in exports}, args.policy)
        pid = rig.gateway_proc.pid
        time.sleep(2)
        rss_start = proc_status(pid)[0]
        print(f"gateway started: {args.exports} exports, RSS {rss_start / 1024:.0f} MiB", flush=True)
        for level in args.connections:
            idle = []
            try:
                t0 = time.time()
                for i in range(level):
                    idle.append(attach_idle(gw_port, exports[i % len(exports)]))
                rss_idle = proc_status(pid)[0]
                print(f"{level} idle connections attached in {time.time() - t0:.1f}s, RSS {rss_idle / 1024:.0f} MiB",
                      flush=True)
                sampler = RssSampler(pid)
                cpu0 = proc_status(pid)[2]
                r = busy_fio(gw_port, exports, args.busy, args.duration, f"{args.size_mib}m")
                cpu = (proc_status(pid)[2] - cpu0) / ticks
                samples = sampler.finish()
                rss = [kb for _, kb in samples] or [proc_status(pid)[0]]
                # growth: the last sample against the first one after the first fifth of the run (warm-up past)
                warm = rss[len(rss) // 5] if len(rss) >= 5 else rss[0]
                row = dict(idle=level, busy=args.busy, exports=args.exports, iops=r["iops"], mbps=r["mbps"],
                           p99=r["p99"], errors=r["errors"], cpu_s=cpu,
                           cpu_us_per_req=cpu * 1e6 / max(r["ios"], 1), rss_idle_mib=rss_idle / 1024,
                           rss_peak_mib=max(rss) / 1024, rss_end_mib=rss[-1] / 1024,
                           growth_mib=(rss[-1] - warm) / 1024, duration=args.duration,
                           idle_dropped=sum(1 for s in idle if not alive(s)),
                           rss_timeline_mib=[round(kb / 1024) for kb in rss[::max(1, len(rss) // 20)]])
                rows.append(row)
                print(f"  busy {args.busy} jobs over {args.exports} exports: {r['iops']:.0f} IOPS, "
                      f"p99 {r['p99']:.0f} us, {r['errors']} errors; gateway CPU {row['cpu_us_per_req']:.1f} us/req; "
                      f"RSS peak {row['rss_peak_mib']:.0f} MiB, end {row['rss_end_mib']:.0f} MiB "
                      f"(growth since warm-up {row['growth_mib']:+.0f} MiB); idle connections dropped: "
                      f"{row['idle_dropped']}", flush=True)
            finally:
                for s in idle:
                    s.close()
            time.sleep(1)
        lines = [f"# scripts/bench scale ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
                 f"machine: {os.cpu_count()} cores, {os.uname().release}; gateway JVM {' '.join(GATEWAY_JVM)}; "
                 f"{args.exports} exports on one nbdkit file backend; busy load: {args.busy} fio jobs (4k random "
                 f"read QD4, one connection each) for {args.duration}s per level; idle connections are attached "
                 f"(NBD_OPT_GO) and left open; gateway RSS at start {rss_start / 1024:.0f} MiB", "",
                 "| idle conns | busy conns | IOPS | MB/s | p99 us | errors | idle dropped | gateway CPU us/req | "
                 "RSS idle MiB | RSS peak MiB | RSS end MiB | growth MiB |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in rows:
            lines.append(f"| {row['idle']} | {row['busy']} | {row['iops']:.0f} | {row['mbps']:.1f} | "
                         f"{row['p99']:.0f} | {row['errors']} | {row['idle_dropped']} | {row['cpu_us_per_req']:.1f} | "
                         f"{row['rss_idle_mib']:.0f} | {row['rss_peak_mib']:.0f} | {row['rss_end_mib']:.0f} | "
                         f"{row['growth_mib']:+.0f} |")
        for row in rows:
            lines.append(f"\nRSS during the busy run with {row['idle']} idle connections (MiB, evenly spaced "
                         f"samples over {row['duration']}s): {' '.join(map(str, row['rss_timeline_mib']))}")
        text = "\n".join(lines) + "\n"
        print("\n" + text)
        write_results(args, "scale.md", text, rows)
    finally:
        rig.close()


# ---------------------------------------------------------------- jmh: micro-benchmarks of the hot paths

def jmh(args):
    """The JMH benchmarks of mpath-bench (request codec, reply forwarding, path selection), short by default."""
    jar = ROOT / "mpath-bench" / os.environ.get("MPATH_BUILD_DIR", "target") / "benchmarks.jar"
    if not jar.exists():
        raise SystemExit(f"{jar} is missing: build it with ./mvnw -pl mpath-bench -am package -DskipTests")
    out = Path(args.results).with_name("jmh.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    java = os.environ.get("JAVA", "java")
    cmd = [java, "-jar", str(jar), *args.jmh_args.split(), "-rf", "json", "-rff", str(out)]
    if args.jmh_filter:
        cmd.append(args.jmh_filter)
    print(" ".join(cmd), flush=True)
    env = dict(os.environ, MPATH_LOG_LEVEL=os.environ.get("MPATH_LOG_LEVEL", "WARN"))
    if subprocess.run(cmd, env=env).returncode != 0:
        raise SystemExit("JMH failed")
    rows = json.loads(out.read_text())
    lines = [f"# scripts/bench jmh ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
             f"machine: {os.cpu_count()} cores, {os.uname().release}; JMH {args.jmh_args}", "",
             "| benchmark | params | score | error | unit |", "|---|---|---|---|---|"]
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in (r.get("params") or {}).items())
        m = r["primaryMetric"]
        err = m.get("scoreError")
        err = f"{err:.1f}" if isinstance(err, (int, float)) and err == err else "-"
        lines.append(f"| {r['benchmark'].split('.', 3)[-1]} | {params} | {m['score']:.1f} | {err} | "
                     f"{m['scoreUnit']} |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    write_results(args, "jmh.md", text)


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    ap.add_argument("mode", nargs="?", default="throughput", choices=MODES,
                    help="throughput (default), failover, paths (two slow paths vs one), scale (many connections "
                    "and exports: throughput, memory, CPU per request), iscsi (the gateway with iSCSI paths to tgtd "
                    "vs libiscsi's iscsi-perf straight to it), jmh (micro-benchmarks)")
    ap.add_argument("--profiles", nargs="+", choices=list(PROFILES),
                    help=f"fio profiles (default: all; iscsi mode: {' '.join(ISCSI_PROFILES)}, read profiles only)")
    ap.add_argument("--runtime", type=int, default=10, help="seconds per fio run (default 10)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; cells are medians (default 2)")
    ap.add_argument("--size-mib", type=int, default=1024, help="disk image size (default 1024)")
    ap.add_argument("--policy", default="queue-depth", help="gateway iopolicy (default queue-depth)")
    ap.add_argument("--io-timeout", default="1s", help="failover mode: the gateway's io-timeout (default 1s)")
    ap.add_argument("--compare-jar", help="throughput and iscsi modes: also measure a gateway from this jar (e.g. a "
                    "build from before a change), interleaved, as compare-1path/compare-2paths")
    ap.add_argument("--variant", action="append", metavar="NAME=YAML",
                    help="throughput mode, repeatable: also measure a gateway from the same jar with YAML lines "
                    "added after the defaults: keys of its config (\\n between lines; unindented: a top-level key, "
                    "indented two spaces: a defaults: key), interleaved, as NAME-1path/NAME-2paths; e.g. "
                    "--variant 'busypoll=busy-poll: 50us' or --variant 'conn4=  connections: 4'")
    ap.add_argument("--delay", default="2ms", help="paths mode: latency each backend adds (default 2ms)")
    ap.add_argument("--qd", type=int, default=64, help="paths mode: fio queue depth (default 64)")
    ap.add_argument("--rw", default="randread", help="paths mode: fio rw pattern (default randread)")
    ap.add_argument("--connections", type=int, nargs="+", default=[64, 256, 1024],
                    help="scale mode: idle client connections per level (default 64 256 1024)")
    ap.add_argument("--busy", type=int, default=64, help="scale mode: busy fio jobs, one connection each (default 64)")
    ap.add_argument("--exports", type=int, default=8, help="scale mode: exports, all on one backend (default 8)")
    ap.add_argument("--duration", type=int, default=30,
                    help="scale mode: seconds of busy I/O per level; 600 makes it the 10-minute soak (default 30)")
    ap.add_argument("--gateway-jvm", default=" ".join(GATEWAY_JVM),
                    help=f"JVM options of the gateway (default '{' '.join(GATEWAY_JVM)}')")
    ap.add_argument("--jmh-filter", default="", help="jmh mode: regex of benchmarks to run (default all)")
    ap.add_argument("--jmh-args", default="-wi 2 -i 3 -w 1s -r 1s -f 1",
                    help="jmh mode: JMH options (default '-wi 2 -i 3 -w 1s -r 1s -f 1': short; use e.g. "
                    "'-wi 5 -i 10 -f 2' for publishable numbers)")
    ap.add_argument("--workdir", default=str(ROOT / "bench-results"), help="where images and logs go")
    ap.add_argument("--results", default=str(ROOT / "bench-results/latest.md"))
    args = ap.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    GATEWAY_JVM[:] = args.gateway_jvm.split()
    if args.variant and args.mode != "throughput":
        raise SystemExit(f"--variant is for the throughput mode, not {args.mode}")
    if args.mode == "failover":
        args.runtime = max(args.runtime, 12)
        failover(args)
    elif args.mode == "paths":
        paths(args)
    elif args.mode == "scale":
        scale(args)
    elif args.mode == "iscsi":
        iscsi(args)
    elif args.mode == "jmh":
        jmh(args)
    else:
        throughput(args)


if __name__ == "__main__":
    sys.exit(main())
