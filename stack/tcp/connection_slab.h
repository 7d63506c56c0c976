// Where the connections live: a slab of fixed slots in 2 MiB regions, never moved, and the
// ConnectionId handles that name them.
//
// A ConnectionId is a slot's index and the slot's generation, so finding a connection by its id
// is one array access and one compare: no hash table beside the demux table, and no malloc
// header per connection. The generation is odd while a connection lives in the slot and moves on
// when it is freed and when the slot is reused, so a stale id finds nothing (until the same slot
// has been reused 2^31 times). Freed slots are reused last-freed first, while they are still in
// the cache.
//
// Slots are 64-byte aligned, so the connection's first cache line (docs/architecture.md) is one
// line. Every region after the first is backed by transparent huge pages (huge_pages.h); the
// first is not, so that an engine with a handful of connections (a test, the fuzzer) commits a
// few 4 KiB pages and not a 2 MiB one.
#ifndef TAPSTACK_STACK_TCP_CONNECTION_SLAB_H_
#define TAPSTACK_STACK_TCP_CONNECTION_SLAB_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "stack/tcp/huge_pages.h"
#include "stack/tcp/tcb.h"

namespace tapstack::tcp {

class ConnectionSlab {
 public:
  ConnectionSlab() = default;
  // Destroys the connections still in the slab.
  ~ConnectionSlab();
  ConnectionSlab(const ConnectionSlab&) = delete;
  ConnectionSlab& operator=(const ConnectionSlab&) = delete;

  // Constructs a connection in a free slot (Tcb's constructor arguments) and sets its id.
  template <typename... Args>
  Tcb& Create(Args&&... args) {
    const std::uint32_t index = TakeFreeSlot();
    Slot& slot = SlotAt(index);
    Tcb* tcb = new (slot.storage) Tcb(std::forward<Args>(args)...);
    ++slot.generation;  // odd: in use (only once the connection exists)
    tcb->slot_index = index;
    return *tcb;
  }
  // Destroys `tcb` and frees its slot; ids naming it find nothing from now on.
  void Destroy(Tcb& tcb);
  // The connection `id` names, or null for an id of a freed connection or none at all.
  Tcb* Find(ConnectionId id) const {
    const auto index = static_cast<std::uint32_t>(id.value);  // as IndexOf
    const auto generation = static_cast<std::uint32_t>(id.value >> 32);
    if (index >= never_used_ || (generation & 1) == 0) return nullptr;
    Slot& slot = SlotAt(index);
    return slot.generation == generation ? std::launder(reinterpret_cast<Tcb*>(slot.storage))
                                         : nullptr;
  }
  // The connection in slot `index` (IndexOf), which must hold one. The demux table keeps slot
  // indexes: 4 bytes where a pointer takes 8.
  Tcb& At(std::uint32_t index) const {
    return *std::launder(reinterpret_cast<Tcb*>(SlotAt(index).storage));
  }
  static std::uint32_t IndexOf(const Tcb& tcb) { return tcb.slot_index; }
  // The id naming `tcb`, from its slot index and the generation in its slot's header (both in the
  // connection's first line).
  static ConnectionId IdOf(const Tcb& tcb) {
    const auto* slot = reinterpret_cast<const Slot*>(reinterpret_cast<const char*>(&tcb) -
                                                     offsetof(Slot, storage));
    return ConnectionId{(std::uint64_t{slot->generation} << 32) | tcb.slot_index};
  }
  // Asks the CPU to bring the lines a received segment reads of slot `index` into the cache: a
  // burst of segments looks up its connections ahead of processing them (Stack::IngestBurst).
  void Prefetch(std::uint32_t index) const {
    PrefetchLines(reinterpret_cast<const char*>(&SlotAt(index)),
                  std::make_index_sequence<kSegmentPathLines>());
  }

 private:
  // Zero bytes are a free slot that never held a connection (a fresh mapping is zero).
  // The header comes first: Find reads the generation, and the connection's line 0 with it.
  struct alignas(64) Slot {
    std::uint32_t generation;  // odd while a connection lives here
    std::uint32_t next_free;   // while free: the next free slot's index
    alignas(Tcb) unsigned char storage[sizeof(Tcb)];
  };
  static_assert(offsetof(Slot, storage) == 8);
  // A data segment that acknowledges nothing new reads the slot's lines 0 to 3 and no others
  // (tcb.h). Asking for the rest too sends more requests to memory at once and, when a slot
  // straddles a 4 KiB page, a second page walk; a rarer path that reads them later finds the
  // page already in the TLB.
  static constexpr std::size_t kSegmentPathLines = 4;
  static constexpr std::size_t kRegionBytes = kHugePageSize;
  static constexpr std::uint32_t kSlotsPerRegion = kRegionBytes / sizeof(Slot);
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};

  template <std::size_t... Line>
  static void PrefetchLines(const char* slot, std::index_sequence<Line...>) {
    (__builtin_prefetch(slot + 64 * Line), ...);
    // GCC 12 takes a function whose only work is __builtin_prefetch for one without side effects
    // and deletes the calls to it; an empty volatile asm statement is a side effect it must keep.
    asm volatile("" : : "r"(slot));
  }
  Slot& SlotAt(std::uint32_t index) const {
    return regions_[index / kSlotsPerRegion][index % kSlotsPerRegion];
  }
  std::uint32_t TakeFreeSlot();
  void AddRegion();

  std::vector<Slot*> regions_;
  std::uint32_t never_used_ = 0;        // slots from here on have never held a connection
  std::uint32_t first_free_ = kNoSlot;  // freed slots, last freed first
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_CONNECTION_SLAB_H_
