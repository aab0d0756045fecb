#!/usr/bin/env python3
"""Compare two real libvirt daemons on the golden inputs.

  tests/daemon-compare.py A.json B.json [--ignore FIELD ...] [--json OUT]

A.json and B.json are results of tests/differential.py (--json) for two
daemons on the same suite, e.g. libvirt 11.3.0 and libvirt 9.0.0 with
patches/libvirt-9.0.0 (run with --behaves-as 11.3).  For every case both
daemons ran, their answers are reduced to the firmware slice (as
differential.py does) and compared field by field:

* varstore paths are compared below each daemon's own NVRAM directory
  (each daemon has its own prefix);
* fields named with --ignore are left out; by default the ``format``
  attributes (loader.format, nvram.format, nvram.templateFormat), which
  libvirt has only since 9.2;
* both refusing the input is agreement (both messages are listed);
* a case one daemon did not run is listed as "not comparable", and so is
  a difference on an input daemon B cannot express: with --express-format
  no (the default), an input whose <loader> or <nvram> carries a format
  attribute (libvirt < 9.2 has none and ignores it, so the input asks it
  for something else), and a difference where daemon A selected a build in
  a flash format daemon B cannot run (--b-formats, default raw: libvirt
  9.0's QEMU driver uses pflash images as raw).

Prints agree / differ / not comparable counts and every difference; exit
status 0 when no case differs.
"""

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from differential import flatten  # noqa: E402

DEFAULT_IGNORE = ["loader.format", "nvram.format", "nvram.templateFormat"]


def load(path):
    with open(path) as f:
        doc = json.load(f)
    cases = {c["name"]: c for c in doc["cases"]}
    return doc, cases


def uses_format(doc, case):
    """Does the case's input give <loader> or <nvram> a format?"""
    path = os.path.join(doc["data"], case.get("suite", "xml2xml"), case["name"] + ".xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return False
    for el in root.findall("os/loader") + root.findall("os/nvram"):
        if el.get("format") or el.get("templateFormat"):
            return True
    return False


def answer(doc, case):
    """('slice', flat) or ('error', message) or (None, reason)."""
    d = case.get("daemon")
    if d is None:
        return None, case.get("skip_reason") or "not run"
    if "slice" in d:
        flat = flatten(d["slice"])
        nvdir = doc["daemon"]["nvram_dir"].rstrip("/") + "/"
        for k, v in list(flat.items()):
            if isinstance(v, str) and v.startswith(nvdir):
                flat[k] = "<nvram dir>/" + v[len(nvdir):]
        return "slice", flat
    err = d.get("error") or {}
    return "error", "%s: %s" % (err.get("phase"), err.get("message"))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--ignore", action="append", default=None,
                    help="a field not to compare (repeatable; default: the format attributes)")
    ap.add_argument("--json", help="write the comparison here")
    ap.add_argument("--b-formats", default="raw",
                    help="comma-separated flash formats daemon B can run (default raw): a "
                         "difference where A selected a build of another format is not comparable")
    ap.add_argument("--express-format", choices=["yes", "no"], default="no",
                    help="whether daemon B knows the format attributes of <loader> and <nvram> "
                         "(no: inputs using them are not comparable)")
    args = ap.parse_args()
    ignore = DEFAULT_IGNORE if args.ignore is None else args.ignore

    adoc, acases = load(args.a)
    bdoc, bcases = load(args.b)
    an = "%s (%s)" % (adoc["daemon"]["name"], adoc["daemon"].get("real_version", adoc["daemon"]["version"]))
    bn = "%s (%s)" % (bdoc["daemon"]["name"], bdoc["daemon"].get("real_version", bdoc["daemon"]["version"]))

    rows = []
    for name in sorted(set(acases) | set(bcases)):
        ak, av = answer(adoc, acases[name]) if name in acases else (None, "not in %s" % args.a)
        bk, bv = answer(bdoc, bcases[name]) if name in bcases else (None, "not in %s" % args.b)
        row = {"name": name, "a": [ak, av], "b": [bk, bv]}
        if ak is None or bk is None:
            row["verdict"] = "not comparable"
            row["reason"] = "; ".join(x for x in (av if ak is None else None,
                                                  bv if bk is None else None) if x)
        elif ak == "error" and bk == "error":
            row["verdict"] = "agree"
            row["note"] = "both refuse: %s | %s" % (av, bv)
        elif ak != bk:
            row["verdict"] = "differ"
            row["diffs"] = [{"field": "answer", "a": av if ak == "error" else "selected",
                             "b": bv if bk == "error" else "selected"}]
        else:
            diffs = []
            for k in sorted(set(av) | set(bv)):
                if k in ignore:
                    continue
                if av.get(k) != bv.get(k):
                    diffs.append({"field": k, "a": av.get(k), "b": bv.get(k)})
            row["verdict"] = "differ" if diffs else "agree"
            if diffs:
                row["diffs"] = diffs
        a_formats = sorted({av.get(k) for k in ("loader.format", "nvram.format", "nvram.templateFormat")
                            if ak == "slice" and av.get(k)} - set(args.b_formats.split(",")))
        if row["verdict"] == "differ" and a_formats:
            row["verdict"] = "not comparable"
            row["reason"] = ("daemon A selected a %s build, which daemon B cannot run "
                             "(differences: %s)" % ("/".join(a_formats),
                                                    ", ".join(d["field"] for d in row["diffs"])))
        elif (row["verdict"] == "differ" and args.express_format == "no" and
                name in acases and uses_format(adoc, acases[name])):
            row["verdict"] = "not comparable"
            row["reason"] = ("the input gives <loader>/<nvram> a format, which daemon B does not know "
                             "(differences: %s)" % ", ".join(d["field"] for d in row["diffs"]))
        rows.append(row)

    counts = {}
    for r in rows:
        counts.setdefault(r["verdict"], []).append(r["name"])
    print("daemon A: %s   daemon B: %s   ignored fields: %s" % (an, bn, ", ".join(ignore) or "none"))
    print("  cases            %d" % len(rows))
    both = [r["name"] for r in rows if r["verdict"] == "agree" and "note" in r]
    print("  agree            %d (both refuse: %d)" % (len(counts.get("agree", [])), len(both)))
    print("  differ           %d" % len(counts.get("differ", [])))
    print("  not comparable   %d" % len(counts.get("not comparable", [])))
    for r in rows:
        if r["verdict"] == "differ":
            print("DIFFER %s" % r["name"])
            for d in r["diffs"]:
                print("    %-24s A=%s  B=%s" % (d["field"], json.dumps(d["a"]), json.dumps(d["b"])))
    for r in rows:
        if r["verdict"] == "not comparable":
            print("not comparable %-34s %s" % (r["name"], r["reason"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"a": args.a, "b": args.b, "ignore": ignore, "cases": rows}, f, indent=1)
    return 1 if counts.get("differ") else 0


if __name__ == "__main__":
    sys.exit(main())
