// Capture files built byte by byte for the tests of `tapstack diagram`: TCP segments over IPv4
// inside any link type the reader knows, and the pcap file around them, so that a test can also
// cut a file short or spoil a record on purpose.
#ifndef TAPSTACK_TESTS_TOOLS_CAPTURE_BYTES_H_
#define TAPSTACK_TESTS_TOOLS_CAPTURE_BYTES_H_

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace tapstack::testing {

using Bytes = std::vector<std::uint8_t>;

inline void PutBe16(Bytes& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}
inline void PutBe32(Bytes& out, std::uint32_t value) {
  PutBe16(out, static_cast<std::uint16_t>(value >> 16));
  PutBe16(out, static_cast<std::uint16_t>(value));
}
inline void PutLe16(Bytes& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
}
inline void PutLe32(Bytes& out, std::uint32_t value) {
  PutLe16(out, static_cast<std::uint16_t>(value));
  PutLe16(out, static_cast<std::uint16_t>(value >> 16));
}

// Flags as in the TCP header (RFC 9293 3.1).
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;

struct TcpSpec {
  std::uint32_t src = 0xc0000201;  // 192.0.2.1
  std::uint32_t dst = 0xc6336402;  // 198.51.100.2
  std::uint16_t src_port = 40000;
  std::uint16_t dst_port = 80;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 1000;
  std::optional<std::uint8_t> window_scale;  // sent as the option (with NOP padding)
  std::size_t payload = 0;
};

// An IPv4 datagram holding the segment (checksums left zero: the reader does not check them).
inline Bytes Ipv4Tcp(const TcpSpec& spec) {
  Bytes tcp;
  PutBe16(tcp, spec.src_port);
  PutBe16(tcp, spec.dst_port);
  PutBe32(tcp, spec.seq);
  PutBe32(tcp, spec.ack);
  const std::uint8_t offset = spec.window_scale ? 6 : 5;
  tcp.push_back(static_cast<std::uint8_t>(offset << 4));
  tcp.push_back(spec.flags);
  PutBe16(tcp, spec.window);
  PutBe32(tcp, 0);  // checksum, urgent pointer
  if (spec.window_scale) {
    tcp.insert(tcp.end(), {1, 3, 3, *spec.window_scale});  // NOP, window scale
  }
  tcp.insert(tcp.end(), spec.payload, 'x');
  Bytes ip = {0x45, 0};
  PutBe16(ip, static_cast<std::uint16_t>(20 + tcp.size()));
  PutBe32(ip, 0x00004000);  // id 0, don't fragment
  ip.insert(ip.end(), {64, 6, 0, 0});
  PutBe32(ip, spec.src);
  PutBe32(ip, spec.dst);
  ip.insert(ip.end(), tcp.begin(), tcp.end());
  return ip;
}

inline Bytes Ethernet(const Bytes& payload, std::uint16_t ethertype = 0x0800) {
  Bytes frame = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  PutBe16(frame, ethertype);
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

// Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
inline Bytes Sll(const Bytes& payload) {
  Bytes frame = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
  PutBe16(frame, 0x0800);
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

// Linux cooked capture v2: protocol, reserved, interface index, ARPHRD, packet type, address.
inline Bytes Sll2(const Bytes& payload) {
  Bytes frame = {0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

struct Record {
  std::uint32_t seconds = 0;
  std::uint32_t microseconds = 0;
  Bytes bytes;
};

// A little-endian, microsecond pcap file (the classic format) with `link_type`.
inline Bytes PcapFile(std::uint32_t link_type, const std::vector<Record>& records) {
  Bytes file;
  PutLe32(file, 0xa1b2c3d4);
  PutLe16(file, 2);
  PutLe16(file, 4);
  PutLe32(file, 0);
  PutLe32(file, 0);
  PutLe32(file, 65535);
  PutLe32(file, link_type);
  for (const Record& record : records) {
    PutLe32(file, record.seconds);
    PutLe32(file, record.microseconds);
    PutLe32(file, static_cast<std::uint32_t>(record.bytes.size()));
    PutLe32(file, static_cast<std::uint32_t>(record.bytes.size()));
    file.insert(file.end(), record.bytes.begin(), record.bytes.end());
  }
  return file;
}

inline void WriteBytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_TOOLS_CAPTURE_BYTES_H_
