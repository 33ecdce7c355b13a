package io.mpathnbd.server.cli;

import io.mpathnbd.server.Gateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** SIGHUP reloads the TLS certificates of a running gateway, as daemons conventionally do with their files. */
final class Reload {
    private static final Logger LOG = LoggerFactory.getLogger(Reload.class);

    private Reload() {
    }

    static void onHangup(Gateway gateway) {
        try {
            Signal.handle(new Signal("HUP"), s -> {
                LOG.info("SIGHUP: reloading TLS certificates");
                gateway.reloadCertificates("SIGHUP");
            });
        } catch (IllegalArgumentException e) {
            // no SIGHUP on this platform, or the JVM keeps it (-Xrs): the periodic checks still see new files
            LOG.debug("SIGHUP cannot be handled here: {}", e.getMessage());
        }
    }
}
