#!/usr/bin/env python3
"""Live test-host suite: virt-fwsel against Debian's real libvirt daemon.

For each case a <domain type='qemu'> UEFI guest (x86_64 q35/pc, and
aarch64 virt with cortex-a57 under TCG) is defined with `virt-fwsel define`
and started with `virsh start`, and these observables are compared with
what fwsel predicted:

  define  `virt-fwsel define` created the varstore ("Varstore: created"):
          before the first start the file exists and is sparse, its
          allocation (st_blocks) at most the template's plus 64 KiB, and at
          most 2 MiB for aarch64's 64 MiB templates

  xml     the live XML's loader and nvram equal `virt-fwsel select`
  argv    the firmware arguments in /var/log/libvirt/qemu/NAME.log equal
          `virt-fwsel argv` (both normalised the same way)
  nvram   the varstore exists with the template's size and contents (read
          while the guest is still paused), mode 0600, the qemu owner
  serial  OVMF's/AAVMF's serial console shows 'Security Violation'
          (enrolled Secure Boot) or 'Shell>' (everything else); then the
          varstore's allocation is recorded (at most 2 MiB on aarch64)

For each case asking for firmware='efi', libvirt's own selection (the
unpinned request defined with virsh) must equal fwsel's prediction.

Then the preservation proof: with the guest stopped, a descriptor that
would win a fresh selection is added; starting again keeps the same loader
and the same varstore file (inode); `virsh start --reset-nvram` recreates
the varstore from its template.

Then `nvram enroll` and `nvram audit` (case "enroll"): a guest defined from
Debian's OVMF_VARS_4M.ms.fd is refused while it runs; shut off, it gets a
generated test certificate and the Microsoft 2023 CAs (tests-data/varstore/
certs) in db and KEK; `nvram inspect` shows them, `nvram audit` (through
libvirt) lists every guest of the suite, this one no longer needing
attention; booted, OVMF still enforces Secure Boot ('Security Violation'),
and afterwards the firmware's varstore still holds them (virt-fw-vars
agrees).  Then SecureBootEnable is set to 0 (one data byte): the keys stay,
Secure Boot is off, the UEFI shell runs, and its `dmpstore db` over the
serial console (a unix socket) must be the db of the file, ending with the
test certificate.  A second guest in setup mode (Secure Boot without keys, so the
UEFI shell runs) gets a test KEK and db certificate; over its serial
console (a unix socket) `dmpstore db` and `dmpstore KEK` in the UEFI shell
must dump exactly the certificates enrolled.  Last, every varstore the
guests left behind (written by real boots) is read by virt-fw-vars and by
`nvram inspect`, which must agree.

Needs root, libvirt-daemon-system, qemu-system-x86, ovmf, and for the
aarch64 cases qemu-system-arm and qemu-efi-aarch64 (scripts/install-deps
--live; without them the aarch64 cases are skipped, a failure under
FWSEL_LIVE_REQUIRED=1).  Daemons this suite starts are stopped by PID; a daemon that was
already running is used and left alone.  Exit 77 (skip) when the host cannot
run it, unless FWSEL_LIVE_REQUIRED=1, where that is a failure.

Output is TAP: one line per case and observable.
"""

import argparse
import base64
import collections
import hashlib
import glob
import json
import os
import pwd
import grp
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

URI = "qemu:///system"
PREFIX = "fwsel-live-"
FW_ETC = "/etc/qemu/firmware"
LOG_DIR = "/var/log/libvirt/qemu"
QEMU_USER = "libvirt-qemu"
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"
# seconds from resume to the serial marker; aarch64 runs under TCG
SERIAL_TIMEOUT = {"x86_64": 90, "aarch64": 150}
KiB = 1024
MiB = 1024 * KiB
# allocation of a varstore virt-fwsel define created: the template's own
# allocation plus this slack, and never more than the per-arch cap (64 MiB
# AAVMF templates hold well under 1 MiB of data)
SPARSE_SLACK = 64 * KiB
SPARSE_CAP = {"aarch64": 2 * MiB}
# allocation after the guest booted to its serial marker
BOOTED_CAP = {"aarch64": 2 * MiB}
AARCH64_PREREQS = ("qemu-system-aarch64", "/usr/share/AAVMF/AAVMF_CODE.fd",
                   "/usr/share/AAVMF/AAVMF_VARS.fd",
                   "/usr/share/qemu/firmware/60-edk2-aarch64.json")

DOMAIN_TEMPLATE = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os{fwattr}>
    <type arch='x86_64' machine='{machine}'>hvm</type>
{os}    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <serial type='file'>
      <source path='{serial}'/>
    </serial>
    <console type='file'>
      <source path='{serial}'/>
    </console>
  </devices>
</domain>
"""

AARCH64_TEMPLATE = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os{fwattr}>
    <type arch='aarch64' machine='{machine}'>hvm</type>
{os}    <boot dev='hd'/>
  </os>
  <cpu mode='custom'>
    <model>cortex-a57</model>
  </cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <serial type='file'>
      <source path='{serial}'/>
    </serial>
    <console type='file'>
      <source path='{serial}'/>
    </console>
  </devices>
</domain>
"""

TEMPLATES = {"x86_64": DOMAIN_TEMPLATE, "aarch64": AARCH64_TEMPLATE}

STATELESS_DESCRIPTOR = {
    "description": "fwsel live suite: stateless OVMF (test descriptor)",
    "interface-types": ["uefi"],
    "mapping": {
        "device": "flash",
        "mode": "stateless",
        "executable": {"filename": "/usr/share/OVMF/OVMF_CODE_4M.fd", "format": "raw"},
    },
    "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}],
    "features": ["acpi-s3", "verbose-dynamic"],
    "tags": [],
}

