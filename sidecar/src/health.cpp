// Health and metrics endpoints (see health.hpp).
#include "health.hpp"

#include "version.hpp"

#include <nlohmann/json.hpp>

namespace convo::sidecar {
namespace {

using bhttp = http::bhttp::status;

http::Response json_response(http::bhttp::status status, const nlohmann::json& body) {
    return http::make_response(status, "application/json",
                               body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json inbox_json(const db::InboxHealth& inbox) {
    return {{"pending", inbox.pending}, {"dead", inbox.dead}, {"oldest_pending_seconds", inbox.oldest_pending_seconds}};
}

}  // namespace

void add_health_routes(http::Router& router, HealthFn health, std::chrono::seconds ready_max_lag) {
    using http::bhttp::verb;
    router.add(verb::get, "/health", [health](http::Request&, const http::RouteMatch&, http::Respond respond) {
        health([respond = std::move(respond)](db::InboxHealth inbox) {
            nlohmann::json database = {{"reachable", inbox.reachable}};
            if (!inbox.reachable) database["error"] = inbox.error;
            // Still 200 when the database is down: the process itself is fine.
            respond(json_response(bhttp::ok, {{"status", inbox.reachable ? "ok" : "degraded"},
                                              {"version", version},
                                              {"database", database},
                                              {"inbox", inbox_json(inbox)}}));
        });
    });
    router.add(verb::get, "/health/live", [](http::Request&, const http::RouteMatch&, http::Respond respond) {
        respond(json_response(bhttp::ok, {{"status", "live"}}));
    });
    router.add(verb::get, "/health/ready",
               [health, ready_max_lag](http::Request&, const http::RouteMatch&, http::Respond respond) {
                   health([respond = std::move(respond), ready_max_lag](db::InboxHealth inbox) {
                       const double limit = static_cast<double>(ready_max_lag.count());
                       if (!inbox.reachable) {
                           respond(json_response(bhttp::service_unavailable,
                                                 {{"status", "not ready"}, {"reason", "database unreachable"},
                                                  {"error", inbox.error}}));
                       } else if (inbox.oldest_pending_seconds > limit) {
                           respond(json_response(bhttp::service_unavailable,
                                                 {{"status", "not ready"},
                                                  {"reason", "inbox lag over CONVO_SIDECAR_READY_MAX_LAG_S"},
                                                  {"max_lag_seconds", limit},
                                                  {"inbox", inbox_json(inbox)}}));
                       } else {
                           respond(json_response(bhttp::ok, {{"status", "ready"}, {"inbox", inbox_json(inbox)}}));
                       }
                   });
               });
}

void add_metrics_route(http::Router& router, HealthFn health, const metrics::SidecarMetrics& metrics) {
    router.add(http::bhttp::verb::get, "/metrics",
               [health, &metrics](http::Request&, const http::RouteMatch&, http::Respond respond) {
                   health([respond = std::move(respond), &metrics](db::InboxHealth inbox) {
                       respond(http::make_response(bhttp::ok, "text/plain; version=0.0.4; charset=utf-8",
                                                   metrics.render(&inbox)));
                   });
               });
}

}  // namespace convo::sidecar
