#include "mlxt/server/http.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "mlxt/core/ascii.h"
#include "mlxt/core/error.h"
#include "mlxt/server/connections.h"
#include "mlxt/server/host.h"
#include "mlxt/server/json_depth.h"

namespace mlxt::server {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Matches `path` against `pattern`, filling `params`.
bool match(const std::string& pattern,
           const std::string& path,
           std::map<std::string, std::string>& params) {
  const auto want = split_path(pattern);
  const auto got = split_path(path);
  params.clear();
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string& w = want[i];
    const bool capture = w.size() > 2 && w.front() == '{' && w.back() == '}';
    if (capture && w[w.size() - 2] == '*') {
      if (i >= got.size()) {
        return false;
      }
      std::string rest;
      for (size_t j = i; j < got.size(); ++j) {
        rest += (j == i ? "" : "/") + got[j];
      }
      params[w.substr(1, w.size() - 3)] = rest;
      return !rest.empty();
    }
    if (i >= got.size()) {
      return false;
    }
    if (capture) {
      if (got[i].empty()) {
        return false;
      }
      params[w.substr(1, w.size() - 2)] = got[i];
    } else if (w != got[i]) {
      return false;
    }
  }
  return want.size() == got.size();
}

int status_for(ErrorCode code) {
  switch (code) {
  case ErrorCode::invalid_config:
  case ErrorCode::invalid_data:
  case ErrorCode::invalid_model:
  case ErrorCode::unsupported:
  case ErrorCode::invalid_checkpoint:
    return 400;
  case ErrorCode::not_found:
    return 404;
  case ErrorCode::conflict:
    return 409;
  case ErrorCode::io:
  case ErrorCode::nonfinite:
  case ErrorCode::internal:
    return 500;
  }
  return 500;
}

Response error_body(int status,
                    const std::string& code,
                    const std::string& message,
                    nlohmann::json details) {
  return Response::json(
      {{"error", {{"code", code}, {"message", message}, {"details", details}}}},
      status);
}

