#!/bin/bash
# Entry point of the gateway image. `serve` (the default command) builds the command line from the environment
# and an optional mounted YAML file; any other command (status, path, iopolicy, --help, ...) goes to mpath-nbd as is.
#
#   MPATH_CONFIG   YAML file (default: /etc/mpath-nbd/config.yaml when it exists)
#   MPATH_LISTEN   --listen HOST:PORT  (the image sets 0.0.0.0:10809; empty = the file's or the built-in default)
#   MPATH_ADMIN    --admin HOST:PORT   (the image sets 0.0.0.0:9810; empty = the file's or the built-in default)
#   MPATH_EXPORTS  one or more NAME=URI[,URI...] separated by ';' or newlines (added to the file's exports)
#   MPATH_IOPOLICY --iopolicy of the MPATH_EXPORTS exports
#   MPATH_ADMIN_TOKEN_FILE  --admin-token-file: a file holding the admin API's bearer token (a mounted secret)
#   MPATH_ADMIN_TOKEN       the token itself, written to /run/mpath-nbd/admin.token
#                  Neither: the YAML file's own admin-auth section decides if it has one; else a token is generated
#                  once per container in /run/mpath-nbd/admin.token (docker exec CONTAINER cat that file). The admin
#                  API listens on 0.0.0.0 here, and the gateway refuses that without authentication.
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

token_file=/run/mpath-nbd/admin.token
if [ -n "${MPATH_ADMIN_TOKEN_FILE:-}" ]; then
  if [ -n "${MPATH_ADMIN_TOKEN:-}" ]; then
    echo "mpath-nbd-entrypoint: set MPATH_ADMIN_TOKEN or MPATH_ADMIN_TOKEN_FILE, not both" >&2
    exit 2
  fi
  args+=(--admin-token-file "$MPATH_ADMIN_TOKEN_FILE")
elif [ -n "${MPATH_ADMIN_TOKEN:-}" ]; then
  (umask 077 && printf '%s\n' "$MPATH_ADMIN_TOKEN" >"$token_file")
  args+=(--admin-token-file "$token_file")
elif [ -n "$config" ] && grep -q '^admin-auth:' "$config"; then
  : # the operator's own admin-auth section (a token file, or open: all)
else
  if [ ! -s "$token_file" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$token_file")
    echo "mpath-nbd-entrypoint: generated an admin API token in $token_file (read it with: docker exec CONTAINER cat $token_file)" >&2
  fi
  args+=(--admin-token-file "$token_file")
fi

echo "mpath-nbd-entrypoint: mpath-nbd ${args[*]} $*" >&2
exec java "${java_opts[@]}" -jar "$jar" "${args[@]}" "$@"
