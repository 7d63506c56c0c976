// `tapstack demo` end to end, as CI runs it: every scenario against the Linux kernel in the
// namespaces the demo builds, with its verdicts; its cleanup when interrupted mid-scenario and
// after an earlier demo was killed outright. Each scenario is its own test case, so that
// `ctest -j2` runs them side by side (the demo names its namespaces after its pid).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testbed/process.h"
#include "tests/support/browser.h"
#include "tests/support/files.h"
#include "tests/support/netns.h"
#include "tests/support/text_diagram.h"
#include "tests/support/tshark.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Far above the demo's own run time (about 10 s per scenario), so that only a hang trips it.
constexpr auto kScenarioTimeout = seconds(90);

std::string NamespacePrefix(pid_t pid) { return absl::StrCat("tsdemo-", pid, "-"); }

// The demo's namespaces still listed by `ip netns list`.
std::vector<std::string> NamespacesOf(pid_t pid) {
  std::vector<std::string> names;
  const CommandResult list = RunShell("ip netns list");
  for (absl::string_view line : absl::StrSplit(list.output, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, NamespacePrefix(pid))) {
      names.emplace_back(line.substr(0, line.find(' ')));
    }
  }
  return names;
}

// Processes whose command line names one of the demo's namespaces (its kernel peers take the
// namespace name as an argument).
std::vector<std::string> ProcessesOf(pid_t pid) {
  std::vector<std::string> found;
  const std::string tag = NamespacePrefix(pid);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(tag) != std::string::npos) found.push_back(name + ": " + cmdline);
  }
  return found;
}

struct ScenarioCase {
  int number;
  std::vector<std::string> verdicts;   // ids that must be "expected"
  std::vector<std::string> must_show;  // text the diagrams must contain
  std::vector<std::string> pcaps;      // files the scenario writes
  // tshark's own keepalive analysis of the first pcap: probes it marks, answers it marks
  // (-1: not checked).
  int tshark_probes = -1;
  int tshark_probe_answers = -1;
  bool ipv6 = false;  // run with --ipv6
};

// Keeps the test names short in ctest's listing (gtest would print the struct's bytes).
void PrintTo(const ScenarioCase& scenario, std::ostream* out) {
  *out << "scenario " << scenario.number << (scenario.ipv6 ? " over IPv6" : "");
}

class DemoScenarioTest : public ::testing::TestWithParam<ScenarioCase> {};

