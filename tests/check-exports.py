#!/usr/bin/env python3
"""The shared library exports exactly the functions libfwsel.h declares.

check-exports.py --lib libfwsel.so --header libfwsel.h [--cli virt-fwsel]
With --cli, also: the virt-fwsel executable does not need libvirt.so
(the libvirt commands live in virt-fwsel-libvirt) nor GnuTLS (x509.c
opens it when a certificate is first read).
Prints one TAP line per check.  Needs nm and readelf (binutils).
"""
import argparse
import re
import subprocess
import sys


def declared(header):
    text = open(header).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    # function declarations: "type name(" at the start of a declaration
    names = set(re.findall(r'^[A-Za-z_][\w \*]*?\b(fwsel\w+)\s*\(', text, flags=re.M))
    # G_DEFINE_AUTOPTR_CLEANUP_FUNC lines are not declarations
    return {n for n in names if not n.startswith('FWSEL')}


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        addr, kind, name = parts
        if kind == 'A':      # the version node itself
            continue
        names.add(name.split('@')[0])
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lib', required=True)
    ap.add_argument('--header', required=True)
    ap.add_argument('--cli')
    args = ap.parse_args()

    want = declared(args.header)
    have = exported(args.lib)
    print('1..4' if args.cli else '1..3')
    ok = True
    extra = sorted(have - want)
    missing = sorted(want - have)
    print(('ok' if want else 'not ok') + ' 1 - libfwsel.h declares %d functions' % len(want))
    ok &= bool(want)
    print(('ok' if not extra else 'not ok') + ' 2 - nothing exported beyond libfwsel.h')
    for name in extra:
        print('# exported but not documented: ' + name)
    ok &= not extra
    print(('ok' if not missing else 'not ok') + ' 3 - every libfwsel.h function is exported')
    for name in missing:
        print('# documented but not exported: ' + name)
    ok &= not missing
    if args.cli:
        dyn = subprocess.run(['readelf', '-d', args.cli], check=True,
                             capture_output=True, text=True).stdout
        needed = re.findall(r'\(NEEDED\).*\[(.*)\]', dyn)
        bad = [n for n in needed if n.startswith(('libvirt', 'libgnutls'))]
        print(('ok' if needed and not bad else 'not ok') +
              ' 4 - virt-fwsel needs %d libraries, none of them libvirt or GnuTLS'
              % len(needed))
        for n in bad:
            print('# needs ' + n)
        ok &= bool(needed) and not bad
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
