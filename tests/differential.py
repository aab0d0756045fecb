#!/usr/bin/env python3
"""Differential test: virt-fwsel's prediction against a real libvirt daemon.

  tests/differential.py --daemon {debian-9.0,prefix:PATH} --fwsel PATH/virt-fwsel
                        [--fwsel-arg ARG ...] --data tests-data [--suite xml2xml]
                        [--cases GLOB] [--json OUT] [--tap] [--select-at {auto,define,start}]
                        [--behaves-as VERSION]
                        [--keep-host] [--no-install]

For every golden case of the suite (NAME.host: line 1 the host tree under
DATA/hosts, further lines virt-fwsel options or "env VAR=VALUE"; NAME.xml:
the input), grouped by host tree:

1. the real daemon runs in a private test host (tests/testhost.py) whose
   firmware view is switched to the case's host tree: descriptors,
   firmware files and the qemu.conf nvram list of the tree at the real
   absolute paths, none of the machine's own descriptors;
2. the input, with <domain type='kvm'> made 'qemu' (there is no KVM), is
   defined; a daemon that selects firmware at define time (libvirt >= 9.2)
   is asked for "dumpxml --inactive"; an older one (Debian's 9.0.0) selects
   at start, so the domain is started paused, its live XML dumped and the
   domain destroyed.  When QEMU fails to start after libvirt selected,
   the selection is recovered from the daemon's debug log
   (qemu.qemu_firmware at level 1: "Found matching firmware (description
   path ...)", "decided on firmware ... template ... NVRAM ...").  Then the
   domain is undefined with --nvram and leftover varstores are removed;
3. virt-fwsel --root TREE --no-qemu-probe [--fwsel-arg...] [--nvram-dir of
   the daemon when not the default] [case options] select NAME.xml runs as
   tests/golden.py runs it (cwd the suite directory, HOME and
   XDG_CONFIG_HOME /nonexistent unless the case sets them);
4. both answers are reduced to the firmware slice (os@firmware, firmware
   features, loader, nvram, kernel, smm) and compared field by field.  Both
   refusing the input counts as agreement (the messages are recorded).

Details that matter when reading the results:
* a 9.0 start that fails in QEMU itself (stand-in firmware files are not
  real images: "invalid size", "device requires N bytes") or because a
  varstore directory named by the input does not exist here, is compared
  on what libvirt had fixed by then: the definition plus the logged
  selection (loader path/type/readonly/secure, template, varstore path,
  kernel, smm); the varstore libvirt created is also checked byte for byte
  against virt-fwsel's template ("nvram.template(content)").  A start
  error raised by libvirt (no firmware, unparsable descriptor, unsupported
  flash format, SMM off, no master var store) is the daemon's answer;
* an input the daemon rejects at define for a reason unrelated to firmware
  ("Memory size must be specified", "No PCI buses available") is repaired
  minimally (a <memory>; <memballoon model='none'/> and a 'none' USB
  controller) and defined again; the first answer is kept in "unrepaired"
  and the case carries a note (--no-repair turns this off);
* both refusing the input counts as agreement; the summary says how many.

Cases that cannot be compared are skipped with a reason (session daemon,
environment variables, a machine alias the real QEMU does not have or
resolves differently, a define error about this machine's emulators or
missing SEV/TDX hardware); the daemon's answer is still recorded.  --json
writes everything: per case the daemon's XML (inactive and live), errors,
firmware log lines, the selection read from the log, varstores created,
the slice, virt-fwsel's argv, output and slice, the verdict and the
differences.  Exit status 0 only when no case differs.

virt-fwsel is asked for the daemon's own version (--libvirt=VERSION of the
daemon) unless --fwsel-arg names one.  Cases for fwsel's safe policy
(--policy=safe) or for another libvirt version (--libvirt=X) are skipped
with that reason.  Pass options to virt-fwsel with "=":
--fwsel-arg=--libvirt=9.0.
"""

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testhost  # noqa: E402
from testhost import DaemonSpec, TestHost  # noqa: E402

FWSEL_DEFAULT_NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"

# what each suite runs (the subset that makes sense against a daemon)
SUITES = {"xml2xml": "select"}

# define errors that are about this machine's emulators, not about firmware
ENV_DEFINE_ERRORS = [
    r"No emulator found",
    r"does not support machine type",
    r"Emulator '.*' does not support",
    r"no QEMU binary",
    r"unsupported configuration: Emulator",
]

# define errors about the input, not about firmware: the input is repaired
# minimally and defined again (the first answer is kept in the results)
REPAIRS = [
    (r"Memory size must be specified", "add <memory unit='MiB'>256</memory>"),
    (r"No PCI buses available", "add <memballoon model='none'/> and <controller type='usb' model='none'/>"),
]

# define errors about this machine (no SEV/TDX hardware), not about firmware
HOST_FEATURE_ERRORS = [
    r"SEV launch security is not supported with this QEMU binary",
    r"launch security (.* )?is not supported",
    r"TDX .*not supported",
]

