#include "tools/demo/segments.h"

#include <algorithm>
#include <array>

#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/tcp.h"
#include "stack/wire/tcp_options.h"

namespace tapstack::tools::demo {
namespace {

using wire::TcpFlags;

struct ParsedTcp {
  wire::IpAddress src, dst;
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::optional<std::uint8_t> window_scale;
  std::uint32_t payload_length = 0;
};

// The window scale option of a SYN (RFC 7323 2.2); malformed options are taken as none.
std::optional<std::uint8_t> WindowScale(const wire::TcpView& tcp) {
  if ((tcp.flags() & TcpFlags::kSyn) == 0) return std::nullopt;
  const wire::Parsed<wire::TcpOptions> options = wire::ParseTcpOptions(tcp.options_bytes());
  return options.ok() ? options->window_scale : std::nullopt;
}

// A TCP segment over IPv4 or IPv6, with its addresses.
std::optional<ParsedTcp> ParseTcp(const std::vector<std::uint8_t>& frame) {
  const wire::Parsed<wire::EthernetView> ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok()) return std::nullopt;
  wire::IpAddress src, dst;
  std::span<const std::uint8_t> segment;
  if (ethernet->ethertype() == wire::EtherType::kIpv4) {
    const wire::Parsed<wire::Ipv4View> ip = wire::Ipv4View::Parse(ethernet->payload());
    if (!ip.ok() || ip->protocol() != wire::IpProtocol::kTcp || ip->is_fragment()) {
      return std::nullopt;
    }
    src = ip->src();
    dst = ip->dst();
    segment = ip->payload();
  } else if (ethernet->ethertype() == wire::EtherType::kIpv6) {
    const wire::Parsed<wire::Ipv6View> ip = wire::Ipv6View::Parse(ethernet->payload());
    if (!ip.ok() || ip->upper_layer_protocol() != wire::IpProtocol::kTcp) return std::nullopt;
    src = ip->src();
    dst = ip->dst();
    segment = ip->upper_layer_payload();
  } else {
    return std::nullopt;
  }
  const wire::Parsed<wire::TcpView> tcp = wire::TcpView::Parse(segment);
  if (!tcp.ok()) return std::nullopt;
  return ParsedTcp{.src = src,
                   .dst = dst,
                   .src_port = tcp->src_port(),
                   .dst_port = tcp->dst_port(),
                   .seq = tcp->seq(),
                   .ack = tcp->ack(),
                   .flags = tcp->flags(),
                   .window = tcp->window(),
                   .window_scale = WindowScale(*tcp),
                   .payload_length = static_cast<std::uint32_t>(tcp->payload().size())};
}

// A segment as a NAT leaves it: addresses and ports change, sequence space and flags do not.
bool SameSegment(const ParsedTcp& a, const ParsedTcp& b) {
  return a.seq == b.seq && a.ack == b.ack && a.flags == b.flags &&
         a.payload_length == b.payload_length;
}

struct Candidate {
  Segment segment;
  ParsedTcp tcp;
};

}  // namespace

