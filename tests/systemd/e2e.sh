#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e.sh: "make check-systemd", the host side of the end-to-end test under a
# real systemd. It builds the Debian package (tools/deb) and a repacked
# upgrade of it, puts both into a per-run copy of a cached Debian 12 root
# file system, boots that with systemd-nspawn, and lets inside.sh install the
# package with apt-get and drive its units there (see the steps in
# inside.sh). It prints inside.sh's TAP lines and exits
# 0 when all passed, 77 when it cannot run at all here, 1 otherwise.
#
# Environment: abs_top_srcdir, abs_top_builddir (set by the make target),
# SOCKECHOD_ROOTFS_CACHE (default /var/cache/sockechod-test), TMPDIR.

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${abs_top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${abs_top_builddir:=$abs_top_srcdir}"
cache=${SOCKECHOD_ROOTFS_CACHE:-/var/cache/sockechod-test}
rootfs_cache=$cache/rootfs-bookworm
suite=bookworm
# What the units and the test need in the container: systemd as PID 1 with
# its tools, dbus for systemctl, and the daemon's shared libraries.
packages=systemd,systemd-sysv,dbus,libconfig9,libsystemd0
boot_timeout=600

started=$SECONDS
work=
cache_tmp=
nspawn_pid=

say() {
	echo "e2e: $*"
}

skip() {
	say "SKIP: $*"
	exit 77
}

fail() {
	say "FAIL: $*"
	exit 1
}

# Runs on every exit, also after a failure or a signal.
# shellcheck disable=SC2317
cleanup() {
	local _

	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		say "interrupted: stopping the container"
		# timeout(1) passes the signal on to systemd-nspawn, which
		# shuts the container down; -k makes that a SIGKILL in time.
		kill -TERM "$nspawn_pid" 2>/dev/null
		for _ in $(seq 1 300); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	[ -z "$cache_tmp" ] || rm -rf --one-file-system "$cache_tmp"
	[ -z "$work" ] || rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The Debian archive apt uses here (not the security archive).
debian_mirror() {
	local uri=

	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '
		    function pick() {
			    if (!found && u != "" && s !~ /security/) {
				    print u
				    found = 1
			    }
			    u = ""; s = ""
		    }
		    /^[ \t]*$/ { pick(); next }
		    tolower($1) == "uris:" { u = $2 }
		    tolower($1) == "suites:" { s = $0 }
		    END { pick() }' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" {
			    sub(/^deb[ \t]+/, ""); sub(/^\[[^]]*\][ \t]*/, "")
			    if ($2 !~ /security/) { print $1; exit }
		    }' /etc/apt/sources.list)
	fi
	echo "${uri:-http://deb.debian.org/debian}"
}

# Build the cached root file system under a temporary name, then rename it:
# an interrupted build never leaves a half-made cache behind.
build_rootfs_cache() {
	local mirror

	mirror=$(debian_mirror)
	mkdir -p "$cache" || fail "cannot create $cache"
	exec 9>"$cache/.lock"
	flock 9
	if [ -d "$rootfs_cache" ]; then
		exec 9>&-
		return 0	# another run built it meanwhile
	fi
	cache_tmp=$(mktemp -d "$cache/.rootfs-$suite.XXXXXX") ||
	    fail "cannot create a directory in $cache"
	say "building $rootfs_cache: debootstrap --variant=minbase $suite from $mirror"
	if ! debootstrap --variant=minbase --include="$packages" "$suite" \
	    "$cache_tmp/root" "$mirror" >"$cache_tmp/debootstrap.log" 2>&1; then
		tail -30 "$cache_tmp/debootstrap.log"
		fail "debootstrap failed (full log above, last 30 lines)"
	fi
	mv -T "$cache_tmp/root" "$rootfs_cache" ||
	    fail "cannot rename the new root file system to $rootfs_cache"
	rm -rf "$cache_tmp"
	cache_tmp=
	exec 9>&-
}

# upgrade_package DEB DIR: a copy of DEB with a higher version and a changed
# /etc/sockecho.conf, into DIR: what an upgrade that changes the conffile
# brings. It is repacked, not rebuilt, which takes a second.
upgrade_package() {
	local deb=$1 dir=$2 x=$work/upgrade version

	version=$(dpkg-deb -f "$deb" Version)+e2e1
	dpkg-deb -R "$deb" "$x" || return 1
	sed -i "s/^Version: .*/Version: $version/" "$x/DEBIAN/control"
	printf '\n# The upgraded package of the end-to-end test.\n' \
	    >>"$x/etc/sockecho.conf"
	(cd "$x" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
	    xargs -0 md5sum >DEBIAN/md5sums) || return 1
	dpkg-deb --root-owner-group -b "$x" \
	    "$dir/sockechod_${version}_$(dpkg-deb -f "$deb" Architecture).deb" \
	    >/dev/null
}

