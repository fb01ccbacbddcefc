#include "bus/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <string_view>
#include <utility>

#include "bus/crc32c.h"
#include "core/assert.h"

namespace spotex::bus {
namespace {

// Read window: memory for scanning is this plus (in Replay) one payload.
constexpr size_t kWindowBytes = 1u << 20;
// Work limit when proving a tail is torn (bytes hashed looking for a later valid record).
// Beyond it the tail cannot be proven torn and is reported as corruption: never skip silently.
constexpr uint64_t kResyncHashBudgetBytes = 4 * Journal::kMaxBatchBytes;

// Minimal "{}" formatter (g++ 12 has no <format>): each "{}" takes the next argument.
template <typename... Args>
std::string Fmt(std::string_view fmt, const Args&... args) {
  std::ostringstream out;
  size_t pos = 0;
  auto one = [&](const auto& arg) {
    const size_t at = fmt.find("{}", pos);
    if (at == std::string_view::npos) {
      out << fmt.substr(pos) << ' ' << arg;
      pos = fmt.size();
      return;
    }
    out << fmt.substr(pos, at - pos) << arg;
    pos = at + 2;
  };
  (one(args), ...);
  if (pos < fmt.size()) {
    out << fmt.substr(pos);
  }
  return out.str();
}

std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

std::unexpected<Error> FailErrno(const std::string& what, const std::string& path, int err) {
  return Fail(ErrorCode::kIo, Fmt("journal {}: {} failed: {}", path, what, std::strerror(err)));
}

void PutU32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<std::byte>(v >> (8 * i));
  }
}

void PutU64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<std::byte>(v >> (8 * i));
  }
}

uint32_t GetU32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | std::to_integer<uint32_t>(p[i]);
  }
  return v;
}

uint64_t GetU64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | std::to_integer<uint64_t>(p[i]);
  }
  return v;
}

// Sequential-ish reads of a file of known size through one fixed window.
class WindowReader {
 public:
  WindowReader(const std::string& path, int fd, uint64_t size)
      : path_(path), fd_(fd), size_(size), window_(kWindowBytes) {}

  // Returns a pointer to bytes [off, off + n), valid until the next call.
  // Precondition: n ≤ kWindowBytes and off + n ≤ size.
  Result<const std::byte*> Get(uint64_t off, size_t n) {
    SPOTEX_ASSERT(n <= kWindowBytes && off + n <= size_);
    if (off >= start_ && off + n <= start_ + len_) {
      return window_.data() + (off - start_);
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kWindowBytes, size_ - off));
    size_t got = 0;
    while (got < want) {
      const ssize_t r =
          ::pread(fd_, window_.data() + got, want - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) {
        continue;
      }
      if (r < 0) {
        return FailErrno(Fmt("read at offset {}", off + got), path_, errno);
      }
      if (r == 0) {
        return Fail(ErrorCode::kIo,
                    Fmt("journal {}: file shrank while reading at offset {}", path_, off + got));
      }
      got += static_cast<size_t>(r);
    }
    start_ = off;
    len_ = want;
    return window_.data();
  }

 private:
  const std::string& path_;
  int fd_;
  uint64_t size_;
  std::vector<std::byte> window_;
  uint64_t start_ = 0;
  size_t len_ = 0;
};

struct Probe {
  bool valid = false;
  const char* why = "";  // reason when !valid
  uint32_t len = 0;
  uint64_t seq = 0;
};

// Validates the record starting at `off` (streaming its CRC; no payload is kept). Adds the
// number of payload bytes hashed to *hashed.
Result<Probe> ProbeAt(WindowReader& reader, uint64_t off, uint64_t size, uint64_t* hashed) {
  Probe probe;
  if (size - off < Journal::kHeaderBytes) {
    probe.why = "incomplete record header";
    return probe;
  }
  auto header = reader.Get(off, Journal::kHeaderBytes);
  if (!header) {
    return std::unexpected(header.error());
  }
  probe.len = GetU32(*header);
  const uint32_t stored_crc = GetU32(*header + 4);
  probe.seq = GetU64(*header + 8);
  uint32_t crc = Crc32c(*header + 8, 8);
  if (probe.len > Journal::kMaxPayloadBytes) {
    probe.why = "payload length exceeds maximum";
    return probe;
  }
  if (probe.len > size - off - Journal::kHeaderBytes) {
    probe.why = "payload extends past end of file";
    return probe;
  }
  uint64_t pos = off + Journal::kHeaderBytes;
  uint64_t left = probe.len;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kWindowBytes));
    auto chunk = reader.Get(pos, n);
    if (!chunk) {
      return std::unexpected(chunk.error());
    }
    crc = Crc32cExtend(crc, *chunk, n);
    pos += n;
    left -= n;
  }
  *hashed += probe.len;
  if (crc != stored_crc) {
    probe.why = "CRC mismatch";
    return probe;
  }
  probe.valid = true;
  return probe;
}

