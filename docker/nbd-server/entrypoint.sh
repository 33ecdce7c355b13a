#!/bin/bash
# nbd-server backend: create the image if missing (safely when several containers start on one volume at once),
# write the config, run nbd-server and stay in the foreground while it runs (nbd-server 3.24 always daemonizes).
set -euo pipefail
say() { echo "nbd-backend: $*" >&2; }

export_name=${NBD_EXPORT:-disk0}
image=${NBD_IMAGE:-/data/disk0.img}
size=${NBD_SIZE:-1G}
port=${NBD_PORT:-10809}

mkdir -p "$(dirname "$image")"
# One creator at a time; the file appears whole (rename) so a reader never sees a half-made image.
(
  flock 9
  if [ ! -e "$image" ]; then
    truncate -s "$size" "$image.new"
    chown nbd:nbd "$image.new"
    mv "$image.new" "$image"
    say "created sparse image $image ($size)"
  fi
) 9>"$image.lock"

user=nbd
if ! runuser -u nbd -- test -w "$image"; then
  say "user nbd cannot write $image: serving as root"
  user=root
fi

cat >/etc/nbd-server/config <<CONF
[generic]
    user = $user
    group = $user
    port = $port
    includedir = /etc/nbd-server/conf.d
[$export_name]
    exportname = $image
    flush = true
    fua = true
    trim = true
CONF
mkdir -p /etc/nbd-server/conf.d

pidfile=/run/nbd-server/nbd-server.pid
rm -f "$pidfile"
nbd-server -C /etc/nbd-server/config -p "$pidfile"
for _ in $(seq 50); do
  [ -s "$pidfile" ] && break
  sleep 0.1
done
[ -s "$pidfile" ] || { say "nbd-server did not start"; exit 1; }
pid=$(cat "$pidfile")
say "serving export '$export_name' ($image, $(stat -c %s "$image") bytes) on port $port as $user, pid $pid"

# shellcheck disable=SC2317 # called by the trap
stop() {
  say "stopping nbd-server"
  kill -TERM "$pid" 2>/dev/null || true
  exit 0
}
trap stop TERM INT
# wait in the background so the trap runs as soon as a signal comes
tail --pid="$pid" -f /dev/null &
wait $! || true
say "nbd-server (pid $pid) exited"
exit 1
