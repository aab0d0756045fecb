#!/usr/bin/env python3
"""The libvirt qemu hook scripts/hooks/qemu-fwsel, called the way libvirt
calls it (NAME OPERATION SUB-OPERATION EXTRA, domain XML on stdin), against
copies of host trees under a temporary directory.  TAP output for meson.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

NVRAM = "/var/lib/libvirt/qemu/nvram"


class Env:
    def __init__(self, args, tmp):
        self.hook = os.path.abspath(args.hook)
        self.fwsel = os.path.abspath(args.fwsel)
        self.data = os.path.abspath(args.data)
        self.tmp = tmp
        self.state = os.path.join(tmp, "state")
        self.log = os.path.join(tmp, "hook.log")

    def root(self, host):
        """A private, writable copy of tests-data/hosts/HOST"""
        dest = os.path.join(self.tmp, "root-" + host)
        if not os.path.exists(dest):
            shutil.copytree(os.path.join(self.data, "hosts", host), dest, symlinks=True)
        return dest

    def run(self, root, name, op, subop, xml, fwsel=None, nvram_opts=""):
        env = dict(os.environ,
                   FWSEL_HOOK_CONFIG="/nonexistent",
                   VIRT_FWSEL=fwsel or self.fwsel,
                   FWSEL_OPTIONS="--root %s --no-qemu-probe" % root,
                   FWSEL_NVRAM_OPTIONS=nvram_opts or "--owner %d:%d" % (os.getuid(), os.getgid()),
                   FWSEL_HOOK_STATE_DIR=self.state,
                   FWSEL_HOOK_LOG=self.log,
                   LC_ALL="C")
        return subprocess.run([self.hook, name, op, subop, "-"], input=xml.encode(),
                              capture_output=True, env=env, timeout=60)

    def migrate_xml(self, root, xml_file):
        return subprocess.run([self.fwsel, "--root", root, "--no-qemu-probe", "migrate-xml",
                               xml_file], capture_output=True, timeout=60)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def case_xml(env, suite, name):
    return read(os.path.join(env.data, suite, name + ".xml"))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def t_migrate_kept(env):
    """migrate begin prints what migrate-xml prints (files present here)"""
    root = env.root("debian-bookworm")
    xml_file = os.path.join(env.data, "migrate", "kept-drops-autoselection.xml")
    p = env.run(root, "mig-02", "migrate", "begin", read(xml_file))
    direct = env.migrate_xml(root, xml_file)
    expect(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.decode()))
    expect(direct.returncode == 0, "migrate-xml failed")
    expect(p.stdout == direct.stdout, "hook output differs from migrate-xml output")
    expect(b"firmware='efi'" not in p.stdout, "auto-selection still on")


def t_migrate_remap(env):
    """migrate begin maps missing files to the destination's descriptor"""
    root = env.root("argv-dest-fedora")
    p = env.run(root, "mig-05", "migrate", "begin",
                case_xml(env, "migrate", "remap-secure-boot-no-keys"))
    expect(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.decode()))
    expect(b"/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd</loader>" in p.stdout, "loader not remapped")
    expect("40-edk2-ovmf-x64-sb.json" in read(env.log), "the mapping is not logged")


def t_migrate_refused(env):
    """migrate begin refuses an ambiguous mapping: non-zero exit, reason on stderr"""
    root = env.root("argv-dest-fedora")
    p = env.run(root, "mig-12", "migrate", "begin",
                case_xml(env, "migrate", "ambiguous-enrolled-keys"))
    expect(p.returncode != 0, "migration not refused")
    expect(p.stdout == b"", "printed a definition although it failed")
    expect(b"ambiguous" in p.stderr, "stderr does not say why: %r" % p.stderr)


def t_prepare_without_migrate(env):
    """prepare begin without a preceding migrate does nothing"""
    root = env.root("debian-bookworm")
    p = env.run(root, "mig-01", "prepare", "begin", case_xml(env, "migrate", "kept-same-host-files"))
    expect(p.returncode == 0 and p.stdout == b"", "unexpected exit or output")
    expect(not os.path.exists(os.path.join(root, NVRAM.lstrip("/"), "mig-01_VARS.fd")),
           "a varstore was created for an ordinary start")


