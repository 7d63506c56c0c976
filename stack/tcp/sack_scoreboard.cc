#include "stack/tcp/sack_scoreboard.h"

#include <algorithm>
#include <cassert>

namespace tapstack::tcp {

bool SackScoreboard::Update(Seq snd_una, Seq snd_max, std::span<const SeqRange> blocks) {
  Acknowledge(snd_una);
  bool news = false;
  for (SeqRange block : blocks) {
    // RFC 2018 3 gives no meaning to an empty or inverted block, and a block reaching past
    // SND.MAX reports bytes we never sent: a confused or forging peer. Trusting either could
    // keep a byte from being resent.
    if (!(block.left < block.right) || snd_max < block.right) continue;
    if (!(snd_una < block.right)) continue;  // all of it acknowledged already (or a D-SACK)
    block.left = Max(block.left, snd_una);
    if (UnsackedBytes(block.left, block.right) == 0) continue;
    news = true;
    // The ranges the block touches (overlapping or adjacent) become one.
    std::size_t first = 0;
    while (first < count_ && ranges_[first].right < block.left) ++first;
    std::size_t last = first;
    while (last < count_ && !(block.right < ranges_[last].left)) ++last;
    if (first == last) {
      InsertAt(first, block);
      continue;
    }
    const SeqRange merged{Min(block.left, ranges_[first].left),
                          Max(block.right, ranges_[last - 1].right)};
    EraseRanges(first + 1, last);
    ranges_[first] = merged;
  }
  assert(WellFormed(snd_una, snd_max));
  return news;
}

bool SackScoreboard::WellFormed(Seq snd_una, Seq snd_max) const {
  for (std::size_t i = 0; i < count_; ++i) {
    const SeqRange& range = ranges_[i];
    if (!(range.left < range.right) || range.left < snd_una || snd_max < range.right) return false;
    if (i > 0 && !(ranges_[i - 1].right < range.left)) return false;  // sorted, apart
  }
  return true;
}

void SackScoreboard::Acknowledge(Seq snd_una) {
  std::size_t covered = 0;
  while (covered < count_ && !(snd_una < ranges_[covered].right)) ++covered;
  EraseRanges(0, covered);
  if (count_ > 0 && ranges_[0].left < snd_una) ranges_[0].left = snd_una;
  // Copies the cumulative ACK covers are settled; those it reaches into keep their rest.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < resent_count_; ++i) {
    Resent resent = resent_[i];
    if (!(snd_una < resent.range.right)) continue;
    resent.range.left = Max(resent.range.left, snd_una);
    resent_[kept++] = resent;
  }
  resent_count_ = static_cast<std::uint8_t>(kept);
}

void SackScoreboard::RecordResend(SeqRange range, Seq snd_max) {
  // The new copy replaces what older records say of its bytes, so that no byte is in two records
  // (LostResendBytes would count it twice): an older record inside it goes, one that reaches into
  // it keeps the parts before and after it.
  std::array<Resent, kMaxResent * 2 + 1> kept;
  std::size_t count = 0;
  for (std::size_t i = 0; i < resent_count_; ++i) {
    const Resent& resent = resent_[i];
    if (!(resent.range.left < range.right && range.left < resent.range.right)) {
      kept[count++] = resent;
      continue;
    }
    if (resent.range.left < range.left) {
      kept[count++] = Resent{{resent.range.left, range.left}, resent.sent_at_max};
    }
    if (range.right < resent.range.right) {
      kept[count++] = Resent{{range.right, resent.range.right}, resent.sent_at_max};
    }
  }
  kept[count++] = Resent{range, snd_max};
  // Beyond kMaxResent, the oldest copies are forgotten: the timer still covers them.
  const std::size_t first = count > kMaxResent ? count - kMaxResent : 0;
  std::copy(kept.begin() + static_cast<std::ptrdiff_t>(first),
            kept.begin() + static_cast<std::ptrdiff_t>(count), resent_.begin());
  resent_count_ = static_cast<std::uint8_t>(count - first);
}

