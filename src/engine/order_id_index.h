// Order id -> order slot, for the ids the engine itself hands out in increasing order.
//
// A direct table in pages of kPageIds entries instead of a hash map: a new order's id falls in
// the same page as the previous one, so the insert that every new order pays is a cache hit
// rather than a miss into a table of millions of entries; a lookup is one miss at most. A page
// exists while it holds a live id and goes back to a free list when its last id leaves, so after
// warm-up nothing is allocated. Memory is bounded by pages with at least one live id: the worst
// case is one long-lived order per page (kPageIds × 4 bytes each), which needs kPageIds orders
// placed for every order kept; the page directory grows by 4 bytes per kPageIds ids ever issued.
#pragma once

#include <cstdint>
#include <vector>

#include "core/assert.h"

namespace spotex::engine {

class OrderIdIndex {
 public:
  static constexpr int kPageShift = 8;
  static constexpr uint64_t kPageIds = uint64_t{1} << kPageShift;
  static constexpr uint32_t kNone = UINT32_MAX;

  // The slot of `id`, or nullptr. Any id is accepted (client input): out of range is absent.
  const uint32_t* Find(uint64_t id) const {
    const uint64_t pn = id >> kPageShift;
    if (pn >= dir_.size() || dir_[pn] == 0) {
      return nullptr;
    }
    const uint32_t* s = &pages_[dir_[pn] - 1].slot[id & (kPageIds - 1)];
    return *s == kNone ? nullptr : s;
  }

  // Precondition: `id` is absent and below 2^53 (the engine's ids are).
  void Put(uint64_t id, uint32_t slot) {
    SPOTEX_ASSERT(id < (uint64_t{1} << 53) && slot != kNone);
    const uint64_t pn = id >> kPageShift;
    if (pn >= dir_.size()) {
      dir_.resize(pn + 1 + pn / 2, 0);
    }
    if (dir_[pn] == 0) {
      uint32_t p;
      if (!free_pages_.empty()) {
        p = free_pages_.back();
        free_pages_.pop_back();
      } else {
        p = static_cast<uint32_t>(pages_.size());
        pages_.emplace_back();
      }
      Page& page = pages_[p];
      for (uint32_t& s : page.slot) {
        s = kNone;
      }
      page.live = 0;
      dir_[pn] = p + 1;
    }
    Page& page = pages_[dir_[pn] - 1];
    uint32_t& s = page.slot[id & (kPageIds - 1)];
    SPOTEX_ASSERT(s == kNone);
    s = slot;
    ++page.live;
    ++size_;
  }

  // Removes `id`; returns whether it was present.
  bool Erase(uint64_t id) {
    const uint64_t pn = id >> kPageShift;
    if (pn >= dir_.size() || dir_[pn] == 0) {
      return false;
    }
    const uint32_t p = dir_[pn] - 1;
    uint32_t& s = pages_[p].slot[id & (kPageIds - 1)];
    if (s == kNone) {
      return false;
    }
    s = kNone;
    --size_;
    if (--pages_[p].live == 0) {
      dir_[pn] = 0;
      free_pages_.push_back(p);
    }
    return true;
  }

  size_t size() const { return size_; }
  size_t page_count() const { return pages_.size(); }  // pages ever made (live or free)

  // Visits every (id, slot) in increasing id order.
  template <class F>
  void ForEach(F&& f) const {
    for (uint64_t pn = 0; pn < dir_.size(); ++pn) {
      if (dir_[pn] == 0) {
        continue;
      }
      const Page& page = pages_[dir_[pn] - 1];
      for (uint64_t i = 0; i < kPageIds; ++i) {
        if (page.slot[i] != kNone) {
          f((pn << kPageShift) | i, page.slot[i]);
        }
      }
    }
  }

 private:
  struct Page {
    uint32_t slot[kPageIds];
    uint32_t live = 0;
  };
  std::vector<uint32_t> dir_;  // page number -> 1 + index in pages_ (0: no page)
  std::vector<Page> pages_;
  std::vector<uint32_t> free_pages_;
  size_t size_ = 0;
};

}  // namespace spotex::engine
