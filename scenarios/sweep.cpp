#include "scenarios/sweep.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {
namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  pid_t pid = -1;
  uint64_t seed = 0;
  int fd = -1;
  std::string output;
  Clock::time_point started;
  bool timed_out = false;
};

struct Outcome {
  uint64_t seed = 0;
  Verdict verdict = Verdict::pass;
  std::string json;  // the result line
};

std::set<uint64_t> finished_seeds(const std::string& path) {
  std::set<uint64_t> done;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("seed") && j["seed"].is_number_unsigned()) done.insert(j["seed"].get<uint64_t>());
  }
  return done;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

Worker spawn_worker(const SweepOptions& o, uint64_t seed) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    if (!kAddressSanitizer) {
      // An address-space limit: under ASan it would leave no room for the shadow memory (terabytes
      // of reserved addresses), so a sanitizer build runs its workers without one.
      const rlim_t bytes = static_cast<rlim_t>(o.memory_limit_mb) * 1024 * 1024;
      const rlimit limit{bytes, bytes};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    const std::string seed_text = std::to_string(seed);
    std::vector<const char*> argv = {o.self_exe.c_str(), "run", "--scenario", o.scenario.c_str(),
                                     "--seed", seed_text.c_str(), "--json"};
    if (o.determinism) argv.push_back("--check-determinism");
    for (const std::string& d : o.defects) {
      argv.push_back("--defect");
      argv.push_back(d.c_str());
    }
    argv.push_back(nullptr);
    ::execv(o.self_exe.c_str(), const_cast<char* const*>(argv.data()));
    std::fprintf(stderr, "exec %s: %s\n", o.self_exe.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  Worker w;
  w.pid = pid;
  w.seed = seed;
  w.fd = fds[0];
  w.started = Clock::now();
  return w;
}

std::string tail_of(const std::string& text, size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

Outcome failure(const SweepOptions& o, uint64_t seed, std::string_view property, const std::string& detail) {
  RunReport r;
  r.scenario = o.scenario;
  r.seed = seed;
  r.judgement = Judgement{Verdict::crash, std::string(property), detail};
  return Outcome{seed, Verdict::crash, r.to_json()};
}

// Turns a finished worker's output and exit status into its result line.
Outcome collect(const SweepOptions& o, Worker& w, int status) {
  if (w.timed_out) {
    return failure(o, w.seed, "time-limit",
                   fmt::format("no result within {} s of wall time (a hang?); output: {}", o.time_limit_s,
                               tail_of(w.output, 400)));
  }
  // The result is the last line that parses as a report.
  size_t end = w.output.size();
  while (end > 0) {
    const size_t begin = w.output.rfind('\n', end - 1);
    const size_t from = begin == std::string::npos ? 0 : begin + 1;
    const std::string line = w.output.substr(from, end - from);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("verdict")) {
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 4;
      Verdict v = Verdict::crash;
      if (code >= 0 && code <= 5) v = static_cast<Verdict>(code);
      return Outcome{w.seed, v, line};
    }
    if (begin == std::string::npos) break;
    end = begin;
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return failure(o, w.seed, sig == SIGKILL ? "memory-limit" : "worker-died",
                   fmt::format("worker died with signal {} ({}); output: {}", sig, strsignal(sig), tail_of(w.output, 400)));
  }
  return failure(o, w.seed, "worker-died",
                 fmt::format("worker exited with status {} and no result; output: {}",
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1, tail_of(w.output, 400)));
}

class Progress {
 public:
  Progress(size_t total, bool tty) : total_(total), tty_(tty), started_(Clock::now()), last_print_(started_) {}
  void update(size_t done, size_t failed, bool force = false) {
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    const bool due = tty_ ? now - last_print_ > std::chrono::milliseconds(100)
                          : (now - last_print_ > std::chrono::seconds(10) || (done == total_ && printed_ != done));
    if ((!due && !force) || (!tty_ && printed_ == done)) return;
    last_print_ = now;
    printed_ = done;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    const std::string line = fmt::format("[{:>{}}/{}] {} failed  {:.1f} seeds/s  elapsed {:.0f}s  ETA {:.0f}s", done,
                                         std::to_string(total_).size(), total_, failed, rate, elapsed, eta);
    if (tty_) std::fprintf(stderr, "\r%s\033[K", line.c_str());
    else std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  size_t total_;
  size_t printed_ = SIZE_MAX;  // the count last printed, so a non-TTY log never repeats a line
  bool tty_;
  Clock::time_point started_;
  Clock::time_point last_print_;
};

int exit_code_for(const std::map<Verdict, size_t>& counts) {
  for (Verdict v : {Verdict::crash, Verdict::nondeterministic, Verdict::safety, Verdict::liveness}) {
    if (counts.count(v)) return static_cast<int>(v);
  }
  return 0;
}

}  // namespace

int run_sweep(const SweepOptions& o) {
  std::set<uint64_t> done;
  if (!o.out_path.empty()) done = finished_seeds(o.out_path);
  std::deque<uint64_t> pending;
  for (uint64_t s = o.first_seed;; ++s) {
    if ((s - o.first_seed) % o.shard_count == o.shard_index && !done.count(s)) pending.push_back(s);
    if (s == o.last_seed) break;
  }
  FILE* out = nullptr;
  if (!o.out_path.empty()) {
    out = std::fopen(o.out_path.c_str(), "a");
    if (out == nullptr) {
      std::fprintf(stderr, "seedlog sweep: cannot open %s: %s\n", o.out_path.c_str(), std::strerror(errno));
      return static_cast<int>(Verdict::usage);
    }
  }
  const size_t total = pending.size();
  std::fprintf(stderr, "sweep: scenario %s, %zu seeds (%llu..%llu%s%s), %d workers%s\n", o.scenario.c_str(), total,
               static_cast<unsigned long long>(o.first_seed), static_cast<unsigned long long>(o.last_seed),
               o.shard_count > 1 ? fmt::format(", shard {}/{}", o.shard_index, o.shard_count).c_str() : "",
               done.empty() ? "" : fmt::format(", {} already done", done.size()).c_str(), o.jobs,
               o.determinism ? ", determinism re-run on every seed" : "");
  Progress progress(total, ::isatty(STDERR_FILENO) != 0);
  const auto started = Clock::now();
  std::vector<Worker> running;
  std::vector<Outcome> failures;
  std::map<Verdict, size_t> counts;
  size_t finished = 0;
  while (!pending.empty() || !running.empty()) {
    while (!pending.empty() && static_cast<int>(running.size()) < o.jobs) {
      running.push_back(spawn_worker(o, pending.front()));
      pending.pop_front();
    }
    std::vector<pollfd> fds;
    for (const Worker& w : running) fds.push_back(pollfd{w.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (size_t i = 0; i < running.size();) {
      Worker& w = running[i];
      char buf[4096];
      ssize_t n;
      while ((n = ::read(w.fd, buf, sizeof buf)) > 0) w.output.append(buf, static_cast<size_t>(n));
      const bool eof = n == 0;
      if (!eof && !w.timed_out &&
          std::chrono::duration<double>(Clock::now() - w.started).count() > o.time_limit_s) {
        w.timed_out = true;
        ::kill(w.pid, SIGKILL);
      }
      if (!eof) {
        ++i;
        continue;
      }
      int status = 0;
      ::waitpid(w.pid, &status, 0);
      ::close(w.fd);
      Outcome outcome = collect(o, w, status);
      ++counts[outcome.verdict];
      ++finished;
      if (out) {
        std::fprintf(out, "%s\n", outcome.json.c_str());
        std::fflush(out);
      }
      if (outcome.verdict != Verdict::pass) failures.push_back(std::move(outcome));
      running.erase(running.begin() + static_cast<ptrdiff_t>(i));
      progress.update(finished, failures.size());
    }
  }
  progress.update(finished, failures.size(), true);
  progress.finish();
  if (out) std::fclose(out);
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("sweep summary: scenario %s, %zu seeds in %.1fs (%.1f seeds/s, %d workers)\n", o.scenario.c_str(),
              finished, wall, wall > 0 ? static_cast<double>(finished) / wall : 0.0, o.jobs);
  for (const auto& [verdict, n] : counts) std::printf("  %-18s %zu\n", std::string(to_string(verdict)).c_str(), n);
  std::sort(failures.begin(), failures.end(), [](const Outcome& a, const Outcome& b) { return a.seed < b.seed; });
  std::string defects;
  for (const std::string& d : o.defects) defects += " --defect " + d;
  for (size_t i = 0; i < failures.size() && i < 20; ++i) {
    auto j = nlohmann::json::parse(failures[i].json, nullptr, false);
    const std::string what = j.is_object() ? j.value("property", "") + ": " + j.value("detail", "") : failures[i].json;
    std::printf("  FAIL seed %llu (%s) %s\n    reproduce: seedlog run --scenario %s --seed %llu%s\n",
                static_cast<unsigned long long>(failures[i].seed), std::string(to_string(failures[i].verdict)).c_str(),
                tail_of(what, 300).c_str(), o.scenario.c_str(), static_cast<unsigned long long>(failures[i].seed),
                defects.c_str());
  }
  if (failures.size() > 20) std::printf("  ... and %zu more failures\n", failures.size() - 20);
  return exit_code_for(counts);
}

}  // namespace seedlog::scenarios
