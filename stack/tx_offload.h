// What the stack asks the device to finish on one outgoing frame: the send-side half of the
// offloads that rx_checksum.h describes for receiving.
//
// A device that offers TCP segmentation offload (TSO) or transmit checksum offload
// (tap/device.h, DeviceCapabilities) lets the stack hand it work a NIC would do: one TCP
// "super-segment" of many MSS-sized segments behind a single set of headers, which the device
// cuts, and a TCP checksum left partial, which the device completes. The names follow the
// kernel's virtio-net header (include/uapi/linux/virtio_net.h: VIRTIO_NET_HDR_F_NEEDS_CSUM,
// gso_size), which is how a TAP descriptor is told (tap/virtio_net_header.h).
//
// The frame itself says where its headers are (Ethernet, then IPv4 or IPv6 without extension
// headers, then TCP), so the stack passes only what the bytes cannot say.
//
// Header-only and without dependencies, so that the tap library's device interface can use it.
#ifndef TAPSTACK_STACK_TX_OFFLOAD_H_
#define TAPSTACK_STACK_TX_OFFLOAD_H_

#include <cstdint>

namespace tapstack {

struct TxOffload {
  // TSO: the frame's TCP payload is to be cut into segments of this many bytes (the connection's
  // MSS; the last may be shorter), each behind a copy of the headers with its own sequence
  // number, IPv4 identification, lengths and checksums. 0: the frame goes as it is.
  std::uint16_t tcp_segment_size = 0;
  // The TCP checksum field holds only the folded pseudo-header sum, not complemented (the kernel's
  // CHECKSUM_PARTIAL): the device sums the TCP header and payload into it. Always set with
  // tcp_segment_size, since each cut segment needs its own checksum anyway.
  bool tcp_checksum_partial = false;

  bool none() const { return tcp_segment_size == 0 && !tcp_checksum_partial; }
  friend bool operator==(const TxOffload&, const TxOffload&) = default;
};

// What the device will do for the stack's output; the embedder copies it from the device's
// capabilities into StackConfig. All off: every frame leaves complete and fits the MTU.
struct TxOffloadSupport {
  // The largest TCP payload one frame may carry for the device to cut (TSO over IPv4); 0: none.
  std::uint32_t max_tcp_segment_offload = 0;
  // The device completes partial TCP checksums.
  bool tcp_checksum = false;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_TX_OFFLOAD_H_
