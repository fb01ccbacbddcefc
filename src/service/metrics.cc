#include "service/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "core/assert.h"

namespace spotex::metrics {
namespace {

bool ValidName(std::string_view s, bool allow_colon) {
  if (s.empty()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Shortest text that reads back as the same double; Prometheus spellings for the specials.
void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  // Plain decimals in the usual range ("0.0001", not "1e-04"), shortest form outside it.
  char buf[64];
  double a = std::fabs(v);
  auto r = (a == 0 || (a >= 1e-6 && a < 1e15))
               ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
               : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// name{a="x",b="y"[,le="0.5"]} — `le` only for histogram buckets.
void AppendSeries(std::string& out, std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, const double* le) {
  out += name;
  out += suffix;
  if (label_names.empty() && le == nullptr) {
    return;
  }
  out += '{';
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += label_names[i];
    out += "=\"";
    AppendEscaped(out, label_values[i], true);
    out += '"';
  }
  if (le != nullptr) {
    if (!label_names.empty()) {
      out += ',';
    }
    out += "le=\"";
    AppendNumber(out, *le);
    out += '"';
  }
  out += '}';
}

void RenderChild(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const std::vector<std::string>& values, const Counter& c) {
  AppendSeries(out, name, "", names, values, nullptr);
  out += ' ';
  AppendUint(out, c.Value());
  out += '\n';
}

void RenderChild(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const std::vector<std::string>& values, const Gauge& g) {
  AppendSeries(out, name, "", names, values, nullptr);
  out += ' ';
  AppendNumber(out, g.Value());
  out += '\n';
}

void RenderChild(std::string& out, const std::string& name, const std::vector<std::string>& names,
                 const std::vector<std::string>& values, const Histogram& h) {
  // Buckets are read once each and summed here, so the output is cumulative and the +Inf
  // bucket equals _count even while other threads observe.
  uint64_t cumulative = 0;
  const auto& bounds = h.bounds();
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += h.BucketCount(i);
    AppendSeries(out, name, "_bucket", names, values, &bounds[i]);
    out += ' ';
    AppendUint(out, cumulative);
    out += '\n';
  }
  cumulative += h.BucketCount(bounds.size());
  const double inf = INFINITY;
  AppendSeries(out, name, "_bucket", names, values, &inf);
  out += ' ';
  AppendUint(out, cumulative);
  out += '\n';
  AppendSeries(out, name, "_sum", names, values, nullptr);
  out += ' ';
  AppendNumber(out, h.Sum());
  out += '\n';
  AppendSeries(out, name, "_count", names, values, nullptr);
  out += ' ';
  AppendUint(out, cumulative);
  out += '\n';
}

}  // namespace

void Gauge::Add(double d) {
  double cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    SPOTEX_ASSERT(std::isfinite(bounds_[i]));
    SPOTEX_ASSERT(i == 0 || bounds_[i - 1] < bounds_[i]);
  }
}

void Histogram::Observe(double v) {
  // First bound >= v (a bucket's upper bound is inclusive); NaN lands in +Inf.
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

void FamilyBase::RenderHeader(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscaped(out, help_, false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_;
  out += '\n';
}

template <class T>
Family<T>::Family(std::string name, std::string help, std::string type,
                  std::vector<std::string> labels, std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), std::move(type), std::move(labels)),
      buckets_(std::move(buckets)) {
  if (labels_.empty()) {
    // An unlabelled metric exists (as 0) from registration on.
    children_.emplace(std::vector<std::string>{}, Make());
  }
}

template <class T>
std::unique_ptr<T> Family<T>::Make() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_unique<Histogram>(buckets_);
  } else {
    return std::make_unique<T>();
  }
}

template <class T>
T& Family<T>::Find(std::vector<std::string> key) {
  SPOTEX_ASSERT(key.size() == labels_.size());
  std::lock_guard lock(mu_);
  auto it = children_.find(key);
  if (it != children_.end()) {
    return *it->second;
  }
  if (children_.size() >= kSeriesMax) {
    key.assign(labels_.size(), std::string(kOverflowLabel));
    it = children_.find(key);
    if (it != children_.end()) {
      return *it->second;
    }
  }
  return *children_.emplace(std::move(key), Make()).first->second;
}

template <class T>
T& Family<T>::With(std::initializer_list<std::string_view> label_values) {
  std::vector<std::string> key;
  key.reserve(label_values.size());
  for (auto v : label_values) {
    key.emplace_back(v);
  }
  return Find(std::move(key));
}

