#include "tools/diagram/capture_file.h"

#include <pcap/pcap.h>
#include <tins/exceptions.h>
#include <tins/sniffer.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tapstack::tools::diagram {

absl::StatusOr<Capture> ReadCapture(const std::string& path) {
  // libpcap's own message for a missing file is terse; say which file and why first.
  if (std::ifstream probe(path, std::ios::binary); !probe) {
    const int error = errno;
    const std::string text = absl::StrCat("cannot open ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(text);
    if (error == EACCES) return absl::PermissionDeniedError(text);
    return absl::InvalidArgumentError(text);
  }
  std::unique_ptr<Tins::FileSniffer> sniffer;
  try {
    sniffer = std::make_unique<Tins::FileSniffer>(path);
  } catch (const std::exception& e) {
    // libpcap refuses anything without a pcap or pcapng header ("unknown file format"), and a
    // file too short to hold one ("truncated dump file").
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a pcap or pcapng capture (", e.what(), ")"));
  }
  Capture capture;
  capture.link_type = sniffer->link_type();
  if (!IsSupportedLinkType(capture.link_type)) {
    const char* name = pcap_datalink_val_to_name(capture.link_type);
    return absl::UnimplementedError(absl::StrCat(
        path, ": link type ", name != nullptr ? name : "unknown", " (", capture.link_type,
        ") is not decoded; Ethernet, Linux cooked (SLL, SLL2), raw IP and loopback are"));
  }
  // Records are read with pcap_next_ex on the sniffer's handle rather than through its iterator,
  // which ends the same way at the end of the file and at a record cut short: the difference is
  // the one this reader must report.
  pcap_t* handle = sniffer->get_pcap_handle();
  while (true) {
    pcap_pkthdr* header = nullptr;
    const std::uint8_t* data = nullptr;
    const int result = pcap_next_ex(handle, &header, &data);
    if (result == PCAP_ERROR_BREAK) break;  // the end of the file
    if (result != 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt or truncated after ",
                                                     capture.records, " packets (",
                                                     pcap_geterr(handle), ")"));
    }
    ++capture.records;
    const std::chrono::nanoseconds timestamp =
        std::chrono::seconds(header->ts.tv_sec) + std::chrono::microseconds(header->ts.tv_usec);
    if (capture.records == 1) capture.first_timestamp = timestamp;
    const std::span<const std::uint8_t> record(data, header->caplen);
    if (std::optional<CapturedTcp> tcp = DecodeTcp(capture.link_type, record)) {
      capture.tcp.push_back({capture.records, timestamp, *tcp});
    }
  }
  return capture;
}

}  // namespace tapstack::tools::diagram
