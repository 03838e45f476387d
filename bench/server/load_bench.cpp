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
  double p50_ms, p99_ms, max_ms;
  long errors;
};

// Sends `request` at `rate` per second for `seconds` (open loop: each send
// time is fixed in advance, so a slow answer delays later sends only by
// what it really blocks) and returns latency percentiles.
Stats run(double rate, double seconds, const std::function<int()>& request) {
  std::vector<double> ms;
  long errors = 0;
  const auto start = Clock::now();
  const long n = static_cast<long>(rate * seconds);
  for (long i = 0; i < n; ++i) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(i / rate)));
    const auto t0 = Clock::now();
    const int status = request();
    ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    errors += status >= 300 || status == 0;
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * (ms.size() - 1))];
  };
  return {at(0.5), at(0.99), ms.back(), errors};
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
  std::cout << "| request | rate (req/s) | requests | p50 (ms) | p99 (ms) | "
               "max (ms) | errors |\n| --- | --- | --- | --- | --- | --- | "
               "--- |\n";
  for (const auto& [name, s] : {std::pair{"GET /v1/jobs/{id}", get},
                                std::pair{"POST /v1/jobs", post}}) {
    std::cout << "| " << name << " | " << rate << " | "
              << static_cast<long>(rate * seconds) << " | " << s.p50_ms << " | "
              << s.p99_ms << " | " << s.max_ms << " | " << s.errors << " |\n";
  }
  return get.errors + post.errors == 0 ? 0 : 1;
}
