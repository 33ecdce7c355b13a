#!/usr/bin/env bash
# Builds a Debian base image without any image registry: debootstrap a minimal bookworm root file system with the
# packages listed in docker/base/packages (from the Debian mirror this machine's apt sources name), then
# `docker import` it. The image is labelled with a hash of its inputs; when an image of that name already carries
# the same hash, nothing is done.
#
#   docker/base/build-local-base.sh IMAGE      (e.g. mpath-nbd-base:bookworm; needs root and a running engine)
#   docker/base/build-local-base.sh IMAGE SUITE PACKAGES-FILE   (another Debian suite and package list, e.g. the
#                                              trixie image of newer NBD peers: scripts/newer-peers)
#   docker/base/build-local-base.sh --print-mirror   (only prints the mirror it would use)
#   MPATH_DEBIAN_MIRROR=URL overrides the mirror found in the apt sources.
#   MPATH_APT_DIR=DIR reads DIR/sources.list and DIR/sources.list.d/ instead of /etc/apt's (to test the lookup).
# There is no built-in fallback mirror: which mirror a machine may reach is its own apt configuration's business.
set -euo pipefail

image=${1:?usage: build-local-base.sh IMAGE [SUITE PACKAGES-FILE] | --print-mirror}
here=$(cd "$(dirname "$0")" && pwd)
suite=${2:-bookworm}
package_file=${3:-$here/packages}
apt_dir=${MPATH_APT_DIR:-/etc/apt}
say() { printf 'docker-build: %s\n' "$*"; }

# The first Debian mirror of the apt sources that carries bookworm itself (not -security or -updates): another
# suite (trixie) comes from the same mirror, which this machine's sources need not name.
apt_mirror() {
  local f
  {
    for f in "$apt_dir/sources.list" "$apt_dir"/sources.list.d/*.list; do
      [ -r "$f" ] || continue
      awk -v s=bookworm '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) print $i }' "$f"
    done
    for f in "$apt_dir"/sources.list.d/*.sources; do
      # deb822 stanzas: print URIs of the enabled stanzas whose Suites include $suite
      [ -r "$f" ] || continue
      awk -v s=bookworm 'BEGIN { RS = ""; FS = "\n" } {
        uris = ""; ok = 0; deb = 0; off = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Types:(.*[ \t])?deb([ \t]|$)/) deb = 1
          if ($i ~ /^Enabled:[ \t]*[Nn][Oo]/) off = 1
          if ($i ~ /^Suites:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == s) ok = 1 }
        }
        if (ok && deb && !off && uris != "") { split(uris, u, /[ \t]+/); print u[1] } }' "$f"
    done
  } 2>/dev/null | { grep -E '^https?://' || true; } | head -n 1
}

mirror=${MPATH_DEBIAN_MIRROR:-$(apt_mirror)}
if [ -z "$mirror" ]; then
  {
    say "no apt source of this machine names an http(s) Debian mirror for bookworm (looked for 'deb' lines in"
    say "$apt_dir/sources.list and $apt_dir/sources.list.d/*.list, and enabled 'Types: deb' stanzas in"
    say "$apt_dir/sources.list.d/*.sources); add one there, or set MPATH_DEBIAN_MIRROR to a Debian mirror's URL"
  } >&2
  exit 1
fi
if [ "$image" = --print-mirror ]; then
  echo "$mirror"
  exit 0
fi
packages=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$package_file" | sort -u | paste -sd, -)
# The mirror is not an input: the same packages from another mirror give the same image.
inputs=$( { echo "$suite"; echo "$packages"; cat "$0"; } | sha256sum | cut -c1-16)

current=$(docker image inspect --format '{{ index .Config.Labels "io.mpathnbd.base.inputs" }}' "$image" 2>/dev/null || true)
if [ "$current" = "$inputs" ]; then
  say "base $image is up to date (inputs $inputs)"
  exit 0
fi

for tool in debootstrap docker; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { say "$tool is missing (apt-get install debootstrap docker.io)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { say "debootstrap needs root to build $image"; exit 1; }

root=$(mktemp -d "${TMPDIR:-/var/tmp}/mpath-nbd-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
log="$root.log"
started=$SECONDS
say "building base $image with debootstrap ($suite, minbase + $packages, mirror $mirror; log: $log)"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$log" 2>&1; then
  say "debootstrap failed; last lines of $log:"
  tail -n 30 "$log"
  exit 1
fi
# Smaller image, and no stale package lists; a Dockerfile that installs more runs apt-get update first.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/* "$root"/var/log/*.log
say "debootstrap done in $((SECONDS - started))s; importing $image"
tar -C "$root" -c . | docker import \
  --change "LABEL io.mpathnbd.base.inputs=$inputs" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$image" >/dev/null
rm -f "$log"
say "base $image built in $((SECONDS - started))s ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1 / 1e6}'))"