TEST_P(DemoScenarioTest, EveryVerdictIsExpected) {
  if (!RequireTapOrSkip()) return;
  const ScenarioCase& scenario = GetParam();
  const std::string out_dir = TempPath("demo-out");
  const std::string output_path = TempPath("demo.out");
  std::vector<std::string> argv = {
      TAPSTACK_BINARY, "demo",  "--scenario", absl::StrCat(scenario.number),
      "--out",         out_dir, "--html",     absl::StrCat(out_dir, "/demo.html")};
  if (scenario.ipv6) argv.push_back("--ipv6");
  Result<testbed::Process> demo = testbed::Process::Spawn(argv, {.output_path = output_path});
  ASSERT_TRUE(demo.ok()) << demo.error().message();
  const auto started = std::chrono::steady_clock::now();
  const std::optional<int> status = demo->Wait(kScenarioTimeout);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string output = ReadFile(output_path);
  ASSERT_TRUE(status.has_value()) << "the demo did not end within 90 s:\n" << output;
  EXPECT_EQ(*status, 0) << output;
  for (const std::string& id : scenario.verdicts) {
    EXPECT_THAT(output, HasSubstr(absl::StrCat("\nverdict ", id, ": expected ("))) << output;
  }
  EXPECT_THAT(output, Not(HasSubstr("unexpected"))) << output;
  for (const std::string& text : scenario.must_show) EXPECT_THAT(output, HasSubstr(text));
  for (const std::string& pcap : scenario.pcaps) {
    const std::string path = absl::StrCat(out_dir, "/", pcap);
    EXPECT_THAT(output, HasSubstr(absl::StrCat("pcap: ", path)));
    std::error_code error;
    EXPECT_GT(std::filesystem::file_size(path, error), 24u) << path << ": " << error.message();
  }
  if (scenario.tshark_probes >= 0) {
    const std::string pcap = absl::StrCat(out_dir, "/", scenario.pcaps.front());
    EXPECT_EQ(TsharkCount(pcap, scenario.ipv6 ? "tcp.analysis.keep_alive && ipv6.src == 2001:db8::2"
                                              : "tcp.analysis.keep_alive && ip.src == 192.0.2.2"),
              scenario.tshark_probes);
    if (scenario.ipv6) {
      EXPECT_EQ(TsharkCount(pcap, "ip && tcp"), 0) << "TCP over IPv6 only";
    }
    EXPECT_EQ(TsharkCount(pcap, "tcp.analysis.keep_alive_ack"), scenario.tshark_probe_answers);
  }
  // The web page, in a real browser: no console message, one diagram per scenario part, as many
  // arrows as the text diagrams; the screenshot stays under the build tree.
  std::filesystem::create_directories(TAPSTACK_ARTIFACT_DIR);
  absl::StatusOr<BrowserRun> browser =
      LoadInChromium(absl::StrCat(out_dir, "/demo.html"),
                     absl::StrCat(TAPSTACK_ARTIFACT_DIR, "/demo-scenario-", scenario.number,
                                  scenario.ipv6 ? "-ipv6" : "", ".png"));
  EXPECT_TRUE(browser.ok()) << browser.status();
  if (browser.ok()) {
    EXPECT_FALSE(browser->console_messages()) << browser->log;
    EXPECT_EQ(Occurrences(browser->dom, "<svg"), static_cast<int>(scenario.verdicts.size()));
    EXPECT_EQ(Occurrences(browser->dom, "<g class=\"segment"), TextDiagramArrows(output));
    EXPECT_GT(TextDiagramArrows(output), 3);
    for (const std::string& id : scenario.verdicts) {
      EXPECT_THAT(browser->dom, HasSubstr(absl::StrCat("verdict ", id, ": expected (")));
    }
  }
  EXPECT_THAT(NamespacesOf(demo->pid()), IsEmpty());
  EXPECT_THAT(ProcessesOf(demo->pid()), IsEmpty());
  // The pcap files of a failed run are kept for a look with tshark.
  if (HasFailure()) {
    std::printf("the demo's output and pcap files: %s, %s\n", output_path.c_str(), out_dir.c_str());
  } else {
    std::filesystem::remove_all(out_dir);
  }
  std::printf("scenario %d: the demo took %.1f s\n", scenario.number, took);
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, DemoScenarioTest,
    ::testing::Values(
        ScenarioCase{.number = 1,
                     .verdicts = {"1"},
                     .must_show = {"|-- FIN,ACK seq=24 ack=24 len=0 ---", "TIME-WAIT"},
                     .pcaps = {"1-normal.pcap"},
                     .tshark_probes = 0,
                     .tshark_probe_answers = 0},
        ScenarioCase{.number = 2,
                     .verdicts = {"2"},
                     .must_show = {"keepalive probe 1/3", "answer to probe 1/3"},
                     .pcaps = {"2-idle-keepalive.pcap"},
                     .tshark_probes = 2,
                     .tshark_probe_answers = 2},
        ScenarioCase{.number = 3,
                     .verdicts = {"3"},
                     .must_show = {"keepalive probe 3/3, lost", "keepalive gives up",
                                   "the application gets ETIMEDOUT"},
                     .pcaps = {"3-dead-peer.pcap"},
                     .tshark_probes = 3,
                     .tshark_probe_answers = 0},
        ScenarioCase{.number = 4,
                     .verdicts = {"4a", "4b"},
                     .must_show = {"peer rebooted", "the application gets ECONNRESET",
                                   "RST seq=1 len=0 --|  answer to probe"},
                     .pcaps = {"4a-reboot-no-keepalive.pcap", "4b-reboot-keepalive.pcap"}},
        ScenarioCase{
            .number = 5,
            .verdicts = {"5a", "5b"},
            .must_show = {"X                |  dropped by the NAT",
                          "the application gets ETIMEDOUT", "the NAT still knows the connection"},
            .pcaps = {"5a-nat-no-keepalive.pcap", "5a-nat-no-keepalive-server-side.pcap",
                      "5b-nat-keepalive.pcap", "5b-nat-keepalive-server-side.pcap"}},
        // The dead peer and the reboot over IPv6 (--ipv6): the same verdicts, the same probes.
        ScenarioCase{.number = 3,
                     .verdicts = {"3"},
                     .must_show = {"[2001:db8::2]:", "[2001:db8::1]:7003",
                                   "keepalive probe 3/3, lost", "the application gets ETIMEDOUT"},
                     .pcaps = {"3-dead-peer.pcap"},
                     .tshark_probes = 3,
                     .tshark_probe_answers = 0,
                     .ipv6 = true},
        ScenarioCase{.number = 4,
                     .verdicts = {"4a", "4b"},
                     .must_show = {"[2001:db8::1]:7004", "peer rebooted",
                                   "RST seq=1 len=0 --|  answer to probe"},
                     .pcaps = {"4a-reboot-no-keepalive.pcap", "4b-reboot-keepalive.pcap"},
                     .ipv6 = true}),
    [](const ::testing::TestParamInfo<ScenarioCase>& info) {
      return absl::StrCat("Scenario", info.param.number, info.param.ipv6 ? "Ipv6" : "");
    });

