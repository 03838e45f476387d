// The one Host check: which names a request's Host header and --host may use
// to mean "this machine's loopback interface". Names are parsed, never
// matched by prefix, so "127.evil.example" or "127.0.0.1.nip.io" (DNS names
// an attacker controls) are not loopback.
#pragma once

#include <string>

namespace mlxt::server {

//! The host of a Host header value, lower-cased, without its port:
//! "[::1]:8500" -> "::1", "LocalHost:8500" -> "localhost". "" when the value
//! is malformed (an unclosed bracket, text after the bracket that is not a
//! port).
std::string host_name(const std::string& header_value);

//! True when `host` is an IPv4 literal in 127.0.0.0/8, the IPv6 literal ::1
//! or "localhost" (any case); never for a DNS name that merely starts with
//! "127.".
bool is_loopback_host(const std::string& host);

} // namespace mlxt::server
