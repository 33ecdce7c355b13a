package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.cli.Main;
import io.mpathnbd.server.metrics.MeterNames;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The reference pages under {@code docs/} name everything the code accepts: every configuration key the reader
 * allows (docs/configuration.md), every command and option of the CLI (docs/cli.md) and every meter
 * (docs/admin-api.md). A key added to the code without a line in its page fails here.
 */
class DocumentedKeysTest {

    @Test
    void everyConfigKeyIsInTheConfigurationReference() throws IOException {
        String doc = page("configuration.md");
        Set<String> keys = new LinkedHashSet<>();
        keys.addAll(ConfigReader.ROOT_KEYS);
        keys.addAll(ConfigReader.LIMIT_KEYS);
        keys.addAll(ExportSettings.KEYS);
        keys.addAll(ConfigReader.EXPORT_KEYS);
        keys.addAll(ConfigReader.PATH_KEYS);
        keys.addAll(IscsiSection.KEYS);
        keys.addAll(BackendTlsSection.KEYS);
        keys.addAll(AdminAuth.KEYS);
        keys.addAll(AccessSection.KEYS);
        keys.addAll(AccessSection.ENTRY_KEYS);
        List<String> missing = new ArrayList<>();
        for (String key : keys) {
            // as a YAML key ("key:") or named in the text ("`key`"), not as part of a longer key
            if (!Pattern.compile("(?<![a-z-])" + Pattern.quote(key) + "(:|`)").matcher(doc).find()) {
                missing.add(key);
            }
        }
        assertTrue(missing.isEmpty(), "config keys the reader accepts but docs/configuration.md does not name: "
                + missing);
    }

    @Test
    void everyCommandAndOptionIsInTheCliReference() throws IOException {
        String doc = page("cli.md");
        List<String> missing = new ArrayList<>();
        walk(new CommandLine(new Main()).getCommandSpec(), "", doc, missing);
        assertTrue(missing.isEmpty(), "CLI commands or options that docs/cli.md does not name: " + missing);
    }

    @Test
    void everyMeterIsInTheAdminApiPage() throws IOException, IllegalAccessException {
        String doc = page("admin-api.md");
        List<String> missing = new ArrayList<>();
        for (Field f : MeterNames.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != String.class) {
                continue;
            }
            // Prometheus spells mpath.path.requests as mpath_path_requests_total, a timer with _seconds, bytes
            // counters with _bytes_total
            String base = ((String) f.get(null)).replace('.', '_');
            Matcher m = Pattern.compile("`" + Pattern.quote(base) + "(|_total|_seconds|_bytes_total)`").matcher(doc);
            if (!m.find()) {
                missing.add(base);
            }
        }
        assertTrue(missing.isEmpty(), "meters that docs/admin-api.md does not name: " + missing);
    }

    private static void walk(CommandSpec spec, String prefix, String doc, List<String> missing) {
        for (var sub : spec.subcommands().entrySet()) {
            if (sub.getKey().equals("help")) {
                continue;
            }
            String command = (prefix + " " + sub.getKey()).trim();
            CommandSpec s = sub.getValue().getCommandSpec();
            if (!doc.contains("`" + command)) {
                missing.add(command);
            }
            for (OptionSpec o : s.options()) {
                if (!Pattern.compile("(?<![a-z-])" + Pattern.quote(o.longestName()) + "(?![a-z-])").matcher(doc)
                        .find()) {
                    missing.add(command + " " + o.longestName());
                }
            }
            walk(s, command, doc, missing);
        }
    }

    /** A page of docs/, found from the module's directory or the repository root, whichever the test runs in. */
    static String page(String name) throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path p = dir.resolve("docs").resolve(name);
            if (Files.isRegularFile(p)) {
                return Files.readString(p);
            }
            dir = dir.getParent();
        }
        throw new IOException("docs/" + name + " not found above " + Path.of("").toAbsolutePath());
    }
}
