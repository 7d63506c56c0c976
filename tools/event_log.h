// `--events FILE|-`: one JSON object per line for every connection event and trace, with the time
// in seconds since the command started. docs/cli.md lists the fields.
#ifndef TAPSTACK_TOOLS_EVENT_LOG_H_
#define TAPSTACK_TOOLS_EVENT_LOG_H_

#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "stack/tcp/tcp_types.h"
#include "timers/timer_wheel.h"

namespace tapstack::tools {

class EventLog {
 public:
  // "-" writes to stdout; an empty path makes a log that writes nothing.
  static absl::StatusOr<EventLog> Open(const std::string& path, timers::TimePoint start);
  EventLog(EventLog&& other) noexcept;
  EventLog& operator=(EventLog&&) = delete;
  ~EventLog();

  void Write(const tcp::Event& event, timers::TimePoint now);
  void Write(const tcp::Trace& trace, timers::TimePoint now);
  // The first line: which mode the TAP device runs in (DescribeOffloadStatus's text), and what
  // the stack may hand it unfinished on the way out (TSO size, 0 for none; checksum offload).
  void WriteDevice(bool offload, const std::string& description, std::size_t tso_limit,
                   bool tx_checksum, timers::TimePoint now);

 private:
  EventLog(std::FILE* file, bool owned, timers::TimePoint start)
      : file_(file), owned_(owned), start_(start) {}
  void Line(timers::TimePoint now, const std::string& fields);

  std::FILE* file_ = nullptr;
  bool owned_ = false;
  timers::TimePoint start_;
};

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_EVENT_LOG_H_
