"""The command line of scripts/bench: one subcommand per benchmark, each with its own options."""
import argparse
import os
import sys
from pathlib import Path

from . import failover, iscsi, jmh, paths, scale, throughput, tls
from .fio import PROFILES
from .iscsi import ISCSI_PROFILES
from .rig import GATEWAY_JVM, ROOT

DESCRIPTION = """Benchmarks of the gateway with fio against real NBD servers, nbdkit's nbd proxy and tgtd, interleaved in
one run so that ratios stay fair on a busy machine. Without a subcommand (or with options only) it runs throughput,
as it always has. Results go to bench-results/; the figures and how they were measured are in BENCHMARKS.md."""

SUBCOMMANDS = {
    "throughput": "fio profiles against direct nbd-server, nbdkit's proxy and the gateway with one and two paths",
    "failover": "verified fio over two paths while one backend is killed and restarted, then hung",
    "paths": "two backends that each add latency: one path against two, per iopolicy",
    "scale": "many idle client connections plus busy fio jobs over many exports: IOPS, memory, CPU per request",
    "iscsi": "the gateway with one and two iSCSI paths to tgtd against libiscsi's iscsi-perf straight to it",
    "tls": "what TLS costs: the gateway and nbdkit's proxy, each in clear text and with TLS required",
    "jmh": "the JMH micro-benchmarks of the hot paths (mpath-bench module)",
}


IMAGE_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None


def common(p, runtime=10, rounds=2):
    """Options of every subcommand that starts a gateway."""
    if runtime is not None:
        p.add_argument("--runtime", type=int, default=runtime, help=f"seconds per fio run (default {runtime})")
    if rounds is not None:
        p.add_argument("--rounds", type=int, default=rounds,
                       help=f"interleaved rounds; cells are medians (default {rounds})")
    p.add_argument("--size-mib", type=int, default=1024, help="disk image size in MiB (default 1024)")
    p.add_argument("--image-dir", default=IMAGE_DIR,
                   help=f"where the disk image goes (default {IMAGE_DIR}, tmpfs, so that no run meets the kernel "
                        "writing the image back to a disk; a folder on a disk measures with writeback)")
    p.add_argument("--policy", default="queue-depth", help="the gateway's iopolicy (default queue-depth)")
    p.add_argument("--gateway-jvm", default=" ".join(GATEWAY_JVM),
                   help=f"JVM options of the gateway (default '{' '.join(GATEWAY_JVM)}')")
    output(p)


def output(p):
    p.add_argument("--workdir", default=str(ROOT / "bench-results"), help="where images and logs go")
    p.add_argument("--results", default=str(ROOT / "bench-results/latest.md"),
                   help="the throughput report; the other subcommands write beside it (failover.md, paths.md, ...)")


def parser():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", metavar="SUBCOMMAND", title="subcommands (each has its own --help)")

    def add(name):
        return sub.add_parser(name, help=SUBCOMMANDS[name], description=SUBCOMMANDS[name] + ".")

    p = add("throughput")
    p.add_argument("--profiles", nargs="+", choices=list(PROFILES), metavar="PROFILE",
                   help=f"fio profiles: {', '.join(PROFILES)} (default: all)")
    p.add_argument("--compare-jar", help="also measure a gateway from this jar (e.g. a build from before a change), "
                   "interleaved, as compare-1path/compare-2paths")
    p.add_argument("--variant", action="append", metavar="NAME=YAML",
                   help="repeatable: also measure a gateway from the same jar with YAML lines added after the "
                   "defaults: keys of its config (\\n between lines; unindented: a top-level key, indented two "
                   "spaces: a defaults: key), interleaved, as NAME-1path/NAME-2paths; e.g. "
                   "--variant 'busypoll=busy-poll: 50us' or --variant 'conn4=  connections: 4'")
    common(p)
    p.set_defaults(run=throughput.throughput)

    p = add("failover")
    p.add_argument("--io-timeout", default="1s", help="the gateway's io-timeout (default 1s)")
    common(p, runtime=12, rounds=None)
    p.set_defaults(run=failover.failover)

    p = add("paths")
    p.add_argument("--delay", default="2ms", help="latency each backend adds (default 2ms)")
    p.add_argument("--qd", type=int, default=64, help="fio queue depth (default 64)")
    p.add_argument("--rw", default="randread", help="fio rw pattern (default randread)")
    common(p)
    p.set_defaults(run=paths.paths)

    p = add("scale")
    p.add_argument("--connections", type=int, nargs="+", default=[64, 256, 1024],
                   help="idle client connections per level (default 64 256 1024)")
    p.add_argument("--busy", type=int, default=64, help="busy fio jobs, one connection each (default 64)")
    p.add_argument("--exports", type=int, default=8, help="exports, all on one backend (default 8)")
    p.add_argument("--duration", type=int, default=30,
                   help="seconds of busy I/O per level; 600 makes it the 10-minute soak (default 30)")
    common(p, runtime=None, rounds=None)
    p.set_defaults(run=scale.scale)

    p = add("iscsi")
    reads = [n for n, v in PROFILES.items() if "read" in v["rw"]]
    p.add_argument("--profiles", nargs="+", choices=reads, metavar="PROFILE",
                   help=f"fio profiles, reads only since iscsi-perf only reads: {', '.join(reads)} "
                   f"(default: {' '.join(ISCSI_PROFILES)})")
    p.add_argument("--compare-jar", help="also measure a gateway from this jar, interleaved, as "
                   "compare-1path/compare-2paths")
    common(p)
    p.set_defaults(run=iscsi.iscsi)

    p = add("tls")
    p.add_argument("--profiles", nargs="+", choices=list(PROFILES), metavar="PROFILE",
                   help=f"fio profiles (default: {' '.join(tls.TLS_PROFILES)})")
    common(p)
    p.set_defaults(run=tls.tls)

    p = add("jmh")
    p.add_argument("--jmh-filter", default="", help="regex of the benchmarks to run (default all)")
    p.add_argument("--jmh-args", default="-wi 2 -i 3 -w 1s -r 1s -f 1",
                   help="JMH options (default '-wi 2 -i 3 -w 1s -r 1s -f 1': short; use e.g. '-wi 5 -i 10 -f 2' "
                   "for publishable numbers)")
    output(p)
    p.set_defaults(run=jmh.jmh)
    return ap


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    # no subcommand, or options only: throughput, the default since the first version of scripts/bench
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "throughput")
    args = parser().parse_args(argv)
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if hasattr(args, "gateway_jvm"):
        GATEWAY_JVM[:] = args.gateway_jvm.split()
    args.run(args)
    return 0
