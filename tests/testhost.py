#!/usr/bin/env python3
"""Test hosts: real libvirt daemons in private mount namespaces.

A TestHost is one "machine" for tests that need a real libvirt daemon
(tests/differential.py; later a live-migration suite with several hosts):

* a holder process ("sleep infinity" started by ``unshare --mount
  --propagation private``, optionally with a network namespace of its own)
  keeps a mount namespace alive;
* inside it, private directories are bind-mounted over the daemon's run
  state, state, cache, log and configuration directories (/run,
  /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and a filtered copy
  of /etc/libvirt for Debian's daemon; the same directories under PREFIX for
  a build installed into a prefix), so the daemon never sees or touches the
  system daemon's sockets, domains or state;
* virtlogd and the QEMU daemon (Debian's monolithic libvirtd, or virtqemud
  of a prefix build) are started inside with nsenter, in the foreground,
  as children of this process: they are stopped by PID;
* ``switch_tree(TREE)`` makes a host tree of the project's test data (a
  directory holding usr/share/qemu/firmware/*.json, usr/share/OVMF/*.fd,
  etc/qemu/firmware, etc/libvirt/qemu.conf, opt/..., home/...) appear to the
  daemon at the real absolute paths: overlay mounts TREE/usr/X over /usr/X
  (and TREE/D over /D for other top-level directories such as /opt), the
  tree's usr/share/qemu/firmware (or an empty directory) over
  /usr/share/qemu/firmware and its etc/qemu/firmware (or an empty directory)
  over SYSCONFDIR/qemu/firmware, so no descriptor of the real host leaks in;
  the tree's qemu.conf ``nvram`` list is carried into the daemon's qemu.conf
  (the daemon is restarted only when that changes).

Teardown (``stop()``, also from ``with`` on exceptions, and from SIGTERM /
SIGINT once ``install_signal_handlers()`` was called) stops the daemons by
PID, kills every other process left in the mount namespace (QEMU) by PID,
then the holder; the namespace and all its mounts vanish with its last
process.  The host's directory is removed unless keep=True.  Holder and
daemons get PR_SET_PDEATHSIG so they die with this process even when it is
killed with SIGKILL; QEMU (daemonized by libvirt) can outlive such a kill,
so every TestHost.start() first reaps stale hosts: a host directory whose
state file names a dead holder has the processes left in its recorded mount
namespace killed by PID and is removed (reap_stale_hosts()).

Several hosts can run at once (give each its own name); NetNamespace makes
named network namespaces and veth links between them, and
listen_address= makes a host accept qemu+tcp:// without authentication
(libvirtd --listen for Debian's daemon, virtproxyd for a prefix build).

Example::

    with TestHost("h1", DaemonSpec.parse("debian-9.0")) as h:
        h.switch_tree("/work/main/tests-data/hosts/debian-bookworm")
        print(h.virsh("domcapabilities", "--machine", "q35").stdout)
"""

import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid

DEFAULT_WORKDIR = "/var/tmp/fwsel-daemons"

# qemu.conf settings every test host gets.  Measured on Debian bookworm
# (root, no systemd, no KVM, cgroup v1 + unified mounted) with libvirt 9.0.0
# and 11.3.0: a BIOS and a UEFI (real OVMF) domain start paused with each
# setting left out on its own, so none is needed for QEMU to start here.
# They are kept because:
#   cgroup_controllers=[]  REQUIRED for isolation: without it libvirt creates
#                          /sys/fs/cgroup/*/machine in the machine's global
#                          cgroup hierarchy (seen with 9.0.0)
#   user/group root        QEMU can read and write whatever a test names
#   dynamic_ownership = 0  libvirt does not chown the files a test names
#   remember_owner = 0     ... nor record their owners in xattrs
#   security_driver none   no AppArmor/SELinux labelling (neither is active
#                          here, so "none" is what auto-detection gives too)
#   namespaces = []        no per-VM mount namespace and /dev copy
BASE_QEMU_CONF = {
    "user": '"root"',
    "group": '"root"',
    "dynamic_ownership": "0",
    "remember_owner": "0",
    "security_driver": '"none"',
    "namespaces": "[]",
    "cgroup_controllers": "[]",
}

DEFAULT_LOG_FILTERS = "1:qemu.qemu_firmware 4:*"

_PR_SET_PDEATHSIG = 1
_libc = None


