// A deliberately dumb blocking HTTP/1.1 client over a POSIX socket, for driving the server in
// tests with byte-exact requests (malformed ones included). Every read has a deadline, so a
// test that waits for the server fails instead of hanging.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace spotex::http::testing {

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultDeadline{5'000};

  TestClient() = default;
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  ~TestClient() { Close(); }

  // Connects to 127.0.0.1:port. False (with errno kept in last_errno()) on failure.
  bool Connect(uint16_t port) {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) {
      return false;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      last_errno_ = errno;
      Close();
      return false;
    }
    return true;
  }

  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    buffer_.clear();
  }

  int last_errno() const { return last_errno_; }

  // Sends all of `bytes`. False if the connection broke.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        last_errno_ = errno;
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length framed; no body when `head`). nullopt on timeout, EOF
  // or garbage.
  std::optional<ParsedResponse> ReadResponse(std::chrono::milliseconds deadline = kDefaultDeadline,
                                             bool head = false) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(until)) {
        return std::nullopt;
      }
    }
    ParsedResponse response;
    const std::string head_text = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    size_t line_end = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
      return std::nullopt;
    }
    response.status = std::atoi(status_line.c_str() + 9);
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head_text.find("\r\n", start);
      const std::string line = head_text.substr(start, line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      size_t value_start = colon + 1;
      while (value_start < line.size() && line[value_start] == ' ') {
        ++value_start;
      }
      response.headers[name] = line.substr(value_start);
    }
    const size_t length =
        head ? 0 : static_cast<size_t>(std::atoll(response.Header("content-length").c_str()));
    while (buffer_.size() < length) {
      if (!Fill(until)) {
        return std::nullopt;
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // Sends a request and reads its response.
  std::optional<ParsedResponse> RoundTrip(std::string_view request) {
    if (!Send(request)) {
      return std::nullopt;
    }
    return ReadResponse();
  }

  // True if the server closes the connection (EOF or reset) before `deadline`; unread bytes
  // before the close are discarded.
  bool WaitForClose(std::chrono::milliseconds deadline = kDefaultDeadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (true) {
      const int wait_ms = RemainingMs(until);
      if (wait_ms <= 0) {
        return false;
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, wait_ms) <= 0) {
        continue;
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        return true;
      }
    }
  }

 private:
  static int RemainingMs(std::chrono::steady_clock::time_point until) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                until - std::chrono::steady_clock::now())
                                .count());
  }

  // Appends what arrives before `until` to buffer_. False on timeout, EOF or error.
  bool Fill(std::chrono::steady_clock::time_point until) {
    const int wait_ms = RemainingMs(until);
    if (wait_ms <= 0) {
      return false;
    }
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, wait_ms) <= 0) {
      return false;
    }
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  int last_errno_ = 0;
  std::string buffer_;
};

}  // namespace spotex::http::testing
