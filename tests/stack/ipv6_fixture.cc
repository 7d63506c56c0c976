#include "tests/stack/ipv6_fixture.h"

#include <algorithm>

namespace tapstack::testing {

Bytes Ipv6Packet(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                 std::uint8_t next_header, const Bytes& payload, std::uint8_t hop_limit) {
  wire::Ipv6Repr header;
  header.src = src;
  header.dst = dst;
  header.next_header = next_header;
  header.hop_limit = hop_limit;
  header.payload_len = static_cast<std::uint16_t>(payload.size());
  Bytes packet(wire::kIpv6HeaderLen + payload.size());
  wire::WriteIpv6Header(header, packet);
  std::copy(payload.begin(), payload.end(), packet.begin() + wire::kIpv6HeaderLen);
  return packet;
}

Bytes EthernetFrame(const wire::MacAddress& dst, const Bytes& payload, const wire::MacAddress& src,
                    std::uint16_t ethertype) {
  Bytes frame(wire::kEthernetHeaderLen + payload.size());
  wire::WriteEthernet(wire::EthernetRepr{dst, src, ethertype}, frame);
  std::copy(payload.begin(), payload.end(), frame.begin() + wire::kEthernetHeaderLen);
  return frame;
}

Bytes EchoV6(wire::Icmpv6Type type, const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
             std::uint16_t id, std::uint16_t seq, const Bytes& data) {
  Bytes message(wire::kIcmpv6HeaderLen + data.size());
  message.resize(wire::WriteIcmpv6Echo(type, id, seq, data, src, dst, message));
  return Ipv6Packet(src, dst, wire::IpProtocol::kIcmpv6, message);
}

Bytes Solicitation(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                   const wire::Ipv6Address& target, std::optional<wire::MacAddress> sll) {
  const wire::NeighborSolicitationRepr repr{target, sll};
  Bytes message(wire::NeighborSolicitationLen(repr));
  wire::WriteNeighborSolicitation(repr, src, dst, message);
  return Ipv6Packet(src, dst, wire::IpProtocol::kIcmpv6, message, 255);
}

Bytes Advertisement(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                    const wire::NeighborAdvertisementRepr& repr) {
  Bytes message(wire::NeighborAdvertisementLen(repr));
  wire::WriteNeighborAdvertisement(repr, src, dst, message);
  return Ipv6Packet(src, dst, wire::IpProtocol::kIcmpv6, message, 255);
}

Bytes RouterAdvertisement(const wire::Ipv6Address& src, const wire::RouterAdvertisementRepr& repr) {
  Bytes message(wire::RouterAdvertisementLen(repr));
  wire::WriteRouterAdvertisement(repr, src, wire::Ipv6Address::AllNodes(), message);
  return Ipv6Packet(src, wire::Ipv6Address::AllNodes(), wire::IpProtocol::kIcmpv6, message, 255);
}

StackConfig Ipv6StackTest::Config(int dad_transmits) {
  StackConfig config;
  config.interface.mac = kOurMac;
  config.interface.address = *wire::Ipv4Address::Parse("192.0.2.2");
  config.interface.ipv6.enabled = true;
  config.interface.ipv6.addresses = {Ipv6Prefix{kOurGlobal, 64}};
  config.ndp.dad_transmits = dad_transmits;
  config.random_seed = 42;
  return config;
}

void Ipv6StackTest::Start(const StackConfig& config) {
  sent_.clear();
  stack_.reset();
  stack_.emplace(config, now_, [this](std::span<const std::uint8_t> frame) {
    sent_.emplace_back(frame.begin(), frame.end());
  });
}

void Ipv6StackTest::IngestPacket(const Bytes& packet) {
  // A packet too short to hold a destination (a malformed one) goes to our MAC.
  const bool multicast = packet.size() >= wire::kIpv6HeaderLen && packet[24] == 0xff;
  const wire::MacAddress mac =
      multicast ? wire::Ipv6MulticastMac(wire::Ipv6Address::FromBytes(&packet[24])) : kOurMac;
  IngestFrame(EthernetFrame(mac, packet));
}

std::vector<SentIpv6> Ipv6StackTest::SentIpv6Frames() const {
  std::vector<SentIpv6> frames;
  for (const Bytes& frame : sent_) {
    const auto ethernet = wire::EthernetView::Parse(frame);
    if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv6) continue;
    const auto ip = wire::Ipv6View::Parse(ethernet->payload());
    EXPECT_TRUE(ip.ok()) << ip.error();
    if (!ip.ok()) continue;
    const std::span<const std::uint8_t> upper = ip->upper_layer_payload();
    if (ip->upper_layer_protocol() == wire::IpProtocol::kIcmpv6) {
      const auto icmp = wire::Icmpv6View::Parse(upper);
      EXPECT_TRUE(icmp.ok() && icmp->checksum_valid(ip->src(), ip->dst()))
          << "every ICMPv6 message we send has a valid checksum";
    }
    frames.push_back(SentIpv6{ethernet->dst(), ip->Repr(), Bytes(upper.begin(), upper.end())});
  }
  return frames;
}

void Ipv6StackTest::PeerAdvertises(bool solicited, bool override_flag,
                                   const wire::MacAddress& mac) {
  wire::NeighborAdvertisementRepr repr;
  repr.solicited = solicited;
  repr.override_flag = override_flag;
  repr.target = kPeerGlobal;
  repr.target_link_layer_address = mac;
  const wire::Ipv6Address dst = solicited ? kOurGlobal : wire::Ipv6Address::AllNodes();
  IngestPacket(Advertisement(kPeerGlobal, dst, repr));
}

}  // namespace tapstack::testing
