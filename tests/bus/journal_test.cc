#include "bus/journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bus/crc32c.h"

namespace spotex::bus {
namespace {

using Bytes = std::vector<std::byte>;

Bytes Payload(uint64_t seq, size_t len) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) {
    b[i] = static_cast<std::byte>((seq * 131 + i * 7) & 0xFF);
  }
  return b;
}

// Independent encoder of the documented record format (cross-checks the writer).
Bytes EncodeRecord(uint64_t seq, const Bytes& payload, uint32_t len_override = 0) {
  Bytes rec(Journal::kHeaderBytes + payload.size());
  const uint32_t len = len_override != 0 ? len_override : static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 8; ++i) {
    rec[8 + i] = static_cast<std::byte>(seq >> (8 * i));
  }
  if (!payload.empty()) {
    std::memcpy(rec.data() + 16, payload.data(), payload.size());
  }
  uint32_t crc = Crc32cExtend(Crc32c(rec.data() + 8, 8), payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) {
    rec[i] = static_cast<std::byte>(len >> (8 * i));
    rec[4 + i] = static_cast<std::byte>(crc >> (8 * i));
  }
  return rec;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/spotex_journal_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/engine.journal";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Bytes ReadFile() const {
    std::ifstream in(path_, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Bytes out(chars.size());
    if (!chars.empty()) {
      std::memcpy(out.data(), chars.data(), chars.size());
    }
    return out;
  }
  void WriteFile(const Bytes& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }

  // Writes records seq 1..n with payload lengths `lens`, one Sync per record; returns the start
  // offset of each record.
  std::vector<uint64_t> WriteRecords(const std::vector<size_t>& lens) {
    auto journal = Journal::Open(path_);
    EXPECT_TRUE(journal.has_value()) << journal.error().message;
    std::vector<uint64_t> offsets;
    uint64_t off = 0;
    for (size_t i = 0; i < lens.size(); ++i) {
      offsets.push_back(off);
      const uint64_t seq = i + 1;
      EXPECT_TRUE(journal->Append(seq, Payload(seq, lens[i])).has_value());
      EXPECT_TRUE(journal->Sync().has_value());
      off += Journal::kHeaderBytes + lens[i];
    }
    return offsets;
  }

  std::vector<std::pair<uint64_t, Bytes>> ReplayAll(uint64_t from = 0) const {
    std::vector<std::pair<uint64_t, Bytes>> got;
    auto stats = Journal::Replay(path_, from, [&](uint64_t seq, std::span<const std::byte> p) {
      got.emplace_back(seq, Bytes(p.begin(), p.end()));
    });
    EXPECT_TRUE(stats.has_value()) << stats.error().message;
    return got;
  }

  std::string dir_;
  std::string path_;
};

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  const std::string a = "hello, ";
  const std::string b = "journal world";
  EXPECT_EQ(Crc32cExtend(Crc32c(a.data(), a.size()), b.data(), b.size()),
            Crc32c((a + b).data(), a.size() + b.size()));
  unsigned char zeros[32] = {};
  EXPECT_EQ(Crc32c(zeros, 32), 0x8A9136AAu);  // RFC 3720 B.4
}

TEST_F(JournalTest, AppendSyncReopenReplayRoundTrip) {
  {
    auto journal = Journal::Open(path_);
    ASSERT_TRUE(journal.has_value()) << journal.error().message;
    EXPECT_EQ(journal->recovery().record_count, 0u);
    EXPECT_EQ(journal->last_synced_seq(), 0u);
    for (uint64_t seq = 1; seq <= 100; ++seq) {
      ASSERT_TRUE(journal->Append(seq * 10, Payload(seq, seq % 7 == 0 ? 0 : seq * 3)).has_value());
      if (seq % 8 == 0) {  // group commit: several records per write+fdatasync
        ASSERT_TRUE(journal->Sync().has_value());
        EXPECT_EQ(journal->last_synced_seq(), seq * 10);
        EXPECT_EQ(journal->pending_bytes(), 0u);
      }
    }
    EXPECT_EQ(journal->last_synced_seq(), 960u);
    EXPECT_EQ(journal->last_appended_seq(), 1000u);
    ASSERT_TRUE(journal->Sync().has_value());
    EXPECT_EQ(journal->last_synced_seq(), 1000u);
  }
  auto reopened = Journal::Open(path_);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  EXPECT_EQ(reopened->recovery().last_seq, 1000u);
  EXPECT_EQ(reopened->recovery().record_count, 100u);
  EXPECT_EQ(reopened->recovery().truncated_bytes, 0u);
  EXPECT_EQ(reopened->last_synced_seq(), 1000u);

  auto got = ReplayAll();
  ASSERT_EQ(got.size(), 100u);
  for (uint64_t i = 0; i < 100; ++i) {
    const uint64_t seq = i + 1;
    EXPECT_EQ(got[i].first, seq * 10);
    EXPECT_EQ(got[i].second, Payload(seq, seq % 7 == 0 ? 0 : seq * 3));
  }
  // The on-disk bytes match the documented format exactly.
  Bytes expected;
  for (uint64_t seq = 1; seq <= 100; ++seq) {
    Bytes rec = EncodeRecord(seq * 10, Payload(seq, seq % 7 == 0 ? 0 : seq * 3));
    expected.insert(expected.end(), rec.begin(), rec.end());
  }
  EXPECT_EQ(ReadFile(), expected);
}

