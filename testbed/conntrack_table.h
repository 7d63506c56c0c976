// A NAT namespace's connection tracking table as /proc/net/nf_conntrack shows it inside that
// namespace; what `conntrack -L` lists, without needing the conntrack tool.
#ifndef TAPSTACK_TESTBED_CONNTRACK_TABLE_H_
#define TAPSTACK_TESTBED_CONNTRACK_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace tapstack::testbed {

class ConntrackTable {
 public:
  explicit ConntrackTable(std::string netns) : netns_(std::move(netns)) {}
  ~ConntrackTable();
  ConntrackTable(const ConntrackTable&) = delete;
  ConntrackTable& operator=(const ConntrackTable&) = delete;

  // How many TCP entries have the server port `dport` as the original direction's destination,
  // counting only those in ESTABLISHED when `established_only`; nullopt when the table cannot be
  // read (a kernel without /proc/net/nf_conntrack).
  std::optional<std::size_t> CountTcpTo(std::uint16_t dport, bool established_only);

 private:
  // The whole table, read again from its start.
  std::optional<std::string> Read();

  std::string netns_;
  // Opened once, from inside the namespace: the file keeps showing that namespace's table.
  int fd_ = -1;
  bool unreadable_ = false;
};

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_CONNTRACK_TABLE_H_
