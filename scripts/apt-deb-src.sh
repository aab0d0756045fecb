# Sourced by the scripts that fetch Debian's libvirt source.
# ensure_bookworm_deb_src: when no apt source file has a deb-src entry,
# add one for bookworm (deb822, signed by Debian's archive keyring, the way
# the machine's own debian.sources is written; a one-line entry without
# Signed-By beside it makes apt refuse every source).  Needs root.
ensure_bookworm_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        grep -Eq '^\s*deb-src\s|^Types:.*deb-src' "$f" && return 0
    done
    echo "adding deb-src entries for bookworm (/etc/apt/sources.list.d/fwsel-debian-src.sources)"
    tee /etc/apt/sources.list.d/fwsel-debian-src.sources >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
}
