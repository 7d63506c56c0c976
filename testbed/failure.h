// The sentence that goes with an error a testbed function returned.
//
// The testbed reports errors as the rest of the project does, std::error_code values with POSIX
// errno numbers (stack/result.h). But a scene is built from `ip`, `nft` and `sysctl` commands, and
// when one fails, what it printed is the only useful diagnosis. So, as strerror goes with errno,
// LastFailure() holds, for the calling thread, the text of the last error a testbed function
// returned: the command and its output, or the step and the system call that failed.
#ifndef TAPSTACK_TESTBED_FAILURE_H_
#define TAPSTACK_TESTBED_FAILURE_H_

#include <string>
#include <system_error>

namespace tapstack::testbed {

// The text of the last error a testbed function returned on this thread.
const std::string& LastFailure();

// Records `text` as the last failure and returns `code`: `return Fail(Errno(EIO), "...")`.
std::error_code Fail(std::error_code code, std::string text);

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_FAILURE_H_
