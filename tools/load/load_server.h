// The server side of `tapstack load --listen PORT[-PORT2]`: accepts every connection to the ports,
// holds it, and echoes what it receives, so that two tapstack processes on two TAP devices can
// load a middlebox between them with no kernel socket or descriptor limit on either end.
#ifndef TAPSTACK_TOOLS_LOAD_LOAD_SERVER_H_
#define TAPSTACK_TOOLS_LOAD_LOAD_SERVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "stack/stack.h"
#include "tools/load/load_options.h"
#include "tools/load/load_role.h"

namespace tapstack::tools {

class LoadServer final : public LoadRole {
 public:
  LoadServer(Stack& stack, const LoadOptions& options, timers::TimePoint start);

  std::error_code Start(timers::TimePoint now) override;
  void OnEvent(const tcp::Event& event, timers::TimePoint now) override;
  void Advance(timers::TimePoint) override {}
  std::optional<timers::TimePoint> NextDeadline() const override { return std::nullopt; }
  bool Settled() const override;
  bool Exhausted() const override { return false; }  // a server waits for whoever comes
  std::size_t AbortSome(std::size_t at_most, timers::TimePoint now) override;

 private:
  void AcceptAll(std::uint16_t port);
  // Echoes what `id` received; stops when the send buffer is full (the rest waits in
  // unsent_, and reading resumes on kWritable) or at end of stream (closes our side).
  void Echo(tcp::ConnectionId id, timers::TimePoint now);
  bool FlushUnsent(tcp::ConnectionId id, timers::TimePoint now);

  Stack& stack_;
  const LoadOptions options_;
  const timers::TimePoint start_;
  absl::flat_hash_set<std::uint64_t> accepted_;
  // Echo bytes the send buffer had no room for, per connection; empty for nearly all.
  absl::flat_hash_map<std::uint64_t, std::vector<std::uint8_t>> unsent_;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint64_t> to_abort_;  // filled by the first AbortSome
  bool aborting_ = false;
};

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_LOAD_LOAD_SERVER_H_
