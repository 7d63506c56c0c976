// The virtio-net header that a TAP descriptor opened with IFF_VNET_HDR puts before every frame it
// reads and expects before every frame it writes (the kernel's Documentation/networking/tuntap.rst,
// include/uapi/linux/virtio_net.h, and the virtio specification 1.2, 5.1.6 "Device Operation").
//
//   0 flags   1 gso_type   2 hdr_len   4 gso_size   6 csum_start   8 csum_offset   (10 bytes)
//
// The 16-bit fields are little-endian: TapDevice pins that with TUNSETVNETLE, so the layout does
// not depend on the host's byte order (legacy virtio is native-endian).
//
// What the kernel hands us (virtio_net_hdr_from_skb, called by tun_put_user):
//   - flags NEEDS_CSUM when the packet's checksum is partial (CHECKSUM_PARTIAL): csum_start is
//     where the checksummed bytes begin (the TCP header), csum_offset where the checksum field
//     sits from there (16 for TCP); the field holds only the pseudo-header sum.
//   - flags DATA_VALID when the kernel already verified the checksum (CHECKSUM_UNNECESSARY).
//   - gso_type TCPV4 (maybe with the ECN bit) for a TCP super-segment up to 64 KiB that a
//     TSO-capable device would cut into gso_size-byte segments: the kernel's own TSO output, or
//     segments its GRO merged on the way to us. hdr_len is a hint of the linear headers' length
//     (skb_headlen), never more than the frame.
//
// ParseVirtioNetHeader checks every length before it reads and refuses, with a reason, a header
// that does not fit the frame behind it: the frame comes from the kernel, but a bug on either side
// must be a counted drop, never a read past the buffer.
#ifndef TAPSTACK_TAP_VIRTIO_NET_HEADER_H_
#define TAPSTACK_TAP_VIRTIO_NET_HEADER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "stack/rx_checksum.h"

namespace tapstack::tap {

// sizeof(struct virtio_net_hdr). Not the 12-byte virtio_net_hdr_mrg_rxbuf: its num_buffers field
// counts the ring buffers a guest's frame spans with mergeable receive buffers, and over a TAP
// descriptor every read and write is exactly one frame, so the kernel never fills it in.
inline constexpr std::size_t kVirtioNetHeaderSize = 10;

// Why a header was refused. Each reason is counted apart (TapDevice::vnet_header_drops()).
enum class VirtioNetHeaderError : std::uint8_t {
  kTruncated,                // fewer bytes than the header, or no frame behind it
  kUnknownFlags,             // a flag bit other than NEEDS_CSUM and DATA_VALID
  kUnsupportedGsoType,       // a GSO type other than none or TCPV4 (we only offer TSO4)
  kGsoWithoutChecksum,       // a TCPV4 super-segment without NEEDS_CSUM: the kernel never sends one
  kGsoSizeZero,              // a super-segment whose segment size is 0
  kGsoSizeBeyondFrame,       // gso_size larger than the TCP payload the frame can hold
  kHeaderLengthBeyondFrame,  // hdr_len larger than the frame
  kChecksumOutsideFrame,     // csum_start inside the Ethernet header, or the checksum field past
                             // the end of the frame
};
inline constexpr std::size_t kVirtioNetHeaderErrorCount = 8;

// A fixed English description, for messages and test output.
std::string_view VirtioNetHeaderErrorName(VirtioNetHeaderError error);

// A parsed header, the fields in host order.
struct VirtioNetHeader {
  bool needs_csum = false;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  bool data_valid = false;  // VIRTIO_NET_HDR_F_DATA_VALID
  bool gso_tcpv4 = false;   // VIRTIO_NET_HDR_GSO_TCPV4
  bool gso_ecn = false;     // VIRTIO_NET_HDR_GSO_ECN, with gso_tcpv4 only
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;

  // What the stack may skip: NEEDS_CSUM first (a partial checksum must not be checked), then
  // DATA_VALID.
  RxChecksum checksum() const {
    if (needs_csum) return RxChecksum::kPartial;
    return data_valid ? RxChecksum::kVerified : RxChecksum::kUnverified;
  }
};

// Parses the header that one read(2) of an IFF_VNET_HDR descriptor put before a frame of
// `frame_length` bytes (`header` holds what the read gave before the frame: fewer than
// kVirtioNetHeaderSize bytes, or an empty frame, is kTruncated; bytes beyond them are ignored).
// Checks, in this order: the length, flags, GSO type, then for a super-segment NEEDS_CSUM, gso_size
// and hdr_len, then csum_start/csum_offset when NEEDS_CSUM is set. A super-segment's TCP payload
// starts at least 20 bytes (the smallest TCP header) after csum_start, so gso_size must fit in what
// is left after that.
std::variant<VirtioNetHeader, VirtioNetHeaderError> ParseVirtioNetHeader(
    std::span<const std::uint8_t> header, std::size_t frame_length);

// The header's ten bytes, little-endian as TapDevice pins them: what we write before a frame for
// the kernel to finish (NEEDS_CSUM with csum_start/csum_offset, and gso_type TCPV4 with gso_size
// and hdr_len for a super-segment it is to cut, virtio 1.2 5.1.6.2 "Packet Transmission").
std::array<std::uint8_t, kVirtioNetHeaderSize> SerializeVirtioNetHeader(
    const VirtioNetHeader& header);

// The header of a frame we send without offloads: all zero (no checksum to finish, no GSO), so
// the kernel passes the frame on exactly as written.
inline constexpr std::array<std::uint8_t, kVirtioNetHeaderSize> kPlainVirtioNetHeader{};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_VIRTIO_NET_HEADER_H_
