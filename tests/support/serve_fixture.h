// What the server end-to-end tests share: free loopback ports, polling with
// a deadline, raw sockets for what a well-behaved client never sends, and
// one real `mlxt serve` child process on free ports.
#pragma once

#include <sys/types.h>

#include <csignal>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "mlxt/server/client.h"

namespace mlxt::testing {

//! A TCP port on 127.0.0.1 that nothing listens on now.
int free_port();

//! A TCP connection to 127.0.0.1:port (a blocking socket), or -1.
int connect_loopback(int port);

//! Sends all of `data` on `fd`; false once the peer has gone.
bool send_all(int fd, const std::string& data);

//! Appends what has arrived on `fd` to `into` without waiting; false once
//! the peer has closed the connection (or reset it).
bool read_available(int fd, std::string& into);

//! True while `pid` runs (a zombie waiting for its reaper does not count).
bool alive(pid_t pid);

//! Polls `ready` every 50 ms until it holds or `seconds` pass.
bool eventually(const std::function<bool()>& ready, double seconds = 60);

//! One `mlxt serve --data-dir DIR` child on free ports, its output in
//! DIR/../server.log; SIGKILLed when destroyed if still running.
class Server {
public:
  Server(const std::filesystem::path& data_dir,
         std::vector<std::string> extra = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  //! Starts it and waits until both listeners answer (a test failure
  //! otherwise).
  void start();
  //! Sends `signal` and waits; returns the wait status.
  int stop(int signal = SIGTERM);

  server::HttpClient framework(const std::string& token = "") const;
  server::HttpClient platform(const std::string& token = "") const;
  void set_token(const std::string& token) { token_ = token; }
  int framework_port() const { return framework_port_; }
  int platform_port() const { return platform_port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;

private:
  std::filesystem::path data_dir_;
  std::vector<std::string> extra_;
  std::string token_;
  pid_t pid_ = -1;
  int framework_port_ = 0;
  int platform_port_ = 0;
};

} // namespace mlxt::testing