bool SackScoreboard::CopyLost(const Resent& resent, Seq snd_max, std::uint32_t margin) const {
  if (!(resent.sent_at_max < snd_max)) return false;
  const std::uint32_t sent_after = snd_max - resent.sent_at_max;
  const std::uint32_t sacked_after = sent_after - UnsackedBytes(resent.sent_at_max, snd_max);
  return sacked_after > margin;
}

std::optional<SeqRange> SackScoreboard::FirstLostResend(Seq snd_max, std::uint32_t margin,
                                                        std::uint32_t max_length) const {
  std::optional<SeqRange> lowest;
  for (std::size_t i = 0; i < resent_count_; ++i) {
    const Resent& resent = resent_[i];
    if (lowest && !(resent.range.left < lowest->left)) continue;
    if (!CopyLost(resent, snd_max, margin)) continue;
    if (const auto hole = NextHole(resent.range.left, resent.range.right, max_length)) {
      lowest = hole;
    }
  }
  return lowest;
}

std::uint32_t SackScoreboard::LostResendBytes(Seq from, Seq to, Seq snd_max,
                                              std::uint32_t margin) const {
  std::uint32_t lost = 0;
  for (std::size_t i = 0; i < resent_count_; ++i) {
    const Resent& resent = resent_[i];
    if (!CopyLost(resent, snd_max, margin)) continue;
    lost += UnsackedBytes(Max(resent.range.left, from), Min(resent.range.right, to));
  }
  return lost;
}

Seq SackScoreboard::LostBoundary(Seq floor, std::uint32_t mss, std::uint32_t dup_threshold) const {
  // SACKed bytes above an unSACKed byte only grow as the byte gets lower, so the lost bytes are
  // all those below some range's left edge: walk down from the highest range until the bytes
  // below it qualify.
  const std::uint64_t byte_threshold = std::uint64_t{dup_threshold - 1} * mss;
  std::uint64_t sacked_above = 0;
  for (std::size_t i = count_; i-- > 0;) {
    sacked_above += ranges_[i].length();
    const std::size_t ranges_above = count_ - i;
    if (ranges_above >= dup_threshold || sacked_above > byte_threshold) {
      return Max(floor, ranges_[i].left);
    }
  }
  return floor;
}

std::uint32_t SackScoreboard::UnsackedBytes(Seq from, Seq to) const {
  if (!(from < to)) return 0;
  std::uint32_t unsacked = to - from;
  for (const SeqRange& range : ranges()) {
    const Seq left = Max(range.left, from);
    const Seq right = Min(range.right, to);
    if (left < right) unsacked -= right - left;
  }
  return unsacked;
}

std::optional<SeqRange> SackScoreboard::NextHole(Seq from, Seq limit,
                                                 std::uint32_t max_length) const {
  Seq start = from;
  Seq end = limit;
  for (const SeqRange& range : ranges()) {
    if (!(start < range.right)) continue;  // wholly below the start
    if (!(start < range.left)) {           // the start is SACKed: skip to the range's end
      start = range.right;
      continue;
    }
    end = Min(range.left, limit);
    break;
  }
  if (!(start < end)) return std::nullopt;
  return SeqRange{start, start + std::min(end - start, max_length)};
}

void SackScoreboard::InsertAt(std::size_t index, SeqRange range) {
  if (count_ == kMaxRanges) {
    if (index == kMaxRanges) return;  // higher than every range kept: forget it (see kMaxRanges)
    --count_;                         // forget the highest to make room
  }
  std::copy_backward(ranges_.begin() + index, ranges_.begin() + count_,
                     ranges_.begin() + count_ + 1);
  ranges_[index] = range;
  ++count_;
}

void SackScoreboard::EraseRanges(std::size_t first, std::size_t last) {
  if (first >= last) return;
  std::copy(ranges_.begin() + last, ranges_.begin() + count_, ranges_.begin() + first);
  count_ = static_cast<std::uint8_t>(count_ - (last - first));
}

}  // namespace tapstack::tcp