def t_prepare_creates_varstore(env):
    """prepare begin after migrate creates the varstore from the template"""
    root = env.root("debian-bookworm")
    xml = case_xml(env, "migrate", "kept-same-host-files")
    p = env.run(root, "mig-01", "migrate", "begin", xml)
    expect(p.returncode == 0, "migrate failed: %s" % p.stderr.decode())
    p = env.run(root, "mig-01", "prepare", "begin", p.stdout.decode())
    expect(p.returncode == 0, "prepare failed: %s" % p.stderr.decode())
    made = os.path.join(root, NVRAM.lstrip("/"), "mig-01_VARS.fd")
    tmpl = os.path.join(root, "usr/share/OVMF/OVMF_VARS_4M.ms.fd")
    expect(os.path.exists(made), "no varstore at %s" % made)
    expect(read(made) == read(tmpl), "varstore is not a copy of the template")
    expect(not os.path.exists(os.path.join(env.state, "mig-01.incoming")), "marker left behind")


def migrate_prepare(env, root, name):
    """migrate begin + prepare begin for NAME; the varstore's path"""
    xml = case_xml(env, "migrate", "kept-same-host-files").replace("mig-01", name)
    p = env.run(root, name, "migrate", "begin", xml)
    expect(p.returncode == 0, "migrate failed: %s" % p.stderr.decode())
    out = p.stdout.decode()
    p = env.run(root, name, "prepare", "begin", out)
    expect(p.returncode == 0, "prepare failed: %s" % p.stderr.decode())
    return out, os.path.join(root, NVRAM.lstrip("/"), name + "_VARS.fd")


def t_release_removes_template_copy(env):
    """release end after a failed incoming migration removes the varstore the hook created (template bytes only)"""
    root = env.root("debian-bookworm")
    xml, made = migrate_prepare(env, root, "mig-31")
    expect(os.path.exists(made), "no varstore created")
    p = env.run(root, "mig-31", "release", "end", xml)
    expect(p.returncode == 0, "release failed")
    expect(not os.path.exists(made), "the template copy is still there")
    expect("removed %s" % made[len(root):] in read(env.log) or "removed %s" % made in read(env.log),
           "not logged")


def t_release_keeps_data(env):
    """release end keeps a varstore the hook created once it holds data (the guest ran here)"""
    root = env.root("debian-bookworm")
    xml, made = migrate_prepare(env, root, "mig-32")
    with open(made, "r+b") as f:
        f.seek(0x2000)
        f.write(b"\x01")
    env.run(root, "mig-32", "release", "end", xml)
    expect(os.path.exists(made), "a varstore holding data was removed")
    expect(not os.path.exists(os.path.join(env.state, "mig-32.created")), "record left behind")


def t_release_keeps_not_created(env):
    """release end never removes a varstore the hook did not create, even one equal to the template"""
    root = env.root("debian-bookworm")
    xml = case_xml(env, "migrate", "kept-same-host-files").replace("mig-01", "mig-33")
    made = os.path.join(root, NVRAM.lstrip("/"), "mig-33_VARS.fd")
    os.makedirs(os.path.dirname(made), exist_ok=True)
    shutil.copy(os.path.join(root, "usr/share/OVMF/OVMF_VARS_4M.ms.fd"), made)
    p = env.run(root, "mig-33", "migrate", "begin", xml)
    p = env.run(root, "mig-33", "prepare", "begin", p.stdout.decode())
    expect(p.returncode == 0, "prepare failed")
    env.run(root, "mig-33", "release", "end", xml)
    expect(os.path.exists(made), "a varstore the hook did not create was removed")


