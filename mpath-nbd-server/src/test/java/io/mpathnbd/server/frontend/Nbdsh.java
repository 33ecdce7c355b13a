package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.testing.peers.Tools;
import java.time.Duration;

/**
 * Runs a Python script in nbdsh (libnbd's shell, the handle is {@code h}) against a URI. The prelude defines
 * {@code uri} and {@code expect_errno(code, fn, *args)}; a script passes when it runs to its end.
 */
final class Nbdsh {
    private static final String DONE = "NBDSH-SCRIPT-DONE";
    private static final String PRELUDE = String.join("\n",
            "import errno",
            "uri = '%s'",
            "def expect_errno(code, fn, *args):",
            "    try:",
            "        fn(*args)",
            "    except nbd.Error as e:",
            "        assert e.errnum == code, 'expected %%s, got %%s' %% (errno.errorcode[code], e)",
            "        return",
            "    raise AssertionError('expected %%s, the call succeeded' %% errno.errorcode[code])",
            "");

    private Nbdsh() {
    }

    /** Runs {@code script} and fails with its output unless it ran to its end. */
    static Tools.Result check(String uri, String script) {
        Tools.Result r = Tools.run(Duration.ofSeconds(120), "nbdsh", "-c",
                String.format(PRELUDE, uri) + script + "\nprint('" + DONE + "')\n");
        assertTrue(r.ok() && r.stdout().contains(DONE), r.describe());
        return r;
    }
}
