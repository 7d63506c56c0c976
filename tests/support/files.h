// Files the tests write and read: temporary paths, whole-file reads, and where a test records its
// traffic. (Child processes are the testbed's: testbed/process.h.)
#ifndef TAPSTACK_TESTS_SUPPORT_FILES_H_
#define TAPSTACK_TESTS_SUPPORT_FILES_H_

#include <optional>
#include <string>

namespace tapstack::testing {

// The whole content of a file (empty if it cannot be read).
std::string ReadFile(const std::string& path);

// A fresh path under the test temporary directory, unique per process and call.
std::string TempPath(const std::string& stem);

// Where an interop test records its traffic on the TAP device when TAPSTACK_PCAP_DIR is set:
// DIR/<suite>.<test>[-N].pcap, N counting the calls within one test. scripts/make-corpus.sh sets
// it to turn real traffic into the fuzz seed corpus. nullopt when the variable is unset or empty.
std::optional<std::string> CapturePath();

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_FILES_H_
