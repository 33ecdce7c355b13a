package io.mpathnbd.server.frontend;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link FrontendObserver} that remembers what it was told, for assertions. */
final class RecordingObserver implements FrontendObserver {
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final List<String> attached = new CopyOnWriteArrayList<>();
    final List<String> detached = new CopyOnWriteArrayList<>();
    final List<String> protocolErrors = new CopyOnWriteArrayList<>();
    final List<String> accessRefused = new CopyOnWriteArrayList<>();

    @Override
    public void connectionOpened() {
        opened.incrementAndGet();
    }

    @Override
    public void connectionClosed() {
        closed.incrementAndGet();
    }

    @Override
    public void clientAttached(String exportName) {
        attached.add(exportName);
    }

    @Override
    public void clientDetached(String exportName) {
        detached.add(exportName);
    }

    @Override
    public void accessRefused(String exportName) {
        accessRefused.add(exportName);
    }

    @Override
    public void protocolError(String reason) {
        protocolErrors.add(reason);
    }
}
