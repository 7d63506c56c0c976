// The slots of the hierarchical wheel: each an array of pointers to its pending timers, in the
// order they were placed, with holes where timers left (internal to timers/).
//
// Why arrays and not linked lists: a list hands out the address of its next timer only once the
// current one has arrived from memory, so walking a slot whose timers are spread over a large heap
// is a chain of dependent cache misses. With the pointers side by side, the loops that cascade and
// fire a slot know every address in advance and can prefetch timers ahead, so the misses overlap
// instead of queueing (docs/timer-wheel.md, "Slots as arrays").
//
// An array is a list of fixed 512-byte chunks taken from a pool that the wheel owns, so a wheel in
// a steady state does not allocate, and growing never copies. A timer that leaves (cancelled,
// moved, destroyed) leaves a hole rather than shifting the rest, which keeps the others' order and
// their addresses; when the holes outnumber the timers, the leading chunks that hold only holes
// are given back (TrimFront) and, if that is not enough, the holes are squeezed out (Compact), so
// a slot never holds much more than twice its timers.
#ifndef TAPSTACK_TIMERS_TIMER_SLOT_ARRAY_H_
#define TAPSTACK_TIMERS_TIMER_SLOT_ARRAY_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

#include "timers/timer.h"

namespace tapstack::timers {

// Chunks are allocated aligned to their size, and their entries end them (TimerSlotArray::Tail).
struct alignas(512) TimerChunk {
  static constexpr std::size_t kBytes = 512;
  static constexpr std::size_t kEntries = (kBytes - 16) / sizeof(Timer*);

  TimerChunk* next = nullptr;
  std::size_t count = 0;  // entries used, holes included (a slot's tail: once sealed)
  Timer* entries[kEntries];
};
static_assert(sizeof(TimerChunk) == TimerChunk::kBytes &&
              alignof(TimerChunk) == TimerChunk::kBytes);
static_assert(offsetof(TimerChunk, entries) + sizeof(TimerChunk::entries) == TimerChunk::kBytes);

// The free chunks of one wheel. It keeps at most as many free chunks as are in use (and a few
// more), so a wheel that shrinks gives memory back while one that breathes in and out around a
// steady size reuses its chunks.
class TimerChunkPool {
 public:
  TimerChunkPool() = default;
  ~TimerChunkPool() {
    while (free_ != nullptr) Delete(Pop());
  }
  TimerChunkPool(const TimerChunkPool&) = delete;
  TimerChunkPool& operator=(const TimerChunkPool&) = delete;

  TimerChunk* Get() {
    ++in_use_;
    TimerChunk* chunk =
        free_ != nullptr ? Pop() : new (std::align_val_t{TimerChunk::kBytes}) TimerChunk;
    chunk->next = nullptr;
    chunk->count = 0;
    return chunk;
  }

  void Put(TimerChunk* chunk) {
    --in_use_;
    if (free_count_ >= std::max(in_use_, kReserve)) {
      Delete(chunk);
      return;
    }
    chunk->next = free_;
    free_ = chunk;
    ++free_count_;
  }

  // Chunks allocated, in use or free: the memory the wheel's slots hold.
  std::size_t chunks() const { return in_use_ + free_count_; }
  // Chunks held by slots.
  std::size_t in_use() const { return in_use_; }

 private:
  static constexpr std::size_t kReserve = 4;

  TimerChunk* Pop() {
    TimerChunk* chunk = free_;
    free_ = chunk->next;
    --free_count_;
    return chunk;
  }
  static void Delete(TimerChunk* chunk) {
    ::operator delete (chunk, std::align_val_t{TimerChunk::kBytes});
  }