# a start error that QEMU itself reported: libvirt had finished preparing
QEMU_FAILED = re.compile(r"qemu unexpectedly closed the monitor|process exited while connecting to monitor"
                         r"|QEMU quit during|qemu-system-[\w-]+: ")

# a start error about this machine's file system after libvirt selected (the
# input names a varstore in a directory that does not exist here)
START_ENV_FAILED = re.compile(r"Failed to create file '[^']*': No such file or directory")

EMULATOR_PACKAGES = {
    "aarch64": "qemu-system-arm", "armv7l": "qemu-system-arm", "arm": "qemu-system-arm",
    "riscv64": "qemu-system-misc", "riscv32": "qemu-system-misc",
    "x86_64": "qemu-system-x86", "i686": "qemu-system-x86",
}
EMULATOR_BINARY = {
    "aarch64": "qemu-system-aarch64", "armv7l": "qemu-system-arm", "arm": "qemu-system-arm",
    "riscv64": "qemu-system-riscv64", "riscv32": "qemu-system-riscv32",
    "x86_64": "qemu-system-x86_64", "i686": "qemu-system-i386",
}


def say(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


# ------------------------------------------------------------------ cases
class Case:
    def __init__(self, data, suite, name):
        self.data = data
        self.suite = suite
        self.name = name
        self.suite_dir = os.path.join(data, suite)
        lines = [l.strip() for l in read(os.path.join(self.suite_dir, name + ".host")).splitlines()]
        lines = [l for l in lines if l and not l.startswith("#")]
        self.tree_name = lines[0] if lines else None
        self.tree = os.path.abspath(os.path.join(data, "hosts", self.tree_name)) if lines else None
        self.options = [l for l in lines[1:] if not l.startswith("env ")]
        self.env = [l[4:].strip() for l in lines[1:] if l.startswith("env ")]
        self.xml_path = os.path.join(self.suite_dir, name + ".xml")
        self.xml = read(self.xml_path)
        self.domain_name = None
        self.arch = None
        self.machine = None
        try:
            root = ET.fromstring(self.xml.encode("utf-8"))
            if root.tag == "domain":
                n = root.find("name")
                self.domain_name = n.text.strip() if n is not None and n.text else None
                t = root.find("os/type")
                if t is not None:
                    self.arch = t.get("arch")
                    self.machine = t.get("machine")
        except ET.ParseError:
            pass

    def machine_aliases(self):
        """{alias: machine} from --machine-alias options."""
        out = {}
        opts = list(self.options)
        i = 0
        while i < len(opts):
            o = opts[i]
            val = None
            if o.startswith("--machine-alias="):
                val = o.split("=", 1)[1]
            elif o == "--machine-alias" and i + 1 < len(opts):
                val = opts[i + 1]
                i += 1
            if val and "=" in val:
                a, m = val.split("=", 1)
                out[a] = m
            i += 1
        return out

    def has_option(self, opt):
        return any(o == opt or o.startswith(opt + "=") for o in self.options)


def load_cases(data, suite, pattern):
    d = os.path.join(data, suite)
    names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".host"))
    if pattern:
        pats = pattern.split(",")
        names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in pats)]
    return [Case(data, suite, n) for n in names]


# ------------------------------------------------------------------ slices
def _attrs(el, names):
    return {k: el.get(k) for k in names if el.get(k) is not None}


def firmware_slice(xml_text):
    """The firmware-relevant part of a domain XML as a flat-ish dict."""
    root = ET.fromstring(xml_text.encode("utf-8") if isinstance(xml_text, str) else xml_text)
    os_el = root.find("os")
    s = {"firmware": None, "features": {}, "loader": None, "nvram": None,
         "kernel": None, "smm": None}
    if os_el is not None:
        s["firmware"] = os_el.get("firmware")
        for f in os_el.findall("firmware/feature"):
            s["features"][f.get("name")] = f.get("enabled")
        ld = os_el.find("loader")
        if ld is not None:
            s["loader"] = dict(_attrs(ld, ["type", "readonly", "secure", "stateless", "format"]))
            s["loader"]["path"] = (ld.text or "").strip() or None
        nv = os_el.find("nvram")
        if nv is not None:
            n = dict(_attrs(nv, ["type", "template", "templateFormat", "format"]))
            path = (nv.text or "").strip() or None
            src = nv.find("source")
            if src is not None:
                sd = dict(src.attrib)
                hosts = [dict(h.attrib) for h in src.findall("host")]
                if hosts:
                    sd["hosts"] = hosts
                n["source"] = sd
                if path is None and src.get("file"):
                    path = src.get("file")
            n["path"] = path
            s["nvram"] = n
        k = os_el.find("kernel")
        if k is not None:
            s["kernel"] = (k.text or "").strip() or None
    smm = root.find("features/smm")
    if smm is not None:
        s["smm"] = smm.get("state", "on")
    return s


def flatten(s):
    """{field: value} for comparison; absent sub-elements give None."""
    out = {"os@firmware": s.get("firmware"), "kernel": s.get("kernel"), "smm": s.get("smm")}
    feats = s.get("features") or {}
    for k, v in feats.items():
        out["feature:%s" % k] = v
    for part in ("loader", "nvram"):
        d = s.get(part)
        out[part] = "present" if d is not None else None
        if d is not None:
            for k, v in d.items():
                if k == "source":
                    out["%s.source" % part] = json.dumps(v, sort_keys=True)
                else:
                    out["%s.%s" % (part, k)] = v
    return out