def _set_pdeathsig():
    """preexec_fn: die (SIGKILL) when the process that started us dies."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class TestHostError(RuntimeError):
    pass


def _log(msg):
    sys.stderr.write("testhost: %s\n" % msg)
    sys.stderr.flush()


def _run(argv, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("universal_newlines", True)
    proc = subprocess.run(argv, **kw)
    if check and proc.returncode != 0:
        raise TestHostError("%s: exit %d: %s" % (" ".join(map(shlex.quote, argv)),
                                                 proc.returncode,
                                                 (proc.stderr or proc.stdout or "").strip()))
    return proc


def mnt_ns_of(pid):
    try:
        return os.readlink("/proc/%d/ns/mnt" % pid)
    except OSError:
        return None


def pids_in_mnt_ns(ns):
    """PIDs of all processes whose mount namespace is NS ('mnt:[N]')."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and mnt_ns_of(int(d)) == ns:
            out.append(int(d))
    return sorted(out)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_pids(pids, timeout=10.0):
    """SIGTERM, wait up to TIMEOUT, then SIGKILL; only the given PIDs."""
    pids = [p for p in pids if _pid_alive(p)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = [p for p in pids if _pid_alive(p)]
        if not pids:
            return
        time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 5
    while time.time() < deadline and any(_pid_alive(p) for p in pids):
        time.sleep(0.05)


# ------------------------------------------------------------------ configs
def parse_libvirt_conf(text):
    """Parse libvirt's configuration syntax (KEY = VALUE, VALUE a string,
    a number or a list of strings, '#' comments).  Returns {key: value};
    raises ValueError on a syntax error (as the daemon would refuse it)."""
    pos, n = 0, len(text)
    result = {}

    def skip_ws(nl=True):
        nonlocal pos
        while pos < n:
            c = text[pos]
            if c == "#":
                while pos < n and text[pos] != "\n":
                    pos += 1
            elif c in " \t\r" or (nl and c == "\n"):
                pos += 1
            else:
                break

    def value():
        nonlocal pos
        skip_ws()
        if pos >= n:
            raise ValueError("value expected at end of file")
        c = text[pos]
        if c in "\"'":
            end = text.find(c, pos + 1)
            nl = text.find("\n", pos + 1)
            if end < 0 or (0 <= nl < end):
                raise ValueError("unterminated string at offset %d" % pos)
            s = text[pos + 1:end]
            pos = end + 1
            return s
        if c == "[":
            pos += 1
            items = []
            skip_ws()
            if pos < n and text[pos] == "]":
                pos += 1
                return items
            while True:
                items.append(value())
                skip_ws()
                if pos < n and text[pos] == ",":
                    pos += 1
                    skip_ws()
                    if pos < n and text[pos] == "]":
                        pos += 1
                        return items
                    continue
                if pos < n and text[pos] == "]":
                    pos += 1
                    return items
                raise ValueError("',' or ']' expected at offset %d" % pos)
        m = re.compile(r"[+-]?[0-9]+").match(text, pos)
        if m:
            pos = m.end()
            return int(m.group(0))
        raise ValueError("bad value at offset %d" % pos)

    while True:
        skip_ws()
        if pos >= n:
            return result
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, pos)
        if not m:
            raise ValueError("key expected at offset %d" % pos)
        key = m.group(0)
        pos = m.end()
        skip_ws(nl=False)
        if pos >= n or text[pos] != "=":
            raise ValueError("'=' expected after %s" % key)
        pos += 1
        result[key] = value()
        skip_ws(nl=False)
        if pos < n and text[pos] not in "\n;#":
            raise ValueError("end of line expected after %s" % key)
        if pos < n and text[pos] == ";":
            pos += 1


def format_conf_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(format_conf_value(x) for x in v) + "]"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str) and (v.startswith('"') or v.startswith("[") or re.fullmatch(r"-?\d+", v)):
        return v
    return '"%s"' % v


