"""Cheap, fork-free access to many network namespaces from one Python process.

- `NsRoutes`: one rtnetlink socket per namespace (opened once: the calling
  thread enters the namespace with setns(2), creates the socket, and comes
  back; the socket stays bound to that namespace). `bgp_dsts()` dumps the
  IPv4 main table and returns the /32 destinations installed by BGP
  (rtm_protocol 186), parsed in Python: no `ip` process per poll.
- `write_sysctls`: write /proc/sys values inside namespaces the same way.

stdlib only (ctypes for setns, Python 3.11 has no os.setns).
"""

import ctypes
import os
import socket
import struct

CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0
RTM_GETROUTE = 26
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_DONE = 3
NLMSG_ERROR = 2
RTPROT_BGP = 186
RTA_DST = 1
RT_TABLE_MAIN = 254
RTA_TABLE = 15

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class in_netns:
    """Context manager: this thread is in namespace `name` (/run/netns/NAME,
    or a path such as /proc/PID/ns/net)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        path = self.name if self.name.startswith("/") else f"/run/netns/{self.name}"
        fd = os.open(path, os.O_RDONLY)
        try:
            _setns(fd)
        except Exception:
            os.close(self.home)
            raise
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            _setns(self.home)
        finally:
            os.close(self.home)
        return False


def write_sysctls(netns_list, sysctls):
    """sysctls: [(name, value)] written in every namespace of netns_list."""
    for ns in netns_list:
        with in_netns(ns):
            for name, value in sysctls:
                with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
                    f.write(str(value))


class NsRoutes:
    def __init__(self, netns_list):
        self.socks = {}
        self.seq = 1
        for ns in netns_list:
            with in_netns(ns):
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((0, 0))
            self.socks[ns] = s

    def close(self):
        for s in self.socks.values():
            s.close()
        self.socks = {}

    def bgp_dsts(self, ns):
        """Set of IPv4 /32 destinations (as 4-byte strings) that BGP
        installed in the main table of namespace `ns`."""
        s = self.socks[ns]
        self.seq += 1
        seq = self.seq
        # nlmsghdr + rtmsg(family=AF_INET) ; a dump of all routes.
        rtm = struct.pack("BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
        hdr = struct.pack("=IHHII", 16 + len(rtm), RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
        s.send(hdr + rtm)
        out = set()
        while True:
            data = s.recv(1 << 20)
            off = 0
            n = len(data)
            while off + 16 <= n:
                length, mtype, _flags, mseq, _pid = struct.unpack_from("=IHHII", data, off)
                if length < 16:
                    return out
                if mseq != seq:
                    off += (length + 3) & ~3
                    continue
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    return out
                # rtmsg: family dst_len src_len tos table protocol scope type flags
                body = off + 16
                fam, dst_len, _sl, _tos, table, proto = struct.unpack_from("BBBBBB", data, body)
                if fam == socket.AF_INET and proto == RTPROT_BGP and dst_len == 32 and table == RT_TABLE_MAIN:
                    a = body + 12
                    end = off + length
                    while a + 4 <= end:
                        alen, atype = struct.unpack_from("=HH", data, a)
                        if alen < 4:
                            break
                        if atype == RTA_DST:
                            out.add(socket.inet_ntoa(data[a + 4 : a + 8]))
                        a += (alen + 3) & ~3
                off += (length + 3) & ~3
