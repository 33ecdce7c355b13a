# shellcheck shell=bash
# Sourceable: `source scripts/lib/docker-engine.sh && ensure_docker_engine`.
#
# ensure_docker_engine makes sure a Docker engine answers `docker info`:
#   1. installs the Debian packages docker.io, docker-compose and debootstrap with apt-get when a program is missing;
#   2. starts dockerd in the background (log: $MPATH_DOCKERD_LOG, default /var/log/mpath-nbd-dockerd.log) when
#      `docker info` fails, and waits for it (at most $MPATH_DOCKERD_WAIT seconds, default 60).
# It says what it did, or why it cannot, and returns non-zero in the latter case. Safe under `set -euo pipefail`.

: "${MPATH_DOCKERD_LOG:=/var/log/mpath-nbd-dockerd.log}"
: "${MPATH_DOCKERD_WAIT:=60}"

_docker_engine_say() { printf 'docker-engine: %s\n' "$*" >&2; }

_docker_engine_have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

# Runs a command as root: directly, through sudo, or not at all (returns 1 and says why).
_docker_engine_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    _docker_engine_say "needs root for: $* (not root, and no password-less sudo)"
    return 1
  fi
}

_docker_engine_answers() { docker info >/dev/null 2>&1; }

_docker_engine_install() {
  local missing=()
  _docker_engine_have dockerd || missing+=(docker.io)
  _docker_engine_have docker || missing+=(docker.io)
  _docker_engine_have docker-compose || missing+=(docker-compose)
  _docker_engine_have debootstrap || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if ! command -v apt-get >/dev/null 2>&1; then
    _docker_engine_say "missing ${missing[*]} and no apt-get here: install a Docker engine, docker-compose and debootstrap by hand"
    return 1
  fi
  _docker_engine_say "installing ${missing[*]} with apt-get"
  _docker_engine_as_root apt-get update -q >/dev/null || { _docker_engine_say "apt-get update failed"; return 1; }
  if ! _docker_engine_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >/dev/null; then
    _docker_engine_say "apt-get install ${missing[*]} failed"
    return 1
  fi
  _docker_engine_say "installed ${missing[*]}"
}

_docker_engine_start() {
  local dockerd waited=0
  dockerd=$(command -v dockerd 2>/dev/null || echo /usr/sbin/dockerd)
  if pgrep -x dockerd >/dev/null 2>&1; then
    _docker_engine_say "dockerd already runs but does not answer yet; waiting for it"
  else
    _docker_engine_say "no engine answers 'docker info': starting $dockerd in the background (log: $MPATH_DOCKERD_LOG)"
    # Detached from this shell's terminal and pipes, so a CI runner reading our output is never held open by it.
    if [ "$(id -u)" -eq 0 ]; then
      setsid "$dockerd" >>"$MPATH_DOCKERD_LOG" 2>&1 </dev/null &
    else
      _docker_engine_as_root sh -c "setsid '$dockerd' >>'$MPATH_DOCKERD_LOG' 2>&1 </dev/null &" || return 1
    fi
  fi
  until _docker_engine_answers; do
    if [ "$waited" -ge "$MPATH_DOCKERD_WAIT" ]; then
      _docker_engine_say "dockerd did not answer within ${MPATH_DOCKERD_WAIT}s; last lines of $MPATH_DOCKERD_LOG:"
      tail -n 20 "$MPATH_DOCKERD_LOG" >&2 2>/dev/null || true
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  _docker_engine_say "dockerd answers after ${waited}s"
}

ensure_docker_engine() {
  if _docker_engine_have docker && _docker_engine_have docker-compose && _docker_engine_have debootstrap \
      && _docker_engine_answers; then
    _docker_engine_say "engine running: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
    return 0
  fi
  _docker_engine_install || { _docker_engine_say "cannot get a Docker engine: the container tests will fail"; return 1; }
  if _docker_engine_answers; then
    _docker_engine_say "engine running: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null)"
    return 0
  fi
  if ! _docker_engine_start; then
    _docker_engine_say "cannot start a Docker engine: the container tests will fail"
    return 1
  fi
  _docker_engine_say "engine running: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
}