# ------------------------------------------------------------------ daemons
class DaemonSpec:
    """Where a libvirt installation keeps its programs and directories."""

    def __init__(self, name, kind, prefix=None):
        self.name = name
        self.kind = kind
        self.prefix = prefix
        self.aliases = []        # (path in the prefix, system path it shows)
        self.env = {}            # for the daemons
        if kind == "debian":
            self.sysconfdir = "/etc"
            self.localstatedir = "/var"
            self.runstatedir = "/run"
            self.daemon = "/usr/sbin/libvirtd"
            self.daemon_conf = "libvirtd.conf"
            self.virtlogd = "/usr/sbin/virtlogd"
            self.virsh = "/usr/bin/virsh"
            self.virt_admin = "/usr/bin/virt-admin"
            self.virtproxyd = None
        elif kind == "prefix":
            p = os.path.abspath(prefix)
            self.prefix = p
            self.sysconfdir = p + "/etc"
            self.localstatedir = p + "/var"
            # scripts/libvirt-daemon-build configures -Drunstatedir=PREFIX/var/run:
            # the client library looks for sockets in LOCALSTATEDIR/run
            self.runstatedir = p + "/var/run"
            self.daemon = p + "/sbin/virtqemud"
            self.daemon_conf = "virtqemud.conf"
            self.virtlogd = p + "/sbin/virtlogd"
            self.virsh = p + "/bin/virsh"
            self.virt_admin = p + "/bin/virt-admin"
            self.virtproxyd = p + "/sbin/virtproxyd"
        elif kind == "patched":
            # a prefix build run with Debian's paths: its programs, the
            # system's directories (bind-mounted over the prefix's own
            # inside the host, see aliases), so that domains, varstores
            # and sockets have the paths Debian's daemon gives them and a
            # guest can migrate between the two
            p = os.path.abspath(prefix)
            self.prefix = p
            self.sysconfdir = "/etc"
            self.localstatedir = "/var"
            self.runstatedir = "/run"
            self.daemon = p + "/sbin/libvirtd"
            self.daemon_conf = "libvirtd.conf"
            self.virtlogd = p + "/sbin/virtlogd"
            self.virsh = "/usr/bin/virsh"
            self.virt_admin = "/usr/bin/virt-admin"
            self.virtproxyd = None
            self.aliases = [(p + "/var/run", "/run"),
                            (p + "/var/lib/libvirt", "/var/lib/libvirt"),
                            (p + "/var/cache/libvirt", "/var/cache/libvirt"),
                            (p + "/var/log/libvirt", "/var/log/libvirt"),
                            (p + "/etc/libvirt", "/etc/libvirt")]
            libdirs = [d for d in (p + "/lib/x86_64-linux-gnu", p + "/lib64", p + "/lib")
                       if os.path.isdir(d)]
            self.env = {"LD_LIBRARY_PATH": ":".join(libdirs)}
        else:
            raise ValueError("unknown daemon kind %r" % kind)
        for prog in (self.daemon, self.virtlogd, self.virsh):
            if not os.access(prog, os.X_OK):
                raise TestHostError("%s: no such program (daemon %s)" % (prog, name))
        self.uri = "qemu:///system"
        self.daemon_name = os.path.basename(self.daemon)
        self.nvram_dir = self.localstatedir + "/lib/libvirt/qemu/nvram"
        self.fw_sysconf_dir = self.sysconfdir + "/qemu/firmware"
        self.fw_data_dir = "/usr/share/qemu/firmware"
        self._version = None

    @classmethod
    def parse(cls, text):
        """'debian-9.0' (the installed Debian package), 'prefix:PATH' or
        'patched:PATH' (a prefix of scripts/libvirt-v2-daemon run with
        Debian's paths)."""
        if text in ("debian", "debian-9.0", "system"):
            return cls("debian-9.0", "debian")
        if text.startswith("patched:"):
            return cls("patched-9.0", "patched", text[len("patched:"):])
        if text.startswith("prefix:"):
            path = os.path.abspath(text[len("prefix:"):])
            return cls("prefix-" + re.sub(r"[^A-Za-z0-9.]+", "_", path.strip("/")), "prefix", path)
        raise ValueError("daemon must be debian-9.0 or prefix:PATH, not %r" % text)

    @property
    def version(self):
        if self._version is None:
            out = _run([self.daemon, "--version"], check=False).stdout
            m = re.search(r"(\d+\.\d+\.\d+)", out)
            self._version = m.group(1) if m else "unknown"
        return self._version

    def state_dirs(self):
        """Directories each host gets a private instance of:
        (target, how) with how 'empty', 'skeleton' (the original's
        directories, no files) or 'etc' (filtered copy of the config)."""
        d = [(self.runstatedir, "empty")]
        if self.runstatedir != "/run":
            d.append(("/run", "empty"))
        d += [(self.localstatedir + "/lib/libvirt", "skeleton"),
              (self.localstatedir + "/cache/libvirt", "skeleton"),
              (self.localstatedir + "/log/libvirt", "skeleton"),
              (self.sysconfdir + "/libvirt", "etc")]
        return d


class NetNamespace:
    """A named network namespace (``ip netns add``) for hosts that must talk
    to each other over TCP.  Removes what it created, including the
    /run/netns mount point when ``ip netns add`` made it."""

    _made_run_netns = False   # /run/netns made by one of ours (class-wide)

    def __init__(self, name):
        self.name = name
        self.created = False

    def create(self):
        if not os.path.exists("/run/netns"):
            NetNamespace._made_run_netns = True
        _run(["ip", "netns", "add", self.name])
        self.created = True
        _run(["ip", "-n", self.name, "link", "set", "lo", "up"])
        return self

    def delete(self):
        if self.created:
            _run(["ip", "netns", "del", self.name], check=False)
            self.created = False
        if NetNamespace._made_run_netns and os.path.isdir("/run/netns") and not os.listdir("/run/netns"):
            # ip netns add bind-mounted /run/netns on itself (maybe twice)
            for _ in range(3):
                if _run(["umount", "/run/netns"], check=False).returncode != 0:
                    break
            try:
                os.rmdir("/run/netns")
                NetNamespace._made_run_netns = False
            except OSError:
                pass

    @staticmethod
    def link(ns_a, addr_a, ns_b, addr_b, name="fwsel"):
        """A veth pair between two namespaces, ADDR as 'A.B.C.D/NN'."""
        a, b = name + "-a", name + "-b"
        _run(["ip", "link", "add", a, "netns", ns_a.name, "type", "veth",
              "peer", "name", b, "netns", ns_b.name])
        for ns, dev, addr in ((ns_a, a, addr_a), (ns_b, b, addr_b)):
            _run(["ip", "-n", ns.name, "addr", "add", addr, "dev", dev])
            _run(["ip", "-n", ns.name, "link", "set", dev, "up"])


