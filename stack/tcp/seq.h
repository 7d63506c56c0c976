// TCP sequence numbers (RFC 9293 3.4): 32-bit values compared modulo 2^32, so that comparisons
// keep working when the space wraps mid-connection. Raw `uint32_t <` is never used on them.
#ifndef TAPSTACK_STACK_TCP_SEQ_H_
#define TAPSTACK_STACK_TCP_SEQ_H_

#include <compare>
#include <cstdint>

namespace tapstack::tcp {

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(std::uint32_t value) : value_(value) {}

  constexpr std::uint32_t value() const { return value_; }

  // a < b when b lies in the half of the space after a: the sign of the 32-bit difference.
  friend constexpr std::strong_ordering operator<=>(Seq a, Seq b) {
    const auto difference = static_cast<std::int32_t>(a.value_ - b.value_);
    return difference <=> 0;
  }
  friend constexpr bool operator==(Seq a, Seq b) = default;

  constexpr Seq operator+(std::uint32_t n) const { return Seq(value_ + n); }
  constexpr Seq operator-(std::uint32_t n) const { return Seq(value_ - n); }
  constexpr Seq& operator+=(std::uint32_t n) {
    value_ += n;
    return *this;
  }
  // Distance from `earlier` to this; meaningful when earlier <= *this.
  constexpr std::uint32_t operator-(Seq earlier) const { return value_ - earlier.value_; }

 private:
  std::uint32_t value_ = 0;
};

// RFC 9293 3.4: is `seq` in [low, high) / [low, high] of the sequence space?
constexpr bool InHalfOpenRange(Seq seq, Seq low, Seq high) { return low <= seq && seq < high; }
constexpr bool InClosedRange(Seq seq, Seq low, Seq high) { return low <= seq && seq <= high; }

constexpr Seq Max(Seq a, Seq b) { return a < b ? b : a; }
constexpr Seq Min(Seq a, Seq b) { return a < b ? a : b; }

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_SEQ_H_
