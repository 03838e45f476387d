#include "support/serve_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mlxt::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  for (size_t at = 0; at < data.size();) {
    ssize_t n = send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    at += static_cast<size_t>(n);
  }
  return true;
}

bool read_available(int fd, std::string& into) {
  for (;;) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 0) <= 0) {
      return true;
    }
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return false;
    }
    into.append(buffer, static_cast<size_t>(n));
  }
}

bool alive(pid_t pid) {
  if (kill(pid, 0) != 0) {
    return false;
  }
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ||
         stat[paren + 2] != 'Z';
}

bool eventually(const std::function<bool()>& ready, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (ready()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

Server::Server(const fs::path& data_dir, std::vector<std::string> extra)
    : data_dir_(data_dir), extra_(std::move(extra)) {}

Server::~Server() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string Server::log() const {
  return read_file(data_dir_.parent_path() / "server.log");
}

void Server::start() {
  framework_port_ = free_port();
  platform_port_ = free_port();
  std::vector<std::string> args = {mlxt_binary(),
                                   "serve",
                                   "--data-dir",
                                   data_dir_.string(),
                                   "--framework-port",
                                   std::to_string(framework_port_),
                                   "--platform-port",
                                   std::to_string(platform_port_)};
  args.insert(args.end(), extra_.begin(), extra_.end());
  const std::string log = (data_dir_.parent_path() / "server.log").string();
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ASSERT_TRUE(eventually(
      [&] {
        return framework().get("/health/live").status != 0 &&
               platform().get("/health/live").status != 0;
      },
      30))
      << read_file(log);
}

int Server::stop(int signal) {
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

server::HttpClient Server::framework(const std::string& token) const {
  return server::HttpClient(
      "127.0.0.1", framework_port_, token.empty() ? token_ : token);
}

server::HttpClient Server::platform(const std::string& token) const {
  return server::HttpClient(
      "127.0.0.1", platform_port_, token.empty() ? token_ : token);
}

} // namespace mlxt::testing
