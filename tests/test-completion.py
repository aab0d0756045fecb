#!/usr/bin/env python3
"""bash completion of virt-fwsel (src/cli/virt-fwsel.bash-completion).

Each case sets COMP_WORDS and COMP_CWORD as bash does, calls the
completion function in a bash that sourced bash-completion and the
script, and compares COMPREPLY.  Commands, options and nvram actions must
be those 'virt-fwsel --help' lists; domain names come from a stand-in
virsh that records the URI it was asked about.  Skips (exit 77) when the
bash-completion package is not installed.

test-completion.py --fwsel BUILD/src/cli/virt-fwsel --script FILE
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(args, words, cwd, env):
    line = " ".join(words)
    script = """
source %s
source %s
COMP_WORDS=(%s)
COMP_CWORD=%d
COMP_LINE=%s
COMP_POINT=${#COMP_LINE}
_virt_fwsel
printf '%%s\\n' "${COMPREPLY[@]}"
""" % (shlex.quote(BASH_COMPLETION), shlex.quote(args.script),
       " ".join(shlex.quote(w) for w in words), len(words) - 1, shlex.quote(line))
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError("bash failed: %s" % out.stderr)
    return sorted(w for w in out.stdout.split("\n") if w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fwsel", required=True)
    ap.add_argument("--script", required=True)
    args = ap.parse_args()
    args.fwsel = os.path.abspath(args.fwsel)
    args.script = os.path.abspath(args.script)
    if not os.path.exists(BASH_COMPLETION):
        print("1..0 # SKIP bash-completion is not installed")
        return 0

    help_text = subprocess.run([args.fwsel, "--help"], capture_output=True, text=True).stdout
    commands = re.findall(r"^  ([a-z][a-z-]*)\b", help_text.split("Commands:")[1], re.M)
    options = sorted(set(re.findall(r"^  (?:-[a-zA-Z], )?(--[a-z][a-z-]*=?)",
                                    help_text.split("Commands:")[0], re.M)))
    summary = re.search(r"OP is (.*)$", help_text, re.M).group(1)
    ops = summary.split(";")[0].replace(" or ", ", ").split(", ")
    ops += re.findall(r"nvram ([a-z][a-z-]*):", summary)

    with tempfile.TemporaryDirectory(prefix="fwsel-completion-") as tmp:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        record = os.path.join(tmp, "virsh-args")
        with open(os.path.join(bindir, "virsh"), "w") as f:
            f.write("#!/bin/sh\necho \"$*\" > %s\nprintf 'guest-a\\nguest-b\\nother\\n'\n"
                    % shlex.quote(record))
        os.chmod(os.path.join(bindir, "virsh"), 0o755)
        env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", ""))
        work = os.path.join(tmp, "work")
        os.makedirs(os.path.join(work, "sub"))
        for name in ("a.xml", "b.txt"):
            open(os.path.join(work, name), "w").close()
        fw = args.fwsel

        cases = [
            ("commands", [fw, ""], sorted(commands)),
            ("options", [fw, "--"], options),
            ("one option", [fw, "--ro"], ["--root="]),
            ("nvram actions", [fw, "nvram", ""], sorted(ops)),
            ("nvram file", [fw, "--backup", "nvram", "reset", ""], ["a.xml", "sub"]),
            ("select file", [fw, "--root", "/", "select", ""], ["a.xml", "sub"]),
            ("after the file", [fw, "select", "a.xml", ""], []),
            ("preserve, second file", [fw, "preserve", "a.xml", ""], ["a.xml", "sub"]),
            ("--policy", [fw, "--policy", ""], ["libvirt", "safe"]),
            ("--libvirt", [fw, "--libvirt", "1"], ["11.3", "11.8"]),
            ("--connect", [fw, "-c", "qemu:///s"], ["qemu:///session", "qemu:///system"]),
            ("domains", [fw, "-c", "test:///default", "drift", "g"], ["guest-a", "guest-b"]),
            ("domains, default URI", [fw, "--json", "redefine", ""],
             ["guest-a", "guest-b", "other"]),
        ]
        print("1..%d" % (len(cases) + 2))
        ok = True
        n = 0
        for name, words, want in cases:
            n += 1
            got = complete(args, words, work, env)
            good = got == want
            print("%s %d - %s" % ("ok" if good else "not ok", n, name))
            if not good:
                print("# words %r: got %r, want %r" % (words, got, want))
            ok &= good
            if name == "domains":
                uri = open(record).read().strip()
                n += 1
                good = "-c test:///default" in uri
                print("%s %d - virsh asked about the URI given (%s)" %
                      ("ok" if good else "not ok", n, uri))
                ok &= good
        n += 1
        good = len(commands) >= 10 and "--root=" in options and "inspect" in ops
        print("%s %d - --help lists %d commands, %d options, %d nvram actions" %
              ("ok" if good else "not ok", n, len(commands), len(options), len(ops)))
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
