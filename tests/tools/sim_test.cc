// `tapstack sim` end to end: every dead peer aborted at exactly idle + count x interval after its
// last segment, no live connection aborted, and the same results whichever timer queue runs;
// the lateness of those aborts per timer queue; the same totals from two shards as from one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
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

// The text of field `name`'s value in `json`, up to the end of the object.
std::string FieldText(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no field " << name << " in " << json;
    return "-1";
  }
  return json.substr(at + key.size());
}

long long Field(const std::string& json, const std::string& name) {
  return std::stoll(FieldText(json, name));
}

double DoubleField(const std::string& json, const std::string& name) {
  return std::stod(FieldText(json, name));
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

const std::vector<std::string> kMixedWorkload = {
    "--connections", "1500", "--dead",    "0.05", "--idle",     "5s", "--interval", "1s",
    "--count",       "4",    "--traffic", "1",    "--duration", "30s"};

TEST(SimTest, ExactQueuesGiveIdenticalResultsAndAbortWithoutLateness) {
  std::vector<std::string> results;
  for (const char* kind : {"wheel", "heap", "sweep", "hashed_wheel"}) {
    std::vector<std::string> with_kind = kMixedWorkload;
    with_kind.insert(with_kind.end(), {"--timers", kind});
    const SimRun run = Sim(with_kind);
    ASSERT_EQ(run.status, 0) << kind << ": " << run.json;
    // One sample per dead peer (75), every one of them on time.
    EXPECT_EQ(Field(run.json, "lateness_samples"), 75) << kind;
    EXPECT_EQ(DoubleField(run.json, "lateness_p50_ms"), 0.0) << kind;
    EXPECT_EQ(DoubleField(run.json, "lateness_p99_ms"), 0.0) << kind;
    EXPECT_EQ(DoubleField(run.json, "lateness_max_ms"), 0.0) << kind;
    std::string summary;
    for (const char* field : {"aborted_dead_exact", "probes_sent", "probes_answered",
                              "segments_delivered", "timer_operations"}) {
      summary += std::string(field) + "=" + std::to_string(Field(run.json, field)) + " ";
    }
    results.push_back(summary);
  }
  EXPECT_EQ(results[1], results[0]) << "heap vs wheel";
  EXPECT_EQ(results[2], results[0]) << "sweep vs wheel";
  EXPECT_EQ(results[3], results[0]) << "hashed_wheel vs wheel";
}

TEST(SimTest, NonCascadingWheelAbortsNoLaterThanItsBound) {
  std::vector<std::string> args = kMixedWorkload;
  args.insert(args.end(), {"--timers", "linux_wheel"});
  const SimRun run = Sim(args);
  ASSERT_EQ(run.status, 0) << run.json;
  EXPECT_EQ(Field(run.json, "lateness_samples"), 75);
  const double bound_ms = DoubleField(run.json, "late_bound_ms");
  EXPECT_GT(bound_ms, 0.0);
  EXPECT_GE(DoubleField(run.json, "lateness_p50_ms"), 0.0);
  EXPECT_LE(DoubleField(run.json, "lateness_p50_ms"), DoubleField(run.json, "lateness_p99_ms"));
  EXPECT_LE(DoubleField(run.json, "lateness_p99_ms"), DoubleField(run.json, "lateness_max_ms"));
  EXPECT_LE(DoubleField(run.json, "lateness_max_ms"), bound_ms);
  EXPECT_EQ(Field(run.json, "aborted_dead_exact") + Field(run.json, "aborted_dead_late"), 75);
}

TEST(SimTest, TwoThreadsGiveTheSingleThreadTotals) {
  // No traffic, so that which connections die and which get segments does not change the totals.
  // Not compared: segments delivered and timer operations, which may differ a little with the
  // number of pairs (each resolves ARP and opens its connections for itself).
  const std::vector<std::string> args = {
      "--connections", "1000", "--dead",     "0.05",    "--idle",    "5s", "--interval", "1s",
      "--count",       "4",    "--duration", "27500ms", "--dead-at", "2s"};
  std::map<std::string, long long> totals[2];
  for (const int threads : {1, 2}) {
    std::vector<std::string> with_threads = args;
    with_threads.insert(with_threads.end(), {"--threads", std::to_string(threads)});
    const SimRun run = Sim(with_threads);
    ASSERT_EQ(run.status, 0) << threads << " threads: " << run.json;
    EXPECT_EQ(Field(run.json, "threads"), threads);
    for (const char* field :
         {"connections", "established", "dead", "aborted_dead_exact", "aborted_dead_late",
          "aborted_dead_inexact", "aborted_live", "dead_not_aborted", "probes_sent",
          "probes_answered", "lateness_samples"}) {
      totals[threads - 1][field] = Field(run.json, field);
    }
    if (threads == 2) {
      // Each shard passed its own checks, on its half of the connections and of the dead peers.
      EXPECT_THAT(run.json,
                  ::testing::HasSubstr("\"shards\":[{\"connections\":500,\"dead\":25,\"ok\":true},"
                                       "{\"connections\":500,\"dead\":25,\"ok\":true}]"));
    }
  }
  EXPECT_EQ(totals[1], totals[0]);
  EXPECT_EQ(totals[0]["aborted_dead_exact"], 50);
  EXPECT_EQ(totals[0]["dead_not_aborted"], 0);
}

TEST(SimTest, BadOptionsAreUsageErrors) {
  EXPECT_EQ(Sim({"--dead", "2"}).status, 2);
  EXPECT_EQ(Sim({"--timers", "calendar"}).status, 2);
  EXPECT_EQ(Sim({"--count", "0"}).status, 2);
  EXPECT_EQ(Sim({"--idle", "0ms"}).status, 2);
  EXPECT_EQ(Sim({"--threads", "0"}).status, 2);
  EXPECT_EQ(Sim({"--threads", "100000"}).status, 2);
  EXPECT_EQ(Sim({"--threads", "2", "--connections", "1"}).status, 2);
}

}  // namespace
}  // namespace tapstack::testing
