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
    size_t i = Hash{}(key)&mask_;
    while (slots_[i].used) {
      if (slots_[i].key == key) {
        return &slots_[i].value;
      }
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  const Value* Find(const Key& key) const { return const_cast<FlatMap*>(this)->Find(key); }

  // Inserts or overwrites.
  void Put(const Key& key, const Value& value) {
    if ((size_ + 1) * 2 > slots_.size()) {  // load <= 1/2 keeps probe runs short
      Rehash(slots_.size() * 2);
    }
    size_t i = Hash{}(key)&mask_;
    while (slots_[i].used) {
      if (slots_[i].key == key) {
        slots_[i].value = value;
        return;
      }
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{key, value, true};
    ++size_;
  }

  // Removes `key`; returns whether it was present.
  bool Erase(const Key& key) {
    size_t i = Hash{}(key)&mask_;
    while (slots_[i].used) {
      if (slots_[i].key == key) {
        ShiftBack(i);
        --size_;
        return true;
      }
      i = (i + 1) & mask_;
    }
    return false;
  }

  void Clear() {
    for (Slot& s : slots_) {
      s.used = false;
    }
    size_ = 0;
  }

  // Visits every entry in slot order. The order depends on history: never let it reach
  // anything observable (events, hashes, snapshots) without sorting.
  template <class F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].used) {
        f(slots_[i].key, slots_[i].value);
      }
    }
  }

 private:
  void ShiftBack(size_t hole) {
    size_t j = hole;
    while (true) {
      j = (j + 1) & mask_;
      if (!slots_[j].used) {
        break;
      }
      const size_t home = Hash{}(slots_[j].key) & mask_;
      // Move j into the hole if its home is not in (hole, j] cyclically.
      const bool between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!between) {
        slots_[hole] = slots_[j];  // (used stays true at hole)
        hole = j;
      }
    }
    slots_[hole].used = false;
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old_slots = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Slot& s : old_slots) {
      if (s.used) {
        Put(s.key, s.value);
      }
    }
  }

  struct Slot {
    Key key{};
    Value value{};
    bool used = false;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace spotex::engine
