#!/usr/bin/env python3
"""virt-fwsel nvram inspect against virt-fw-vars (the virt-firmware project).

For every varstore in tests-data/varstore (and, with --host, the host's
/usr/share/OVMF and /usr/share/AAVMF varstores), both must see the same
variables (name, GUID, attributes, data size, timestamp) and, in PK, KEK,
db and dbx, the same certificates (owner, subject, issuer, serial,
validity, SHA-256 fingerprint) and the same number of SHA-256 hashes.

virt-fw-vars reads the variables (--output-json); its own library, run by
virt-fw-vars' interpreter, decodes the signature lists (with the Python
'cryptography' package: another X.509 implementation than fwsel's GnuTLS).

Exit 0 same, 1 a difference, 77 (skip) without virt-fw-vars
(Debian: python3-virt-firmware, in bookworm-backports).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Run under virt-fw-vars' interpreter: decodes PK, KEK, db, dbx of the
# variables virt-fw-vars wrote (JSON on stdin) with virt.firmware.
HELPER = r'''
import json, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from virt.firmware.efi import siglist, guids

# attribute names as GnuTLS writes them (RFC 4514, plus EMAIL)
NAMES = {
    "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.7": "L",
    "2.5.4.8": "ST", "2.5.4.6": "C", "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "EMAIL", "2.5.4.5": "serialNumber",
}

def escape(v):
    out = ""
    for i, ch in enumerate(v):
        if ch in ',+"\\<>;' or (i == 0 and ch in "# ") or (i == len(v) - 1 and ch == " "):
            out += "\\" + ch
        else:
            out += ch
    return out

def dn(name):
    rdns = []
    for rdn in reversed(list(name.rdns)):
        rdns.append("+".join("%s=%s" % (NAMES.get(a.oid.dotted_string, a.oid.dotted_string),
                                         escape(a.value)) for a in rdn))
    return ",".join(rdns)

def when(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")

out = {}
for var in json.load(sys.stdin)["variables"]:
    if (var["name"], var["guid"]) not in (("PK", guids.EfiGlobalVariable),
                                         ("KEK", guids.EfiGlobalVariable),
                                         ("db", guids.EfiImageSecurityDatabase),
                                         ("dbx", guids.EfiImageSecurityDatabase)):
        continue
    db = siglist.EfiSigDB(bytes.fromhex(var["data"]))
    certs = []
    hashes256 = 0
    for sl in db:
        for sig in sl:
            if str(sl.guid) == guids.EfiCertX509:
                c = x509.load_der_x509_certificate(sig["data"])
                certs.append({
                    "owner": str(sig["guid"]),
                    "subject": dn(c.subject),
                    "issuer": dn(c.issuer),
                    "serial": c.serial_number,
                    "not-before": when(c.not_valid_before),
                    "not-after": when(c.not_valid_after),
                    "sha256": c.fingerprint(hashes.SHA256()).hex(),
                })
            elif str(sl.guid) == guids.EfiCertSha256:
                hashes256 += 1
    out[var["name"]] = {"lists": len(db), "x509": certs, "sha256": hashes256}
json.dump(out, sys.stdout)
'''


def interpreter(script):
    with open(script, "rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    if first.startswith("#!"):
        return first[2:].split()
    return [sys.executable]


def efi_time(hexstr):
    """virt-fw-vars' EFI_TIME (hex) as fwsel prints it; None when unset"""
    b = bytes.fromhex(hexstr)
    if not any(b):
        return None
    year = b[0] | (b[1] << 8)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (year, b[2], b[3], b[4], b[5], b[6])


