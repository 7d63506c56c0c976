#include "tools/args.h"

#include <algorithm>
#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tapstack::tools {

absl::StatusOr<Args> Args::Parse(std::span<const std::string_view> args,
                                 const std::set<std::string>& valued,
                                 const std::set<std::string>& flags,
                                 const std::map<std::string, std::string>& aliases) {
  Args parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg(args[i]);
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positional_.push_back(arg);
      continue;
    }
    if (const auto alias = aliases.find(arg); alias != aliases.end()) arg = alias->second;
    std::string name = arg;
    std::optional<std::string> value;
    if (const std::size_t equals = arg.find('='); equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    if (flags.contains(name)) {
      if (value) return absl::InvalidArgumentError(absl::StrCat(name, " takes no value"));
      parsed.values_[name].push_back("");
    } else if (valued.contains(name)) {
      if (!value) {
        if (i + 1 >= args.size())
          return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
        value = std::string(args[++i]);
      }
      parsed.values_[name].push_back(*value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", name));
    }
  }
  return parsed;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

bool AsksForHelp(std::span<const std::string_view> args) {
  return std::any_of(args.begin(), args.end(),
                     [](std::string_view arg) { return arg == "--help" || arg == "-h"; });
}

absl::StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view what,
                                                       std::string_view text) {
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": bad duration '", std::string(text),
                     "' (use a whole number and a unit: 250us, 500ms, 3s, 2m, 2h)"));
  };
  if (error != std::errc() || end == text.data()) return bad();
  using std::chrono::nanoseconds;
  constexpr std::uint64_t kMaxSeconds = 100ull * 365 * 24 * 3600;
  std::uint64_t unit_ns = 0;
  if (unit == "us")
    unit_ns = 1'000;
  else if (unit == "ms")
    unit_ns = 1'000'000;
  else if (unit == "s")
    unit_ns = 1'000'000'000;
  else if (unit == "m")
    unit_ns = 60'000'000'000;
  else if (unit == "h")
    unit_ns = 3'600'000'000'000;
  else
    return bad();
  if (number > kMaxSeconds * 1'000'000'000 / unit_ns) return bad();
  return nanoseconds(static_cast<nanoseconds::rep>(number * unit_ns));
}

absl::StatusOr<long long> ParseInteger(std::string_view what, std::string_view text, long long min,
                                       long long max) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": bad number '",
                                                   std::string(text), "' (allowed: ", min, " to ",
                                                   max, ")"));
  }
  return value;
}

}  // namespace tapstack::tools
