"""The benchmarks of the gateway, driven by scripts/bench: one module per subcommand (throughput, failover, paths,
scale, iscsi, jmh), the processes they start (rig, tgtd), the fio runs they share (fio), and the command line
(cli). See docs/benchmarks.md and BENCHMARKS.md."""
