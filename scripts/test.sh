#!/usr/bin/env bash
# Run every test of rolesync. Installs what the tests need when it is
# missing: Debian's `subversion` (svnadmin, svnlook, svn, svnserve, svnauthz),
# `libsvn-perl` (Subversion's own library, the authz oracle), and Apache
# httpd with mod_dav_svn and mod_authz_svn (`apache2`, `libapache2-mod-svn`;
# also `git http-backend` over TLS for the https follower test).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# nginx: the /v1/authorize end-to-end test (auth_request); wrk: the HTTP
# benchmark of examples/policy_bench.rs.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# caddy: the forward_auth end-to-end test (tests/it/caddy.rs).
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v svnauthz >/dev/null 2>&1 || need+=(subversion)
perl -MSVN::Core -e1 >/dev/null 2>&1 || need+=(libsvn-perl)
command -v git >/dev/null 2>&1 || need+=(git)
command -v apache2 >/dev/null 2>&1 || need+=(apache2)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
[ -e /usr/lib/apache2/modules/mod_dav_svn.so ] || need+=(libapache2-mod-svn)
# ssh-keygen and gpg: the signed-commits tests (tests/it/signed.rs).
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
# sshd: the Git-over-ssh follower test (tests/it/follow_remote.rs).
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
# libssl-dev, pkg-config: git2's https and ssh transports (libgit2 and
# its vendored libssh2 link the system's OpenSSL); openssl: test certificates.
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev pkg-config)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v gpg >/dev/null 2>&1 || need+=(gpg)
# promtool (Prometheus' linter of the text format): the /metrics test (tests/it/observe.rs).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# systemd (systemd-analyze verify of the unit), man-db (`man`), dpkg-dev
# (dpkg-shlibdeps): tests/it/packaging.rs and packaging/check-deb.sh.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
# slapd, ldap-utils (ldapmodify): the directory tests start their own
# OpenLDAP server (tests/it/slapd.rs); the package's service is stopped.
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapmodify >/dev/null 2>&1 || need+=(ldap-utils)
if ((${#need[@]})); then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "installing ${need[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
    [[ " ${need[*]} " != *" slapd "* ]] || "${sudo[@]}" service slapd stop >/dev/null 2>&1 || true
fi

cargo test --locked --all-targets "$@"
# The Debian package, built from the binary just tested, installed with
# dpkg -i, checked and purged (root only; skipped when a filter is given).
if (($# == 0)); then
    bash packaging/check-deb.sh target/debug/rolesync
fi
