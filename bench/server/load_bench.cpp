// Load benchmark of `mlxt serve` on loopback: p50/p99 latency of
// GET /v1/jobs/{id} and POST /v1/jobs at a fixed request rate.
//
//   build/bench/server_load_bench --mlxt build/mlxt [--rate 200] [--seconds 10]
//
// The server runs with --max-concurrent-jobs 0, so submitted jobs queue and
// no trainer competes for the CPU: the numbers are the API's own cost (a
// POST includes validation, the run folder, config.json with fsync and a
// durable SQLite commit).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mlxt/server/client.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

struct Stats {
  double p50_ms, p99_ms, max_ms; // from each request's send to its answer
  double late_p99_ms;            // from its scheduled send time to its answer
  double achieved_rate;          // requests per second actually sent
  long errors;
};

double percentile(std::vector<double>& ms, double q) {
  std::sort(ms.begin(), ms.end());
  return ms[static_cast<size_t>(q * double(ms.size() - 1))];
}

// Sends `request` at `rate` per second for `seconds` (open loop: each send
// time is fixed in advance; one client, so a slow answer delays the sends
// behind it, and late_p99_ms counts that delay: coordinated omission is
// visible, not hidden) and returns latency percentiles.
Stats run(double rate, double seconds, const std::function<int()>& request) {
  std::vector<double> ms, late_ms;
  long errors = 0;
  const auto start = Clock::now();
  const long n = static_cast<long>(rate * seconds);
  for (long i = 0; i < n; ++i) {
    const auto scheduled = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(i / rate));
    std::this_thread::sleep_until(scheduled);
    const auto t0 = Clock::now();
    const int status = request();
    const auto t1 = Clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    late_ms.push_back(
        std::chrono::duration<double, std::milli>(t1 - scheduled).count());
    errors += status >= 300 || status == 0;
  }
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  return {percentile(ms, 0.5),
          percentile(ms, 0.99),
          ms.back(),
          percentile(late_ms, 0.99),
          double(n) / elapsed,
          errors};
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Load benchmark of mlxt serve on loopback"};
  std::string mlxt = "build/mlxt";
  double rate = 200, seconds = 10;
  int port = 18500;
  app.add_option("--mlxt", mlxt, "The mlxt binary");
  app.add_option("--rate", rate, "Requests per second");
  app.add_option("--seconds", seconds, "Duration of each phase");
  app.add_option("--port", port, "Framework port (platform: port + 1)");
  CLI11_PARSE(app, argc, argv);

  const fs::path dir = fs::temp_directory_path() /
                       ("mlxt-load-bench-" + std::to_string(getpid()));
  fs::create_directories(dir / "models/m");
  fs::create_directories(dir / "datasets/d");
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open((dir / "server.log").c_str(), O_WRONLY | O_CREAT, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(mlxt.c_str(),
          mlxt.c_str(),
          "serve",
          "--data-dir",
          dir.c_str(),
          "--framework-port",
          std::to_string(port).c_str(),
          "--platform-port",
          std::to_string(port + 1).c_str(),
          "--max-concurrent-jobs",
          "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  mlxt::server::HttpClient c("127.0.0.1", port);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (c.get("/health/live").status != 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const json config = {
      {"model", "models/m"}, {"data", "datasets/d"}, {"iters", 100}};
  const std::string id = c.post("/v1/jobs", config).json().value("id", "");
  Stats get =
      run(rate, seconds, [&] { return c.get("/v1/jobs/" + id).status; });
  Stats post =
      run(rate, seconds, [&] { return c.post("/v1/jobs", config).status; });
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  fs::remove_all(dir);
  std::cout << "| request | rate (req/s) | achieved (req/s) | requests | "
               "p50 (ms) | p99 (ms) | max (ms) | p99 from schedule (ms) | "
               "errors |\n| --- | --- | --- | --- | --- | --- | --- | --- | "
               "--- |\n";
  for (const auto& [name, s] : {std::pair{"GET /v1/jobs/{id}", get},
                                std::pair{"POST /v1/jobs", post}}) {
    std::cout << "| " << name << " | " << rate << " | " << s.achieved_rate
              << " | " << static_cast<long>(rate * seconds) << " | " << s.p50_ms
              << " | " << s.p99_ms << " | " << s.max_ms << " | "
              << s.late_p99_ms << " | " << s.errors << " |\n";
  }
  return get.errors + post.errors == 0 ? 0 : 1;
}
