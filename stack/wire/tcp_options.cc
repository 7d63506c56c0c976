#include "stack/wire/tcp_options.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"

namespace tapstack::wire {
namespace {

constexpr std::size_t kMssOptionLen = 4;
constexpr std::size_t kWindowScaleOptionLen = 3;
constexpr std::size_t kSackPermittedOptionLen = 2;
constexpr std::size_t kTimestampsOptionLen = 10;
constexpr std::size_t kSackOptionBaseLen = 2;
constexpr std::size_t kSackBlockLen = 8;

}  // namespace

bool operator==(const TcpOptions& a, const TcpOptions& b) {
  if (a.mss != b.mss || a.window_scale != b.window_scale || a.sack_permitted != b.sack_permitted ||
      a.timestamps != b.timestamps) {
    return false;
  }
  const std::span<const TcpOptions::SackBlock> a_sacks = a.sacks();
  const std::span<const TcpOptions::SackBlock> b_sacks = b.sacks();
  return a_sacks.size() == b_sacks.size() &&
         std::equal(a_sacks.begin(), a_sacks.end(), b_sacks.begin());
}

Parsed<TcpOptions> ParseTcpOptions(std::span<const std::uint8_t> bytes) {
  TcpOptions options;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::uint8_t kind = bytes[pos];
    if (kind == TcpOptionKind::kEndOfList) break;
    if (kind == TcpOptionKind::kNoOperation) {
      ++pos;
      continue;
    }
    // Every other option is kind, length (counting kind and length bytes), data (RFC 9293 3.1).
    if (pos + 1 >= bytes.size()) return ParseError::kOptionTruncated;
    const std::size_t length = bytes[pos + 1];
    if (length < 2) return ParseError::kOptionBadLength;
    if (length > bytes.size() - pos) return ParseError::kOptionPastEnd;
    const std::uint8_t* data = &bytes[pos + 2];
    switch (kind) {
      case TcpOptionKind::kMaxSegmentSize:
        if (length != kMssOptionLen) return ParseError::kOptionWrongLength;
        options.mss = LoadBe16(data);
        break;
      case TcpOptionKind::kWindowScale:
        if (length != kWindowScaleOptionLen) return ParseError::kOptionWrongLength;
        options.window_scale = data[0];
        break;
      case TcpOptionKind::kSackPermitted:
        if (length != kSackPermittedOptionLen) return ParseError::kOptionWrongLength;
        options.sack_permitted = true;
        break;
      case TcpOptionKind::kSack: {
        const std::size_t block_bytes = length - kSackOptionBaseLen;
        const std::size_t block_count = block_bytes / kSackBlockLen;
        if (block_bytes % kSackBlockLen != 0 || block_count == 0 ||
            block_count > TcpOptions::kMaxSackBlocks) {
          return ParseError::kOptionWrongLength;
        }
        for (std::size_t i = 0; i < block_count; ++i) {
          options.sack_blocks[i] = {LoadBe32(data + i * kSackBlockLen),
                                    LoadBe32(data + i * kSackBlockLen + 4)};
        }
        options.sack_block_count = block_count;
        break;
      }
      case TcpOptionKind::kTimestamps:
        if (length != kTimestampsOptionLen) return ParseError::kOptionWrongLength;
        options.timestamps = TcpOptions::Timestamps{LoadBe32(data), LoadBe32(data + 4)};
        break;
      default:  // unknown: skipped
        break;
    }
    pos += length;
  }
  return options;
}

std::size_t TcpOptionsLen(const TcpOptions& options) {
  std::size_t len = 0;
  if (options.mss) len += kMssOptionLen;
  // SACK-permitted and timestamps share one 12-byte run when both are present; each alone is
  // preceded by two no-operations.
  if (options.sack_permitted && options.timestamps) {
    len += kSackPermittedOptionLen + kTimestampsOptionLen;
  } else if (options.timestamps) {
    len += 2 + kTimestampsOptionLen;
  } else if (options.sack_permitted) {
    len += 2 + kSackPermittedOptionLen;
  }
  if (options.window_scale) len += 1 + kWindowScaleOptionLen;
  if (options.sack_block_count > 0) {
    len += 2 + kSackOptionBaseLen + options.sack_block_count * kSackBlockLen;
  }
  return len;
}

std::size_t SackBlocksThatFit(const TcpOptions& options, std::size_t max_len) {
  TcpOptions others = options;
  others.sack_block_count = 0;
  const std::size_t used = TcpOptionsLen(others) + 2 + kSackOptionBaseLen;
  const std::size_t limit = std::min(max_len, kTcpMaxOptionsLen);
  if (used >= limit) return 0;
  return std::min((limit - used) / kSackBlockLen, TcpOptions::kMaxSackBlocks);
}

std::size_t WriteTcpOptions(const TcpOptions& options, std::span<std::uint8_t> out) {
  const std::size_t len = TcpOptionsLen(options);
  if (options.sack_block_count > TcpOptions::kMaxSackBlocks || len > kTcpMaxOptionsLen ||
      len > out.size()) {
    return 0;
  }
  std::uint8_t* p = out.data();
  auto put = [&p](std::uint8_t byte) { *p++ = byte; };
  if (options.mss) {
    put(TcpOptionKind::kMaxSegmentSize);
    put(kMssOptionLen);
    StoreBe16(p, *options.mss);
    p += 2;
  }
  auto put_sack_permitted = [&put] {
    put(TcpOptionKind::kSackPermitted);
    put(kSackPermittedOptionLen);
  };
  auto put_timestamps = [&put, &p](const TcpOptions::Timestamps& timestamps) {
    put(TcpOptionKind::kTimestamps);
    put(kTimestampsOptionLen);
    StoreBe32(p, timestamps.value);
    StoreBe32(p + 4, timestamps.echo_reply);
    p += 8;
  };
  if (options.sack_permitted && options.timestamps) {
    put_sack_permitted();
    put_timestamps(*options.timestamps);
  } else if (options.timestamps) {
    put(TcpOptionKind::kNoOperation);
    put(TcpOptionKind::kNoOperation);
    put_timestamps(*options.timestamps);
  } else if (options.sack_permitted) {
    put(TcpOptionKind::kNoOperation);
    put(TcpOptionKind::kNoOperation);
    put_sack_permitted();
  }
  if (options.window_scale) {
    put(TcpOptionKind::kNoOperation);
    put(TcpOptionKind::kWindowScale);
    put(kWindowScaleOptionLen);
    put(*options.window_scale);
  }
  if (options.sack_block_count > 0) {
    put(TcpOptionKind::kNoOperation);
    put(TcpOptionKind::kNoOperation);
    put(TcpOptionKind::kSack);
    put(static_cast<std::uint8_t>(kSackOptionBaseLen + options.sack_block_count * kSackBlockLen));
    for (const TcpOptions::SackBlock& block : options.sacks()) {
      StoreBe32(p, block.left);
      StoreBe32(p + 4, block.right);
      p += kSackBlockLen;
    }
  }
  return len;
}

}  // namespace tapstack::wire
