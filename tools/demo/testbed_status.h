// The testbed reports errors as errno values, with the sentence in testbed::LastFailure(); the
// demo carries absl::Status between its own functions.
#ifndef TAPSTACK_TOOLS_DEMO_TESTBED_STATUS_H_
#define TAPSTACK_TOOLS_DEMO_TESTBED_STATUS_H_

#include <system_error>

#include "absl/status/status.h"
#include "testbed/failure.h"

namespace tapstack::tools::demo {

// OK for no error; otherwise a status with the code closest to the errno and the testbed's text.
inline absl::Status TestbedStatus(std::error_code error) {
  if (!error) return absl::OkStatus();
  return absl::Status(absl::ErrnoToStatusCode(error.value()), testbed::LastFailure());
}

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_TESTBED_STATUS_H_
