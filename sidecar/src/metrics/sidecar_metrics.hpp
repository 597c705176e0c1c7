// The sidecar's metrics: HTTP requests counted and timed by route and status here; the
// database layer's counters and the inbox gauges read at scrape time.
#pragma once

#include "db/database.hpp"
#include "metrics/registry.hpp"

#include <string>
#include <string_view>

namespace convo::sidecar::metrics {

class SidecarMetrics {
public:
    // `counters` (the database layer's) may be null, e.g. in tests.
    explicit SidecarMetrics(const db::Counters* counters);

    // One finished request: `route` is the matched route's pattern ("other" when none matched).
    void request(std::string_view route, unsigned status, double seconds);

    // The text exposition; `inbox` (from Database::health) is left out when null or unreachable.
    std::string render(const db::InboxHealth* inbox) const;

private:
    Registry registry_;
    CounterFamily& requests_;
    HistogramFamily& durations_;
    const db::Counters* counters_;
};

}  // namespace convo::sidecar::metrics