def compare(dslice, fslice, fields=None):
    a, b = flatten(dslice), flatten(fslice)
    keys = sorted(set(a) | set(b))
    if fields is not None:
        keys = [k for k in keys if k in fields or any(k.startswith(f + ".") for f in fields)]
    diffs = []
    for k in keys:
        if a.get(k) != b.get(k):
            diffs.append({"field": k, "daemon": a.get(k), "fwsel": b.get(k)})
    return diffs


# ------------------------------------------------------------------ daemon side
LOG_LINE = re.compile(r"^\S+ \S+: \d+: (\w+) : (\S+?):(\d+) : (.*)$")


def firmware_log(text):
    """Relevant lines of the daemon log: qemu_firmware debug + all errors."""
    out = []
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if not m:
            continue
        level, func, _lineno, msg = m.groups()
        if func.startswith("qemuFirmware") or level in ("error", "warning"):
            out.append("%s %s: %s" % (level, func, msg))
    return out


def selection_from_log(lines):
    """What the log says libvirt selected: {description, loader, template,
    nvram, kernel, rom, smm_enabled, secure_enabled} (keys present only
    when logged)."""
    sel = {}
    for l in lines:
        m = re.search(r"Found matching firmware \(description path '(.*)'\)", l)
        if m:
            sel["description"] = m.group(1)
        m = re.search(r"decided on firmware '(.*?)' template '(.*?)'(?: NVRAM '(.*?)')?$", l)
        if m:
            sel["loader"] = m.group(1)
            sel["template"] = None if m.group(2) == "<null>" else m.group(2)
            if m.group(3) is not None:
                sel["nvram"] = None if m.group(3) == "<null>" else m.group(3)
        m = re.search(r"decided on kernel '(.*)'", l)
        if m:
            sel["kernel"] = m.group(1)
        m = re.search(r"decided on loader '(.*)'", l)
        if m:
            sel["rom"] = m.group(1)
        if "Enabling SMM feature" in l:
            sel["smm_enabled"] = True
        if "Enabling secure loader" in l:
            sel["secure_enabled"] = True
    return sel


def resolve_in_tree(tree, path, hops=40):
    """PATH as the daemon sees it, resolved inside TREE (absolute links are
    re-rooted); the real path under TREE, or None when it is not there."""
    parts = [p for p in path.split("/") if p]
    cur = tree
    i = 0
    while i < len(parts):
        nxt = os.path.join(cur, parts[i])
        if os.path.islink(nxt):
            hops -= 1
            if hops < 0:
                return None
            target = os.readlink(nxt)
            rest = parts[i + 1:]
            if target.startswith("/"):
                parts = [p for p in target.split("/") if p] + rest
                cur, i = tree, 0
            else:
                parts = [p for p in os.path.relpath(os.path.join(cur, target), tree).split("/")
                         if p and p != "."] + rest
                cur, i = tree, 0
                if parts and parts[0] == "..":
                    return None
            continue
        if not os.path.lexists(nxt):
            return None
        cur = nxt
        i += 1
    return cur


def file_digest(path):
    import hashlib
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def tree_files_with_digest(tree, digest):
    out = []
    for root_, _dirs, files in os.walk(tree):
        for f in files:
            p = os.path.join(root_, f)
            if not os.path.islink(p) and file_digest(p) == digest:
                out.append("/" + os.path.relpath(p, tree))
    return sorted(out)


def repair_input(xml, how):
    if how.startswith("add <memory"):
        return re.sub(r"(</name>)", r"\1\n  <memory unit='MiB'>256</memory>", xml, count=1)
    if how.startswith("add <memballoon"):
        add = "<memballoon model='none'/>\n    <controller type='usb' model='none'/>"
        if "<devices>" in xml:
            return xml.replace("<devices>", "<devices>\n    " + add, 1)
        return xml.replace("</domain>", "  <devices>\n    " + add + "\n  </devices>\n</domain>", 1)
    return xml


def virsh_error(proc):
    lines = [l[len("error: "):] if l.startswith("error: ") else l
             for l in (proc.stderr or "").strip().splitlines()]
    lines = [l for l in lines if l and not l.startswith("Failed to define domain from")
             and not l.startswith("Failed to start domain")]
    return " | ".join(lines) or (proc.stderr or "").strip()


def rewrite_type(xml):
    """<domain type='kvm'> -> 'qemu', textually (the input may not parse)."""
    return re.sub(r"(<domain\b[^>]*?\btype\s*=\s*)(['\"])kvm\2", r"\1\2qemu\2", xml, count=1)