_ACTIVE = []


def reap_stale_hosts(workdir=DEFAULT_WORKDIR):
    """Clean up after test hosts of earlier runs that were killed (SIGKILL):
    a host directory whose state file names a holder that is gone (or is
    no longer in the recorded namespace) is stale; processes still in its
    mount namespace (QEMU) are killed by PID and the directory removed.
    Hosts of runs still alive are left alone."""
    hosts = os.path.join(workdir, "hosts")
    if not os.path.isdir(hosts):
        return []
    reaped = []
    for name in sorted(os.listdir(hosts)):
        state = os.path.join(hosts, name, "state.json")
        try:
            with open(state) as f:
                st = json.load(f)
        except (OSError, ValueError):
            continue
        ns, holder = st.get("mnt_ns"), st.get("holder")
        if holder and _pid_alive(holder) and mnt_ns_of(holder) == ns:
            continue                      # a live host of another run
        if ns and ns != mnt_ns_of(os.getpid()):
            left = pids_in_mnt_ns(ns)
            if left:
                _log("%s: killing %d processes left by an earlier run: %s" % (name, len(left), left))
                kill_pids(left)
        shutil.rmtree(os.path.join(hosts, name), ignore_errors=True)
        reaped.append(name)
    return reaped


def install_signal_handlers():
    """SIGTERM/SIGHUP raise SystemExit so that ``with TestHost`` blocks and
    ``finally`` clauses tear the hosts down (SIGINT raises
    KeyboardInterrupt already)."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def stop_all():
    for h in list(_ACTIVE):
        h.stop()


SYSTEM_LIBVIRT_LOCK = "/var/tmp/fwsel-system-libvirt.lock"


def lock_system_libvirt():
    """A shared flock on the system libvirt's lock while Debian's daemon
    runs (scripts/libvirt-debs holds it exclusively while patched packages
    replace Debian's); not taken when the caller holds it
    (FWSEL_SYSTEM_LIBVIRT_LOCK=held).  Returns the open file (keep it), or
    an error message when the installed libvirt is a patched one."""
    import fcntl
    f = None
    if os.environ.get("FWSEL_SYSTEM_LIBVIRT_LOCK") != "held":
        f = open(SYSTEM_LIBVIRT_LOCK, "a")
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            sys.stderr.write("testhost: waiting for %s (scripts/libvirt-debs has the "
                             "system's libvirt replaced)\n" % SYSTEM_LIBVIRT_LOCK)
            fcntl.flock(f, fcntl.LOCK_SH)
    ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libvirt-daemon"],
                         capture_output=True, text=True).stdout.strip()
    if "+fwsel" in ver:
        return f, ("the installed libvirt-daemon is %s, a patched package "
                   "(scripts/libvirt-debs --restore first): the test runs Debian's daemon" % ver)
    return f, None


class TestHost:
    def __init__(self, name, spec, workdir=DEFAULT_WORKDIR, netns=None,
                 caps_cache=True, log_filters=DEFAULT_LOG_FILTERS,
                 qemu_conf=None, daemon_conf=None, listen_address=None,
                 hostname=None, keep=False, verbose=False):
        """NAME: a short name, unique among the hosts running at once.
        SPEC: a DaemonSpec.  NETNS: None (share the machine's network),
        'private' (an anonymous network namespace with only lo) or a
        NetNamespace.  CAPS_CACHE: True to share the QEMU capabilities cache
        between runs in WORKDIR/caps-SPECNAME, a path, or False.
        QEMU_CONF / DAEMON_CONF: extra settings {key: value}.
        LISTEN_ADDRESS: listen for qemu+tcp:// (no auth) on that address.
        HOSTNAME: a UTS namespace of its own with that host name."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError("bad host name %r" % name)
        self.name = name
        self.spec = spec
        self.workdir = os.path.abspath(workdir)
        self.dir = os.path.join(self.workdir, "hosts", name)
        self.netns = netns
        if caps_cache is True:
            caps_cache = os.path.join(self.workdir, "caps-" + spec.name)
        self.caps_cache = caps_cache or None
        self.log_filters = log_filters
        self.extra_qemu_conf = dict(qemu_conf or {})
        self.extra_daemon_conf = dict(daemon_conf or {})
        self.listen_address = listen_address
        self.hostname = hostname
        self.keep = keep
        self.verbose = verbose
        self.host_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, "fwsel-testhost:" + name))
        self.holder = None
        self.ns = None
        self.procs = {}          # role -> Popen
        self.tree = None
        self.tree_mounts = []    # mount points of the current tree, in order
        self.tree_info = {}
        self.nvram_conf = None   # the nvram list carried from the tree
        self.timings = {}
        self._mountpoint_overlays = set()
        self._made_mountpoints = set()

    # ------------------------------------------------------------ paths
    def hpath(self, *parts):
        return os.path.join(self.dir, *parts)

    def private_dir(self, target):
        return self.hpath("mnt", target.strip("/").replace("/", "%"))

    @property
    def conf_dir(self):
        """The daemon's configuration directory as seen from outside."""
        return self.private_dir(self.spec.sysconfdir + "/libvirt")

    @property
    def log_file(self):
        """The daemon's debug log (log_outputs), as seen from outside."""
        return os.path.join(self.private_dir(self.spec.localstatedir + "/log/libvirt"),
                            self.spec.daemon_name + ".log")

    @property
    def nvram_dir_outside(self):
        return os.path.join(self.private_dir(self.spec.localstatedir + "/lib/libvirt"),
                            "qemu", "nvram")

    # ------------------------------------------------------------ running
    def nsenter_argv(self, argv, net=True):
        a = ["nsenter", "-t", str(self.holder.pid), "-m"]
        if net and self.netns is not None:
            a.append("-n")
        if self.hostname:
            a.append("-u")
        return a + ["--"] + list(argv)

    def run(self, argv, check=False, timeout=120, **kw):
        """Run ARGV inside the host's namespaces; CompletedProcess (text)."""
        env = kw.pop("env", None)
        if env is None:
            env = dict(os.environ, LC_ALL="C")
            env.pop("LIBVIRT_DEFAULT_URI", None)
        return _run(self.nsenter_argv(argv), check=check, timeout=timeout, env=env, **kw)

    def sh(self, script, check=True):
        return self.run(["/bin/sh", "-ec", script], check=check)

    def virsh(self, *args, check=False, timeout=180):
        return self.run([self.spec.virsh, "-q", "-c", self.spec.uri] + list(args),
                        check=check, timeout=timeout)

    @property
    def tcp_uri(self):
        return "qemu+tcp://%s/system" % self.listen_address if self.listen_address else None

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        t0 = time.time()
        _ACTIVE.append(self)
        try:
            self._reap_stale()
            self._prepare_dirs()
            self._start_holder()
            self._mount_private_dirs()
            self._write_configs()
            self.timings["namespace"] = time.time() - t0
            t1 = time.time()
            self._start_daemons()
            self.timings["daemons"] = time.time() - t1
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop everything this host started, by PID; remove its mounts
        (with the namespace) and, unless keep, its directory."""
        try:
            self._stop_daemons()
            if self.holder is not None:
                if self.ns:
                    others = [p for p in pids_in_mnt_ns(self.ns) if p != self.holder.pid]
                    if others:
                        kill_pids(others)
                kill_pids([self.holder.pid])
                try:
                    self.holder.wait(timeout=5)
                except Exception:
                    pass
                if self.ns:
                    left = pids_in_mnt_ns(self.ns)
                    if left:
                        kill_pids(left)
                self.holder = None
            if isinstance(self.netns, NetNamespace):
                pass  # owned by the caller (shared between hosts)
        finally:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
            if not self.keep and os.path.isdir(self.dir):
                shutil.rmtree(self.dir, ignore_errors=True)
            elif os.path.exists(self.hpath("state.json")):
                os.unlink(self.hpath("state.json"))

    def _reap_stale(self):
        reap_stale_hosts(self.workdir)

    def _prepare_dirs(self):
        if os.path.exists(self.hpath("state.json")):
            raise TestHostError("host %s is in use by another run (%s)" % (self.name, self.hpath("state.json")))
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.hpath("mnt"))
        os.makedirs(self.hpath("empty"))
        os.makedirs(self.hpath("files"))
        for target, how in self.spec.state_dirs():
            dst = self.private_dir(target)
            if how == "empty":
                os.makedirs(dst)
            elif how == "skeleton":
                os.makedirs(dst)
                if os.path.isdir(target):
                    for root, dirs, _files in os.walk(target):
                        rel = os.path.relpath(root, target)
                        for d in dirs:
                            src = os.path.join(root, d)
                            if os.path.islink(src):
                                continue
                            p = os.path.normpath(os.path.join(dst, rel, d))
                            os.makedirs(p, exist_ok=True)
                            os.chmod(p, os.stat(src).st_mode & 0o7777)
            elif how == "etc":
                self._copy_etc(target, dst)
        nv = self.nvram_dir_outside
        os.makedirs(nv, exist_ok=True)
        if self.caps_cache:
            os.makedirs(self.caps_cache, exist_ok=True)
            os.makedirs(os.path.join(self.private_dir(self.spec.localstatedir + "/cache/libvirt"),
                                     "qemu", "capabilities"), exist_ok=True)

    def _copy_etc(self, src, dst):
        """A copy of the installation's libvirt configuration without
        domains, networks, pools and autostart links of the real host."""
        def ignore(d, names):
            rel = os.path.relpath(d, src)
            skip = set()
            for n in names:
                p = os.path.join(d, n)
                if rel == "qemu" and n.endswith(".xml"):
                    skip.add(n)           # defined domains
                if n == "autostart":
                    skip.add(n)
                if rel in ("storage", "qemu/networks") and n.endswith(".xml"):
                    skip.add(n)
                if os.path.islink(p) and not os.path.exists(p):
                    skip.add(n)
            return skip
        if os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True, ignore=ignore)
        else:
            os.makedirs(dst)

    def _start_holder(self):
        argv = ["unshare", "--mount", "--propagation", "private"]
        if self.netns == "private":
            argv.append("--net")
        if self.hostname:
            argv.append("--uts")
        argv += ["--", "sleep", "infinity"]
        if isinstance(self.netns, NetNamespace):
            argv = ["ip", "netns", "exec", self.netns.name] + argv
        own = mnt_ns_of(os.getpid())
        self.holder = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       preexec_fn=_set_pdeathsig, close_fds=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            ns = mnt_ns_of(self.holder.pid)
            if self.holder.poll() is not None:
                raise TestHostError("holder exited with %s" % self.holder.returncode)
            if ns and ns != own:
                # the exec of sleep has happened when comm says so
                try:
                    with open("/proc/%d/comm" % self.holder.pid) as f:
                        if f.read().strip() == "sleep":
                            self.ns = ns
                            break
                except OSError:
                    pass
            time.sleep(0.02)
        else:
            raise TestHostError("holder did not enter a new mount namespace")
        with open(self.hpath("state.json"), "w") as f:
            json.dump({"holder": self.holder.pid, "mnt_ns": self.ns, "name": self.name}, f)
        if self.netns == "private":
            self.run(["ip", "link", "set", "lo", "up"], check=True)
        if self.hostname:
            self.run(["hostname", self.hostname], check=True)

    def _ensure_mountpoint_script(self, target):
        """Shell lines (run inside) that make TARGET exist: when it does not
        exist on the real file system, its nearest existing ancestor gets a
        writable overlay whose upper layer is private to this host."""
        if os.path.isdir(target):
            return ""
        if self.spec.prefix and target.startswith(self.spec.prefix + "/"):
            # inside a prefix build's own installation: an empty directory
            # there is harmless (the build made the rest)
            os.makedirs(target)
            return ""
        anc = os.path.dirname(target)
        while not os.path.isdir(anc):
            anc = os.path.dirname(anc)
        if anc == "/":
            raise TestHostError("cannot create mount point %s (no ancestor but /)" % target)
        lines = []
        if anc not in self._mountpoint_overlays:
            key = anc.strip("/").replace("/", "%")
            up, wk = self.hpath("ovl", key, "upper"), self.hpath("ovl", key, "work")
            os.makedirs(up, exist_ok=True)
            os.makedirs(wk, exist_ok=True)
            lines.append("mount -n -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s"
                         % (anc, up, wk, shlex.quote(anc)))
            self._mountpoint_overlays.add(anc)
        lines.append("mkdir -p %s" % shlex.quote(target))
        self._made_mountpoints.add(target)
        return "\n".join(lines) + "\n"

    def _mount_private_dirs(self):
        s = ""
        # mount points that must exist before anything is bound over them
        for target in [t for t, _ in self.spec.state_dirs()] + [self.spec.fw_sysconf_dir]:
            s += self._ensure_mountpoint_script(target)
        for target, _how in self.spec.state_dirs():
            s += "mount -n --bind %s %s\n" % (shlex.quote(self.private_dir(target)), shlex.quote(target))
        if self.caps_cache:
            s += "mount -n --bind %s %s\n" % (
                shlex.quote(self.caps_cache),
                shlex.quote(self.spec.localstatedir + "/cache/libvirt/qemu/capabilities"))
        # a patched prefix's own directories show the same private ones
        # (recursively: the capabilities cache too)
        for alias, target in self.spec.aliases:
            s += self._ensure_mountpoint_script(alias)
            s += "mount -n --rbind %s %s\n" % (shlex.quote(target), shlex.quote(alias))
        self.sh(s)

    # ------------------------------------------------------------ configs
    def qemu_conf_settings(self):
        conf = dict(BASE_QEMU_CONF)
        if self.nvram_conf is not None:
            conf["nvram"] = format_conf_value(self.nvram_conf)
        if self.listen_address:
            conf["migration_address"] = '"%s"' % self.listen_address
            conf["migration_host"] = '"%s"' % self.listen_address
        for k, v in self.extra_qemu_conf.items():
            if v is None:
                conf.pop(k, None)
            else:
                conf[k] = format_conf_value(v)
        return conf

    def _write_qemu_conf(self):
        text = "# written by tests/testhost.py for host %s\n" % self.name
        text += "".join("%s = %s\n" % kv for kv in self.qemu_conf_settings().items())
        path = os.path.join(self.conf_dir, "qemu.conf")
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != text:
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o600)
            return True
        return False

    def _write_configs(self):
        self._write_qemu_conf()
        d = {
            "host_uuid": '"%s"' % self.host_uuid,
            "log_filters": '"%s"' % self.log_filters,
            "log_outputs": '"1:file:%s"' % os.path.join(self.spec.localstatedir, "log/libvirt",
                                                        self.spec.daemon_name + ".log"),
        }
        if self.listen_address:
            d.update(listen_tls="0", listen_tcp="1", auth_tcp='"none"',
                     listen_addr='"%s"' % self.listen_address)
        for k, v in self.extra_daemon_conf.items():
            d[k] = format_conf_value(v)
        text = "# written by tests/testhost.py for host %s\n" % self.name
        text += "".join("%s = %s\n" % kv for kv in d.items())
        with open(os.path.join(self.conf_dir, self.spec.daemon_conf), "w") as f:
            f.write(text)
        if self.listen_address and self.spec.virtproxyd:
            with open(os.path.join(self.conf_dir, "virtproxyd.conf"), "w") as f:
                f.write(text)

    # ------------------------------------------------------------ daemons
    def _popen_inside(self, role, argv):
        out = open(self.hpath("%s.out" % role), "ab")
        env = dict(os.environ, LC_ALL="C", **self.spec.env)
        env.pop("LIBVIRT_DEFAULT_URI", None)
        p = subprocess.Popen(self.nsenter_argv(argv), stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, env=env,
                             preexec_fn=_set_pdeathsig, close_fds=True)
        out.close()
        self.procs[role] = p
        return p

    def _start_daemons(self):
        self._popen_inside("virtlogd", [self.spec.virtlogd])
        self._wait_socket(os.path.join(self.spec.runstatedir, "libvirt", "virtlogd-sock"), "virtlogd")
        self._start_qemu_daemon()

    def _start_qemu_daemon(self):
        argv = [self.spec.daemon]
        if self.listen_address and self.spec.kind in ("debian", "patched"):
            argv.append("--listen")
        self._popen_inside("daemon", argv)
        if self.listen_address and self.spec.kind == "prefix":
            if not os.access(self.spec.virtproxyd or "", os.X_OK):
                raise TestHostError("listening needs virtproxyd in the prefix")
            # the modular proxy daemon has no --listen: it listens on TCP
            # when its configuration says listen_tcp = 1
            self._popen_inside("virtproxyd", [self.spec.virtproxyd])
            self._wait_socket(os.path.join(self.spec.runstatedir, "libvirt", "libvirt-sock"), "virtproxyd")
        self.wait_ready()

    def _wait_socket(self, path, role, timeout=30):
        outside = None
        for target, _ in self.spec.state_dirs():
            if path.startswith(target + "/"):
                outside = os.path.join(self.private_dir(target), path[len(target) + 1:])
                break
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.procs[role].poll() is not None:
                raise TestHostError("%s exited with %s; output:\n%s" % (
                    role, self.procs[role].returncode, self.output_of(role)))
            if outside and os.path.exists(outside):
                return
            time.sleep(0.05)
        raise TestHostError("%s did not create %s" % (role, path))

    def output_of(self, role):
        try:
            with open(self.hpath("%s.out" % role), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            p = self.procs.get("daemon")
            if p is not None and p.poll() is not None:
                raise TestHostError("%s exited with %s; output:\n%s" % (
                    self.spec.daemon_name, p.returncode, self.output_of("daemon")))
            last = self.virsh("uri", timeout=30)
            if last.returncode == 0 and last.stdout.strip():
                return
            time.sleep(0.1)
        raise TestHostError("%s does not answer: %s" % (self.spec.daemon_name,
                                                        last and last.stderr.strip()))

    def warm_up(self):
        """Ask for the capabilities (probes every qemu-system-* binary the
        first time unless the shared cache has them); returns seconds."""
        t = time.time()
        self.virsh("capabilities", check=True, timeout=600)
        self.timings["capabilities"] = time.time() - t
        return self.timings["capabilities"]

    def _stop_role(self, role):
        p = self.procs.pop(role, None)
        if p is None:
            return
        kill_pids([p.pid], timeout=15)
        try:
            p.wait(timeout=5)
        except Exception:
            pass

    def _stop_daemons(self):
        for role in ("virtproxyd", "daemon", "virtlogd"):
            self._stop_role(role)

    def restart_daemon(self):
        t = time.time()
        self._stop_role("virtproxyd")
        self._stop_role("daemon")
        self._start_qemu_daemon()
        return time.time() - t

    # ------------------------------------------------------------ logs
    def log_mark(self):
        try:
            return os.path.getsize(self.log_file)
        except OSError:
            return 0

    def log_since(self, mark):
        try:
            with open(self.log_file, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ------------------------------------------------------------ trees
    def _relocated_links(self, src, as_seen, key):
        """SRC, for a daemon that reads it at another path than AS_SEEN
        (a prefix's etc/qemu/firmware): a copy in which each relative
        symbolic link is made absolute, as it resolves from AS_SEEN."""
        names = os.listdir(src)
        if not any(os.path.islink(os.path.join(src, n)) and
                   not os.readlink(os.path.join(src, n)).startswith("/") for n in names):
            return src
        dst = self.hpath("relocated", key)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        os.makedirs(dst)
        for n in names:
            p = os.path.join(src, n)
            if os.path.islink(p):
                link = os.readlink(p)
                if not link.startswith("/"):
                    link = os.path.normpath(os.path.join(as_seen, link))
                os.symlink(link, os.path.join(dst, n))
            elif os.path.isdir(p):
                shutil.copytree(p, os.path.join(dst, n), symlinks=True)
            else:
                shutil.copy2(p, os.path.join(dst, n))
        return dst

    def switch_tree(self, tree):
        """Show host tree TREE to the daemon at the real paths (see the
        module's doc).  Returns a dict: mounts, nvram (carried list or
        None), conf_note, restarted (the daemon was restarted because the
        qemu.conf nvram list changed)."""
        tree = os.path.abspath(tree) if tree else None
        if tree is not None and not os.path.isdir(tree):
            raise TestHostError("no host tree %s" % tree)
        s = ""
        for m in reversed(self.tree_mounts):
            s += "umount -n %s || umount -n -l %s\n" % (shlex.quote(m), shlex.quote(m))
        if self.tree_mounts:
            self.sh(s)
            s = ""
        # overlays are writable (QEMU opens a read-write pflash loader for
        # writing, as it could on a real host); what is written lands in a
        # private upper layer, thrown away at the next switch, never in TREE
        shutil.rmtree(self.hpath("tree-ovl"), ignore_errors=True)
        mounts = []
        notes = []
        if tree is not None:
            # overlays: TREE/usr/X over /usr/X, TREE/D over /D
            tops = sorted(os.listdir(tree))
            for d in tops:
                src = os.path.join(tree, d)
                if not os.path.isdir(src) or os.path.islink(src) or d == "etc":
                    continue
                if d == "usr":
                    subs = [os.path.join("usr", x) for x in sorted(os.listdir(src))
                            if os.path.isdir(os.path.join(src, x))]
                else:
                    subs = [d]
                for sub in subs:
                    target = "/" + sub
                    if not os.path.isdir(target) or os.path.islink(target):
                        notes.append("%s: no such directory on this machine; tree's %s not shown" % (target, sub))
                        continue
                    key = sub.replace("/", "%")
                    up, wk = self.hpath("tree-ovl", key, "upper"), self.hpath("tree-ovl", key, "work")
                    os.makedirs(up)
                    os.makedirs(wk)
                    s += "mount -n -t overlay overlay -o lowerdir=%s:%s,upperdir=%s,workdir=%s %s\n" % (
                        os.path.join(tree, sub), target, up, wk, shlex.quote(target))
                    mounts.append(target)
        # descriptor folders: exactly the tree's (or none)
        for target, rel in ((self.spec.fw_data_dir, "usr/share/qemu/firmware"),
                            (self.spec.fw_sysconf_dir, "etc/qemu/firmware")):
            src = os.path.join(tree, rel) if tree else None
            if not (src and os.path.isdir(src)):
                src = self.hpath("empty")
            elif target != "/" + rel:
                src = self._relocated_links(src, "/" + rel, key=rel.replace("/", "%"))
            if not os.path.isdir(target) and target not in self._made_mountpoints:
                # should have been made by _mount_private_dirs
                s += self._ensure_mountpoint_script(target)
            s += "mount -n --bind %s %s\n" % (shlex.quote(src), shlex.quote(target))
            s += "mount -n -o remount,bind,ro %s\n" % shlex.quote(target)
            mounts.append(target)
        self.sh(s)
        self.tree_mounts = mounts
        self.tree = tree

        # qemu.conf nvram list
        nvram = None
        conf_note = None
        conf = os.path.join(tree, "etc/libvirt/qemu.conf") if tree else None
        if conf and os.path.exists(conf):
            try:
                with open(conf, encoding="utf-8") as f:
                    parsed = parse_libvirt_conf(f.read())
                if "nvram" in parsed:
                    nvram = parsed["nvram"]
                    if isinstance(nvram, str):
                        conf_note = "tree's qemu.conf has nvram as a string, not a list"
                        nvram = [nvram]
                other = sorted(k for k in parsed if k != "nvram")
                if other:
                    conf_note = ((conf_note + "; ") if conf_note else "") + \
                        "not carried: " + ", ".join(other)
            except ValueError as e:
                conf_note = "tree's qemu.conf does not parse (%s); nothing carried" % e
        restarted = False
        if nvram != self.nvram_conf:
            self.nvram_conf = nvram
            if self._write_qemu_conf() and self.procs.get("daemon"):
                self.restart_daemon()
                restarted = True
        self.tree_info = {"tree": tree, "mounts": mounts, "nvram": nvram,
                          "conf_note": conf_note, "notes": notes, "restarted": restarted}
        return self.tree_info

    def ls(self, path):
        """What the daemon sees at PATH (ls -la inside the namespace)."""
        return self.run(["ls", "-la", path]).stdout

    def mounts(self):
        with open("/proc/%d/mountinfo" % self.holder.pid) as f:
            return f.read()


__all__ = ["TestHost", "DaemonSpec", "NetNamespace", "TestHostError",
           "install_signal_handlers", "stop_all", "parse_libvirt_conf",
           "pids_in_mnt_ns", "kill_pids", "reap_stale_hosts", "BASE_QEMU_CONF",
           "lock_system_libvirt"]
