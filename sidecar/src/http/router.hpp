// Routes by exact path and method; unknown paths get 404, known paths with another method 405
// (with Allow). A route may take an account name as one more path segment:
// /webhook/whatsapp/<account>.
#pragma once

#include "http/message.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace convo::sidecar::http {

struct RouteMatch {
    std::string_view route;    // the route's path pattern, for metrics and logs ("other" if none)
    std::string_view account;  // the account segment, empty when not given
};

// A handler may move from the request (its body); headers stay readable until it responds.
using Handler = std::function<void(Request& request, const RouteMatch& match, Respond respond)>;

class Router {
public:
    // Registers `handler` for `method` on `path`; `accounts` allows the /<account> suffix.
    void add(bhttp::verb method, std::string path, Handler handler, bool accounts = false);

    // Runs the matching handler, or answers 404/405 itself. Returns the route label.
    std::string_view dispatch(Request& request, const Respond& respond) const;

    // The route label of a target ("other" when no route has its path).
    std::string_view label(std::string_view target) const;

private:
    struct Route {
        bhttp::verb method;
        std::string path;
        Handler handler;
        bool accounts;
    };
    // The routes whose path matches, and the account segment if any.
    std::vector<const Route*> match(std::string_view path, std::string_view& account) const;

    std::vector<Route> routes_;
};

}  // namespace convo::sidecar::http
