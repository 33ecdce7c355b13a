package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.config.ExportDefinition;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.server.config.HostPort;
import io.mpathnbd.server.config.PathDefinition;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line itself: parsing, help, version, exit codes and messages. */
class CliTest {

    private static ServeCommand parseServe(String... args) {
        CommandLine cl = Main.commandLine();
        CommandLine.ParseResult pr = cl.parseArgs(args);
        return (ServeCommand) pr.subcommand().commandSpec().userObject();
    }

    @Test
    void inlineServeFormIsParsedExactly() {
        ServeCommand serve = parseServe("serve", "--listen", "127.0.0.1:20809", "--admin", "127.0.0.1:20810",
                "--export", "disk0=nbd://127.0.0.1:10810/disk0,nbd://127.0.0.1:10811/disk0",
                "--export", "disk1=file:/srv/disk1.img",
                "--iopolicy", "round-robin");
        GatewayConfig c = serve.buildConfig();
        assertEquals(new HostPort("127.0.0.1", 20809), c.listen());
        assertEquals(new HostPort("127.0.0.1", 20810), c.admin());
        assertEquals(List.of("disk0", "disk1"), c.exports().stream().map(ExportDefinition::name).toList());
        assertEquals(List.of("nbd://127.0.0.1:10810/disk0", "nbd://127.0.0.1:10811/disk0"),
                c.export("disk0").paths().stream().map(PathDefinition::uri).toList());
        assertEquals(List.of("p0", "p1"), c.export("disk0").paths().stream().map(PathDefinition::id).toList());
        assertEquals("round-robin", c.export("disk0").settings().ioPolicy());
        assertEquals("round-robin", c.export("disk1").settings().ioPolicy());
    }

    @Test
    void inlineServeFormWithoutOptionalFlags() {
        GatewayConfig c = parseServe("serve", "--export", "d=file:/x").buildConfig();
        assertEquals(new HostPort("0.0.0.0", 10809), c.listen());
        assertEquals(new HostPort("127.0.0.1", 9810), c.admin());
        assertEquals("numa", c.export("d").settings().ioPolicy());
    }

