// The sidecar's metrics (see sidecar_metrics.hpp).
#include "metrics/sidecar_metrics.hpp"

#include <charconv>

namespace convo::sidecar::metrics {
namespace {

// Latency buckets in seconds: the ack path is expected in the low milliseconds.
const std::vector<double> duration_bounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,   1,     2.5,  5,     10};

void counter(std::string& out, const char* name, const char* help, std::uint64_t value) {
    write_header(out, name, help, "counter");
    write_sample(out, name, {}, {}, std::to_string(value));
}

void gauge(std::string& out, const char* name, const char* help, const std::string& value) {
    write_header(out, name, help, "gauge");
    write_sample(out, name, {}, {}, value);
}

void render_database(std::string& out, const db::Counters& c) {
    constexpr auto relaxed = std::memory_order_relaxed;
    const std::vector<std::string> result = {"result"};
    write_header(out, "convo_sidecar_inbox_puts_total", "Webhook bodies put into the inbox, by outcome", "counter");
    write_sample(out, "convo_sidecar_inbox_puts_total", result, {"committed"}, std::to_string(c.puts_committed.load(relaxed)));
    write_sample(out, "convo_sidecar_inbox_puts_total", result, {"failed"}, std::to_string(c.puts_failed.load(relaxed)));
    counter(out, "convo_sidecar_commit_groups_total", "Transactions that committed a group of puts",
            c.commit_groups.load(relaxed));
    write_header(out, "convo_sidecar_ingest_total", "Inbox items processed by the ingest workers, by outcome", "counter");
    write_sample(out, "convo_sidecar_ingest_total", result, {"done"}, std::to_string(c.ingest_done.load(relaxed)));
    write_sample(out, "convo_sidecar_ingest_total", result, {"retry"}, std::to_string(c.ingest_retry.load(relaxed)));
    write_sample(out, "convo_sidecar_ingest_total", result, {"dead"}, std::to_string(c.ingest_dead.load(relaxed)));
    counter(out, "convo_sidecar_ingest_errors_total", "Ingest calls that failed", c.worker_errors.load(relaxed));
    counter(out, "convo_sidecar_db_reconnects_total", "Database reconnections", c.reconnects.load(relaxed));
    write_header(out, "convo_sidecar_pool_connections", "Database pool connections, by state", "gauge");
    const std::vector<std::string> state = {"state"};
    write_sample(out, "convo_sidecar_pool_connections", state, {"configured"}, std::to_string(c.pool_size.load(relaxed)));
    write_sample(out, "convo_sidecar_pool_connections", state, {"connected"}, std::to_string(c.pool_connected.load(relaxed)));
    write_sample(out, "convo_sidecar_pool_connections", state, {"busy"}, std::to_string(c.pool_busy.load(relaxed)));
    gauge(out, "convo_sidecar_puts_waiting", "Puts queued for the next commit group",
          std::to_string(c.puts_waiting.load(relaxed)));
}

}  // namespace

SidecarMetrics::SidecarMetrics(const db::Counters* counters)
    : requests_(registry_.counter("convo_sidecar_http_requests_total", "HTTP requests answered, by route and status",
                                  {"route", "status"})),
      durations_(registry_.histogram("convo_sidecar_http_request_duration_seconds",
                                     "Time from a complete request to its response being written, by route",
                                     {"route"}, duration_bounds)),
      counters_(counters) {}

void SidecarMetrics::request(std::string_view route, unsigned status, double seconds) {
    char digits[8];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
    requests_.with({route, std::string_view(digits, static_cast<std::size_t>(end - digits))}).inc();
    durations_.with({route}).observe(seconds);
}

std::string SidecarMetrics::render(const db::InboxHealth* inbox) const {
    std::string out = registry_.render();
    if (counters_) render_database(out, *counters_);
    if (inbox && inbox->reachable) {
        gauge(out, "convo_sidecar_inbox_pending", "Inbox items pending or processing", std::to_string(inbox->pending));
        gauge(out, "convo_sidecar_inbox_dead", "Inbox items dead", std::to_string(inbox->dead));
        gauge(out, "convo_sidecar_inbox_oldest_pending_seconds", "Age of the oldest pending inbox item",
              format_value(inbox->oldest_pending_seconds));
    }
    return out;
}

}  // namespace convo::sidecar::metrics
