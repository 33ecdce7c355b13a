"""fio runs: the profiles every throughput mode shares, one job against one NBD URI, and the many-job busy load
of the scale mode."""
import json
import os
import subprocess
import tempfile


PROFILES = {
    "randread-4k-qd16": dict(rw="randread", bs="4k", iodepth=16),
    "randwrite-4k-qd16": dict(rw="randwrite", bs="4k", iodepth=16),
    "seqread-1m-qd8": dict(rw="read", bs="1m", iodepth=8),
    "seqwrite-1m-qd8": dict(rw="write", bs="1m", iodepth=8),
    "randread-4k-qd1": dict(rw="randread", bs="4k", iodepth=1),
}


RAMP_S = 1  # fio's ramp_time: I/O before the measured part, done at the same queue depth


def fio(uri, profile, runtime, size, extra=(), env=None):
    p = PROFILES[profile] if isinstance(profile, str) else profile
    cmd = ["fio", "--name=bench", "--ioengine=nbd", f"--uri={uri}", f"--rw={p['rw']}", f"--bs={p['bs']}",
           f"--iodepth={p['iodepth']}", f"--size={size}", "--time_based", f"--runtime={runtime}",
           f"--ramp_time={RAMP_S}", "--output-format=json", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=runtime + 120, env=env)
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


def size_bytes(text):
    units = {"k": 1 << 10, "m": 1 << 20}
    return int(text[:-1]) * units[text[-1].lower()] if text[-1].lower() in units else int(text)
