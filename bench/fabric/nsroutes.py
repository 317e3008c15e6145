"""Cheap, fork-free access to many network namespaces from one Python process.

- `NsRoutes`: one rtnetlink socket per namespace (opened once: the calling
  thread enters the namespace with setns(2), creates the socket, and comes
  back; the socket stays bound to that namespace). `bgp_dsts()` dumps the
  IPv4 main table and returns the /32 destinations installed by BGP
  (rtm_protocol 186), parsed in Python: no `ip` process per poll.
- `NsWatch`: the same routes kept up to date from the kernel's route
  notifications, for waiting on many namespaces while they change.
- `write_sysctls`: write /proc/sys values inside namespaces the same way.

stdlib only (ctypes for setns, Python 3.11 has no os.setns).
"""

import ctypes
import os
import select
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
RTM_NEWROUTE = 24
RTM_DELROUTE = 25
RTMGRP_IPV4_ROUTE = 0x40
SO_RCVBUFFORCE = 33
ENOBUFS = 105

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


def _dump_request(seq):
    """An RTM_GETROUTE dump of the IPv4 tables: nlmsghdr + rtmsg."""
    rtm = struct.pack("BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
    return struct.pack("=IHHII", 16 + len(rtm), RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + rtm


def _bgp_routes(data, reply_to=None):
    """Parses a buffer of netlink messages. `reply_to` = (seq, portid) of our
    dump: returns ([(type, dst)] of the BGP /32 routes of the main table in
    the dump's replies, [(type, dst)] in notifications, whether the dump
    ended). A notification carries the sequence number and port of the
    request that caused it (zebra's), so only both together mark a reply."""
    replies, notes = [], []
    ended = False
    off = 0
    n = len(data)
    while off + 16 <= n:
        length, mtype, _flags, mseq, mpid = struct.unpack_from("=IHHII", data, off)
        if length < 16:
            ended = True  # malformed: stop rather than loop
            break
        reply = reply_to is not None and (mseq, mpid) == reply_to
        if reply and mtype in (NLMSG_DONE, NLMSG_ERROR):
            ended = True
        elif mtype in (RTM_NEWROUTE, RTM_DELROUTE):
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
                        (replies if reply else notes).append((mtype, socket.inet_ntoa(data[a + 4 : a + 8])))
                    a += (alen + 3) & ~3
        off += (length + 3) & ~3
    return replies, notes, ended


def _dump(s, seq):
    """Dumps through socket `s`: the BGP /32 destinations of the main
    table, and the notifications read meanwhile (on a subscribed socket),
    in order."""
    s.send(_dump_request(seq))
    mine = (seq, s.getsockname()[0])
    have, later = set(), []
    while True:
        try:
            data = s.recv(1 << 20)
        except BlockingIOError:
            select.select([s], [], [], 1.0)
            continue
        except OSError as e:
            if e.errno == ENOBUFS:  # notifications lost; the dump still comes
                continue
            raise
        replies, notes, ended = _bgp_routes(data, mine)
        have.update(dst for _t, dst in replies)
        later.extend(notes)
        if ended:
            return have, later


def _apply(have, changes):
    for t, dst in changes:
        if t == RTM_NEWROUTE:
            have.add(dst)
        else:
            have.discard(dst)


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
        """Set of IPv4 /32 destinations (as strings) that BGP installed in
        the main table of namespace `ns`."""
        self.seq += 1
        return _dump(self.socks[ns], self.seq)[0]


class NsWatch:
    """The BGP /32 routes of many namespaces, kept up to date from the
    kernel's route notifications (RTNLGRP_IPV4_ROUTE) rather than dumps.

    Why: under a fabric's start, a route dump waits for the RTNL lock behind
    hundreds of zebras installing routes (seen here: one round of 300 dumps
    took 14 s of wall time for 0.25 s of CPU), so a poller that dumps sees
    convergence late. A notification is queued to the socket when the route
    is installed and is read without the lock. Each namespace gets one
    socket subscribed before its one initial dump (notifications that arrive
    meanwhile are applied after it); a socket that overflows (ENOBUFS) is
    dumped again, and so is one the caller asks to `refresh`."""

    def __init__(self, netns_list):
        self.socks = {}
        self.state = {}
        self.resync = set()
        self.seq = 1 << 20
        for ns in netns_list:
            with in_netns(ns):
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, NETLINK_ROUTE)
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
            s.bind((0, RTMGRP_IPV4_ROUTE))
            self.socks[ns] = s
        self.by_fd = {s.fileno(): ns for ns, s in self.socks.items()}
        for ns in netns_list:
            self.refresh(ns)

    def close(self):
        for s in self.socks.values():
            s.close()
        self.socks = {}

    def refresh(self, ns):
        """Dumps namespace `ns` again; returns its routes."""
        self.seq += 1
        have, later = _dump(self.socks[ns], self.seq)
        _apply(have, later)
        self.state[ns] = have
        return have

    def pump(self, timeout):
        """Reads what has arrived (waiting up to `timeout` s for the first
        notification); returns the namespaces whose routes changed."""
        changed = set()
        for ns in list(self.resync):
            self.resync.discard(ns)
            self.refresh(ns)
            changed.add(ns)
        ready, _, _ = select.select(list(self.socks.values()), [], [], timeout)
        for s in ready:
            ns = self.by_fd[s.fileno()]
            while True:
                try:
                    data = s.recv(1 << 20)
                except BlockingIOError:
                    break
                except OSError as e:
                    if e.errno == ENOBUFS:
                        self.resync.add(ns)
                        break
                    raise
                _apply(self.state[ns], _bgp_routes(data)[1])
                changed.add(ns)
        return changed