def run_daemon_case(host, case, mode, files_dir, repairs=True):
    r = run_daemon_once(host, case, mode, files_dir, case.xml)
    if not repairs:
        return r
    applied = []
    xml = case.xml
    while r.get("error", {}).get("phase") == "define":
        fix = next((how for pat, how in REPAIRS
                    if re.search(pat, r["error"]["message"]) and how not in applied), None)
        if fix is None:
            break
        first = r if not applied else r.get("unrepaired", r)
        applied.append(fix)
        xml = repair_input(xml, fix)
        r = run_daemon_once(host, case, mode, files_dir, xml)
        r["unrepaired"] = {k: first[k] for k in ("define", "error", "log") if k in first}
        r["repairs"] = list(applied)
    return r


def run_daemon_once(host, case, mode, files_dir, input_xml):
    r = {"mode": mode}
    xml = rewrite_type(input_xml)
    r["type_rewritten"] = xml != input_xml
    path = os.path.join(files_dir, case.name + ".xml")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(xml)
    name = case.domain_name
    if name:
        st = host.virsh("domstate", name)
        if st.returncode == 0:
            host.virsh("destroy", name)
            host.virsh("undefine", "--nvram", name)
    mark = host.log_mark()
    t0 = time.time()
    d = host.virsh("define", path)
    r["define"] = {"rc": d.returncode, "stdout": d.stdout.strip(), "stderr": d.stderr.strip()}
    if d.returncode != 0:
        r["error"] = {"phase": "define", "message": virsh_error(d)}
    else:
        m = re.search(r"Domain '?(.*?)'? defined from", d.stdout)
        if m:
            name = m.group(1)
        r["domain"] = name
        x = host.virsh("dumpxml", "--inactive", name)
        r["inactive_xml"] = x.stdout if x.returncode == 0 else None
        if mode == "start":
            s = host.virsh("start", "--paused", name, timeout=120)
            r["start"] = {"rc": s.returncode, "stdout": s.stdout.strip(), "stderr": s.stderr.strip()}
            if s.returncode == 0:
                lx = host.virsh("dumpxml", name)
                r["live_xml"] = lx.stdout if lx.returncode == 0 else None
                ds = host.virsh("destroy", name)
                r["destroy"] = {"rc": ds.returncode, "stderr": ds.stderr.strip()}
            else:
                msg = virsh_error(s)
                r["error"] = {"phase": "start", "message": msg,
                              "by": "qemu" if QEMU_FAILED.search(msg) else
                              "environment" if START_ENV_FAILED.search(msg) else "libvirt"}
        # varstores created so far: which file of the tree they are a copy of
        nvdir = host.nvram_dir_outside
        r["nvram_files"] = []
        for root_, _dirs, files in os.walk(nvdir):
            for f in files:
                p = os.path.join(root_, f)
                dg = file_digest(p)
                r["nvram_files"].append({
                    "path": os.path.join(host.spec.nvram_dir, os.path.relpath(p, nvdir)),
                    "size": os.path.getsize(p), "sha256": dg,
                    "copy_of": tree_files_with_digest(case.tree, dg) if dg else []})
        u = host.virsh("undefine", "--nvram", name)
        if u.returncode != 0:
            u2 = host.virsh("undefine", name)
            r["undefine"] = {"rc": u.returncode, "stderr": u.stderr.strip(),
                             "fallback_rc": u2.returncode, "fallback_stderr": u2.stderr.strip()}
        else:
            r["undefine"] = {"rc": 0}
    r["seconds"] = round(time.time() - t0, 3)
    time.sleep(0.05)
    r["log"] = firmware_log(host.log_since(mark))
    r["log_selection"] = selection_from_log(r["log"])
    # varstores left behind after undefine --nvram; remove them so they
    # cannot influence a later case
    left = []
    nvdir = host.nvram_dir_outside
    for root_, _dirs, files in os.walk(nvdir):
        for f in files:
            p = os.path.join(root_, f)
            left.append(os.path.join(host.spec.nvram_dir, os.path.relpath(p, nvdir)))
            os.unlink(p)
    r["nvram_files_left"] = left

    # the daemon's answer
    xml_answer = r.get("live_xml") or r.get("inactive_xml")
    if "error" not in r and xml_answer:
        r["slice"] = firmware_slice(xml_answer)
        r["slice_source"] = "live_xml" if r.get("live_xml") else "inactive_xml"
    elif (r.get("error", {}).get("phase") == "start" and r["error"].get("by") in ("qemu", "environment")
          and r.get("inactive_xml")):
        # QEMU itself failed (stand-in firmware files are not real images):
        # libvirt had finished preparing, its choice is in the log and in
        # the varstore it created
        s = firmware_slice(r["inactive_xml"])
        sel = r["log_selection"]
        # what libvirt 9.0 never changes at start unless a descriptor is
        # selected (qemuFirmwareFillDomain / qemuFirmwareEnableFeatures)
        fields = {"loader.path", "loader.type", "loader.readonly", "loader.secure",
                  "nvram.path", "smm", "kernel"}
        network_nvram = bool(s.get("nvram") and s["nvram"].get("type") == "network")
        if sel.get("loader"):
            s["loader"] = dict(s["loader"] or {})
            s["loader"].update(path=sel["loader"], type="pflash", readonly="yes")
            if sel.get("template") is not None or sel.get("nvram") is not None:
                s["nvram"] = dict(s["nvram"] or {})
                if sel.get("template") is not None:
                    s["nvram"]["template"] = sel["template"]
                    fields.add("nvram.template")
                if sel.get("nvram") is not None and not network_nvram:
                    s["nvram"]["path"] = sel["nvram"]
        if sel.get("rom"):
            s["loader"] = dict(s["loader"] or {})
            s["loader"].update(path=sel["rom"], type="rom")
        if sel.get("kernel"):
            s["kernel"] = sel["kernel"]
        if sel.get("smm_enabled"):
            s["smm"] = "on"
        if sel.get("secure_enabled"):
            s["loader"] = dict(s["loader"] or {})
            s["loader"]["secure"] = "yes"
        r["slice"] = s
        r["slice_source"] = "inactive_xml+log" if sel else "inactive_xml (no descriptor selected)"
        r["slice_fields"] = sorted(fields)
    return r


