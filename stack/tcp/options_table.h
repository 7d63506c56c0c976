// Per-connection options shared by pointer: connections with the same ConnectionOptions (in
// practice almost all of them: the stack's defaults, or the one keepalive setting an application
// applies to every connection) point to one interned copy instead of carrying 72 bytes each. A
// connection whose options change moves to the entry for its new options (copy on write).
#ifndef TAPSTACK_STACK_TCP_OPTIONS_TABLE_H_
#define TAPSTACK_STACK_TCP_OPTIONS_TABLE_H_

#include <cstddef>

#include "absl/container/node_hash_map.h"
#include "stack/tcp/tcp_types.h"

namespace tapstack::tcp {

class OptionsTable {
 public:
  // The shared copy of `options`, with one more user. The pointer stays valid until the last user
  // releases it (entries are nodes: they never move).
  const ConnectionOptions* Acquire(const ConnectionOptions& options);
  // One user fewer; the entry is freed with its last user.
  void Release(const ConnectionOptions* options);

  // Distinct option sets in use.
  std::size_t size() const { return users_.size(); }

 private:
  absl::node_hash_map<ConnectionOptions, std::size_t> users_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_OPTIONS_TABLE_H_
