#include "stack/tcp/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace tapstack::tcp {

void* MapRegion(std::size_t bytes, bool huge) {
  // Over-allocate by one huge page and trim, so the region starts on a huge-page boundary (the
  // kernel can only back aligned 2 MiB ranges with a huge page).
  const std::size_t mapped = bytes + kHugePageSize;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePageSize - 1) & ~(kHugePageSize - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const std::uintptr_t end = start + mapped;
  if (end > aligned + bytes)
    munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  void* region = reinterpret_cast<void*>(aligned);
  // Advice only: without THP the region works the same with ordinary pages.
  if (huge) (void)madvise(region, bytes, MADV_HUGEPAGE);
  return region;
}

void UnmapRegion(void* region, std::size_t bytes) { munmap(region, bytes); }

}  // namespace tapstack::tcp
