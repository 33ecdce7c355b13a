package io.mpathnbd.server.cli;

import io.mpathnbd.server.GatewayStartException;
import io.mpathnbd.server.config.ConfigException;
import java.io.PrintWriter;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code mpath-nbd} command: a multipath NBD gateway and the clients of its admin API. */
@Command(name = "mpath-nbd",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"A multipath NBD gateway: one virtual disk over NBD, several backend paths behind it.", ""},
        commandListHeading = "%nCommands:%n",
        footer = {"", "Exit codes: 0 ok, 1 run-time error, 2 usage or configuration error.",
                "Run 'mpath-nbd COMMAND --help' for a command's options."},
        subcommands = {ServeCommand.class, StatusCommand.class, PathCommand.class, IoPolicyCommand.class,
                ZoneCommand.class, PrCommand.class, PersistCommand.class, DemoCommand.class, DiscoverCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_RUNTIME = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(),
                "missing command (serve, status, path, iopolicy, pr, persist, demo, discover)");
    }

    public static void main(String[] args) {
        defaultLeakDetectionOff();
        System.exit(execute(args));
    }

    /**
     * Netty's default leak detection samples one buffer in 128 and records a stack trace for it; with a few buffers
     * per request that cost about 5 % of the gateway's CPU at 4k QD16 (JFR/perf). The process turns it off unless
     * the operator chose a level ({@code -Dio.netty.leakDetection.level=simple|advanced|paranoid} to hunt a leak);
     * the tests run everything with {@code paranoid}. Must run before any Netty class reads the property.
     */
    static void defaultLeakDetectionOff() {
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
    }

    /** Runs a command line with the process's stdout/stderr; returns the exit code. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs a command line writing to the given streams; returns the exit code (for tests and embedding). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handleException);
        return cl;
    }

    private static int handleException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof ConfigException) {
            err.println("mpath-nbd: config error: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (e instanceof CliException ce) {
            err.println("mpath-nbd: " + e.getMessage());
            return ce.exitCode();
        }
        if (e instanceof GatewayStartException) {
            err.println("mpath-nbd: " + e.getMessage());
            return EXIT_RUNTIME;
        }
        LoggerFactory.getLogger(Main.class).debug("command failed", e);
        err.println("mpath-nbd: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        return EXIT_RUNTIME;
    }
}
