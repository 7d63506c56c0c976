// A small command-line parser for the sub-commands: `--name value`, `--name=value`, boolean
// `--flag`, short aliases, and positional arguments. Errors are messages for a usage exit (2).
#ifndef TAPSTACK_TOOLS_ARGS_H_
#define TAPSTACK_TOOLS_ARGS_H_

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tapstack::tools {

class Args {
 public:
  // `valued` lists options that take a value, `flags` those that do not; `aliases` maps short
  // forms ("-l") to long ones ("--listen").
  static absl::StatusOr<Args> Parse(std::span<const std::string_view> args,
                                    const std::set<std::string>& valued,
                                    const std::set<std::string>& flags,
                                    const std::map<std::string, std::string>& aliases = {});

  bool Has(const std::string& name) const { return values_.contains(name); }
  // The value given last (an option given twice takes its second value, as getopt's users do).
  std::optional<std::string> Get(const std::string& name) const;
  // Every value of a repeatable option, in the order given (`--addr A --addr B`).
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Whether the arguments ask for the command's usage: `--help` or `-h` anywhere among them. Every
// command answers it before anything else, so that `tapstack nc --help` works without the
// options nc otherwise requires.
bool AsksForHelp(std::span<const std::string_view> args);

// "3s", "500ms", "2h", "1m", "250us": a non-negative whole number and a unit. `what` names the
// option or argument in the error ("--interval: bad duration '3 seconds' (use ...)").
absl::StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view what,
                                                       std::string_view text);

// A whole number in [min, max]. `what` names the option or argument in the error
// ("PORT: bad number '99999' (allowed: 1 to 65535)").
absl::StatusOr<long long> ParseInteger(std::string_view what, std::string_view text, long long min,
                                       long long max);

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_ARGS_H_
