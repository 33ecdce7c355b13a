package io.mpathnbd.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps mpath-core's packages in layers: a package may use its own layer's transport family and the layers below
 * it, never a layer above or a sibling of its own rank, and the package graph has no cycle.
 *
 * <p>It reads the main sources, comments removed, and takes every {@code io.mpathnbd} name in them (imports, static
 * imports and fully qualified names in code), so an unused import of a higher layer fails too.
 */
class LayeringTest {
    private static final String ROOT = "io.mpathnbd.";

    /** Lowest first. Packages of one rank are independent of each other. */
    private static final Map<String, Integer> CORE_RANKS = Map.ofEntries(
            Map.entry("core.time", 0),
            Map.entry("core.buffer", 0),
            Map.entry("core.request", 0),
            Map.entry("core.tls", 0),
            Map.entry("core.zone", 0),
            Map.entry("core.backend", 1),
            Map.entry("core.path", 2),
            Map.entry("core.policy", 3),
            Map.entry("core.observe", 4),
            Map.entry("core.export", 5),
            Map.entry("core.reservation", 6));

    /** Transports sit on the SPI (rank 1 and below) and know nothing of paths, policies or exports. */
    private static final int TRANSPORT_RANK = 2;
    private static final Set<String> TRANSPORTS = Set.of("nbd", "iscsi", "file");

    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    private static final Pattern NAME = Pattern.compile(
            "\\bio\\.mpathnbd\\.((?:[a-z0-9_]+\\.)*[a-z0-9_]+)\\.(?:[A-Z]|\\*)");

    @Test
    void noPackageUsesAHigherLayerOrASibling() throws IOException {
        Map<String, Set<String>> graph = dependencies(Paths.get("src/main/java"));
        assertTrue(graph.containsKey("core.export") && graph.containsKey("core.backend"),
                "the main sources were not found: " + graph.keySet());
        List<String> violations = new ArrayList<>();
        for (String pkg : graph.keySet()) {
            if (rank(pkg) == null) { // even with no edge yet: the next import must meet a rule
                violations.add(pkg + ": has no layer: give it one in " + LayeringTest.class.getSimpleName());
            }
        }
        graph.forEach((from, targets) -> {
            for (String to : targets) {
                String why = violation(from, to);
                if (why != null) {
                    violations.add(from + " -> " + to + ": " + why);
                }
            }
        });
        assertEquals(List.of(), violations, "layering violations");
    }

    @Test
    void thePackageGraphHasNoCycle() throws IOException {
        Map<String, Set<String>> graph = dependencies(Paths.get("src/main/java"));
        List<String> cycle = findCycle(graph);
        assertEquals(List.of(), cycle, "package cycle");
    }

    /** Null if {@code from} may use {@code to}, else why not. */
    static String violation(String from, String to) {
        if (from.equals(to)) {
            return null;
        }
        Integer fromRank = rank(from);
        Integer toRank = rank(to);
        if (fromRank == null) {
            return "package " + from + " has no layer: give it one in " + LayeringTest.class.getSimpleName();
        }
        if (toRank == null) {
            return "package " + to + " has no layer: give it one in " + LayeringTest.class.getSimpleName();
        }
        if (TRANSPORTS.contains(family(from)) && family(from).equals(family(to))) {
            return null; // within one transport (nbd.backend -> nbd.protocol); cycles are checked separately
        }
        if (toRank > fromRank) {
            return "a lower layer (" + fromRank + ") uses a higher one (" + toRank + ")";
        }
        if (toRank.equals(fromRank)) {
            return "packages of one layer (" + fromRank + ") are independent of each other";
        }
        return null;
    }

    private static Integer rank(String pkg) {
        Integer core = CORE_RANKS.get(pkg);
        if (core != null) {
            return core;
        }
        return TRANSPORTS.contains(family(pkg)) ? TRANSPORT_RANK : null;
    }

    private static String family(String pkg) {
        int dot = pkg.indexOf('.');
        return dot < 0 ? pkg : pkg.substring(0, dot);
    }

    /** Package (relative to io.mpathnbd) to the io.mpathnbd packages its sources name. */
    static Map<String, Set<String>> dependencies(Path sources) throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String code = withoutComments(Files.readString(f, StandardCharsets.UTF_8));
                Matcher pm = PACKAGE.matcher(code);
                if (!pm.find() || !pm.group(1).startsWith(ROOT)) {
                    continue;
                }
                String from = pm.group(1).substring(ROOT.length());
                Set<String> targets = graph.computeIfAbsent(from, k -> new TreeSet<>());
                Matcher m = NAME.matcher(code);
                while (m.find()) {
                    if (!m.group(1).equals(from)) {
                        targets.add(m.group(1));
                    }
                }
            }
        }
        return graph;
    }

    /** The source with comments blanked out; string and char literals are kept as they are. */
    static String withoutComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            char next = i + 1 < n ? s.charAt(i + 1) : 0;
            if (c == '/' && next == '/') {
                while (i < n && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && next == '*') {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && s.charAt(j) != c && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(n, j + 1);
                out.append(s, i, j);
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** One cycle of the graph as its packages in order (the first repeated at the end), or an empty list. */
    static List<String> findCycle(Map<String, Set<String>> graph) {
        Map<String, Integer> mark = new TreeMap<>(); // 1 = on the current walk, 2 = done
        List<String> walk = new ArrayList<>();
        for (String start : graph.keySet()) {
            List<String> cycle = visit(start, graph, mark, walk);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    private static List<String> visit(String node, Map<String, Set<String>> graph, Map<String, Integer> mark,
            List<String> walk) {
        Integer m = mark.get(node);
        if (m != null && m == 2) {
            return List.of();
        }
        if (m != null) {
            List<String> cycle = new ArrayList<>(walk.subList(walk.indexOf(node), walk.size()));
            cycle.add(node);
            return cycle;
        }
        mark.put(node, 1);
        walk.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> cycle = visit(next, graph, mark, walk);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        walk.remove(walk.size() - 1);
        mark.put(node, 2);
        return List.of();
    }

    @Test
    void theRulesThemselves() {
        assertEquals(null, violation("core.export", "core.path"));
        assertEquals(null, violation("nbd.backend", "nbd.protocol"));
        assertEquals(null, violation("iscsi.backend", "core.backend"));
        assertTrue(violation("core.path", "core.export") != null);
        assertTrue(violation("core.request", "core.time") != null);
        assertTrue(violation("file", "core.path") != null);
        assertTrue(violation("nbd.backend", "iscsi.scsi") != null);
        assertEquals(List.of("a", "b", "a"),
                findCycle(new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("a")))));
        assertEquals(" int x; \nString s = \"// no\";\n",
                withoutComments("/* c */int x; // d\nString s = \"// no\";\n"));
    }
}
