package io.mpathnbd.server;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.server.access.ExportAccess;
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
    private final Map<String, ExportAccess> access;

    /** @param access each export's access by name; an export without an entry is open */
    GatewayExports(List<Export> exports, Map<String, ExportAccess> access) {
        this.access = Map.copyOf(access);
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

    @Override
    public ExportAccess access(Export export) {
        return access.getOrDefault(export.name(), ExportAccess.OPEN);
    }
}