# Build the package (tools/deb; tools/check runs lintian on it) and put it
# and its upgrade into the container, where inside.sh installs them.
build_packages() {
	local root=$1 log=$work/deb.log dir=$1/usr/local/lib/sockechod-e2e deb

	if ! "$abs_top_srcdir/tools/deb" --no-lintian "$work/debs" >"$log" 2>&1; then
		tail -40 "$log"
		fail "tools/deb could not build the package"
	fi
	deb=$(ls "$work"/debs/sockechod_*.deb)
	install -d -m 0755 "$dir/install" "$dir/upgrade" &&
	    install -m 0644 "$deb" "$dir/install/" ||
	    fail "cannot copy the package into $root"
	upgrade_package "$deb" "$dir/upgrade" ||
	    fail "cannot make the upgrade package of $deb"
	chmod 0644 "$dir"/upgrade/*.deb
	say "packages: $(cd "$dir" && ls install/*.deb upgrade/*.deb | tr '\n' ' ')"
	MSGID_H=$abs_top_srcdir/src/core/msgid.h
}

# The test, its unit and the MESSAGE_IDs go into the container.
install_test() {
	local root=$1 dir=$1/usr/local/lib/sockechod-e2e

	if ! { install -d "$dir" \
	    "$root/etc/systemd/system/multi-user.target.wants" &&
	    install -m 0755 "$here/inside.sh" "$dir/inside.sh" &&
	    install -m 0644 "$MSGID_H" "$dir/msgid.h" &&
	    install -m 0644 "$here/sockechod-e2e.service" \
	    "$root/etc/systemd/system/sockechod-e2e.service" &&
	    ln -sf ../sockechod-e2e.service \
	    "$root/etc/systemd/system/multi-user.target.wants/sockechod-e2e.service" &&
	    rm -f "$root/var/log/sockechod-e2e.log"; }; then
		fail "cannot install the test into $root"
	fi
}

# After a failure without a full log from inside: what the container said.
show_container_state() {
	local root=$1

	say "console output of the container (last 60 lines):"
	tail -60 "$work/console.log" | sed 's/^/    /'
	if [ -d "$root/var/log/journal" ]; then
		say "journal of the container (last 100 lines):"
		journalctl -D "$root/var/log/journal" --no-pager \
		    -o short-monotonic 2>/dev/null | tail -100 | sed 's/^/    /'
	fi
}

[ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn)"
command -v systemd-nspawn >/dev/null ||
    skip "no systemd-nspawn (Debian package systemd-container)"
if [ ! -d "$rootfs_cache" ]; then
	command -v debootstrap >/dev/null ||
	    skip "no cached root file system ($rootfs_cache) and no debootstrap to build one"
	build_rootfs_cache
fi
if ! [ -x "$rootfs_cache/lib/systemd/systemd" ] ||
    ! ls "$rootfs_cache"/usr/lib/*/libconfig.so.9 >/dev/null 2>&1; then
	fail "$rootfs_cache lacks systemd or libconfig9: remove it to have it built again"
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/sockechod-e2e.XXXXXX") ||
    fail "cannot create a work directory"
root=$work/root
say "copying $rootfs_cache"
cp -a "$rootfs_cache" "$root" || fail "cannot copy $rootfs_cache to $root"
say "building the Debian package for the container (tools/deb)"
build_packages "$root"
install_test "$root"

say "booting the container (systemd-nspawn -b, at most $boot_timeout s)"
timeout -k 15 "$boot_timeout" systemd-nspawn --register=no --keep-unit \
    --private-network -q --console=read-only --machine="sockechod-e2e-$$" \
    -D "$root" -b >"$work/console.log" 2>&1 &
nspawn_pid=$!
wait "$nspawn_pid"
rc=$?
nspawn_pid=

log=$root/var/log/sockechod-e2e.log
if [ -s "$log" ]; then
	cat "$log"
else
	say "the test inside the container wrote no log"
fi
say "systemd-nspawn exited with $rc after $((SECONDS - started)) s in all"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	show_container_state "$root"
	fail "the container did not finish within $boot_timeout s"
fi
if [ ! -s "$log" ]; then
	show_container_state "$root"
	fail "the test did not run in the container"
fi
if grep -q '^not ok' "$log"; then
	fail "sockechod under systemd: see the not ok lines above"
fi
if [ "$rc" -ne 0 ] || ! grep -q '^# PASSED' "$log"; then
	fail "the test in the container did not finish as passed (exit $rc)"
fi
say "PASS"
exit 0