# ------------------------------------------------------------------ fwsel side
def run_fwsel(args, case, nvram_dir):
    argv = [os.path.abspath(args.fwsel), "--root", case.tree, "--no-qemu-probe"]
    # the daemon's own version, unless the caller or the case names one
    if (args.daemon_version and not any(a.startswith("--libvirt") for a in args.fwsel_arg or [])
            and not case.has_option("--libvirt")):
        argv += ["--libvirt=%s" % args.daemon_version]
    argv += list(args.fwsel_arg or [])
    if nvram_dir and nvram_dir != FWSEL_DEFAULT_NVRAM_DIR:
        argv += ["--nvram-dir", nvram_dir]
    argv += case.options + [SUITES[case.suite], case.name + ".xml"]
    env = dict(os.environ, LC_ALL="C", HOME="/nonexistent", XDG_CONFIG_HOME="/nonexistent")
    for a in case.env:
        k, _, v = a.partition("=")
        env[k] = v
    t0 = time.time()
    p = subprocess.run(argv, cwd=case.suite_dir, capture_output=True, env=env, timeout=60)
    r = {"argv": argv, "exit": p.returncode,
         "stdout": p.stdout.decode("utf-8", "replace"),
         "stderr": p.stderr.decode("utf-8", "replace"),
         "seconds": round(time.time() - t0, 3)}
    if p.returncode == 0 and r["stdout"].strip():
        try:
            r["slice"] = firmware_slice(r["stdout"])
        except ET.ParseError as e:
            r["error"] = "output does not parse: %s" % e
    else:
        r["error"] = "exit %d: %s" % (p.returncode, r["stderr"].strip())
    return r


# ------------------------------------------------------------------ verdicts
def libvirt_model(version):
    """The libvirt behaviour fwsel models for VERSION ("9.0.0", "11.3")."""
    m = re.match(r"(\d+)\.(\d+)", version or "")
    if not m:
        return None
    v = (int(m.group(1)), int(m.group(2)))
    return "9.0" if v < (9, 2) else "11.3" if v < (11, 8) else "11.8"


def case_option_value(case, opt):
    for o in case.options:
        if o.startswith(opt + "="):
            return o[len(opt) + 1:]
    return None


def pre_skip_reason(case, daemon_version=None):
    policy = case_option_value(case, "--policy")
    if policy and policy != "libvirt":
        return "fwsel's own %s policy (--policy=%s): not libvirt's answer" % (policy, policy)
    wanted = case_option_value(case, "--libvirt")
    if wanted and daemon_version and libvirt_model(wanted) != libvirt_model(daemon_version):
        return "answers as libvirt %s (--libvirt=%s), the daemon is %s" % (
            wanted, wanted, daemon_version)
    if case.tree is None:
        return "empty .host file"
    if not os.path.isdir(case.tree):
        return "host tree %s does not exist" % case.tree
    if case.has_option("--session"):
        return "session daemon (--session) not run by this harness"
    if case.env:
        return "case sets environment (%s): only a session daemon would read it" % ", ".join(case.env)
    return None


