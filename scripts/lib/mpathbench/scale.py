"""scripts/bench scale: many idle client connections plus busy fio jobs over many exports: throughput, the
gateway's memory and CPU per request, and with a long --duration its memory growth."""
import os
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

from .fio import busy_fio
from .rig import GATEWAY_JVM, Rig, proc_status, write_results


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


def scale(args):
    """Idle client connections (64, 256, 1024 by default) plus busy fio jobs over many exports: throughput, the
    gateway's resident memory and its CPU time per request; with a long --duration, memory growth over the run."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = Path(tempfile.mkdtemp(prefix="mpath-scale-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, image_dir=args.image_dir)
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
        write_results(args, "scale.md", lines, rows)
    finally:
        rig.close()
