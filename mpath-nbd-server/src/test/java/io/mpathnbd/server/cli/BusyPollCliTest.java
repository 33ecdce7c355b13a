package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code mpath-nbd serve --busy-poll}: parsing, its message when wrong, and what a gateway without epoll does. */
class BusyPollCliTest {
    @TempDir
    Path dir;

    private static GatewayConfig serve(String... args) {
        CommandLine.ParseResult pr = Main.commandLine().parseArgs(args);
        return ((ServeCommand) pr.subcommand().commandSpec().userObject()).buildConfig();
    }

    @Test
    void theFlagSetsOrOverridesTheWindow() throws Exception {
        assertEquals(Duration.ofNanos(50_000),
                serve("serve", "--export", "d=file:/x", "--busy-poll", "50us").busyPoll());
        assertEquals(Duration.ZERO, serve("serve", "--export", "d=file:/x").busyPoll());
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, """
                busy-poll: 20us
                exports:
                  - name: a
                    paths: [file:/a]
                """);
        assertEquals(Duration.ofNanos(20_000), serve("serve", "--config", f.toString()).busyPoll());
        assertEquals(Duration.ZERO, serve("serve", "--config", f.toString(), "--busy-poll", "0").busyPoll());
    }

    @Test
    void aBadValueIsAConfigErrorWithExitTwo() {
        CliRun r = CliRun.of("serve", "--export", "d=file:/x", "--busy-poll", "1s");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: --busy-poll: '1s' is too large (at most 1ms)", r.err().strip());
        CliRun help = CliRun.of("serve", "--help");
        assertTrue(help.out().contains("--busy-poll=DURATION"), help.out());
    }

    @Test
    void withoutNativeEpollTheSettingIsIgnoredAndSaidSo() throws Exception {
        Tools.require("nbdinfo", "qemu-io");
        Path img = GatewayTestSupport.image(dir, "disk.img");
        int nbd = FreePort.next();
        int admin = FreePort.next();
        try (ChildProcess p = ChildProcess.start(dir, List.of("-Dio.netty.transport.noNative=true"), "serve",
                "--listen", "127.0.0.1:" + nbd, "--admin", "127.0.0.1:" + admin,
                "--export", "disk0=" + GatewayTestSupport.fileUri(img), "--busy-poll", "50us")) {
            p.awaitOutput("the gateway to listen", Duration.ofSeconds(30),
                    s -> s.contains("serving NBD on 127.0.0.1:" + nbd));
            assertTrue(p.err().contains("), using NIO transport, ") && p.err().contains("; busy-poll 50us ignored (it needs"
                    + " native epoll)"), p.describe());
            String uri = "nbd://127.0.0.1:" + nbd + "/disk0";
            GatewayTestSupport.await("export ready", Duration.ofSeconds(20),
                    () -> Tools.run(Duration.ofSeconds(20), "nbdinfo", "--size", uri).ok());
            Tools.Result rw = GatewayTestSupport.writeAndVerify(uri, 0, 0x3c).assertOk();
            assertTrue(!rw.stdout().contains("failed"), rw.describe());
        }
    }
}
