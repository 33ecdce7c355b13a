#!/bin/bash
# tgtd backend: create the image if missing (safely when several containers start on one volume at once), start
# tgtd in the foreground on the first portal, add the other portals, one target with the image as LUN 1, open to
# every initiator.
set -euo pipefail
say() { echo "tgtd-backend: $*" >&2; }

iqn=${TGT_IQN:-iqn.2024-01.io.mpathnbd:disk0}
image=${TGT_IMAGE:-/data/disk0.img}
size=${TGT_SIZE:-1G}
IFS=',' read -r -a portals <<<"${TGT_PORTALS:-0.0.0.0:3260}"
# tgtadm finds tgtd here (also for `docker exec CONTAINER tgtadm ...`)
export TGT_IPC_SOCKET=${TGT_IPC_SOCKET:-/run/tgtd/socket}

mkdir -p "$(dirname "$image")"
(
  flock 9
  if [ ! -e "$image" ]; then
    truncate -s "$size" "$image.new"
    mv "$image.new" "$image"
    say "created sparse image $image ($size)"
  fi
) 9>"$image.lock"

tgtd -f --iscsi "portal=${portals[0]}" &
tgtd_pid=$!
trap 'say "stopping tgtd"; kill -TERM "$tgtd_pid" 2>/dev/null || true; wait "$tgtd_pid" || true; exit 0' TERM INT

adm() { tgtadm --lld iscsi "$@"; }
for _ in $(seq 50); do
  adm --op show --mode sys >/dev/null 2>&1 && break
  sleep 0.1
done
for portal in "${portals[@]:1}"; do
  adm --op new --mode portal --param "portal=$portal"
done
adm --op new --mode target --tid 1 -T "$iqn"
adm --op new --mode logicalunit --tid 1 --lun 1 -b "$image"
adm --op bind --mode target --tid 1 -I ALL
say "serving $iqn LUN 1 ($image, $(stat -c %s "$image") bytes) on ${portals[*]}, pid $tgtd_pid"

wait "$tgtd_pid" || true
say "tgtd exited"
exit 1
