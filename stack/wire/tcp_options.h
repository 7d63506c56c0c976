// TCP options (RFC 9293 3.1 "Options", 3.2): parsing the option bytes of a received header and
// writing the options the stack sends.
//
//   kind 0 end of option list (RFC 9293 3.2)     kind 1 no-operation (RFC 9293 3.2)
//   kind 2 maximum segment size, length 4 (RFC 9293 3.7.1)
//   kind 3 window scale, length 3 (RFC 7323 2.2)
//   kind 4 SACK permitted, length 2 (RFC 2018 2)
//   kind 5 SACK, length 2 + 8n, 1 <= n <= 4 (RFC 2018 3)
//   kind 8 timestamps, length 10 (RFC 7323 3.2)
// Other kinds are skipped by their length (RFC 9293 3.1: "must be prepared to handle an illegal
// option length ... without crashing" and to ignore unknown options).
#ifndef TAPSTACK_STACK_WIRE_TCP_OPTIONS_H_
#define TAPSTACK_STACK_WIRE_TCP_OPTIONS_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/parse_result.h"

namespace tapstack::wire {

inline constexpr std::size_t kTcpMaxOptionsLen = 40;  // data offset 15 words minus 5

struct TcpOptionKind {
  static constexpr std::uint8_t kEndOfList = 0;
  static constexpr std::uint8_t kNoOperation = 1;
  static constexpr std::uint8_t kMaxSegmentSize = 2;
  static constexpr std::uint8_t kWindowScale = 3;
  static constexpr std::uint8_t kSackPermitted = 4;
  static constexpr std::uint8_t kSack = 5;
  static constexpr std::uint8_t kTimestamps = 8;
};

// The options of one segment. Fixed size, no allocation. When an option appears twice the last
// occurrence wins.
struct TcpOptions {
  static constexpr std::size_t kMaxSackBlocks = 4;

  // RFC 2018 3: one contiguous block of received data, [left, right) in sequence space.
  struct SackBlock {
    std::uint32_t left = 0;
    std::uint32_t right = 0;
    friend bool operator==(const SackBlock&, const SackBlock&) = default;
  };
  // RFC 7323 3.2: TSval and TSecr.
  struct Timestamps {
    std::uint32_t value = 0;
    std::uint32_t echo_reply = 0;
    friend bool operator==(const Timestamps&, const Timestamps&) = default;
  };

  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;  // the shift count as received, not clamped to 14
  bool sack_permitted = false;
  std::array<SackBlock, kMaxSackBlocks> sack_blocks{};
  std::size_t sack_block_count = 0;  // blocks in use, from the front of sack_blocks
  std::optional<Timestamps> timestamps;

  std::span<const SackBlock> sacks() const {
    return std::span<const SackBlock>(sack_blocks)
        .first(std::min(sack_block_count, kMaxSackBlocks));
  }

  // Compares only the SACK blocks in use.
  friend bool operator==(const TcpOptions& a, const TcpOptions& b);
};

// Parses the option bytes of a TCP header (TcpView::options_bytes()). Stops at end-of-list; the
// bytes after it are padding. Fails with kOptionTruncated (a kind with no length byte),
// kOptionBadLength (a length of 0 or 1), kOptionPastEnd (an option running past the end of
// `bytes`) or kOptionWrongLength (a known option with a length other than its own).
Parsed<TcpOptions> ParseTcpOptions(std::span<const std::uint8_t> bytes);

// The length of the options WriteTcpOptions writes, a multiple of 4. It may exceed
// kTcpMaxOptionsLen (say, four SACK blocks with timestamps): such options cannot be sent.
std::size_t TcpOptionsLen(const TcpOptions& options);

// How many SACK blocks (RFC 2018 3) fit beside the other options of `options` (its own blocks are
// not counted) when the options may take at most `max_len` bytes: the SACK option costs two
// no-operations for alignment, its kind and length, and 8 bytes a block. At most kMaxSackBlocks:
// 4 alone, 3 beside timestamps, as RFC 2018 3 works out.
std::size_t SackBlocksThatFit(const TcpOptions& options, std::size_t max_len = kTcpMaxOptionsLen);

// Writes `options` into the start of `out`, each option aligned with no-operations the way Linux
// lays them out (MSS; SACK-permitted with timestamps; window scale; SACK blocks). Returns the bytes
// written, TcpOptionsLen(options), or 0 without writing when `out` is too small, the options do
// not fit in kTcpMaxOptionsLen, or sack_block_count exceeds kMaxSackBlocks (0 is also the length
// of empty options: check TcpOptionsLen first to tell the two apart).
std::size_t WriteTcpOptions(const TcpOptions& options, std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_TCP_OPTIONS_H_
