#include "stack/tcp/options_table.h"

#include <cassert>

namespace tapstack::tcp {

const ConnectionOptions* OptionsTable::Acquire(const ConnectionOptions& options) {
  auto& entry = *users_.try_emplace(options, 0).first;
  ++entry.second;
  return &entry.first;
}

void OptionsTable::Release(const ConnectionOptions* options) {
  const auto it = users_.find(*options);
  assert(it != users_.end() && &it->first == options);
  if (--it->second == 0) users_.erase(it);
}

}  // namespace tapstack::tcp