  TimerChunk* free_ = nullptr;
  std::size_t free_count_ = 0;
  std::size_t in_use_ = 0;
};

// One slot: its chunks, the timers in them, and the entries of all its chunks but the tail.
class TimerSlotArray {
 public:
  // Appends `timer` and returns the address of its entry, which stays valid until the next
  // Compact or TakeAll. Inline and short on purpose: with a million timers every schedule waits on
  // the miss of its timer, and the fewer instructions each call takes, the more calls (and misses)
  // the processor overlaps. Hence a cursor instead of the tail chunk's count, which is
  // written only when a chunk fills or the slot is walked (SealTail).
  Timer** Append(Timer* timer, TimerChunkPool& pool) {
    if (!has_room()) [[unlikely]]
      AddChunk(pool);
    return AppendWithRoom(timer);
  }
  // Whether the tail chunk has a free entry. A slot with room is not empty: an empty slot has no
  // chunk.
  bool has_room() const { return !TailIsFull(); }
  // Append on a slot that has room: no call on any path, so a caller that has checked has_room
  // keeps its values in registers across it.
  Timer** AppendWithRoom(Timer* timer) {
    Timer** entry = next_free_++;
    *entry = timer;
    ++live_;
    return entry;
  }

  // Leaves a hole at `entry`. Returns true when that emptied the slot (the caller gives its chunks
  // back with Release) or made its holes worth squeezing out (Compact).
  bool Erase(Timer** entry) {
    *entry = nullptr;
    --live_;
    return live_ == 0 || ShouldCompact();
  }

  bool empty() const { return live_ == 0; }
  // Whether the holes are worth squeezing out: more of them than timers, and more than a chunk.
  // Judged from the entries before the tail chunk alone, so that an append updates one count and
  // not two: when those entries exceed twice the timers plus a chunk, the holes among them (at
  // least sealed_ - live_) outnumber all the timers by more than a chunk. The tail hides at most
  // a chunk of holes, so a slot never holds more than twice its timers plus two chunks of
  // entries, and a squeeze always finds more holes than timers to pay for it.
  bool ShouldCompact() const { return sealed_ > 2 * live_ + TimerChunk::kEntries; }

  // Gives back the leading chunks that hold only holes, and returns whether the holes left are
  // still worth squeezing out (ShouldCompact). Timers often leave a slot in the order they entered
  // it (connections armed together, closed or re-armed oldest first), which empties its chunks
  // front to back. Dropping such a chunk moves no timer, where Compact tells every timer it moves
  // its new entry: at a million timers, one cache miss per survivor. Reads the entries of the
  // chunks it gives back and of the first one it keeps, no timer.
  bool TrimFront(TimerChunkPool& pool) {
    SealTail();
    // The tail is never dropped: a slot with a timer left has one in the tail or before it.
    while (head_ != Tail() && std::all_of(head_->entries, head_->entries + head_->count,
                                          [](const Timer* entry) { return entry == nullptr; })) {
      TimerChunk* empty = head_;
      head_ = empty->next;
      sealed_ -= empty->count;
      pool.Put(empty);
    }
    return ShouldCompact();
  }

  // Squeezes out the holes, keeping the order of the timers, calls `moved(timer, entry)` for each
  // timer whose entry changed, and gives back the chunks no longer needed.
  template <typename OnMoved>
  void Compact(TimerChunkPool& pool, OnMoved&& moved) {
    SealTail();
    TimerChunk* write_chunk = head_;
    std::size_t write = 0;
    for (TimerChunk* chunk = head_; chunk != nullptr; chunk = chunk->next) {
      for (std::size_t i = 0; i < chunk->count; ++i) {
        // Every moved timer is written to: fetch them ahead so that the misses overlap.
        if (i + kPrefetchAhead < chunk->count)
          __builtin_prefetch(chunk->entries[i + kPrefetchAhead], 1);
        Timer* timer = chunk->entries[i];
        if (timer == nullptr) continue;
        if (write == TimerChunk::kEntries) {
          write_chunk->count = write;
          write_chunk = write_chunk->next;
          write = 0;
        }
        Timer** entry = &write_chunk->entries[write++];
        if (entry != &chunk->entries[i]) {
          *entry = timer;
          moved(*timer, entry);
        }
      }
    }
    // The write cursor never passes the read cursor, so the chunks after it are now unused.
    TimerChunk* spare = write_chunk->next;
    write_chunk->count = write;
    write_chunk->next = nullptr;
    next_free_ = &write_chunk->entries[write];
    sealed_ = live_ - write;
    while (spare != nullptr) {
      TimerChunk* next = spare->next;
      pool.Put(spare);
      spare = next;
    }
  }

