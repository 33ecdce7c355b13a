package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ZoneOps;

/**
 * A new session checked against its export before it carries I/O: does it reach the export's disk (size, identity, zone layout),
 * and can it do what the export advertises?
 *
 * @param info what the session reports, or null if it reported nothing usable
 * @param refusal null to accept, else why the path is refused
 */
record SessionCheck(BackendInfo info, String refusal) {

    static SessionCheck of(BackendSession session, Path path, PathHost host) {
        try {
            BackendInfo info = session.info();
            ZoneOps zones = session.zones();
            return new SessionCheck(info, info == null ? "the session reports no disk information"
                    : host.admit(path, info, zones == null ? null : zones.layout()));
        } catch (RuntimeException e) {
            return new SessionCheck(null, "checking the session failed: " + e);
        }
    }

    boolean accepted() {
        return refusal == null;
    }
}
