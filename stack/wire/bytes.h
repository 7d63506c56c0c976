// Value types for the addresses carried in frames, and big-endian ("network byte order", RFC 1700)
// loads and stores.
//
// The Load/Store helpers take raw pointers: callers are the views and builders of this folder,
// which check the buffer length once before any field access.
#ifndef TAPSTACK_STACK_WIRE_BYTES_H_
#define TAPSTACK_STACK_WIRE_BYTES_H_

#include <array>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace tapstack::wire {

constexpr std::uint16_t LoadBe16(const std::uint8_t* bytes) {
  return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

constexpr std::uint32_t LoadBe32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

constexpr void StoreBe16(std::uint8_t* bytes, std::uint16_t value) {
  bytes[0] = static_cast<std::uint8_t>(value >> 8);
  bytes[1] = static_cast<std::uint8_t>(value);
}

constexpr void StoreBe32(std::uint8_t* bytes, std::uint32_t value) {
  bytes[0] = static_cast<std::uint8_t>(value >> 24);
  bytes[1] = static_cast<std::uint8_t>(value >> 16);
  bytes[2] = static_cast<std::uint8_t>(value >> 8);
  bytes[3] = static_cast<std::uint8_t>(value);
}

// A 48-bit IEEE 802 MAC address, octets in transmission order.
class MacAddress {
 public:
  static constexpr std::size_t kLength = 6;
  using Octets = std::array<std::uint8_t, kLength>;

  constexpr MacAddress() = default;  // 00:00:00:00:00:00
  // Implicit: a MacAddress is exactly its six octets, so `MacAddress m = {{0x02, 0, 0, 0, 0, 1}}`
  // reads naturally.
  constexpr MacAddress(const Octets& octets) : octets_(octets) {}  // NOLINT(runtime/explicit)

  // Reads six octets starting at `bytes`.
  static constexpr MacAddress FromBytes(const std::uint8_t* bytes) {
    Octets octets{};
    for (std::size_t i = 0; i < kLength; ++i) octets[i] = bytes[i];
    return MacAddress(octets);
  }
  static constexpr MacAddress Broadcast() {
    return MacAddress(Octets{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }
  // Accepts exactly six colon-separated groups of one or two hex digits ("2:0:0:0:0:a1" too).
  static std::optional<MacAddress> Parse(std::string_view text);

  constexpr const Octets& octets() const { return octets_; }
  // Writes the six octets starting at `out`.
  constexpr void ToBytes(std::uint8_t* out) const {
    for (std::size_t i = 0; i < kLength; ++i) out[i] = octets_[i];
  }

  constexpr bool IsBroadcast() const { return *this == Broadcast(); }
  // The I/G bit, the least significant bit of the first octet (IEEE 802-2014 8.2). True for the
  // broadcast address as well.
  constexpr bool IsMulticast() const { return (octets_[0] & 0x01) != 0; }

  // Lower-case hex, two digits per octet: "02:00:00:00:00:01".
  std::string ToString() const;

  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;

  template <typename H>
  friend H AbslHashValue(H state, const MacAddress& address) {
    return H::combine(std::move(state), address.octets_);
  }

 private:
  Octets octets_{};
};

// An IPv4 address (RFC 791 3.1), held as a host-order integer so that masks and comparisons are
// plain arithmetic: 10.0.0.1 is 0x0a000001.
class Ipv4Address {
 public:
  static constexpr std::size_t kLength = 4;
  using Octets = std::array<std::uint8_t, kLength>;

  constexpr Ipv4Address() = default;  // 0.0.0.0
  constexpr explicit Ipv4Address(std::uint32_t host_order_value) : value_(host_order_value) {}
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
               std::uint32_t{d}) {}

  // Reads four octets in network order starting at `bytes`.
  static constexpr Ipv4Address FromBytes(const std::uint8_t* bytes) {
    return Ipv4Address(LoadBe32(bytes));
  }
  static constexpr Ipv4Address FromBytes(const Octets& octets) { return FromBytes(octets.data()); }
  // Dotted decimal, exactly four decimal parts of 0..255 without leading zeros ("10.0.0.1").
  static std::optional<Ipv4Address> Parse(std::string_view text);

  constexpr std::uint32_t value() const { return value_; }
  constexpr Octets ToBytes() const {
    Octets octets{};
    StoreBe32(octets.data(), value_);
    return octets;
  }
  // Writes the four octets in network order starting at `out`.
  constexpr void ToBytes(std::uint8_t* out) const { StoreBe32(out, value_); }

  // True when the first `prefix_len` bits of both addresses agree. prefix_len 0 matches every
  // address; values above 32 count as 32.
  constexpr bool InSameSubnet(Ipv4Address other, int prefix_len) const {
    if (prefix_len <= 0) return true;
    if (prefix_len >= 32) return value_ == other.value_;
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix_len);
    return (value_ & mask) == (other.value_ & mask);
  }

  constexpr bool IsUnspecified() const { return value_ == 0; }
  constexpr bool IsBroadcast() const { return value_ == 0xffffffff; }   // limited broadcast
  constexpr bool IsMulticast() const { return (value_ >> 28) == 0xe; }  // 224.0.0.0/4
  constexpr bool IsLoopback() const { return (value_ >> 24) == 127; }   // 127.0.0.0/8

  std::string ToString() const;

  friend constexpr bool operator==(Ipv4Address, Ipv4Address) = default;
  friend constexpr bool operator<(Ipv4Address a, Ipv4Address b) { return a.value_ < b.value_; }

  template <typename H>
  friend H AbslHashValue(H state, Ipv4Address address) {
    return H::combine(std::move(state), address.value_);
  }

 private:
  std::uint32_t value_ = 0;
};

// For GoogleTest failure messages and logs.
std::ostream& operator<<(std::ostream& out, const MacAddress& address);
std::ostream& operator<<(std::ostream& out, Ipv4Address address);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_BYTES_H_
