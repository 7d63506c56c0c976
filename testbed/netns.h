// Named network namespaces (as `ip netns add` makes them): create, run commands inside, delete on
// scope exit together with every process left inside, and remove those a killed process left.
//
// Names carry the pid of the process that made them, behind a prefix that says which program made
// them: "ts<pid>n<counter>" for the tests, "tsdemo-<pid>-<label>" for the demo. Names are thus
// unique per process (tests run side by side), and the namespaces of a process that was killed
// outright (SIGKILL, a ctest timeout) are found by the pid that no longer runs and removed by the
// next one (RemoveStaleNamespaces). Names of these forms are reserved for the testbed.
#ifndef TAPSTACK_TESTBED_NETNS_H_
#define TAPSTACK_TESTBED_NETNS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/result.h"
#include "testbed/command.h"

namespace tapstack::testbed {

// How one program names its namespaces: PREFIX PID SEPARATOR LABEL.
struct NamePattern {
  std::string_view prefix;
  char separator;
  // Whether a pid now running another program has given up its namespaces. The demo says yes (a
  // pid reused after the demo died keeps nothing alive); the tests say no, since every test binary
  // is another program and two of them run side by side.
  bool owner_is_this_program;
};
inline constexpr NamePattern kTestNames{"ts", 'n', false};
inline constexpr NamePattern kDemoNames{"tsdemo-", '-', true};

// PREFIX <this pid> SEPARATOR label.
std::string NamespaceName(const NamePattern& pattern, std::string_view label);

// The pid in a name of the pattern, nullopt for any other name.
std::optional<int> OwnerPid(const NamePattern& pattern, std::string_view name);

// Deletes the namespaces of the pattern whose owner no longer runs, after killing what still runs
// inside them. Returns the names it deleted.
std::vector<std::string> RemoveStaleNamespaces(const NamePattern& pattern);

// Runs `open_fd` with the calling thread inside the named namespace and returns its result (a
// file descriptor, which stays tied to that namespace). -1 from `open_fd` becomes the error in
// errno; ENOENT when the namespace does not exist.
Result<int> OpenInNamespace(const std::string& netns, const std::function<int()>& open_fd);

class Namespace {
 public:
  // Creates PREFIX<pid>SEPARATOR<label> with its loopback up.
  static Result<std::unique_ptr<Namespace>> Create(const NamePattern& pattern,
                                                   std::string_view label);
  // Kills every process still inside (one left there would keep the namespace alive, unnamed and
  // unreachable, after `ip netns del` removed its name), then deletes it.
  ~Namespace();

  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  // `ip netns exec NAME argv...`, for commands and background peers.
  std::vector<std::string> ExecArgv(const std::vector<std::string>& argv) const;
  CommandResult Exec(const std::vector<std::string>& argv, std::string_view input = {}) const;
  // A shell line inside: `ip netns exec NAME sh -c COMMAND`.
  CommandResult Shell(const std::string& command) const;
  // `ip -n NAME args...`.
  CommandResult Ip(const std::vector<std::string>& args) const;
  CommandResult Sysctl(std::string_view key, std::string_view value) const;
  // Loads an nft script (`nft -f -`).
  CommandResult Nft(std::string_view script) const;

 private:
  explicit Namespace(std::string name) : name_(std::move(name)) {}

  std::string name_;
};

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_NETNS_H_