struct InterruptCase {
  int signal;
  int scenario;
  std::string namespace_label;  // one of the scenario's namespaces, to know it is under way
  // In its middle once this command, run in the namespace of this label, prints something.
  std::string middle_label;
  std::string middle_command;
};

void PrintTo(const InterruptCase& test, std::ostream* out) {
  *out << "signal " << test.signal << " in scenario " << test.scenario;
}

class DemoInterruptTest : public ::testing::TestWithParam<InterruptCase> {};

TEST_P(DemoInterruptTest, LeavesNothingBehindAndExitsPromptly) {
  if (!RequireTapOrSkip()) return;
  const InterruptCase& test = GetParam();
  const std::string output_path = TempPath("demo-interrupted.out");
  const std::string out_dir = TempPath("demo-out");
  Result<testbed::Process> demo = testbed::Process::Spawn(
      {TAPSTACK_BINARY, "demo", "--scenario", absl::StrCat(test.scenario), "--out", out_dir},
      {.output_path = output_path});
  ASSERT_TRUE(demo.ok()) << demo.error().message();
  const std::string ns = NamespacePrefix(demo->pid()) + test.namespace_label;
  // Under way: its namespace exists and its Linux peer runs. Then in its middle, as the case says
  // (the peer unplugged, the connection up).
  bool under_way = false;
  for (int attempt = 0; attempt < 200 && !under_way; ++attempt) {
    const std::vector<std::string> names = NamespacesOf(demo->pid());
    under_way = std::find(names.begin(), names.end(), ns) != names.end() &&
                !ProcessesOf(demo->pid()).empty();
    if (!under_way) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(under_way) << "the scenario never started:\n" << ReadFile(output_path);
  const std::string middle =
      absl::StrCat("ip netns exec ", NamespacePrefix(demo->pid()), test.middle_label, " ",
                   test.middle_command, " 2>/dev/null");
  bool in_middle = false;
  for (int attempt = 0; attempt < 200 && !in_middle; ++attempt) {
    in_middle = !RunShell(middle).output.empty();
    if (!in_middle) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(in_middle) << "never reached its middle (" << middle << "):\n"
                         << ReadFile(output_path);
  ASSERT_FALSE(ProcessesOf(demo->pid()).empty()) << "the peer ended by itself";

  const auto signalled = std::chrono::steady_clock::now();
  demo->Signal(test.signal);
  const std::optional<int> status = demo->Wait(seconds(10));
  const auto took = std::chrono::steady_clock::now() - signalled;
  const std::string output = ReadFile(output_path);
  ASSERT_TRUE(status.has_value()) << "still running 10 s after the signal:\n" << output;
  EXPECT_LT(took, seconds(3)) << output;
  EXPECT_EQ(*status, 1) << output;
  EXPECT_THAT(output,
              HasSubstr(test.signal == SIGINT ? "interrupted (SIGINT)" : "interrupted (SIGTERM)"));
  EXPECT_THAT(output, Not(HasSubstr("verdict"))) << output;
  EXPECT_THAT(NamespacesOf(demo->pid()), IsEmpty());
  EXPECT_THAT(ProcessesOf(demo->pid()), IsEmpty());
  std::filesystem::remove_all(out_dir);
}

INSTANTIATE_TEST_SUITE_P(Signals, DemoInterruptTest,
                         ::testing::Values(InterruptCase{SIGINT, 3, "s3", "s3",
                                                         "nft list table inet testbed_unplug"},
                                           InterruptCase{SIGTERM, 5, "s5a-nat", "s5a-server",
                                                         "ss -Htn state established"}),
                         [](const ::testing::TestParamInfo<InterruptCase>& info) {
                           return absl::StrCat(info.param.signal == SIGINT ? "SigintDuringDeadPeer"
                                                                           : "SigtermBehindTheNat");
                         });

// A demo killed outright (SIGKILL) cannot clean up; the next one removes what it left, also when
// the dead demo's pid has been reused by another program.
TEST(DemoStaleTest, NamespacesOfAKilledDemoAreRemovedByTheNext) {
  if (!RequireTapOrSkip()) return;
  // A pid that surely is not running: a child that has exited and been reaped.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  const std::string stale = absl::StrCat(NamespacePrefix(dead), "s3");
  ASSERT_EQ(RunShell("ip netns add " + stale).exit_code, 0);
  // And a pid reused by another program since: this test's own pid (not a tapstack process).
  const std::string reused = absl::StrCat(NamespacePrefix(getpid()), "s1");
  ASSERT_EQ(RunShell("ip netns add " + reused).exit_code, 0);
  // What the killed demo's peer would be: a process inside the stale namespace.
  Result<testbed::Process> leftover =
      testbed::Process::Spawn({"/usr/bin/env", "ip", "netns", "exec", stale, "sleep", "600"},
                              {.output_path = TempPath("leftover.out")});
  ASSERT_TRUE(leftover.ok());
  bool inside = false;  // the process has entered the namespace
  for (int attempt = 0; attempt < 200 && !inside; ++attempt) {
    inside = !RunShell("ip netns pids " + stale).output.empty();
    if (!inside) std::this_thread::sleep_for(milliseconds(25));
  }
  ASSERT_TRUE(inside) << "the leftover process never entered " << stale;

  const std::string output_path = TempPath("demo-after-kill.out");
  const std::string out_dir = TempPath("demo-out");
  Result<testbed::Process> demo = testbed::Process::Spawn(
      {TAPSTACK_BINARY, "demo", "--scenario", "1", "--out", out_dir}, {.output_path = output_path});
  ASSERT_TRUE(demo.ok());
  ASSERT_EQ(demo->Wait(kScenarioTimeout), 0) << ReadFile(output_path);
  // Another demo running side by side (ctest -j) may have been first to remove it; either way
  // it must be gone, and its process with it.
  EXPECT_THAT(NamespacesOf(dead), IsEmpty());
  EXPECT_THAT(NamespacesOf(getpid()), IsEmpty());
  EXPECT_EQ(leftover->Wait(seconds(5)), 128 + SIGKILL);
  RunShell("ip netns del " + stale + " 2>/dev/null");
  RunShell("ip netns del " + reused + " 2>/dev/null");
  std::filesystem::remove_all(out_dir);
}

}  // namespace
}  // namespace tapstack::testing
