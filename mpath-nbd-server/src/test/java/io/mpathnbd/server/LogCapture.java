package io.mpathnbd.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/**
 * Everything logged while a test runs (io.mpathnbd and io.netty down to DEBUG, other loggers as configured),
 * messages with their exception traces, as log files and consoles would show them; for tests that a secret never
 * reaches the log.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> {
    private static final List<String> LOUDER = List.of("io.mpathnbd", "io.netty");

    private final ConcurrentLinkedQueue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final List<Level> levels = new ArrayList<>();

    public void attach() {
        setContext(root.getLoggerContext());
        setName("test-log-capture");
        start();
        for (String name : LOUDER) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            levels.add(l.getLevel());
            l.setLevel(Level.DEBUG);
        }
        root.addAppender(this);
    }

    public void detach() {
        root.detachAppender(this);
        for (int i = 0; i < LOUDER.size(); i++) {
            ((Logger) LoggerFactory.getLogger(LOUDER.get(i))).setLevel(levels.get(i));
        }
        stop();
    }

    @Override
    protected void append(ILoggingEvent e) {
        e.prepareForDeferredProcessing();
        events.add(e);
    }

    public List<String> lines() {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : events) {
            String trace = e.getThrowableProxy() == null ? "" : "\n" + ThrowableProxyUtil.asString(
                    e.getThrowableProxy());
            out.add(e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage() + trace);
        }
        return out;
    }
}
