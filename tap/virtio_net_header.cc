#include "tap/virtio_net_header.h"

// The kernel's header names a field `class` (struct virtio_net_ctrl_hdr, the control queue, which
// a TAP never uses); C++ reserves the word, so it is renamed for this include only.
#define class virtio_net_ctrl_class
#include <linux/virtio_net.h>
#undef class

#include <cstddef>

namespace tapstack::tap {
namespace {

static_assert(sizeof(virtio_net_hdr) == kVirtioNetHeaderSize);
static_assert(offsetof(virtio_net_hdr, csum_offset) == 8);

// Destination and source MAC, EtherType: the first byte a checksum may cover comes after them.
constexpr std::size_t kEthernetHeaderLength = 14;
// The smallest TCP header (RFC 9293 3.1): a super-segment's payload starts at least this far
// after csum_start, the TCP header's first byte.
constexpr std::size_t kTcpMinHeaderLength = 20;

constexpr std::uint8_t kKnownFlags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;

std::uint16_t LoadLe16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

void StoreLe16(std::uint8_t* p, std::uint16_t value) {
  p[0] = static_cast<std::uint8_t>(value);
  p[1] = static_cast<std::uint8_t>(value >> 8);
}

}  // namespace

std::array<std::uint8_t, kVirtioNetHeaderSize> SerializeVirtioNetHeader(
    const VirtioNetHeader& header) {
  std::array<std::uint8_t, kVirtioNetHeaderSize> bytes{};
  bytes[offsetof(virtio_net_hdr, flags)] =
      static_cast<std::uint8_t>((header.needs_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0) |
                                (header.data_valid ? VIRTIO_NET_HDR_F_DATA_VALID : 0));
  std::uint8_t gso_type = VIRTIO_NET_HDR_GSO_NONE;
  if (header.gso_tcpv4) {
    gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | (header.gso_ecn ? VIRTIO_NET_HDR_GSO_ECN : 0);
  }
  bytes[offsetof(virtio_net_hdr, gso_type)] = gso_type;
  StoreLe16(&bytes[offsetof(virtio_net_hdr, hdr_len)], header.hdr_len);
  StoreLe16(&bytes[offsetof(virtio_net_hdr, gso_size)], header.gso_size);
  StoreLe16(&bytes[offsetof(virtio_net_hdr, csum_start)], header.csum_start);
  StoreLe16(&bytes[offsetof(virtio_net_hdr, csum_offset)], header.csum_offset);
  return bytes;
}

std::string_view VirtioNetHeaderErrorName(VirtioNetHeaderError error) {
  switch (error) {
    case VirtioNetHeaderError::kTruncated:
      return "shorter than a virtio-net header";
    case VirtioNetHeaderError::kUnknownFlags:
      return "unknown virtio-net header flags";
    case VirtioNetHeaderError::kUnsupportedGsoType:
      return "GSO type other than TCPv4";
    case VirtioNetHeaderError::kGsoWithoutChecksum:
      return "TCPv4 super-segment without NEEDS_CSUM";
    case VirtioNetHeaderError::kGsoSizeZero:
      return "GSO segment size 0";
    case VirtioNetHeaderError::kGsoSizeBeyondFrame:
      return "GSO segment size beyond the frame";
    case VirtioNetHeaderError::kHeaderLengthBeyondFrame:
      return "header length beyond the frame";
    case VirtioNetHeaderError::kChecksumOutsideFrame:
      return "checksum start or offset outside the frame";
  }
  return "unknown virtio-net header error";
}

std::variant<VirtioNetHeader, VirtioNetHeaderError> ParseVirtioNetHeader(
    std::span<const std::uint8_t> bytes, std::size_t frame_length) {
  if (bytes.size() < kVirtioNetHeaderSize || frame_length == 0) {
    return VirtioNetHeaderError::kTruncated;
  }
  const std::uint8_t* h = bytes.data();
  const std::uint8_t flags = h[offsetof(virtio_net_hdr, flags)];
  const std::uint8_t gso_type = h[offsetof(virtio_net_hdr, gso_type)];
  VirtioNetHeader header;
  header.hdr_len = LoadLe16(h + offsetof(virtio_net_hdr, hdr_len));
  header.gso_size = LoadLe16(h + offsetof(virtio_net_hdr, gso_size));
  header.csum_start = LoadLe16(h + offsetof(virtio_net_hdr, csum_start));
  header.csum_offset = LoadLe16(h + offsetof(virtio_net_hdr, csum_offset));

  if ((flags & ~kKnownFlags) != 0) return VirtioNetHeaderError::kUnknownFlags;
  header.needs_csum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
  header.data_valid = (flags & VIRTIO_NET_HDR_F_DATA_VALID) != 0;

  switch (gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
      // The ECN bit only qualifies a GSO type.
      if (gso_type != VIRTIO_NET_HDR_GSO_NONE) return VirtioNetHeaderError::kUnsupportedGsoType;
      break;
    case VIRTIO_NET_HDR_GSO_TCPV4:
      header.gso_tcpv4 = true;
      header.gso_ecn = (gso_type & VIRTIO_NET_HDR_GSO_ECN) != 0;
      break;
    default:
      return VirtioNetHeaderError::kUnsupportedGsoType;
  }

  if (header.gso_tcpv4) {
    // A TCP super-segment is always CHECKSUM_PARTIAL in the kernel (tcp_gso_segment needs it;
    // tcp_gro_complete sets it): csum_start then locates the TCP header.
    if (!header.needs_csum) return VirtioNetHeaderError::kGsoWithoutChecksum;
    if (header.gso_size == 0) return VirtioNetHeaderError::kGsoSizeZero;
    // Checked against csum_start below, once csum_start is known to lie in the frame.
    if (header.hdr_len > frame_length) return VirtioNetHeaderError::kHeaderLengthBeyondFrame;
  }

  if (header.needs_csum) {
    const std::size_t start = header.csum_start;
    // The 2-byte checksum field at csum_start + csum_offset must lie wholly inside the frame.
    if (start < kEthernetHeaderLength || start + header.csum_offset + 2 > frame_length) {
      return VirtioNetHeaderError::kChecksumOutsideFrame;
    }
    if (header.gso_tcpv4 && (start + kTcpMinHeaderLength > frame_length ||
                             header.gso_size > frame_length - start - kTcpMinHeaderLength)) {
      return VirtioNetHeaderError::kGsoSizeBeyondFrame;
    }
  }
  return header;
}

}  // namespace tapstack::tap