TEST_F(JournalTest, UnsyncedAppendsAreNotWritten) {
  {
    auto journal = Journal::Open(path_);
    ASSERT_TRUE(journal.has_value());
    ASSERT_TRUE(journal->Append(1, Payload(1, 10)).has_value());
    ASSERT_TRUE(journal->Sync().has_value());
    ASSERT_TRUE(journal->Append(2, Payload(2, 10)).has_value());
  }  // closed without Sync: like a crash before the batch window ended
  auto reopened = Journal::Open(path_);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(reopened->recovery().last_seq, 1u);
  EXPECT_EQ(reopened->recovery().record_count, 1u);
}

TEST_F(JournalTest, TornTailAtEveryLengthIsCutAndPreviousRecordsSurvive) {
  const std::vector<size_t> lens = {5, 40, 33};
  const auto offsets = WriteRecords(lens);
  const Bytes full = ReadFile();
  const uint64_t last_start = offsets[2];
  const uint64_t last_size = Journal::kHeaderBytes + lens[2];
  ASSERT_EQ(full.size(), last_start + last_size);
  for (uint64_t kept = 1; kept < last_size; ++kept) {
    SCOPED_TRACE("torn after " + std::to_string(kept) + " bytes of the last record");
    WriteFile(Bytes(full.begin(), full.begin() + static_cast<ptrdiff_t>(last_start + kept)));
    {
      auto journal = Journal::Open(path_);
      ASSERT_TRUE(journal.has_value()) << journal.error().message;
      EXPECT_EQ(journal->recovery().truncated_bytes, kept);
      EXPECT_EQ(journal->recovery().truncated_at_offset, last_start);
      EXPECT_FALSE(journal->recovery().truncation_reason.empty());
      EXPECT_EQ(journal->recovery().record_count, 2u);
      EXPECT_EQ(journal->recovery().last_seq, 2u);
      EXPECT_EQ(std::filesystem::file_size(path_), last_start);
      // Writing continues cleanly after the cut.
      ASSERT_TRUE(journal->Append(3, Payload(3, lens[2])).has_value());
      ASSERT_TRUE(journal->Sync().has_value());
    }
    auto reopened = Journal::Open(path_);
    ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
    EXPECT_EQ(reopened->recovery().truncated_bytes, 0u);
    EXPECT_EQ(reopened->recovery().record_count, 3u);
    EXPECT_EQ(ReadFile(), full);
  }
}

TEST_F(JournalTest, ReplayStopsAtTornTailWithoutModifyingTheFile) {
  const auto offsets = WriteRecords({10, 10, 10});
  Bytes bytes = ReadFile();
  bytes.resize(bytes.size() - 3);
  WriteFile(bytes);
  std::vector<uint64_t> seqs;
  auto stats = Journal::Replay(
      path_, 0, [&](uint64_t seq, std::span<const std::byte>) { seqs.push_back(seq); });
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(stats->torn_tail_bytes, bytes.size() - offsets[2]);
  EXPECT_EQ(std::filesystem::file_size(path_), bytes.size());
}

// A flipped bit anywhere in a middle record (length, CRC, seq or payload) stops start-up with a
// message naming the file and the record's exact offset.
TEST_F(JournalTest, FlippedByteInMiddleRecordFailsWithPathAndOffset) {
  const std::vector<size_t> lens = {12, 20, 9, 30};
  const auto offsets = WriteRecords(lens);
  const Bytes good = ReadFile();
  for (size_t middle : {size_t{1}, size_t{2}}) {
    const uint64_t start = offsets[middle];
    for (uint64_t i = 0; i < Journal::kHeaderBytes + lens[middle]; ++i) {
      SCOPED_TRACE("record " + std::to_string(middle) + " byte " + std::to_string(i));
      Bytes bad = good;
      bad[start + i] ^= std::byte{0x40};
      WriteFile(bad);
      auto journal = Journal::Open(path_);
      ASSERT_FALSE(journal.has_value());
      EXPECT_EQ(journal.error().code, ErrorCode::kCorrupt);
      EXPECT_NE(journal.error().message.find(path_), std::string::npos) << journal.error().message;
      EXPECT_NE(journal.error().message.find("offset " + std::to_string(start) + " "),
                std::string::npos)
          << journal.error().message;
      EXPECT_EQ(ReadFile(), bad) << "a corrupt journal must not be modified";
      auto replay = Journal::Replay(path_, 0, [](uint64_t, std::span<const std::byte>) {});
      ASSERT_FALSE(replay.has_value());
      EXPECT_EQ(replay.error().code, ErrorCode::kCorrupt);
    }
  }
}

