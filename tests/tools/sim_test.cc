// `tapstack sim` end to end: every dead peer aborted at exactly idle + count x interval after its
// last segment, no live connection aborted, and the same results whichever timer queue runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testbed/process.h"
#include "tests/support/files.h"

namespace tapstack::testing {
namespace {

struct SimRun {
  int status;
  std::string json;
};

SimRun Sim(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TAPSTACK_BINARY, "sim", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = TempPath("sim.json");
  Result<testbed::Process> child = testbed::Process::Spawn(argv, {.output_path = out});
  EXPECT_TRUE(child.ok());
  const std::optional<int> status = child->Wait(std::chrono::minutes(5));
  return SimRun{status.value_or(-1), ReadFile(out)};
}

long long Field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no field " << name << " in " << json;
    return -1;
  }
  return std::stoll(json.substr(at + key.size()));
}

TEST(SimTest, TenThousandConnectionsOnePercentDeadAbortedExactly) {
  const SimRun run =
      Sim({"--connections", "10000", "--dead", "0.01", "--idle", "20s", "--interval", "5s",
           "--count", "3", "--traffic", "0.2", "--duration", "60s", "--dead-at", "3s"});
  ASSERT_EQ(run.status, 0) << run.json;
  EXPECT_EQ(Field(run.json, "established"), 10000);
  EXPECT_EQ(Field(run.json, "dead"), 100);
  EXPECT_EQ(Field(run.json, "aborted_dead_exact"), 100);
  EXPECT_EQ(Field(run.json, "aborted_dead_inexact"), 0);
  EXPECT_EQ(Field(run.json, "aborted_live"), 0);
  EXPECT_EQ(Field(run.json, "dead_not_aborted"), 0);
  // Each dead peer got `count` probes; live connections idle long enough were probed and answered
  // (traffic at 0.2 segments per second keeps most of them from ever being idle for 20 s).
  EXPECT_GE(Field(run.json, "probes_sent"), 3 * 100 + 1);
  EXPECT_GT(Field(run.json, "probes_answered"), 0);
  EXPECT_THAT(run.json, ::testing::HasSubstr("\"ok\":true"));
}

TEST(SimTest, WheelHeapAndSweepGiveIdenticalResults) {
  const std::vector<std::string> args = {
      "--connections", "1500", "--dead",    "0.05", "--idle",     "5s", "--interval", "1s",
      "--count",       "4",    "--traffic", "1",    "--duration", "30s"};
  std::vector<std::string> results;
  for (const char* kind : {"wheel", "heap", "sweep"}) {
    std::vector<std::string> with_kind = args;
    with_kind.insert(with_kind.end(), {"--timers", kind});
    const SimRun run = Sim(with_kind);
    ASSERT_EQ(run.status, 0) << kind << ": " << run.json;
    std::string summary;
    for (const char* field : {"aborted_dead_exact", "probes_sent", "probes_answered",
                              "segments_delivered", "timer_operations"}) {
      summary += std::string(field) + "=" + std::to_string(Field(run.json, field)) + " ";
    }
    results.push_back(summary);
  }
  EXPECT_EQ(results[1], results[0]) << "heap vs wheel";
  EXPECT_EQ(results[2], results[0]) << "sweep vs wheel";
}

TEST(SimTest, BadOptionsAreUsageErrors) {
  EXPECT_EQ(Sim({"--dead", "2"}).status, 2);
  EXPECT_EQ(Sim({"--timers", "calendar"}).status, 2);
  EXPECT_EQ(Sim({"--count", "0"}).status, 2);
  EXPECT_EQ(Sim({"--idle", "0ms"}).status, 2);
}

}  // namespace
}  // namespace tapstack::testing
