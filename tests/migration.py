#!/usr/bin/env python3
"""Migration suite: real live and offline migration of UEFI guests between
two libvirt test hosts on this machine, with fwsel's qemu hook installed on
both.

Two hosts (tests/testhost.py) run Debian's libvirtd 9.0.0 in private mount
namespaces, each in a network namespace of its own joined by one veth pair,
listening on qemu+tcp:// without authentication.  Guests are UEFI q35
domains under TCG defined with `virt-fwsel define` on the source.

What every case checks (see the README, "Migration between two hosts"):

  loader    the loader (and varstore template) in the destination's live
            XML: the source's when the layouts are the same, the
            destination's own files when they differ (the hook mapped it)
  running   the guest answers on its serial console on the destination
  variable  a variable written by the guest (no Secure Boot: `setvar` in the
            UEFI shell over the serial console, read back there by content)
            is kept after a cold boot on the destination; a Secure Boot
            guest (Debian's shell refuses to run under enforced Secure
            Boot) is checked by the varstore's content instead: enrolled
            keys (`virt-fwsel nvram inspect`), the firmware's monotonic
            counter MTC going on from the source's value, and OVMF's
            verdict on the serial console

Cases: same layout (no-SB, enrolled SB; and back), different layout (the
destination has Fedora-like paths), --persistent --undefinesource,
--suspend + resume, an aborted migration, offline migration of a shut-off
guest with the varstore carried, and the variable written while a live
migration is in flight (an expected failure until fixed; prints the
evidence).

Group f (--group f, meson test migration-patched): cases a-c with the
patched libvirt 9.0.0 of patches/libvirt-9.0.0 on both hosts (a prefix of
scripts/libvirt-v2-daemon, run with Debian's paths), then rolling upgrades
between it and Debian's daemon, both ways; --daemon-a/--daemon-b choose the
daemons of one pair for the default cases.  Skips without the prefix.

While Debian's daemon runs, the suite holds a shared flock on
/var/tmp/fwsel-system-libvirt.lock (scripts/libvirt-debs holds it
exclusively while patched packages are installed; not taken with
FWSEL_SYSTEM_LIBVIRT_LOCK=held) and refuses a +fwsel libvirt-daemon.

Everything is torn down by PID (daemons, QEMU, holders), the network
namespaces and the veth pair are deleted, and the last check asserts that
nothing of the suite is left.  Root only; exit 77 (skip) elsewhere unless
FWSEL_LIVE_REQUIRED=1.  Output is TAP.
"""

import argparse
import collections
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testhost  # noqa: E402
from testhost import DaemonSpec, NetNamespace, TestHost  # noqa: E402

PREFIX = "fwsel-mig-"
NETNS = ("fwsel-mig-a", "fwsel-mig-b")
LINK = "fwselmig"
ADDR = ("10.231.77.1", "10.231.77.2")
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"
HOOK_LOG = "/var/log/libvirt/fwsel-hook.log"
# the guest's own variable: a vendor GUID of this suite
VAR_GUID = "4b3c0b2e-6f51-4d0e-9a63-2f1d8c5e7a19"
GLOBAL_GUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
MTC_GUID = "eb704011-1402-11d3-8e77-00a0c969723b"
# QEMU 7.2 with patches/qemu-7.2 (scripts/qemu-patched-build)
PATCHED_QEMU = "/var/tmp/fwsel-qemu-7.2/build/qemu-system-x86_64"
BOOT_TIMEOUT = 150          # seconds from start to the shell prompt (TCG)
MIGRATE_TIMEOUT = 300
TYPE_DELAY = 0.05           # seconds per character typed into the shell

