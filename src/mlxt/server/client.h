// A small HTTP client for the server's APIs: what `mlxt jobs` and the
// end-to-end tests use to talk to a running `mlxt serve`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace mlxt::server {

struct ClientResponse {
  int status = 0; // 0 when no response came (see body for why)
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers; // lower-case names

  //! The body as JSON (null when it is not JSON).
  nlohmann::json json() const;
};

class HttpClient {
public:
  //! `token`, when set, is sent as "Authorization: Bearer <token>".
  HttpClient(const std::string& host, int port, const std::string& token = "");
  ~HttpClient();

  //! Sets a header sent with every request (e.g. "Host").
  void set_header(const std::string& name, const std::string& value);

  ClientResponse get(const std::string& path);
  ClientResponse post(const std::string& path,
                      const std::string& body,
                      const std::string& content_type = "application/json");
  ClientResponse post(const std::string& path, const nlohmann::json& body);
  ClientResponse del(const std::string& path);
  //! GET `path`, handing the body to `on_chunk` as it arrives; stops when
  //! on_chunk returns false or the server ends the body.
  ClientResponse
  stream(const std::string& path,
         const std::function<bool(const std::string&)>& on_chunk);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

//! Reads server-sent events from stream chunks: feed() each chunk; `on_event`
//! gets (event name, data) per complete event and returns false to stop.
class SseParser {
public:
  explicit SseParser(
      std::function<bool(const std::string&, const std::string&)> on_event)
      : on_event_(std::move(on_event)) {}
  //! False once on_event asked to stop.
  bool feed(const std::string& chunk);

private:
  std::function<bool(const std::string&, const std::string&)> on_event_;
  std::string buffer_;
};

} // namespace mlxt::server