def compare(fwsel, vfv, python, path, tmp):
    """differences between the two views of @path (a list of strings),
    and a summary"""
    diffs = []
    out_json = os.path.join(tmp, "vars.json")
    p = subprocess.run([fwsel, "--json", "nvram", "inspect", "--file", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return ["virt-fwsel nvram inspect failed: " + p.stderr.strip()], ""
    ours = json.loads(p.stdout)

    p = subprocess.run([vfv, "-i", path, "--output-json", out_json],
                       capture_output=True, text=True)
    if p.returncode != 0 and ours["store"]["blank"]:
        # virt-fw-vars cannot read erased flash (no volume header yet)
        return None, "blank, not formatted yet (virt-fw-vars cannot read it)"
    if p.returncode != 0:
        return ["virt-fw-vars failed: " + p.stderr.strip()], ""
    with open(out_json, encoding="utf-8") as f:
        theirs_text = f.read()
    theirs = json.loads(theirs_text)
    p = subprocess.run(python + ["-c", HELPER], input=theirs_text, capture_output=True,
                       text=True)
    if p.returncode != 0:
        return ["virt.firmware could not decode the signature lists: " + p.stderr.strip()], ""
    their_dbs = json.loads(p.stdout)

    # variables
    tv = {(v["name"], v["guid"]): v for v in theirs["variables"]}
    ov = {(v["name"], v["guid"]): v for v in ours["variables"]}
    for key in sorted(set(tv) - set(ov)):
        diffs.append("only virt-fw-vars sees %s %s" % key)
    for key in sorted(set(ov) - set(tv)):
        diffs.append("only virt-fwsel sees %s %s" % key)
    for key in sorted(set(tv) & set(ov)):
        t, o = tv[key], ov[key]
        if t["attr"] != o["attributes"]:
            diffs.append("%s: attributes 0x%x (virt-fw-vars) / 0x%x" % (key[0], t["attr"],
                                                                      o["attributes"]))
        if len(t["data"]) // 2 != o["size"]:
            diffs.append("%s: %d bytes (virt-fw-vars) / %d" % (key[0], len(t["data"]) // 2,
                                                               o["size"]))
        if efi_time(t.get("time", "00")) != o.get("time"):
            diffs.append("%s: time %s (virt-fw-vars) / %s" % (key[0], efi_time(t.get("time", "00")),
                                                             o.get("time")))

    # signature databases
    ncerts = 0
    for name in ("PK", "KEK", "db", "dbx"):
        t = their_dbs.get(name)
        o = ours.get(name)
        if (t is None) != (o is None):
            diffs.append("%s: set for %s only" % (name, "virt-fw-vars" if t else "virt-fwsel"))
            continue
        if t is None:
            continue
        if t["lists"] != o["lists"]:
            diffs.append("%s: %d lists (virt-fw-vars) / %d" % (name, t["lists"], o["lists"]))
        if t["sha256"] != o["counts"]["sha256"]:
            diffs.append("%s: %d SHA-256 hashes (virt-fw-vars) / %d" % (name, t["sha256"],
                                                                       o["counts"]["sha256"]))
        if len(t["x509"]) != len(o["x509"]):
            diffs.append("%s: %d certificates (virt-fw-vars) / %d" % (name, len(t["x509"]),
                                                                     len(o["x509"])))
            continue
        for i, (tc, oc) in enumerate(zip(t["x509"], o["x509"])):
            ncerts += 1
            for field in ("owner", "subject", "issuer", "not-before", "not-after", "sha256"):
                if tc[field] != oc[field]:
                    diffs.append("%s certificate %d: %s %r (virt-fw-vars) / %r" %
                                 (name, i, field, tc[field], oc[field]))
            if tc["serial"] != int(oc["serial"], 16):
                diffs.append("%s certificate %d: serial %x (virt-fw-vars) / %s" %
                             (name, i, tc["serial"], oc["serial"]))
    summary = "%d variables, %d certificates, dbx %d SHA-256 hashes" % (
        len(ov), ncerts, ours["dbx"]["counts"]["sha256"] if ours.get("dbx") else 0)
    return diffs, summary


MICROSOFT = "77fa9abd-0359-4d32-bd60-28f4e78f784b"
FWSEL_OWNER = "8b4713ac-8916-4842-98c0-2453b281d1e8"


def compare_enroll(fwsel, vfv, template, owner, adds, tmp):
    """enroll @adds ((kek|db, file), ...) into copies of @template with
    virt-fwsel and with virt-fw-vars; the variables virt-fw-vars reads
    back from both (name, GUID, attributes, time, data) must be equal"""
    ours = os.path.join(tmp, "enroll-fwsel.fd")
    theirs = os.path.join(tmp, "enroll-vfv.fd")
    for path in glob.glob(ours + "*"):
        os.unlink(path)
    shutil.copy(template, ours)
    argv = [fwsel, "nvram", "enroll", "--file", ours]
    vargv = [vfv, "-i", template, "-o", theirs]
    for db, path in adds:
        argv += ["--" + db, path]
        vargv += ["--add-" + db, owner, path]
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        return ["virt-fwsel nvram enroll failed: " + p.stderr.strip()]
    p = subprocess.run(vargv, capture_output=True, text=True)
    if p.returncode != 0:
        return ["virt-fw-vars failed: " + p.stderr.strip()]
    views = []
    for path in (ours, theirs):
        out = path + ".json"
        p = subprocess.run([vfv, "-i", path, "--output-json", out], capture_output=True,
                           text=True)
        if p.returncode != 0:
            return ["virt-fw-vars cannot read %s: %s" % (path, p.stderr.strip())]
        with open(out, encoding="utf-8") as f:
            views.append({(v["name"], v["guid"]): v for v in json.load(f)["variables"]})
    diffs = []
    for key in sorted(set(views[0]) | set(views[1])):
        a, b = views[0].get(key), views[1].get(key)
        if a is None or b is None:
            diffs.append("%s %s: only in %s's result" % (key[0], key[1],
                                                        "virt-fwsel" if a else "virt-fw-vars"))
            continue
        for field in sorted(set(a) | set(b)):
            if a.get(field) != b.get(field):
                diffs.append("%s: %s differs (virt-fwsel %.40s / virt-fw-vars %.40s)" %
                             (key[0], field, a.get(field), b.get(field)))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--data", required=True, help="tests-data")
    ap.add_argument("--host", action="store_true",
                    help="also the host's /usr/share/OVMF and /usr/share/AAVMF varstores")
    ap.add_argument("--only", action="store_true",
                    help="compare only the files named, not tests-data nor enrollments")
    ap.add_argument("files", nargs="*", help="more varstores to compare")
    args = ap.parse_args()

    vfv = shutil.which("virt-fw-vars")
    if not vfv:
        print("SKIP: virt-fw-vars is not installed (python3-virt-firmware)")
        return 77
    python = interpreter(vfv)

    files = [] if args.only else sorted(glob.glob(os.path.join(args.data, "varstore", "*.fd")))
    # the audit host: templates and guests' varstores, most written by
    # 'nvram enroll' (broken_VARS.fd is not a varstore on purpose)
    keys = os.path.join(args.data, "hosts", "secure-boot-keys")
    files += [] if args.only else sorted(
                    p for p in glob.glob(os.path.join(keys, "usr", "share", "OVMF", "*VARS*.fd")) +
                    glob.glob(os.path.join(keys, "var", "lib", "libvirt", "qemu", "nvram", "*.fd"))
                    if not p.endswith("broken_VARS.fd"))
    if args.host:
        files += sorted(glob.glob("/usr/share/OVMF/*VARS*.fd") +
                        glob.glob("/usr/share/AAVMF/*VARS*.fd"))
    files += args.files

    failed = 0
    skipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            diffs, summary = compare(os.path.abspath(args.fwsel), vfv, python, path, tmp)
            if diffs is None:
                skipped += 1
                print("skipped %s: %s" % (path, summary))
            elif diffs:
                failed += 1
                print("DIFFERENT %s" % path)
                for d in diffs:
                    print("  " + d)
            else:
                print("same %s: %s" % (path, summary))
        # the same enrollment by virt-fwsel and by virt-fw-vars must store
        # the same variables
        certs = os.path.join(args.data, "varstore", "certs")
        enrollments = [] if args.only else [
            ("OVMF_VARS_4M.ms.fd", MICROSOFT,
             [("kek", "MicrosoftCorporationKEK2KCA2023.der"), ("db", "WindowsUEFICA2023.der"),
              ("db", "MicrosoftUEFICA2023.der")]),
            ("OVMF_VARS_4M.fd", FWSEL_OWNER,
             [("kek", "fwsel-test-kek.der"), ("db", "fwsel-test-db.pem")]),
        ]
        for template, owner, adds in enrollments:
            diffs = compare_enroll(os.path.abspath(args.fwsel), vfv,
                                   os.path.join(args.data, "varstore", template), owner,
                                   [(db, os.path.join(certs, f)) for db, f in adds], tmp)
            name = "enroll %s + %s" % (template, ", ".join(f for _, f in adds))
            if diffs:
                failed += 1
                print("DIFFERENT " + name)
                for d in diffs:
                    print("  " + d)
            else:
                print("same " + name)
            files.append(name)
    print("%d passed, %d failed, %d skipped" % (len(files) - failed - skipped, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