Conversation ReadConversation(const Recording& recording, bool behind_nat) {
  Conversation conversation;
  // The connection: our first SYN, or else the first TCP segment on our link.
  std::vector<std::pair<const RecordedFrame*, ParsedTcp>> ours;
  for (const RecordedFrame& frame : recording.stack_link) {
    if (std::optional<ParsedTcp> tcp = ParseTcp(frame.bytes)) ours.emplace_back(&frame, *tcp);
  }
  if (ours.empty()) return conversation;
  auto first = std::find_if(ours.begin(), ours.end(), [](const auto& entry) {
    return entry.first->outgoing && (entry.second.flags & TcpFlags::kSyn) &&
           !(entry.second.flags & TcpFlags::kAck);
  });
  if (first == ours.end()) first = ours.begin();
  const ParsedTcp& opening = first->second;
  const bool opened_by_us = first->first->outgoing;
  conversation.found = true;
  conversation.stack_address = opened_by_us ? opening.src : opening.dst;
  conversation.stack_port = opened_by_us ? opening.src_port : opening.dst_port;
  conversation.peer_address = opened_by_us ? opening.dst : opening.src;
  conversation.peer_port = opened_by_us ? opening.dst_port : opening.src_port;

  std::vector<Candidate> stack_side;
  for (const auto& [frame, tcp] : ours) {
    const bool outgoing = frame->outgoing;
    const std::uint16_t local_port = outgoing ? tcp.src_port : tcp.dst_port;
    const std::uint16_t remote_port = outgoing ? tcp.dst_port : tcp.src_port;
    const wire::IpAddress remote = outgoing ? tcp.dst : tcp.src;
    if (local_port != conversation.stack_port || remote_port != conversation.peer_port ||
        remote != conversation.peer_address) {
      continue;
    }
    Segment segment{.at = frame->at, .order = frame->order, .from_left = outgoing};
    stack_side.push_back({segment, tcp});
  }

  std::vector<Candidate> rows;
  if (!behind_nat) {
    // Without a NAT, what we sent while the peer was unplugged never reached it.
    for (Candidate& candidate : stack_side) {
      if (candidate.segment.from_left) {
        bool unplugged = false;
        for (const Note& note : recording.notes) {
          if (note.order > candidate.segment.order) break;
          if (note.kind == NoteKind::kPeerUnplugged) unplugged = true;
          if (note.kind == NoteKind::kPeerReplugged) unplugged = false;
        }
        candidate.segment.delivered = !unplugged;
      }
      rows.push_back(candidate);
    }
  } else {
    // The server's link: the same connection after the NAT rewrote our address and port.
    std::vector<Candidate> server_side;
    for (const RecordedFrame& frame : recording.server_link) {
      std::optional<ParsedTcp> tcp = ParseTcp(frame.bytes);
      if (!tcp) continue;
      const std::uint16_t server_port = frame.outgoing ? tcp->src_port : tcp->dst_port;
      if (server_port != conversation.peer_port) continue;
      server_side.push_back(
          {Segment{.at = frame.at, .order = frame.order, .from_left = !frame.outgoing}, *tcp});
    }
    // Each link's frames are in their own order, but the two links are read at different moments
    // of the loop: a reply can be recorded on our link before the capture of the server's link
    // is read. So the same segment is matched first-come first-served in each direction, not by
    // recording order, and a row takes the earlier of its two records.
    std::vector<bool> server_used(server_side.size(), false);
    std::vector<bool> stack_used(stack_side.size(), false);
    const auto match = [&](const Candidate& sent, std::vector<Candidate>& seen_at,
                           std::vector<bool>& used) -> const Candidate* {
      for (std::size_t j = 0; j < seen_at.size(); ++j) {
        if (used[j] || seen_at[j].segment.from_left != sent.segment.from_left ||
            !SameSegment(seen_at[j].tcp, sent.tcp)) {
          continue;
        }
        used[j] = true;
        return &seen_at[j];
      }
      return nullptr;
    };
    // Ours: delivered when the same segment shows up arriving at the server.
    for (std::size_t i = 0; i < stack_side.size(); ++i) {
      Candidate& candidate = stack_side[i];
      if (!candidate.segment.from_left) continue;
      stack_used[i] = true;
      candidate.segment.delivered = match(candidate, server_side, server_used) != nullptr;
      rows.push_back(candidate);
    }
    // The server's: delivered when the same segment arrives on our link.
    for (Candidate& candidate : server_side) {
      if (candidate.segment.from_left) continue;
      const Candidate* arrived = match(candidate, stack_side, stack_used);
      candidate.segment.delivered = arrived != nullptr;
      if (arrived != nullptr && arrived->segment.order < candidate.segment.order) {
        candidate.segment.order = arrived->segment.order;
        candidate.segment.at = arrived->segment.at;
      }
      rows.push_back(candidate);
    }
    // Whatever reached us without being seen leaving the server (the capture missed it, or the
    // NAT made it up) still happened on our link.
    for (std::size_t i = 0; i < stack_side.size(); ++i) {
      if (!stack_used[i]) rows.push_back(stack_side[i]);
    }
    std::sort(rows.begin(), rows.end(), [](const Candidate& a, const Candidate& b) {
      return a.segment.order < b.segment.order;
    });
  }

  // Initial sequence numbers: each side's SYN, else the first sequence number it used.
  std::optional<std::uint32_t> stack_isn, peer_isn;
  for (const Candidate& row : rows) {
    std::optional<std::uint32_t>& isn = row.segment.from_left ? stack_isn : peer_isn;
    if (row.tcp.flags & TcpFlags::kSyn) isn = row.tcp.seq;
  }
  for (const Candidate& row : rows) {
    std::optional<std::uint32_t>& isn = row.segment.from_left ? stack_isn : peer_isn;
    if (!isn) isn = row.tcp.seq;
  }
  for (Candidate& row : rows) {
    Segment& segment = row.segment;
    segment.flags = row.tcp.flags;
    segment.seq = row.tcp.seq;
    segment.ack = row.tcp.ack;
    segment.payload_length = row.tcp.payload_length;
    segment.window = row.tcp.window;
    segment.window_scale = row.tcp.window_scale;
    const std::uint32_t own_isn = segment.from_left ? stack_isn.value_or(0) : peer_isn.value_or(0);
    const std::uint32_t other_isn =
        segment.from_left ? peer_isn.value_or(0) : stack_isn.value_or(0);
    segment.relative_seq = row.tcp.seq - own_isn;
    segment.relative_ack = row.tcp.ack - other_isn;
    conversation.segments.push_back(segment);
  }
  diagram::AnalyzeSegments(conversation.segments);
  return conversation;
}

}  // namespace tapstack::tools::demo