template <class T>
T& Family<T>::With(const std::vector<std::string>& label_values) {
  return Find(label_values);
}

template <class T>
void Family<T>::Render(std::string& out) const {
  RenderHeader(out);
  std::lock_guard lock(mu_);
  for (const auto& [values, child] : children_) {
    RenderChild(out, name_, labels_, values, *child);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <class T>
Family<T>& Registry::Add(std::string name, std::string help, std::string type,
                         std::vector<std::string> labels, std::vector<double> buckets) {
  SPOTEX_ASSERT(ValidName(name, true));
  for (const auto& l : labels) {
    SPOTEX_ASSERT(ValidName(l, false) && !l.starts_with("__"));
    SPOTEX_ASSERT(!(std::is_same_v<T, Histogram> && l == "le"));
  }
  std::lock_guard lock(mu_);
  for (auto& f : families_) {
    if (f->name() == name) {
      auto* same = dynamic_cast<Family<T>*>(f.get());
      SPOTEX_ASSERT(same != nullptr && same->type_ == type && same->labels_ == labels);
      return *same;
    }
  }
  auto fam = std::make_unique<Family<T>>(std::move(name), std::move(help), std::move(type),
                                         std::move(labels), std::move(buckets));
  Family<T>& ref = *fam;
  families_.push_back(std::move(fam));
  return ref;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  return Add<Counter>(std::move(name), std::move(help), "counter", std::move(labels), {});
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  return Add<Gauge>(std::move(name), std::move(help), "gauge", std::move(labels), {});
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<double> buckets,
                                          std::vector<std::string> labels) {
  Histogram check(buckets);  // asserts the bounds once, at registration
  return Add<Histogram>(std::move(name), std::move(help), "histogram", std::move(labels),
                        std::move(buckets));
}

Family<Gauge>& Registry::AddSampledCounter(std::string name, std::string help,
                                           std::vector<std::string> labels) {
  return Add<Gauge>(std::move(name), std::move(help), "counter", std::move(labels), {});
}

void Registry::OnCollect(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::Render() const {
  std::lock_guard render_lock(render_mu_);
  std::vector<std::function<void()>> collectors;
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
    families.reserve(families_.size());
    for (const auto& f : families_) {
      families.push_back(f.get());
    }
  }
  for (const auto& fn : collectors) {
    fn();
  }
  std::string out;
  out.reserve(families.size() * 256);
  for (const auto* f : families) {
    f->Render(out);
  }
  return out;
}

Registry& DefaultRegistry() {
  static Registry* r = new Registry();
  return *r;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<double> SizeBuckets() {
  std::vector<double> b;
  for (double v = 1; v <= 65536; v *= 2) {
    b.push_back(v);
  }
  return b;
}

// ---- process metrics -------------------------------------------------------------------------

namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double threads = 0;
  double start_ticks = 0;
  double vsize_bytes = 0;
  double rss_pages = 0;
};

std::string ReadSmallFile(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return {};
  }
  std::string s;
  char buf[4096];
  ssize_t n;
  while (s.size() < 65536 && (n = ::read(fd, buf, sizeof buf)) > 0) {
    s.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return s;
}

// /proc/self/stat: fields after the parenthesised command name (which may hold spaces).
bool ReadProcStat(ProcStat& st) {
  std::string s = ReadSmallFile("/proc/self/stat");
  size_t close = s.rfind(')');
  if (close == std::string::npos) {
    return false;
  }
  std::vector<std::string_view> f;  // f[0] is field 3 (state)
  std::string_view rest(s.data() + close + 1, s.size() - close - 1);
  while (!rest.empty()) {
    size_t b = rest.find_first_not_of(" \n");
    if (b == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(b);
    size_t e = rest.find_first_of(" \n");
    f.push_back(rest.substr(0, e));
    rest.remove_prefix(e == std::string_view::npos ? rest.size() : e);
  }
  if (f.size() < 22) {
    return false;
  }
  auto num = [&](size_t field) {  // 1-based field number as in proc(5)
    double v = 0;
    std::string_view t = f[field - 3];
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  };
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  st.cpu_seconds = (num(14) + num(15)) / ticks;
  st.threads = num(20);
  st.start_ticks = num(22);
  st.vsize_bytes = num(23);
  st.rss_pages = num(24);
  return true;
}

double BootTimeSeconds() {
  std::string s = ReadSmallFile("/proc/stat");
  size_t p = s.find("\nbtime ");
  if (p == std::string::npos) {
    return 0;
  }
  return std::strtod(s.c_str() + p + 7, nullptr);
}

double OpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) {
    return 0;
  }
  double n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') {
      n += 1;
    }
  }
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

