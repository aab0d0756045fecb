#!/usr/bin/env python3
"""virt-fwsel nvram inspect: golden outputs and malformed varstores (TAP).

tests-data/varstore/ holds real varstores (Debian's ovmf package, see its
README) and what inspect prints for each:

  NAME.fd          a varstore
  NAME.fd.out      expected stdout of 'nvram inspect --file NAME.fd'
  NAME.fd.json     expected stdout of the same with --json

tests-data/varstore/malformed/CASE.err holds the expected stderr (first
line "exit N") of inspecting CASE.fd, a copy of OVMF_VARS_4M.ms.fd broken
as MUTATIONS below says; tests-data/varstore/states/CASE.out the expected
stdout of a copy whose variable states were changed (no error).

--regenerate rewrites the expected files from the current output.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

MS = "OVMF_VARS_4M.ms.fd"

# Offsets of the edk2 structures (see src/varstore.c)
FV_LENGTH = 32
FV_SIGNATURE = 40
FV_HEADER_LENGTH = 48
FV_CHECKSUM = 50
AUTH_VAR_HEADER = 60


def store_offset(b):
    return struct.unpack_from("<H", b, FV_HEADER_LENGTH)[0]


def variables(b):
    """(offset, state, name, data offset, data size) of every entry: an
    independent walk of the store, to find what to break"""
    store = store_offset(b)
    size = struct.unpack_from("<I", b, store + 16)[0]
    end = store + size
    off = store + 28
    out = []
    while off + AUTH_VAR_HEADER <= end and struct.unpack_from("<H", b, off)[0] == 0x55AA:
        state = b[off + 2]
        nsize, dsize = struct.unpack_from("<II", b, off + 36)
        name = bytes(b[off + AUTH_VAR_HEADER:off + AUTH_VAR_HEADER + nsize]).decode("utf-16-le").rstrip("\0")
        data = off + AUTH_VAR_HEADER + nsize
        out.append((off, state, name, data, dsize))
        off = (data + dsize + 3) & ~3
    return out


def live(b, name):
    for v in variables(b):
        if v[2] == name and v[1] == 0x3F:
            return v
    raise KeyError(name)


def fix_checksum(b):
    hlen = store_offset(b)
    struct.pack_into("<H", b, FV_CHECKSUM, 0)
    total = sum(struct.unpack_from("<%dH" % (hlen // 2), b, 0)) & 0xFFFF
    struct.pack_into("<H", b, FV_CHECKSUM, (-total) & 0xFFFF)


def m_truncated_header(b):
    del b[0x30:]


def m_truncated_volume(b):
    del b[0x10000:]


def m_bad_signature(b):
    b[FV_SIGNATURE:FV_SIGNATURE + 4] = b"_FVX"


def m_bad_checksum(b):
    b[FV_CHECKSUM] ^= 0x01


def m_bad_fs_guid(b):
    b[16] ^= 0xFF
    fix_checksum(b)


def m_bad_header_length(b):
    struct.pack_into("<H", b, FV_HEADER_LENGTH, 0x47)


def m_bad_store_guid(b):
    b[store_offset(b)] ^= 0xFF


def m_store_too_big(b):
    struct.pack_into("<I", b, store_offset(b) + 16, 0x7FFFFFFF)


def m_store_not_healthy(b):
    b[store_offset(b) + 21] = 0xFF


def m_var_overlong(b):
    off = live(b, "KEK")[0]
    struct.pack_into("<I", b, off + 40, 0x7FFFFFF0)


def m_var_name_unterminated(b):
    off, _, _, data, _ = live(b, "PK")
    b[data - 2] = ord("X")


def m_siglist_size(b):
    data = live(b, "db")[3]
    struct.pack_into("<I", b, data + 16, 0x10000)


def m_siglist_sigsize(b):
    data = live(b, "KEK")[3]
    size = struct.unpack_from("<I", b, data + 24)[0]
    struct.pack_into("<I", b, data + 24, size - 1)


def m_siglist_header_size(b):
    data = live(b, "PK")[3]
    struct.pack_into("<I", b, data + 20, 0xFFFFFFF0)


def m_sha256_size(b):
    data = live(b, "dbx")[3]
    struct.pack_into("<I", b, data + 24, 16 + 20)
    struct.pack_into("<I", b, data + 16, 28 + 36)


def m_x509_garbage(b):
    data = live(b, "db")[3]
    # first certificate: list header, then the owner GUID, then DER
    b[data + 28 + 16] = 0x00


def m_boot_unterminated(b):
    off, _, _, data, dsize = live(b, "Boot0000")
    for i in range(data + 6, data + dsize, 2):
        if b[i] == 0 and b[i + 1] == 0:
            b[i] = ord("X")


def m_boot_path_length(b):
    data = live(b, "Boot0001")[3]
    struct.pack_into("<H", b, data + 4, 0xFFFF)


MUTATIONS = {
    "truncated-header": m_truncated_header,
    "truncated-volume": m_truncated_volume,
    "bad-signature": m_bad_signature,
    "bad-checksum": m_bad_checksum,
    "bad-fs-guid": m_bad_fs_guid,
    "bad-header-length": m_bad_header_length,
    "bad-store-guid": m_bad_store_guid,
    "store-too-big": m_store_too_big,
    "store-not-healthy": m_store_not_healthy,
    "var-overlong": m_var_overlong,
    "var-name-unterminated": m_var_name_unterminated,
    "siglist-size": m_siglist_size,
    "siglist-sigsize": m_siglist_sigsize,
    "siglist-header-size": m_siglist_header_size,
    "sha256-size": m_sha256_size,
    "x509-garbage": m_x509_garbage,
    "boot-unterminated": m_boot_unterminated,
    "boot-path-length": m_boot_path_length,
}


# Variable states handled as the firmware does (no error)
def s_in_transition_only(b):
    """PK in deleted transition with no added copy: still PK"""
    off = live(b, "PK")[0]
    b[off + 2] = 0x3E


def s_in_transition_superseded(b):
    """deleted copies of CustomMode back in deleted transition while an
    added one exists: the added one wins; PK only half-written: gone"""
    for off, state, name, _, _ in variables(b):
        if name == "CustomMode" and state != 0x3F:
            b[off + 2] = 0x3E
    b[live(b, "PK")[0] + 2] = 0x7F


def s_bootorder_in_transition(b):
    """the last (deleted) BootOrder in deleted transition: the only copy,
    so the firmware uses it"""
    last = [v for v in variables(b) if v[2] == "BootOrder"][-1]
    b[last[0] + 2] = 0x3E


def s_deleted_pk(b):
    """PK deleted: setup mode, Secure Boot off"""
    b[live(b, "PK")[0] + 2] = 0x3C


def s_blank_zero(b):
    """erased flash, as Debian's AAVMF_VARS.fd (64 MiB of zeros; here the
    size of the aarch64 variable volume): blank, no error"""
    b[:] = bytes(786432)


def s_blank_ff(b):
    """erased NOR flash reads 0xff"""
    b[:] = b"\xff" * 540672


STATES = {
    "in-transition-only": s_in_transition_only,
    "in-transition-superseded": s_in_transition_superseded,
    "deleted-pk": s_deleted_pk,
    "bootorder-in-transition": s_bootorder_in_transition,
    "blank-zero": s_blank_zero,
    "blank-ff": s_blank_ff,
}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diag=""):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, name))
        if diag and not ok:
            for line in diag.splitlines():
                print("# " + line)
        sys.stdout.flush()

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why))


def run(fwsel, args, cwd):
    p = subprocess.run([fwsel] + args, cwd=cwd, capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    return p.returncode, p.stdout, p.stderr


def compare(tap, name, expected_path, actual, regenerate):
    if regenerate:
        write(expected_path, actual)
    if not os.path.exists(expected_path):
        tap.result(False, name, "missing " + expected_path)
        return
    want = read(expected_path)
    tap.result(want == actual, name, "expected:\n%s\ngot:\n%s" % (want, actual))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--data", required=True, help="tests-data")
    ap.add_argument("--regenerate", action="store_true")
    args = ap.parse_args()
    fwsel = os.path.abspath(args.fwsel)
    args.data = os.path.abspath(args.data)
    vdir = os.path.join(args.data, "varstore")
    tap = Tap()

    # golden outputs of the real varstores
    for f in sorted(os.listdir(vdir)):
        if not f.endswith(".fd"):
            continue
        for ext, extra in ((".out", []), (".json", ["--json"])):
            rc, out, err = run(fwsel, extra + ["nvram", "inspect", "--file", f], vdir)
            if rc != 0 or err:
                tap.result(False, f + ext, "exit %d\n%s" % (rc, err))
                continue
            if ext == ".json":
                json.loads(out)
            compare(tap, "inspect " + f + ext, os.path.join(vdir, f + ext), out,
                    args.regenerate)

    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(vdir, MS), "rb") as fh:
            original = fh.read()

        # qcow2: the same report but for the format line
        if shutil.which("qemu-img"):
            qcow2 = os.path.join(tmp, MS)
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2",
                            os.path.join(vdir, MS), qcow2], check=True)
            rc, out, err = run(fwsel, ["nvram", "inspect", "--file", MS], tmp)
            want = read(os.path.join(vdir, MS + ".out")).replace(
                "format: raw,", "format: qcow2,", 1)
            tap.result(rc == 0 and out == want, "inspect qcow2 " + MS,
                       "exit %d\n%s\n%s" % (rc, err, out))
            # an overlay would make qemu-img open another file by name
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", qcow2, "-F",
                            "qcow2", os.path.join(tmp, "overlay.qcow2")], check=True)
            rc, out, err = run(fwsel, ["nvram", "inspect", "--file", "overlay.qcow2"], tmp)
            tap.result(rc == 2 and err == "virt-fwsel: overlay.qcow2: offset 0x8: qcow2 header: "
                       "names a backing file: a varstore must stand on its own\n",
                       "inspect qcow2 with a backing file: refused", "exit %d\n%s" % (rc, err))
            os.unlink(qcow2)
            os.unlink(os.path.join(tmp, "overlay.qcow2"))
        else:
            tap.skip("inspect qcow2 " + MS, "qemu-img is not installed")
            tap.skip("inspect qcow2 with a backing file: refused", "qemu-img is not installed")

        # malformed: exit 2, an error naming the file and the offset
        for case, mutate in MUTATIONS.items():
            b = bytearray(original)
            mutate(b)
            name = case + ".fd"
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(b)
            rc, out, err = run(fwsel, ["nvram", "inspect", "--file", name], tmp)
            actual = "exit %d\n%s" % (rc, err)
            ok_shape = rc == 2 and not out and err.startswith("virt-fwsel: %s: " % name)
            if not ok_shape and not args.regenerate:
                tap.result(False, "malformed " + case, actual + out)
                continue
            compare(tap, "malformed " + case,
                    os.path.join(vdir, "malformed", case + ".err"), actual, args.regenerate)

        # variable states
        for case, mutate in STATES.items():
            b = bytearray(original)
            mutate(b)
            name = case + ".fd"
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(b)
            rc, out, err = run(fwsel, ["nvram", "inspect", "--file", name], tmp)
            if rc != 0 or err:
                tap.result(False, "states " + case, "exit %d\n%s" % (rc, err))
                continue
            compare(tap, "states " + case, os.path.join(vdir, "states", case + ".out"),
                    out, args.regenerate)

        # nvram inspect DOMAIN.xml: the varstore selection gives the domain,
        # read under --root, and its template
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(args.data, "hosts", "debian-bookworm"), root,
                        symlinks=True)
        guest = os.path.join(args.data, "demo", "guest.xml")
        common = ["--root", root, "--no-qemu-probe", "nvram", "inspect", guest]
        rc, out, err = run(fwsel, common, tmp)
        tap.result(rc == 1 and "does not exist" in out,
                   "inspect DOMAIN.xml: no varstore yet: exit 1",
                   "exit %d\n%s%s" % (rc, out, err))
        nvdir = os.path.join(root, "var", "lib", "libvirt", "qemu", "nvram")
        os.makedirs(nvdir, exist_ok=True)
        shutil.copy(os.path.join(vdir, MS), os.path.join(nvdir, "demo_VARS.fd"))
        rc, out, err = run(fwsel, common, tmp)
        want = ("domain: demo\ntemplate: /usr/share/OVMF/OVMF_VARS_4M.fd\n" +
                read(os.path.join(vdir, MS + ".out")).replace(
                    "file: " + MS, "file: /var/lib/libvirt/qemu/nvram/demo_VARS.fd", 1))
        tap.result(rc == 0 and out == want, "inspect DOMAIN.xml under --root",
                   "exit %d\n%s\n%s" % (rc, err, out))
        rc, out, err = run(fwsel, ["--json"] + common, tmp)
        try:
            obj = json.loads(out)
            ok = (rc == 0 and obj["template"] == "/usr/share/OVMF/OVMF_VARS_4M.fd" and
                  obj["domain"] == "demo" and len(obj["KEK"]["x509"]) == 2)
        except (ValueError, KeyError, TypeError):
            ok = False
        tap.result(ok, "inspect --json DOMAIN.xml under --root", "exit %d\n%s\n%s" % (rc, err, out))

        # usage
        rc, out, err = run(fwsel, ["nvram", "check", "--file", MS], vdir)
        tap.result(rc == 2 and "--file only applies to nvram inspect" in err,
                   "--file with another operation is a usage error", err)

    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