// Documented choice: damage inside the LAST record cannot be told apart from a torn write of it,
// so it is cut like a torn tail (the replicated stream still holds the command).
TEST_F(JournalTest, FlippedByteInLastRecordIsTreatedAsTornTail) {
  const std::vector<size_t> lens = {12, 20, 9};
  const auto offsets = WriteRecords(lens);
  const Bytes good = ReadFile();
  for (uint64_t i = 0; i < Journal::kHeaderBytes + lens[2]; ++i) {
    SCOPED_TRACE("byte " + std::to_string(i));
    Bytes bad = good;
    bad[offsets[2] + i] ^= std::byte{0x01};
    WriteFile(bad);
    auto journal = Journal::Open(path_);
    ASSERT_TRUE(journal.has_value()) << journal.error().message;
    EXPECT_EQ(journal->recovery().truncated_at_offset, offsets[2]);
    EXPECT_EQ(journal->recovery().truncated_bytes, good.size() - offsets[2]);
    EXPECT_EQ(journal->recovery().record_count, 2u);
    EXPECT_EQ(std::filesystem::file_size(path_), offsets[2]);
  }
}

TEST_F(JournalTest, OversizedLengthMidFileIsCorruptionButAtTailIsTorn) {
  Bytes file;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    Bytes rec = EncodeRecord(seq, Payload(seq, 8), seq == 2 ? 0xFFFFFFFFu : 0);
    file.insert(file.end(), rec.begin(), rec.end());
  }
  WriteFile(file);
  auto journal = Journal::Open(path_);
  ASSERT_FALSE(journal.has_value());
  EXPECT_EQ(journal.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(journal.error().message.find("offset 24 "), std::string::npos)
      << journal.error().message;

  file.resize(48);  // records 1 and 2 only: the oversized length is now the tail
  WriteFile(file);
  auto tail = Journal::Open(path_);
  ASSERT_TRUE(tail.has_value()) << tail.error().message;
  EXPECT_EQ(tail->recovery().truncated_at_offset, 24u);
  EXPECT_EQ(tail->recovery().record_count, 1u);
}

TEST_F(JournalTest, NonIncreasingSeqRejectedOnAppend) {
  auto journal = Journal::Open(path_);
  ASSERT_TRUE(journal.has_value());
  auto zero = journal->Append(0, Payload(0, 4));
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code, ErrorCode::kSequenceNotIncreasing);
  ASSERT_TRUE(journal->Append(5, Payload(5, 4)).has_value());
  for (uint64_t seq : {uint64_t{5}, uint64_t{4}}) {
    auto r = journal->Append(seq, Payload(seq, 4));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kSequenceNotIncreasing);
    EXPECT_NE(r.error().message.find(path_), std::string::npos);
  }
  EXPECT_EQ(journal->pending_bytes(), Journal::kHeaderBytes + 4);  // rejected: nothing buffered
  ASSERT_TRUE(journal->Append(6, Payload(6, 4)).has_value());
  ASSERT_TRUE(journal->Sync().has_value());
  journal = Journal::Open(dir_ + "/other.journal");  // closes (and unlocks) the first
  ASSERT_TRUE(journal.has_value());
  auto reopened = Journal::Open(path_);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  auto stale = reopened->Append(6, Payload(6, 4));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kSequenceNotIncreasing);
  EXPECT_TRUE(reopened->Append(7, Payload(7, 4)).has_value());
}

TEST_F(JournalTest, NonIncreasingSeqRejectedOnOpen) {
  for (uint64_t third : {uint64_t{2}, uint64_t{3}}) {
    Bytes file;
    for (uint64_t seq : {uint64_t{1}, uint64_t{3}, third, uint64_t{9}}) {
      Bytes rec = EncodeRecord(seq, Payload(seq, 6));
      file.insert(file.end(), rec.begin(), rec.end());
    }
    WriteFile(file);
    auto journal = Journal::Open(path_);
    ASSERT_FALSE(journal.has_value());
    EXPECT_EQ(journal.error().code, ErrorCode::kSequenceNotIncreasing);
    EXPECT_NE(journal.error().message.find(path_), std::string::npos);
    EXPECT_NE(journal.error().message.find("offset 44 "), std::string::npos)
        << journal.error().message;
  }
}

