#include "stack/counters.h"

namespace tapstack {

namespace {
constexpr std::array<std::string_view, Counters::kSize> kNames = {
#define TAPSTACK_COUNTER_NAME(name, text) text,
    TAPSTACK_COUNTERS(TAPSTACK_COUNTER_NAME)
#undef TAPSTACK_COUNTER_NAME
};
}  // namespace

std::string_view CounterName(Counter counter) {
  return kNames[static_cast<std::size_t>(counter)];
}

std::uint64_t Counters::TotalDrops() const {
  std::uint64_t total = 0;
  ForEach([&](std::string_view name, std::uint64_t value) {
    if (name.starts_with("drop_")) total += value;
  });
  return total;
}

}  // namespace tapstack
