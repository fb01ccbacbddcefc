#include "auth/secret.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace spotex::auth {

Secret::Secret(std::string_view bytes) : size_(bytes.size()) {
  if (size_ > 0) {
    data_ = std::make_unique<char[]>(size_);
    std::memcpy(data_.get(), bytes.data(), size_);
  }
}

Secret Secret::OfSize(size_t size) {
  Secret s;
  if (size > 0) {
    s.data_ = std::make_unique<char[]>(size);  // value-initialized: zeros
    s.size_ = size;
  }
  return s;
}

Secret::Secret(Secret&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Clear();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Secret::~Secret() { Clear(); }

void Secret::Clear() {
  if (data_ != nullptr) {
    sodium_memzero(data_.get(), size_);
    data_.reset();
  }
  size_ = 0;
}

}  // namespace spotex::auth
