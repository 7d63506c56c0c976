// What the device that received a frame knows about its transport checksum.
//
// A device with receive checksum offload tells the stack, per frame, whether the TCP checksum
// still needs checking. The values follow the kernel's virtio-net header flags, which carry the
// socket buffer's ip_summed state to a TAP reader (include/uapi/linux/virtio_net.h; the
// "Packet Receive" section of the virtio specification, 5.1.6.4):
//   VIRTIO_NET_HDR_F_DATA_VALID: CHECKSUM_UNNECESSARY, the kernel (or the NIC) verified it;
//   VIRTIO_NET_HDR_F_NEEDS_CSUM: CHECKSUM_PARTIAL, the packet was built on this host and nobody
//     computed the checksum yet: the field holds only the pseudo-header sum, so checking it would
//     fail. The kernel itself treats such a packet as verified (skb_csum_unnecessary).
// Header-only and without dependencies, like stack/result.h, so that the tap library's device
// interface can use it without depending on the stack.
#ifndef TAPSTACK_STACK_RX_CHECKSUM_H_
#define TAPSTACK_STACK_RX_CHECKSUM_H_

#include <cstdint>

namespace tapstack {

enum class RxChecksum : std::uint8_t {
  kUnverified,  // nothing known: the stack checks the checksum (every plain device)
  kVerified,    // DATA_VALID: verified by the kernel, the stack does not check it again
  kPartial,     // NEEDS_CSUM: a local sender left it unfinished; trusted, not checked
};

// Whether the stack must verify the transport checksum itself.
constexpr bool NeedsSoftwareChecksum(RxChecksum checksum) {
  return checksum == RxChecksum::kUnverified;
}

}  // namespace tapstack

#endif  // TAPSTACK_STACK_RX_CHECKSUM_H_
