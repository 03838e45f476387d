// The HTTP layer: a route table, requests and responses as plain structs,
// and a server that applies the security checks every route shares (token,
// Host and Origin allow-list, JSON content type on writes, body size limit
// whatever the framing, JSON nesting limit, an exclusive port, connection
// limits that streams and slow clients cannot exhaust) and maps errors to
// `{"error": {"code", "message", "details"}}` bodies. The only file that
// includes cpp-httplib.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::server {

struct Request {
  std::string method;                        // "GET", "POST", "DELETE"
  std::string path;                          // decoded, without the query
  std::map<std::string, std::string> params; // from {name} in the pattern
  std::multimap<std::string, std::string> query;
  std::string body;

  //! The body parsed as a JSON object; HttpError 400 when it is not one.
  nlohmann::json json() const;
  //! Query value `name`, or `fallback`.
  std::string query_value(const std::string& name,
                          const std::string& fallback = "") const;
  //! Query value `name` as an integer in [min, max]; HttpError 400 otherwise.
  int query_int(const std::string& name, int fallback, int min, int max) const;
};

//! Writes one chunk of a streamed body; false when the client has gone. An
//! empty chunk writes nothing and only asks whether the client is there.
using StreamWriter = std::function<bool(const std::string& chunk)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  //! Extra response headers (the dashboard's Content-Security-Policy).
  std::map<std::string, std::string> headers;
  //! When set, the body is streamed: called once, it writes chunks until
  //! it returns (server-sent events).
  std::function<void(const StreamWriter& write)> stream;

  static Response json(const nlohmann::json& body, int status = 200);
};

//! An error with its HTTP status, thrown by handlers for problems that only
//! exist at the HTTP edge (unknown route, bad query, forbidden path).
struct HttpError {
  int status;
  std::string code;
  std::string message;
  nlohmann::json details = nullptr;
};

using Handler = std::function<Response(const Request&)>;

struct Route {
  std::string method;  // GET | POST | DELETE
  std::string pattern; // "/v1/jobs/{id}"; a last "{path*}" takes the rest
  std::string summary; // one line, for /openapi.json
  Handler handler;
  //! A route that reveals no data (the dashboard page, health probes):
  //! served without the API token, so a browser can load the page and then
  //! ask for the token, and a probe needs no secret.
  bool public_route = false;
  //! POST: the body's JSON schema in /openapi.json; null: any object.
  nlohmann::json request_schema = nullptr;
};

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 0;      // 0: any free port
  std::string token; // when set, every route requires it
  // Host header names accepted besides the loopback names and `host`.
  std::vector<std::string> allowed_hosts;
  //! The decoded body's limit, with Content-Length, chunked or no framing.
  size_t max_body_bytes = 1 << 20;
  //! Arrays and objects nested deeper in a body are refused before parsing.
  size_t max_json_depth = 64;
  //! Connections one client address holds at once, streams included; past
  //! it a connection is answered 503 and closed.
  size_t max_connections_per_client = 128;
  //! Seconds a request's line and headers may take to arrive, counted from
  //! the connection's accept (first request) or the request's first byte.
  int header_timeout_seconds = 5;
  //! Connections served at once (a thread each); past it, new ones wait.
  size_t max_connections = 1024;
  //! Told about every response: method, route pattern ("" when none
  //! matched), status and seconds spent.
  std::function<void(const std::string&, const std::string&, int, double)>
      on_response;
};

//! The JSON error body and status for the exception being handled (call in
//! a catch block): mlxt::Error codes map to 4xx/5xx, HttpError keeps its.
Response error_response();

class HttpServer {
public:
  HttpServer(HttpOptions options, std::vector<Route> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  //! Binds the listening socket; returns the port. Error(io) when the
  //! address cannot be bound, also when another process listens on the
  //! port (no SO_REUSEPORT: two servers never share one).
  int bind();
  //! Serves until stop() (call after bind, on its own thread).
  void listen();
  void stop();
  const std::vector<Route>& routes() const { return routes_; }

  //! Handles one request through the route table and the checks (also used
  //! by listen's callbacks). `headers` have lower-case names.
  Response dispatch(Request request,
                    const std::multimap<std::string, std::string>& headers);

private:
  //! True for a host name (of a Host or Origin header) this server accepts.
  bool answers_to(const std::string& host) const;
  Response route(Request& request,
                 const std::multimap<std::string, std::string>& headers,
                 std::string& pattern);

  HttpOptions options_;
  std::vector<Route> routes_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace mlxt::server
