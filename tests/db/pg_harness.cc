#include "pg_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace spotex::testing {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kLaunchAttempts = 5;
constexpr int64_t kReadyTimeoutMs = 60000;
constexpr int64_t kInitdbTimeoutMs = 120000;
constexpr int64_t kStopTimeoutMs = 70000;

bool IsRoot() { return ::geteuid() == 0; }

// A port that was free a moment ago (bind to 0, read, close). The server may still lose a race
// for it; Launch() then retries with another.
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string Tail(const std::string& path, size_t bytes = 3000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

std::string RandomHex(size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  in.read(raw.data(), static_cast<std::streamsize>(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

bool WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return false;
  }
  return ::chmod(path.c_str(), mode) == 0;
}

// Gives `path` to the postgres system user (when we are root; otherwise it is ours already).
bool GiveToPostgres(const std::string& path) {
  if (!IsRoot()) return true;
  passwd* pw = ::getpwnam(PgServer::kSuperuser);
  return pw != nullptr && ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) == 0;
}

std::vector<char*> CArgv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// In a forked child: cwd /, stdin from /dev/null, stdout+stderr appended to `log_path`.
void RedirectChild(const char* log_path) {
  if (::chdir("/") != 0) std::_Exit(126);
  int in = ::open("/dev/null", O_RDONLY);
  int out = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (in < 0 || out < 0) std::_Exit(126);
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(out, 2);
  ::close(in);
  ::close(out);
}

// Waits for `pid` at most timeout_ms; returns its wait status, or nullopt if still running.
std::optional<int> WaitFor(pid_t pid, int64_t timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

int RunCommand(const std::vector<std::string>& argv_in, const std::string& log_path,
               bool as_postgres, int64_t timeout_ms) {
  std::vector<std::string> argv;
  if (as_postgres && IsRoot()) argv = {"runuser", "-u", PgServer::kSuperuser, "--"};
  argv.insert(argv.end(), argv_in.begin(), argv_in.end());
  std::vector<char*> cargv = CArgv(argv);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    RedirectChild(log_path.c_str());
    ::execvp(cargv[0], cargv.data());
    std::_Exit(127);
  }
  auto status = WaitFor(pid, timeout_ms);
  if (!status) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

std::expected<std::unique_ptr<PgServer>, std::string> PgServer::Start() {
  std::unique_ptr<PgServer> server(new PgServer());
  if (auto ok = server->Init(); !ok) return std::unexpected(ok.error());
  if (auto ok = server->Launch(); !ok) return std::unexpected(ok.error());
  if (auto ok = server->CreateRole(); !ok) return std::unexpected(ok.error());
  return server;
}

// The directory, the cluster (initdb) and its configuration.
std::expected<void, std::string> PgServer::Init() {
  const char* bindir = std::getenv("SPOTEX_PG_BINDIR");
  bindir_ = bindir != nullptr ? bindir : "/usr/lib/postgresql/15/bin";
  // $TMPDIR if the postgres user can pass through it, else /tmp.
  std::string base = fs::temp_directory_path().string();
  if (IsRoot() && RunCommand({"test", "-x", base}, "/dev/null", true, 10000) != 0) base = "/tmp";
  std::string tmpl = base + "/spotex-pg-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return std::unexpected("mkdtemp " + tmpl + " failed");
  dir_ = tmpl;
  // Searchable (not listable) by others: the postgres user must pass through to its dirs.
  if (::chmod(dir_.c_str(), 0711) != 0) return std::unexpected("chmod " + dir_ + " failed");
  data_dir_ = dir_ + "/data";
  socket_dir_ = dir_ + "/socket";
  log_path_ = dir_ + "/postgres.log";
  password_file_ = dir_ + "/pg-password";
  password_ = RandomHex(16);
  if (!WriteFile(password_file_, password_ + "\n", 0600)) {
    return std::unexpected("cannot write " + password_file_);
  }
  for (const auto& d : {data_dir_, socket_dir_}) {
    if (::mkdir(d.c_str(), 0700) != 0 || !GiveToPostgres(d)) {
      return std::unexpected("cannot create " + d + " for the postgres user");
    }
  }
  if (IsRoot() && RunCommand({"test", "-w", data_dir_}, log_path_, true, 10000) != 0) {
    return std::unexpected("the postgres user cannot reach " + data_dir_ +
                           " (is a directory above it closed to others? set TMPDIR)");
  }
  int rc = RunCommand({bindir_ + "/initdb", "-D", data_dir_, "-U", kSuperuser, "--encoding=UTF8",
                       "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "-N"},
                      dir_ + "/initdb.log", true, kInitdbTimeoutMs);
  if (rc != 0) {
    return std::unexpected("initdb failed (exit " + std::to_string(rc) +
                           "): " + Tail(dir_ + "/initdb.log"));
  }
  std::ofstream(data_dir_ + "/postgresql.conf", std::ios::app) << "include 'harness.conf'\n";
  return {};
}

// Starts the postmaster on a free port, retrying another port if it lost the race for one.
std::expected<void, std::string> PgServer::Launch() {
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    port_ = FreePort();
    // Durability off: a test cluster is thrown away, and fsync is most of its cost.
    std::string conf = "listen_addresses = '127.0.0.1'\nport = " + std::to_string(port_) +
                       "\nunix_socket_directories = '" + socket_dir_ +
                       "'\npassword_encryption = 'scram-sha-256'\nmax_connections = 40\n"
                       "shared_buffers = 32MB\nfsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\n";
    std::string conf_path = data_dir_ + "/harness.conf";
    if (!WriteFile(conf_path, conf, 0600) || !GiveToPostgres(conf_path)) {
      return std::unexpected("cannot write " + conf_path);
    }
    std::vector<std::string> argv;
    if (IsRoot()) {
      argv = {"setpriv",  "--reuid",       kSuperuser,    "--regid",
              kSuperuser, "--init-groups", "--pdeathsig", "INT"};
    }
    argv.insert(argv.end(), {bindir_ + "/postgres", "-D", data_dir_});
    std::vector<char*> cargv = CArgv(argv);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return std::unexpected("fork failed");
    if (pid == 0) {
      RedirectChild(log_path_.c_str());
      // Not root: the signal survives exec. Root: setpriv sets it again after setuid.
      ::prctl(PR_SET_PDEATHSIG, SIGINT);
      if (::getppid() != parent) std::_Exit(1);
      ::execvp(cargv[0], cargv.data());
      std::_Exit(127);
    }
    pid_ = pid;
    std::string port = std::to_string(port_);
    const char* keys[] = {"host", "port", "dbname", "user", "connect_timeout", nullptr};
    const char* values[] = {socket_dir_.c_str(), port.c_str(), "postgres",
                            kSuperuser,          "2",          nullptr};
    auto deadline = Clock::now() + std::chrono::milliseconds(kReadyTimeoutMs);
    while (true) {
      if (PQpingParams(keys, values, 0) == PQPING_OK) return {};
      if (WaitFor(pid_, 0).has_value()) {
        pid_ = -1;
        break;  // exited: probably lost the port; try another
      }
      if (Clock::now() >= deadline) {
        return std::unexpected("postgres did not answer within 60 s: " + Tail(log_path_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return std::unexpected("postgres did not start in " + std::to_string(kLaunchAttempts) +
                         " attempts: " + Tail(log_path_));
}

std::expected<db::PgConnection, std::string> PgServer::ConnectSuperuser(
    const std::string& dbname) const {
  db::PgConnParams p;
  p.host = socket_dir_;
  p.port = port_;
  p.dbname = dbname;
  p.user = kSuperuser;
  p.application_name = "spotex-test-setup";
  p.sslmode = "disable";
  auto conn = db::PgConnection::Connect(p);
  if (!conn) return std::unexpected(conn.error().message);
  return std::move(*conn);
}

// CREATE ROLE takes no parameters: the server quotes the values itself (format %I / %L).
std::expected<void, std::string> PgServer::CreateRole() {
  auto conn = ConnectSuperuser();
  if (!conn) return std::unexpected("superuser connection: " + conn.error());
  auto sql = conn->Exec("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
                        kRole, password_);
  if (!sql) return std::unexpected("CREATE ROLE: " + sql.error().message);
  if (auto ok = conn->ExecScript(std::string(sql->Text(0, 0))); !ok) {
    return std::unexpected("CREATE ROLE: " + ok.error().message);
  }
  return {};
}

std::expected<std::string, std::string> PgServer::CreateDatabase() {
  std::string name = "t" + std::to_string(++databases_);
  auto conn = ConnectSuperuser();
  if (!conn) return std::unexpected("superuser connection: " + conn.error());
  auto sql =
      conn->Exec("SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)", name, kRole);
  if (!sql) return std::unexpected("CREATE DATABASE: " + sql.error().message);
  if (auto ok = conn->ExecScript(std::string(sql->Text(0, 0))); !ok) {
    return std::unexpected("CREATE DATABASE: " + ok.error().message);
  }
  return name;
}

db::PgConnParams PgServer::Params(const std::string& dbname) const {
  db::PgConnParams p;
  p.host = "127.0.0.1";
  p.port = port_;
  p.dbname = dbname;
  p.user = kRole;
  p.password = password_;
  p.application_name = "spotex-test";
  return p;
}

void PgServer::Stop() {
  if (pid_ <= 0) return;
  RunCommand({bindir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t", "60"},
             log_path_, true, kStopTimeoutMs);
  if (!WaitFor(pid_, 10000).has_value()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

PgServer::~PgServer() {
  Stop();
  if (!dir_.empty() && std::getenv("SPOTEX_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace spotex::testing
