// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit
// pseudorandom function, fast on short inputs. Here it is RFC 6528's F() for initial sequence
// numbers, and suits any hash an attacker must not be able to predict (SYN cookies, demux tables).
#ifndef TAPSTACK_STACK_TCP_SIPHASH_H_
#define TAPSTACK_STACK_TCP_SIPHASH_H_

#include <array>
#include <cstdint>
#include <span>

namespace tapstack::tcp {

using SipHashKey = std::array<std::uint8_t, 16>;

// SipHash-2-4 of `data` under the 128-bit `key`. The key bytes are read as two little-endian
// 64-bit words, as in the paper; the result is the paper's 64-bit output value (the reference
// implementation writes it out little-endian).
std::uint64_t SipHash24(const SipHashKey& key, std::span<const std::uint8_t> data);

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_SIPHASH_H_
