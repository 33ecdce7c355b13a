package io.mpathnbd.server;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.server.frontend.ExportCatalog;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The gateway's exports by name, in configuration order; fixed once the gateway has started. */
final class GatewayExports implements ExportCatalog {
    private final Map<String, Export> byName;
    private final List<Export> ordered;

    GatewayExports(List<Export> exports) {
        Map<String, Export> m = new LinkedHashMap<>();
        for (Export e : exports) {
            m.put(e.name(), e);
        }
        byName = Collections.unmodifiableMap(m);
        ordered = List.copyOf(exports);
    }

    @Override
    public Export find(String name) {
        if (name == null || name.isEmpty()) {
            return ordered.isEmpty() ? null : ordered.get(0);
        }
        return byName.get(name);
    }

    @Override
    public Collection<Export> all() {
        return ordered;
    }
}
