package io.mpathnbd.core.backend;

import io.mpathnbd.core.request.Errno;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Persistent reservation commands on one session: the control template beside {@link BackendSession#submit}, as the
 * kernel's {@code pr_ops} sit beside {@code submit_bio}. A session offers them through
 * {@link BackendSession#reservations()}; a transport without reservations (NBD, file) offers none, and the export
 * reports the command as unsupported by that path.
 *
 * <p>Each call acts on this session's nexus only (a registration belongs to one I_T nexus; for iSCSI, one session).
 * Spreading a command over the paths (REGISTER on every path, RESERVE through one, RELEASE on every path) is the
 * export's job, not the session's.
 *
 * <p>Every future completes normally, from any thread, with a {@link ControlResult}: the value, or a failure
 * classified as for I/O. PATH or TIMEOUT: the nexus was lost or did not answer (another path may succeed); TARGET:
 * the disk refuses (an unsupported service action or type, ILLEGAL REQUEST); RESERVATION_CONFLICT: the disk refuses
 * because of the reservation state.
 *
 * <p>For iSCSI each method is one PERSISTENT RESERVE IN (0x5E) or OUT (0x5F) command sent like the session's other
 * control commands (attach, ALUA, probe): its status and sense classified by the SCSI classifier, status 0x18 mapped
 * to RESERVATION_CONFLICT, the PR IN data parsed into the records below, the PR OUT parameter list built from the
 * keys (24 bytes, no APTPL, ALL_TG_PT or SPEC_I_PT).
 */
public interface ReservationOps {

    /** READ KEYS: every registered key, in the order the disk reports them (a key once per nexus). */
    CompletableFuture<ControlResult<Keys>> readKeys();

    /** READ RESERVATION: the reservation held, if any. */
    CompletableFuture<ControlResult<Status>> readReservation();

    /** REPORT CAPABILITIES. */
    CompletableFuture<ControlResult<Capabilities>> reportCapabilities();

    /**
     * REGISTER ({@code oldKey}: this nexus's current key, 0 if none) or, with {@code ignoreExisting}, REGISTER AND
     * IGNORE EXISTING KEY ({@code oldKey} unused). {@code newKey} 0 unregisters.
     */
    CompletableFuture<ControlResult<Void>> register(long oldKey, long newKey, boolean ignoreExisting);

    /**
     * REGISTER as {@link #register(long, long, boolean)}, with the parameter list's APTPL (persist through power
     * loss) and ALL_TG_PT (register on every target port) flags. A transport that cannot send them answers ENOTSUP
     * rather than registering without them.
     */
    default CompletableFuture<ControlResult<Void>> register(long oldKey, long newKey, boolean ignoreExisting,
            RegisterFlags flags) {
        if (!flags.any()) {
            return register(oldKey, newKey, ignoreExisting);
        }
        return CompletableFuture.completedFuture(ControlResult.failed(Failure.target(Errno.ENOTSUP,
                flags + " cannot be sent by this transport")));
    }

    /** READ FULL STATUS: every registration with its nexus; a transport without it answers ENOTSUP. */
    default CompletableFuture<ControlResult<FullStatus>> readFullStatus() {
        return CompletableFuture.completedFuture(ControlResult.failed(Failure.target(Errno.ENOTSUP,
                "READ FULL STATUS cannot be sent by this transport")));
    }

    /** RESERVE with this nexus's registered {@code key}. */
    CompletableFuture<ControlResult<Void>> reserve(long key, ReservationType type);

    /** RELEASE the reservation {@code key} holds with {@code type}. */
    CompletableFuture<ControlResult<Void>> release(long key, ReservationType type);

    /** CLEAR: removes every registration and the reservation; {@code key} is this nexus's registered key. */
    CompletableFuture<ControlResult<Void>> clear(long key);

    /**
     * PREEMPT (or, with {@code abort}, PREEMPT AND ABORT): removes every registration of {@code victimKey}, and takes
     * over the reservation with {@code type} if the victim held it. {@code key} is this nexus's registered key;
     * preempting one's own key removes the other nexuses' registrations of it.
     */
    CompletableFuture<ControlResult<Void>> preempt(long key, long victimKey, ReservationType type, boolean abort);

    /** The flags of a REGISTER's parameter list beyond the keys. */
    record RegisterFlags(boolean aptpl, boolean allTargetPorts) {
        public static final RegisterFlags NONE = new RegisterFlags(false, false);

        public boolean any() {
            return aptpl || allTargetPorts;
        }

        @Override
        public String toString() {
            return aptpl && allTargetPorts ? "APTPL and ALL_TG_PT" : aptpl ? "APTPL" : allTargetPorts ? "ALL_TG_PT"
                    : "no flags";
        }
    }

    /**
     * READ FULL STATUS as the disk answers it.
     *
     * @param generation the disk's PRGENERATION
     * @param registrants one per registered nexus
     */
    record FullStatus(long generation, List<Registrant> registrants) {
        public FullStatus {
            registrants = List.copyOf(registrants);
        }
    }

    /**
     * One registration of READ FULL STATUS.
     *
     * @param holder this nexus holds the reservation
     * @param type the reservation's type when {@code holder}, else null
     * @param allTargetPorts registered on every target port
     * @param relativeTargetPort the target port's relative identifier (0 with {@code allTargetPorts})
     * @param initiator the initiator's transport ID as text (an iSCSI name), or its bytes in hex
     */
    record Registrant(long key, boolean holder, ReservationType type, boolean allTargetPorts,
            int relativeTargetPort, String initiator) {
    }

    /**
     * @param generation the disk's PRGENERATION (unsigned 32 bits), bumped by every registration change
     * @param keys the registered keys
     */
    record Keys(long generation, List<Long> keys) {
        public Keys {
            keys = List.copyOf(keys);
        }
    }

    /**
     * @param generation the disk's PRGENERATION
     * @param holder the reservation held, or null if there is none
     */
    record Status(long generation, Holder holder) {
        public boolean reserved() {
            return holder != null;
        }
    }

    /** Who holds a reservation, and of which type. */
    record Holder(long key, ReservationType type) {
        public Holder {
            Objects.requireNonNull(type, "type");
        }
    }

    /**
     * REPORT CAPABILITIES as the disk answers it.
     *
     * @param types the types the disk supports (all six when it does not say: TMV 0)
     * @param compatibleReservationHandling CRH
     * @param specifyInitiatorPorts SIP_C
     * @param allTargetPorts ATP_C
     * @param persistThroughPowerLoss PTPL_C
     */
    record Capabilities(Set<ReservationType> types, boolean compatibleReservationHandling,
            boolean specifyInitiatorPorts, boolean allTargetPorts, boolean persistThroughPowerLoss) {
        public Capabilities {
            types = Set.copyOf(types);
        }
    }
}
