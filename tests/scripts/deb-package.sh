#!/bin/sh
# deb-package: `make deb` builds BUILD/tubewatch_VERSION_ARCH.deb; lintian
# reports no error; the package holds the unit (paths under /usr), the
# sysusers.d and tmpfiles.d entries, the conffile, man pages and copyright;
# extracted into a scratch root its tubewatchd and tubewatch run (system
# libraries only). Needs dpkg-deb, lintian and scdoc (exit 77 without).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in dpkg-deb lintian scdoc; do
    command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

VERSION=$(sed -n 's/^#define TW_VERSION "\(.*\)"$/\1/p' common/base/tw_version.h)
DEB=$BUILD/tubewatch_${VERSION}_$(dpkg --print-architecture).deb
rm -f "$DEB"
make --no-print-directory BUILD="$BUILD" deb >"$T/make.log" 2>&1 ||
    { tail -n 30 "$T/make.log" >&2; fail "make deb"; }
[ -f "$DEB" ] || fail "no $DEB"

lintian --tag-display-limit 0 "$DEB" >"$T/lintian" 2>&1
grep -v 'root privileges' "$T/lintian" >&2
grep -q '^E: ' "$T/lintian" && fail "lintian reports errors"

dpkg-deb -f "$DEB" Package Version Depends >"$T/fields"
grep -qx 'Package: tubewatch' "$T/fields" || fail "package name"
grep -qx "Version: $VERSION" "$T/fields" || fail "version"
grep -q '^Depends: .*libzmq5' "$T/fields" || fail "Depends without libzmq5"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles >"$T/conffiles"
grep -qx /etc/tubewatch/supervisor.toml "$T/conffiles" || fail "conffile"

R=$T/root
dpkg-deb -x "$DEB" "$R" || fail "dpkg-deb -x"
for f in usr/bin/tubewatchd usr/bin/tubewatch usr/libexec/tubewatch/tw-chat \
    usr/lib/systemd/system/tubewatch.service usr/lib/sysusers.d/tubewatch.conf \
    usr/lib/tmpfiles.d/tubewatch.conf etc/tubewatch/supervisor.toml \
    usr/share/man/man1/tubewatch.1.gz usr/share/man/man8/tubewatchd.8.gz \
    usr/share/man/man5/supervisor.toml.5.gz usr/share/doc/tubewatch/copyright \
    usr/share/bash-completion/completions/tubewatch \
    usr/share/tubewatch/stopwords/en.txt; do
    [ -f "$R/$f" ] || fail "$f not in the package"
done
[ -e "$R/usr/bin/ytsim" ] && fail "the simulator is packaged"
U=$R/usr/lib/systemd/system/tubewatch.service
grep -qx 'ExecStart=/usr/bin/tubewatchd -c /etc/tubewatch/supervisor.toml' "$U" ||
    fail "unit ExecStart"
grep -q /usr/local "$U" && fail "unit names /usr/local"
grep -q '^u tubewatch ' "$R/usr/lib/sysusers.d/tubewatch.conf" || fail "sysusers"
grep -q '^d /var/lib/tubewatch ' "$R/usr/lib/tmpfiles.d/tubewatch.conf" || fail "tmpfiles"

# The packaged programs run from the scratch root with the system's
# libraries, and find their workers next to them.
unset LD_LIBRARY_PATH
out=$("$R/usr/bin/tubewatchd" --version) || fail "tubewatchd --version"
[ "$out" = "tubewatchd $VERSION" ] || fail "tubewatchd --version: $out"
out=$("$R/usr/bin/tubewatch" --version) || fail "tubewatch --version"
[ "$out" = "tubewatch $VERSION" ] || fail "tubewatch --version: $out"
"$R/usr/bin/tubewatch" check-config "$R/etc/tubewatch/supervisor.toml" >"$T/cc" 2>&1 ||
    { cat "$T/cc" >&2; fail "the packaged config does not check"; }
echo "deb-package: $DEB builds, lintian has no errors, programs run"
