// Counts what the transfer benchmarks report per segment, from the frames themselves, so that
// tapstack and lwIP are counted by the same code: data-carrying segments from the sender (and how
// many of those repeat sequence space already sent), and pure ACKs from the receiver.
#ifndef TAPSTACK_BENCH_SEGMENT_CENSUS_H_
#define TAPSTACK_BENCH_SEGMENT_CENSUS_H_

#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"

namespace tapstack::bench {

class SegmentCensus {
 public:
  // Every frame the sender puts on the link (before any loss).
  void CountFromSender(std::span<const std::uint8_t> frame) {
    ++frames_from_sender_;
    const std::optional<wire::TcpView> tcp = TcpOf(frame);
    if (!tcp || tcp->payload().empty()) return;
    ++data_segments_from_sender_;
    const std::uint32_t end = tcp->seq() + static_cast<std::uint32_t>(tcp->payload().size());
    // Sequence arithmetic: a segment that ends at or before the highest end seen so far repeats
    // data already sent once.
    if (highest_end_ && static_cast<std::int32_t>(end - *highest_end_) <= 0) {
      ++retransmitted_segments_;
    } else {
      highest_end_ = end;
    }
  }

  // Every frame the receiver puts on the link (before any loss). A pure ACK carries no payload
  // and none of SYN, FIN, RST: window updates count, as they cost the same.
  void CountFromReceiver(std::span<const std::uint8_t> frame) {
    const std::optional<wire::TcpView> tcp = TcpOf(frame);
    if (!tcp || !tcp->payload().empty()) return;
    constexpr std::uint8_t kControl =
        wire::TcpFlags::kSyn | wire::TcpFlags::kFin | wire::TcpFlags::kRst;
    if ((tcp->flags() & kControl) == 0) ++pure_acks_from_receiver_;
  }

  // Whether `frame` is a TCP segment with payload.
  static bool CarriesData(std::span<const std::uint8_t> frame) {
    const std::optional<wire::TcpView> tcp = TcpOf(frame);
    return tcp && !tcp->payload().empty();
  }

  std::uint64_t frames_from_sender() const { return frames_from_sender_; }
  std::uint64_t data_segments_from_sender() const { return data_segments_from_sender_; }
  std::uint64_t retransmitted_segments() const { return retransmitted_segments_; }
  std::uint64_t pure_acks_from_receiver() const { return pure_acks_from_receiver_; }

 private:
  static std::optional<wire::TcpView> TcpOf(std::span<const std::uint8_t> frame) {
    const auto ethernet = wire::EthernetView::Parse(frame);
    if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv4) return std::nullopt;
    const auto ip = wire::Ipv4View::Parse(ethernet->payload());
    if (!ip.ok() || ip->protocol() != wire::IpProtocol::kTcp) return std::nullopt;
    const auto tcp = wire::TcpView::Parse(ip->payload());
    if (!tcp.ok()) return std::nullopt;
    return *tcp;
  }

  std::uint64_t frames_from_sender_ = 0;
  std::uint64_t data_segments_from_sender_ = 0;
  std::uint64_t retransmitted_segments_ = 0;
  std::uint64_t pure_acks_from_receiver_ = 0;
  std::optional<std::uint32_t> highest_end_;
};

}  // namespace tapstack::bench

#endif  // TAPSTACK_BENCH_SEGMENT_CENSUS_H_
