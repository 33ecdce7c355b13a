package io.mpathnbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link BusyPollStrategy} against a scripted epoll and a fake clock: every non-blocking poll takes one microsecond of
 * fake time, so what the strategy does depends on nothing but the script.
 */
class BusyPollStrategyTest {
    private static final long US = 1_000;
    private static final long WINDOW = 50 * US;

    private long now = 1_000_000 * US;
    private final AtomicBoolean tasks = new AtomicBoolean();
    private final BusyPollStrategy strategy = new BusyPollStrategy(WINDOW, () -> now, tasks::get);

    /** A non-blocking epoll_wait that answers from a script (then 0) and takes 1 us each time. */
    private class ScriptedEpoll implements IntSupplier {
        final Deque<Integer> answers;
        int polls;

        ScriptedEpoll(Integer... answers) {
            this.answers = new ArrayDeque<>(List.of(answers));
        }

        @Override
        public int get() {
            polls++;
            now += US;
            Integer next = answers.poll();
            return next == null ? 0 : next;
        }
    }

    private int wait(ScriptedEpoll epoll) throws Exception {
        return strategy.calculateStrategy(epoll, false);
    }

    /** The loop comes back {@code micros} after it began its last wait. */
    private void elapse(long micros) {
        now += micros * US;
    }

    @Test
    void anIdleLoopSleepsWithoutPolling() throws Exception {
        ScriptedEpoll epoll = new ScriptedEpoll(3);
        assertEquals(SelectStrategy.SELECT, wait(epoll), "the first wait: nothing seen yet");
        elapse(10_000);
        assertEquals(SelectStrategy.SELECT, wait(epoll), "back after 10 ms: idle");
        assertEquals(0, epoll.polls);
    }

    @Test
    void aLoopBackWithinTheWindowSpinsAndPassesTheReadyCountThrough() throws Exception {
        assertEquals(SelectStrategy.SELECT, wait(new ScriptedEpoll()));
        elapse(20);
        ScriptedEpoll epoll = new ScriptedEpoll(0, 0, 0, 3);
        assertEquals(3, wait(epoll), "the ready count of the poll that found events, for Netty to process");
        assertEquals(4, epoll.polls, "polled until events came, not once more (that would overwrite them)");
    }

    @Test
    void aSpinEndsAfterTheWindowAndTheNextWaitSleepsAtOnce() throws Exception {
        wait(new ScriptedEpoll());
        elapse(20);
        long start = now;
        ScriptedEpoll nothing = new ScriptedEpoll();
        assertEquals(SelectStrategy.SELECT, wait(nothing));
        assertEquals(WINDOW / US, nothing.polls, "one poll per fake microsecond of the window");
        assertTrue(now - start <= WINDOW, "spun " + (now - start) + " ns, window " + WINDOW);

        // woken from the sleep 5 us after it began: spin plus sleep outlasted the window, so no spin this time
        elapse(5);
        ScriptedEpoll next = new ScriptedEpoll(1);
        assertEquals(SelectStrategy.SELECT, wait(next));
        assertEquals(0, next.polls);
        // ... but a short sleep makes the loop busy again
        elapse(30);
        assertEquals(1, wait(new ScriptedEpoll(1)));
    }

    @Test
    void comingBackJustAfterTheWindowSleeps() throws Exception {
        wait(new ScriptedEpoll());
        elapse(WINDOW / US);
        assertEquals(1, wait(new ScriptedEpoll(1)), "back exactly at the window: still busy");
        elapse(WINDOW / US + 1);
        ScriptedEpoll epoll = new ScriptedEpoll(1);
        assertEquals(SelectStrategy.SELECT, wait(epoll));
        assertEquals(0, epoll.polls);
    }

    @Test
    void withTasksItPollsOnceAndNeverSpins() throws Exception {
        wait(new ScriptedEpoll());
        elapse(1);
        ScriptedEpoll epoll = new ScriptedEpoll(0, 5);
        assertEquals(0, strategy.calculateStrategy(epoll, true));
        assertEquals(1, epoll.polls);
        assertEquals(5, strategy.calculateStrategy(epoll, true));
        // the tasks ran and the loop is back at once: it counts as busy
        assertEquals(2, wait(new ScriptedEpoll(0, 2)));
    }

    @Test
    void aTaskQueuedDuringTheSpinEndsIt() throws Exception {
        wait(new ScriptedEpoll());
        elapse(10);
        ScriptedEpoll epoll = new ScriptedEpoll() {
            @Override
            public int get() {
                // another thread queues a task at the third poll; Netty would not wake a spinning loop for it
                tasks.set(polls == 2);
                return super.get();
            }
        };
        assertEquals(0, wait(epoll), "0: nothing to process, go and run the task");
        assertEquals(3, epoll.polls);
    }

    @Test
    void theWindowMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new BusyPollStrategy(0, () -> now, () -> false));
    }
}
