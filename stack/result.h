// The one error model of tapstack's public API: errors are std::error_code values in the POSIX
// (generic) category, so EINVAL, ENOENT, EPERM or ETIMEDOUT read as they do with system calls and
// sockets, and compare equal to std::errc values. A function that returns nothing returns a plain
// std::error_code (empty on success); one that returns a value returns Result<T>, the value or the
// error that prevented it, in the shape of C++23's std::expected.
//
// Both the stack and the tap library use it; this header depends on nothing but the standard
// library, so the tap library does not depend on the protocol stack by including it.
#ifndef TAPSTACK_STACK_RESULT_H_
#define TAPSTACK_STACK_RESULT_H_

#include <cassert>
#include <optional>
#include <system_error>
#include <utility>

namespace tapstack {

// An errno value as a std::error_code in the generic category: Errno(EINVAL).
inline std::error_code Errno(int value) { return std::error_code(value, std::generic_category()); }

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit both ways, so a function writes `return value;` or `return Errno(EINVAL);`.
  Result(T value) : value_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(std::error_code error) : error_(error) { assert(error_); }  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Empty when ok().
  std::error_code error() const { return error_; }

  // The value; requires ok(). The rvalue overloads move it out, which is how a move-only value
  // (a std::unique_ptr<TapDevice>) leaves: std::move(result).value() or *std::move(result).
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T& value() & {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return *std::move(value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  // std::optional rather than a default-constructed T: T need not be default-constructible.
  std::optional<T> value_;
  std::error_code error_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_RESULT_H_
