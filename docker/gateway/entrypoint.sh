#!/bin/bash
# Entry point of the gateway image. `serve` (the default command) builds the command line from the environment
# and an optional mounted YAML file; any other command (status, path, iopolicy, --help, ...) goes to mpath-nbd as is.
#
#   MPATH_CONFIG   YAML file (default: /etc/mpath-nbd/config.yaml when it exists)
#   MPATH_LISTEN   --listen HOST:PORT  (the image sets 0.0.0.0:10809; empty = the file's or the built-in default)
#   MPATH_ADMIN    --admin HOST:PORT   (the image sets 0.0.0.0:9810; empty = the file's or the built-in default)
#   MPATH_EXPORTS  one or more NAME=URI[,URI...] separated by ';' or newlines (added to the file's exports)
#   MPATH_IOPOLICY --iopolicy of the MPATH_EXPORTS exports
#   JAVA_OPTS      extra JVM options
# Flags given after `serve` are passed on too, e.g. `docker run IMAGE serve --export disk0=nbd://a:10809/d`.
set -euo pipefail

jar=/opt/mpath-nbd/mpath-nbd.jar
# shellcheck disable=SC2206 # JAVA_OPTS is a list of options
java_opts=(${JAVA_OPTS:-})

if [ "${1:-serve}" != serve ]; then
  exec java "${java_opts[@]}" -jar "$jar" "$@"
fi
[ $# -gt 0 ] && shift

args=(serve)
config=${MPATH_CONFIG:-}
if [ -z "$config" ] && [ -f /etc/mpath-nbd/config.yaml ]; then
  config=/etc/mpath-nbd/config.yaml
fi
if [ -n "$config" ]; then
  [ -r "$config" ] || { echo "mpath-nbd-entrypoint: MPATH_CONFIG=$config is not a readable file" >&2; exit 2; }
  args+=(--config "$config")
fi
[ -n "${MPATH_LISTEN:-}" ] && args+=(--listen "$MPATH_LISTEN")
[ -n "${MPATH_ADMIN:-}" ] && args+=(--admin "$MPATH_ADMIN")
exports=0
while IFS= read -r spec; do
  spec=${spec//[[:space:]]/}
  [ -n "$spec" ] || continue
  args+=(--export "$spec")
  exports=$((exports + 1))
done <<<"$(printf '%s\n' "${MPATH_EXPORTS:-}" | tr ';' '\n')"
[ -n "${MPATH_IOPOLICY:-}" ] && args+=(--iopolicy "$MPATH_IOPOLICY")
if [ -z "$config" ] && [ "$exports" -eq 0 ] && [ $# -eq 0 ]; then
  echo "mpath-nbd-entrypoint: nothing to serve: set MPATH_EXPORTS (e.g. disk0=nbd://nbd-a:10809/disk0,nbd://nbd-b:10809/disk0)" >&2
  echo "mpath-nbd-entrypoint: or mount a YAML file at /etc/mpath-nbd/config.yaml (or set MPATH_CONFIG)" >&2
  exit 2
fi

echo "mpath-nbd-entrypoint: mpath-nbd ${args[*]} $*" >&2
exec java "${java_opts[@]}" -jar "$jar" "${args[@]}" "$@"
