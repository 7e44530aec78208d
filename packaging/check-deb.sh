#!/usr/bin/env bash
# The Debian package as an operator meets it: build it (packaging/deb.sh)
# from BINARY (default target/debug/rolesync, as scripts/test.sh built it),
# `dpkg -i` it, then check `rolesync --version`, `man rolesync`, the bash
# completion (sourced), the unit (systemd-analyze verify), the user and the
# folders; the package is purged at the end, whatever happened. Needs
# root; a rolesync package installed before is left alone (the check is
# skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/debug/rolesync}"

if [ "$(id -u)" -ne 0 ]; then
    echo "check-deb: skipped (needs root for dpkg -i)" >&2
    exit 0
fi
if dpkg-query -W -f='${Status}' rolesync 2>/dev/null | grep -q "ok installed"; then
    echo "check-deb: skipped (a rolesync package is installed already)" >&2
    exit 0
fi
out=$(mktemp -d)
trap 'dpkg --purge rolesync >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
deb=$(bash packaging/deb.sh --binary "$binary" --out "$out")
dpkg -i "$deb" >/dev/null

fail() { echo "check-deb: $*" >&2; exit 1; }
want="rolesync $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
[ "$(/usr/bin/rolesync --version)" = "$want" ] || fail "rolesync --version is not '$want'"
MANWIDTH=80 man rolesync 2>/dev/null | grep -q "rolesync-serve" || fail "man rolesync shows no subcommands"
MANWIDTH=80 man rolesync-serve 2>/dev/null | grep -q -- "--config" || fail "man rolesync-serve lacks --config"
completion=/usr/share/bash-completion/completions/rolesync
bash -c "source $completion && complete -p rolesync" | grep -q "_rolesync" ||
    fail "the bash completion does not register"
words=$(bash -c "source $completion; COMP_WORDS=(rolesync se); COMP_CWORD=1; _rolesync rolesync se rolesync; echo \${COMPREPLY[*]}")
[ "$words" = "serve" ] || fail "completing 'rolesync se' gave '$words'"
getent passwd rolesync >/dev/null || fail "no user rolesync"
[ "$(stat -c %U /var/lib/rolesync)" = rolesync ] || fail "/var/lib/rolesync is not rolesync's"
[ -f /usr/share/rolesync/rolesync.toml.example ] || fail "no example configuration"
# The installed unit, as installed (its ExecStart is the package's binary).
systemd-analyze verify /usr/lib/systemd/system/rolesync.service || fail "systemd-analyze verify"
echo "check-deb: $deb installs; --version, man, completion, user and unit are right" >&2
