// Secret bytes that are wiped (sodium_memzero) when they go away.
//
// Used for HMAC secrets in the clear, master keys and anything else that must not linger in
// freed heap memory. The bytes live in one heap buffer that is never reallocated after
// construction and moves by pointer, so no stray copy is left behind by growth or a move.
// Copies must be explicit (Clone) so that every copy of a secret is visible in the code.
//
// Thread safety: like std::string; a const Secret may be read from several threads.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace spotex::auth {

class Secret {
 public:
  Secret() = default;
  // Copies `bytes` into a new buffer. The caller remains responsible for its own copy.
  explicit Secret(std::string_view bytes);
  // A buffer of `size` zero bytes, to be filled through mutable_data().
  static Secret OfSize(size_t size);

  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret();

  [[nodiscard]] Secret Clone() const { return Secret(view()); }

  std::string_view view() const { return {data_.get(), size_}; }
  std::span<const unsigned char> bytes() const {
    return {reinterpret_cast<const unsigned char*>(data_.get()), size_};
  }
  unsigned char* mutable_data() { return reinterpret_cast<unsigned char*>(data_.get()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Wipes and releases the bytes; the Secret becomes empty.
  void Clear();

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

}  // namespace spotex::auth
