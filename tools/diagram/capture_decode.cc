#include "tools/diagram/capture_decode.h"

#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "stack/wire/tcp_options.h"

namespace tapstack::tools::diagram {
namespace {

constexpr std::uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;  // IEEE 802.1ad
constexpr std::uint32_t kAfInet = 2;              // AF_INET in a loopback header
constexpr std::size_t kSllHeaderLen = 16;
constexpr std::size_t kSll2HeaderLen = 20;

// The IPv4 datagram inside the record, or an empty span.
std::span<const std::uint8_t> Datagram(int link_type, std::span<const std::uint8_t> record) {
  switch (link_type) {
    case kLinkEthernet: {
      if (record.size() < wire::kEthernetHeaderLen) return {};
      std::size_t type_at = 12;
      std::uint16_t type = wire::LoadBe16(&record[type_at]);
      for (int tags = 0; tags < 2 && (type == kEtherTypeVlan || type == kEtherTypeQinQ); ++tags) {
        type_at += 4;
        if (record.size() < type_at + 2) return {};
        type = wire::LoadBe16(&record[type_at]);
      }
      if (type != wire::EtherType::kIpv4) return {};
      return record.subspan(type_at + 2);
    }
    case kLinkLinuxSll:
      if (record.size() < kSllHeaderLen || wire::LoadBe16(&record[14]) != wire::EtherType::kIpv4)
        return {};
      return record.subspan(kSllHeaderLen);
    case kLinkLinuxSll2:
      if (record.size() < kSll2HeaderLen || wire::LoadBe16(&record[0]) != wire::EtherType::kIpv4)
        return {};
      return record.subspan(kSll2HeaderLen);
    case kLinkRaw:
    case kLinkRawBsd:
    case kLinkIpv4:
      return record;
    case kLinkNull:
    case kLinkLoop: {
      if (record.size() < 4) return {};
      const std::uint32_t big = wire::LoadBe32(record.data());
      // DLT_NULL is in the byte order of the machine that wrote it, which may not be ours.
      const std::uint32_t little =
          (big >> 24) | ((big >> 8) & 0xff00) | ((big << 8) & 0xff0000) | (big << 24);
      const bool inet = big == kAfInet || (link_type == kLinkNull && little == kAfInet);
      return inet ? record.subspan(4) : std::span<const std::uint8_t>();
    }
    default:
      return {};
  }
}

}  // namespace

bool IsSupportedLinkType(int link_type) {
  switch (link_type) {
    case kLinkNull:
    case kLinkEthernet:
    case kLinkRaw:
    case kLinkRawBsd:
    case kLinkLoop:
    case kLinkLinuxSll:
    case kLinkIpv4:
    case kLinkLinuxSll2:
      return true;
    default:
      return false;
  }
}

std::optional<CapturedTcp> DecodeTcp(int link_type, std::span<const std::uint8_t> record) {
  const std::span<const std::uint8_t> ip = Datagram(link_type, record);
  // RFC 791 3.1: version, IHL, total length, fragment offset, protocol.
  if (ip.size() < wire::kIpv4MinHeaderLen || (ip[0] >> 4) != 4) return std::nullopt;
  const std::size_t ip_header_len = std::size_t{ip[0] & 0x0fu} * 4;
  if (ip_header_len < wire::kIpv4MinHeaderLen || ip.size() < ip_header_len) return std::nullopt;
  if (ip[9] != wire::IpProtocol::kTcp) return std::nullopt;
  const std::uint16_t fragment = wire::LoadBe16(&ip[6]);
  if ((fragment & 0x3fffu) != 0) return std::nullopt;  // a fragment: more follow, or a later one
  std::size_t total_length = wire::LoadBe16(&ip[2]);
  // A sender's capture with segmentation offload may carry 0 here; the record is all there is.
  if (total_length == 0) total_length = ip.size();
  if (total_length < ip_header_len) return std::nullopt;

  // RFC 9293 3.1: the fixed header, then options up to the data offset.
  const std::span<const std::uint8_t> tcp = ip.subspan(ip_header_len);
  if (tcp.size() < wire::kTcpMinHeaderLen) return std::nullopt;
  const std::size_t tcp_header_len = static_cast<std::size_t>(tcp[12] >> 4) * 4;
  if (tcp_header_len < wire::kTcpMinHeaderLen || total_length < ip_header_len + tcp_header_len) {
    return std::nullopt;
  }
  CapturedTcp segment;
  segment.src = wire::Ipv4Address(wire::LoadBe32(&ip[12]));
  segment.dst = wire::Ipv4Address(wire::LoadBe32(&ip[16]));
  segment.src_port = wire::LoadBe16(&tcp[0]);
  segment.dst_port = wire::LoadBe16(&tcp[2]);
  segment.seq = wire::LoadBe32(&tcp[4]);
  segment.ack = wire::LoadBe32(&tcp[8]);
  segment.flags = tcp[13];
  segment.window = wire::LoadBe16(&tcp[14]);
  segment.payload_length =
      static_cast<std::uint32_t>(total_length - ip_header_len - tcp_header_len);
  // The options only when captured whole; a snap length may have cut them.
  if ((segment.flags & wire::TcpFlags::kSyn) != 0 && tcp.size() >= tcp_header_len) {
    const wire::Parsed<wire::TcpOptions> options = wire::ParseTcpOptions(
        tcp.subspan(wire::kTcpMinHeaderLen, tcp_header_len - wire::kTcpMinHeaderLen));
    if (options.ok()) segment.window_scale = options->window_scale;
  }
  return segment;
}

}  // namespace tapstack::tools::diagram
