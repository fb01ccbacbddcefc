#include "http_response.h"

#include <algorithm>
#include <charconv>

namespace spotex::bench {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool IContains(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (IEquals(haystack.substr(i, needle.size()), needle)) {
      return true;
    }
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

void HttpResponseReader::Reset() {
  buffer_.clear();
  consumed_ = 0;
  phase_ = Phase::kHeaders;
  status_ = 0;
  keep_alive_ = true;
  chunked_ = false;
  remaining_ = 0;
  body_.clear();
  error_.clear();
}

HttpResponseReader::State HttpResponseReader::Fail(std::string_view why) {
  error_ = why;
  return State::kError;
}

HttpResponseReader::State HttpResponseReader::Feed(std::string_view bytes) {
  if (!error_.empty()) {
    return State::kError;
  }
  buffer_.append(bytes);
  if (phase_ == Phase::kDone) {
    return State::kComplete;
  }
  return Parse();
}

HttpResponseReader::State HttpResponseReader::Next() {
  if (!error_.empty()) {
    return State::kError;
  }
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  phase_ = Phase::kHeaders;
  status_ = 0;
  keep_alive_ = true;
  chunked_ = false;
  remaining_ = 0;
  body_.clear();
  if (buffer_.empty()) {
    return State::kNeedMore;
  }
  return Parse();
}

HttpResponseReader::State HttpResponseReader::Parse() {
  for (;;) {
    std::string_view rest = std::string_view(buffer_).substr(consumed_);
    switch (phase_) {
      case Phase::kHeaders: {
        State s = ParseHeaders();
        if (s != State::kComplete) {
          return s;
        }
        break;
      }
      case Phase::kBody: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        body_.append(rest.substr(0, take));
        consumed_ += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          return State::kNeedMore;
        }
        phase_ = Phase::kDone;
        break;
      }
      case Phase::kChunkSize: {
        State s = ParseChunkSize();
        if (s != State::kComplete) {
          return s;
        }
        break;
      }
      case Phase::kChunkData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        body_.append(rest.substr(0, take));
        consumed_ += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          return State::kNeedMore;
        }
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (rest.size() < 2) {
          return State::kNeedMore;
        }
        if (rest.substr(0, 2) != "\r\n") {
          return Fail("chunk not followed by CRLF");
        }
        consumed_ += 2;
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers: {
        // Trailer lines up to an empty line.
        size_t eol = rest.find("\r\n");
        if (eol == std::string_view::npos) {
          if (rest.size() > kHeaderBytesMax) {
            return Fail("trailers too long");
          }
          return State::kNeedMore;
        }
        consumed_ += eol + 2;
        if (eol == 0) {
          phase_ = Phase::kDone;
        }
        break;
      }
      case Phase::kDone:
        return State::kComplete;
    }
  }
}

HttpResponseReader::State HttpResponseReader::ParseHeaders() {
  std::string_view rest = std::string_view(buffer_).substr(consumed_);
  size_t end = rest.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return rest.size() > kHeaderBytesMax ? Fail("headers too long") : State::kNeedMore;
  }
  if (end > kHeaderBytesMax) {
    return Fail("headers too long");
  }
  std::string_view head = rest.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ') {
    return Fail("bad status line");
  }
  bool http10 = status_line[7] == '0';
  int status = 0;
  auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
  if (ec != std::errc() || p != status_line.data() + 12 || status < 100 || status > 599) {
    return Fail("bad status code");
  }
  bool has_length = false;
  uint64_t length = 0;
  bool chunked = false;
  bool keep_alive = !http10;
  std::string_view lines = eol == std::string_view::npos ? "" : head.substr(eol + 2);
  while (!lines.empty()) {
    size_t next = lines.find("\r\n");
    std::string_view line = lines.substr(0, next);
    lines = next == std::string_view::npos ? "" : lines.substr(next + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Fail("header without colon");
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "content-length")) {
      auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (e != std::errc() || q != value.data() + value.size() || has_length) {
        return Fail("bad content-length");
      }
      has_length = true;
    } else if (IEquals(name, "transfer-encoding")) {
      chunked = IContains(value, "chunked");
    } else if (IEquals(name, "connection")) {
      if (IContains(value, "close")) {
        keep_alive = false;
      } else if (IContains(value, "keep-alive")) {
        keep_alive = true;
      }
    }
  }
  consumed_ += end + 4;
  status_ = status;
  keep_alive_ = keep_alive;
  chunked_ = chunked;
  body_.clear();
  if (chunked) {
    phase_ = Phase::kChunkSize;
  } else if (has_length) {
    if (length > kBodyBytesMax) {
      return Fail("body too long");
    }
    remaining_ = length;
    phase_ = Phase::kBody;
  } else if (status == 204 || status == 304 || status < 200) {
    phase_ = Phase::kDone;
  } else {
    return Fail("response without length");
  }
  return State::kComplete;
}

HttpResponseReader::State HttpResponseReader::ParseChunkSize() {
  std::string_view rest = std::string_view(buffer_).substr(consumed_);
  size_t eol = rest.find("\r\n");
  if (eol == std::string_view::npos) {
    return rest.size() > 1024 ? Fail("chunk size line too long") : State::kNeedMore;
  }
  std::string_view line = rest.substr(0, eol);
  line = line.substr(0, line.find(';'));  // chunk extensions
  line = Trim(line);
  uint64_t size = 0;
  auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
  if (line.empty() || ec != std::errc() || p != line.data() + line.size()) {
    return Fail("bad chunk size");
  }
  if (body_.size() + size > kBodyBytesMax) {
    return Fail("body too long");
  }
  consumed_ += eol + 2;
  if (size == 0) {
    phase_ = Phase::kTrailers;
  } else {
    remaining_ = size;
    phase_ = Phase::kChunkData;
  }
  return State::kComplete;
}

}  // namespace spotex::bench
