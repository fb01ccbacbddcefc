// A small open-addressing hash map (linear probing, backward-shift deletion) for the engine's
// indexes. Written here instead of taken from a library because the engine must be
// deterministic across processes: the hash has no per-process seed, and nothing ever depends
// on iteration order. Grows by doubling (amortised; after warm-up no allocation); never shrinks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/assert.h"

namespace spotex::engine {

inline uint64_t Mix64(uint64_t x) {
  // splitmix64 finaliser: good avalanche, no seed.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

struct IntHash {
  uint64_t operator()(uint64_t k) const { return Mix64(k); }
};

// Key must be equality-comparable and cheap to copy; Value trivially copyable.
template <class Key, class Value, class Hash = IntHash>
class FlatMap {
 public:
  FlatMap() { Rehash(16); }

  size_t size() const { return size_; }

  // Returns the value for `key`, or nullptr.
  Value* Find(const Key& key) {
    size_t i = Hash{}(key) & mask_;
    while (used_[i]) {
      if (slots_[i].first == key) {
        return &slots_[i].second;
      }
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  const Value* Find(const Key& key) const { return const_cast<FlatMap*>(this)->Find(key); }

  // Inserts or overwrites.
  void Put(const Key& key, const Value& value) {
    if ((size_ + 1) * 8 > slots_.size() * 7) {
      Rehash(slots_.size() * 2);
    }
    size_t i = Hash{}(key) & mask_;
    while (used_[i]) {
      if (slots_[i].first == key) {
        slots_[i].second = value;
        return;
      }
      i = (i + 1) & mask_;
    }
    used_[i] = 1;
    slots_[i] = {key, value};
    ++size_;
  }

  // Removes `key`; returns whether it was present.
  bool Erase(const Key& key) {
    size_t i = Hash{}(key) & mask_;
    while (used_[i]) {
      if (slots_[i].first == key) {
        ShiftBack(i);
        --size_;
        return true;
      }
      i = (i + 1) & mask_;
    }
    return false;
  }

  void Clear() {
    std::fill(used_.begin(), used_.end(), 0);
    size_ = 0;
  }

  // Visits every entry in slot order. The order depends on history: never let it reach
  // anything observable (events, hashes, snapshots) without sorting.
  template <class F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (used_[i]) {
        f(slots_[i].first, slots_[i].second);
      }
    }
  }

 private:
  void ShiftBack(size_t hole) {
    size_t j = hole;
    while (true) {
      j = (j + 1) & mask_;
      if (!used_[j]) {
        break;
      }
      const size_t home = Hash{}(slots_[j].first) & mask_;
      // Move j into the hole if its home is not in (hole, j] cyclically.
      const bool between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!between) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    used_[hole] = 0;
  }

  void Rehash(size_t capacity) {
    std::vector<std::pair<Key, Value>> old_slots = std::move(slots_);
    std::vector<uint8_t> old_used = std::move(used_);
    slots_.assign(capacity, {});
    used_.assign(capacity, 0);
    mask_ = capacity - 1;
    size_ = 0;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (old_used[i]) {
        Put(old_slots[i].first, old_slots[i].second);
      }
    }
  }

  std::vector<std::pair<Key, Value>> slots_;
  std::vector<uint8_t> used_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace spotex::engine
