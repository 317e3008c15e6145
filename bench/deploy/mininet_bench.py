#!/usr/bin/python3
"""Mininet side of the deploy benchmark. Runs ONLY inside the private sandbox
that `bench/deploy/run` builds (own mount, PID and network namespace, private
/tmp, /run/netns and /sys), never on the host: Mininet cleans up by process
name and deletes /tmp/*.log.

Usage (from `run`): mininet_bench.py --plan '[[10,3],[100,3]]' [--ping]
Prints one `NLBRESULT {json}` line per measurement on stdout.
"""

import argparse
import json
import os
import subprocess
import sys
import time

if os.getpid() != 1 or not os.environ.get("NLB_SANDBOX"):
    sys.exit("mininet_bench.py must run as PID 1 of the sandbox made by bench/deploy/run")

from mininet.log import setLogLevel  # noqa: E402
from mininet.net import Mininet  # noqa: E402
from mininet.nodelib import LinuxBridge  # noqa: E402
from mininet.topo import LinearTopo  # noqa: E402

SENTINEL_NS = "nlb-zzmn"
SENTINEL_IF = "nlbwmn"


def emit(obj):
    print("NLBRESULT " + json.dumps(obj), flush=True)


def sentinel_create():
    subprocess.run(
        ["ip", "-batch", "-"],
        input=f"netns add {SENTINEL_NS}\n"
        f"link add {SENTINEL_IF} type veth peer name s0 netns {SENTINEL_NS}\n",
        text=True,
        check=True,
    )


def sentinel_settle():
    """Delete the sentinel namespace and wait until its veth's other end is
    gone: the kernel cleans namespaces in order, so every namespace freed
    before it is gone too."""
    subprocess.run(["ip", "netns", "del", SENTINEL_NS], check=True)
    path = f"/sys/class/net/{SENTINEL_IF}"
    deadline = time.monotonic() + 120
    while os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError("sentinel namespace not cleaned within 120 s")
        time.sleep(0.001)


def leftovers():
    out = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True
    ).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]
    return [n for n in names if n != "lo"]


def one_run(n, ping=False):
    topo = LinearTopo(k=n, n=1)
    net = Mininet(
        topo=topo,
        switch=LinuxBridge,
        controller=None,
        build=False,
        autoSetMacs=False,
        waitConnected=False,
    )
    sentinel_create()
    t0 = time.monotonic()
    net.build()
    net.start()
    t1 = time.monotonic()
    loss = None
    if ping:
        loss = net.pingAll(timeout="1")
    t2 = time.monotonic()
    net.stop()
    t3 = time.monotonic()
    sentinel_settle()
    t4 = time.monotonic()
    left = leftovers()
    return {
        "deploy": t1 - t0,
        "destroy_cmd": t3 - t2,
        "destroy": t4 - t2,
        "ping_loss": loss,
        "leftovers": left,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", required=True, help="JSON list of [N, reps]")
    ap.add_argument("--ping", action="store_true", help="pingAll on an extra N=10 run")
    args = ap.parse_args()
    setLogLevel("warning")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    import mininet.net

    emit({"kind": "info", "mininet_version": getattr(mininet.net, "VERSION", "?")})
    if args.ping:
        try:
            r = one_run(10, ping=True)
            emit({"kind": "ping", "n": 10, **r})
        except Exception as e:  # report, keep going
            emit({"kind": "error", "n": 10, "error": f"ping check: {e!r}"})
    for n, reps in json.loads(args.plan):
        for rep in range(reps):
            try:
                r = one_run(n)
                emit({"kind": "run", "n": n, "rep": rep, **r})
            except Exception as e:
                emit({"kind": "error", "n": n, "rep": rep, "error": repr(e)})
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
