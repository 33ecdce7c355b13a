"""The one tgtd driver of the benchmarks: a private tgtd with its own IPC socket and two loopback portals."""
import os
import signal
import subprocess
import time

from .rig import free_port, wait_port


ISCSI_IQN = "iqn.2026-11.io.mpathnbd:bench"
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


def tgt_version():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "tgt"], capture_output=True, text=True)
    return f"tgt {r.stdout.strip()}" if r.returncode == 0 and r.stdout.strip() else "tgt"
