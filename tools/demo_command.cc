// `tapstack demo`. The scenarios against real Linux peers over TAP need the TCP engine, which is
// not built yet; until then the demo shows the part that exists: keepalive's timer schedule played
// on the timer wheel with a virtual clock (idle, then probes every interval, then the abort).
#include <chrono>
#include <cstdio>
#include <string_view>

#include "timers/timer_wheel.h"
#include "tools/commands.h"

namespace tapstack::tools {
namespace {

using std::chrono::milliseconds;
using timers::OwnerOf;
using timers::Timer;
using timers::TimerWheel;

// One connection's keepalive timer as RFC 1122 4.2.3.6 describes it: after `idle` without traffic a
// probe, then one per `interval` until `count` went unanswered, then the connection is aborted.
struct DemoConnection {
  const char* name;
  TimerWheel* wheel;
  milliseconds interval;
  int count;
  int answer_from_probe;  // the peer answers this probe number (0: never answers)
  milliseconds idle;
  int unanswered = 0;
  Timer keepalive{[](Timer& t) { OwnerOf<&DemoConnection::keepalive>(t).OnKeepalive(); }};

  void OnKeepalive() {
    const double at = std::chrono::duration<double>(wheel->now().time_since_epoch()).count();
    if (unanswered == count) {
      std::printf("%7.3f s  %-6s %d probes unanswered: RST, ETIMEDOUT\n", at, name, count);
      return;
    }
    ++unanswered;
    std::printf("%7.3f s  %-6s keepalive probe %d/%d\n", at, name, unanswered, count);
    if (unanswered == answer_from_probe) {
      std::printf("%7.3f s  %-6s peer answered: count reset, idle again\n", at, name);
      unanswered = 0;
      wheel->ScheduleAfter(keepalive, idle);
      return;
    }
    wheel->ScheduleAfter(keepalive, interval);
  }
};

}  // namespace

int RunDemo(std::span<const std::string_view> args) {
  if (!args.empty()) {
    std::fprintf(stderr, "tapstack demo: takes no options yet\n");
    return 2;
  }
  std::printf(
      "tapstack demo: the scenarios against Linux peers over TAP come with the TCP engine.\n"
      "Meanwhile, keepalive's schedule on the timer wheel, virtual clock (idle 2 s, interval 1 s,\n"
      "count 3):\n\n");
  TimerWheel wheel(timers::TimePoint{});
  DemoConnection alive{"alive", &wheel, milliseconds(1000), 3, 2, milliseconds(2000)};
  DemoConnection dead{"dead", &wheel, milliseconds(1000), 3, 0, milliseconds(2000)};
  wheel.ScheduleAfter(alive.keepalive, alive.idle);
  wheel.ScheduleAfter(dead.keepalive, dead.idle);
  while (std::optional<timers::TimePoint> next = wheel.NextDeadline()) {
    if (*next > timers::TimePoint{} + std::chrono::seconds(10)) break;
    wheel.Advance(*next);
  }
  std::printf("\nexpected: 'dead' aborted at 5.000 s (2 s idle + 3 x 1 s), 'alive' still up\n");
  return dead.keepalive.is_scheduled() || !alive.keepalive.is_scheduled() ? 1 : 0;
}

}  // namespace tapstack::tools