struct ScanOutcome {
  uint64_t last_seq = 0;
  uint64_t record_count = 0;
  uint64_t records_delivered = 0;
  uint64_t valid_end = 0;  // end of the last valid record
  uint64_t torn_bytes = 0;
  std::string torn_reason;
};

// The bad record at `bad_off` starts a torn tail iff the tail fits in one batch and no valid
// record starts at any later offset. Returns the corruption error otherwise.
Result<void> CheckTornTail(WindowReader& reader, const std::string& path, uint64_t bad_off,
                           uint64_t size, const char* why) {
  const uint64_t tail = size - bad_off;
  if (tail > Journal::kMaxBatchBytes) {
    return Fail(ErrorCode::kCorrupt,
                Fmt("journal {}: corrupt record at offset {} ({}); {} bytes follow, more "
                    "than one batch, so it is not a torn tail",
                    path, bad_off, why, tail));
  }
  uint64_t hashed = 0;
  for (uint64_t p = bad_off + 1; p + Journal::kHeaderBytes <= size; ++p) {
    auto probe = ProbeAt(reader, p, size, &hashed);
    if (!probe) {
      return std::unexpected(probe.error());
    }
    if (probe->valid) {
      return Fail(ErrorCode::kCorrupt,
                  Fmt("journal {}: corrupt record at offset {} ({}); a valid record "
                      "follows at offset {}",
                      path, bad_off, why, p));
    }
    if (hashed > kResyncHashBudgetBytes) {
      return Fail(ErrorCode::kCorrupt,
                  Fmt("journal {}: corrupt record at offset {} ({}); could not prove "
                      "the {} bytes after it are a torn tail",
                      path, bad_off, why, tail));
    }
  }
  return {};
}

// Copies the payload of a valid record into *payload (≤ kMaxPayloadBytes).
Result<void> ReadPayload(WindowReader& reader, uint64_t off, uint32_t len,
                         std::vector<std::byte>* payload) {
  payload->resize(len);
  uint64_t pos = off + Journal::kHeaderBytes;
  size_t done = 0;
  while (done < len) {
    const size_t n = std::min<size_t>(len - done, kWindowBytes);
    auto chunk = reader.Get(pos, n);
    if (!chunk) {
      return std::unexpected(chunk.error());
    }
    std::memcpy(payload->data() + done, *chunk, n);
    pos += n;
    done += n;
  }
  return {};
}

// Validates the whole file, delivering records with seq > from_seq to `callback` if non-null.
Result<ScanOutcome> Scan(const std::string& path, int fd, uint64_t size, uint64_t from_seq,
                         const Journal::ReplayCallback* callback) {
  WindowReader reader(path, fd, size);
  ScanOutcome out;
  std::vector<std::byte> payload;
  uint64_t off = 0;
  uint64_t hashed = 0;
  while (off < size) {
    auto probe = ProbeAt(reader, off, size, &hashed);
    if (!probe) {
      return std::unexpected(probe.error());
    }
    if (!probe->valid) {
      if (auto torn = CheckTornTail(reader, path, off, size, probe->why); !torn) {
        return std::unexpected(torn.error());
      }
      out.torn_bytes = size - off;
      out.torn_reason = probe->why;
      break;
    }
    if (probe->seq <= out.last_seq) {
      return Fail(ErrorCode::kSequenceNotIncreasing,
                  Fmt("journal {}: record at offset {} has seq {}, not greater than the "
                      "previous seq {}",
                      path, off, probe->seq, out.last_seq));
    }
    if (callback != nullptr && probe->seq > from_seq) {
      if (auto read = ReadPayload(reader, off, probe->len, &payload); !read) {
        return std::unexpected(read.error());
      }
      (*callback)(probe->seq, std::span<const std::byte>(payload));
      ++out.records_delivered;
    }
    out.last_seq = probe->seq;
    ++out.record_count;
    off += Journal::kHeaderBytes + probe->len;
    out.valid_end = off;
  }
  return out;
}

Result<uint64_t> RegularFileSize(const std::string& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return FailErrno("fstat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kIo, Fmt("journal {}: not a regular file", path));
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<void> SyncParentDirectory(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return FailErrno("open directory " + dir, path, errno);
  }
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) {
    return FailErrno("fsync directory " + dir, path, err);
  }
  return {};
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

Result<Journal> Journal::Open(const std::string& path) {
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    created = fd >= 0;
  }
  if (fd < 0) {
    return FailErrno("open", path, errno);
  }
  FdCloser closer(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return FailErrno("lock (is another journal writer running?)", path, errno);
  }
  if (created) {
    if (auto synced = SyncParentDirectory(path); !synced) {
      return std::unexpected(synced.error());
    }
  }
  auto size = RegularFileSize(path, fd);
  if (!size) {
    return std::unexpected(size.error());
  }
  auto scan = Scan(path, fd, *size, 0, nullptr);
  if (!scan) {
    return std::unexpected(scan.error());
  }
  RecoveryInfo info;
  info.last_seq = scan->last_seq;
  info.record_count = scan->record_count;
  info.file_bytes = scan->valid_end;
  if (scan->torn_bytes > 0) {
    if (::ftruncate(fd, static_cast<off_t>(scan->valid_end)) != 0) {
      return FailErrno(Fmt("truncate torn tail at offset {}", scan->valid_end), path, errno);
    }
    if (::fdatasync(fd) != 0) {
      return FailErrno("fdatasync after truncation", path, errno);
    }
    info.truncated_bytes = scan->torn_bytes;
    info.truncated_at_offset = scan->valid_end;
    info.truncation_reason = scan->torn_reason;
  }
  return Journal(path, closer.Release(), std::move(info));
}

