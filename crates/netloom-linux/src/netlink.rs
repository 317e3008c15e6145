//! A small synchronous NETLINK_ROUTE client.
//!
//! A netlink socket stays bound to the network namespace it was opened in,
//! so [`Netlink::open`] must run on a thread that is inside the wanted
//! namespace. Requests wait for their acknowledgement; only the known
//! transient errors (`EBUSY`, `EAGAIN`) are retried.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo,
    LinkMessage,
};
use netlink_packet_route::route::{RouteAttribute, RouteHeader, RouteMessage, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// The index of `lo` in every network namespace.
pub(crate) const LOOPBACK_INDEX: u32 = 1;

const RETRIES: u32 = 20;

/// One NETLINK_ROUTE socket, bound to the namespace it was opened in.
pub(crate) struct Netlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

/// One end of a veth pair to create.
pub(crate) struct VethEnd<'a> {
    pub name: &'a str,
    pub netns_fd: RawFd,
}

impl Netlink {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Acknowledgements without a copy of the request keep replies small.
        sock.set_cap_ack(true)?;
        Ok(Self {
            sock,
            seq: 0,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags | NLM_F_REQUEST;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut bytes = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.sock.send(&bytes, 0)?;
        Ok(self.seq)
    }

    /// Reads replies until the acknowledgement (or end of dump) of `seq`,
    /// handing every message of that sequence to `each`.
    fn receive(&mut self, seq: u32, mut each: impl FnMut(RouteNetlinkMessage)) -> io::Result<()> {
        loop {
            self.buf.clear();
            let n = self.sock.recv(&mut self.buf, 0)?;
            let mut off = 0;
            while off + 16 <= n {
                let len = u32::from_ne_bytes(self.buf[off..off + 4].try_into().expect("4 bytes"))
                    as usize;
                if len < 16 || off + len > n {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "truncated netlink message",
                    ));
                }
                let chunk = &self.buf[off..off + len];
                off += (len + 3) & !3;
                let msg_seq = u32::from_ne_bytes(chunk[8..12].try_into().expect("4 bytes"));
                if msg_seq != seq {
                    continue;
                }
                let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(chunk)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(()),
                            Some(_) => Err(e.to_io()),
                        }
                    }
                    NetlinkPayload::InnerMessage(m) => each(m),
                    _ => {}
                }
            }
        }
    }

    /// Sends a request and waits for its acknowledgement, retrying known
    /// transient errors.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        let mut attempt = 0;
        loop {
            let seq = self.send(msg.clone(), flags | NLM_F_ACK)?;
            match self.receive(seq, |_| {}) {
                Err(e) if is_transient(&e) && attempt < RETRIES => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(5 * u64::from(attempt)));
                }
                other => return other,
            }
        }
    }

    fn dump(&mut self, msg: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut attempt = 0;
        loop {
            let seq = self.send(msg.clone(), NLM_F_DUMP)?;
            let mut out = Vec::new();
            match self.receive(seq, |m| out.push(m)) {
                Ok(()) => return Ok(out),
                Err(e) if is_transient(&e) && attempt < RETRIES => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(5 * u64::from(attempt)));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sets a link up (by index).
    pub fn set_up(&mut self, index: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Sets a link up (by name).
    pub fn set_up_by_name(&mut self, name: &str) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Sets a link administratively down by name.
    pub fn set_down_by_name(&mut self, name: &str) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Creates a macvlan in bridge mode on `lower` with a fixed MAC and
    /// random IPv6 link-local generation (what FRR's vrrpd needs), up.
    /// The address generation mode is set after creation, before the link
    /// goes up: some kernels (6.18 here) refuse `IFLA_AF_SPEC` in the
    /// creating request with `EAFNOSUPPORT`.
    pub fn create_macvlan(&mut self, name: &str, lower: u32, mac: [u8; 6]) -> io::Result<()> {
        use netlink_packet_route::link::{
            AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoMacVlan, MacVlanMode,
        };
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        msg.attributes.push(LinkAttribute::Link(lower));
        msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                MacVlanMode::Bridge,
            )])),
        ]));
        self.request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL)?;
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        msg.attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::Random)],
            )]));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)?;
        self.set_up_by_name(name)
    }

    /// Adds an address (with its prefix length) to a link; with
    /// `no_prefix_route` the kernel adds no route for its subnet (a VRRP
    /// vip: the subnet stays routed through the parent, so a backup whose
    /// macvlan is in protodown still reaches the segment).
    pub fn add_address(
        &mut self,
        index: u32,
        addr: std::net::IpAddr,
        len: u8,
        no_prefix_route: bool,
    ) -> io::Result<()> {
        use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressScope};
        use netlink_packet_route::AddressFamily;
        let mut msg = AddressMessage::default();
        msg.header.family = if addr.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        msg.header.prefix_len = len;
        msg.header.scope = AddressScope::Universe;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(addr));
        msg.attributes.push(AddressAttribute::Address(addr));
        if no_prefix_route {
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Noprefixroute));
        }
        self.request(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Creates a bridge, up, with STP off and no forward delay.
    pub fn create_bridge(&mut self, name: &str) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            LinkInfo::Data(InfoData::Bridge(vec![
                InfoBridge::StpState(BridgeStpState::Disabled),
                InfoBridge::ForwardDelay(0),
            ])),
        ]));
        self.request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Creates a veth pair whose ends go straight into their namespaces
    /// with their final names, in one request. The `a` end is up; the peer
    /// cannot be (the kernel opens it before the pair is joined, and veth
    /// refuses with `ENOTCONN`): set it up with [`Netlink::set_up_by_name`]
    /// from a socket in its namespace.
    pub fn create_veth(
        &mut self,
        a: &VethEnd<'_>,
        b: &VethEnd<'_>,
        mtu: Option<u32>,
        a_mac: Option<[u8; 6]>,
    ) -> io::Result<()> {
        let mut peer = LinkMessage::default();
        peer.attributes
            .push(LinkAttribute::IfName(b.name.to_string()));
        peer.attributes.push(LinkAttribute::NetNsFd(b.netns_fd));
        let mut msg = LinkMessage::default();
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes
            .push(LinkAttribute::IfName(a.name.to_string()));
        msg.attributes.push(LinkAttribute::NetNsFd(a.netns_fd));
        if let Some(mac) = a_mac {
            msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        if let Some(mtu) = mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
            peer.attributes.push(LinkAttribute::Mtu(mtu));
        }
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        self.request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL)
    }

    /// The index of a link by name, `None` when there is no such link.
    pub fn link_index(&mut self, name: &str) -> io::Result<Option<u32>> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        let seq = self.send(RouteNetlinkMessage::GetLink(msg), NLM_F_ACK)?;
        let mut index = None;
        match self.receive(seq, |m| {
            if let RouteNetlinkMessage::NewLink(l) = m {
                index = Some(l.header.index);
            }
        }) {
            Ok(()) => Ok(index),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets link `index` administratively up or down and, with `master`,
    /// enslaves it first (`Some(0)` releases it), in one request.
    pub fn set_state(&mut self, index: u32, master: Option<u32>, up: bool) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        if up {
            msg.header.flags = LinkFlags::Up;
        }
        msg.header.change_mask = LinkFlags::Up;
        if let Some(m) = master {
            msg.attributes.push(LinkAttribute::Controller(m));
        }
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Sets the state of bridge port `index` (`BR_STATE_*`: 0 disabled,
    /// 3 forwarding); unlike taking the port down, the kernel does not
    /// wait for an RCU grace period.
    pub fn set_port_state(&mut self, index: u32, state: u8) -> io::Result<()> {
        use netlink_packet_core::DefaultNla;
        use netlink_packet_route::link::LinkProtoInfoBridge;
        const IFLA_BRPORT_STATE: u16 = 1;
        let mut msg = LinkMessage::default();
        msg.header.interface_family = netlink_packet_route::AddressFamily::Bridge;
        msg.header.index = index;
        msg.attributes.push(LinkAttribute::ProtoInfoBridge(vec![
            LinkProtoInfoBridge::Other(DefaultNla::new(IFLA_BRPORT_STATE, vec![state])),
        ]));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Enslaves a link to a master (`0` releases it).
    pub fn set_master(&mut self, name: &str, master: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        msg.attributes.push(LinkAttribute::Controller(master));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Deletes a link by name; a missing link is fine.
    pub fn delete_link(&mut self, name: &str) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request(RouteNetlinkMessage::DelLink(msg), 0) {
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
            other => other,
        }
    }

    /// Deletes a link by index; false when it was gone already. A name
    /// may have been taken again by a new link; an index is never reused
    /// this soon.
    pub fn delete_link_index(&mut self, index: u32) -> io::Result<bool> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        match self.request(RouteNetlinkMessage::DelLink(msg), 0) {
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(false),
            other => other.map(|()| true),
        }
    }

    /// Puts link `index` in link group `group`.
    pub fn set_group(&mut self, index: u32, group: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes.push(LinkAttribute::Group(group));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Deletes every link of group `group` in one batch: the kernel waits
    /// for its RCU grace periods once for all of them, where one deletion
    /// after the other waits once each.
    pub fn delete_group(&mut self, group: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::Group(group));
        self.request(RouteNetlinkMessage::DelLink(msg), 0)
    }

    /// All links of the namespace.
    pub fn links(&mut self) -> io::Result<Vec<LinkMessage>> {
        Ok(self
            .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .collect())
    }

    /// The links enslaved to `master` (a bridge's ports).
    pub fn links_of(&mut self, master: u32) -> io::Result<Vec<LinkMessage>> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::Controller(master));
        Ok(self
            .dump(RouteNetlinkMessage::GetLink(msg))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .filter(|l| name_and_master(l).1 == Some(master))
            .collect())
    }

    /// The routes of the main table, IPv4 then IPv6 (cached clones and
    /// local routes left out).
    pub fn routes(&mut self) -> io::Result<Vec<RouteMessage>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut msg = RouteMessage::default();
            msg.header.address_family = family;
            for m in self.dump(RouteNetlinkMessage::GetRoute(msg))? {
                let RouteNetlinkMessage::NewRoute(r) = m else {
                    continue;
                };
                let table = r
                    .attributes
                    .iter()
                    .find_map(|a| match a {
                        RouteAttribute::Table(t) => Some(*t),
                        _ => None,
                    })
                    .unwrap_or(u32::from(r.header.table));
                if table == u32::from(RouteHeader::RT_TABLE_MAIN)
                    && r.header.kind == RouteType::Unicast
                {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    /// All addresses of the namespace.
    pub fn addresses(&mut self) -> io::Result<Vec<AddressMessage>> {
        Ok(self
            .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Some(a),
                _ => None,
            })
            .collect())
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::EAGAIN))
}

/// Whether a link is a veth (from its link info).
pub(crate) fn is_veth(link: &LinkMessage) -> bool {
    link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(info) => info
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Veth))),
        _ => false,
    })
}

/// A link's name and master (from a dump).
pub(crate) fn name_and_master(link: &LinkMessage) -> (Option<&str>, Option<u32>) {
    let mut name = None;
    let mut master = None;
    for a in &link.attributes {
        match a {
            LinkAttribute::IfName(n) => name = Some(n.as_str()),
            LinkAttribute::Controller(m) => master = Some(*m),
            _ => {}
        }
    }
    (name, master)
}
