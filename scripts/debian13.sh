#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# debian13.sh - run `./test.sh --quick` inside a Debian 13 (trixie) chroot:
# the format check with trixie's clang-format, a build with its gcc against
# its OpenSSL (3.5), the whole ctest suite and the demo. Prints the suite's
# result line as "debian13: N passed, N failed" last and fails when the
# suite fails.
#   scripts/debian13.sh            build the chroot if needed, then test
#   scripts/debian13.sh --rebuild  build the chroot anew first
#   scripts/debian13.sh --shell    an interactive shell in a throwaway copy
#   scripts/debian13.sh --run CMD  run the shell command CMD in /src of a
#                                  throwaway copy instead of the suite, e.g.
#     scripts/debian13.sh --run 'cmake -S . -B build &&
#       cmake --build build -j2 && cd build && ctest -R tls.rpk'
#
# The chroot is built with mmdebstrap from Debian's archive, then
# scripts/deps.sh installs the project's packages into it (so deps.sh itself
# is tested on trixie). It is cached under $DANCE_CI_CACHE (default
# /var/cache/dance-ci) as trixie/ and rebuilt when deps.sh's package list or
# this recipe changes, or when it is older than $DANCE_CI_MAX_AGE days
# (default 14, to pick up point releases); a warm run pays seconds.
# Every run works on an overlay over the cached tree, which stays pristine.
# The chroot shares the host's network namespace: its tests use loopback,
# so run this after the host's suite, never at the same time. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

suite=trixie
mirror=${DANCE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DANCE_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
cache=${DANCE_CI_CACHE:-/var/cache/dance-ci}
max_age=${DANCE_CI_MAX_AGE:-14}
root=$cache/$suite
recipe=2 # bump when the way the chroot is built changes

mode=suite
command='./test.sh --quick'
case "${1:-}" in
--rebuild) mode=rebuild ;;
--shell) mode=shell ;;
--run)
    [ $# -eq 2 ] || { echo "usage: $0 --run 'COMMAND'" >&2; exit 2; }
    mode=run
    command=$2
    ;;
"") ;;
*)
    echo "usage: $0 [--rebuild | --shell | --run COMMAND]" >&2
    exit 2
    ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "debian13.sh: needs root (mmdebstrap, chroot and mounts)" >&2
    exit 1
fi

log() { # log MSG... - a progress line with the seconds since the start
    echo "debian13.sh [${SECONDS}s]: $*"
}

# Mount points this run made, newest last, the chroots it entered and the
# directory it created for its overlay; cleanup undoes both, also on interruption.
mounts=()
roots=()
rundir=

# chroot_procs DIR - pids of processes whose root directory is DIR
chroot_procs() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$1" ] && echo "${p#/proc/}"
    done
    return 0
}

# cleanup - end what the tests left running in the chroots, unmount what
# this run mounted (newest first) and remove the run's overlay directory
cleanup() {
    local i dir pids=()
    for dir in "${roots[@]}"; do
        mapfile -t -O "${#pids[@]}" pids < <(chroot_procs "$dir")
    done
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        sleep 1
        kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    roots=()
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -R "${mounts[i]}" 2>/dev/null || umount -lR "${mounts[i]}" ||
            true
    done
    mounts=()
    if [ -n "$rundir" ]; then
        rm -rf "$rundir"
        rundir=
    fi
}
trap cleanup EXIT
trap 'cleanup; trap - INT; kill -INT $$' INT
trap 'cleanup; trap - TERM; kill -TERM $$' TERM

# mount_api DIR - mount /proc, /sys and /dev into the tree at DIR
mount_api() {
    local dir=$1
    roots+=("$dir")
    mount -t proc proc "$dir/proc"
    mounts+=("$dir/proc")
    mount -t sysfs sysfs "$dir/sys"
    mounts+=("$dir/sys")
    # rslave: unmounting the copy never propagates back to the host's /dev.
    mount --rbind /dev "$dir/dev"
    mount --make-rslave "$dir/dev"
    mounts+=("$dir/dev")
    # Name resolution for apt while building, and localhost for the tests.
    rm -f "$dir/etc/resolv.conf"
    cat /etc/resolv.conf >"$dir/etc/resolv.conf"
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$dir/etc/hosts"
}

