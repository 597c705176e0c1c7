// The HTTP message types handlers see, and how they answer.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace convo::sidecar::http {

namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// Answers a request: call exactly once, from any thread. The session fills in version,
// keep-alive and Content-Length.
using Respond = std::function<void(Response)>;

// A response with a body and its Content-Type.
Response make_response(bhttp::status status, std::string_view content_type, std::string body);

// The path of a request target (before any '?') and its query (after it, may be empty).
std::string_view target_path(std::string_view target);
std::string_view target_query(std::string_view target);

}  // namespace convo::sidecar::http
