#!/usr/bin/env python3
"""Golden-file harness for virt-fwsel, TAP output for meson.

A case is a set of plain files in a suite directory of tests-data/:

  NAME.host      line 1: the host tree (a directory under tests-data/hosts)
                 more lines: extra virt-fwsel options, one per line, or
                 "env NAME=VALUE" to set a variable (HOME and
                 XDG_CONFIG_HOME are /nonexistent unless set so)
  NAME.xml       the input domain (for suites whose command takes one)
  NAME.existing.xml  a second input, given before NAME.xml (preserve: the
                 domain's current definition; NAME.xml is the new one)
  NAME.out.xml   expected stdout (suites producing XML), or
  NAME.out       expected stdout (text suites)
  NAME.args      expected stdout of argv: one QEMU argument per line
  NAME.err       expected stderr; its first line is "exit N"

A case with no .err must exit 0 with empty stderr.  A case with no
.out/.out.xml must print nothing on stdout.

Suites and the command they run:
"""

import argparse
import os
import subprocess
import sys

SUITES = {
    # suite dir: (command, input file suffixes (NAME + suffix), output extension)
    "xml2xml": ("select", (".xml",), ".out.xml"),
    "explain": ("explain", (".xml",), ".out"),
    "list": ("list", (), ".out"),
    "check": ("check", (), ".out"),
    "xml2argv": ("argv", (".xml",), ".args"),
    "preserve": ("preserve", (".existing.xml", ".xml"), ".out.xml"),
    "migrate": ("migrate-xml", (".xml",), ".out.xml"),
    # every domain of the host tree's /etc/libvirt/qemu (offline: --root)
    "audit": ("nvram audit", (), ".out"),
}

__doc__ += "".join("  %-10s virt-fwsel %s\n" % (k, v[0]) for k, v in SUITES.items())


VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "-q"]


def read(path):
    # newline="": compare line ends exactly (a case may use CR LF)
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def cases(suite_dir):
    return sorted(f[:-len(".host")] for f in os.listdir(suite_dir)
                  if f.endswith(".host"))


def run_case(fwsel, data, suite, name, regenerate):
    command, inputs, out_ext = SUITES[suite]
    suite_dir = os.path.join(data, suite)
    host_lines = [l.strip() for l in read(os.path.join(suite_dir, name + ".host")).splitlines()]
    host_lines = [l for l in host_lines if l and not l.startswith("#")]
    if not host_lines:
        return "empty .host file"
    root = os.path.abspath(os.path.join(data, "hosts", host_lines[0]))
    if not os.path.isdir(root):
        return "host tree %s does not exist" % root

    options = [l for l in host_lines[1:] if not l.startswith("env ")]
    assignments = [l[4:].strip() for l in host_lines[1:] if l.startswith("env ")]

    argv = [os.path.abspath(fwsel), "--root", root, "--no-qemu-probe"] + options + command.split()
    argv += [name + suffix for suffix in inputs]

    env = dict(os.environ, LC_ALL="C", HOME="/nonexistent", XDG_CONFIG_HOME="/nonexistent")
    for assignment in assignments:
        var, _, value = assignment.partition("=")
        env[var] = value
    timeout = 60
    if os.environ.get("FWSEL_VALGRIND") == "1":
        # meson test --setup valgrind: memcheck errors or definite leaks
        # give exit 99 and a report on stderr, both of which fail the case
        argv = VALGRIND + argv
        timeout = 600
    proc = subprocess.run(argv, cwd=suite_dir, capture_output=True, env=env,
                          timeout=timeout)
    stdout = proc.stdout.decode("utf-8", "replace").replace(os.path.abspath(data), "@DATA@")
    stderr = proc.stderr.decode("utf-8", "replace").replace(os.path.abspath(data), "@DATA@")

    out_path = os.path.join(suite_dir, name + out_ext)
    err_path = os.path.join(suite_dir, name + ".err")

    if regenerate:
        if stdout:
            with open(out_path, "w", encoding="utf-8") as f:
                f.write(stdout)
        elif os.path.exists(out_path):
            os.unlink(out_path)
        if proc.returncode != 0 or stderr:
            with open(err_path, "w", encoding="utf-8") as f:
                f.write("exit %d\n%s" % (proc.returncode, stderr))
        elif os.path.exists(err_path):
            os.unlink(err_path)
        return None

    problems = []
    want_out = read(out_path) if os.path.exists(out_path) else ""
    if os.path.exists(err_path):
        first, _, want_err = read(err_path).partition("\n")
        if not first.startswith("exit "):
            return "%s: first line must be 'exit N'" % err_path
        want_code = int(first[5:])
    else:
        want_err, want_code = "", 0

    if proc.returncode != want_code:
        problems.append("exit status %d, expected %d" % (proc.returncode, want_code))
    if stdout != want_out:
        problems.append(diff("stdout", want_out, stdout))
    if stderr != want_err:
        problems.append(diff("stderr", want_err, stderr))
    return "\n".join(problems) if problems else None


def diff(what, want, got):
    import difflib
    lines = difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                 "expected " + what, "actual " + what)
    return "".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fwsel", required=True, help="the virt-fwsel binary")
    ap.add_argument("--data", required=True, help="the tests-data directory")
    ap.add_argument("--regenerate", action="store_true",
                    help="rewrite expected files from actual output (review the diff!)")
    ap.add_argument("suites", nargs="*", default=list(SUITES))
    args = ap.parse_args()

    todo = []
    for suite in args.suites:
        suite_dir = os.path.join(args.data, suite)
        if os.path.isdir(suite_dir):
            todo += [(suite, name) for name in cases(suite_dir)]

    print("1..%d" % len(todo))
    failed = 0
    for i, (suite, name) in enumerate(todo, 1):
        try:
            problem = run_case(args.fwsel, args.data, suite, name, args.regenerate)
        except Exception as e:  # a crashing case must fail, not stop the run
            problem = "harness error: %s" % e
        if problem:
            failed += 1
            print("not ok %d - %s/%s" % (i, suite, name))
            for line in problem.splitlines():
                print("# " + line)
        else:
            print("ok %d - %s/%s" % (i, suite, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
