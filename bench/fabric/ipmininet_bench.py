#!/usr/bin/python3
"""IPMininet side of bench/fabric: the same BGP Clos shape (spines x leaves,
eBGP on every spine-leaf link, one AS per router, loopbacks advertised),
built and started by IPMininet, timed until every router has a BGP route to
every other router's loopback.

Runs ONLY inside the sandbox that bench/fabric/run makes (private mount, PID,
network, UTS and IPC namespaces, tmpfs on /tmp and /run/netns, own /sys):
Mininet's cleanup kills processes by name, so it must never see the machine.
It refuses to run without --sandboxed and PID 1 being its sandbox's shell.

Stage 1 (system python3): give root the group frrvty in a private copy of
/etc/group (Debian's FRR refuses to run as root otherwise), make a venv with
--system-site-packages (Debian's mininet and mako) holding IPMininet's
package files, put /usr/lib/frr on PATH, then re-exec in the venv.
Stage 2 (venv): build, start, poll, measure, stop.

Prints one line `NLBRESULT {json}` on stdout.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def result(**kw):
    print("NLBRESULT " + json.dumps(kw), flush=True)


def stage1(args):
    src = args.ipmininet_src
    if not src or not os.path.isdir(os.path.join(src, "ipmininet")):
        result(ok=False, why="IPMininet package files not available (pip download failed)")
        return 0
    # root in group frrvty, in this mount namespace only.
    grp = open("/etc/group").read().splitlines()
    out = []
    found = False
    for line in grp:
        if line.startswith("frrvty:"):
            found = True
            f = line.split(":")
            members = [m for m in f[3].split(",") if m]
            if "root" not in members:
                members.append("root")
            f[3] = ",".join(members)
            line = ":".join(f)
        out.append(line)
    if not found:
        result(ok=False, why="no group frrvty (is Debian's frr installed?)")
        return 0
    open("/tmp/group", "w").write("\n".join(out) + "\n")
    subprocess.run(["mount", "--bind", "/tmp/group", "/etc/group"], check=True)
    venv = "/tmp/ipm-venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], check=True)
    site = subprocess.run(
        [f"{venv}/bin/python3", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    shutil.copytree(os.path.join(src, "ipmininet"), os.path.join(site, "ipmininet"))
    env = dict(os.environ)
    env["PATH"] = "/usr/lib/frr:" + env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    argv = [f"{venv}/bin/python3", os.path.abspath(__file__), "--stage2"] + sys.argv[1:]
    os.execve(argv[0], argv, env)


def netns_inode(pid):
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def stage2(args):
    sys.path.insert(0, HERE)
    import nsroutes  # noqa: E402

    notes = []
    try:
        import mininet.log
        from ipmininet.iptopo import IPTopo
        from ipmininet.ipnet import IPNet
        from ipmininet.router.config import RouterConfig, BGP, AF_INET, ebgp_session
    except Exception as e:  # noqa: BLE001
        result(ok=False, why=f"import failed: {type(e).__name__}: {e}")
        return 0
    mininet.log.setLogLevel("warning")

    S, L = args.spines, args.leaves
    loops = {}

    class Clos(IPTopo):
        def build(self, *a, **kw):
            names = [f"s{i}" for i in range(1, S + 1)] + [f"l{i}" for i in range(1, L + 1)]
            r = {}
            for k, name in enumerate(names, start=1):
                lo = f"10.255.{k // 256}.{k % 256}/32"
                loops[name] = lo.split("/")[0]
                r[name] = self.addRouter(name, config=RouterConfig, lo_addresses=[lo])
                r[name].addDaemon(BGP, address_families=(AF_INET(networks=(lo,)),))
                self.addAS(4200000000 + k, (r[name],))
            for i in range(1, S + 1):
                for j in range(1, L + 1):
                    self.addLink(r[f"s{i}"], r[f"l{j}"])
                    ebgp_session(self, r[f"s{i}"], r[f"l{j}"])
            super().build(*a, **kw)

    t0 = time.monotonic()
    try:
        net = IPNet(topo=Clos(), use_v6=False, allocate_IPs=True)
        t1 = time.monotonic()
        net.start()
        t2 = time.monotonic()
    except Exception as e:  # noqa: BLE001
        result(ok=False, why=f"IPNet failed: {type(e).__name__}: {str(e)[:200]}")
        return 0
    try:
        # one netlink socket per router, opened through /proc/PID/ns/net
        routers = {r.name: r for r in net.routers}
        paths = {name: f"/proc/{r.pid}/ns/net" for name, r in routers.items()}
        nr = nsroutes.NsRoutes(list(paths.values()))
        want = {name: set(loops.values()) - {loops[name]} for name in routers}
        pending = list(routers)
        deadline = t0 + args.timeout
        rounds = 0
        tc = None
        while time.monotonic() < deadline:
            rounds += 1
            now = time.monotonic()
            pending = [n for n in pending if not want[n] <= nr.bgp_dsts(paths[n])]
            if not pending:
                pending = [n for n in routers if not want[n] <= nr.bgp_dsts(paths[n])]
                if not pending:
                    tc = now
                    break
            time.sleep(0.05)
        if tc is None:
            worst = min(len(want[n] & nr.bgp_dsts(paths[n])) for n in pending)
            nr.close()
            result(ok=False, why=f"not converged within {args.timeout:.0f} s "
                               f"({len(pending)} routers short, worst has {worst} of {len(routers) - 1})")
            return 0
        nr.close()
        # memory: FRR daemons whose network namespace is a router's
        by_ino = {netns_inode(r.pid): name for name, r in routers.items()}
        rss = pss = 0
        daemons = 0
        kinds = set()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                comm = open(f"/proc/{d}/comm").read().strip()
            except OSError:
                continue
            if comm not in ("zebra", "bgpd", "staticd", "ospfd", "mgmtd", "watchfrr"):
                continue
            if netns_inode(d) not in by_ino:
                continue
            try:
                for line in open(f"/proc/{d}/smaps_rollup"):
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
                daemons += 1
                kinds.add(comm)
            except OSError:
                pass
        n = len(routers)
        t3 = time.monotonic()
    finally:
        try:
            net.stop()
        except Exception as e:  # noqa: BLE001
            notes.append(f"net.stop() raised {type(e).__name__}: {e}")
    t4 = time.monotonic()
    result(
        ok=True,
        deploy=t2 - t0,
        converged=tc - t0,
        after_deploy=tc - t2,
        destroy=t4 - t3,
        mem={"rss_mb": rss / n / 1024, "pss_mb": pss / n / 1024, "daemons": daemons},
        detail=(f"build {t1 - t0:.2f} s + start {t2 - t1:.2f} s; {daemons} FRR daemons "
                f"({', '.join(sorted(kinds))}); sandboxed"),
        notes=notes,
    )
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sandboxed", action="store_true")
    ap.add_argument("--stage2", action="store_true")
    ap.add_argument("--spines", type=int, required=True)
    ap.add_argument("--leaves", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--ipmininet-src", default="")
    args = ap.parse_args()
    # Never outside the sandbox: there we are in a PID namespace of our own
    # (bench/fabric/run starts us under `unshare --pid --fork --mount-proc`).
    try:
        pid1 = open("/proc/1/cmdline", "rb").read()
    except OSError:
        pid1 = b""
    if not args.sandboxed or os.environ.get("NLBF_SANDBOX") != "1" or os.getpid() > 64 \
            or b"nlbf-sandbox" not in pid1:
        sys.exit("ipmininet_bench.py runs only inside bench/fabric/run's sandbox")
    return stage2(args) if args.stage2 else stage1(args)


if __name__ == "__main__":
    sys.exit(main())
