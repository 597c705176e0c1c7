// What every connection of one server shares: the router, the metrics, the limits, and the
// list of live sessions the server needs for a graceful stop.
#pragma once

#include "http/router.hpp"
#include "metrics/sidecar_metrics.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace convo::sidecar::http {

class Session;

struct Limits {
    std::size_t body_limit = 1 << 20;
    std::chrono::milliseconds header_timeout{10000};  // to receive a whole request once it began
    std::chrono::milliseconds idle_timeout{60000};    // between keep-alive requests
};

struct SessionShared {
    SessionShared(const Router& router, metrics::SidecarMetrics& metrics, Limits limits,
                  boost::asio::any_io_executor executor)
        : router(router), metrics(metrics), limits(limits), executor(std::move(executor)) {}

    const Router& router;
    metrics::SidecarMetrics& metrics;
    const Limits limits;
    boost::asio::any_io_executor executor;  // where on_idle runs

    std::mutex mutex;
    std::unordered_map<Session*, std::weak_ptr<Session>> live;
    bool stopping = false;
    std::function<void()> on_idle;  // once stopping and no session is left
};

}  // namespace convo::sidecar::http
