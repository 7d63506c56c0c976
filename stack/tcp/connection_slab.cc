#include "stack/tcp/connection_slab.h"

#include <sanitizer/asan_interface.h>

#include <memory>

namespace tapstack::tcp {

ConnectionSlab::~ConnectionSlab() {
  for (std::uint32_t index = 0; index < never_used_; ++index) {
    Slot& slot = SlotAt(index);
    if ((slot.generation & 1) != 0) {
      ASAN_UNPOISON_MEMORY_REGION(slot.storage, sizeof(slot.storage));
      std::destroy_at(std::launder(reinterpret_cast<Tcb*>(slot.storage)));
    }
  }
  for (Slot* region : regions_) {
    ASAN_UNPOISON_MEMORY_REGION(region, kRegionBytes);
    UnmapRegion(region, kRegionBytes);
  }
}

void ConnectionSlab::Destroy(Tcb& tcb) {
  const std::uint32_t index = tcb.slot_index;
  Slot& slot = SlotAt(index);
  std::destroy_at(&tcb);
  ++slot.generation;  // even: free, and every id naming the connection is stale
  slot.next_free = first_free_;
  first_free_ = index;
  // Under AddressSanitizer a use of the freed connection is reported like a use after free.
  ASAN_POISON_MEMORY_REGION(slot.storage, sizeof(slot.storage));
}

std::uint32_t ConnectionSlab::TakeFreeSlot() {
  if (first_free_ != kNoSlot) {
    const std::uint32_t index = first_free_;
    Slot& slot = SlotAt(index);
    first_free_ = slot.next_free;
    ASAN_UNPOISON_MEMORY_REGION(slot.storage, sizeof(slot.storage));
    return index;
  }
  // Never used before: a fresh mapping is zero (generation 0, free), and its pages are committed
  // only as connections reach them, front to back.
  if (never_used_ == regions_.size() * kSlotsPerRegion) AddRegion();
  return never_used_++;
}

void ConnectionSlab::AddRegion() {
  // The first region with ordinary pages, the rest with huge pages (see the header).
  regions_.push_back(static_cast<Slot*>(MapRegion(kRegionBytes, /*huge=*/!regions_.empty())));
}

}  // namespace tapstack::tcp
