// Two Device endpoints joined in memory: a cable between two stacks in one process.
//
// Frames sent on one endpoint are received on the other, in order, ready at the `now` they were
// sent with (no delay: wrap an endpoint in FaultyLink for delay, loss and the rest). Each direction
// holds at most `queue_limit` frames; a Send beyond that is dropped and counted as
// tx_dropped_queue_full on the sender, like a full transmit ring. Once one endpoint is destroyed,
// frames sent by the other are counted as tx_dropped_link_down.
//
// Frames are copied back to back into a queue of reused chunks per direction (frame_queue.h): after
// warm-up, sending and receiving allocate nothing.
//
// Endpoints have no descriptor (poll_fd() is -1): NextReadyTime() tells the event loop when a frame
// is waiting. Not thread-safe: both endpoints belong to one thread, like the loop that drives them.
#ifndef TAPSTACK_TAP_MEMORY_LINK_H_
#define TAPSTACK_TAP_MEMORY_LINK_H_

#include <cstddef>
#include <memory>
#include <utility>

#include "tap/device.h"

namespace tapstack::tap {

class MemoryLink {
 public:
  static constexpr std::size_t kDefaultQueueLimit = 1024;

  // Returns the two endpoints of a new link. Either may outlive the other. With `tx_offloads`
  // both offer TSO and transmit checksum offload (DeviceCapabilities) and cut super-segments and
  // complete checksums themselves on Send, so that the peer receives MTU-sized, checksummed
  // frames: a TSO-capable link for tests on the virtual clock.
  static std::pair<std::unique_ptr<Device>, std::unique_ptr<Device>> CreatePair(
      std::size_t mtu = 1500, std::size_t queue_limit = kDefaultQueueLimit,
      bool tx_offloads = false);
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_MEMORY_LINK_H_