def verdict(case, d, f, known_machines):
    """('agree'|'differ'|'skip', reason or None, diffs, notes)."""
    notes = []
    aliases = case.machine_aliases()
    if case.machine in aliases and case.arch and known_machines.get(case.arch) is not None:
        real = known_machines[case.arch]
        if case.machine not in real:
            return ("skip", "machine alias %s=%s is emulated by virt-fwsel only: the real QEMU has no machine %r"
                    % (case.machine, aliases[case.machine], case.machine), [], notes)
        if real[case.machine] != aliases[case.machine]:
            return ("skip", "machine alias %s=%s is emulated by virt-fwsel only: this machine's %s QEMU "
                    "resolves %r to %r" % (case.machine, aliases[case.machine], case.arch,
                                          case.machine, real[case.machine]), [], notes)
    d_err = d.get("error")
    f_err = f.get("error")
    if d.get("repairs"):
        notes.append("the daemon rejected the input (%s); compared after repairing it: %s"
                     % (d["unrepaired"]["error"]["message"], "; ".join(d["repairs"])))
    if d_err and "slice" not in d:
        if f_err:
            notes.append("both refuse: daemon (%s) %s; virt-fwsel %s" % (d_err["phase"], d_err["message"], f_err))
            return ("agree", None, [], notes)
        if d_err["phase"] == "define" and any(re.search(p, d_err["message"]) for p in ENV_DEFINE_ERRORS):
            return ("skip", "daemon rejects the input at define for a reason about this machine's "
                    "emulators, not firmware: %s" % d_err["message"], [], notes)
        if d_err["phase"] == "define" and any(re.search(p, d_err["message"]) for p in HOST_FEATURE_ERRORS):
            sel = d.get("log_selection") or {}
            if (sel.get("loader") or sel.get("rom") or sel.get("kernel")) and not f_err:
                # libvirt selected (its debug log says what) before the
                # validation that needs the hardware failed: compare that
                fsl = (f.get("slice") or {})
                want = {"loader": sel.get("loader") or sel.get("rom"),
                        "template": sel.get("template") or None,
                        "kernel": sel.get("kernel")}
                got = {"loader": (fsl.get("loader") or {}).get("path"),
                       "template": (fsl.get("nvram") or {}).get("template"),
                       "kernel": fsl.get("kernel")}
                notes.append("the daemon failed after selecting (%s); compared with the selection "
                             "its debug log shows: %s" % (d_err["message"], sel.get("description")))
                diffs = [{"field": "log:" + k, "daemon": want[k], "fwsel": got[k]}
                         for k in want if (want[k] or None) != (got[k] or None)]
                return ("differ" if diffs else "agree", None, diffs, notes)
            return ("skip", "daemon rejects the input at define because this machine lacks the "
                    "hardware feature: %s" % d_err["message"], [], notes)
        if d_err["phase"] == "define" and any(re.search(p, d_err["message"]) for p, _ in REPAIRS):
            return ("skip", "daemon rejects the input at define for a reason unrelated to firmware "
                    "(repair did not help): %s" % d_err["message"], [], notes)
        return ("differ", None, [{"field": "outcome", "daemon": "%s error: %s" % (d_err["phase"], d_err["message"]),
                                  "fwsel": "selected"}], notes)
    if f_err:
        return ("differ", None, [{"field": "outcome", "daemon": "selected (%s)" % d.get("slice_source"),
                                  "fwsel": f_err}], notes)
    ds, fs = d["slice"], f["slice"]
    if case.has_option("--nvram-dir"):
        # libvirt's varstore directory is not configurable: compare names only
        for s in (ds, fs):
            if s.get("nvram") and s["nvram"].get("path"):
                s["nvram"] = dict(s["nvram"], path="<nvram-dir>/" + os.path.basename(s["nvram"]["path"]))
        notes.append("case sets --nvram-dir; nvram paths compared by file name only")
    fields = d.get("slice_fields")
    if fields is not None:
        notes.append("%s did not start (%s); compared only the definition and what the log shows: %s"
                     % ("QEMU" if d["error"].get("by") == "qemu" else "the domain",
                        d["error"]["message"], ", ".join(fields)))
    diffs = compare(ds, fs, fields)
    # the varstore libvirt created is a copy of its template: check that
    # virt-fwsel's template has the same bytes (stand-in files differ)
    fnv = fs.get("nvram") or {}
    for nf in d.get("nvram_files", []):
        if fnv.get("path") == nf["path"] and fnv.get("template"):
            real = resolve_in_tree(case.tree, fnv["template"])
            if real is None or file_digest(real) != nf["sha256"]:
                diffs.append({"field": "nvram.template(content)",
                              "daemon": "varstore %s is a copy of %s" % (nf["path"], ", ".join(nf["copy_of"]) or "?"),
                              "fwsel": fnv["template"]})
            else:
                notes.append("varstore created by the daemon has the bytes of virt-fwsel's template %s"
                             % fnv["template"])
    return ("differ" if diffs else "agree", None, diffs, notes)


def missing_in_tree(tree, s):
    out = []
    if not s:
        return out
    for p in [(s.get("loader") or {}).get("path"), (s.get("nvram") or {}).get("template"), s.get("kernel")]:
        if p and p.startswith("/") and not os.path.lexists(os.path.join(tree, p.lstrip("/"))):
            out.append(p)
    return out


# ------------------------------------------------------------------ main
def tap_comment(items):
    for item in items:
        for line in str(item).splitlines():
            print("# " + line)


def known_machines_of(host):
    caps = host.virsh("capabilities", timeout=600).stdout
    out = {}
    try:
        root = ET.fromstring(caps)
    except ET.ParseError:
        return out
    for g in root.findall("guest"):
        arch = g.find("arch")
        if arch is None:
            continue
        names = out.setdefault(arch.get("name"), {})
        for m in arch.iter("machine"):
            if m.text:
                names[m.text.strip()] = m.get("canonical") or m.text.strip()
            if m.get("canonical"):
                names.setdefault(m.get("canonical"), m.get("canonical"))
    return out