// Constant-time over the token's length: the check must not leak a prefix.
bool same_secret(const std::string& given, const std::string& token) {
  if (given.size() != token.size() || token.empty()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

std::string header(const std::multimap<std::string, std::string>& headers,
                   const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

Response payload_too_large() {
  return error_body(413,
                    "payload_too_large",
                    "the request body is larger than this server accepts "
                    "(--max-body-bytes)",
                    nullptr);
}

using Clock = std::chrono::steady_clock;

// "ip", port of a socket's peer (`peer`) or own end.
void socket_address(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  ip.clear();
  port = 0;
  if ((peer ? getpeername(fd, a, &len) : getsockname(fd, a, &len)) != 0) {
    return;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  }
  ip = text;
}

// One accepted connection. httplib's own socket stream (not in Debian's
// header) grants every read its timeout anew, so a client sending a byte
// every few seconds held a worker forever; reads here also end at the
// request's header deadline, and when the listener stops.
class ConnectionStream : public httplib::Stream {
public:
  ConnectionStream(int fd, const std::atomic<socket_t>& listener)
      : fd_(fd), listener_(listener) {}
  using httplib::Stream::write; // write(std::string), beside the override

  void set_deadline(Clock::time_point t) { deadline_ = t; }
  void clear_deadline() { deadline_ = Clock::time_point::max(); }

  // True once the next request's first byte is here, before `until`.
  bool wait_for_request(Clock::time_point until) {
    return begin_ < end_ || wait_readable(until);
  }

  bool is_readable() const override {
    return begin_ < end_ || wait_readable(read_until());
  }

  // A peer that has closed its end is gone: streams notice it before they
  // have anything to write.
  bool is_writable() const override {
    pollfd p{.fd = fd_, .events = POLLOUT | POLLRDHUP, .revents = 0};
    return poll(&p, 1, kIoTimeoutMs) > 0 && (p.revents & POLLOUT) &&
           !(p.revents & (POLLRDHUP | POLLHUP | POLLERR));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (!wait_readable(read_until())) {
        return -1;
      }
      const ssize_t n = recv(fd_, buffer_, sizeof buffer_, 0);
      if (n <= 0) {
        return n;
      }
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    pollfd p{.fd = fd_, .events = POLLOUT, .revents = 0};
    if (poll(&p, 1, kIoTimeoutMs) <= 0) {
      return -1;
    }
    return send(fd_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    socket_address(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    socket_address(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

private:
  static constexpr int kIoTimeoutMs = 5000; // httplib's read/write default

  Clock::time_point read_until() const {
    return std::min(deadline_,
                    Clock::now() + std::chrono::milliseconds(kIoTimeoutMs));
  }

  // Polls in short slices so that a stopped listener ends the wait.
  bool wait_readable(Clock::time_point until) const {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - Clock::now());
      if (left.count() <= 0 || listener_ == INVALID_SOCKET) {
        return false;
      }
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      const int ready =
          poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 100)));
      if (ready != 0) {
        return ready > 0;
      }
    }
  }

  const int fd_;
  const std::atomic<socket_t>& listener_;
  Clock::time_point deadline_ = Clock::time_point::max();
  char buffer_[4096];
  size_t begin_ = 0;
  size_t end_ = 0;
};

// httplib's task queue hook, served by a thread per connection.
class ConnectionQueue : public httplib::TaskQueue {
public:
  explicit ConnectionQueue(size_t max_threads) : threads_(max_threads) {}
  void enqueue(std::function<void()> fn) override {
    threads_.run(std::move(fn));
  }
  void shutdown() override { threads_.wait_idle(); }

private:
  TaskThreads threads_;
};

// httplib's server with its connection loop replaced (the virtual it offers
// for TLS): a thread per connection, so streams cannot starve short
// requests; a header deadline, so slow senders are dropped; and a cap per
// client address. Requests are still parsed and answered by httplib.
class Listener : public httplib::Server {
public:
  explicit Listener(const HttpOptions& o)
      : slots_(o.max_connections_per_client),
        header_timeout_(o.header_timeout_seconds) {
    new_task_queue = [n = o.max_connections] { return new ConnectionQueue(n); };
  }

  // httplib listens with a backlog of 5: a burst of connections (a hundred
  // event streams reconnecting) overflowed it, and each dropped SYN cost
  // its client a one-second retransmit. Listening again resizes it.
  void widen_backlog() { ::listen(svr_sock_, SOMAXCONN); }

private:
  bool process_and_close_socket(socket_t sock) override {
    ConnectionStream stream(sock, svr_sock_);
    std::string client;
    int port = 0;
    stream.get_remote_ip_and_port(client, port);
    if (slots_.acquire(client)) {
      serve(stream);
      slots_.release(client);
    } else {
      refuse(stream);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  // Keep-alive requests on one connection, as httplib's loop serves them.
  void serve(ConnectionStream& stream) {
    auto until = Clock::now() + header_timeout_;
    stream.set_deadline(until);
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (!stream.wait_for_request(until)) {
        return;
      }
      if (left != keep_alive_max_count_) {
        stream.set_deadline(Clock::now() + header_timeout_);
      }
      bool closed = false;
      // Called once the headers are in: the body and the answer are not
      // bound by the header deadline.
      auto headers_read = [&stream](httplib::Request&) {
        stream.clear_deadline();
      };
      if (!process_request(stream, left == 1, closed, headers_read) || closed) {
        return;
      }
      until = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    }
  }

  void refuse(ConnectionStream& stream) {
    const std::string body =
        error_body(503,
                   "too_many_connections",
                   "this client already holds " +
                       std::to_string(slots_.per_client()) +
                       " connections to this server, the most it serves at "
                       "once (--max_connections_per_client); close one and "
                       "retry",
                   {{"max_connections_per_client", slots_.per_client()}})
            .body;
    stream.write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                 "application/json\r\nContent-Length: " +
                 std::to_string(body.size()) +
                 "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body);
    // Closing with the request unread would reset the connection, and the
    // client could lose the answer: read what it sends for a moment first.
    ::shutdown(stream.socket(), SHUT_WR);
    stream.set_deadline(Clock::now() + std::chrono::milliseconds(200));
    char sink[4096];
    while (stream.read(sink, sizeof sink) > 0) {
    }
  }

  ClientSlots slots_;
  const std::chrono::seconds header_timeout_;
};

} // namespace

nlohmann::json Request::json() const {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    throw HttpError{400, "malformed_json", "the request body is not JSON"};
  }
  if (!parsed.is_object()) {
    throw HttpError{
        400, "malformed_json", "the request body must be a JSON object"};
  }
  return parsed;
}

std::string Request::query_value(const std::string& name,
                                 const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

int Request::query_int(const std::string& name,
                       int fallback,
                       int min,
                       int max) const {
  auto it = query.find(name);
  if (it == query.end()) {
    return fallback;
  }
  try {
    size_t used = 0;
    long v = std::stol(it->second, &used);
    if (used == it->second.size() && v >= min && v <= max) {
      return static_cast<int>(v);
    }
  } catch (const std::exception&) {
  }
  throw HttpError{400,
                  "invalid_query",
                  "query parameter \"" + name + "\" must be an integer from " +
                      std::to_string(min) + " to " + std::to_string(max) +
                      ", received \"" + it->second + "\"",
                  {{"key", name}}};
}

Response Response::json(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

Response error_response() {
  try {
    throw;
  } catch (const HttpError& e) {
    return error_body(e.status, e.code, e.message, e.details);
  } catch (const Error& e) {
    nlohmann::json details = nlohmann::json::object();
    const auto& c = e.context();
    if (!c.file.empty()) {
      details["file"] = c.file;
    }
    if (c.line > 0) {
      details["line"] = c.line;
    }
    if (!c.key.empty()) {
      details["key"] = c.key;
    }
    // Config validation lists one problem per line: each is a detail.
    nlohmann::json problems = nlohmann::json::array();
    std::string message = e.what();
    for (size_t start = 0; start < message.size();) {
      size_t nl = message.find('\n', start);
      if (nl == std::string::npos) {
        nl = message.size();
      }
      if (nl > start) {
        problems.push_back(message.substr(start, nl - start));
      }
      start = nl + 1;
    }
    details["problems"] = problems;
    return error_body(
        status_for(e.code()), error_code_name(e.code()), e.what(), details);
  } catch (const nlohmann::json::exception& e) {
    // A route read a value without checking its type first: the library's
    // "[json.exception.type_error.302] " tag means nothing to a client.
    std::string what = e.what();
    if (what.starts_with("[json.exception.")) {
      what = what.substr(what.find(']') + 1);
      what.erase(0, what.find_first_not_of(' '));
    }
    return error_body(400,
                      "invalid_request",
                      "the request body holds an unexpected value: " + what,
                      nullptr);
  } catch (const std::exception& e) {
    return error_body(500, "internal", e.what(), nullptr);
  }
}

struct HttpServer::Impl {
  explicit Impl(const HttpOptions& options) : server(options) {}
  Listener server;
  int port = 0;
};

HttpServer::HttpServer(HttpOptions options, std::vector<Route> routes)
    : options_(std::move(options)), routes_(std::move(routes)),
      impl_(std::make_unique<Impl>(options_)) {
  auto& s = impl_->server;
  s.set_payload_max_length(options_.max_body_bytes);
  // httplib's default adds SO_REUSEPORT, with which a second server binds
  // the same port and the kernel splits requests between the two; plain
  // SO_REUSEADDR only allows rebinding over connections in TIME_WAIT.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto answer = [this](const httplib::Request& req,
                       std::string body,
                       httplib::Response& res) {
    Request r;
    r.method = req.method == "HEAD" ? "GET" : req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) {
      r.query.emplace(k, v);
    }
    r.body = std::move(body);
    std::multimap<std::string, std::string> headers;
    for (const auto& [k, v] : req.headers) {
      headers.emplace(ascii_lower(k), v);
    }
    Response out = dispatch(std::move(r), headers);
    res.status = out.status;
    for (const auto& [name, value] : out.headers) {
      res.set_header(name.c_str(), value);
    }
    if (out.stream) {
      auto stream = std::move(out.stream);
      res.set_chunked_content_provider(
          out.content_type, [stream](size_t, httplib::DataSink& sink) {
            stream([&sink](const std::string& chunk) {
              // An empty write would end the chunked body: it is a probe.
              return sink.is_writable() &&
                     (chunk.empty() || sink.write(chunk.data(), chunk.size()));
            });
            sink.done();
            return true;
          });
    } else {
      res.set_content(out.body, out.content_type);
    }
  };
  auto handle = [answer](const httplib::Request& req, httplib::Response& res) {
    answer(req, req.body, res);
  };
  // httplib 0.11 checks its payload limit only against Content-Length: a
  // chunked body (or one without a length) would be read whole. Bodies are
  // read here instead, counting decoded bytes whatever the framing.
  auto handle_with_body = [this, answer](const httplib::Request& req,
                                         httplib::Response& res,
                                         const httplib::ContentReader& read) {
    // A request with neither Content-Length nor chunked framing has no body
    // (RFC 9112 6.3; `curl -X POST` sends such a stop): httplib would read
    // until the client gives up instead.
    if (!req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      answer(req, "", res);
      return;
    }
    std::string body;
    bool too_large = false;
    const bool complete = read([&](const char* data, size_t n) {
      too_large = too_large || n > options_.max_body_bytes - body.size();
      if (!too_large) {
        body.append(data, n);
      }
      return !too_large;
    });
    if (complete) {
      answer(req, std::move(body), res);
      return;
    }
    Response r = too_large || res.status == 413
                     ? payload_too_large()
                     : error_body(400,
                                  "bad_request",
                                  "the request body could not be read",
                                  nullptr);
    res.status = r.status;
    // The rest of the body is still on the socket: a provider that fails
    // after writing the answer makes httplib close the connection, instead
    // of parsing the leftover bytes as further requests.
    res.set_content_provider(
        r.body.size(),
        r.content_type,
        [text = r.body](size_t, size_t, httplib::DataSink& sink) {
          sink.write(text.data(), text.size());
          return false;
        });
  };
  for (const char* pattern : {".*"}) {
    s.Get(pattern, handle);
    s.Post(pattern, handle_with_body);
    s.Put(pattern, handle_with_body);
    s.Patch(pattern, handle_with_body);
    s.Delete(pattern, handle_with_body);
    s.Options(pattern, handle);
  }
  // Statuses httplib sets itself (413 for an oversized body, 400 for a
  // malformed request) get the same JSON error body as ours; answers made
  // here (a body or a provider) carry a Content-Type and are left alone.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (res.has_header("Content-Type")) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        Response r = res.status == 413 ? payload_too_large()
                                       : error_body(res.status,
                                                    "bad_request",
                                                    "the request is malformed",
                                                    nullptr);
        res.set_content(r.body, r.content_type);
        return httplib::Server::HandlerResponse::Handled;
      }));
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::bind() {
  auto& s = impl_->server;
  if (options_.port == 0) {
    impl_->port = s.bind_to_any_port(options_.host);
  } else {
    impl_->port =
        s.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (impl_->port < 0) {
    fail(ErrorCode::io,
         "cannot listen on " + options_.host + ":" +
             std::to_string(options_.port) +
             " (address in use, or not an address of this machine)");
  }
  s.widen_backlog();
  return impl_->port;
}

void HttpServer::listen() {
  impl_->server.listen_after_bind();
}

void HttpServer::stop() {
  impl_->server.stop();
}

Response
HttpServer::dispatch(Request request,
                     const std::multimap<std::string, std::string>& headers) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string pattern;
  Response response = route(request, headers, pattern);
  if (options_.on_response) {
    options_.on_response(
        request.method,
        pattern,
        response.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count());
  }
  return response;
}