Result<ReplayStats> Journal::Replay(const std::string& path, uint64_t from_seq_exclusive,
                                    const ReplayCallback& callback) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return FailErrno("open", path, errno);
  }
  FdCloser closer(fd);
  auto size = RegularFileSize(path, fd);
  if (!size) {
    return std::unexpected(size.error());
  }
  auto scan = Scan(path, fd, *size, from_seq_exclusive, &callback);
  if (!scan) {
    return std::unexpected(scan.error());
  }
  return ReplayStats{scan->records_delivered, scan->last_seq, scan->torn_bytes};
}

Journal::Journal(std::string path, int fd, RecoveryInfo recovery)
    : path_(std::move(path)),
      fd_(fd),
      recovery_(std::move(recovery)),
      end_offset_(recovery_.file_bytes),
      last_appended_seq_(recovery_.last_seq),
      last_synced_seq_(recovery_.last_seq) {}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      recovery_(std::move(other.recovery_)),
      end_offset_(other.end_offset_),
      last_appended_seq_(other.last_appended_seq_),
      last_synced_seq_(other.last_synced_seq_),
      broken_(other.broken_),
      batch_(std::move(other.batch_)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    recovery_ = std::move(other.recovery_);
    end_offset_ = other.end_offset_;
    last_appended_seq_ = other.last_appended_seq_;
    last_synced_seq_ = other.last_synced_seq_;
    broken_ = other.broken_;
    batch_ = std::move(other.batch_);
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) {
    ::close(fd_);  // also releases the flock
  }
}

Result<void> Journal::Append(uint64_t seq, std::span<const std::byte> payload) {
  if (broken_ || fd_ < 0) {
    return Fail(ErrorCode::kBroken, Fmt("journal {}: broken by an earlier write/sync "
                                        "failure; re-open it",
                                        path_));
  }
  if (seq <= last_appended_seq_) {
    return Fail(ErrorCode::kSequenceNotIncreasing,
                Fmt("journal {}: append seq {} is not greater than last seq {} (offset {})", path_,
                    seq, last_appended_seq_, end_offset_ + batch_.size()));
  }
  if (payload.size() > kMaxPayloadBytes) {
    return Fail(ErrorCode::kRecordTooLarge,
                Fmt("journal {}: payload of {} bytes for seq {} exceeds {} bytes", path_,
                    payload.size(), seq, kMaxPayloadBytes));
  }
  const size_t record_bytes = kHeaderBytes + payload.size();
  if (batch_.size() + record_bytes > kMaxBatchBytes) {
    return Fail(ErrorCode::kBatchFull,
                Fmt("journal {}: batch of {} bytes is full; sync before appending seq {}", path_,
                    batch_.size(), seq));
  }
  const size_t at = batch_.size();
  batch_.resize(at + record_bytes);
  std::byte* rec = batch_.data() + at;
  PutU64(rec + 8, seq);
  const uint32_t crc = Crc32cExtend(Crc32c(rec + 8, 8), payload.data(), payload.size());
  PutU32(rec, static_cast<uint32_t>(payload.size()));
  PutU32(rec + 4, crc);
  if (!payload.empty()) {
    std::memcpy(rec + kHeaderBytes, payload.data(), payload.size());
  }
  last_appended_seq_ = seq;
  return {};
}

Result<void> Journal::Sync() {
  if (broken_ || fd_ < 0) {
    return Fail(ErrorCode::kBroken, Fmt("journal {}: broken by an earlier write/sync "
                                        "failure; re-open it",
                                        path_));
  }
  if (batch_.empty()) {
    return {};
  }
  size_t done = 0;
  while (done < batch_.size()) {
    const ssize_t r = ::pwrite(fd_, batch_.data() + done, batch_.size() - done,
                               static_cast<off_t>(end_offset_ + done));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      broken_ = true;
      return FailErrno(
          Fmt("write of {} bytes at offset {}", batch_.size() - done, end_offset_ + done), path_,
          r < 0 ? errno : EIO);
    }
    done += static_cast<size_t>(r);
  }
  if (::fdatasync(fd_) != 0) {
    broken_ = true;  // the kernel may have dropped the dirty pages: retrying could lie
    return FailErrno(Fmt("fdatasync of batch at offset {}", end_offset_), path_, errno);
  }
  end_offset_ += batch_.size();
  batch_.clear();
  last_synced_seq_ = last_appended_seq_;
  return {};
}

}  // namespace spotex::bus