def ensure_emulators(cases, install):
    need = {}
    for c in cases:
        if c.arch in EMULATOR_BINARY and not os.path.exists("/usr/bin/" + EMULATOR_BINARY[c.arch]):
            need.setdefault(EMULATOR_PACKAGES[c.arch], []).append(c.name)
    if not need:
        return []
    if not install:
        say("missing emulators for: %s" % json.dumps(need))
        return []
    pkgs = sorted(need)
    say("installing %s (apt-get, --no-install-recommends)" % " ".join(pkgs))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + pkgs,
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return pkgs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", required=True, help="debian-9.0 or prefix:PATH")
    ap.add_argument("--fwsel", required=True, help="the virt-fwsel binary")
    ap.add_argument("--fwsel-arg", action="append", default=[],
                    help="extra virt-fwsel option (repeatable), e.g. --fwsel-arg=--libvirt=9.0")
    ap.add_argument("--data", required=True, help="the tests-data directory")
    ap.add_argument("--suite", default="xml2xml", choices=sorted(SUITES))
    ap.add_argument("--cases", help="shell glob(s) of case names, comma-separated")
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--tap", action="store_true", help="TAP output on stdout")
    ap.add_argument("--select-at", choices=["auto", "define", "start"], default="auto",
                    help="when the daemon selects firmware (auto: start before libvirt 9.2)")
    ap.add_argument("--behaves-as", metavar="VERSION",
                    help="take the daemon for this libvirt version (which cases apply, what "
                         "virt-fwsel is asked for, when it selects), e.g. 11.3 for libvirt "
                         "9.0.0 with patches/libvirt-9.0.0")
    ap.add_argument("--workdir", default=testhost.DEFAULT_WORKDIR)
    ap.add_argument("--host-name", default="diff-%d" % os.getpid())
    ap.add_argument("--keep-host", action="store_true", help="keep the host directory (debugging)")
    ap.add_argument("--no-repair", action="store_true",
                    help="do not repair inputs the daemon rejects for reasons unrelated to firmware")
    ap.add_argument("--no-install", action="store_true",
                    help="do not apt-get install missing qemu-system-* emulators")
    args = ap.parse_args()

    if os.geteuid() != 0:
        ap.error("must run as root (namespaces, mounts, a privileged daemon)")
    testhost.install_signal_handlers()
    t_all = time.time()
    phases = {}
    data = os.path.abspath(args.data)
    spec = DaemonSpec.parse(args.daemon)
    version = spec.version
    if args.behaves_as:
        say("differential: daemon %s (libvirt %s) taken for libvirt %s" % (spec.name, version, args.behaves_as))
        version = args.behaves_as
    args.daemon_version = version if re.match(r"\d+\.\d+", version or "") else None
    mode = args.select_at
    if mode == "auto":
        v = tuple(int(x) for x in version.split(".")[:2]) if re.match(r"\d+\.\d+", version) else (0, 0)
        mode = "start" if v < (9, 2) else "define"
    cases = load_cases(data, args.suite, args.cases)
    say("differential: %d cases of %s; daemon %s (libvirt %s, selection at %s); virt-fwsel %s"
        % (len(cases), args.suite, spec.name, version, mode, args.fwsel))
    installed = ensure_emulators(cases, not args.no_install)

    results = {c.name: {"name": c.name, "suite": c.suite, "tree": c.tree_name,
                        "options": c.options, "env": c.env} for c in cases}
    todo = []
    for c in cases:
        reason = pre_skip_reason(c, version)
        results[c.name]["skip_reason"] = reason
        if reason is None or c.tree and os.path.isdir(c.tree):
            todo.append(c)

    # fwsel first: needs no daemon
    t = time.time()
    for c in cases:
        if c.tree and os.path.isdir(c.tree):
            results[c.name]["fwsel"] = run_fwsel(args, c, spec.nvram_dir)
    phases["virt-fwsel runs"] = time.time() - t
    say("phase virt-fwsel runs: %.1f s" % phases["virt-fwsel runs"])

    trees = {}
    for c in todo:
        trees.setdefault(c.tree, []).append(c)
    switches = []
    known_machines = {}
    host = TestHost(args.host_name, spec, workdir=args.workdir, netns="private",
                    keep=args.keep_host)
    t = time.time()
    try:
        host.start()
        phases["host setup"] = time.time() - t
        say("phase host setup: %.1f s (namespace %.1f s, daemons %.1f s)" % (
            phases["host setup"], host.timings.get("namespace", 0), host.timings.get("daemons", 0)))
        t = time.time()
        host.warm_up()
        known_machines = known_machines_of(host)
        phases["capabilities"] = time.time() - t
        say("phase capabilities: %.1f s" % phases["capabilities"])
        t = time.time()
        files_dir = host.hpath("files")
        for tree in sorted(trees):
            ts = time.time()
            info = host.switch_tree(tree)
            info["seconds"] = round(time.time() - ts, 3)
            info["cases"] = [c.name for c in trees[tree]]
            info["daemon_sees"] = {p: host.run(["ls", "-A", p]).stdout.split()
                                   for p in (spec.fw_data_dir, spec.fw_sysconf_dir)}
            switches.append(info)
            say("tree %s: %d cases%s" % (os.path.basename(tree), len(trees[tree]),
                                         " (daemon restarted: qemu.conf nvram changed)" if info["restarted"] else ""))
            for c in trees[tree]:
                try:
                    d = run_daemon_case(host, c, mode, files_dir, repairs=not args.no_repair)
                except Exception as e:  # a harness problem must show, not stop the run
                    d = {"error": {"phase": "harness", "message": "%s: %s" % (type(e).__name__, e)}}
                d["missing_in_tree"] = missing_in_tree(c.tree, d.get("slice"))
                results[c.name]["daemon"] = d
        phases["daemon runs"] = time.time() - t
        say("phase daemon runs: %.1f s" % phases["daemon runs"])
    finally:
        t = time.time()
        ns = host.ns
        host.stop()
        phases["teardown"] = time.time() - t
        say("phase teardown: %.1f s" % phases["teardown"])
        if ns and testhost.pids_in_mnt_ns(ns):
            say("WARNING: processes left in the test host's namespace: %s" % testhost.pids_in_mnt_ns(ns))

    # verdicts
    counts = {"agree": [], "differ": [], "skip": []}
    for c in cases:
        r = results[c.name]
        if r.get("skip_reason"):
            v, reason, diffs, notes = "skip", r["skip_reason"], [], []
        elif "daemon" not in r or "fwsel" not in r:
            v, reason, diffs, notes = "skip", "not run", [], []
        elif r["daemon"].get("error", {}).get("phase") == "harness":
            v, reason, diffs, notes = "differ", None, [{"field": "harness", "daemon": r["daemon"]["error"]["message"],
                                                        "fwsel": None}], []
        else:
            v, reason, diffs, notes = verdict(c, r["daemon"], r["fwsel"], known_machines)
        r.update(verdict=v, reason=reason, diffs=diffs, notes=notes)
        counts[v].append(c.name)

    # TAP
    if args.tap:
        print("1..%d" % len(cases))
        for i, c in enumerate(cases, 1):
            r = results[c.name]
            label = "%s/%s" % (c.suite, c.name)
            if r["verdict"] == "skip":
                print("ok %d - %s # SKIP %s" % (i, label, r["reason"]))
            elif r["verdict"] == "agree":
                print("ok %d - %s" % (i, label))
                tap_comment(["note: " + n for n in r["notes"]])
            else:
                print("not ok %d - %s" % (i, label))
                tap_comment(["  %-22s daemon=%s  fwsel=%s" % (dd["field"], json.dumps(dd["daemon"]),
                                                            json.dumps(dd["fwsel"]))
                             for dd in r["diffs"]])
                tap_comment(["note: " + n for n in r["notes"]])
        sys.stdout.flush()

    phases["total"] = time.time() - t_all
    out = sys.stdout if not args.tap else sys.stderr
    pre = "" if not args.tap else "# "
    lines = []
    lines.append("summary: daemon %s (libvirt %s, selection at %s), suite %s"
                 % (spec.name, version, mode, args.suite))
    lines.append("  cases   %d" % len(cases))
    both_refuse = [n for n in counts["agree"] if any(x.startswith("both refuse") for x in results[n]["notes"])]
    partial = [n for n in counts["agree"] if results[n].get("daemon", {}).get("slice_fields")]
    lines.append("  agree   %d (both refuse the input: %d; compared on definition + log only: %d)"
                 % (len(counts["agree"]), len(both_refuse), len(partial)))
    lines.append("  differ  %d%s" % (len(counts["differ"]),
                                     (": " + " ".join(counts["differ"])) if counts["differ"] else ""))
    lines.append("  skipped %d" % len(counts["skip"]))
    for n in counts["skip"]:
        lines.append("    %-34s %s" % (n, results[n]["reason"]))
    lines.append("phase times:")
    for k, v in phases.items():
        lines.append("  %-16s %7.1f s" % (k, v))
    for l in lines:
        print(pre + l, file=sys.stdout if args.tap else out)

    if args.json:
        doc = {
            "daemon": {"spec": args.daemon, "name": spec.name, "version": version, "mode": mode,
                       "real_version": spec.version,
                       "program": spec.daemon, "virsh": spec.virsh,
                       "nvram_dir": spec.nvram_dir, "qemu_conf": testhost.BASE_QEMU_CONF,
                       "log_filters": host.log_filters,
                       "fw_data_dir": spec.fw_data_dir, "fw_sysconf_dir": spec.fw_sysconf_dir},
            "fwsel": {"path": os.path.abspath(args.fwsel), "extra_args": args.fwsel_arg},
            "data": data, "suite": args.suite,
            "emulator_packages_installed": installed,
            "known_machines": known_machines,
            "tree_switches": switches,
            "phases": {k: round(v, 2) for k, v in phases.items()},
            "summary": dict(counts, agree_both_refuse=both_refuse, agree_partial=partial),
            "cases": [results[c.name] for c in cases],
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
        say("results: %s" % args.json)
    return 1 if counts["differ"] else 0


if __name__ == "__main__":
    sys.exit(main())
