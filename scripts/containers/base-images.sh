#!/usr/bin/env bash
# Makes this machine run Samenplan's containers without a Docker engine or an image registry.
# On a fresh Debian bookworm machine, as root, it:
#   1. installs Debian's podman (with runc, netavark, aardvark-dns), debootstrap and
#      docker-compose 1.29 (--no-install-recommends: the recommends pull in the Docker engine);
#   2. configures podman system-wide (/etc/containers/containers.conf): no default ulimits
#      (the sandbox refuses podman's nofile default), runc, netavark (name resolution between
#      compose services);
#   3. makes the base images that docker/Dockerfile and docker/docker-compose.yml name, from
#      Debian's packages, under the public names, so both files build and run unchanged:
#        debian:bookworm-slim   debootstrap --variant=minbase bookworm, imported
#        postgres:15-bookworm   Debian's postgresql-15 and an entrypoint of its own
#                               (scripts/containers/postgres/docker-entrypoint.sh)
#        swift:6.3-bookworm     the Swift toolchain this machine has (`which swift`), the local
#                               package mirror and its git url.insteadOf, so `swift build`
#                               resolves the dependencies offline
#      Every image carries the label org.samenplan.base-image=<what it was made from>; an image
#      already present with the same label is kept (delete it with `podman rmi` to remake it).
# The debootstrap root file system is made once and kept in $SAMENPLAN_CONTAINER_CACHE
# (/var/tmp/samenplan-containers); every image starts from it.
#   scripts/containers/base-images.sh            all of the above
#   scripts/containers/base-images.sh --tools    steps 1 and 2 only
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SAMENPLAN_CONTAINER_CACHE:-/var/tmp/samenplan-containers}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SWIFT_TAG="${SAMENPLAN_SWIFT_IMAGE:-docker.io/library/swift:6.3-bookworm}"
SLIM_TAG="docker.io/library/debian:bookworm-slim"
POSTGRES_TAG="docker.io/library/postgres:15-bookworm"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { echo "base-images: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (podman's system storage and debootstrap need it)"
started=$SECONDS

# --- 1. tools --------------------------------------------------------------------------------
missing=()
for tool in podman:podman runc:runc debootstrap:debootstrap docker-compose:docker-compose \
            /usr/lib/podman/netavark:netavark /usr/lib/podman/aardvark-dns:aardvark-dns; do
  probe="${tool%%:*}" package="${tool##*:}"
  if [[ "$probe" == /* ]]; then [ -x "$probe" ] || missing+=("$package")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("$package"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. podman's configuration ---------------------------------------------------------------
CONF=/etc/containers/containers.conf
MARK="# made by samenplan scripts/containers/base-images.sh"
if [ ! -f "$CONF" ] || head -n 1 "$CONF" | grep -qxF "$MARK"; then
  want="$(cat <<CONFIG
$MARK
[containers]
# The sandbox refuses podman's default nofile ulimit: keep the engine's own limits.
default_ulimits = []

[engine]
runtime = "runc"

[network]
# netavark with aardvark-dns: compose services reach each other by name.
network_backend = "netavark"
CONFIG
)"
  if [ "$(cat "$CONF" 2>/dev/null)" != "$want" ]; then
    mkdir -p /etc/containers
    printf '%s\n' "$want" > "$CONF"
    log "wrote $CONF"
  fi
else
  grep -q '^default_ulimits *= *\[\]' "$CONF" && grep -q '^runtime *= *"runc"' "$CONF" \
    || die "$CONF exists and is not ours: it needs default_ulimits = [] under [containers] and runtime = \"runc\" under [engine]"
fi
[ "${1:-}" = "--tools" ] && exit 0

label() { podman image inspect --format '{{ index .Labels "org.samenplan.base-image" }}' "$1" 2>/dev/null || true; }

# --- 3a. the bookworm minbase root file system, made once -------------------------------------
mkdir -p "$CACHE"
ROOTFS_TAR="$CACHE/bookworm-minbase.tar"
if [ ! -s "$ROOTFS_TAR" ]; then
  log "debootstrap --variant=minbase bookworm (once; kept in $ROOTFS_TAR)"
  t=$SECONDS
  work="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase bookworm "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  # As the official slim image: every suite of bookworm, no documentation or manuals installed
  # by later apt-get runs, no apt caches kept.
  rm -f "$work/root/etc/apt/sources.list"
  cat > "$work/root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cat > "$work/root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
  cat > "$work/root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  printf 'Acquire::GzipIndexes "true";\n' > "$work/root/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'Acquire::Languages "none";\n' > "$work/root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    > "$work/root/etc/apt/apt.conf.d/docker-no-recommends"
  find "$work/root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$work/root"/usr/share/{man,info,groff,lintian,linda}/* \
         "$work/root"/var/cache/apt/* "$work/root"/var/lib/apt/lists/* "$work/root"/var/log/* \
         "$work/root"/tmp/* "$work/root"/var/cache/debconf/*-old
  find "$work/root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  : > "$work/root/etc/hostname"; : > "$work/root/etc/resolv.conf"
  tar --numeric-owner --xattrs -C "$work/root" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$ROOTFS_TAR"
  rm -rf "$work"; trap - EXIT
  log "root file system made in $((SECONDS - t)) s ($(du -h "$ROOTFS_TAR" | cut -f1))"
fi
ROOTFS_ID="bookworm-minbase $(stat -c %Y "$ROOTFS_TAR")"

# --- 3b. debian:bookworm-slim ----------------------------------------------------------------
if [ "$(label "$SLIM_TAG")" != "$ROOTFS_ID" ]; then
  log "importing $SLIM_TAG"
  t=$SECONDS
  podman import --quiet --change 'CMD ["bash"]' \
    --change "LABEL org.samenplan.base-image=\"$ROOTFS_ID\"" "$ROOTFS_TAR" "$SLIM_TAG" >/dev/null
  podman tag "$SLIM_TAG" localhost/debian:bookworm-slim
  log "$SLIM_TAG imported in $((SECONDS - t)) s"
fi

# --- 3c. postgres:15-bookworm ----------------------------------------------------------------
POSTGRES_ID="$ROOTFS_ID; $(cat "$HERE/postgres/Containerfile" "$HERE/postgres/docker-entrypoint.sh" | md5sum | cut -c1-12)"
if [ "$(label "$POSTGRES_TAG")" != "$POSTGRES_ID" ]; then
  log "building $POSTGRES_TAG"
  t=$SECONDS
  nice -n 19 podman build --quiet --pull=never --layers=false --label "org.samenplan.base-image=$POSTGRES_ID" \
    --build-arg "BASE=$SLIM_TAG" -t "$POSTGRES_TAG" -f "$HERE/postgres/Containerfile" "$HERE/postgres" \
    >"$CACHE/postgres-build.log" 2>&1 || { tail -n 30 "$CACHE/postgres-build.log" >&2; die "building $POSTGRES_TAG failed"; }
  podman tag "$POSTGRES_TAG" localhost/postgres:15-bookworm
  log "$POSTGRES_TAG built in $((SECONDS - t)) s"
fi

# --- 3d. the Swift build image ---------------------------------------------------------------
swift_bin="$(command -v swift || true)"
[ -n "$swift_bin" ] || die "no Swift toolchain on this machine (which swift finds none)"
TOOLCHAIN="$(dirname "$(dirname "$(dirname "$(readlink -f "$swift_bin")")")")"   # /opt/swift
PACKAGES="${SWIFT_PACKAGE_MIRROR:-/opt/swift-packages}"
SWIFT_ID="$ROOTFS_ID; $("$swift_bin" --version 2>/dev/null | head -n 1) at $TOOLCHAIN; $(cat "$HERE/swift/Containerfile" | md5sum | cut -c1-12)"
if [ "$(label "$SWIFT_TAG")" != "$SWIFT_ID" ]; then
  log "building $SWIFT_TAG from $TOOLCHAIN ($(du -sh "$TOOLCHAIN" | cut -f1)) and $PACKAGES"
  t=$SECONDS
  context="$(mktemp -d "$CACHE/swift-context.XXXXXX")"
  trap 'rm -rf "$context"' EXIT
  cp "$HERE/swift/Containerfile" "$context/"
  # Only the mirror's url.insteadOf rules of the machine's git configuration, nothing else.
  git config --system --get-regexp '^url\..*\.insteadof$' | while read -r key value; do
    git config --file "$context/gitconfig" --add "$key" "$value"
  done
  touch "$context/gitconfig"
  # The toolchain and the mirror reach the build as read-only volumes, not as build context.
  nice -n 19 podman build --quiet --pull=never --layers=false --label "org.samenplan.base-image=$SWIFT_ID" \
    --build-arg "BASE=$SLIM_TAG" --build-arg "TOOLCHAIN=$TOOLCHAIN" --build-arg "PACKAGES=$PACKAGES" \
    -v "$TOOLCHAIN:/mnt/toolchain:ro" -v "$PACKAGES:/mnt/packages:ro" \
    -t "$SWIFT_TAG" -f "$context/Containerfile" "$context" \
    >"$CACHE/swift-build.log" 2>&1 || { tail -n 30 "$CACHE/swift-build.log" >&2; die "building $SWIFT_TAG failed"; }
  rm -rf "$context"; trap - EXIT
  log "$SWIFT_TAG built in $((SECONDS - t)) s"
fi

log "base images ready in $((SECONDS - started)) s:"
podman images --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' \
  | grep -E "^($SLIM_TAG|$POSTGRES_TAG|$SWIFT_TAG)\b" >&2 || true