bool HttpServer::answers_to(const std::string& host) const {
  const bool wildcard = options_.host == "0.0.0.0" || options_.host == "::";
  return is_loopback_host(host) || host == ascii_lower(options_.host) ||
         (wildcard && !options_.token.empty()) ||
         std::find(options_.allowed_hosts.begin(),
                   options_.allowed_hosts.end(),
                   host) != options_.allowed_hosts.end();
}

Response
HttpServer::route(Request& request,
                  const std::multimap<std::string, std::string>& headers,
                  std::string& pattern) {
  try {
    const Route* found = nullptr;
    for (const Route& r : routes_) {
      if (r.method == request.method &&
          match(r.pattern, request.path, request.params)) {
        found = &r;
        break;
      }
    }
    if (!options_.token.empty() && !(found && found->public_route)) {
      std::string given = header(headers, "authorization");
      // The scheme is case-insensitive (RFC 9110 11.1).
      if (ascii_lower(given.substr(0, 7)) == "bearer ") {
        given = given.substr(7);
      } else {
        given = header(headers, "x-api-token");
      }
      if (!same_secret(given, options_.token)) {
        throw HttpError{401,
                        "unauthorized",
                        "this server requires an API token: send "
                        "\"Authorization: Bearer <token>\""};
      }
    }
    // DNS rebinding: a browser page may reach a loopback server under a
    // foreign name; only names this server answers to are accepted.
    const std::string host = host_name(header(headers, "host"));
    if (!answers_to(host)) {
      throw HttpError{400,
                      "invalid_host",
                      "Host \"" + host +
                          "\" is not one this server answers "
                          "to (see --allow-host)"};
    }
    // Cross-site requests: a page elsewhere can POST without a body (stop,
    // resume) or as text/plain with no CORS preflight, but its browser
    // names the page's origin; only this server's own pages are accepted.
    if (auto origin = headers.find("origin"); origin != headers.end()) {
      const size_t scheme = origin->second.find("://");
      if (scheme == std::string::npos ||
          !answers_to(host_name(origin->second.substr(scheme + 3)))) {
        throw HttpError{403,
                        "forbidden_origin",
                        "Origin \"" + origin->second +
                            "\" is not a page of this server; requests "
                            "from other sites are refused (see --allow-host)"};
      }
    }
    if (request.method != "GET" && !request.body.empty()) {
      const std::string type = ascii_lower(header(headers, "content-type"));
      if (!type.starts_with("application/json")) {
        throw HttpError{415,
                        "unsupported_media_type",
                        "request bodies must be JSON (Content-Type: "
                        "application/json)"};
      }
    }
    // Deep nesting exhausts the stack in the JSON library's recursive
    // copies and conversions: one limit for every body, before any handler
    // parses it.
    const size_t max_depth = options_.max_json_depth;
    if (const JsonDepth d = json_depth(request.body, max_depth); d.too_deep) {
      throw HttpError{400,
                      "json_too_deep",
                      "the request body nests arrays and objects more than " +
                          std::to_string(max_depth) + " levels deep (level " +
                          std::to_string(d.depth) + " at byte " +
                          std::to_string(d.offset) + "); at most " +
                          std::to_string(max_depth) + " are accepted",
                      {{"max_depth", max_depth}, {"offset", d.offset}}};
    }
    bool path_known = false;
    for (const Route& route : routes_) {
      if (!match(route.pattern, request.path, request.params)) {
        continue;
      }
      path_known = true;
      if (route.method == request.method) {
        pattern = route.pattern;
        return route.handler(request);
      }
    }
    if (path_known) {
      throw HttpError{405,
                      "method_not_allowed",
                      request.method + " is not allowed on " + request.path};
    }
    throw HttpError{404, "not_found", "no route for " + request.path};
  } catch (...) {
    return error_response();
  }
}

} // namespace mlxt::server
