package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.Opcodes;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.util.ArrayList;
import java.util.List;

/**
 * The tasks in flight by Initiator Task Tag, and the tag allocator. Tags count up and skip the reserved 0xffffffff
 * and any tag still in use; pings and task management requests draw from the same counter, so a tag is not reused
 * until the 32-bit counter wraps. Confined to the connection's event loop.
 */
final class TaskTable {
    private final IntObjectMap<ActiveTask> tasks = new IntObjectHashMap<>();
    private int nextTag;

    TaskTable(int firstTag) {
        this.nextTag = firstTag;
    }

    /** A fresh tag, never the reserved one nor one of a task in flight. */
    int newTag() {
        while (true) {
            int tag = nextTag++;
            if (tag != Opcodes.RESERVED_TAG && !tasks.containsKey(tag)) {
                return tag;
            }
        }
    }

    void add(ActiveTask task) {
        tasks.put(task.itt, task);
    }

    ActiveTask get(int itt) {
        return tasks.get(itt);
    }

    ActiveTask remove(int itt) {
        return tasks.remove(itt);
    }

    int size() {
        return tasks.size();
    }

    boolean isEmpty() {
        return tasks.isEmpty();
    }

    /** A snapshot, for sweeps that may remove tasks while going through them. */
    List<ActiveTask> snapshot() {
        return new ArrayList<>(tasks.values());
    }
}