TEST_F(JournalTest, ReplayFromMiddleSeq) {
  WriteRecords({3, 4, 5, 6, 7, 8});
  auto got = ReplayAll(4);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, 5u);
  EXPECT_EQ(got[0].second, Payload(5, 7));
  EXPECT_EQ(got[1].first, 6u);
  EXPECT_EQ(got[1].second, Payload(6, 8));
  EXPECT_TRUE(ReplayAll(6).empty());
  EXPECT_EQ(ReplayAll(0).size(), 6u);
  auto stats = Journal::Replay(path_, 2, [](uint64_t, std::span<const std::byte>) {});
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->records_delivered, 4u);
  EXPECT_EQ(stats->last_seq, 6u);
}

TEST_F(JournalTest, LargeRecordsSpanningTheReadWindow) {
  {
    auto journal = Journal::Open(path_);
    ASSERT_TRUE(journal.has_value());
    ASSERT_TRUE(journal->Append(1, Payload(1, 3u << 20)).has_value());
    ASSERT_TRUE(journal->Append(2, Payload(2, 100)).has_value());
    ASSERT_TRUE(journal->Sync().has_value());
    auto too_big = journal->Append(3, Bytes(Journal::kMaxPayloadBytes + 1));
    ASSERT_FALSE(too_big.has_value());
    EXPECT_EQ(too_big.error().code, ErrorCode::kRecordTooLarge);
  }
  auto got = ReplayAll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second, Payload(1, 3u << 20));
  EXPECT_EQ(got[1].second, Payload(2, 100));
}

TEST_F(JournalTest, SecondWriterIsRefusedAndBadPathsAreErrors) {
  auto first = Journal::Open(path_);
  ASSERT_TRUE(first.has_value());
  auto second = Journal::Open(path_);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kIo);

  auto missing_dir = Journal::Open(dir_ + "/no/such/dir/j");
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.error().code, ErrorCode::kIo);
  auto directory = Journal::Open(dir_);
  ASSERT_FALSE(directory.has_value());
  auto replay_missing = Journal::Replay(dir_ + "/absent", 0, [](uint64_t, auto) {});
  ASSERT_FALSE(replay_missing.has_value());
  EXPECT_EQ(replay_missing.error().code, ErrorCode::kIo);
}

// Random garbage and randomly damaged journals: Open and Replay return a value or an error,
// never crash; a successful Open leaves a file that reopens cleanly with the same records.
TEST_F(JournalTest, RandomGarbageNeverCrashes) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Bytes valid;
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    Bytes rec = EncodeRecord(seq, Payload(seq, rng() % 40));
    valid.insert(valid.end(), rec.begin(), rec.end());
  }
  for (int iter = 0; iter < 400; ++iter) {
    Bytes file;
    switch (iter % 4) {
      case 0: {  // pure garbage
        file.resize(rng() % 600);
        for (auto& b : file) {
          b = static_cast<std::byte>(rng());
        }
        break;
      }
      case 1: {  // small lengths: garbage that often looks like headers
        file.resize(rng() % 600);
        for (auto& b : file) {
          b = static_cast<std::byte>(rng() % 4);
        }
        break;
      }
      default: {  // a valid journal, damaged and/or cut
        file = valid;
        const int flips = static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
          file[rng() % file.size()] ^= static_cast<std::byte>(1 + rng() % 255);
        }
        if (rng() % 2 == 0) {
          file.resize(rng() % (file.size() + 1));
        }
        break;
      }
    }
    WriteFile(file);
    uint64_t replayed = 0;
    auto replay =
        Journal::Replay(path_, 0, [&](uint64_t, std::span<const std::byte>) { ++replayed; });
    auto journal = Journal::Open(path_);
    ASSERT_EQ(replay.has_value(), journal.has_value()) << "iteration " << iter;
    if (journal.has_value()) {
      EXPECT_EQ(journal->recovery().record_count, replayed);
      const uint64_t count = journal->recovery().record_count;
      journal = Journal::Open(dir_ + "/unlock.journal");  // release the lock on path_
      auto again = Journal::Open(path_);
      ASSERT_TRUE(again.has_value()) << again.error().message;
      EXPECT_EQ(again->recovery().truncated_bytes, 0u);
      EXPECT_EQ(again->recovery().record_count, count);
    } else {
      EXPECT_FALSE(journal.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace spotex::bus
