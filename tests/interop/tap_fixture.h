// A namespace with a TAP device whose kernel side is 192.0.2.1/24 (the testbed's recipe,
// testbed/topology.h), and helpers to run the real `tapstack` binary on it as 192.0.2.2.
#ifndef TAPSTACK_TESTS_INTEROP_TAP_FIXTURE_H_
#define TAPSTACK_TESTS_INTEROP_TAP_FIXTURE_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "testbed/process.h"
#include "testbed/topology.h"
#include "tests/support/files.h"
#include "tests/support/netns.h"

namespace tapstack::testing {

// The testbed's addresses as text, for command lines.
inline const std::string kStackAddress = testbed::kStackAddress.ToString();
inline const std::string kKernelAddress = testbed::kTapKernelAddress.ToString();
// The IPv6 addresses the IPv6 tests give both sides (RFC 3849's documentation prefix).
inline const std::string kStackAddress6 = "2001:db8::2";
inline const std::string kKernelAddress6 = "2001:db8::1";
using testbed::kStackMac;

class TapTest : public NetnsTest {
 protected:
  void SetUp() override;

  // Starts `tapstack SUBCOMMAND --netns NS --tap tap0 --addr 192.0.2.2/24 --mac ... ARGS`, with
  // `--pcap CapturePath()` when TAPSTACK_PCAP_DIR is set and ARGS have no --pcap.
  testbed::Process StartTapstack(const std::string& subcommand,
                                 const std::vector<std::string>& args,
                                 const std::string& input_path = "");
  // Waits until the stack answers ARP from the kernel side (the process attached to the TAP).
  void WaitUntilStackAnswers();
  // Attaching to the TAP turns its carrier on, but the kernel starts transmitting on it only once
  // its link watcher has run (it may wait up to a second): until then what it sends us, its ARP
  // answers first, is dropped, and the first exchange would take a 1 s retry. Waits for that.
  void WaitForOperstateUp();
  // Gives the kernel's tap0 kKernelAddress6/64, skipping its duplicate address detection (nodad):
  // the kernel's DAD is not what the tests check, and would hold the address back a second.
  void AddKernelIpv6Address();
  std::string output_path() const { return output_path_; }
  std::string Output() const { return ReadFile(output_path_); }
  // "name value" lines of `--stats` output.
  static std::map<std::string, long long> ParseStats(const std::string& output);

 private:
  std::string output_path_;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_INTEROP_TAP_FIXTURE_H_