    @Test
    void configFilePlusInlineFlags(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, """
                listen: 127.0.0.1:1111
                admin: 127.0.0.1:2222
                exports:
                  - name: a
                    paths: [file:/a]
                """);
        GatewayConfig c = parseServe("serve", "--config", f.toString(), "--listen", "127.0.0.1:3333",
                "--export", "b=file:/b").buildConfig();
        assertEquals(new HostPort("127.0.0.1", 3333), c.listen());
        assertEquals(new HostPort("127.0.0.1", 2222), c.admin());
        assertEquals(List.of("a", "b"), c.exports().stream().map(ExportDefinition::name).toList());
    }

    @Test
    void wrongConfigSaysWhichKeyAndExitsTwo(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, """
                defaults:
                  fence_delay: 1s
                exports:
                  - name: a
                    paths: [file:/a]
                """);
        CliRun r = CliRun.of("serve", "--config", f.toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: unknown key 'fence_delay' at defaults (did you mean 'fence-delay'?)",
                r.err().strip());
        assertEquals("", r.out());

        r = CliRun.of("serve", "--export", "disk0=foo://x/y");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: --export 'disk0=foo://x/y': unsupported scheme 'foo'"
                + " (supported: file, iscsi, nbd, nbds)", r.err().strip());

        r = CliRun.of("serve", "--config", dir.resolve("missing.yaml").toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: cannot read " + dir.resolve("missing.yaml") + ": no such file",
                r.err().strip());

        r = CliRun.of("serve");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: --export: missing (give at least one --export NAME=URI[,URI...],"
                + " or --config FILE)", r.err().strip());
    }

    @Test
    void theDemoServesLoopbackUnlessToldOtherwise() {
        CommandLine cl = Main.commandLine();
        DemoCommand demo = (DemoCommand) cl.parseArgs("demo").subcommand().commandSpec().userObject();
        assertEquals("127.0.0.1:10809", demo.listen);
        assertEquals(GatewayConfig.DEFAULT_ADMIN, demo.admin);
        CliRun help = CliRun.of("demo", "--help");
        assertTrue(help.out().contains("Gateway NBD address (default: 127.0.0.1:10809;"), help.out());
        DemoCommand wide = (DemoCommand) Main.commandLine().parseArgs("demo", "--listen", "0.0.0.0:10809")
                .subcommand().commandSpec().userObject();
        assertEquals("0.0.0.0:10809", wide.listen);
    }

    @Test
    void usageErrorsExitTwo() {
        CliRun r = CliRun.of("serve", "--bogus");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("Unknown option: '--bogus'"), r.toString());
        r = CliRun.of();
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("missing command"), r.toString());
        r = CliRun.of("path", "fail", "disk0");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("Missing required parameter: 'PATH-ID'"), r.toString());
        r = CliRun.of("status", "--admin", "nowhere");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: --admin: 'nowhere' is not HOST:PORT (e.g. 127.0.0.1:10809)", r.err().strip());
    }

    @Test
    void unreachableAdminApiIsExplained() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free, and closed again: nobody listens there
        }
        String admin = "127.0.0.1:" + port;
        String expected = "mpath-nbd: cannot reach the admin API at " + admin
                + ": connection refused; is the gateway running?";
        for (String[] args : List.of(
                new String[] {"status", "--admin", admin},
                new String[] {"path", "fail", "--admin", admin, "disk0", "p0"},
                new String[] {"path", "add", "--admin", admin, "disk0", "file:/x"},
                new String[] {"iopolicy", "--admin", admin, "disk0", "round-robin"})) {
            CliRun r = CliRun.of(args);
            assertEquals(1, r.exitCode(), r.toString());
            assertEquals(expected, r.err().strip(), r.toString());
        }
    }

    @Test
    void helpOnEveryCommand() {
        List<List<String>> commands = List.of(List.of(), List.of("serve"), List.of("status"), List.of("path"),
                List.of("path", "fail"), List.of("path", "reinstate"), List.of("path", "add"),
                List.of("path", "remove"), List.of("iopolicy"), List.of("demo"));
        for (List<String> cmd : commands) {
            String[] args = new java.util.ArrayList<String>(cmd) {{ add("--help"); }}.toArray(new String[0]);
            CliRun r = CliRun.of(args);
            assertEquals(0, r.exitCode(), r.toString());
            String usage = ("Usage: mpath-nbd " + String.join(" ", cmd)).strip();
            assertTrue(r.out().startsWith(usage), r.toString());
            assertTrue(r.out().contains("-h, --help"), r.toString());
        }
        CliRun serve = CliRun.of("serve", "--help");
        for (String flag : List.of("--config=FILE", "--listen=HOST:PORT", "--admin=HOST:PORT",
                "--export=NAME=URI[,URI...]", "--iopolicy=POLICY")) {
            assertTrue(serve.out().contains(flag), flag + " in\n" + serve.out());
        }
        CliRun top = CliRun.of("--help");
        for (String sub : List.of("serve", "status", "path", "iopolicy", "demo")) {
            assertTrue(top.out().contains("  " + sub), sub + " in\n" + top.out());
        }
        CliRun status = CliRun.of("status", "--help");
        assertTrue(status.out().contains("127.0.0.1:9810"), status.out());
    }

    @Test
    void versionEverywhere() {
        for (String[] args : List.of(new String[] {"--version"}, new String[] {"serve", "--version"},
                new String[] {"status", "--version"}, new String[] {"path", "fail", "--version"})) {
            CliRun r = CliRun.of(args);
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.out().startsWith("mpath-nbd " + VersionProvider.version() + "\n"), r.toString());
        }
        // run from classes, not the jar: no manifest version
        assertEquals("dev", VersionProvider.version());
    }
}