# A build that a fresh selection for the "no-sb" request would now pick
# (the 2 MiB OVMF, sorted before Debian's 60-edk2-x86_64.json).
DECOY_DESCRIPTOR = {
    "description": "fwsel live suite: higher-priority OVMF (test descriptor)",
    "interface-types": ["uefi"],
    "mapping": {
        "device": "flash",
        "executable": {"filename": "/usr/share/OVMF/OVMF_CODE.fd", "format": "raw"},
        "nvram-template": {"filename": "/usr/share/OVMF/OVMF_VARS.fd", "format": "raw"},
    },
    "targets": [{"architecture": "x86_64", "machines": ["pc-i440fx-*", "pc-q35-*"]}],
    "features": ["acpi-s3", "amd-sev", "verbose-dynamic"],
    "tags": [],
}

# virt-fwsel options per case.  Nova's "no Secure Boot" XML carries
# <loader secure='no'/>, which this host's libvirt 9.0.0 refuses next to
# firmware='efi' (and so does virt-fwsel under its rules): the domain is
# selected as libvirt 11.3 would and defined pinned, which 9.0.0 accepts.
CASE_FWSEL_OPTIONS = {"no-sb": ["--libvirt", "11.3"]}

# name, machine, firmware attribute, <os> children, expected serial text,
# test descriptors present while it is defined, guest architecture
Case = collections.namedtuple("Case", "name machine fwattr os marker descriptors arch",
                              defaults=("x86_64",))

CASES = [Case(*c) for c in [
    ("enrolled-sb", "q35", "efi", "", "Security Violation", {}),
    ("sb-no-keys", "q35", "efi",
     "    <firmware>\n"
     "      <feature enabled='yes' name='secure-boot'/>\n"
     "      <feature enabled='no' name='enrolled-keys'/>\n"
     "    </firmware>\n", "Shell>", {}),
    ("no-sb", "q35", "efi",
     "    <loader secure='no'/>\n"
     "    <firmware>\n"
     "      <feature enabled='no' name='secure-boot'/>\n"
     "    </firmware>\n", "Shell>", {}),
    ("i440fx", "pc", "efi", "", "Shell>", {}),
    ("manual-pflash", "q35", None,
     "    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\n"
     "    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>\n", "Shell>", {}),
    ("rom", "q35", None,
     "    <loader type='rom'>/usr/share/ovmf/OVMF.fd</loader>\n", "Shell>", {}),
    ("stateless", "q35", "efi",
     "    <loader stateless='yes'/>\n", "Shell>",
     {"20-fwsel-live-stateless.json": STATELESS_DESCRIPTOR}),
]] + [Case(*c, arch="aarch64") for c in [
    # Debian's 40-edk2-aarch64-secure-enrolled.json (AAVMF_CODE.ms.fd)
    ("aarch64-enrolled-sb", "virt", "efi", "", "Security Violation", {}),
    # 60-edk2-aarch64.json (AAVMF_CODE.fd)
    ("aarch64-no-sb", "virt", "efi",
     "    <firmware>\n"
     "      <feature enabled='no' name='secure-boot'/>\n"
     "    </firmware>\n", "Shell>", {}),
    ("aarch64-manual-pflash", "virt", None,
     "    <loader readonly='yes' type='pflash'>/usr/share/AAVMF/AAVMF_CODE.fd</loader>\n"
     "    <nvram template='/usr/share/AAVMF/AAVMF_VARS.fd'/>\n", "Shell>", {}),
]]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, what, detail=""):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, what), flush=True)
        for line in str(detail).splitlines():
            if line.strip():
                print("# " + line, flush=True)

    def note(self, text):
        for line in text.splitlines():
            print("# " + line, flush=True)


def run(argv, check=True, input=None):
    proc = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=300)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(argv), proc.returncode,
                                                     proc.stdout, proc.stderr))
    return proc


def virsh(*args, check=True):
    return run(["virsh", "-q", "-c", URI] + list(args), check=check)


# ---------------------------------------------------------------------------
# daemons

