// The sender's scoreboard (RFC 6675 2): which bytes above SND.UNA the peer's SACK blocks (RFC
// 2018 3) have reported held, and the questions RFC 6675's loss recovery asks of it: is a byte
// lost (IsLost), how many bytes are still in the network (pipe's inputs), where is the next hole
// to resend (NextSeg).
//
// The scoreboard only records. What the sender retransmitted (HighRxt), the congestion window and
// the decision what to send belong to the sender (sender.h). It also keeps, for RACK's rule that a
// copy is lost once data sent after it is delivered (RFC 8985 6.2), the holes resent in this
// recovery and how far the sender had sent when it resent each one: the scoreboard is allocated
// only for connections that see SACK blocks, so the connection itself stays its size.
//
// Ranges are kept sorted, disjoint and never adjacent, as sequence numbers relative to nothing:
// every query is bounded by SND.UNA and SND.MAX, which the caller passes, so the scoreboard needs
// no notion of the window and stays correct when the sequence space wraps (RFC 9293 3.4).
#ifndef TAPSTACK_STACK_TCP_SACK_SCOREBOARD_H_
#define TAPSTACK_STACK_TCP_SACK_SCOREBOARD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/tcp/seq.h"

namespace tapstack::tcp {

// [left, right) of the sequence space: one SACK block (RFC 2018 3), or a run of bytes.
struct SeqRange {
  Seq left;
  Seq right;
  std::uint32_t length() const { return right - left; }
  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

class SackScoreboard {
 public:
  // A receiver reports at most four blocks per ACK, but remembers many more holes than that; 32
  // ranges cover a window of 32 separate losses. When more are reported the highest range is
  // forgotten: the scoreboard then under-reports what is held, which may cost a needless
  // retransmission (answered with a D-SACK) but never loses data, since nothing leaves the send
  // buffer before the cumulative ACK covers it.
  static constexpr std::size_t kMaxRanges = 32;

  // Records the blocks of one ACK. `snd_una` is SND.UNA once the ACK's cumulative
  // acknowledgment is applied, `snd_max` the highest sequence number sent. What a block reports at
  // or below SND.UNA is forgotten (a D-SACK block, RFC 2883 4, lies there or inside data already
  // SACKed, and adds nothing); a block that is empty, inverted or reaches beyond SND.MAX reports
  // data we never sent and is ignored whole. Returns whether any block SACKed bytes not SACKed
  // before: RFC 6675 2 then counts the ACK as a duplicate.
  bool Update(Seq snd_una, Seq snd_max, std::span<const SeqRange> blocks);
  // SND.UNA moved to `snd_una`: the cumulative ACK covers what lies below it.
  void Acknowledge(Seq snd_una);
  // RFC 2018 8: after a retransmission timeout the receiver may have reneged; forget everything,
  // and the copies resent before it, which go-back-N sends again anyway.
  void Clear() {
    count_ = 0;
    resent_count_ = 0;
  }

  bool empty() const { return count_ == 0; }
  std::span<const SeqRange> ranges() const { return {ranges_.data(), count_}; }
  // The right edge of the highest range SACKed; SND.UNA's `fallback` when nothing is.
  Seq HighestSacked(Seq fallback) const { return empty() ? fallback : ranges_[count_ - 1].right; }
  // The left edge of the lowest range: where the first hole above SND.UNA ends.
  std::optional<Seq> FirstSackedLeft() const {
    return empty() ? std::nullopt : std::optional<Seq>(ranges_[0].left);
  }

  // RFC 6675 IsLost, as one boundary: every unSACKed byte below the returned sequence number is
  // lost, none above it is. A byte is lost when `dup_threshold` discontiguous SACKed ranges lie
  // above it, or more than (dup_threshold - 1) * `mss` SACKed bytes do. `floor` (SND.UNA) when no
  // byte is.
  Seq LostBoundary(Seq floor, std::uint32_t mss, std::uint32_t dup_threshold) const;
  // How many bytes of [from, to) are not SACKed.
  std::uint32_t UnsackedBytes(Seq from, Seq to) const;
  // The first run of unSACKed bytes at or after `from` and below `limit`, at most `max_length`
  // long; nullopt when every byte of [from, limit) is SACKed.
  std::optional<SeqRange> NextHole(Seq from, Seq limit, std::uint32_t max_length) const;

  // --- Copies resent in this recovery (RFC 8985 6.2, RACK, for every copy).
  // The most copies remembered; an older one forgotten can still be repaired by the timer.
  static constexpr std::size_t kMaxResent = 16;
  // `range` was resent when SND.MAX was `snd_max`: whatever lies at or above `snd_max` was sent
  // after the copy. The new record replaces what older ones said of the same bytes.
  void RecordResend(SeqRange range, Seq snd_max);
  // The lowest unSACKed run, at most `max_length` long, of a copy that is lost: more than
  // `margin` bytes sent after it are SACKed while it is not. nullopt when no copy is.
  std::optional<SeqRange> FirstLostResend(Seq snd_max, std::uint32_t margin,
                                          std::uint32_t max_length) const;
  // The unSACKed bytes of [from, to) that lie in copies taken for lost (as FirstLostResend does):
  // no longer in the network, so RFC 6675's pipe leaves them out.
  std::uint32_t LostResendBytes(Seq from, Seq to, Seq snd_max, std::uint32_t margin) const;
  // A recovery began or ended: copies resent before belong to no recovery now.
  void ClearResends() { resent_count_ = 0; }

 private:
  struct Resent {
    SeqRange range;
    Seq sent_at_max;  // SND.MAX when the copy went out
  };
  bool CopyLost(const Resent& resent, Seq snd_max, std::uint32_t margin) const;
  // Sorted, disjoint, never adjacent, non-empty, and within [snd_una, snd_max] (checked after
  // every update in debug builds, which the fuzz targets are).
  bool WellFormed(Seq snd_una, Seq snd_max) const;
  void InsertAt(std::size_t index, SeqRange range);
  void EraseRanges(std::size_t first, std::size_t last);

  std::array<SeqRange, kMaxRanges> ranges_{};
  std::uint8_t count_ = 0;
  std::uint8_t resent_count_ = 0;
  std::array<Resent, kMaxResent> resent_{};  // in the order resent
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_SACK_SCOREBOARD_H_
