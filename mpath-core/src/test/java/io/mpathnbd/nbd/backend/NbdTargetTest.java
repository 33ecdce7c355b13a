package io.mpathnbd.nbd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.URI;
import org.junit.jupiter.api.Test;

class NbdTargetTest {
    @Test
    void hostPortAndExport() {
        NbdTarget t = NbdTarget.parse(URI.create("nbd://127.0.0.1:10810/disk0"));
        assertEquals(new NbdTarget("127.0.0.1", 10810, "disk0"), t);
    }

    @Test
    void nbdsMeansTls() {
        NbdTarget t = NbdTarget.parse(URI.create("NBDS://127.0.0.1/disk0"));
        assertEquals(new NbdTarget("127.0.0.1", 10809, "disk0", true), t);
        assertEquals("nbds://127.0.0.1:10809/disk0", t.display());
    }

    @Test
    void defaultPortAndEmptyExport() {
        assertEquals(new NbdTarget("localhost", 10809, ""), NbdTarget.parse(URI.create("nbd://localhost")));
        assertEquals(new NbdTarget("localhost", 10809, ""), NbdTarget.parse(URI.create("nbd://localhost/")));
    }

    @Test
    void exportNameIsPercentDecodedButPlusStays() {
        NbdTarget t = NbdTarget.parse(URI.create("nbd://h:1/my%20disk%2Fa+b%C3%A9/x"));
        assertEquals("my disk/a+bé/x", t.exportName());
    }

    @Test
    void ipv6Host() {
        assertEquals(new NbdTarget("::1", 10809, "d"), NbdTarget.parse(URI.create("nbd://[::1]/d")));
    }

    @Test
    void refusesWhatItCannotHonour() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NbdTarget.parse(URI.create("nbd:///disk"))).getMessage().contains("no host"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NbdTarget.parse(URI.create("nbd://h/disk?tls=on"))).getMessage().contains("query"));
        // bad escapes never get this far: the URI parser refuses them
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NbdTarget.parse(Drivers.parse("nbd://h/d%zz"))).getMessage().contains("malformed"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NbdTarget.parse(Drivers.parse("nbd://h/d%2"))).getMessage().contains("malformed"));
    }

    @Test
    void registeredForTheNbdScheme() {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Drivers drivers = new Drivers(new BackendContext(group, false));
            assertEquals("nbd://127.0.0.1:10811/x", drivers.create("nbd://127.0.0.1:10811/x",
                    DriverOptions.defaults()).displayUri());
            assertEquals(NbdDriver.class, drivers.create("NBD://h/x", DriverOptions.defaults()).getClass());
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