def carried_xml(env, name, data, size=None, sha=None):
    """kept-same-host-files with a varstore carried in <metadata>, as
    virt-fwsel-carry pack writes it and libvirt formats it"""
    import base64
    import gzip
    import hashlib
    blob = base64.b64encode(gzip.compress(data)).decode()
    rec = ("  <metadata>\n    <fwsel:varstore xmlns:fwsel=\"urn:fwsel:varstore:1\" "
           "encoding=\"gzip-base64\" size=\"%d\" sha256=\"%s\">%s</fwsel:varstore>\n"
           "  </metadata>\n" % (size if size is not None else len(data),
                                sha or hashlib.sha256(data).hexdigest(), blob))
    xml = case_xml(env, "migrate", "kept-same-host-files").replace("mig-01", name)
    return xml.replace("  <os>", rec + "  <os>", 1)


def t_migrate_writes_carried(env):
    """migrate begin writes a varstore carried in the definition and drops the copy from it"""
    root = env.root("debian-bookworm")
    tmpl = os.path.join(root, "usr/share/OVMF/OVMF_VARS_4M.ms.fd")
    with open(tmpl, "rb") as f:
        data = bytearray(f.read())
    data[16:24] = b"carried!"
    assert len(data) == os.path.getsize(tmpl)
    p = env.run(root, "mig-41", "migrate", "begin", carried_xml(env, "mig-41", bytes(data)))
    expect(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.decode()))
    expect(b"urn:fwsel:varstore:1" not in p.stdout, "the carried copy is still in the definition")
    expect(b"<loader" in p.stdout, "no definition printed")
    made = os.path.join(root, NVRAM.lstrip("/"), "mig-41_VARS.fd")
    with open(made, "rb") as f:
        expect(f.read() == bytes(data), "the varstore does not hold the carried bytes")
    expect(oct(os.stat(made).st_mode & 0o777) == "0o600", "mode not 0600")


def t_migrate_carried_never_overwrites(env):
    """a carried varstore is never written over an existing file"""
    root = env.root("debian-bookworm")
    made = os.path.join(root, NVRAM.lstrip("/"), "mig-42_VARS.fd")
    os.makedirs(os.path.dirname(made), exist_ok=True)
    with open(made, "w") as f:
        f.write("the guest's own variables\n")
    p = env.run(root, "mig-42", "migrate", "begin", carried_xml(env, "mig-42", b"x" * 540672))
    expect(p.returncode == 0, "exit %d" % p.returncode)
    expect(read(made) == "the guest's own variables\n", "existing varstore was touched")


def t_migrate_carried_bad_checksum(env):
    """a carried varstore that does not match its SHA-256 refuses the migration, nothing written"""
    root = env.root("debian-bookworm")
    p = env.run(root, "mig-43", "migrate", "begin",
                carried_xml(env, "mig-43", b"\xff" * 540672, sha="0" * 64))
    expect(p.returncode != 0, "migration not refused")
    expect(b"SHA-256" in p.stderr, "no reason: %r" % p.stderr)
    expect(not os.path.exists(os.path.join(root, NVRAM.lstrip("/"), "mig-43_VARS.fd")),
           "a varstore was written")


def t_migrate_carried_wrong_size(env):
    """a carried varstore of another size than this host's template refuses the migration and removes the file made for it"""
    root = env.root("debian-bookworm")
    p = env.run(root, "mig-44", "migrate", "begin", carried_xml(env, "mig-44", b"\xff" * 4096))
    expect(p.returncode != 0, "migration not refused")
    expect(not os.path.exists(os.path.join(root, NVRAM.lstrip("/"), "mig-44_VARS.fd")),
           "the file made from the template was left behind")


def t_prepare_keeps_existing(env):
    """an existing varstore (shared storage) is left alone and the start goes on"""
    root = env.root("debian-bookworm")
    xml = case_xml(env, "migrate", "kept-same-host-files").replace("mig-01", "mig-21")
    made = os.path.join(root, NVRAM.lstrip("/"), "mig-21_VARS.fd")
    os.makedirs(os.path.dirname(made), exist_ok=True)
    with open(made, "w") as f:
        f.write("the guest's own variables\n")
    p = env.run(root, "mig-21", "migrate", "begin", xml)
    expect(p.returncode == 0, "migrate failed")
    p = env.run(root, "mig-21", "prepare", "begin", p.stdout.decode())
    expect(p.returncode == 0, "prepare failed: %s" % p.stderr.decode())
    expect(read(made) == "the guest's own variables\n", "existing varstore was touched")
    expect("keeping the existing varstore" in read(env.log), "not logged")


