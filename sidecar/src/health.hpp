// /health, /health/live, /health/ready and /metrics.
#pragma once

#include "db/database.hpp"
#include "http/router.hpp"
#include "metrics/sidecar_metrics.hpp"

#include <chrono>
#include <functional>

namespace convo::sidecar {

// Asks the database for the inbox's state (main binds it to db::Database::health).
using HealthFn = std::function<void(std::function<void(db::InboxHealth)>)>;

void add_health_routes(http::Router& router, HealthFn health, std::chrono::seconds ready_max_lag);

// /metrics: the inbox gauges come from `health` at scrape time.
void add_metrics_route(http::Router& router, HealthFn health, const metrics::SidecarMetrics& metrics);

}  // namespace convo::sidecar
