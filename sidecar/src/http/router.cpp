// Path and method routing (see router.hpp).
#include "http/router.hpp"

namespace convo::sidecar::http {
namespace {

constexpr std::string_view other = "other";

bool account_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

void Router::add(bhttp::verb method, std::string path, Handler handler, bool accounts) {
    routes_.push_back(Route{method, std::move(path), std::move(handler), accounts});
}

std::vector<const Router::Route*> Router::match(std::string_view path, std::string_view& account) const {
    std::vector<const Route*> found;
    for (const auto& route : routes_) {
        if (path == route.path) {
            found.push_back(&route);
        } else if (route.accounts && path.size() > route.path.size() + 1 &&
                   path.substr(0, route.path.size()) == route.path && path[route.path.size()] == '/' &&
                   account_name(path.substr(route.path.size() + 1))) {
            account = path.substr(route.path.size() + 1);
            found.push_back(&route);
        }
    }
    return found;
}

std::string_view Router::label(std::string_view target) const {
    std::string_view account;
    auto found = match(target_path(target), account);
    return found.empty() ? other : std::string_view(found.front()->path);
}

std::string_view Router::dispatch(Request& request, const Respond& respond) const {
    std::string_view account;
    auto found = match(target_path(request.target()), account);
    if (found.empty()) {
        respond(make_response(bhttp::status::not_found, "text/plain", "not found\n"));
        return other;
    }
    for (const Route* route : found) {
        // HEAD is not served: every route answers with a body that matters.
        if (route->method == request.method()) {
            route->handler(request, RouteMatch{route->path, account}, respond);
            return route->path;
        }
    }
    std::string allow;
    for (const Route* route : found) {
        if (!allow.empty()) allow += ", ";
        allow += std::string(bhttp::to_string(route->method));
    }
    auto response = make_response(bhttp::status::method_not_allowed, "text/plain", "method not allowed\n");
    response.set(bhttp::field::allow, allow);
    respond(std::move(response));
    return found.front()->path;
}

}  // namespace convo::sidecar::http
