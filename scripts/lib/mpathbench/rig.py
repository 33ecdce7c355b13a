"""Processes of one benchmark run: backends (nbd-server, nbdkit), nbdkit's proxy and gateways, all stopped
by Rig.close(); plus the small helpers every mode shares (ports, readiness, /proc figures, result files)."""
import json
import os
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path


ROOT = Path(__file__).resolve().parents[3]  # scripts/lib/mpathbench/rig.py -> the repository
JAR = Path(os.environ.get("MPATH_BENCH_JAR") or
           ROOT / "mpath-nbd-server" / os.environ.get("MPATH_BUILD_DIR", "target") / "mpath-nbd.jar").resolve()

# the gateway's JVM in every mode unless a mode says otherwise (kept fixed so results stay comparable)
GATEWAY_JVM = ["-XX:+UseParallelGC", "-Xms256m", "-Xmx1g"]


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

    def __init__(self, work, size_mib, delay=None, image_dir=None):
        self.work = work
        self.procs = []
        self.pidfiles = []
        # on tmpfs by default: an image on a disk is written back by the kernel's flusher every 30 s or so while
        # write profiles redirty it, which costs CPU and I/O in whichever run it meets
        folder = Path(image_dir) if image_dir else work
        folder.mkdir(parents=True, exist_ok=True)
        self.image = folder / f"mpathbench-{os.getpid()}-disk.img"
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

    def haproxy(self, backend_port, name="haproxy"):
        """HAProxy in `mode tcp` in front of one backend: a relay that copies bytes and parses nothing, the limit of
        "one more hop that does no work". Default buffers and no splice, as a packaged haproxy runs."""
        port = free_port()
        cfg = self.work / f"{name}.cfg"
        cfg.write_text("\n".join([
            "global", "  maxconn 4096",
            "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 1h", "  timeout server 1h",
            "frontend nbd", f"  bind 127.0.0.1:{port}", "  default_backend disk",
            "backend disk", f"  server s1 127.0.0.1:{backend_port}", ""]))
        # -db: stay in the foreground, so close() stops it with its process group
        self.relay_proc = self.spawn(name, ["haproxy", "-db", "-f", str(cfg)], port)
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
        try:
            self.image.unlink()
        except FileNotFoundError:
            pass


def wait_ready(admin_port, names, timeout=30.0):
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


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def write_results(args, name, lines, data=None):
    """Prints a report and writes it as `name` beside --results (with `data` as JSON of the same name)."""
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out = Path(args.results).with_name(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if data is not None:
        out.with_suffix(".json").write_text(json.dumps(data, indent=2))
    print(f"results written to {out}")


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