void RegisterProcessMetrics(Registry& r) {
  auto& cpu = r.AddSampledCounter("process_cpu_seconds_total",
                                  "User and system CPU time spent, in seconds.")
                  .With({});
  auto& rss =
      r.AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.").With({});
  auto& vsz = r.AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").With({});
  auto& fds = r.AddGauge("process_open_fds", "Number of open file descriptors.").With({});
  auto& max_fds =
      r.AddGauge("process_max_fds", "Limit on open file descriptors (RLIMIT_NOFILE).").With({});
  auto& threads = r.AddGauge("process_threads", "Number of threads.").With({});
  auto& start = r.AddGauge("process_start_time_seconds",
                           "Start time of the process since the Unix epoch, in seconds.")
                    .With({});
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double boot = BootTimeSeconds();
  r.OnCollect([&, page, ticks, boot] {
    ProcStat st;
    if (ReadProcStat(st)) {
      cpu.Set(st.cpu_seconds);
      rss.Set(st.rss_pages * page);
      vsz.Set(st.vsize_bytes);
      threads.Set(st.threads);
      start.Set(boot + st.start_ticks / ticks);
    }
    fds.Set(OpenFds());
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      max_fds.Set(lim.rlim_cur == RLIM_INFINITY ? INFINITY : static_cast<double>(lim.rlim_cur));
    }
  });
}

// ---- the server ------------------------------------------------------------------------------

std::expected<std::unique_ptr<MetricsServer>, std::string> MetricsServer::Start(
    Registry& r, const std::string& address, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    return std::unexpected("metrics: not an IPv4 address: " + address);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::unexpected(std::string("metrics: socket: ") + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::string err = "metrics: cannot listen on " + address + ":" + std::to_string(port) + ": " +
                      std::strerror(errno);
    ::close(fd);
    return std::unexpected(err);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    ::close(fd);
    return std::unexpected(std::string("metrics: pipe: ") + std::strerror(errno));
  }
  return std::unique_ptr<MetricsServer>(
      new MetricsServer(r, fd, wake[0], wake[1], ntohs(addr.sin_port)));
}

MetricsServer::MetricsServer(Registry& r, int listen_fd, int wake_fd_read, int wake_fd_write,
                             uint16_t port)
    : registry_(r),
      listen_fd_(listen_fd),
      wake_read_fd_(wake_fd_read),
      wake_write_fd_(wake_fd_write),
      port_(port) {
  thread_ = std::thread([this] { Loop(); });
}

MetricsServer::~MetricsServer() {
  char b = 0;
  (void)!::write(wake_write_fd_, &b, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
}

void MetricsServer::Loop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (p[1].revents != 0) {
      return;
    }
    if ((p[0].revents & POLLIN) == 0) {
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;  // e.g. the client gave up, or out of descriptors: try again
    }
    Serve(fd);
    ::close(fd);
  }
}

namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

void MetricsServer::Serve(int fd) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
  std::string req;
  char buf[1024];
  // Only the request line matters; read until the end of the headers (or the limit).
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < kRequestBytesMax) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) <= 0) {
      return;
    }
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, kRequestBytesMax - req.size()), 0);
    if (n <= 0) {
      return;
    }
    req.append(buf, static_cast<size_t>(n));
  }
  std::string status, body;
  size_t eol = req.find("\r\n");
  std::string_view line(req.data(), eol == std::string::npos ? 0 : eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (req.find("\r\n\r\n") == std::string::npos || sp2 == std::string_view::npos ||
      !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    status = "400 Bad Request";
    body = "bad request\n";
  } else {
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view path = target.substr(0, target.find('?'));
    if (method != "GET") {
      status = "405 Method Not Allowed";
      body = "only GET\n";
    } else if (path != "/metrics") {
      status = "404 Not Found";
      body = "not found\n";
    } else {
      status = "200 OK";
      body = registry_.Render();
    }
  }
  std::string resp = "HTTP/1.1 " + status +
                     "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     "Content-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  size_t off = 0;
  while (off < resp.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) <= 0) {
      return;
    }
    ssize_t n = ::send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace spotex::metrics
