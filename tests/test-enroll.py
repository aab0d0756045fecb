#!/usr/bin/env python3
"""virt-fwsel nvram enroll: certificates added to KEK and db offline (TAP).

Every case works on copies of Debian's varstores (tests-data/varstore) in
a scratch directory.  What the varstore must hold afterwards is checked
with an independent walk of the file (not fwsel's reader): the variable's
data must end with exactly the EFI_SIGNATURE_LIST this script builds from
the certificate file, and everything outside the variable store must be
unchanged.  Refusals must leave the file byte for byte as it was.
"""

import argparse
import base64
import fcntl
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid

MS = "OVMF_VARS_4M.ms.fd"
PLAIN = "OVMF_VARS_4M.fd"
X509_GUID = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
MICROSOFT = uuid.UUID("77fa9abd-0359-4d32-bd60-28f4e78f784b")
FWSEL = uuid.UUID("8b4713ac-8916-4842-98c0-2453b281d1e8")
GLOBAL = uuid.UUID("8be4df61-93ca-11d2-aa0d-00e098032b8c")
IMAGE_DB = uuid.UUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
F_OFD_SETLK = 37


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diag=""):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, name))
        if not ok and diag:
            for line in str(diag).splitlines():
                print("# " + line)


def run(fwsel, args, cwd):
    p = subprocess.run([fwsel] + args, cwd=cwd, capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C"))
    return p.returncode, p.stdout, p.stderr


def der_of(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"-----BEGIN"):
        body = b"".join(l for l in data.splitlines() if not l.startswith(b"-----"))
        return base64.b64decode(body)
    return data


def siglist(der, owner):
    return (X509_GUID.bytes_le + struct.pack("<III", 28 + 16 + len(der), 0, 16 + len(der)) +
            owner.bytes_le + der)


def store_range(b):
    hlen = struct.unpack_from("<H", b, 48)[0]
    return hlen, hlen + struct.unpack_from("<I", b, hlen + 16)[0]


def walk(b):
    """{(name, guid): (state, attributes, time, data)} of the live (0x3f)
    variables, read independently of fwsel"""
    start, end = store_range(b)
    off = (start + 28 + 3) & ~3
    out = {}
    while off + 60 <= end and struct.unpack_from("<H", b, off)[0] == 0x55AA:
        state = b[off + 2]
        attr = struct.unpack_from("<I", b, off + 4)[0]
        ts = bytes(b[off + 16:off + 32])
        nsize, dsize = struct.unpack_from("<II", b, off + 36)
        guid = uuid.UUID(bytes_le=bytes(b[off + 44:off + 60]))
        name = bytes(b[off + 60:off + 60 + nsize]).decode("utf-16-le").rstrip("\0")
        data = bytes(b[off + 60 + nsize:off + 60 + nsize + dsize])
        if state == 0x3F:
            out[(name, guid)] = (state, attr, ts, data)
        off = (off + 60 + nsize + dsize + 3) & ~3
    return out


def notbefore(path):
    """the certificate's notBefore, by openssl"""
    import datetime
    form = "DER" if path.endswith(".der") else "PEM"
    p = subprocess.run(["openssl", "x509", "-noout", "-startdate", "-inform", form, "-in", path],
                       capture_output=True, text=True, check=True)
    return datetime.datetime.strptime(p.stdout.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")


def efi_time(t):
    return struct.pack("<HBBBBB", t.year, t.month, t.day, t.hour, t.minute, t.second)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    fwsel = os.path.abspath(args.fwsel)
    args.data = os.path.abspath(args.data)
    vdir = os.path.join(args.data, "varstore")
    certs = os.path.join(vdir, "certs")
    kek23 = os.path.join(certs, "MicrosoftCorporationKEK2KCA2023.der")
    win23 = os.path.join(certs, "WindowsUEFICA2023.der")
    uefi23 = os.path.join(certs, "MicrosoftUEFICA2023.der")
    optrom = os.path.join(certs, "stand-in-MicrosoftOptionROMUEFICA2023.pem")
    testdb = os.path.join(certs, "fwsel-test-db.pem")
    testkek = os.path.join(certs, "fwsel-test-kek.der")
    tap = Tap()

    with tempfile.TemporaryDirectory() as tmp:
        # the Microsoft 2023 set into Debian's Microsoft-enrolled varstore
        target = os.path.join(tmp, "ms.fd")
        shutil.copy(os.path.join(vdir, MS), target)
        os.chmod(target, 0o640)
        before = read(target)
        rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "ms.fd", "--kek", kek23,
                                   "--db", win23, "--db", uefi23, "--db", optrom], tmp)
        after = read(target)
        tap.result(rc == 0 and "kept as" in out, "enroll the 2023 set: exit 0",
                   "exit %d\n%s%s" % (rc, out, err))
        backups = glob.glob(target + ".bak-*")
        tap.result(len(backups) == 1 and read(backups[0]) == before,
                   "the old varstore is kept, byte for byte", backups)
        tap.result(os.stat(target).st_mode & 0o777 == 0o640, "mode kept (0640)")
        start, end = store_range(before)
        tap.result(len(after) == len(before) and after[:start + 28] == before[:start + 28] and
                   after[end:] == before[end:],
                   "volume header, store header and what follows the store unchanged")
        old, new = walk(before), walk(after)
        tap.result(set(old) == set(new), "the same variables", set(old) ^ set(new))
        want_kek = old[("KEK", GLOBAL)][3] + siglist(der_of(kek23), MICROSOFT)
        want_db = (old[("db", IMAGE_DB)][3] + siglist(der_of(win23), MICROSOFT) +
                   siglist(der_of(uefi23), MICROSOFT) + siglist(der_of(optrom), MICROSOFT))
        tap.result(new[("KEK", GLOBAL)][3] == want_kek, "KEK: old lists + the new one")
        tap.result(new[("db", IMAGE_DB)][3] == want_db, "db: old lists + three new ones")
        tap.result(all(new[k][3] == old[k][3] and new[k][1] == old[k][1]
                       for k in old if k not in (("KEK", GLOBAL), ("db", IMAGE_DB))),
                   "every other variable unchanged (data, attributes)")
        # timestamps: the later of the old one (Debian's, 2025-03-10) and the
        # newest notBefore added (KEK: KEK 2K CA 2023's, 2023-03-02: the old
        # one stays; db: the Option ROM stand-in's, made in 2026)
        tap.result(new[("KEK", GLOBAL)][2] == old[("KEK", GLOBAL)][2] and
                   old[("KEK", GLOBAL)][2][:4] == struct.pack("<HBB", 2025, 3, 10),
                   "KEK timestamp: an append never moves it back")
        if shutil.which("openssl"):
            nb = max(notbefore(c) for c in (win23, uefi23, optrom))
            tap.result(new[("db", IMAGE_DB)][2][:7] == efi_time(nb),
                       "db timestamp: the newest notBefore added", nb)
        reference = os.path.join(args.data, "hosts", "secure-boot-keys", "usr", "share",
                                 "OVMF", "OVMF_VARS_4M.ms2023.fd")
        tap.result(after == read(reference),
                   "same bytes as the committed OVMF_VARS_4M.ms2023.fd (reproducible)")

        # again: nothing to add, nothing written
        rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "ms.fd", "--kek", kek23], tmp)
        tap.result(rc == 0 and "nothing to add" in out and read(target) == after and
                   len(glob.glob(target + ".bak-*")) == 1,
                   "enrolling a certificate already there writes nothing", out + err)

        # setup mode: KEK and db created, PEM and DER, fwsel's owner GUID
        plain = os.path.join(tmp, "plain.fd")
        shutil.copy(os.path.join(vdir, PLAIN), plain)
        rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "plain.fd",
                                   "--kek", testkek, "--db", testdb], tmp)
        got = walk(read(plain))
        ok = (rc == 0 and got.get(("KEK", GLOBAL), (0, 0, 0, b""))[1] == 0x27 and
              got[("KEK", GLOBAL)][3] == siglist(der_of(testkek), FWSEL) and
              got.get(("db", IMAGE_DB), (0, 0, 0, b""))[3] == siglist(der_of(testdb), FWSEL))
        tap.result(ok, "setup mode: KEK and db created (0x27, fwsel's owner)",
                   "exit %d\n%s%s" % (rc, out, err))
        if ok and shutil.which("openssl"):
            nb = notbefore(testdb)
            ts = got[("db", IMAGE_DB)][2]
            tap.result(ts[:7] == efi_time(nb), "new db timestamp: the certificate's notBefore",
                       (ts.hex(), nb))
        rc, out, err = run(fwsel, ["--json", "nvram", "inspect", "--file", "plain.fd"], tmp)
        obj = json.loads(out) if rc == 0 else {}
        tap.result(rc == 0 and obj["secure-boot"]["SetupMode-at-boot"] == 1 and
                   obj["db"]["x509"][0]["cn"] == "fwsel test db certificate",
                   "inspect reads the new db back", err)

        # --signature-owner
        own = os.path.join(tmp, "own.fd")
        shutil.copy(os.path.join(vdir, PLAIN), own)
        guid = "11111111-2222-3333-4444-555555555555"
        rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "own.fd", "--db", testdb,
                                   "--signature-owner", guid], tmp)
        tap.result(rc == 0 and walk(read(own))[("db", IMAGE_DB)][3] ==
                   siglist(der_of(testdb), uuid.UUID(guid)), "--signature-owner", err)

        # refusals: the file stays as it is
        def refused(name, fname, extra, expect, setup=None):
            path = os.path.join(tmp, fname)
            if setup:
                setup(path)
            was = read(path) if os.path.lexists(path) and not os.path.islink(path) else None
            rc, out, err = run(fwsel, ["nvram", "enroll", "--file", fname] + extra, tmp)
            same = was is None or read(path) == was
            tap.result(rc == 2 and expect in err and same and
                       not glob.glob(path + ".bak-*"), name, "exit %d\n%s%s" % (rc, out, err))

        shutil.copy(os.path.join(vdir, MS), os.path.join(tmp, "locked.fd"))
        fd = os.open(os.path.join(tmp, "locked.fd"), os.O_RDWR)
        fcntl.fcntl(fd, F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 100, 1, 0))
        refused("a varstore QEMU has locked", "locked.fd", ["--db", testdb], "is locked")
        os.close(fd)

        os.symlink("ms.fd", os.path.join(tmp, "link.fd"))
        refused("a symbolic link", "link.fd", ["--db", testdb], "symbolic link")

        with open(os.path.join(tmp, "blank.fd"), "wb") as f:
            f.write(b"\xff" * 540672)
        refused("blank flash", "blank.fd", ["--db", testdb], "start the guest once")

        with open(os.path.join(tmp, "garbage.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        shutil.copy(os.path.join(vdir, MS), os.path.join(tmp, "g.fd"))
        refused("a certificate that is not one", "g.fd", ["--db", "garbage.pem"],
                "cannot be read")
        with open(os.path.join(tmp, "text.crt"), "w") as f:
            f.write("hello\n")
        refused("a file that is neither DER nor PEM", "g.fd", ["--db", "text.crt"],
                "neither a DER certificate nor a PEM")
        refused("a bad --signature-owner", "g.fd",
                ["--db", testdb, "--signature-owner", "nope"], "is not a GUID")

        # a fault-tolerant write the firmware did not finish (Debian's
        # template: working block at 0x41000, its queue after 32 bytes)
        b = bytearray(read(os.path.join(vdir, MS)))
        work = b.find(uuid.UUID("9e58292b-7c68-497d-a0ce-6500fd9f1b95").bytes_le)
        tap.result(work == 0x41000, "the template's FTW working block is at 0x41000", hex(work))
        queue = work + 32
        # a complete write (state bits all set, i.e. 0), one record, then
        # one allocated but not complete
        b[queue] = 0xF8
        struct.pack_into("<QQ", b, queue + 24, 1, 0)
        b[queue + 40] = 0xF8
        pending = queue + 40 + 40
        b[pending] = 0xFE
        struct.pack_into("<QQ", b, pending + 24, 1, 0)
        with open(os.path.join(tmp, "ftw.fd"), "wb") as f:
            f.write(b)
        refused("a fault-tolerant write left pending", "ftw.fd", ["--db", testdb],
                "offset 0x%x: the firmware stopped in the middle" % pending)
        b[pending] = 0xF8
        with open(os.path.join(tmp, "ftw-done.fd"), "wb") as f:
            f.write(b)
        rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "ftw-done.fd", "--db", testdb],
                           tmp)
        tap.result(rc == 0 and read(os.path.join(tmp, "ftw-done.fd"))[work:] == bytes(b[work:]),
                   "completed fault-tolerant writes: enrolled, the working block kept",
                   out + err)

        # a store with no room left (the enrolled one: already compacted)
        b = bytearray(after)
        start, end = store_range(b)
        used = max(off for off in range(start, end) if b[off] != 0xFF)
        struct.pack_into("<I", b, start + 16, (used + 64 - start) & ~3)
        with open(os.path.join(tmp, "full.fd"), "wb") as f:
            f.write(b)
        refused("a variable store with no room", "full.fd", ["--db", testdb], "no room")

        if shutil.which("qemu-img"):
            subprocess.run(["qemu-img", "convert", "-O", "qcow2", os.path.join(vdir, MS),
                            os.path.join(tmp, "q.qcow2")], check=True)
            refused("a qcow2 varstore", "q.qcow2", ["--db", testdb], "qcow2")
        else:
            tap.n += 1
            print("ok %d - a qcow2 varstore # SKIP qemu-img is not installed" % tap.n)

        # aarch64: the 64 MiB AAVMF varstore of the installed package, sparse
        aavmf = "/usr/share/AAVMF/AAVMF_VARS.ms.fd"
        if os.path.exists(aavmf):
            a = os.path.join(tmp, "aavmf.fd")
            subprocess.run(["cp", "--sparse=always", aavmf, a], check=True)
            old = walk(read(a))
            rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "aavmf.fd", "--db", uefi23],
                               tmp)
            new = walk(read(a))
            alloc = os.stat(a).st_blocks * 512
            tap.result(rc == 0 and new[("db", IMAGE_DB)][3] ==
                       old[("db", IMAGE_DB)][3] + siglist(der_of(uefi23), MICROSOFT) and
                       os.path.getsize(a) == 64 * 1024 * 1024 and alloc <= 2 * 1024 * 1024,
                       "AAVMF_VARS.ms.fd: enrolled, still sparse (%d KiB allocated)" %
                       (alloc // 1024), out + err)
        else:
            tap.n += 1
            print("ok %d - AAVMF_VARS.ms.fd # SKIP %s is not installed (qemu-efi-aarch64)"
                  % (tap.n, aavmf))

        rc, out, err = run(fwsel, ["nvram", "enroll", "--file", "ms.fd"], tmp)
        tap.result(rc == 2 and "--kek and --db" in err, "no certificate named: usage", err)
        rc, out, err = run(fwsel, ["nvram", "inspect", "--file", "ms.fd", "--db", testdb], tmp)
        tap.result(rc == 2 and "only apply to nvram enroll" in err,
                   "--db with another operation: usage", err)

        # a domain under --root: the audit sees the change
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(args.data, "hosts", "secure-boot-keys"), root,
                        symlinks=True)
        xml = os.path.join(root, "etc", "libvirt", "qemu", "win-2011.xml")
        base = ["--root", root, "--no-qemu-probe"]
        rc, out, err = run(fwsel, base + ["--at", "2026-12-02", "nvram", "audit"], tmp)
        line = [l for l in out.splitlines() if l.startswith("win-2011:")]
        tap.result(rc == 1 and line and "NEEDS ATTENTION" in line[0], "audit before: attention",
                   out + err)
        rc, out, err = run(fwsel, base + ["nvram", "enroll", xml, "--kek", kek23, "--db", win23,
                                          "--db", uefi23, "--db", optrom], tmp)
        tap.result(rc == 0 and "/var/lib/libvirt/qemu/nvram/win-2011_VARS.fd.bak-" in out,
                   "enroll DOMAIN.xml under --root", "exit %d\n%s%s" % (rc, out, err))
        rc, out, err = run(fwsel, base + ["--at", "2026-12-02", "nvram", "audit"], tmp)
        line = [l for l in out.splitlines() if l.startswith("win-2011:")]
        tap.result(line and "NEEDS ATTENTION" not in line[0] and "UEFI CA 2023" in line[0],
                   "audit after: no attention", out + err)
        bios = os.path.join(root, "etc", "libvirt", "qemu", "bios.xml")
        rc, out, err = run(fwsel, base + ["nvram", "enroll", bios, "--db", testdb], tmp)
        tap.result(rc == 2 and "has no varstore" in err, "a BIOS domain: refused", err)

    # GnuTLS is opened by the commands that decode certificates only
    keys = os.path.join(args.data, "hosts", "secure-boot-keys")
    xml = os.path.join(keys, "etc", "libvirt", "qemu", "new-enrolled.xml")
    for argv, loads in ((["select", xml], False), (["check"], True),
                        (["--at", "2026-12-02", "nvram", "audit"], True)):
        p = subprocess.run([fwsel, "--root", keys, "--no-qemu-probe"] + argv,
                           capture_output=True, text=True,
                           env=dict(os.environ, LC_ALL="C", LD_DEBUG="libs"))
        mapped = "libgnutls" in p.stderr
        tap.result(mapped == loads, "%s %s GnuTLS" % (argv[-1] if argv[0] != "select" else
                                                    "select", "loads" if loads else
                                                    "never loads"))

    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