def t_prepare_no_nvram_command(env):
    """a virt-fwsel without the nvram command: the step is skipped with a log line"""
    root = env.root("debian-bookworm")
    fake = os.path.join(env.tmp, "old-virt-fwsel")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ncase \" $* \" in *' --help '*) echo 'Commands:'; "
                "echo '  select   DOMAIN.xml'; exit 0;; esac\nexec %s \"$@\"\n" % env.fwsel)
    os.chmod(fake, 0o755)
    xml = case_xml(env, "migrate", "kept-same-host-files").replace("mig-01", "mig-22")
    p = env.run(root, "mig-22", "migrate", "begin", xml, fwsel=fake)
    expect(p.returncode == 0, "migrate failed: %s" % p.stderr.decode())
    p = env.run(root, "mig-22", "prepare", "begin", p.stdout.decode(), fwsel=fake)
    expect(p.returncode == 0, "prepare failed")
    expect(b"skipping varstore creation" in p.stderr, "no log line: %r" % p.stderr)
    expect(not os.path.exists(os.path.join(root, NVRAM.lstrip("/"), "mig-22_VARS.fd")),
           "varstore created anyway")


def t_no_fwsel(env):
    """without virt-fwsel the incoming definition passes unchanged (empty output)"""
    root = env.root("debian-bookworm")
    p = env.run(root, "mig-01", "migrate", "begin", case_xml(env, "migrate", "kept-same-host-files"),
                fwsel=os.path.join(env.tmp, "no-such-virt-fwsel"))
    expect(p.returncode == 0 and p.stdout == b"", "not passed through")
    expect(b"not found" in p.stderr, "no log line")


def t_other_operations(env):
    """other operations print nothing and succeed; release drops a stale marker"""
    root = env.root("debian-bookworm")
    xml = case_xml(env, "migrate", "kept-same-host-files").replace("mig-01", "mig-23")
    for op, subop in [("start", "begin"), ("started", "begin"), ("stopped", "end"),
                      ("restore", "begin"), ("reconnect", "begin")]:
        p = env.run(root, "mig-23", op, subop, xml)
        expect(p.returncode == 0 and p.stdout == b"", "%s %s: exit %d, output %r"
               % (op, subop, p.returncode, p.stdout))
    env.run(root, "mig-23", "migrate", "begin", xml)
    marker = os.path.join(env.state, "mig-23.incoming")
    expect(os.path.exists(marker), "no marker after migrate")
    env.run(root, "mig-23", "release", "end", xml)
    expect(not os.path.exists(marker), "release left the marker")


def t_unsafe_name(env):
    """a domain name that is not a plain file name never names a marker"""
    root = env.root("debian-bookworm")
    xml = case_xml(env, "migrate", "kept-same-host-files")
    p = env.run(root, "../escape", "migrate", "begin", xml)
    expect(p.returncode == 0, "migrate failed")
    expect(not os.path.exists(os.path.join(env.tmp, "escape.incoming")), "marker escaped")


TESTS = [t_migrate_kept, t_migrate_remap, t_migrate_refused, t_prepare_without_migrate,
         t_prepare_creates_varstore, t_release_removes_template_copy, t_release_keeps_data,
         t_release_keeps_not_created, t_migrate_writes_carried, t_migrate_carried_never_overwrites,
         t_migrate_carried_bad_checksum, t_migrate_carried_wrong_size,
         t_prepare_keeps_existing, t_prepare_no_nvram_command,
         t_no_fwsel, t_other_operations, t_unsafe_name]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hook", required=True)
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()

    print("1..%d" % len(TESTS))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="fwsel-hook-") as tmp:
        env = Env(args, tmp)
        for i, test in enumerate(TESTS, 1):
            try:
                test(env)
                print("ok %d - %s" % (i, test.__doc__))
            except Exception as e:  # a failing case must not stop the run
                failed += 1
                print("not ok %d - %s" % (i, test.__doc__))
                for line in str(e).splitlines():
                    print("# " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
