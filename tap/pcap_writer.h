// Writes Ethernet frames to a pcap file (link type EN10MB) that tcpdump, tshark and Wireshark read.
//
// Each frame is stamped with the `now` it was written at. steady_clock time points become pcap
// timestamps as time since the clock's epoch: boot time for the real clock, whatever a test chose
// for a VirtualClock (so virtual captures start near zero; that is fine for reading them).
//
// libpcap buffers what it writes: the file is complete once Close() returns or the writer is
// destroyed, not before.
#ifndef TAPSTACK_TAP_PCAP_WRITER_H_
#define TAPSTACK_TAP_PCAP_WRITER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "stack/result.h"
#include "timers/timer_wheel.h"

namespace Tins {
class PacketWriter;
}  // namespace Tins

namespace tapstack::tap {

class PcapWriter {
 public:
  // Creates (or truncates) `path`. Errors are those of open(2) (ENOENT for a missing directory,
  // EACCES...), or EIO when libpcap cannot start the file.
  static Result<std::unique_ptr<PcapWriter>> Open(const std::string& path);
  ~PcapWriter();

  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one frame. EBADF after Close() (as a write to a closed descriptor), EIO when libpcap
  // fails to write.
  std::error_code Write(std::span<const std::uint8_t> frame, timers::TimePoint now);
  // Flushes and closes the file. Idempotent.
  void Close();

  bool is_open() const { return writer_ != nullptr; }
  const std::string& path() const { return path_; }
  std::uint64_t frames_written() const { return frames_written_; }

 private:
  PcapWriter(std::string path, std::unique_ptr<Tins::PacketWriter> writer);

  std::string path_;
  // libtins' writer; kept behind a pointer so that libtins headers (and their -I/usr/include/tins,
  // whose ip.h and tcp.h could shadow other headers) stay out of every includer.
  std::unique_ptr<Tins::PacketWriter> writer_;
  std::uint64_t frames_written_ = 0;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_PCAP_WRITER_H_