class Daemons:
    """Starts virtlogd and libvirtd unless already running; stops only ours."""

    def __init__(self, tap):
        self.tap = tap
        self.started = []

    @staticmethod
    def running(name, pidfile):
        """Is the system's own daemon (/usr/sbin/NAME, /run/NAME.pid) up?
        A daemon of another build (own prefix) does not count."""
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
            return os.readlink("/proc/%d/exe" % pid) == shutil.which(name)
        except (OSError, ValueError):
            return False

    def start(self):
        for name, pidfile in (("virtlogd", "/run/virtlogd.pid"),
                              ("libvirtd", "/run/libvirtd.pid")):
            if self.running(name, pidfile):
                self.tap.note("%s already running: using it, not stopping it" % name)
                continue
            run([name, "-d"])
            pid = None
            for _ in range(100):
                if os.path.exists(pidfile):
                    with open(pidfile) as f:
                        text = f.read().strip()
                    if text.isdigit():
                        pid = int(text)
                        break
                time.sleep(0.1)
            if pid is None:
                raise RuntimeError("%s did not write %s" % (name, pidfile))
            self.started.append((name, pid))
            self.tap.note("started %s, PID %d" % (name, pid))
        for _ in range(100):
            if virsh("uri", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("libvirtd does not answer on %s" % URI)

    def stop(self):
        for name, pid in reversed(self.started):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
            self.tap.note("stopped %s, PID %d" % (name, pid))


# ---------------------------------------------------------------------------
# observables

def parse_log_args(log_path):
    """The argv of the last QEMU start recorded in a libvirt domain log."""
    with open(log_path, errors="replace") as f:
        text = f.read()
    starts = [m.start() for m in re.finditer(r"^LC_ALL=C", text, re.M)]
    if not starts:
        raise RuntimeError("no command line in %s" % log_path)
    block = text[starts[-1]:]
    lines = []
    for line in block.splitlines():
        lines.append(line[:-1] if line.endswith("\\") else line)
        if not line.endswith("\\"):
            break
    words = shlex.split(" ".join(lines))
    while words and "=" in words[0] and not words[0].startswith("-"):
        words.pop(0)            # environment
    return words[1:]            # drop the binary


MACHINE_KEEP = ("smm", "pflash0", "pflash1")


def firmware_args(argv):
    """The firmware part of an argument vector, normalised: pflash blockdevs
    as parsed JSON, -machine reduced to its type and firmware properties,
    the secure-flash global and -bios."""
    out = []
    i = 0
    while i < len(argv):
        opt = argv[i]
        val = argv[i + 1] if i + 1 < len(argv) else ""
        if opt == "-blockdev" and "libvirt-pflash" in val:
            out.append(("-blockdev", json.dumps(json.loads(val), sort_keys=True)))
        elif opt == "-machine":
            parts = val.split(",")
            keep = [p for p in parts[1:] if p.split("=")[0] in MACHINE_KEEP]
            out.append(("-machine", ",".join([parts[0]] + sorted(keep))))
        elif opt == "-global" and "cfi.pflash01" in val:
            out.append(("-global", val))
        elif opt == "-bios":
            out.append(("-bios", val))
        i += 1
    return out


def element_attrs(xml, tag):
    m = re.search(r"<%s(\s[^>]*)?(/>|>(.*?)</%s>)" % (tag, tag), xml, re.S)
    if not m:
        return None
    attrs = dict(re.findall(r"(\w+)='([^']*)'", m.group(1) or ""))
    attrs["#text"] = (m.group(3) or "").strip()
    return attrs


def wait_serial(path, marker, timeout):
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", f.read())
            if marker in text:
                return True, text
        time.sleep(0.25)
    return False, text


def allocated(path):
    """Bytes a file allocates on disk"""
    return os.stat(path).st_blocks * 512


def file_varstore(xml):
    """The <nvram> element of a domain XML when it names a local file"""
    nvram = element_attrs(xml, "nvram")
    if not nvram or nvram.get("type", "file") != "file":
        return None
    if not nvram["#text"] or nvram["#text"].startswith("<"):
        return None
    return nvram


def kib(n):
    return "%d KiB" % (n // KiB) if n % KiB == 0 else "%.1f KiB" % (n / KiB)


# ---------------------------------------------------------------------------

class Suite:
    def __init__(self, fwsel, workdir, tap):
        self.fwsel = fwsel
        self.work = workdir
        self.tap = tap
        self.domains = []
        self.descriptors = []
        self.created_etc = []
        # case name -> measured figures, printed at the end
        self.figures = collections.OrderedDict()

    def fw(self, *args, check=True):
        return run([self.fwsel] + list(args), check=check)

    def add_descriptor(self, name, content):
        for d in ("/etc/qemu", FW_ETC):
            if not os.path.isdir(d):
                os.mkdir(d)
                self.created_etc.append(d)
        path = os.path.join(FW_ETC, name)
        with open(path, "w") as f:
            json.dump(content, f, indent=4)
        self.descriptors.append(path)
        return path

    def remove_descriptor(self, path):
        if os.path.exists(path):
            os.unlink(path)
        if path in self.descriptors:
            self.descriptors.remove(path)

    def write_domain(self, case):
        dom = PREFIX + case.name
        serial = os.path.join(self.work, dom + ".serial")
        xml = TEMPLATES[case.arch].format(
            name=dom, machine=case.machine, serial=serial,
            fwattr=" firmware='%s'" % case.fwattr if case.fwattr else "", os=case.os)
        path = os.path.join(self.work, dom + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        return dom, path, serial

    def check_xml(self, label, dom, predicted):
        live = virsh("dumpxml", dom).stdout
        problems = []
        for tag in ("loader", "nvram"):
            want = element_attrs(predicted, tag)
            have = element_attrs(live, tag)
            if want is None and have is None:
                continue
            if want is None or have is None:
                problems.append("<%s>: fwsel %s, libvirt %s" % (tag, want, have))
                continue
            # libvirt 9.0.0 does not write format attributes
            for key in ("#text", "readonly", "secure", "stateless", "type", "template"):
                if want.get(key) != have.get(key):
                    problems.append("<%s> %s: fwsel %r, libvirt %r" %
                                    (tag, key, want.get(key), have.get(key)))
        self.tap.result(not problems, "%s: xml: live loader/nvram equal fwsel's choice" % label,
                        "\n".join(problems) + ("\nlibvirt loader: %s\nlibvirt nvram: %s" % (
                            element_attrs(live, "loader"), element_attrs(live, "nvram"))))
        return element_attrs(live, "loader"), element_attrs(live, "nvram")

    def check_argv(self, label, dom, defined_xml_path):
        predicted = [l for l in self.fw("argv", defined_xml_path).stdout.splitlines() if l]
        want = firmware_args(predicted)
        have = firmware_args(parse_log_args(os.path.join(LOG_DIR, dom + ".log")))
        self.tap.result(want == have, "%s: argv: firmware arguments equal virt-fwsel argv" % label,
                        "fwsel:   %s\nlibvirt: %s" % (want, have) if want != have else
                        "\n".join("%s %s" % a for a in have))

    def check_nvram(self, label, nvram, template, fresh=True):
        if not nvram or not nvram.get("#text"):
            self.tap.result(template is None,
                            "%s: nvram: no varstore, as fwsel chose" % label)
            return None
        path = nvram["#text"]
        problems = []
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.tap.result(False, "%s: nvram: %s exists" % (label, path))
            return None
        tst = os.stat(template)
        if st.st_size != tst.st_size:
            problems.append("size %d, template %d" % (st.st_size, tst.st_size))
        if stat.S_IMODE(st.st_mode) != 0o600:
            problems.append("mode %o, expected 600" % stat.S_IMODE(st.st_mode))
        owner = pwd.getpwuid(st.st_uid).pw_name
        if owner != QEMU_USER:
            problems.append("owner %s, expected %s" % (owner, QEMU_USER))
        if fresh:
            # OVMF writes variables at every boot: only a fresh file equals
            # its template
            with open(path, "rb") as a, open(template, "rb") as b:
                if a.read() != b.read():
                    problems.append("contents differ from the template %s" % template)
        self.tap.result(not problems,
                        "%s: nvram: %s: template's size%s, 0600, %s" %
                        (label, path, " and bytes" if fresh else "", QEMU_USER),
                        "\n".join(problems))
        return st.st_ino

    def check_serial(self, label, serial, marker, arch="x86_64"):
        started = time.time()
        ok, text = wait_serial(serial, marker, SERIAL_TIMEOUT[arch])
        took = time.time() - started
        tail = "\n".join(text.strip().splitlines()[-4:])
        fw = "AAVMF" if arch == "aarch64" else "OVMF"
        self.tap.result(ok, "%s: serial: %s shows %r%s" %
                        (label, fw, marker, " after %.1f s" % took if ok else ""),
                        "" if ok else "serial tail (%.0f s):\n%s" % (took, tail))
        return took if ok else None

    def check_define_varstore(self, label, arch, output, defined_xml, fig):
        """Right after `virt-fwsel define`, before any start: the varstore
        fwsel created exists and is sparse"""
        nvram = file_varstore(defined_xml)
        created = [l for l in output.splitlines() if l.startswith("Varstore: created ")]
        if nvram is None or not nvram.get("template"):
            varstore_lines = [l for l in output.splitlines() if l.startswith("Varstore:")]
            self.tap.result(not varstore_lines,
                            "%s: define: no file varstore, none created" % label,
                            "\n".join(varstore_lines))
            return
        path, template = nvram["#text"], nvram["template"]
        self.tap.result(bool(created) and path in created[0],
                        "%s: define: says 'Varstore: created %s'" % (label, path),
                        "" if created else output)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.tap.result(False, "%s: define: varstore %s exists before the first start"
                            % (label, path))
            return
        alloc = st.st_blocks * 512
        talloc = allocated(template)
        limit = talloc + SPARSE_SLACK
        if arch in SPARSE_CAP:
            limit = min(limit, SPARSE_CAP[arch])
        fig.update(template=template, template_size=os.stat(template).st_size,
                   template_alloc=talloc, define_alloc=alloc)
        self.tap.result(alloc <= limit,
                        "%s: define: varstore sparse before the first start: %s allocated "
                        "(%d blocks) of %s, limit %s (template allocates %s)" %
                        (label, kib(alloc), st.st_blocks, kib(st.st_size), kib(limit),
                         kib(talloc)),
                        "" if alloc <= limit else "too much allocated")

    def check_booted_varstore(self, label, arch, nvram, fig):
        """The varstore's allocation once the firmware reached its marker"""
        if not nvram or not nvram.get("#text") or nvram["#text"].startswith("<"):
            return
        try:
            alloc = allocated(nvram["#text"])
        except FileNotFoundError:
            self.tap.result(False, "%s: booted: varstore %s exists" % (label, nvram["#text"]))
            return
        fig["boot_alloc"] = alloc
        if arch in BOOTED_CAP:
            self.tap.result(alloc <= BOOTED_CAP[arch],
                            "%s: booted: varstore allocates %s, at most %s" %
                            (label, kib(alloc), kib(BOOTED_CAP[arch])))
        else:
            self.tap.note("%s: booted: varstore allocates %s" % (label, kib(alloc)))

    def start_and_observe(self, label, dom, serial, predicted_xml, defined_path, marker,
                          reset=False, fresh=True, arch="x86_64", fig=None):
        if os.path.exists(serial):
            os.unlink(serial)
        args = ["start", "--paused", dom] + (["--reset-nvram"] if reset else [])
        virsh(*args)
        loader, nvram = self.check_xml(label, dom, predicted_xml)
        tmpl = element_attrs(predicted_xml, "nvram")
        ino = self.check_nvram(label, nvram, tmpl.get("template") if tmpl else None,
                               fresh=fresh or reset)
        self.check_argv(label, dom, defined_path)
        virsh("resume", dom)
        took = self.check_serial(label, serial, marker, arch)
        if fig is not None:
            fig["serial_s"] = took
            self.check_booted_varstore(label, arch, nvram, fig)
        virsh("destroy", dom)
        return loader, ino

    def case(self, case):
        name = case.name
        dom, path, serial = self.write_domain(case)
        paths = [self.add_descriptor(n, c) for n, c in case.descriptors.items()]
        self.domains.append(dom)
        try:
            opts = CASE_FWSEL_OPTIONS.get(name, [])
            predicted = self.fw(*opts, "select", path).stdout
            output = self.fw(*opts, "define", path).stdout
        finally:
            for p in paths:
                self.remove_descriptor(p)
        defined_xml = virsh("dumpxml", "--inactive", dom).stdout
        defined = os.path.join(self.work, dom + ".defined.xml")
        with open(defined, "w") as f:
            f.write(defined_xml)
        fig = self.figures.setdefault(name, {"arch": case.arch})
        self.check_define_varstore(name, case.arch, output, defined_xml, fig)
        result = self.start_and_observe(name, dom, serial, predicted, defined, case.marker,
                                        arch=case.arch, fig=fig) + (
            dom, serial, predicted, defined, case.marker)
        if case.fwattr:
            self.native(case, path, predicted)
        return result

    def native(self, case, path, predicted):
        """libvirt's own choice: the unpinned request defined with virsh and
        started, so that libvirt 9.0.0 selects by itself; its loader and
        template must be the ones fwsel predicted."""
        name, descriptors = case.name, case.descriptors
        label = "%s: native" % name
        dom = PREFIX + name + "-native"
        with open(path) as f:
            xml = f.read().replace("<name>%s%s</name>" % (PREFIX, name),
                                   "<name>%s</name>" % dom)
        # libvirt 9.0.0 refuses loader secure='no' next to firmware='efi':
        # the request without it is the one 9.0.0 can be given
        xml = xml.replace("    <loader secure='no'/>\n", "")
        native_xml = os.path.join(self.work, dom + ".xml")
        with open(native_xml, "w") as f:
            f.write(xml)
        paths = [self.add_descriptor(n, c) for n, c in descriptors.items()]
        self.domains.append(dom)
        try:
            virsh("define", native_xml)
            virsh("start", "--paused", dom)
            live = virsh("dumpxml", dom).stdout
            # for comparison: the copy libvirt made itself at the start
            nvram = file_varstore(live)
            if nvram:
                alloc = allocated(nvram["#text"])
                self.figures.setdefault(name, {"arch": case.arch})["libvirt_alloc"] = alloc
                self.tap.note("%s: libvirt's own varstore copy allocates %s" % (label, kib(alloc)))
            virsh("destroy", dom)
        finally:
            for p in paths:
                self.remove_descriptor(p)
        problems = []
        for tag, key in (("loader", "#text"), ("nvram", "template")):
            want = (element_attrs(predicted, tag) or {}).get(key)
            have = (element_attrs(live, tag) or {}).get(key)
            if want != have:
                problems.append("<%s> %s: fwsel %r, libvirt %r" % (tag, key, want, have))
        chosen = element_attrs(live, "loader") or {}
        tmpl = (element_attrs(live, "nvram") or {}).get("template")
        self.tap.result(not problems,
                        "%s: libvirt's own selection equals fwsel's prediction" % label,
                        "\n".join(problems) + "\nlibvirt chose %s, template %s" %
                        (chosen.get("#text"), tmpl))

    def preservation(self, first):
        loader, ino, dom, serial, predicted, defined, marker = first
        label = "preserve"
        request = os.path.join(self.work, dom + ".xml")
        decoy = self.add_descriptor("10-fwsel-live-decoy.json", DECOY_DESCRIPTOR)
        try:
            opts = CASE_FWSEL_OPTIONS.get("no-sb", [])
            now = self.fw(*opts, "explain", request).stdout
            wins = "10-fwsel-live-decoy.json: selected" in now
            self.tap.result(wins, "%s: a fresh selection would now pick the decoy descriptor"
                            % label, "" if wins else now)
            drift = self.fw(*opts, "drift", dom, check=False)
            self.tap.result(drift.returncode == 1,
                            "%s: virt-fwsel drift reports the new choice" % label,
                            drift.stdout + drift.stderr)
            again, ino2 = self.start_and_observe(label + " restart", dom, serial, predicted,
                                                 defined, marker, fresh=False)
            self.tap.result(again.get("#text") == loader.get("#text"),
                            "%s: same loader after restart (%s)" % (label, loader.get("#text")),
                            "now %s" % again.get("#text"))
            self.tap.result(ino is not None and ino == ino2,
                            "%s: same varstore file kept (inode %s)" % (label, ino),
                            "inode now %s" % ino2)
            _, ino3 = self.start_and_observe(label + " reset", dom, serial, predicted, defined,
                                             marker, reset=True)
            self.tap.result(ino3 is not None and ino3 != ino,
                            "%s: start --reset-nvram recreated the varstore from its template"
                            % label, "inode %s -> %s" % (ino, ino3))
        finally:
            self.remove_descriptor(decoy)

    def clear_leftovers(self):
        """Domains a crashed earlier run left behind"""
        names = virsh("list", "--all", "--name").stdout.split()
        for dom in names:
            if dom.startswith(PREFIX):
                self.tap.note("removing leftover domain %s" % dom)
                virsh("destroy", dom, check=False)
                virsh("undefine", "--nvram", dom, check=False)
        # a varstore left without its domain would be "left alone" by define
        for path in glob.glob(os.path.join(NVRAM_DIR, PREFIX + "*")):
            self.tap.note("removing leftover varstore %s" % path)
            os.unlink(path)

    def report_figures(self):
        if not self.figures:
            return
        self.tap.note("varstore allocation (st_blocks*512) and time to the serial marker:")
        self.tap.note("%-24s %-8s %-20s %10s %10s %10s %8s %10s" %
                      ("case", "arch", "template", "tmpl-alloc", "define", "booted",
                       "serial", "libvirt"))
        for name, f in self.figures.items():
            def v(key):
                return kib(f[key]) if f.get(key) is not None else "-"
            self.tap.note("%-24s %-8s %-20s %10s %10s %10s %8s %10s" % (
                name, f["arch"], os.path.basename(f.get("template", "-")),
                v("template_alloc"), v("define_alloc"), v("boot_alloc"),
                "%.1f s" % f["serial_s"] if f.get("serial_s") is not None else "-",
                v("libvirt_alloc")))
        self.tap.note("(define: after virt-fwsel define, before the first start; booted: at "
                      "the serial marker; libvirt: libvirt's own copy for the unpinned "
                      "request)")

    def teardown(self):
        for dom in self.domains:
            virsh("destroy", dom, check=False)
            virsh("undefine", "--nvram", dom, check=False)
        for p in list(self.descriptors):
            self.remove_descriptor(p)
        for d in reversed(self.created_etc):
            try:
                os.rmdir(d)
            except OSError:
                pass

    # -----------------------------------------------------------------------
    # nvram enroll and nvram audit

    def cert(self, name):
        return os.path.join(self.data, "varstore", "certs", name)

    def define_plain(self, name, os_children, devices=None, fwattr="efi"):
        """Defines a guest with virt-fwsel define; returns (domain, defined
        XML path, varstore path, serial path)"""
        dom = PREFIX + name
        serial = os.path.join(self.work, dom + ".serial")
        xml = DOMAIN_TEMPLATE.format(name=dom, machine="q35", serial=serial,
                                     fwattr=" firmware='%s'" % fwattr, os=os_children)
        if devices:
            xml = re.sub(r"  <devices>.*</devices>\n", "  <devices>\n%s  </devices>\n" % devices,
                         xml, flags=re.S)
        path = os.path.join(self.work, dom + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        self.domains.append(dom)
        self.fw("define", path)
        defined_xml = virsh("dumpxml", "--inactive", dom).stdout
        defined = os.path.join(self.work, dom + ".defined.xml")
        with open(defined, "w") as f:
            f.write(defined_xml)
        return dom, defined, file_varstore(defined_xml)["#text"], serial

    @staticmethod
    def digest(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def inspect_json(self, defined):
        p = self.fw("--json", "nvram", "inspect", defined, check=False)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def enroll_secure_boot(self):
        label = "enroll-ms"
        dom, defined, varstore, serial = self.define_plain(label, "")
        self.tap.note("%s: varstore %s from %s" % (label, varstore, element_attrs(
            open(defined).read(), "nvram").get("template")))

        # running: refused, the file untouched
        before = self.digest(varstore)
        virsh("start", "--paused", dom)
        p = self.fw("nvram", "enroll", defined, "--db", self.cert("fwsel-test-db.pem"),
                    check=False)
        self.tap.result(p.returncode == 2 and "is running" in p.stderr and
                        self.digest(varstore) == before and
                        not glob.glob(varstore + ".bak-*"),
                        "%s: enroll refused while the guest runs, varstore untouched" % label,
                        "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
        audit = self.fw("nvram", "audit", check=False)
        line = [l for l in audit.stdout.splitlines() if l.startswith(dom + " ")]
        self.tap.result(audit.returncode == 1 and line and "(running)" in line[0] and
                        "NEEDS ATTENTION" in line[0],
                        "%s: audit (libvirt): running, 2011 CAs only: needs attention" % label,
                        audit.stdout + audit.stderr)
        virsh("destroy", dom)

        # shut off: the test certificate and Microsoft's 2023 CAs
        st = os.stat(varstore)
        p = self.fw("nvram", "enroll", defined,
                    "--kek", self.cert("MicrosoftCorporationKEK2KCA2023.der"),
                    "--db", self.cert("WindowsUEFICA2023.der"),
                    "--db", self.cert("MicrosoftUEFICA2023.der"),
                    "--db", self.cert("stand-in-MicrosoftOptionROMUEFICA2023.pem"),
                    "--db", self.cert("fwsel-test-db.pem"), check=False)
        backups = glob.glob(varstore + ".bak-*")
        st2 = os.stat(varstore)
        self.tap.result(p.returncode == 0 and len(backups) == 1 and
                        self.digest(backups[0]) == before and
                        (st2.st_mode, st2.st_uid, st2.st_gid) == (st.st_mode, st.st_uid,
                                                                 st.st_gid),
                        "%s: enroll while shut off: exit 0, old file kept, mode and owner kept"
                        % label, "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
        for b in backups:
            os.unlink(b)
        obj = self.inspect_json(defined)
        cns = [c["cn"] for c in (obj or {}).get("db", {}).get("x509", [])]
        kek = [c["cn"] for c in (obj or {}).get("KEK", {}).get("x509", [])]
        self.tap.result("fwsel test db certificate" in cns and "Microsoft UEFI CA 2023" in cns and
                        "Microsoft Corporation KEK 2K CA 2023" in kek,
                        "%s: nvram inspect shows the new db and KEK entries" % label,
                        "db: %s\nKEK: %s" % (cns, kek))
        audit = self.fw("nvram", "audit", check=False)
        self.tap.note("nvram audit on the live host:\n" + audit.stdout + audit.stderr)
        line = [l for l in audit.stdout.splitlines() if l.startswith(dom + " ")]
        others = [d for d in self.domains if d != dom]
        listed = [d for d in others if any(l.startswith(d + " ") for l in
                                           audit.stdout.splitlines())]
        self.tap.result(line and "(shut off)" in line[0] and "NEEDS ATTENTION" not in line[0] and
                        "KEK 2K CA 2023" in line[0] and listed == others,
                        "%s: audit (libvirt): shut off, 2023 CAs, no attention; all %d other "
                        "guests of the suite listed" % (label, len(others)),
                        audit.stdout + audit.stderr)

        # boot: Secure Boot still enforced with the new store
        if os.path.exists(serial):
            os.unlink(serial)
        virsh("start", dom)
        self.check_serial(label + " (after enroll)", serial, "Security Violation")
        virsh("destroy", dom)
        obj = self.inspect_json(defined)
        cns = [c["cn"] for c in (obj or {}).get("db", {}).get("x509", [])]
        self.tap.result(obj is not None and obj["secure-boot"]["SecureBoot-at-boot"] == 1 and
                        "fwsel test db certificate" in cns,
                        "%s: after the firmware ran: secure boot on, db still holds the new "
                        "certificates" % label, "db: %s" % cns)
        compare = os.path.join(os.path.dirname(os.path.abspath(__file__)), "varstore-compare.py")
        if shutil.which("virt-fw-vars"):
            p = run([sys.executable, compare, "--fwsel", self.fwsel, "--data", self.data,
                     "--only", varstore], check=False)
            self.tap.result(p.returncode == 0, "%s: virt-fw-vars reads the booted varstore as "
                            "nvram inspect does" % label, p.stdout + p.stderr)

        # The UEFI shell refuses to run under Secure Boot.  With
        # SecureBootEnable set to 0 (one data byte of the store, patched
        # here) the firmware keeps PK, KEK and db but does not enforce
        # them: its shell dumps db, which must be the db the file holds,
        # the enrolled certificates at its end.
        obj = self.inspect_json(defined)
        sbe = [v for v in obj["variables"] if v["name"] == "SecureBootEnable"]
        dbv = [v for v in obj["variables"] if v["name"] == "db"]
        name_size = 2 * (len("SecureBootEnable") + 1)
        with open(varstore, "r+b") as f:
            f.seek(sbe[0]["offset"] + 60 + name_size)
            was = f.read(1)
            f.seek(sbe[0]["offset"] + 60 + name_size)
            f.write(b"\x00")
            f.seek(dbv[0]["offset"] + 60 + 2 * (len("db") + 1))
            want = f.read(dbv[0]["size"])
        obj = self.inspect_json(defined)
        self.tap.result(was == b"\x01" and obj["secure-boot"]["SecureBoot-at-boot"] == 0,
                        "%s: SecureBootEnable patched from 1 to 0: secure boot off at the next "
                        "boot, keys kept" % label)
        console = self.socket_console(dom)
        if console is None:
            return
        ok = console.wait(rb"Shell> ", SERIAL_TIMEOUT["x86_64"])
        self.tap.result(ok, "%s: OVMF reaches the UEFI shell (keys enrolled, Secure Boot "
                        "disabled)" % label, console.tail())
        if ok:
            size, data = self.dmpstore(label, console, "db",
                                       "d719b2cb-3d3a-4596-a3bc-dad00e67656f")
            tail = signature_list(der_of(self.cert("fwsel-test-db.pem")))
            self.tap.result(data == want and size == len(want) and data.endswith(tail),
                            "%s: UEFI shell 'dmpstore db': %d bytes, the db of the file, "
                            "ending with the enrolled test certificate" % (label, size or 0),
                            "file %d bytes, dump %d bytes" % (len(want), len(data)))
        console.conn.close()
        virsh("destroy", dom)

    def socket_console(self, dom):
        """Redefines @dom with its serial port on a unix socket, starts it
        and connects; None (a failed check) when that does not work"""
        sockdir = os.path.join(self.work, "sock")
        os.makedirs(sockdir, exist_ok=True)
        qemu = pwd.getpwnam(QEMU_USER)
        os.chown(sockdir, qemu.pw_uid, qemu.pw_gid)
        sock = os.path.join(sockdir, dom + ".sock")
        xml = virsh("dumpxml", "--inactive", dom).stdout
        xml = re.sub(r"<serial type='file'>.*?</serial>",
                     "<serial type='unix'><source mode='bind' path='%s'/>"
                     "<target port='0'/></serial>" % sock, xml, flags=re.S)
        xml = re.sub(r"<console type='file'>.*?</console>", "", xml, flags=re.S)
        path = os.path.join(self.work, dom + ".socket.xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("define", path)
        virsh("start", dom)
        for _ in range(100):
            conn = socket.socket(socket.AF_UNIX)
            try:
                conn.connect(sock)
                return SerialConsole(conn)
            except OSError:
                conn.close()
                time.sleep(0.1)
        self.tap.result(False, "%s: serial console socket %s" % (dom, sock))
        virsh("destroy", dom, check=False)
        return None

    def dmpstore(self, label, console, var, guid):
        """The UEFI shell's dump of @var: (DataSize, bytes).  QEMU's serial
        port drops a byte it cannot pass on after a few retries (a slow
        reader on a loaded host), so only lines whose hex bytes, ASCII
        column and offset agree are taken, and the dump is asked for again
        until every line came through once (at most 10 times)."""
        size = None
        lines = {}
        for attempt in range(10):
            text = console.command("dmpstore %s -guid %s" % (var, guid), 60)
            got_size, got = parse_dmpstore(text)
            size = size if got_size is None else got_size
            lines.update(got)
            if size is not None and all(off in lines for off in range(0, size, 16)):
                break
            self.tap.note("%s: dmpstore %s: %d of %s lines intact so far; again" %
                          (label, var, len(lines), "?" if size is None else (size + 15) // 16))
        data = b"".join(lines.get(off, b"") for off in range(0, size or 0, 16))
        return size, data


    def compare_booted(self):
        """Every varstore the suite's guests left behind, written by real
        boots of OVMF and AAVMF (and by enroll), read by virt-fw-vars and
        by nvram inspect alike"""
        if not shutil.which("virt-fw-vars"):
            self.tap.result(True, "booted varstores vs virt-fw-vars # SKIP virt-fw-vars is "
                            "not installed (python3-virt-firmware)")
            return
        files = sorted(glob.glob(os.path.join(NVRAM_DIR, PREFIX + "*")))
        compare = os.path.join(os.path.dirname(os.path.abspath(__file__)), "varstore-compare.py")
        p = run([sys.executable, compare, "--fwsel", self.fwsel, "--data", self.data,
                 "--only"] + files, check=False)
        self.tap.result(p.returncode == 0 and files,
                        "the %d varstores the guests left behind: virt-fw-vars and nvram "
                        "inspect agree" % len(files), p.stdout + p.stderr)

    def enroll_setup_mode(self):
        label = "enroll-setup"
        dom, defined, varstore, _ = self.define_plain(
            label, "    <firmware>\n"
                   "      <feature enabled='no' name='enrolled-keys'/>\n"
                   "      <feature enabled='yes' name='secure-boot'/>\n"
                   "    </firmware>\n")
        kek, db = self.cert("fwsel-test-kek.der"), self.cert("fwsel-test-db.pem")
        p = self.fw("nvram", "enroll", defined, "--kek", kek, "--db", db, check=False)
        self.tap.result(p.returncode == 0, "%s: enroll a test KEK and db certificate into %s"
                        % (label, varstore), p.stdout + p.stderr)
        for b in glob.glob(varstore + ".bak-*"):
            os.unlink(b)
        console = self.socket_console(dom)
        if console is None:
            return
        ok = console.wait(rb"Shell> ", SERIAL_TIMEOUT["x86_64"])
        self.tap.result(ok, "%s: OVMF reaches the UEFI shell (setup mode, Secure Boot off)"
                        % label, console.tail())
        if ok:
            for var, guid, path in (("db", "d719b2cb-3d3a-4596-a3bc-dad00e67656f", db),
                                    ("KEK", "8be4df61-93ca-11d2-aa0d-00e098032b8c", kek)):
                want = signature_list(der_of(path))
                size, data = self.dmpstore(label, console, var, guid)
                self.tap.result(data == want and size == len(want),
                                "%s: UEFI shell 'dmpstore %s': %d bytes, the enrolled "
                                "certificate's signature list" % (label, var, size or 0),
                                "" if data == want else "dump of %d bytes" % len(data))
        console.conn.close()
        virsh("destroy", dom)


class SerialConsole:
    """The UEFI shell over a serial console socket"""

    def __init__(self, conn):
        self.conn = conn
        self.conn.settimeout(0.5)
        self.buf = b""

    def wait(self, pattern, timeout, start=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.buf[start:]):
                return True
            try:
                data = self.conn.recv(65536)
                if not data:
                    time.sleep(0.1)
                self.buf += data
            except socket.timeout:
                pass
        return bool(re.search(pattern, self.buf[start:]))

    def command(self, line, timeout):
        mark = len(self.buf)
        for ch in line.encode() + b"\r":
            self.conn.send(bytes([ch]))
            time.sleep(0.02)
        self.wait(rb"\n[^\n]*Shell> ", timeout, mark + len(line))
        return clean(self.buf[mark:].decode("latin-1"))

    def tail(self):
        return "\n".join(clean(self.buf.decode("latin-1")).strip().splitlines()[-5:])


def clean(text):
    return re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", text).replace("\r", "")


def parse_dmpstore(text):
    """DataSize and the intact lines of the hex dump dmpstore printed:
    {offset: bytes}; a line counts when its 16 bytes (fewer on the last
    one), its ASCII column and its offset agree"""
    m = re.search(r"DataSize = 0x([0-9A-Fa-f]+)", text)
    lines = {}
    for line in text.splitlines():
        d = re.match(r"\s*([0-9A-F]{8}): ((?:[0-9A-F]{2}[ -]){0,15}[0-9A-F]{2}) +\*(.*)\*\s*$",
                     line)
        if not d or int(d.group(1), 16) % 16:
            continue
        data = bytes.fromhex(d.group(2).replace("-", " "))
        shown = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in data)
        if shown == d.group(3):
            lines[int(d.group(1), 16)] = data
    return (int(m.group(1), 16) if m else None), lines


def der_of(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"-----BEGIN"):
        return base64.b64decode(b"".join(l for l in data.splitlines()
                                         if not l.startswith(b"-----")))
    return data


def signature_list(der):
    """EFI_SIGNATURE_LIST of one X.509 certificate, fwsel's owner GUID"""
    x509 = bytes.fromhex("a159c0a5e494a74a87b5ab155c2bf072")
    owner = bytes.fromhex("ac13478b16894248" "98c02453b281d1e8")
    import struct
    return x509 + struct.pack("<III", 28 + 16 + len(der), 0, 16 + len(der)) + owner + der


def prerequisites():
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for tool in ("virsh", "libvirtd", "virtlogd", "qemu-system-x86_64"):
        if not shutil.which(tool):
            missing.append(tool)
    for f in ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/ovmf/OVMF.fd"):
        if not os.path.exists(f):
            missing.append(f)
    return missing


def aarch64_prerequisites():
    return [p for p in AARCH64_PREREQS
            if not (os.path.exists(p) if p.startswith("/") else shutil.which(p))]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", "tests-data"),
                    help="tests-data (certificates for the enroll case)")
    ap.add_argument("cases", nargs="*", help="run only these cases")
    args = ap.parse_args()

    missing = prerequisites()
    if missing:
        msg = "live suite needs: %s (scripts/install-deps --live, run as root)" % ", ".join(missing)
        if os.environ.get("FWSEL_LIVE_REQUIRED") == "1":
            print("1..1\nnot ok 1 - prerequisites\n# " + msg)
            return 1
        print("1..0 # SKIP " + msg)
        return 77

    tap = Tap()
    work = tempfile.mkdtemp(prefix="fwsel-live-")
    os.chmod(work, 0o755)
    daemons = Daemons(tap)
    suite = Suite(os.path.abspath(args.fwsel), work, tap)
    suite.data = os.path.abspath(args.data)
    cases = [c for c in CASES if not args.cases or c.name in args.cases]
    started = time.time()
    try:
        daemons.start()
        suite.clear_leftovers()
        results = {}
        missing_arm = aarch64_prerequisites()
        if missing_arm and any(c.arch == "aarch64" for c in cases):
            msg = "aarch64 cases need: %s (scripts/install-deps --live)" % ", ".join(missing_arm)
            if os.environ.get("FWSEL_LIVE_REQUIRED") == "1":
                tap.result(False, "aarch64: prerequisites", msg)
            else:
                tap.result(True, "aarch64 cases # SKIP " + msg)
            cases = [c for c in cases if c.arch != "aarch64"]
        for case in cases:
            try:
                results[case.name] = suite.case(case)
            except Exception as e:
                tap.result(False, "%s: ran" % case.name, str(e))
        if "no-sb" in results:
            try:
                suite.preservation(results["no-sb"])
            except Exception as e:
                tap.result(False, "preserve: ran", str(e))
        if not args.cases or "enroll" in args.cases:
            for step in (suite.enroll_secure_boot, suite.enroll_setup_mode,
                         suite.compare_booted):
                try:
                    step()
                except Exception as e:
                    tap.result(False, "%s: ran" % step.__name__, str(e))
        suite.report_figures()
    finally:
        suite.teardown()
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)
    tap.note("live suite: %d checks, %d failed, %.0f s" % (tap.n, tap.failed, time.time() - started))
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
