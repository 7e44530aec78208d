#!/usr/bin/env bash
# Build the Debian package of rolesync with dpkg-deb from a staged tree.
#
#   bash packaging/deb.sh [--binary PATH] [--out DIR]
#
# Without --binary it builds `cargo build --release --locked` first and
# packages target/release/rolesync. The binary is stripped; its library
# dependencies come from dpkg-shlibdeps. The package installs:
#   /usr/bin/rolesync
#   /usr/lib/systemd/system/rolesync.service
#   /usr/lib/sysusers.d/rolesync.conf, /usr/lib/tmpfiles.d/rolesync.conf
#   /usr/share/man/man1/rolesync*.1.gz (one page per subcommand)
#   /usr/share/bash-completion/completions/rolesync
#   /usr/share/zsh/vendor-completions/_rolesync
#   /usr/share/fish/vendor_completions.d/rolesync.fish
#   /usr/share/rolesync/rolesync.toml.example
#   /usr/share/doc/rolesync/copyright, README.md
# and its postinst creates the user `rolesync` and the folders
# (systemd-sysusers and systemd-tmpfiles, or adduser where systemd is not
# installed). It enables and starts nothing: configure first (README, "Run
# it as a service"). Prints the path of the .deb it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
out="target/debian"
while (($#)); do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--out DIR]" >&2; exit 2 ;;
    esac
done
if [ -z "$binary" ]; then
    cargo build --release --locked >&2
    binary=target/release/rolesync
fi

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/rolesync_${version}_${arch}"

install -D -m 0755 "$binary" "$root/usr/bin/rolesync"
strip --strip-unneeded "$root/usr/bin/rolesync"
install -D -m 0644 packaging/rolesync.service "$root/usr/lib/systemd/system/rolesync.service"
install -D -m 0644 packaging/rolesync.sysusers "$root/usr/lib/sysusers.d/rolesync.conf"
install -D -m 0644 packaging/rolesync.tmpfiles "$root/usr/lib/tmpfiles.d/rolesync.conf"
install -D -m 0644 packaging/rolesync.toml.example "$root/usr/share/rolesync/rolesync.toml.example"
install -D -m 0644 README.md "$root/usr/share/doc/rolesync/README.md"

man="$root/usr/share/man/man1"
mkdir -p "$man"
"$root/usr/bin/rolesync" man --out-dir "$man"
gzip -9n "$man"/*.1
completions() { "$root/usr/bin/rolesync" completions "$1" | install -D -m 0644 /dev/stdin "$2"; }
completions bash "$root/usr/share/bash-completion/completions/rolesync"
completions zsh "$root/usr/share/zsh/vendor-completions/_rolesync"
completions fish "$root/usr/share/fish/vendor_completions.d/rolesync.fish"

{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: rolesync"
    echo
    echo "Files: *"
    echo "License: Apache-2.0"
    echo
    echo "License: Apache-2.0"
    sed 's/^$/./; s/^/ /' LICENSE
} > "$root/usr/share/doc/rolesync/copyright"

# The shared libraries the binary links, as package dependencies.
mkdir -p "$stage/shlibs/debian"
echo "Source: rolesync" > "$stage/shlibs/debian/control"
depends=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/rolesync" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: rolesync
Version: $version
Architecture: $arch
Maintainer: rolesync maintainers <root@localhost>
Installed-Size: $size
Depends: ${depends:-libc6}, adduser | systemd
Recommends: git, subversion
Section: admin
Priority: optional
Description: Subversion access files from Polarion-style role configuration
 rolesync validates a versioned Polarion-style security configuration,
 renders the Subversion access file whose [groups] mirror the role
 assignments, follows commits as a daemon (rolesync serve, a systemd
 service) and answers permission questions over HTTP.
CONTROL
install -m 0755 packaging/postinst "$root/DEBIAN/postinst"
install -m 0755 packaging/postrm "$root/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/rolesync_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
