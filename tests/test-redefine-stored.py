#!/usr/bin/env python3
"""virt-fwsel redefine on Debian's libvirt 9.0.0 of a persistent definition
in the stored-selection form (firmware='efi' with the selected loader and
template, as libvirt >= 9.2 and the patched 9.0.0 of patches/libvirt-9.0.0
store it).  9.0.0 loads such a definition from its configuration directory
(it arrives so with `virsh migrate --persistent` from a patched daemon, or
stays behind when a patched daemon is replaced by Debian's) but refuses to
start it; redefine must pin the same files so that it starts.

One test host (tests/testhost.py) with Debian's daemon; the definitions
are written into its configuration directory before the daemon starts.
Root only; skips elsewhere unless FWSEL_LIVE_REQUIRED=1.  TAP.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testhost  # noqa: E402
from testhost import DaemonSpec, TestHost  # noqa: E402

NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"

DOMAIN = """<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <firmware>
{features}    </firmware>
    <loader readonly='yes' type='pflash'>{code}</loader>
    <nvram template='{vars}'>{nvram_dir}/{name}_VARS.fd</nvram>
  </os>
  <features>
    <acpi/>
  </features>
  <devices/>
</domain>
"""

# (name, features, code, template): what the patched daemon stores for
# the requests of the migration suite
CASES = (
    ("fwsel-stored-nosb",
     "      <feature enabled='no' name='enrolled-keys'/>\n"
     "      <feature enabled='no' name='secure-boot'/>\n",
     "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("fwsel-stored-sb",
     "      <feature enabled='yes' name='enrolled-keys'/>\n"
     "      <feature enabled='yes' name='secure-boot'/>\n",
     "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"),
)


class StoredHost(TestHost):
    """A test host whose configuration directory has the stored
    definitions before the daemon starts (it reads them then)"""

    def _write_configs(self):
        super()._write_configs()
        qemu_dir = os.path.join(self.conf_dir, "qemu")
        os.makedirs(qemu_dir, exist_ok=True)
        for i, (name, features, code, vars_) in enumerate(CASES):
            with open(os.path.join(qemu_dir, name + ".xml"), "w") as f:
                f.write(DOMAIN.format(name=name,
                                      uuid="8f1e2d3c-4b5a-4968-8776-5a4b3c2d1e%02x" % i,
                                      features=features, code=code, vars=vars_,
                                      nvram_dir=NVRAM_DIR))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--workdir", default=testhost.DEFAULT_WORKDIR)
    args = ap.parse_args()
    fwsel = os.path.abspath(args.fwsel)

    if os.geteuid() != 0 or not os.access("/usr/sbin/libvirtd", os.X_OK):
        if os.environ.get("FWSEL_LIVE_REQUIRED") == "1":
            print("1..1\nnot ok 1 - needs root and Debian's libvirtd")
            return 1
        print("1..0 # SKIP needs root and Debian's libvirtd")
        return 0

    lock, refuse = testhost.lock_system_libvirt()
    if refuse:
        print("1..1\nnot ok 1 - the system's libvirt is Debian's\n# " + refuse)
        return 1
    testhost.install_signal_handlers()
    n = failed = 0

    def result(ok, what, detail=""):
        nonlocal n, failed
        n += 1
        failed += 0 if ok else 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what), flush=True)
        for line in (detail or "").splitlines():
            print("# " + line, flush=True)
        return ok

    h = StoredHost("fwsel-redef", DaemonSpec.parse("debian-9.0"), workdir=args.workdir,
                   netns="private")
    try:
        h.start()
        for name, _features, code, vars_ in CASES:
            listed = h.virsh("dominfo", name)
            if not result(listed.returncode == 0, "%s: Debian's 9.0.0 loads the stored "
                          "definition" % name, listed.stderr):
                continue
            refused = h.virsh("start", name)
            result(refused.returncode != 0, "%s: and refuses to start it" % name,
                   (refused.stderr or refused.stdout).strip())
            out = h.run([fwsel, "redefine", name])
            result(out.returncode == 0, "%s: virt-fwsel redefine" % name,
                   out.stdout + out.stderr)
            xml = h.virsh("dumpxml", "--inactive", name).stdout
            os_attrs = re.search(r"<os\b([^>]*)>", xml).group(1)
            loader = re.search(r"<loader[^>]*>([^<]*)</loader>", xml)
            tmpl = re.search(r"<nvram[^>]*template='([^']*)'", xml)
            ok = ("firmware=" not in os_attrs and loader and loader.group(1) == code and
                  tmpl and tmpl.group(1) == vars_)
            result(ok, "%s: pinned: no firmware=, loader %s, template %s" % (
                name, loader and loader.group(1), tmpl and tmpl.group(1)), xml if not ok else "")
            started = h.virsh("start", "--paused", name)
            result(started.returncode == 0, "%s: starts" % name,
                   (started.stderr or started.stdout).strip())
            h.virsh("destroy", name)
    finally:
        h.stop()
    print("1..%d" % n)
    if lock:
        lock.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
