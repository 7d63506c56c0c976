// libFuzzer target: every wire view's Parse and accessors on one frame (fuzz_drivers.h).
#include <cstddef>
#include <cstdint>
#include <span>

#include "tests/fuzz/fuzz_drivers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tapstack::fuzz::RunWireInput(std::span<const std::uint8_t>(data, size));
  return 0;
}