# in_chroot DIR CMD... - run CMD inside DIR with a clean environment
in_chroot() {
    local dir=$1
    shift
    chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        ${CI:+CI="$CI"} \
        ${DANCE_TEST_INSTALL:+DANCE_TEST_INSTALL="$DANCE_TEST_INSTALL"} "$@"
}

# cache_key - what the cached chroot was built from
cache_key() {
    {
        echo "recipe $recipe $suite $mirror $security"
        scripts/deps.sh --list
    } | sha256sum | cut -d' ' -f1
}

# build_root - build the chroot in $root.new and move it to $root
build_root() {
    local new=$root.new
    if ! command -v mmdebstrap >/dev/null; then
        log "installing mmdebstrap"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends mmdebstrap debian-archive-keyring >/dev/null
    fi
    rm -rf "$new" "$root.key"
    log "building the $suite chroot with mmdebstrap from $mirror"
    # force-unsafe-io: no fsync per unpacked file (a crash means a rebuild
    # anyway); it stays in the chroot's dpkg.cfg.d, so deps.sh gets it too.
    mmdebstrap --quiet --mode=root --variant=apt --include=ca-certificates \
        --dpkgopt=force-unsafe-io --aptopt='Acquire::Languages "none"' \
        "$suite" "$new" \
        "deb $mirror $suite main" \
        "deb $mirror $suite-updates main" \
        "deb $security $suite-security main"
    log "installing the project's packages with scripts/deps.sh"
    mount_api "$new"
    cp scripts/deps.sh "$new/root/deps.sh"
    in_chroot "$new" bash /root/deps.sh
    in_chroot "$new" apt-get clean
    rm -f "$new/root/deps.sh"
    cleanup
    rm -rf "$root"
    mv "$new" "$root"
    cache_key >"$root.key"
    log "chroot ready in $root"
}

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9

key=$(cache_key)
if [ "$mode" = rebuild ] || [ ! -d "$root" ] ||
    [ "$(cat "$root.key" 2>/dev/null)" != "$key" ] ||
    [ -n "$(find "$root.key" -mtime +"$max_age" 2>/dev/null)" ]; then
    build_root
else
    log "using the cached chroot $root"
fi

# A throwaway overlay over the cached tree, with the source tree copied in:
# the files git tracks plus new ones it does not ignore (no build output).
rundir=$(mktemp -d "$cache/run.XXXXXX")
mkdir "$rundir/upper" "$rundir/work" "$rundir/merged"
mount -t overlay overlay \
    -o "lowerdir=$root,upperdir=$rundir/upper,workdir=$rundir/work" \
    "$rundir/merged"
mounts+=("$rundir/merged")
mount_api "$rundir/merged"
mkdir "$rundir/merged/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null |
        tar -xf - -C "$rundir/merged/src"
else
    tar --exclude='./build*' -cf - . | tar -xf - -C "$rundir/merged/src"
fi

if [ "$mode" = shell ]; then
    in_chroot "$rundir/merged" bash -c 'cd /src && exec bash -i' || true
    exit 0
fi
if [ "$mode" = run ]; then
    status=0
    in_chroot "$rundir/merged" bash -c "cd /src && $command" || status=$?
    log "done, exit status $status"
    exit "$status"
fi

log "running $command in $suite ($(in_chroot "$rundir/merged" \
    openssl version))"
status=0
in_chroot "$rundir/merged" bash -c "cd /src && $command" |
    tee "$rundir/test.out" || status=$?
result=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$rundir/test.out" |
    tail -n 1) || true
if [ -z "$result" ]; then
    result="0 passed, 1 failed"
    status=1
fi
log "done"
echo "debian13: $result"
exit "$status"
