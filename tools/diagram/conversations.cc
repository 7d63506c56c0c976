#include "tools/diagram/conversations.h"

#include <map>
#include <optional>
#include <tuple>

#include "stack/wire/tcp.h"

namespace tapstack::tools::diagram {
namespace {

using wire::TcpFlags;

// A 4-tuple that is the same whichever way a segment goes: the lower endpoint first.
using TupleKey = std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>;

TupleKey KeyOf(const CapturedTcp& tcp) {
  const auto a = std::make_pair(tcp.src.value(), tcp.src_port);
  const auto b = std::make_pair(tcp.dst.value(), tcp.dst_port);
  const auto& low = a < b ? a : b;
  const auto& high = a < b ? b : a;
  return {low.first, low.second, high.first, high.second};
}

struct Building {
  TcpConversation conversation;
  std::vector<const CapturedPacket*> packets;
  bool fin_from_left = false;
  bool fin_from_right = false;
  bool reset = false;
  bool ended() const { return reset || (fin_from_left && fin_from_right); }
};

TcpConversation Finish(Building& building, std::chrono::nanoseconds origin) {
  TcpConversation& conversation = building.conversation;
  const Endpoint left = conversation.left;
  // Initial sequence numbers: each side's SYN, else the first sequence number it used.
  std::optional<std::uint32_t> left_isn;
  std::optional<std::uint32_t> right_isn;
  const auto from_left = [&left](const CapturedTcp& tcp) {
    return tcp.src == left.address && tcp.src_port == left.port;
  };
  for (const CapturedPacket* packet : building.packets) {
    if ((packet->tcp.flags & TcpFlags::kSyn) == 0) continue;
    std::optional<std::uint32_t>& isn = from_left(packet->tcp) ? left_isn : right_isn;
    if (!isn) isn = packet->tcp.seq;
  }
  for (const CapturedPacket* packet : building.packets) {
    std::optional<std::uint32_t>& isn = from_left(packet->tcp) ? left_isn : right_isn;
    if (!isn) isn = packet->tcp.seq;
  }
  for (const CapturedPacket* packet : building.packets) {
    const CapturedTcp& tcp = packet->tcp;
    const bool ours = from_left(tcp);
    Segment segment;
    segment.at = std::chrono::duration_cast<timers::Duration>(packet->timestamp - origin);
    segment.order = packet->number;
    segment.from_left = ours;
    segment.flags = tcp.flags;
    segment.seq = tcp.seq;
    segment.ack = tcp.ack;
    segment.relative_seq = tcp.seq - (ours ? *left_isn : *right_isn);
    segment.relative_ack = tcp.ack - (ours ? right_isn.value_or(0) : left_isn.value_or(0));
    segment.payload_length = tcp.payload_length;
    segment.window = tcp.window;
    segment.window_scale = tcp.window_scale;
    conversation.segments.push_back(segment);
  }
  AnalyzeSegments(conversation.segments);
  return std::move(conversation);
}

}  // namespace

std::vector<TcpConversation> SplitConversations(const std::vector<CapturedPacket>& packets,
                                                std::chrono::nanoseconds origin) {
  std::vector<Building> conversations;
  std::map<TupleKey, std::size_t> current;  // the 4-tuple's latest conversation
  for (const CapturedPacket& packet : packets) {
    const CapturedTcp& tcp = packet.tcp;
    const bool opening = (tcp.flags & TcpFlags::kSyn) != 0 && (tcp.flags & TcpFlags::kAck) == 0;
    const TupleKey key = KeyOf(tcp);
    auto found = current.find(key);
    if (found == current.end() || (opening && conversations[found->second].ended())) {
      Building building;
      building.conversation.stream = static_cast<int>(conversations.size());
      // The opener on the left; without its SYN, whoever spoke first (a SYN,ACK's receiver).
      const bool reply = (tcp.flags & TcpFlags::kSyn) != 0 && (tcp.flags & TcpFlags::kAck) != 0;
      building.conversation.left =
          reply ? Endpoint{tcp.dst, tcp.dst_port} : Endpoint{tcp.src, tcp.src_port};
      building.conversation.right =
          reply ? Endpoint{tcp.src, tcp.src_port} : Endpoint{tcp.dst, tcp.dst_port};
      building.conversation.opened_in_capture = opening || reply;
      building.conversation.first_timestamp = packet.timestamp;
      conversations.push_back(std::move(building));
      found = current.insert_or_assign(key, conversations.size() - 1).first;
    }
    Building& building = conversations[found->second];
    building.packets.push_back(&packet);
    const bool from_left = tcp.src == building.conversation.left.address &&
                           tcp.src_port == building.conversation.left.port;
    if ((tcp.flags & TcpFlags::kFin) != 0)
      (from_left ? building.fin_from_left : building.fin_from_right) = true;
    if ((tcp.flags & TcpFlags::kRst) != 0) building.reset = true;
  }
  std::vector<TcpConversation> finished;
  finished.reserve(conversations.size());
  for (Building& building : conversations) finished.push_back(Finish(building, origin));
  return finished;
}

}  // namespace tapstack::tools::diagram
