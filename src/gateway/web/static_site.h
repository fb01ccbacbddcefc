// The built web screen (web/dist) served by the gateway itself (`--web-root DIR`,
// docs/api-v1.md "Web screen"). Every file is read into memory once at start, so a request
// never touches the file system: there is no path to resolve, hence no traversal, and a file
// changed on disk after start is not served.
//
// What is served: `/` and `/index.html` (index.html), and each regular file under DIR at its
// relative path ("/assets/index-3f2a.js", "/favicon.svg"), for GET and HEAD. Skipped at load:
// names starting with '.', names outside [A-Za-z0-9._-], symbolic links, extensions not in the
// table below, and top-level names an API path starts with (api, ws, ws-api, stream, health).
// Limits (StaticSiteLimits) bound the files, their total size and the depth; over a limit the
// load fails rather than serving half a site.
//
// Every answer carries the Content-Security-Policy (kContentSecurityPolicy),
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and X-Frame-Options: DENY.
// Cache-Control: `public, max-age=31536000, immutable` under /assets/ (Vite's hashed names),
// `no-cache` for everything else (index.html names the current hashes).
//
// Content types: html, js, css, svg, png, ico, json, woff2, txt, map.
//
// Thread safety: immutable after Load; the registered handlers may run on any thread and keep
// the site alive (shared_ptr).
#pragma once

#include <cstddef>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/router.h"

namespace spotex::gateway::web {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

struct StaticSiteLimits {
  size_t max_files = 1000;
  size_t max_total_bytes = 64u << 20;  // all files together
  size_t max_file_bytes = 16u << 20;
  int max_depth = 6;  // directories below the root
};

class StaticSite {
 public:
  struct File {
    std::string body;
    std::string content_type;
    std::string cache_control;
  };

  // Reads `dir` (which must hold index.html). Errors name the file and the limit.
  [[nodiscard]] static std::expected<std::shared_ptr<const StaticSite>, std::string> Load(
      const std::string& dir, StaticSiteLimits limits = {});

  // The Content-Type for a file name by its extension; empty when not served.
  static std::string_view ContentType(std::string_view name);

  // Adds GET and HEAD routes for `/` and every file. False if a path was already taken.
  [[nodiscard]] static bool Register(const std::shared_ptr<const StaticSite>& site,
                                     http::Router& router);

  // The response for a served path ("/", "/assets/x.js"), or nullopt.
  std::optional<http::Response> Answer(std::string_view path) const;

  size_t files() const { return files_.size(); }
  size_t total_bytes() const { return total_bytes_; }

 private:
  std::map<std::string, File, std::less<>> files_;  // "/index.html", "/assets/a.js"
  size_t total_bytes_ = 0;
};

}  // namespace spotex::gateway::web
