// Writes Ethernet frames to a pcap file (link type EN10MB) that tcpdump, tshark and Wireshark read.
//
// Each frame is stamped with the `now` it was written at. steady_clock time points become pcap
// timestamps as time since the clock's epoch: boot time for the real clock, whatever a test chose
// for a VirtualClock (so virtual captures start near zero; that is fine for reading them).
//
// The file is the classic pcap format (the pcap-savefile(5) manual page; the IETF's "PCAP Capture
// File Format" draft), written directly: a 24-byte file header, then a 16-byte record header and
// the bytes of each frame. Its snapshot length is 262144, tcpdump's default, so that a TCP
// super-segment a TAP device with offloads hands over (up to 65,553 bytes) is a legal record, as
// in a capture tcpdump takes on the kernel's side of the TAP. Writes are buffered: the file is
// complete once Close() returns or the writer is destroyed, not before.
#ifndef TAPSTACK_TAP_PCAP_WRITER_H_
#define TAPSTACK_TAP_PCAP_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include "stack/result.h"
#include "timers/timer_wheel.h"

namespace tapstack::tap {

class PcapWriter {
 public:
  // The snapshot length in the file header: no record is longer.
  static constexpr std::uint32_t kSnapshotLength = 262144;

  // Creates (or truncates) `path` and writes the file header. Errors are those of open(2)
  // (ENOENT for a missing directory, EACCES...), or EIO when the header cannot be written.
  static Result<std::unique_ptr<PcapWriter>> Open(const std::string& path);
  ~PcapWriter();

  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one frame. EBADF after Close() (as a write to a closed descriptor), EMSGSIZE for a
  // frame longer than kSnapshotLength, EIO when the write fails.
  std::error_code Write(std::span<const std::uint8_t> frame, timers::TimePoint now);
  // Flushes and closes the file. Idempotent.
  void Close();

  bool is_open() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }
  std::uint64_t frames_written() const { return frames_written_; }

 private:
  PcapWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}

  std::string path_;
  std::FILE* file_;
  std::uint64_t frames_written_ = 0;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_PCAP_WRITER_H_
