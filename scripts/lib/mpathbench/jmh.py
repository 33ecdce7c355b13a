"""scripts/bench jmh: the JMH micro-benchmarks of the mpath-bench module, short by default."""
import json
import os
import subprocess
import time
from pathlib import Path

from .rig import ROOT, write_results


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
    write_results(args, "jmh.md", lines)
