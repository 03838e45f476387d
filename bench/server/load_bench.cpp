// Load benchmark of `mlxt serve` on loopback: p50/p99 latency of
// GET /v1/jobs/{id} and POST /v1/jobs at a fixed request rate.
//
//   build/bench/server_load_bench --mlxt build/mlxt [--rate 200] [--seconds 10]
//
// The server runs with --max-concurrent-jobs 0, so submitted jobs queue and
// no trainer competes for the CPU: the numbers are the API's own cost (a
// POST includes validation, the run folder, config.json with fsync and a
// durable SQLite commit).
//
//   build/bench/server_load_bench --mlxt build/mlxt --soak [--rate 500]
//       [--seconds 60] [--streams 100] [--iters 1000]
//
// --soak (issue 19's acceptance): a tiny model trains while `streams`
// clients follow its events and status reads (GET /v1/jobs/{id}) arrive at
// `rate` from 4 clients; /health/live is asked every 100 ms throughout.
// Afterwards: the job completed, every stream got every metrics record, and
// the store passes PRAGMA integrity_check.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mlxt/jobs/store.h"
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
  std::map<int, long> error_statuses; // status (0: no answer) -> count
};

double percentile(std::vector<double>& ms, double q) {
  std::sort(ms.begin(), ms.end());
  return ms[static_cast<size_t>(q * double(ms.size() - 1))];
}

