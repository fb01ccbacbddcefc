#include "gateway/users/demo_users.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "auth/keys.h"
#include "core/decimal.h"

namespace spotex::gateway::users {
namespace {

constexpr size_t kDemoUsersMax = 16;
constexpr size_t kDemoPasswordChars = 24;

std::string Describe(const http::Error& e) {
  return std::to_string(e.code) + " " + e.msg;
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Writes `text` to `path` atomically with mode 0600: a temporary file beside it, fsync,
// rename, fsync of the directory.
std::expected<void, std::string> WriteFileAtomically(const std::string& path,
                                                     const std::string& text) {
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) {
    dir = ".";
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return std::unexpected("cannot create " + dir.string() + ": " + ec.message());
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected(Errno("cannot create", tmp));
  }
  // The umask cannot widen 0600, but an inherited ACL could: set it explicitly.
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    written += ok ? static_cast<size_t>(n) : 0;
  }
  ok = ok && ::fsync(fd) == 0;
  const std::string failure = ok ? std::string() : Errno("cannot write", tmp);
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return std::unexpected(failure);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string error = Errno("cannot rename into", path);
    ::unlink(tmp.c_str());
    return std::unexpected(error);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

std::expected<DemoUser, std::string> CreateOne(UserService& service, const std::string& email,
                                               const std::vector<EngineAsset>& assets,
                                               const std::vector<DemoFunding>& funding) {
  DemoUser demo;
  demo.email = email;
  // 24 characters of [A-Za-z0-9] (~143 bits) from the CSPRNG.
  demo.password = auth::GenerateApiKeyId().substr(0, kDemoPasswordChars);
  auto user = service.Register(email, demo.password);
  if (!user) {
    return std::unexpected("cannot create demo user " + email + ": " + Describe(user.error()));
  }
  demo.user_id = user->id;
  ApiKeyRequest request;
  request.kind = db::ApiKeyKind::kHmac;
  request.permissions = db::kPermissionRead | db::kPermissionTrade;
  request.label = "demo";
  auto key = service.CreateApiKey(user->id, std::move(request));
  if (!key) {
    return std::unexpected("cannot create the API key of " + email + ": " +
                           Describe(key.error()));
  }
  demo.api_key = key->api_key;
  demo.api_secret = std::string(key->secret.view());
  const auto account = static_cast<engine::AccountId>(user->id);
  for (const DemoFunding& f : funding) {
    for (const EngineAsset& a : assets) {
      if (a.name != f.asset) {
        continue;
      }
      auto units = core::ParseDecimal(f.amount, a.scale);
      if (!units || *units <= 0) {
        return std::unexpected("bad demo amount " + f.amount + " " + f.asset);
      }
      auto applied = service.engine().Deposit(account, a, *units);
      if (!applied) {
        return std::unexpected("cannot fund " + email + " with " + f.amount + " " + f.asset +
                               ": " + Describe(applied.error()));
      }
    }
  }
  return demo;
}

}  // namespace

std::string DemoUsersJson(const std::vector<DemoUser>& users) {
  std::string out = "[\n";
  for (size_t i = 0; i < users.size(); ++i) {
    const DemoUser& u = users[i];
    out += "  {\"email\":";
    http::AppendJsonString(out, u.email);
    out += ",\"password\":";
    http::AppendJsonString(out, u.password);
    out += ",\"apiKey\":";
    http::AppendJsonString(out, u.api_key);
    out += ",\"apiSecret\":";
    http::AppendJsonString(out, u.api_secret);
    out += ",\"userId\":" + std::to_string(u.user_id) + "}";
    out += i + 1 < users.size() ? ",\n" : "\n";
  }
  out += "]\n";
  return out;
}

std::expected<DemoUsersOutcome, std::string> CreateDemoUsers(UserService& service,
                                                             const DemoUsersOptions& options) {
  DemoUsersOutcome outcome;
  struct stat st {};
  if (::stat(options.path.c_str(), &st) == 0) {
    return outcome;
  }
  if (errno != ENOENT) {
    return std::unexpected(Errno("cannot stat", options.path));
  }
  if (options.emails.empty() || options.emails.size() > kDemoUsersMax) {
    return std::unexpected("between 1 and 16 demo users");
  }
  for (const std::string& email : options.emails) {
    auto exists = service.EmailExists(email);
    if (!exists) {
      return std::unexpected("cannot look up " + email + ": " + Describe(exists.error()));
    }
    if (*exists) {
      return std::unexpected("demo user " + email + " already exists in the database but " +
                             options.path +
                             " is missing; restore the file or remove the demo users (or use a "
                             "fresh database) before starting again");
    }
  }
  auto assets = service.engine().Assets();
  if (!assets) {
    return std::unexpected("cannot list the engine's assets: " + Describe(assets.error()));
  }
  for (const std::string& email : options.emails) {
    auto user = CreateOne(service, email, *assets, options.funding);
    if (!user) {
      return std::unexpected(user.error());
    }
    outcome.users.push_back(std::move(*user));
  }
  if (auto written = WriteFileAtomically(options.path, DemoUsersJson(outcome.users)); !written) {
    return std::unexpected(written.error());
  }
  outcome.created = true;
  return outcome;
}

}  // namespace spotex::gateway::users
