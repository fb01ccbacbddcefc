// The engine's own write-ahead journal of commands (DESIGN.md §1 principle 2, §3).
//
// A client is told "accepted" only after its command is in the replicated stream AND appended
// here and fdatasync'ed. The engine appends each command it consumes (Append), and every batch
// window (≤ 1 ms, chosen by the caller) writes the batch with one write() and one fdatasync()
// (Sync: group commit). On restart the engine state is rebuilt from a snapshot plus Replay of the
// journal records after the snapshot's sequence number.
//
// File format: one append-only file of records, all integers little-endian:
//
//   offset 0   u32 payload_len      (≤ kMaxPayloadBytes)
//   offset 4   u32 crc              CRC-32C over (u64 seq ++ payload)
//   offset 8   u64 seq              command-log sequence number, ≥ 1, strictly increasing
//   offset 16  payload_len bytes    the command, opaque to the journal
//
// The length is not covered by the CRC directly; a damaged length makes the CRC (computed over
// the wrong bytes) fail, except with probability ~2^-32.
//
// Recovery (Open, and the same validation in Replay). Records are validated from the start. At
// the first record that is bad — header incomplete, length > kMaxPayloadBytes, payload past the
// end of the file, or CRC mismatch — the journal decides between two cases:
//   * torn tail: no valid record starts at ANY later byte offset of the file, and the bad region
//     (from the bad record to the end of file) is at most kMaxBatchBytes — a crash can only tear
//     the last, unsynced batch, which is never larger. Open truncates the file at the bad
//     record's start (ftruncate + fdatasync) and reports the cut in RecoveryInfo; the caller logs
//     it. Replay stops there without modifying the file.
//     Consequence (deliberate): a flipped byte inside the LAST record is indistinguishable from a
//     torn write of it and is treated the same way — the record is cut. It was never acknowledged
//     unless its batch was synced, and the replicated stream still holds the command, which the
//     engine re-consumes after the journal.
//   * mid-file corruption: a valid record follows the bad one somewhere, or the bad region is
//     larger than one batch. Open/Replay fail with ErrorCode::kCorrupt and a message naming the
//     file and the bad record's byte offset. Records are never silently skipped.
// A valid record whose seq is not greater than the previous one fails with
// ErrorCode::kSequenceNotIncreasing (file and offset in the message).
//
// Reading is streamed through a fixed-size buffer; memory is bounded by kMaxPayloadBytes (one
// payload for Replay) plus the buffer, whatever the file size. No file content crashes the
// process: every input problem is an error value (STYLE.md §3).
//
// Durability notes: the directory is fsync'ed after creating the file. After a failed write() or
// fdatasync() the journal is broken (fsync errors are not retryable on Linux: the dirty pages may
// have been dropped); every later call fails with kBroken and the owner must re-open, which cuts
// any partial batch as a torn tail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace spotex::bus {

enum class ErrorCode {
  kIo,                     // open/read/write/fsync/truncate/lock failed (errno text in message)
  kCorrupt,                // a bad record in the middle of the file
  kSequenceNotIncreasing,  // seq not strictly greater than the previous record's
  kRecordTooLarge,         // payload longer than kMaxPayloadBytes
  kBatchFull,              // Append would make the unsynced batch exceed kMaxBatchBytes; Sync first
  kBroken,                 // an earlier write/fdatasync failed; re-open the journal
};

// An operating error. `message` names the file path and, where it applies, the byte offset.
struct Error {
  ErrorCode code;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

// What Open found in an existing file.
struct RecoveryInfo {
  uint64_t last_seq = 0;             // seq of the last valid record; 0 if none
  uint64_t record_count = 0;         // valid records kept
  uint64_t file_bytes = 0;           // file size after any truncation
  uint64_t truncated_bytes = 0;      // torn tail cut off; 0 if none. The caller logs it.
  uint64_t truncated_at_offset = 0;  // where the torn tail started (valid if truncated_bytes > 0)
  std::string truncation_reason;     // why the first tail record was bad (empty if no cut)
};

// What Replay delivered.
struct ReplayStats {
  uint64_t records_delivered = 0;  // records with seq > from_seq_exclusive
  uint64_t last_seq = 0;           // seq of the last valid record in the file; 0 if none
  uint64_t torn_tail_bytes = 0;    // bytes at the end that Open would cut (not modified here)
};

// Single writer of one journal file. Not thread-safe: one thread (the engine's journal writer)
// owns it. Move-only; the destructor closes the file without syncing (unsynced appends are lost,
// exactly as in a crash). An exclusive flock keeps a second process/instance from opening it.
class Journal {
 public:
  static constexpr uint32_t kHeaderBytes = 16;
  static constexpr uint32_t kMaxPayloadBytes = 16u << 20;  // 16 MiB
  // Largest unsynced batch: also the largest tail that recovery may treat as torn.
  static constexpr uint64_t kMaxBatchBytes = 64u << 20;  // 64 MiB

  using ReplayCallback = std::function<void(uint64_t seq, std::span<const std::byte> payload)>;

  // Opens `path`, creating it (and fsync'ing its directory) if absent, validates every record
  // and cuts a torn tail as described above. On success the journal is positioned at the end,
  // ready to Append records with seq > recovery().last_seq.
  [[nodiscard]] static Result<Journal> Open(const std::string& path);

  // Reads `path` (without modifying it) and calls `callback` for each valid record with
  // seq > from_seq_exclusive, in order. The payload span is valid only during the call. Fails
  // like Open on mid-file corruption or non-increasing seq (records before the bad one may have
  // been delivered already); stops quietly at a torn tail (reported in the stats).
  [[nodiscard]] static Result<ReplayStats> Replay(const std::string& path,
                                                  uint64_t from_seq_exclusive,
                                                  const ReplayCallback& callback);

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  // Buffers one record in memory (no system call). Requires seq > every seq appended or
  // recovered so far (else kSequenceNotIncreasing), payload ≤ kMaxPayloadBytes (else
  // kRecordTooLarge), and room in the batch (else kBatchFull: Sync, then retry). On error
  // nothing is buffered.
  [[nodiscard]] Result<void> Append(uint64_t seq, std::span<const std::byte> payload);

  // Group commit: writes the whole buffered batch with one write() (looping only on short
  // writes/EINTR) and makes it durable with one fdatasync(). No-op if nothing is buffered. On
  // success last_synced_seq() becomes the last appended seq. On failure the journal is broken.
  [[nodiscard]] Result<void> Sync();

  // The highest seq known durable (recovered at Open or synced since); 0 if none.
  [[nodiscard]] uint64_t last_synced_seq() const { return last_synced_seq_; }
  // The highest seq appended (buffered or synced).
  [[nodiscard]] uint64_t last_appended_seq() const { return last_appended_seq_; }
  // Bytes appended but not yet synced.
  [[nodiscard]] size_t pending_bytes() const { return batch_.size(); }
  [[nodiscard]] const RecoveryInfo& recovery() const { return recovery_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  Journal(std::string path, int fd, RecoveryInfo recovery);

  std::string path_;
  int fd_ = -1;
  RecoveryInfo recovery_;
  uint64_t end_offset_ = 0;  // file size; where the next batch is written
  uint64_t last_appended_seq_ = 0;
  uint64_t last_synced_seq_ = 0;
  bool broken_ = false;
  std::vector<std::byte> batch_;  // encoded records awaiting Sync
};

}  // namespace spotex::bus
