// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
// Table-driven, portable, no hardware instructions. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>

namespace spotex::bus {

// Returns the CRC-32C of `data` extended by `n` more bytes, where `crc` is the finished CRC of
// the data so far (0 for empty input). Extend(Extend(0, a), b) == Crc32c(a ++ b).
[[nodiscard]] uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

// Returns the CRC-32C of `n` bytes at `data`. Crc32c("123456789") == 0xE3069283.
[[nodiscard]] inline uint32_t Crc32c(const void* data, size_t n) {
  return Crc32cExtend(0, data, n);
}

}  // namespace spotex::bus
