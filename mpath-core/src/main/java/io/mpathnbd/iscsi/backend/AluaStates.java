package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.iscsi.scsi.Alua;
import io.mpathnbd.iscsi.scsi.TargetPortGroups;
import java.util.Optional;
import java.util.OptionalInt;

/** Which ALUA state applies to this path: the state of the port group holding the port the session came through. */
final class AluaStates {
    private AluaStates() {
    }

    /**
     * Matches by relative target port (VPD 0x83), else by the port group the page named; a port in no reported
     * group gets UNAVAILABLE, so an unknown path never attracts I/O.
     *
     * @return the state, with a note on how it was found
     */
    static Result of(TargetPortGroups groups, OptionalInt relativePort, OptionalInt portGroup) {
        if (relativePort.isPresent()) {
            Optional<TargetPortGroups.PortGroup> g = groups.groupOf(relativePort.getAsInt());
            if (g.isPresent()) {
                return new Result(Alua.toAccessState(g.get().aluaState()), g.get().id(),
                        Alua.name(g.get().aluaState()));
            }
        }
        if (portGroup.isPresent()) {
            for (TargetPortGroups.PortGroup g : groups.groups()) {
                if (g.id() == portGroup.getAsInt()) {
                    return new Result(Alua.toAccessState(g.aluaState()), g.id(), Alua.name(g.aluaState()));
                }
            }
        }
        return new Result(AccessState.UNAVAILABLE, -1, "port " + (relativePort.isPresent()
                ? relativePort.getAsInt() : "?") + " is in no reported target port group");
    }

    record Result(AccessState state, int group, String detail) {
        String describe() {
            return state.label() + (group >= 0 ? " (port group " + group + ": " + detail + ")" : " (" + detail + ")");
        }
    }
}