  // Detaches the slot's chunks (holes included) and returns the first; the slot is left empty.
  // The timers' entries stay where they are; the caller gives the chunks back with PutChain.
  TimerChunk* TakeAll() {
    SealTail();
    TimerChunk* chain = head_;
    head_ = nullptr;
    next_free_ = nullptr;
    live_ = sealed_ = 0;
    return chain;
  }

  // TakeAll for a walk over the chunks during which timers may still leave them (a callback
  // cancels a timer further on): until EndWalk, Erase writes the hole the walk will skip and
  // reports nothing, because the count of timers is parked too high ever to reach zero or to make
  // the holes worth squeezing. Nothing may be appended to the slot meanwhile.
  TimerChunk* TakeAllForWalk() {
    TimerChunk* chain = TakeAll();
    live_ = kWalking;
    return chain;
  }
  void EndWalk() { live_ = 0; }

  // For the wheel's destructor: every timer still here, holes skipped.
  template <typename Visit>
  void ForEach(Visit&& visit) {
    SealTail();
    for (TimerChunk* chunk = head_; chunk != nullptr; chunk = chunk->next) {
      for (std::size_t i = 0; i < chunk->count; ++i) {
        if (chunk->entries[i] != nullptr) visit(*chunk->entries[i]);
      }
    }
  }

  void Release(TimerChunkPool& pool) { PutChain(TakeAll(), pool); }

  static void PutChain(TimerChunk* chain, TimerChunkPool& pool) {
    while (chain != nullptr) {
      TimerChunk* next = chain->next;
      pool.Put(chain);
      chain = next;
    }
  }

 private:
  static constexpr std::size_t kPrefetchAhead = 16;
  // live_ during a walk: far above any real count, and twice it plus a chunk still fits.
  static constexpr std::size_t kWalking = std::numeric_limits<std::size_t>::max() / 4;

  // Starts a new tail chunk: the slot had none, or its tail is full. Out of line, so that Append
  // stays small enough to inline into the wheel's inline schedule.
  [[gnu::noinline]] void AddChunk(TimerChunkPool& pool) {
    SealTail();
    TimerChunk* chunk = pool.Get();
    if (head_ != nullptr) {
      sealed_ += Tail()->count;
      Tail()->next = chunk;
    } else {
      head_ = chunk;
    }
    next_free_ = chunk->entries;
  }
  // Writes the tail chunk's count from the append cursor, before anything reads the counts.
  void SealTail() {
    if (head_ != nullptr) Tail()->count = static_cast<std::size_t>(next_free_ - Tail()->entries);
  }
  // A chunk is aligned to its size and its entries end it, so the append cursor says both which
  // chunk is the tail (the one holding the entry before the cursor) and whether it is full (the
  // cursor on a chunk boundary); with no chunk the cursor is null, which reads as full too. That
  // keeps a slot at 32 bytes, a power of two that indexing the slots turns into a shift.
  bool TailIsFull() const {
    return (reinterpret_cast<std::uintptr_t>(next_free_) & (TimerChunk::kBytes - 1)) == 0;
  }
  TimerChunk* Tail() const {
    return reinterpret_cast<TimerChunk*>((reinterpret_cast<std::uintptr_t>(next_free_) - 1) &
                                         ~std::uintptr_t{TimerChunk::kBytes - 1});
  }

  TimerChunk* head_ = nullptr;
  // The tail chunk's next unused entry; null when there is no chunk.
  Timer** next_free_ = nullptr;
  std::size_t live_ = 0;
  // Entries, timers and holes, in the chunks before the tail: changed when a chunk is added or
  // given back, never by an append.
  std::size_t sealed_ = 0;
};

static_assert(sizeof(TimerSlotArray) == 32,
              "a power of two: the wheel indexes its slots with a shift");

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_SLOT_ARRAY_H_
