package io.mpathnbd.iscsi.session;

import java.util.List;

/** One target from a SendTargets answer: its name and its addresses as sent ("host:port,tpgt"). */
public record DiscoveredTarget(String name, List<String> addresses) {
    public DiscoveredTarget {
        addresses = List.copyOf(addresses);
    }
}
