// Reads a pcap or pcapng file through libtins' FileSniffer (libpcap underneath) and keeps the TCP
// segments it holds (capture_decode.h). A file that is not a capture, a link type it cannot
// decode, or a record cut off by the end of the file is an error with a sentence that says so;
// nothing in the file can crash the reader.
#ifndef TAPSTACK_TOOLS_DIAGRAM_CAPTURE_FILE_H_
#define TAPSTACK_TOOLS_DIAGRAM_CAPTURE_FILE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/diagram/capture_decode.h"

namespace tapstack::tools::diagram {

struct CapturedPacket {
  std::uint64_t number = 0;  // the record's place in the file, from 1, as Wireshark numbers it
  std::chrono::nanoseconds timestamp{};  // since the Unix epoch, as the file has it
  CapturedTcp tcp;
};

struct Capture {
  int link_type = 0;
  std::uint64_t records = 0;                   // every record in the file, TCP or not
  std::chrono::nanoseconds first_timestamp{};  // of the first record
  std::vector<CapturedPacket> tcp;             // the TCP segments, in file order
};

// Errors: NotFound or PermissionDenied for a file that cannot be opened, InvalidArgument for one
// that is not a capture or is corrupt or truncated, Unimplemented for a link type not decoded.
absl::StatusOr<Capture> ReadCapture(const std::string& path);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_CAPTURE_FILE_H_
