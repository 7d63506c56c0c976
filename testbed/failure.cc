#include "testbed/failure.h"

#include <utility>

namespace tapstack::testbed {
namespace {

// Per thread, as errno is: a test may build scenes on two threads at once.
thread_local std::string last_failure;

}  // namespace

const std::string& LastFailure() { return last_failure; }

std::error_code Fail(std::error_code code, std::string text) {
  last_failure = std::move(text);
  return code;
}

}  // namespace tapstack::testbed
