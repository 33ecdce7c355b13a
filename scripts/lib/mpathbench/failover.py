"""scripts/bench failover: verified fio over two paths while one backend is killed and restarted, then hung."""
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

from .fio import fio
from .rig import Rig, wait_ready, write_results


def failover(args):
    """fio QD16 with verification over two paths while one backend is killed/restarted, then while one hangs."""
    # the events take up to 8 s after a 3 s start: fio must outlast them
    args.runtime = max(args.runtime, 12)
    work = Path(tempfile.mkdtemp(prefix="mpath-failover-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, image_dir=args.image_dir)
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
        write_results(args, "failover.md", lines)
        print(f"logs in {work}")
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