// Sends `request` at `rate` per second for `seconds` from `clients` threads
// (open loop: each send time is fixed in advance, request i on client
// i % clients; a slow answer delays the sends behind it on its client, and
// late_p99_ms counts that delay: coordinated omission is visible, not
// hidden) and returns latency percentiles. `request` gets the client index.
Stats run(double rate,
          double seconds,
          size_t clients,
          const std::function<int(size_t)>& request) {
  std::vector<double> ms, late_ms;
  long errors = 0;
  std::map<int, long> error_statuses;
  std::mutex mutex;
  const auto start = Clock::now();
  const long n = static_cast<long>(rate * seconds);
  std::vector<std::thread> threads;
  for (size_t client = 0; client < clients; ++client) {
    threads.emplace_back([&, client] {
      std::vector<double> mine, mine_late;
      std::map<int, long> failed;
      for (long i = static_cast<long>(client); i < n;
           i += static_cast<long>(clients)) {
        const auto scheduled =
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(i / rate));
        std::this_thread::sleep_until(scheduled);
        const auto t0 = Clock::now();
        const int status = request(client);
        const auto t1 = Clock::now();
        mine.push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
        mine_late.push_back(
            std::chrono::duration<double, std::milli>(t1 - scheduled).count());
        if (status >= 300 || status == 0) {
          ++failed[status];
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      ms.insert(ms.end(), mine.begin(), mine.end());
      late_ms.insert(late_ms.end(), mine_late.begin(), mine_late.end());
      for (const auto& [status, count] : failed) {
        errors += count;
        error_statuses[status] += count;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  return {percentile(ms, 0.5),
          percentile(ms, 0.99),
          ms.back(),
          percentile(late_ms, 0.99),
          double(n) / elapsed,
          errors,
          error_statuses};
}

// Starts `mlxt serve` on `port` (platform: port + 1) over `dir`.
pid_t start_server(const std::string& mlxt,
                   const fs::path& dir,
                   int port,
                   int max_jobs) {
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
          std::to_string(max_jobs).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  mlxt::server::HttpClient c("127.0.0.1", port);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (c.get("/health/live").status != 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pid;
}

void print_header() {
  std::cout << "| request | rate (req/s) | achieved (req/s) | requests | "
               "p50 (ms) | p99 (ms) | max (ms) | p99 from schedule (ms) | "
               "errors |\n| --- | --- | --- | --- | --- | --- | --- | --- | "
               "--- |\n";
}

void print_row(const std::string& name, double rate, long n, const Stats& s) {
  std::cout << "| " << name << " | " << rate << " | " << s.achieved_rate
            << " | " << n << " | " << s.p50_ms << " | " << s.p99_ms << " | "
            << s.max_ms << " | " << s.late_p99_ms << " | " << s.errors;
  for (const auto& [status, count] : s.error_statuses) {
    std::cout << " (" << (status == 0 ? "no answer" : std::to_string(status))
              << ": " << count << ")";
  }
  std::cout << " |\n";
}

struct SoakOptions {
  std::string mlxt;
  fs::path dataset;
  double rate, seconds;
  int port, streams, iters;
};

// The soak of the file comment; true when every check held.
bool soak(const SoakOptions& o, const fs::path& dir) {
  fs::create_directories(dir / "datasets");
  fs::copy(o.dataset, dir / "datasets/d", fs::copy_options::recursive);
  const std::string init =
      o.mlxt + " init-model --arch llama --preset tiny --out " +
      (dir / "models/m").string() + " --vocab-size 300 --tokenizer-corpus " +
      (dir / "datasets/d/train.jsonl").string() + " > /dev/null";
  if (std::system(init.c_str()) != 0) {
    std::cerr << "soak: " << init << " failed\n";
    return false;
  }
  const pid_t pid = start_server(o.mlxt, dir, o.port, 1);
  mlxt::server::HttpClient c("127.0.0.1", o.port);
  const json config = {{"model", "models/m"},
                       {"data", "datasets/d"},
                       {"iters", o.iters},
                       {"batch_size", 4},
                       {"steps_per_report", 5},
                       {"steps_per_eval", 100000}};
  const std::string id = c.post("/v1/jobs", config).json().value("id", "");

  std::vector<long> metrics_seen(static_cast<size_t>(o.streams), 0);
  std::vector<std::string> ends(metrics_seen.size());
  std::vector<std::thread> streams;
  for (size_t i = 0; i < metrics_seen.size(); ++i) {
    streams.emplace_back([&, i] {
      mlxt::server::HttpClient s("127.0.0.1", o.port);
      mlxt::server::SseParser parser(
          [&](const std::string& event, const std::string& data) {
            metrics_seen[i] += event == "metrics";
            if (event == "end") {
              ends[i] = json::parse(data).value("state", "");
            }
            return event != "end";
          });
      s.stream("/v1/jobs/" + id + "/events",
               [&](const std::string& chunk) { return parser.feed(chunk); });
    });
  }

  std::atomic<bool> soaking{true};
  double live_max_ms = 0;
  long live_asked = 0, live_failed = 0;
  std::thread live([&] {
    mlxt::server::HttpClient h("127.0.0.1", o.port);
    while (soaking) {
      const auto t0 = Clock::now();
      const int status = h.get("/health/live").status;
      live_max_ms = std::max(
          live_max_ms,
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      ++live_asked;
      live_failed += status != 200;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  const size_t clients = 4;
  std::vector<std::unique_ptr<mlxt::server::HttpClient>> readers;
  for (size_t i = 0; i < clients; ++i) {
    readers.push_back(
        std::make_unique<mlxt::server::HttpClient>("127.0.0.1", o.port));
  }
  const Stats reads = run(o.rate, o.seconds, clients, [&](size_t client) {
    return readers[client]->get("/v1/jobs/" + id).status;
  });
  const std::string state_after_soak =
      c.get("/v1/jobs/" + id).json().value("state", "");
  for (auto& t : streams) {
    t.join(); // each ends at the job's "end" event
  }
  soaking = false;
  live.join();
  const json job = c.get("/v1/jobs/" + id).json();
  long records = 0;
  long trains = 0;
  std::ifstream in(dir / "runs" / id / "metrics.jsonl");
  for (std::string line; std::getline(in, line); ++records) {
    trains += json::parse(line).value("event", "") == "train";
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  const std::string integrity =
      mlxt::jobs::Store(dir / "jobs.db").integrity_check();

  print_header();
  print_row("GET /v1/jobs/{id}",
            o.rate,
            static_cast<long>(o.rate * o.seconds),
            reads);
  const long complete_streams =
      std::count_if(metrics_seen.begin(), metrics_seen.end(), [&](long n) {
        return n == records;
      });
  std::cout << "\n- job: " << job.value("state", "") << " (" << state_after_soak
            << " when the reads ended), " << trains << " train records, "
            << records << " metrics records\n"
            << "- streams: " << complete_streams << " of " << o.streams
            << " got every metrics record and the end event ("
            << std::count(ends.begin(), ends.end(), "completed")
            << " ended \"completed\")\n"
            << "- /health/live: " << live_asked << " asked, " << live_failed
            << " not 200, slowest " << live_max_ms << " ms\n"
            << "- integrity_check: " << integrity << "\n";
  return reads.errors == 0 && job.value("state", "") == "completed" &&
         trains == o.iters / 5 && complete_streams == o.streams &&
         live_failed == 0 && integrity == "ok";
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Load benchmark of mlxt serve on loopback"};
  SoakOptions o{.mlxt = "build/mlxt",
                .dataset = "datasets/quickstart",
                .rate = 200,
                .seconds = 10,
                .port = 18500,
                .streams = 100,
                .iters = 1000};
  bool soak_mode = false;
  app.add_option("--mlxt", o.mlxt, "The mlxt binary");
  app.add_option("--rate", o.rate, "Requests per second");
  app.add_option("--seconds", o.seconds, "Duration of each phase");
  app.add_option("--port", o.port, "Framework port (platform: port + 1)");
  app.add_flag("--soak", soak_mode, "Status reads while a job trains");
  app.add_option("--streams", o.streams, "Soak: event stream clients");
  app.add_option("--iters", o.iters, "Soak: the job's steps");
  app.add_option("--dataset", o.dataset, "Soak: the dataset folder to train");
  CLI11_PARSE(app, argc, argv);

  const fs::path dir = fs::temp_directory_path() /
                       ("mlxt-load-bench-" + std::to_string(getpid()));
  if (soak_mode) {
    const bool ok = soak(o, dir);
    fs::remove_all(dir);
    return ok ? 0 : 1;
  }
  fs::create_directories(dir / "models/m");
  fs::create_directories(dir / "datasets/d");
  const pid_t pid = start_server(o.mlxt, dir, o.port, 0);
  mlxt::server::HttpClient c("127.0.0.1", o.port);
  const json config = {
      {"model", "models/m"}, {"data", "datasets/d"}, {"iters", 100}};
  const std::string id = c.post("/v1/jobs", config).json().value("id", "");
  Stats get = run(o.rate, o.seconds, 1, [&](size_t) {
    return c.get("/v1/jobs/" + id).status;
  });
  Stats post = run(o.rate, o.seconds, 1, [&](size_t) {
    return c.post("/v1/jobs", config).status;
  });
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  fs::remove_all(dir);
  print_header();
  const long n = static_cast<long>(o.rate * o.seconds);
  print_row("GET /v1/jobs/{id}", o.rate, n, get);
  print_row("POST /v1/jobs", o.rate, n, post);
  return get.errors + post.errors == 0 ? 0 : 1;
}
