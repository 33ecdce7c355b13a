package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Refused connections are logged, but a storm of them is not: one line per interval, with the count it covers. */
class RefusalLogTest {

    @Test
    void firstRefusalAtOnceThenOneLinePerIntervalCountingTheRest() {
        Logger logger = (Logger) LoggerFactory.getLogger("test.refusals");
        List<String> lines = new ArrayList<>();
        AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                lines.add(e.getLevel() + " " + e.getFormattedMessage());
            }
        };
        capture.start();
        logger.addAppender(capture);
        try {
            AtomicLong now = new AtomicLong(1_000);
            RefusalLog log = new RefusalLog(logger, 10_000, now::get);
            log.refused("a: over the limit");
            for (int i = 0; i < 5; i++) {
                now.addAndGet(1_000);
                log.refused("b: over the limit");
            }
            assertEquals(List.of("WARN refused connection from a: over the limit"), lines);
            now.addAndGet(5_000); // 10 000 after the first line
            log.refused("c: over the limit");
            assertEquals("WARN refused connection from c: over the limit (5 more refused since the last such line)",
                    lines.get(1));
            now.addAndGet(60_000);
            log.refused("d: over the limit");
            assertEquals("WARN refused connection from d: over the limit", lines.get(2));
            assertEquals(3, lines.size());
        } finally {
            logger.detachAppender(capture);
        }
    }
}
