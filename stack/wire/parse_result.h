// What a wire parser returns: the parsed value, or the reason the bytes were refused.
//
// Malformed frames are routine input for a stack (truncations, garbage, attacks), so refusing one
// must cost no more than accepting one: the reason is an enum, and its text is a static string
// produced only when someone asks for it (ParseErrorMessage). Parsed<T> keeps the shape of
// absl::StatusOr at the call site (ok(), *x, x->, value()), with error() in place of status().
#ifndef TAPSTACK_STACK_WIRE_PARSE_RESULT_H_
#define TAPSTACK_STACK_WIRE_PARSE_RESULT_H_

#include <cstdint>
#include <cstdlib>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <utility>

namespace tapstack::wire {

// Why a parser refused its bytes. Each parser documents which of these it returns.
enum class ParseError : std::uint8_t {
  kNone,                        // not an error: what error() gives for a parsed value
  kTruncatedHeader,             // fewer bytes than the fixed header (or the whole ARP packet)
  kBadVersion,                  // IP version field is not 4 (IPv4) or 6 (IPv6)
  kBadHeaderLength,             // IPv4 IHL or TCP data offset below 5 words
  kHeaderPastBuffer,            // IPv4 IHL or TCP data offset points past the bytes given
  kTotalLengthBelowHeader,      // IPv4: total length smaller than the header
  kTotalLengthPastBuffer,       // IPv4: total length larger than the bytes given
  kUnsupportedHardwareType,     // ARP: hardware type is not Ethernet
  kUnsupportedProtocolType,     // ARP: protocol type is not IPv4
  kBadAddressLength,            // ARP: address lengths are not 6 and 4
  kOptionTruncated,             // TCP option: a kind with no room for its length byte
  kOptionBadLength,             // TCP option: length 0 or 1, which cannot hold kind and length
  kOptionPastEnd,               // TCP option: length runs past the end of the options
  kOptionWrongLength,           // TCP option: a known kind with a length other than its own
  kPayloadLengthPastBuffer,     // IPv6: payload length larger than the bytes given
  kExtensionHeaderTruncated,    // IPv6: too few payload bytes left for an extension header's fixed
                                // part
  kExtensionHeaderPastPayload,  // IPv6: an extension header's length runs past the payload
  kHopByHopNotFirst,            // IPv6: a hop-by-hop options header not right after the IPv6 header
  kNdOptionZeroLength,          // Neighbor Discovery option with length 0 (RFC 4861 4.6)
  kNdOptionPastEnd,             // Neighbor Discovery option runs past the end of the message
  kNdOptionWrongLength,         // Neighbor Discovery link-layer address option not 8 bytes long
};

// A fixed English description ("IPv4 total length exceeds the bytes received"); nothing is built.
std::string_view ParseErrorMessage(ParseError error);
// Writes ParseErrorMessage(error), for logs and test failure messages.
std::ostream& operator<<(std::ostream& out, ParseError error);

template <typename T>
class [[nodiscard]] Parsed {
 public:
  // Implicit both ways, so a parser writes `return View(bytes);` or `return ParseError::k...;`.
  Parsed(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Parsed(ParseError error) : error_(error) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  // The reason for refusing; ParseError::kNone when ok().
  ParseError error() const { return error_; }

  // The value; only when ok(). value() checks and aborts otherwise (like absl::StatusOr, a
  // program error, not a malformed frame); * and -> do not check.
  const T& value() const& {
    if (!ok()) std::abort();
    return *value_;
  }
  T& value() & {
    if (!ok()) std::abort();
    return *value_;
  }
  T&& value() && {
    if (!ok()) std::abort();
    return *std::move(value_);
  }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  T&& operator*() && { return *std::move(value_); }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  ParseError error_ = ParseError::kNone;
};

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_PARSE_RESULT_H_
