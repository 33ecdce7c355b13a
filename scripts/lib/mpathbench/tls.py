"""scripts/bench tls: what TLS costs. fio through the gateway and through nbdkit's nbd proxy, each in clear text and
with TLS required on the client side (same certificates, same backend nbd-server), interleaved in one run. The gateway
runs TLS twice, with BoringSSL (netty-tcnative, `provider: openssl`) and with the JDK's engine, so the default can be
chosen from one run's figures."""
import os
import subprocess
import tempfile
import time
from pathlib import Path

from .fio import fio
from .rig import Rig, free_port, median_of, write_results

TLS_PROFILES = ["randread-4k-qd16", "seqread-1m-qd8"]


def make_certificates(work):
    """A throwaway CA and a server and client certificate (ECDSA P-256) for 127.0.0.1, in the directory layout
    nbdkit, qemu and libnbd read; libnbd (and so fio) finds the client side in $HOME/.pki/libnbd."""
    d = work / "pki"
    d.mkdir()
    ssl = lambda *a: subprocess.run(["openssl", *a], check=True, cwd=d, capture_output=True)
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/O=mpath-nbd bench/CN=bench CA", "-keyout", "ca-key.pem", "-out", "ca-cert.pem")
    for role, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        (d / f"{role}.ext").write_text(ext + "\n")
        ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", f"/O=mpath-nbd bench/CN={role}", "-keyout", f"{role}-key.pem", "-out", f"{role}.csr")
        ssl("x509", "-req", "-in", f"{role}.csr", "-CA", "ca-cert.pem", "-CAkey", "ca-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", f"{role}.ext", "-out", f"{role}-cert.pem")
    home = work / "client-home"
    (home / ".pki").mkdir(parents=True)
    (home / ".pki" / "libnbd").symlink_to(d)
    return d, home


def tls(args):
    work = Path(tempfile.mkdtemp(prefix="mpath-tls-", dir=args.workdir)).resolve()
    rig = Rig(work, args.size_mib, image_dir=args.image_dir)
    try:
        pki, home = make_certificates(work)
        srv_port = rig.nbd_server("nbd-server")
        backend = f"nbd://127.0.0.1:{srv_port}/disk"
        plain_gw, _ = rig.gateway({"disk": [backend]}, args.policy, name="gateway")
        pids = {"gateway": rig.gateway_proc.pid}
        tls_ports = {}
        for name, provider in (("gateway-tls", "openssl"), ("gateway-tls-jdk", "jdk")):
            tls_ports[name], _ = rig.gateway({"disk": [backend]}, args.policy, name=name,
                                             extra=gateway_tls_yaml(pki, provider))
            pids[name] = rig.gateway_proc.pid
        proxy_port = rig.nbdkit_proxy(srv_port)
        pids["nbdkit"] = rig.proxy_proc.pid
        tls_proxy = free_port()
        proc = rig.spawn("nbdkit-tls", ["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(tls_proxy), "--tls=require",
                                        f"--tls-certificates={pki}", "nbd", f"uri={backend}"], tls_proxy)
        pids["nbdkit-tls"] = proc.pid
        targets = {"gateway": f"nbd://127.0.0.1:{plain_gw}/disk", **{n: f"nbds://127.0.0.1:{p}/disk" for n, p in tls_ports.items()},
                   "nbdkit": f"nbd://127.0.0.1:{proxy_port}/", "nbdkit-tls": f"nbds://127.0.0.1:{tls_proxy}/"}
        env = dict(os.environ, HOME=str(home))
        profiles = args.profiles or TLS_PROFILES
        results = {p: {t: [] for t in targets} for p in profiles}
        ticks = os.sysconf("SC_CLK_TCK")
        for rnd in range(args.rounds):
            for profile in profiles:
                order = list(targets) if rnd % 2 == 0 else list(reversed(targets))
                for t in order:
                    cpu0 = cpu_ticks(pids[t])
                    r = fio(targets[t], profile, args.runtime, f"{args.size_mib}m", env=env)
                    r["cpu_us"] = (cpu_ticks(pids[t]) - cpu0) / ticks * 1e6 / max(r["iops"] * (args.runtime + 1), 1)
                    results[profile][t].append(r)
                    print(f"round {rnd + 1} {profile:18} {t:12} {r['iops']:9.0f} IOPS {r['mbps']:8.1f} MB/s "
                          f"p99 {r['p99']:7.0f} us CPU {r['cpu_us']:6.1f} us/req", flush=True)
        lines = [f"# scripts/bench tls ({time.strftime('%Y-%m-%d %H:%M:%S')})", "",
                 f"machine: {os.cpu_count()} cores; {args.rounds} interleaved rounds x {args.runtime}s, median per "
                 f"cell; gateway-tls: BoringSSL (netty-tcnative), gateway-tls-jdk: the JDK's engine; ECDSA P-256 certificates, TLS 1.3 (the client's "
                 f"choice); one backend nbd-server in clear text behind both proxies", "",
                 "| profile | target | IOPS | MB/s | p99 us | CPU us/req | TLS vs clear |", "|---|---|---|---|---|---|---|"]
        summary = {}
        for profile, per in results.items():
            for t, runs in per.items():
                iops = median_of(runs, "iops")
                clear = median_of(per[t.split("-tls")[0]], "iops")
                row = dict(iops=iops, mbps=median_of(runs, "mbps"), p99=median_of(runs, "p99"),
                           cpu_us=median_of(runs, "cpu_us"), vs_clear=iops / clear if clear else 0)
                summary.setdefault(profile, {})[t] = row
                lines.append(f"| {profile} | {t} | {iops:.0f} | {row['mbps']:.1f} | {row['p99']:.0f} | "
                             f"{row['cpu_us']:.1f} | {row['vs_clear']:.2f} |")
        write_results(args, "tls.md", lines, summary)
    finally:
        rig.close()


def gateway_tls_yaml(pki, provider):
    """The gateway's config lines for TLS required on its NBD port with the certificates in `pki`; `provider` is
    openssl or jdk (the gateway refuses to start when openssl is asked for and does not load)."""
    return "\n".join(["tls:", "  mode: required", f"  certificates: {pki}", f"  provider: {provider}"])


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
