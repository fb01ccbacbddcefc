// An incremental reader of HTTP/1.1 responses for the API load generator (api_bench.cc): bytes
// arrive in pieces from a keep-alive connection, and each complete response yields its status,
// its body and whether the server will close the connection afterwards. Handles a
// Content-Length body and a chunked one (trailers are skipped); a response with neither ends
// when the connection does, which a keep-alive client cannot use, so it is reported as an error.
//
// Limits: headers at most kHeaderBytesMax, a body at most kBodyBytesMax; beyond either the
// stream is broken (kError) and the caller must close the connection.
//
// Thread safety: none; one reader per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace spotex::bench {

class HttpResponseReader {
 public:
  static constexpr size_t kHeaderBytesMax = 16 * 1024;
  static constexpr size_t kBodyBytesMax = 8 * 1024 * 1024;

  enum class State { kNeedMore, kComplete, kError };

  // Appends `bytes` to what was received and tries to finish the current response.
  // kComplete: status(), body() and keep_alive() describe it; call Next() before feeding the
  // next response (bytes already received beyond this response are kept for it).
  // kError: error() says why; the reader is unusable until Reset().
  State Feed(std::string_view bytes);

  // Drops the finished response and parses what is already buffered of the next one.
  State Next();

  // Forgets everything (a new connection).
  void Reset();

  int status() const { return status_; }
  std::string_view body() const { return body_; }
  bool keep_alive() const { return keep_alive_; }
  std::string_view error() const { return error_; }
  // Whether bytes of an unfinished response are buffered (a close now loses a response).
  bool Partial() const { return !buffer_.empty() || phase_ != Phase::kHeaders; }

 private:
  enum class Phase { kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };

  State Parse();
  State ParseHeaders();
  State ParseChunkSize();
  State Fail(std::string_view why);

  std::string buffer_;  // received, not yet consumed
  size_t consumed_ = 0;
  Phase phase_ = Phase::kHeaders;
  int status_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  uint64_t remaining_ = 0;  // body or chunk bytes still expected
  std::string body_;
  std::string error_;
};

}  // namespace spotex::bench
