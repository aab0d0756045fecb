#!/usr/bin/env python3
"""--root confines virt-fwsel to reading the tree (issue 8, defects 1 and 3).

Part 1: a copy of the Debian host tree gets executable qemu-system-x86_64,
qemu-system-aarch64 and qemu-kvm scripts that append to a marker file
outside the tree and answer "-machine help" with made-up machine types
(pc-q35-99.1, virt-99.1).  Every command runs with --root, WITHOUT
--no-qemu-probe, on domains whose machine type is an alias (q35, pc, virt,
none): each must work, the marker must never appear, and the machine type
used must be the one a legitimate source gives (--machine-alias, a
libvirt capabilities cache inside the tree, or the built-in table).

Part 2: varstores made from templates that are symlinks in the "links"
host tree: a link inside the tree is copied from inside the tree, ".."
stops at the root, a link to a file only the real host has is missing.

HOME and XDG_* point into a temporary directory, so no probe cache of the
real host is read or written.  TAP output for meson.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

# what the planted QEMU answers: machine types no legitimate source gives
FAKE_HELP_X86 = """Supported machines are:
pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-99.1)
pc-i440fx-99.1       Standard PC (i440FX + PIIX, 1996) (default)
q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-99.1)
pc-q35-99.1          Standard PC (Q35 + ICH9, 2009)
none                 empty machine
"""
FAKE_HELP_ARM = """Supported machines are:
virt                 QEMU 99.1 ARM Virtual Machine (alias of virt-99.1)
virt-99.1            QEMU 99.1 ARM Virtual Machine (default)
none                 empty machine
"""
PLANTED = {
    "usr/bin/qemu-system-x86_64": FAKE_HELP_X86,
    "usr/bin/qemu-system-i386": FAKE_HELP_X86,
    "usr/bin/qemu-system-aarch64": FAKE_HELP_ARM,
    "usr/bin/qemu-kvm": FAKE_HELP_X86,
    "usr/libexec/qemu-kvm": FAKE_HELP_X86,
}
NVRAM_DIR = "/fwsel-test/nvram"


def domain(name, arch="x86_64", machine="q35", firmware="efi", extra=""):
    machine_attr = " machine='%s'" % machine if machine is not None else ""
    firmware_attr = " firmware='%s'" % firmware if firmware is not None else ""
    return ("<domain type='kvm'>\n"
            "  <name>%s</name>\n"
            "  <memory unit='MiB'>1024</memory>\n"
            "  <os%s>\n"
            "    <type arch='%s'%s>hvm</type>\n"
            "%s"
            "  </os>\n"
            "  <features><acpi/></features>\n"
            "</domain>\n" % (name, firmware_attr, arch, machine_attr, extra))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


class Env:
    def __init__(self, args, tmp):
        self.fwsel = os.path.abspath(args.fwsel)
        self.data = os.path.abspath(args.data)
        self.tmp = tmp
        self.marker = os.path.join(tmp, "qemu-ran")
        self.cache = os.path.join(tmp, "cache")
        self.env = dict(os.environ, LC_ALL="C",
                        HOME=os.path.join(tmp, "home"),
                        XDG_CACHE_HOME=self.cache,
                        XDG_CONFIG_HOME=os.path.join(tmp, "config"),
                        XDG_RUNTIME_DIR=os.path.join(tmp, "run"))
        self.trees = {}
        self.count = 0

    def tree(self, name, host="debian-bookworm", plant=True):
        """A private copy of tests-data/hosts/HOST, with the planted QEMU"""
        if name in self.trees:
            return self.trees[name]
        root = os.path.join(self.tmp, "root-" + name)
        shutil.copytree(os.path.join(self.data, "hosts", host), root, symlinks=True)
        if plant:
            for rel, help_text in PLANTED.items():
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write("#!/bin/sh\n"
                            "echo \"$0 $*\" >> '%s'\n"
                            "cat <<'EOF'\n%sEOF\n" % (self.marker, help_text))
                os.chmod(path, 0o755)
        self.trees[name] = root
        return root

    def xml(self, text):
        self.count += 1
        path = os.path.join(self.tmp, "domain-%d.xml" % self.count)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run(self, root, *args, code=0):
        argv = [self.fwsel, "--root", root] + list(args)
        p = subprocess.run(argv, capture_output=True, env=self.env, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if os.path.exists(self.marker):
            raise AssertionError("%s: the tree's QEMU was executed: %s"
                                 % (" ".join(args), read(self.marker).strip()))
        expect(p.returncode == code, "%s: exit %d, expected %d\n%s"
               % (" ".join(args), p.returncode, code, err))
        return out, err


def header_machine(explain_out):
    """'domain NAME: ARCH MACHINE, ...' -> MACHINE"""
    first = explain_out.splitlines()[0]
    return first.split(": ", 1)[1].split(",")[0].split(" ")[1]


def argv_machine(argv_out):
    lines = argv_out.splitlines()
    expect("-machine" in lines, "no -machine argument:\n" + argv_out)
    return lines[lines.index("-machine") + 1].split(",")[0]


# ---- part 1: nothing under --root is executed ------------------------------

def t_explain_aliases(env):
    """explain: q35, pc, virt and no machine type resolve by the built-in table"""
    root = env.tree("debian")
    for arch, machine, want in [("x86_64", "q35", "pc-q35-7.2"),
                                ("x86_64", "pc", "pc-i440fx-7.2"),
                                ("x86_64", None, "pc-i440fx-7.2"),
                                ("aarch64", "virt", "virt-7.2"),
                                ("aarch64", None, "virt-7.2")]:
        out, _ = env.run(root, "explain", env.xml(domain("alias", arch, machine)))
        expect(header_machine(out) == want, "%s %s resolved to %s, expected %s"
               % (arch, machine, header_machine(out), want))
        expect("result: selected" in out, "nothing selected:\n" + out)


def t_explain_json(env):
    """explain --json names the machine the alias stands for"""
    root = env.tree("debian")
    out, _ = env.run(root, "--json", "explain", env.xml(domain("json")))
    result = json.loads(out)
    expect(result["machine"] == "pc-q35-7.2", "machine %r" % result["machine"])
    expect(result["outcome"] == "selected", "outcome %r" % result["outcome"])


def t_select(env):
    """select fills the loader of a q35, a pc and a virt domain"""
    root = env.tree("debian")
    for arch, machine, code in [("x86_64", "q35", "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"),
                                ("x86_64", "pc", "/usr/share/OVMF/OVMF_CODE_4M.fd"),
                                ("aarch64", "virt", "/usr/share/AAVMF/AAVMF_CODE.ms.fd")]:
        out, _ = env.run(root, "select", env.xml(domain("sel", arch, machine)))
        expect(code + "</loader>" in out, "%s %s: loader is not %s:\n%s"
               % (arch, machine, code, out))
        expect("machine='%s'" % machine in out, "machine type rewritten:\n" + out)


def t_no_match(env):
    """select with no fitting firmware (secure-boot on pc) exits 1, nothing run"""
    root = env.tree("debian")
    xml = domain("nomatch", machine="pc",
                 extra="    <firmware>\n      <feature enabled='yes' name='secure-boot'/>\n"
                       "    </firmware>\n")
    _, err = env.run(root, "select", env.xml(xml), code=1)
    expect("pc-i440fx-7.2" in err, "the reason does not name the machine:\n" + err)


def t_argv(env):
    """argv prints the machine the alias stands for"""
    root = env.tree("debian")
    for arch, machine, want in [("x86_64", "q35", "pc-q35-7.2"),
                                ("x86_64", "pc", "pc-i440fx-7.2"),
                                ("aarch64", "virt", "virt-7.2")]:
        out, _ = env.run(root, "argv", env.xml(domain("argv", arch, machine)))
        expect(argv_machine(out) == want, "%s %s: -machine %s, expected %s"
               % (arch, machine, argv_machine(out), want))


def t_check_list(env):
    """list, and check on the default and explicit aliases"""
    root = env.tree("debian")
    out, _ = env.run(root, "list")
    expect("60-edk2-x86_64.json" in out, "list lacks a descriptor")
    for args, want in [((), "x86_64 q35 (pc-q35-7.2)"),
                       (("--machine", "pc"), "x86_64 pc (pc-i440fx-7.2)"),
                       (("--arch", "aarch64"), "aarch64 virt (virt-7.2)")]:
        out, _ = env.run(root, *args, "check")
        expect(want in out.splitlines()[0], "check header %r, expected %r"
               % (out.splitlines()[0], want))


def t_nvram(env):
    """nvram create, check, reset and remove of a q35 domain"""
    root = env.tree("debian")
    xml = env.xml(domain("nv-q35"))
    owner = "%d:%d" % (os.getuid(), os.getgid())
    made = os.path.join(root, NVRAM_DIR.lstrip("/"), "nv-q35_VARS.fd")
    env.run(root, "--nvram-dir", NVRAM_DIR, "--owner", owner, "nvram", "create", xml)
    expect(read(made, "rb") == read(os.path.join(root, "usr/share/OVMF/OVMF_VARS_4M.ms.fd"), "rb"),
           "the varstore is not a copy of the template")
    # owned by the QEMU user or root: only true for a root run
    env.run(root, "--nvram-dir", NVRAM_DIR, "nvram", "check", xml,
            code=0 if os.getuid() == 0 else 1)
    env.run(root, "--nvram-dir", NVRAM_DIR, "--owner", owner, "nvram", "reset", xml)
    env.run(root, "--nvram-dir", NVRAM_DIR, "nvram", "remove", xml)
    expect(not os.path.exists(made), "remove left the varstore")


def t_preserve_migrate(env):
    """preserve and migrate-xml of q35 domains"""
    root = env.tree("debian")
    existing, _ = env.run(root, "select", env.xml(domain("keep")))
    out, _ = env.run(root, "preserve", env.xml(existing), env.xml(domain("keep")))
    expect("/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>" in out, "loader not kept:\n" + out)
    out, _ = env.run(root, "migrate-xml", env.xml(existing))
    expect("/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>" in out, "loader not pinned:\n" + out)


def t_machine_alias_option(env):
    """--machine-alias wins over every other source"""
    root = env.tree("debian")
    out, _ = env.run(root, "--machine-alias", "q35=pc-q35-6.0", "explain",
                     env.xml(domain("opt")))
    expect(header_machine(out) == "pc-q35-6.0", "machine %s" % header_machine(out))


def t_libvirt_cache(env):
    """a libvirt capabilities cache in the tree is read (the binary is not run);
    a stale one (other ctime) is ignored"""
    root = env.tree("caps")
    cache_dir = os.path.join(root, "var/cache/libvirt/qemu/capabilities")
    os.makedirs(cache_dir)
    for binary, machine, alias, ctime_delta in [
            ("/usr/bin/qemu-system-x86_64", "pc-q35-8.1", "q35", 0),
            ("/usr/bin/qemu-system-aarch64", "virt-8.1", "virt", 1)]:
        ctime = os.stat(os.path.join(root, binary.lstrip("/"))).st_ctime_ns // 10**9
        name = hashlib.sha256(binary.encode()).hexdigest() + ".xml"
        with open(os.path.join(cache_dir, name), "w") as f:
            f.write("<qemuCaps>\n  <emulator>%s</emulator>\n  <qemuctime>%d</qemuctime>\n"
                    "  <machine type='tcg' name='%s' alias='%s' default='yes'/>\n"
                    "</qemuCaps>\n" % (binary, ctime + ctime_delta, machine, alias))
    out, _ = env.run(root, "explain", env.xml(domain("caps")))
    expect(header_machine(out) == "pc-q35-8.1", "q35 from the cache: %s" % header_machine(out))
    out, _ = env.run(root, "explain", env.xml(domain("caps", "aarch64", "virt")))
    expect(header_machine(out) == "virt-7.2", "stale cache used: %s" % header_machine(out))


def t_no_probe_cache(env):
    """no probe cache was written for a --root tree"""
    probe = os.path.join(env.cache, "fwsel")
    expect(not os.path.exists(probe) or not os.listdir(probe),
           "probe cache written: %s" % (os.listdir(probe) if os.path.exists(probe) else ""))


# ---- part 2: varstores from symlinked templates (host tree "links") --------

LINKS = "/usr/share/fwsel-links/"


def links_create(env, name, xml, code=0):
    root = env.tree("links", host="links", plant=False)
    # the safe policy: these cases are about where links lead, not about
    # which descriptor libvirt itself would take (it ignores missing files)
    out, err = env.run(root, "--policy", "safe", "--nvram-dir", NVRAM_DIR, "--owner",
                       "%d:%d" % (os.getuid(), os.getgid()), "nvram", "create",
                       env.xml(xml), code=code)
    made = os.path.join(root, NVRAM_DIR.lstrip("/"), name + "_VARS.fd")
    return root, made, out + err


def t_links_escape_clamped(env):
    """template links climbing above the root are copied from inside the tree"""
    root, made, _ = links_create(env, "esc", domain("esc"))
    expect(read(made, "rb") == read(os.path.join(root, "usr/share/fwsel-extra/vars.fd"), "rb"),
           "the varstore is not the tree's /usr/share/fwsel-extra/vars.fd")
    # into /etc: a file only this copy of the tree has
    os.makedirs(os.path.join(root, "etc/fwsel-test"))
    with open(os.path.join(root, "etc/fwsel-test/vars.fd"), "w") as f:
        f.write("the tree's own /etc/fwsel-test/vars.fd\n")
    os.symlink("../" * 12 + "etc/fwsel-test/vars.fd",
               os.path.join(root, LINKS.lstrip("/"), "vars-escape-etc.fd"))
    extra = ("    <loader readonly='yes' type='pflash'>%scode.fd</loader>\n"
             "    <nvram template='%svars-escape-etc.fd'>%s/esc-etc_VARS.fd</nvram>\n"
             % (LINKS, LINKS, NVRAM_DIR))
    _, made, _ = links_create(env, "esc-etc", domain("esc-etc", firmware=None, extra=extra))
    expect(read(made) == "the tree's own /etc/fwsel-test/vars.fd\n",
           "the varstore is not the tree's /etc/fwsel-test/vars.fd")


def t_links_absolute_inside(env):
    """an absolute template link is followed inside the tree"""
    loader = "    <loader readonly='yes' type='pflash'>%scode.link.fd</loader>\n" % LINKS
    root, made, out = links_create(env, "abs", domain("abs", firmware=None, extra=loader))
    expect("vars.link.fd" in out, "template is not the descriptor's link: " + out)
    expect(read(made, "rb") == read(os.path.join(root, LINKS.lstrip("/"), "vars.fd"), "rb"),
           "the varstore is not the tree's vars.fd")


def t_links_host_only(env):
    """templates that lead to the real host's /etc/hostname are missing"""
    hostname = read("/etc/hostname", "rb") if os.path.exists("/etc/hostname") else None
    for i, link in enumerate(["vars-abs-host.fd", "vars-escape-host.fd"]):
        name = "host%d" % i
        extra = ("    <loader readonly='yes' type='pflash'>%scode.fd</loader>\n"
                 "    <nvram template='%s%s'>%s/%s_VARS.fd</nvram>\n"
                 % (LINKS, LINKS, link, NVRAM_DIR, name))
        xml = domain(name, firmware=None, extra=extra)
        _, made, out = links_create(env, name, xml, code=2)
        expect("No such file or directory" in out, "not reported missing: " + out)
        expect(not os.path.exists(made), "a varstore was written from " + link)
    # selection agrees: no descriptor's template is the real /etc/hostname
    root = env.tree("links", host="links", plant=False)
    extra = "    <nvram template='/etc/hostname'/>\n"
    _, made, _ = links_create(env, "hn", domain("hn", extra=extra), code=1)
    expect(not os.path.exists(made), "a varstore was written")
    expect(hostname is None or not any(
        read(os.path.join(d, f), "rb") == hostname
        for d, _, fs in os.walk(os.path.join(root, NVRAM_DIR.lstrip("/"))) for f in fs),
        "the real host's /etc/hostname was copied")


TESTS = [t_explain_aliases, t_explain_json, t_select, t_no_match, t_argv, t_check_list,
         t_nvram, t_preserve_migrate, t_machine_alias_option, t_libvirt_cache,
         t_no_probe_cache, t_links_escape_clamped, t_links_absolute_inside, t_links_host_only]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fwsel", required=True, help="the virt-fwsel binary")
    ap.add_argument("--data", required=True, help="the tests-data directory")
    args = ap.parse_args()

    print("1..%d" % len(TESTS))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="fwsel-root-") as tmp:
        env = Env(args, tmp)
        for i, test in enumerate(TESTS, 1):
            try:
                test(env)
                print("ok %d - %s" % (i, " ".join(test.__doc__.split())))
            except Exception as e:  # a failing case must not stop the run
                failed += 1
                print("not ok %d - %s" % (i, " ".join(test.__doc__.split())))
                for line in str(e).splitlines():
                    print("# " + line)
                if os.path.exists(env.marker):  # one run must not fail the rest
                    os.unlink(env.marker)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