DOMAIN = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
{firmware}    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <serial type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/{name}.serial'/>
      <log file='/var/log/libvirt/qemu/{name}.serial.log' append='on'/>
      <target port='0'/>
    </serial>
{devices}  </devices>
</domain>
"""

# an enrolled Secure Boot guest whose definition says so: a host with
# another layout can then tell which of its builds has the same role
SB_ENROLLED = ("    <firmware>\n"
               "      <feature enabled='yes' name='secure-boot'/>\n"
               "      <feature enabled='yes' name='enrolled-keys'/>\n"
               "    </firmware>\n")

NO_SB = ("    <firmware>\n"
         "      <feature enabled='no' name='secure-boot'/>\n"
         "    </firmware>\n")

# Fedora's file names for the same OVMF builds (4 MiB, as QEMU migrates the
# flash contents the code must have the source's size)
FEDORA_FILES = {
    "usr/share/edk2/ovmf/OVMF_CODE.fd": "/usr/share/OVMF/OVMF_CODE_4M.fd",
    "usr/share/edk2/ovmf/OVMF_VARS.fd": "/usr/share/OVMF/OVMF_VARS_4M.fd",
    "usr/share/edk2/ovmf/OVMF_CODE.secboot.fd": "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
    "usr/share/edk2/ovmf/OVMF_VARS.secboot.fd": "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
}
FEDORA_DESCRIPTORS = ("30-edk2-ovmf-x64-sb-enrolled.json", "40-edk2-ovmf-x64-sb.json",
                      "50-edk2-ovmf-x64-nosb.json")


# ---------------------------------------------------------------------------
# TAP

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, what, detail="", todo=None):
        self.n += 1
        if not ok and not todo:
            self.failed += 1
        line = "%s %d - %s" % ("ok" if ok else "not ok", self.n, what)
        if todo:
            line += " # TODO " + todo
        print(line, flush=True)
        self.note(detail)
        return ok

    def note(self, text):
        for line in str(text or "").splitlines():
            if line.strip():
                print("# " + line, flush=True)


class CaseFailed(Exception):
    pass


# ---------------------------------------------------------------------------
# hosts

class MigHost(TestHost):
    """A test host with fwsel's qemu hook installed before the daemon starts
    (libvirt looks for hook scripts only when it starts)."""

    def __init__(self, *args, hook=None, fwsel=None, **kw):
        super().__init__(*args, **kw)
        self.hook = hook
        self.fwsel = fwsel
        self.layout_mounts = []
        # fwsel cannot tell a patched 9.0.0 (firmware selected at
        # definition, stored as libvirt >= 9.2 stores it) from Debian's by
        # its library: it is told to answer as a libvirt that stores the
        # selection does
        self.fwsel_options = ["--libvirt=11.3"] if self.spec.kind == "patched" else []

    @property
    def label(self):
        return "patched" if self.spec.kind == "patched" else "debian"

    def _write_configs(self):
        super()._write_configs()
        hooks = os.path.join(self.conf_dir, "hooks")
        os.makedirs(os.path.join(hooks, "qemu.d"), exist_ok=True)
        shutil.copy(self.hook, os.path.join(hooks, "qemu.d", "50-fwsel"))
        os.chmod(os.path.join(hooks, "qemu.d", "50-fwsel"), 0o755)
        with open(os.path.join(hooks, "fwsel.conf"), "w") as f:
            f.write("# written by tests/migration.py\n"
                    "VIRT_FWSEL=%s\nFWSEL_HOOK_LOG=%s\n" % (self.fwsel, HOOK_LOG))
            if self.fwsel_options:
                f.write("FWSEL_OPTIONS='%s'\n" % " ".join(self.fwsel_options))

    def outside(self, path):
        """PATH as seen inside the host, from outside (private dirs only)"""
        for target, _ in self.spec.state_dirs():
            if path.startswith(target + "/"):
                return os.path.join(self.private_dir(target), path[len(target) + 1:])
        raise ValueError("%s is not in a private directory of %s" % (path, self.name))

    def hook_log(self):
        try:
            with open(self.outside(HOOK_LOG), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def fw(self, *args, check=True):
        return self.run([self.fwsel] + self.fwsel_options + list(args), check=check,
                        timeout=120)

    def show_layout(self, tree, hide):
        """Make host tree TREE's /usr/share/edk2 and descriptors what this
        host has, and hide the directories HIDE (Debian's OVMF paths)."""
        s = ""
        s += "mount -n -t overlay overlay -o lowerdir=%s:/usr/share /usr/share\n" % (
            os.path.join(tree, "usr/share"))
        mounts = ["/usr/share"]
        s += "mount -n --bind %s /usr/share/qemu/firmware\n" % os.path.join(
            tree, "usr/share/qemu/firmware")
        mounts.append("/usr/share/qemu/firmware")
        for d in hide:
            s += "mount -n --bind %s %s\n" % (self.hpath("empty"), d)
            mounts.append(d)
        self.sh(s)
        self.layout_mounts = mounts

    def restore_layout(self):
        for m in reversed(self.layout_mounts):
            self.sh("umount -n %s" % m, check=False)
        self.layout_mounts = []


class Lab:
    """Two hosts, A and B, joined by a veth pair."""

    def __init__(self, args, tap, work, daemons=("debian", "debian")):
        self.args = args
        self.tap = tap
        self.work = work
        self.daemons = daemons
        self.netns = []
        self.hosts = []
        self.timings = collections.OrderedDict()

    def start(self):
        t = time.time()
        specs = [DaemonSpec.parse("patched:" + self.args.patched_prefix if d == "patched"
                                  else "debian-9.0") for d in self.daemons]
        for name in NETNS:
            ns = NetNamespace(name)
            self.netns.append(ns)
            ns.create()
        NetNamespace.link(self.netns[0], ADDR[0] + "/24", self.netns[1], ADDR[1] + "/24", name=LINK)
        for i, label in enumerate(("a", "b")):
            h = MigHost(PREFIX + label, specs[i], workdir=self.args.workdir, netns=self.netns[i],
                        listen_address=ADDR[i], hostname=PREFIX + label,
                        hook=self.args.hook, fwsel=self.args.fwsel)
            self.hosts.append(h)
            h.start()
            # the first host probes QEMU once (about 30 s on a fresh machine);
            # the second reads the shared capabilities cache
            h.warm_up()
            self.timings["host %s capabilities" % label] = h.timings["capabilities"]
        self.timings["hosts up"] = time.time() - t
        return self.hosts

    def stop(self):
        for h in reversed(self.hosts):
            try:
                h.stop()
            except Exception as e:
                self.tap.note("stopping %s: %s" % (h.name, e))
        for ns in reversed(self.netns):
            ns.delete()


# ---------------------------------------------------------------------------
# the serial console

class Console:
    """The guest's serial port on one host: a unix socket QEMU listens on
    (written to, and drained while connected) and the serial log libvirt
    appends to (read to find the boot prompt)."""

    def __init__(self, host, dom):
        self.host = host
        self.dom = dom
        self.sock_path = host.outside("/var/lib/libvirt/qemu/%s.serial" % dom)
        self.log_path = host.outside("/var/log/libvirt/qemu/%s.serial.log" % dom)
        self.sock = None
        self.buf = b""
        self.lock = threading.Lock()
        self.thread = None

    def log_mark(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, mark=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                return clean(f.read())
        except OSError:
            return ""

    def wait_log(self, pattern, mark, timeout=BOOT_TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log_text(mark)
            if re.search(pattern, text):
                return text
            time.sleep(0.25)
        raise CaseFailed("%s on %s: %r not on the serial console after %d s; tail:\n%s" % (
            self.dom, self.host.name, pattern, timeout, tail(self.log_text(mark))))

    def connect(self):
        if self.sock is not None:
            return
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock_path)
        self.sock = s
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        s = self.sock
        while True:
            try:
                data = s.recv(65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                self.buf += data

    def close(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None

    def text_since(self, mark):
        with self.lock:
            return clean(self.buf[mark:])

    def type(self, text):
        """Type TEXT (no Enter)"""
        self.connect()
        for ch in text:
            self.sock.sendall(ch.encode())
            time.sleep(TYPE_DELAY)

    def mark(self):
        with self.lock:
            return len(self.buf)

    def wait_text(self, mark, expect, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.text_since(mark)
            if re.search(expect, text):
                return text
            time.sleep(0.1)
        raise CaseFailed("%s on %s: no %r within %d s; got:\n%s" % (
            self.dom, self.host.name, expect, timeout, tail(self.text_since(mark))))

    def command(self, line, expect, timeout=60):
        """Type LINE into the UEFI shell; wait for EXPECT (a regular
        expression) in what follows; returns that text."""
        self.connect()
        with self.lock:
            mark = len(self.buf)
        for ch in line + "\r":
            self.sock.sendall(ch.encode())
            time.sleep(TYPE_DELAY)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.text_since(mark)
            if re.search(expect, text):
                return text
            time.sleep(0.1)
        raise CaseFailed("%s on %s: typed %r, no %r within %d s; got:\n%s" % (
            self.dom, self.host.name, line, expect, timeout, tail(self.text_since(mark))))


def clean(data):
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", text).replace("\r", "")


def tail(text, n=8):
    return "\n".join([l for l in text.splitlines() if l.strip()][-n:])


# ---------------------------------------------------------------------------
# guests

class Guest:
    """One UEFI guest.  KIND: 'no-sb' (the UEFI shell runs) or 'sb'
    (enrolled keys, Secure Boot enforced)."""

    def __init__(self, suite, label, kind, features=None):
        self.suite = suite
        self.features = features
        self.name = PREFIX + label
        self.kind = kind
        self.host = None              # where it runs or is defined
        self.consoles = {}
        self.token = None             # the value last written
        self.mtc = None
        self.keys = None
        self.extra_devices = ""

    @property
    def marker(self):
        return "Shell> " if self.kind == "no-sb" else "Security Violation"

    def xml(self):
        if self.features is None:
            self.features = NO_SB if self.kind == "no-sb" else ""
        return DOMAIN.format(name=self.name, firmware=self.features,
                             devices=self.extra_devices)

    def console(self, host=None):
        host = host or self.host
        c = self.consoles.get(host.name)
        if c is None:
            c = self.consoles[host.name] = Console(host, self.name)
        return c

    def define(self, host, pinned=True):
        """virt-fwsel define (firmware pinned), or with PINNED false
        virsh define (libvirt 9.0 selects at every start; its running
        definition keeps the domain's firmware features)"""
        path = os.path.join(self.suite.work, self.name + ".xml")
        with open(path, "w") as f:
            f.write(self.xml())
        if pinned == "select":
            # pinned by another tool: the selection, without fwsel's
            # record of the firmware's role
            sel = host.fw("select", path)
            with open(path, "w") as f:
                f.write(sel.stdout)
            out = host.virsh("define", path, check=True)
        elif pinned:
            out = host.fw("define", path)
        else:
            out = host.virsh("define", path, check=True)
        self.host = host
        return out.stdout

    def live_xml(self, host=None, inactive=False):
        host = host or self.host
        args = ["dumpxml"] + (["--inactive"] if inactive else []) + [self.name]
        return host.virsh(*args, check=True).stdout

    def firmware(self, host=None, inactive=False):
        xml = self.live_xml(host, inactive)
        loader = re.search(r"<loader[^>]*>([^<]*)</loader>", xml)
        nvram = re.search(r"<nvram([^>]*)>([^<]*)</nvram>", xml)
        tmpl = re.search(r"template='([^']*)'", nvram.group(1)) if nvram else None
        return {"loader": loader.group(1) if loader else None,
                "nvram": nvram.group(2) if nvram else None,
                "template": tmpl.group(1) if tmpl else None}

    def varstore_outside(self, host=None):
        host = host or self.host
        return host.outside(os.path.join(NVRAM_DIR, self.name + "_VARS.fd"))

    def boot(self, host=None, timeout=BOOT_TIMEOUT):
        """Start (cold boot) and wait for the firmware's marker"""
        host = host or self.host
        c = self.console(host)
        c.close()
        mark = c.log_mark()
        t = time.time()
        host.virsh("start", self.name, check=True)
        self.host = host
        c.wait_log(re.escape(self.marker), mark, timeout)
        return time.time() - t

    def destroy(self, host=None):
        host = host or self.host
        self.console(host).close()
        host.virsh("destroy", self.name, check=False)

    def running_on(self, host):
        """The domain's state on HOST (running, paused, shut off, ...)"""
        return host.virsh("domstate", self.name, check=False).stdout.strip()

    # ---- the guest's own variable (no-SB guests: the UEFI shell)
    def write_var(self, varname):
        """setvar in the shell, with a value nobody could have guessed"""
        self.token = uuid.uuid4().hex[:16]
        c = self.console()
        c.command("setvar %s -guid %s -nv -bs -rt =%s" % (varname, VAR_GUID, self.token),
                  r"Shell> ")
        return self.token

    def read_var(self, varname, host=None):
        """The variable's bytes as the shell prints them (hex string), or
        None when the shell says it does not exist"""
        c = self.console(host)
        out = c.command("setvar %s -guid %s" % (varname, VAR_GUID), r"Shell> $|Shell> \S*$")
        if os.environ.get("FWSEL_MIG_DEBUG"):
            sys.stderr.write("setvar output: %r\n" % out)
        return parse_setvar(out, varname)

    def echo(self, host=None):
        """Does the shell answer?  A fresh word echoed back."""
        word = "alive" + uuid.uuid4().hex[:8]
        c = self.console(host)
        out = c.command("echo %s" % word, r"\n%s\s*\n" % word, timeout=30)
        return word in out

    # ---- Secure Boot guests: the varstore's content
    def sb_state(self, host=None):
        """Keys (inspect), SecureBoot and the monotonic counter of the
        file on HOST"""
        host = host or self.host
        path = os.path.join(NVRAM_DIR, self.name + "_VARS.fd")
        ins = host.fw("nvram", "inspect", "--json", "--file", path, check=False)
        if ins.returncode != 0:
            return {"error": ins.stderr.strip()}
        d = json.loads(ins.stdout)
        keys = {k: sorted(e["sha256"] for e in x509_entries(d.get(k)))
                for k in ("PK", "KEK", "db")}
        return {"summary": d.get("summary"), "keys": keys,
                "mtc": read_mtc(self.varstore_outside(host))}


def x509_entries(section):
    """The X.509 entries (dicts with subject and sha256) anywhere in a key
    section of `virt-fwsel nvram inspect --json`"""
    out = []

    def walk(x):
        if isinstance(x, dict):
            if "sha256" in x and "subject" in x:
                out.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(section or [])
    return out


def parse_setvar(text, varname):
    """The data bytes of `setvar NAME -guid G` output, as a hex string"""
    if re.search(r"not found|Unable to", text, re.I):
        return None
    m = re.search(r"%s\s*-\s*(?:[0-9A-Fa-f]+)\s+Bytes?\s*\n(.*?)Shell>" % re.escape(varname),
                  text, re.S)
    if not m:
        m = re.search(r"Bytes?\s*\n(.*?)Shell>", text, re.S)
    if not m:
        return "?" + text.strip()[-200:]
    data = ""
    for line in m.group(1).splitlines():
        line = re.sub(r"^\s*[0-9A-Fa-f]{8}:", "", line)
        for tok in line.split():
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", tok):
                break
            data += tok
    return data.lower()


def read_file_var(path, varname, guid):
    """The data of variable VARNAME (vendor GUID) in a raw edk2 varstore
    file, its newest valid copy (bytes), or None when the file has none"""
    import struct
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    name = varname.encode("utf-16-le") + b"\0\0"
    guid = uuid.UUID(guid).bytes_le
    value = None
    pos = data.find(b"\xaa\x55")
    while pos >= 0:
        # authenticated variable header: StartId, State, Reserved,
        # Attributes, MonotonicCount, TimeStamp (16), PubKeyIndex,
        # NameSize, DataSize, VendorGuid, then name and data
        if pos + 60 <= len(data):
            state = data[pos + 2]
            nsize, dsize = struct.unpack_from("<II", data, pos + 36)
            if (state == 0x3f and data[pos + 44:pos + 60] == guid and
                    data[pos + 60:pos + 60 + nsize] == name):
                value = data[pos + 60 + nsize:pos + 60 + nsize + dsize]
        pos = data.find(b"\xaa\x55", pos + 2)
    return value


def read_mtc(path):
    """The firmware's MonotonicCounter (MTC) in a varstore file, or None"""
    v = read_file_var(path, "MTC", MTC_GUID)
    return int.from_bytes(v, "little") if v and len(v) == 4 else None


# ---------------------------------------------------------------------------
# the cases

Row = collections.namedtuple("Row", "case daemons loader_before loader_after kept seconds")


class Suite:
    def __init__(self, args, tap, lab, work):
        self.args = args
        self.tap = tap
        self.lab = lab
        self.a, self.b = lab.hosts
        self.work = work
        self.rows = []
        self.guests = []
        self.prefix = ""          # of the case names in the table

    def guest(self, label, kind, features=None):
        g = Guest(self, label, kind, features)
        self.guests.append(g)
        return g

    def migrate(self, g, src, dst, *flags, check=True, timeout=MIGRATE_TIMEOUT):
        """virsh migrate, run in the source's network namespace (the client
        talks to both daemons over TCP)"""
        t = time.time()
        g.console(src).close()
        p = src.run([src.spec.virsh, "-q", "-c", src.tcp_uri, "migrate"] + list(flags) +
                    [g.name, dst.tcp_uri], timeout=timeout)
        took = time.time() - t
        if check and p.returncode != 0:
            raise CaseFailed("migrate %s %s -> %s failed: %s\nhook log (%s):\n%s" % (
                " ".join(flags), src.name, dst.name, (p.stderr or p.stdout).strip(), dst.name,
                tail(dst.hook_log(), 12)))
        if p.returncode == 0:
            g.host = dst
        return p, took

    def row(self, case, before, after, kept, t0):
        self.rows.append(Row(self.prefix + case, "%s -> %s" % (self.a.label, self.b.label),
                             before, after, kept, time.time() - t0))

    # ---- shared checks
    def check_loader(self, case, g, host, want, what):
        fw = g.firmware(host)
        ok = fw["loader"] == want["loader"] and fw["template"] == want["template"]
        self.tap.result(ok, "%s: %s: loader %s, template %s" % (case, what, fw["loader"],
                                                                 fw["template"]),
                        "" if ok else "expected loader %s, template %s" % (
                            want["loader"], want["template"]))
        return fw

    def check_running(self, case, g, host):
        st = g.running_on(host)
        alive = st == "running" and g.kind == "no-sb" and g.echo(host)
        if g.kind != "no-sb":
            # no shell: the firmware's boot manager waits for a key; it
            # answers one by drawing its menu
            alive = st == "running" and self.sb_answers(g, host)
        self.tap.result(alive, "%s: guest runs on %s and answers on its serial console"
                        % (case, host.name), "state: %s" % st)
        return alive

    def sb_answers(self, g, host):
        c = g.console(host)
        c.connect()
        with c.lock:
            mark = len(c.buf)
        c.sock.sendall(b"\r")
        deadline = time.time() + 30
        while time.time() < deadline:
            if len(c.text_since(mark).strip()) > 0:
                return True
            time.sleep(0.2)
        return False

    def check_var(self, case, g, host, what, varname):
        have = g.read_var(varname, host)
        ok = have == g.token
        self.tap.result(ok, "%s: %s: %s reads back %s" % (case, what, varname, have),
                        "" if ok else "written %s" % g.token)
        return ok

    def check_sb(self, case, g, host, what, want_keys, want_mtc):
        """An enrolled Secure Boot guest's varstore on HOST: the same keys,
        Secure Boot on, the monotonic counter at WANT_MTC"""
        st = g.sb_state(host)
        problems = []
        if st.get("error"):
            problems.append(st["error"])
        else:
            if st["keys"] != want_keys:
                problems.append("keys differ: %s, expected %s" % (st["keys"], want_keys))
            if "secure boot on" not in (st["summary"] or ""):
                problems.append("summary: %s" % st["summary"])
            if st["mtc"] != want_mtc:
                problems.append("MTC %s, expected %s" % (st["mtc"], want_mtc))
        ok = not problems
        self.tap.result(ok, "%s: %s: enrolled keys kept (PK, KEK, db), Secure Boot on, "
                        "MTC %s" % (case, what, st.get("mtc")), "\n".join(problems))
        return ok

    def pflash_files(self, g, host):
        """The pflash files of the QEMU that HOST started last for G (its
        command line in the domain log)"""
        path = host.outside("/var/log/libvirt/qemu/%s.log" % g.name)
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        last = text.rfind("LC_ALL=C")
        found = re.findall(r'"driver":"file","filename":"([^"]+)","node-name":"libvirt-pflash(\d)',
                           text[last:])
        return {"pflash%s" % n: fn for fn, n in found}

    def check_qemu_files(self, case, g, host, want, what):
        files = self.pflash_files(g, host) or {}
        ok = files.get("pflash0") == want["loader"] and files.get("pflash1") == want["nvram"]
        self.tap.result(ok, "%s: %s: QEMU opened %s and %s" % (
            case, what, files.get("pflash0"), files.get("pflash1")),
            "" if ok else "expected %s and %s" % (want["loader"], want["nvram"]))

    def pin_persistent(self, case, g, host, want):
        """libvirt applies the hook's definition to the running domain
        only; with --persistent the persistent definition is the source's.
        `virt-fwsel redefine` on the destination pins the firmware the
        domain runs with into it."""
        inactive = g.firmware(host, inactive=True)
        if inactive["loader"] != want["loader"]:
            self.tap.note("%s: persistent definition on %s after the migration names the "
                          "source's loader %s (the hook changes the running definition only)"
                          % (case, host.name, inactive["loader"]))
        out = host.fw("redefine", g.name, check=False)
        inactive = g.firmware(host, inactive=True)
        ok = out.returncode == 0 and inactive["loader"] == want["loader"] and \
            inactive["template"] == want["template"]
        self.tap.result(ok, "%s: virt-fwsel redefine on %s pins %s, template %s" % (
            case, host.name, inactive["loader"], inactive["template"]),
            "" if ok else out.stdout + out.stderr)
        # the form this host's daemon keeps: a patched one the selection
        # stored as libvirt >= 9.2 stores it (firmware= with the files),
        # Debian's the files pinned, autoselection off
        os_attrs = re.search(r"<os\b([^>]*)>", g.live_xml(host, inactive=True)).group(1)
        form = "stored" if "firmware=" in os_attrs else "pinned"
        want = "stored" if host.spec.kind == "patched" else "pinned"
        self.tap.result(form == want, "%s: the persistent definition on %s (%s) is in the %s "
                        "form" % (case, host.name, host.label, form), "expected " + want)

    def remember(self, case, g, host):
        """Before migrating: what the guest has written (no SB: a variable
        set in the shell; SB: the keys and counter in the file)"""
        if g.kind == "no-sb":
            g.write_var("FwselA")
            return self.check_var(case, g, host, "on the source", "FwselA")
        st = g.sb_state(host)
        g.keys, g.mtc = st.get("keys"), st.get("mtc")
        return self.tap.result(bool(g.keys and g.keys.get("PK") and g.mtc),
                               "%s: on the source: keys enrolled, MTC %s" % (case, g.mtc),
                               json.dumps(st))

    def after_migration(self, case, g, host):
        """On the destination, before any cold boot: the guest still has
        what it wrote (memory), and writes something new there"""
        if g.kind == "no-sb":
            self.check_var(case, g, host, "on %s, from the migrated memory" % host.name,
                           "FwselA")
            g.write_var("FwselB")

    def after_cold_boot(self, case, g, host, what):
        """After a cold boot on HOST: what was written is in its file"""
        if g.kind == "no-sb":
            return self.check_var(case, g, host, what, "FwselB")
        g.mtc += 1
        return self.check_sb(case, g, host, what + " (OVMF: Security Violation)", g.keys, g.mtc)

    def roundtrip(self, case, g, want_b=None, want_a=None):
        """A -> B live, cold boot on B, B -> A live, cold boot on A.  WANT_B
        and WANT_A: the firmware expected on each side (default: the
        definition's on A)."""
        t0 = time.time()
        g.boot(self.a)
        before = g.firmware(self.a)
        want_b = want_b or before
        want_a = want_a or before
        if not self.remember(case, g, self.a):
            raise CaseFailed("nothing to compare")
        _, took = self.migrate(g, self.a, self.b, "--live", "--persistent")
        self.tap.note("%s: live migration A -> B: %.1f s" % (case, took))
        self.check_loader(case, g, self.b, want_b, "on B after migrating")
        self.pin_persistent(case, g, self.b, want_b)
        self.check_running(case, g, self.b)
        self.after_migration(case, g, self.b)
        g.destroy(self.b)
        g.boot(self.b)
        kept = self.after_cold_boot(case, g, self.b, "on B after a cold boot there")
        after = self.check_loader(case, g, self.b, want_b, "on B after the cold boot")
        self.check_qemu_files(case, g, self.b, want_b, "the cold boot on B")
        _, took = self.migrate(g, self.b, self.a, "--live", "--persistent")
        self.tap.note("%s: live migration B -> A: %.1f s" % (case, took))
        self.check_loader(case, g, self.a, want_a, "on A after migrating back")
        self.pin_persistent(case, g, self.a, want_a)
        self.check_running(case, g, self.a)
        if g.kind == "no-sb":
            self.check_var(case, g, self.a, "on A, from the migrated memory", "FwselB")
        g.destroy(self.a)
        g.boot(self.a)
        kept = self.after_cold_boot(case, g, self.a, "on A after migrating back and a cold "
                                    "boot (the stale file was replaced)") and kept
        g.destroy(self.a)
        self.row(case, before["loader"], after["loader"], kept, t0)

    # ---- a: same layout
    def case_same_layout(self):
        for kind in ("no-sb", "sb"):
            g = self.guest("a-" + kind, kind)
            g.define(self.a)
            self.roundtrip("a same layout, %s" % kind, g)

    # ---- c: undefinesource, suspend, abort
    def file_has(self, g, host, varname):
        """The guest's variable as it is in HOST's varstore file (hex), or
        None"""
        v = read_file_var(g.varstore_outside(host), varname, VAR_GUID)
        return v.hex() if v is not None else None

    def booted_with_var(self, case, label, varname="FwselA"):
        g = self.guest(label, "no-sb")
        g.define(self.a)
        g.boot(self.a)
        before = g.firmware(self.a)
        g.write_var(varname)
        if not self.check_var(case, g, self.a, "on the source", varname):
            raise CaseFailed("the variable cannot be read back on the source")
        return g, before

    def cold_boot_keeps(self, case, g, host, varname):
        g.destroy(host)
        g.boot(host)
        return self.check_var(case, g, host, "on %s after a cold boot there" % host.name, varname)

    def case_undefinesource(self):
        case = "c --persistent --undefinesource"
        t0 = time.time()
        g, before = self.booted_with_var(case, "c-undef")
        self.migrate(g, self.a, self.b, "--live", "--persistent", "--undefinesource")
        gone = self.a.virsh("dominfo", g.name).returncode != 0
        self.tap.result(gone, "%s: A no longer defines the domain" % case)
        left = self.file_has(g, self.a, "FwselA")
        self.tap.note("%s: A's varstore file is left behind by libvirt (holds FwselA: %s); "
                      "virt-fwsel nvram remove deletes it when asked" % (case, left == g.token))
        self.check_loader(case, g, self.b, before, "on B")
        self.pin_persistent(case, g, self.b, before)
        self.check_running(case, g, self.b)
        g.write_var("FwselB")
        kept = self.cold_boot_keeps(case, g, self.b, "FwselB")
        after = g.firmware(self.b)
        g.destroy(self.b)
        self.row(case, before["loader"], after["loader"], kept, t0)

    def case_suspend(self):
        case = "c --suspend, then resume"
        t0 = time.time()
        # (labels of at most 7 characters: the patched daemon's monitor
        # socket, PREFIX/var/lib/libvirt/qemu/domain-ID-NAME/monitor.sock
        # under scripts/libvirt-v2-daemon's prefix, must fit in 107)
        g, before = self.booted_with_var(case, "c-susp")
        self.migrate(g, self.a, self.b, "--live", "--persistent", "--suspend")
        st = g.running_on(self.b)
        self.tap.result(st == "paused", "%s: the guest is paused on B" % case, st)
        paused_file = self.file_has(g, self.b, "FwselA")
        self.tap.note("%s: B's varstore file while paused holds FwselA: %s (QEMU writes "
                      "the migrated flash when the guest first runs)" % (case, paused_file))
        self.pin_persistent(case, g, self.b, before)
        self.b.virsh("resume", g.name, check=True)
        self.check_running(case, g, self.b)
        self.check_var(case, g, self.b, "on B after resume, from memory", "FwselA")
        written = self.file_has(g, self.b, "FwselA")
        self.tap.result(written == g.token, "%s: after resume B's file holds FwselA %s" % (
            case, written))
        kept = self.cold_boot_keeps(case, g, self.b, "FwselA")
        after = self.check_loader(case, g, self.b, before, "on B after the cold boot")
        g.destroy(self.b)
        self.row(case, before["loader"], after["loader"], kept, t0)

    def case_abort(self):
        case = "c aborted migration"
        t0 = time.time()
        g, before = self.booted_with_var(case, "c-abort")
        g.console(self.a).close()
        # 1 MiB/s: 256 MiB of guest memory would take minutes
        proc = subprocess.Popen(self.a.nsenter_argv(
            [self.a.spec.virsh, "-q", "-c", self.a.tcp_uri, "migrate", "--live", "--persistent",
             "--bandwidth", "1", g.name, self.b.tcp_uri]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            created = self.wait_for(lambda: os.path.exists(g.varstore_outside(self.b)), 60)
            self.tap.result(created, "%s: B's hook created the varstore for the incoming "
                            "migration" % case)
            time.sleep(2)
            self.a.virsh("domjobabort", g.name, check=True)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.tap.result(proc.returncode != 0, "%s: the migration failed (aborted)" % case,
                        (err or out).strip())
        self.check_running(case, g, self.a)
        kept = self.check_var(case, g, self.a, "on A, after the abort", "FwselA")
        self.tap.result(self.file_has(g, self.a, "FwselA") == g.token,
                        "%s: A's varstore file holds FwselA" % case)
        removed = self.wait_for(lambda: not os.path.exists(g.varstore_outside(self.b)), 30)
        self.tap.result(removed and self.b.virsh("dominfo", g.name).returncode != 0,
                        "%s: B keeps neither the domain nor the varstore its hook created" % case,
                        tail(self.b.hook_log(), 4))
        kept = self.cold_boot_keeps(case, g, self.a, "FwselA") and kept
        after = g.firmware(self.a)
        g.destroy(self.a)
        self.row(case, before["loader"], after["loader"] + " (on A)", kept, t0)

    # ---- d: offline migration of a shut-off guest
    def offline(self, g, *flags):
        return self.migrate(g, self.a, self.b, "--offline", "--persistent", *flags)

    def case_offline(self):
        case = "d offline migration"
        t0 = time.time()
        g, before = self.booted_with_var(case, "d-offline")
        g.destroy(self.a)
        # libvirt alone: the definition moves, the variables do not
        self.offline(g)
        g.boot(self.b)
        lost = g.read_var("FwselA", self.b)
        self.tap.result(lost is None, "%s: without carrying the varstore B starts from the "
                        "template: FwselA %s (libvirt's behaviour, Nova's bug)" % (
                            case, "missing" if lost is None else "reads " + lost))
        g.destroy(self.b)
        self.b.virsh("undefine", "--nvram", g.name, check=True)
        # fwsel: the varstore carried in the definition
        out = self.a.run([self.args.carry, "pack", g.name])
        self.tap.result(out.returncode == 0, "%s: virt-fwsel-carry pack on A" % case,
                        out.stdout + out.stderr)
        self.offline(g, "--undefinesource")
        inactive = g.live_xml(self.b, inactive=True)
        self.tap.result("urn:fwsel:varstore:1" not in inactive,
                        "%s: B's definition no longer holds the carried copy" % case)
        self.tap.result("wrote the carried varstore" in self.b.hook_log(),
                        "%s: B's hook wrote the carried varstore" % case,
                        tail(self.b.hook_log(), 3))
        self.tap.result(self.file_has(g, self.b, "FwselA") == g.token,
                        "%s: B's varstore file holds FwselA" % case)
        fw = g.firmware(self.b, inactive=True)
        self.tap.result(fw["loader"] == before["loader"],
                        "%s: B's definition keeps loader %s" % (case, fw["loader"]))
        g.boot(self.b)
        kept = self.check_var(case, g, self.b, "on B after the offline migration and a "
                              "cold boot", "FwselA")
        g.destroy(self.b)
        self.row(case, before["loader"], fw["loader"], kept, t0)

    # ---- e: a variable written while a live migration is in flight
    def jobinfo(self, g, host):
        out = host.virsh("domjobinfo", g.name).stdout
        info = {}
        for line in out.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                info[k.strip().lower()] = v.strip()
        return info

    def ramblocks(self, g):
        """The guest's RAM blocks in migration order: [(name, used bytes)]"""
        out = self.a.virsh("qemu-monitor-command", "--hmp", g.name, "info ramblock",
                           check=True).stdout
        blocks = []
        for line in out.splitlines():
            f = line.split()
            # name, page size (2 words), offset, used, total
            if len(f) >= 6 and re.fullmatch(r"0x[0-9a-f]+", f[-1]):
                blocks.append((f[0], int(f[-2], 16)))
        return blocks

    def remaining(self, g):
        """'memory remaining' of the migration job, in bytes (None when no
        job runs)"""
        v = self.jobinfo(g, self.a).get("memory remaining")
        if not v:
            return None
        num, unit = v.split()[:2]
        return int(float(num) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20,
                                 "GiB": 1 << 30}[unit])

    def junk_roms(self, n, size):
        """N option ROM files of random bytes (no ROM signature: the
        firmware ignores them), each a RAM block the migration sends after
        the varstore's"""
        paths = []
        for i in range(n):
            path = os.path.join(self.work, "junk-%d.rom" % i)
            with open(path, "wb") as f:
                f.write(b"\0" * 4096 + os.urandom(size - 4096))
            paths.append(path)
        return paths

    def case_inflight_patched(self):
        """Case e against QEMU 7.2 with patches/qemu-7.2 applied
        (scripts/qemu-patched-build), when that binary exists"""
        qemu = os.environ.get("FWSEL_QEMU_PATCHED") or PATCHED_QEMU
        if not os.access(qemu, os.X_OK):
            self.tap.result(True, "e with the patched QEMU # SKIP no %s (scripts/"
                            "qemu-patched-build, or FWSEL_QEMU_PATCHED=PATH)" % qemu)
            return
        self.case_inflight(emulator=qemu)

    def case_inflight(self, emulator=None):
        """Deterministic: QEMU sends RAM blocks largest first, the 528 KiB
        varstore after the guest's memory and the 3.5 MiB code (sent at
        2 MiB/s, then 1 MiB/s).  Six 512 KiB
        option ROMs of random bytes (e1000e NICs on UDP sockets) come after
        it.  At 1 MiB/s, once 'memory remaining' is below their size, the
        varstore has been sent and the ROMs take seconds more: then Enter
        runs a setvar typed before.  The write lands in the varstore while
        the migration is in flight; then the migration completes."""
        case = "e variable written in flight" + (", patched QEMU" if emulator else "")
        t0 = time.time()
        roms = self.junk_roms(6, 512 * 1024)
        nics = "".join(
            "    <interface type='udp'>\n"
            "      <source address='127.0.0.1' port='%d'>\n"
            "        <local address='127.0.0.1' port='%d'/>\n"
            "      </source>\n"
            "      <model type='e1000e'/>\n"
            "      <rom bar='on' file='%s'/>\n"
            "    </interface>\n" % (47100 + 2 * i, 47101 + 2 * i, rom)
            for i, rom in enumerate(roms))
        g = self.guest("e-inflight" + ("-patched" if emulator else ""), "no-sb")
        g.extra_devices = ("    <emulator>%s</emulator>\n" % emulator if emulator else "") + nics
        g.define(self.a)
        g.boot(self.a)
        before = g.firmware(self.a)
        g.write_var("FwselA")
        blocks = self.ramblocks(g)
        names = [b[0] for b in blocks]
        vars_at = max(i for i, b in enumerate(blocks) if "flash1" in b[0] or "pflash1" in b[0])
        after = sum(b[1] for b in blocks[vars_at + 1:])
        evidence = ["RAM blocks in migration order: %s" % ", ".join(
            "%s %d KiB" % (n, sz // 1024) for n, sz in blocks),
            "after the varstore (%s): %d KiB" % (names[vars_at], after // 1024)]
        c = g.console(self.a)
        token = uuid.uuid4().hex[:16]
        c.type("setvar FwselE -guid %s -nv -bs -rt =%s" % (VAR_GUID, token))
        proc = subprocess.Popen(self.a.nsenter_argv(
            [self.a.spec.virsh, "-q", "-c", self.a.tcp_uri, "migrate", "--live", "--persistent",
             "--bandwidth", "2", g.name, self.b.tcp_uri]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # at 2 MiB/s the 3.5 MiB code flash before the varstore takes
            # seconds (zero pages go at any speed): slow down to 1 MiB/s
            # while it is sent
            if not self.wait_for(lambda: (self.remaining(g) or 1 << 40) < after + (6 << 20), 180):
                raise CaseFailed("the migration did not get near the varstore\n" +
                                 "\n".join(evidence))
            self.a.virsh("migrate-setspeed", g.name, "1", check=True)
            if not self.wait_for(lambda: (self.remaining(g) or 1 << 40) < after, 120):
                raise CaseFailed("the migration did not get past the varstore\n" +
                                 "\n".join(evidence))
            rem = self.remaining(g)
            mark = c.mark()
            c.sock.sendall(b"\r")
            c.wait_text(mark, r"Shell> ", 30)
            g.token = token
            info = self.jobinfo(g, self.a)
            evidence.append("FwselE=%s set in the shell on A with %d KiB of the first pass "
                            "left (after the varstore); job now: %s, memory remaining %s, "
                            "iteration %s" % (token, rem // 1024, info.get("job type"),
                                              info.get("memory remaining"),
                                              info.get("iteration")))
            evidence.append("A's varstore file holds FwselE: %s" %
                            self.file_has(g, self.a, "FwselE"))
            c.close()
            self.a.virsh("migrate-setspeed", g.name, "8192", check=False)
            out, err = proc.communicate(timeout=MIGRATE_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            c.close()
        if proc.returncode != 0:
            raise CaseFailed("the migration failed: %s" % (err or out).strip())
        g.host = self.b
        self.pin_persistent(case, g, self.b, before)
        self.check_running(case, g, self.b)
        mem = g.read_var("FwselE", self.b)
        evidence.append("on B the guest reads FwselE from its memory: %s" % mem)
        evidence.append("B's varstore file holds FwselE: %s (FwselA, written before the "
                        "migration: %s)" % (self.file_has(g, self.b, "FwselE"),
                                            self.file_has(g, self.b, "FwselA")))
        g.destroy(self.b)
        g.boot(self.b)
        got = g.read_var("FwselE", self.b)
        kept = got == token
        evidence.append("after a cold boot on B FwselE reads %s" % got)
        self.tap.result(kept, "%s: FwselE kept after the migration and a cold boot on B" % case,
                        "\n".join(evidence),
                        todo=None if kept or emulator else "QEMU 7.2 does not mark flash "
                        "written by the guest dirty for migration (patches/qemu-7.2)")
        g.destroy(self.b)
        self.row(case, before["loader"], g.firmware(self.b, inactive=True)["loader"], kept, t0)

    @staticmethod
    def wait_for(cond, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return True
            time.sleep(0.2)
        return cond()

    # ---- b: the destination keeps its firmware under other paths
    def fedora_tree(self, descriptors):
        tree = os.path.join(self.work, "fedora-like-%d" % len(descriptors))
        if os.path.isdir(tree):
            return tree
        src = os.path.join(self.args.data, "hosts", "argv-dest-fedora")
        os.makedirs(os.path.join(tree, "usr/share/qemu/firmware"))
        for name in descriptors:
            shutil.copy(os.path.join(src, "usr/share/qemu/firmware", name),
                        os.path.join(tree, "usr/share/qemu/firmware", name))
        for rel, real in FEDORA_FILES.items():
            os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
            shutil.copy(real, os.path.join(tree, rel))
        return tree

    def refused_migration(self):
        """An enrolled-SB guest pinned by another tool (virt-fwsel select +
        virsh define: no record of its role in <metadata>), whose running
        definition does not say it has enrolled keys: B has two Secure Boot
        builds with one code file, the hook cannot tell which one has the
        same role and refuses; the migration is cancelled, the guest runs
        on, B keeps nothing"""
        case = "c refused by the hook"
        t0 = time.time()
        g = self.guest("c-refused", "sb")
        g.define(self.a, pinned="select")
        before = g.firmware(self.a, inactive=True)
        g.boot(self.a)
        st = g.sb_state(self.a)
        p, _ = self.migrate(g, self.a, self.b, "--live", "--persistent", check=False)
        refused = p.returncode != 0 and "role is ambiguous" in p.stderr
        self.tap.result(refused, "%s: the destination's hook refuses the migration" % case,
                        (p.stderr or p.stdout).strip())
        self.check_running(case, g, self.a)
        left = [self.b.virsh("dominfo", g.name).returncode == 0 and "the domain" or "",
                os.path.exists(g.varstore_outside(self.b)) and "a varstore" or ""]
        self.tap.result(not any(left), "%s: B has neither the domain nor a varstore" % case,
                        " ".join(left))
        after = g.sb_state(self.a)
        kept = after.get("keys") == st.get("keys") and after.get("mtc") == st.get("mtc")
        self.tap.result(kept, "%s: the source's varstore is unchanged (keys, MTC %s)" % (
            case, after.get("mtc")))
        g.destroy(self.a)
        self.row(case, before["loader"], g.firmware(self.a)["loader"] + " (on A)", kept, t0)

    def case_other_layout(self, refused=True):
        """REFUSED: also the guest pinned by another tool, which the hook
        refuses (a daemon that stores the selection keeps the firmware
        features in the running definition: nothing is ambiguous there)"""
        hide = ["/usr/share/OVMF", "/usr/share/ovmf"]
        self.b.show_layout(self.fedora_tree(FEDORA_DESCRIPTORS), hide)
        try:
            seen = self.b.run(["ls", "/usr/share/OVMF", "/usr/share/qemu/firmware",
                               "/usr/share/edk2/ovmf"]).stdout
            self.tap.note("host B now has:\n" + seen)
            if refused:
                self.refused_migration()
            # libvirt 9.0 keeps no firmware features in a pinned definition
            # nor in the migratable XML; virt-fwsel define records the
            # role in <metadata>, which the migration carries and the
            # hook's migrate-xml reads (both ways: Debian's enrolled and
            # plain Secure Boot builds share one code file too)
            for kind, code, tmpl in (
                    ("no-sb", "OVMF_CODE.fd", "OVMF_VARS.fd"),
                    ("sb", "OVMF_CODE.secboot.fd", "OVMF_VARS.secboot.fd")):
                g = self.guest("b-" + kind, kind)
                g.define(self.a)
                want_b = {"loader": "/usr/share/edk2/ovmf/" + code,
                          "template": "/usr/share/edk2/ovmf/" + tmpl,
                          "nvram": os.path.join(NVRAM_DIR, g.name + "_VARS.fd")}
                try:
                    self.roundtrip("b other layout, %s" % kind, g, want_b=want_b)
                except CaseFailed as e:
                    self.tap.result(False, "b other layout, %s: ran" % kind, str(e))
        finally:
            self.b.restore_layout()


# ---------------------------------------------------------------------------

def leftovers():
    """What of this suite is still there: network namespaces, links,
    processes in its hosts' mount namespaces, test-host directories"""
    found = []
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += ["netns " + l.split()[0] for l in ns.splitlines() if l.startswith(PREFIX)]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += ["link " + l.split(":")[1].strip() for l in links.splitlines() if LINK in l]
    with open("/proc/self/mountinfo") as f:
        found += ["mount " + l.split()[4] for l in f if PREFIX in l or "/netns/" + PREFIX in l]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if PREFIX in cmd and int(pid) != os.getpid():
            found.append("process %s: %s" % (pid, cmd[:120]))
    return found


def prerequisites():
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for tool in ("virsh", "libvirtd", "virtlogd", "qemu-system-x86_64", "ip", "nsenter",
                 "unshare"):
        if not shutil.which(tool):
            missing.append(tool)
    for f in ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
              "/usr/share/qemu/firmware/60-edk2-x86_64.json"):
        if not os.path.exists(f):
            missing.append(f)
    return missing


CASES = collections.OrderedDict()

# group f (issue 11): the patched libvirt 9.0.0 (patches/libvirt-9.0.0,
# scripts/libvirt-v2-daemon) on both hosts, then a rolling upgrade: one
# host patched, the other Debian's, a guest defined on either migrates to
# the other and back.  (daemons of A and B, cases, what the rows say)
GROUP_F = (
    (("patched", "patched"), ("same-layout", "other-layout-patched", "undefinesource",
                              "suspend", "abort"), "f "),
    (("patched", "debian"), ("same-layout",), "f rolling patched -> unpatched -> patched: "),
    (("debian", "patched"), ("same-layout",), "f rolling unpatched -> patched -> unpatched: "),
)

def run_lab(args, tap, work, daemons, cases, prefix, rows):
    lab = Lab(args, tap, work, daemons)
    suite = None
    tap.note("hosts: A %s, B %s" % daemons)
    try:
        lab.start()
        tap.note("two hosts up in %.1f s (capabilities: A %.1f s, B %.1f s)" % (
            lab.timings["hosts up"], lab.timings["host a capabilities"],
            lab.timings["host b capabilities"]))
        suite = Suite(args, tap, lab, work)
        suite.prefix = prefix
        for name in cases:
            if args.cases and name not in args.cases:
                continue
            try:
                CASES[name](suite)
            except CaseFailed as e:
                tap.result(False, "%s%s: ran" % (prefix, name), str(e))
            except Exception as e:
                tap.result(False, "%s%s: ran" % (prefix, name), "%s: %s" % (type(e).__name__, e))
    finally:
        if suite:
            rows += suite.rows
            for g in suite.guests:
                for c in g.consoles.values():
                    c.close()
        lab.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--hook", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--carry", help="virt-fwsel-carry (default: beside the hook's folder, "
                    "as in the source tree)")
    ap.add_argument("--workdir", default=testhost.DEFAULT_WORKDIR)
    ap.add_argument("--patched-prefix", default=os.path.join(
        os.environ.get("FWSEL_LIBVIRT_V2_WORKDIR", "/var/tmp/fwsel-libvirt-9.0.0-v2"),
        "daemon-prefix"), help="a prefix of scripts/libvirt-v2-daemon (the "
                    "patched libvirt 9.0.0), for --group f and --daemon-a/-b patched (default: "
                    "scripts/libvirt-v2-daemon's, $FWSEL_LIBVIRT_V2_WORKDIR/daemon-prefix)")
    ap.add_argument("--group", choices=("default", "f"), default="default",
                    help="default: cases a-e between two Debian daemons; f: the patched "
                    "daemon on both hosts, then rolling upgrades (needs --patched-prefix; "
                    "skips when it has no daemon)")
    ap.add_argument("--daemon-a", choices=("debian", "patched"), default="debian")
    ap.add_argument("--daemon-b", choices=("debian", "patched"), default="debian")
    ap.add_argument("cases", nargs="*", help="run only these cases (%s)" % ", ".join(CASES))
    args = ap.parse_args()
    args.fwsel = os.path.abspath(args.fwsel)
    args.hook = os.path.abspath(args.hook)
    args.data = os.path.abspath(args.data)
    args.carry = os.path.abspath(args.carry or os.path.join(os.path.dirname(args.hook), "..",
                                                            "virt-fwsel-carry"))

    if args.group == "f":
        plan = GROUP_F
    else:
        plan = (((args.daemon_a, args.daemon_b), tuple(n for n in CASES if n in DEFAULT_CASES),
                 ""),)
    daemons = set(d for p in plan for d in p[0])
    missing = prerequisites()
    if "patched" in daemons:
        if not args.patched_prefix or \
           not os.access(os.path.join(args.patched_prefix, "sbin", "libvirtd"), os.X_OK):
            # not an error anywhere: the prefix is built on request
            print("1..0 # SKIP no patched libvirt daemon in %s (scripts/libvirt-v2-daemon "
                  "builds it)" % (args.patched_prefix or "(no --patched-prefix)"))
            # TAP: a plan of 0 with SKIP is meson's skip (77 would be an error)
            return 0
    if missing:
        msg = "migration suite needs: %s (scripts/install-deps --live, run as root)" % (
            ", ".join(missing))
        if os.environ.get("FWSEL_LIVE_REQUIRED") == "1":
            print("1..1\nnot ok 1 - prerequisites\n# " + msg)
            return 1
        print("1..0 # SKIP " + msg)
        return 77

    lock = None
    if "debian" in daemons:
        lock, refuse = testhost.lock_system_libvirt()
        if refuse:
            print("1..1\nnot ok 1 - the system's libvirt is Debian's\n# " + refuse)
            return 1

    testhost.install_signal_handlers()
    tap = Tap()
    work = tempfile.mkdtemp(prefix=PREFIX)
    os.chmod(work, 0o755)
    started = time.time()
    rows = []
    try:
        for lab_daemons, cases, prefix in plan:
            run_lab(args, tap, work, lab_daemons, cases, prefix, rows)
        if rows:
            tap.note("results:")
            tap.note("%-34s %-18s %-42s %-42s %-5s %6s" % (
                "case", "daemons A -> B", "loader before", "loader after", "kept", "time"))
            for r in rows:
                tap.note("%-34s %-18s %-42s %-42s %-5s %5.0f s" % (
                    r.case, r.daemons, r.loader_before, r.loader_after, r.kept, r.seconds))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    left = leftovers()
    tap.result(not left, "nothing left behind (namespaces, links, mounts, processes)",
               "\n".join(left))
    tap.note("migration suite: %d checks, %d failed, %.0f s" % (tap.n, tap.failed,
                                                              time.time() - started))
    print("1..%d" % tap.n)
    if lock:
        lock.close()
    return 1 if tap.failed else 0


CASES["same-layout"] = Suite.case_same_layout
CASES["other-layout"] = Suite.case_other_layout
CASES["undefinesource"] = Suite.case_undefinesource
CASES["suspend"] = Suite.case_suspend
CASES["abort"] = Suite.case_abort
CASES["offline"] = Suite.case_offline
CASES["inflight"] = Suite.case_inflight
CASES["inflight-patched"] = Suite.case_inflight_patched
CASES["other-layout-patched"] = lambda suite: suite.case_other_layout(refused=False)
DEFAULT_CASES = ("same-layout", "other-layout", "undefinesource", "suspend", "abort", "offline",
                 "inflight", "inflight-patched")

if __name__ == "__main__":
    sys.exit(main())
