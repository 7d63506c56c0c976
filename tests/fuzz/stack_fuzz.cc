// libFuzzer target: a Stack with a listener and an established connection receives a sequence of
// frames on a virtual clock (record format in fuzz_drivers.h).
#include <cstddef>
#include <cstdint>
#include <span>

#include "tests/fuzz/fuzz_drivers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tapstack::fuzz::RunStackInput(std::span<const std::uint8_t>(data, size));
  return 0;
}
