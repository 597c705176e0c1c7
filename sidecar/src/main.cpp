// convo-sidecar: webhooks in, committed to convo.inbox before they are acknowledged.
//
// Configured by environment variables only (config.hpp). Exit status: 0 after SIGTERM/SIGINT
// once requests in progress and the current ingest batch are done; 2 on a configuration error;
// 1 when the listener cannot start or on a second signal during the stop.
#include "config.hpp"
#include "db/database.hpp"
#include "health.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "log.hpp"
#include "metrics/sidecar_metrics.hpp"
#include "version.hpp"
#include "webhooks/intake.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace convo::sidecar;
namespace asio = boost::asio;

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char** entry = environ; *entry; ++entry) {
        std::string_view text(*entry);
        auto eq = text.find('=');
        if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
    }
    return env;
}

// Before the logger exists (its level is part of the configuration): one JSON line by hand.
void report_config_error(const std::string& message) {
    nlohmann::json line = {{"level", "error"}, {"event", "configuration_error"}, {"error", message}};
    std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace

int main() {
    Config config;
    try {
        config = load_config(process_environment());
        log::init(config.log_level);
    } catch (const std::exception& e) {
        report_config_error(e.what());
        return 2;
    }

    asio::io_context io(config.threads);
    db::Database database(io, config.db);
    metrics::SidecarMetrics metrics(&database.counters());

    auto intake = std::make_shared<webhooks::Intake>();
    intake->put = [&database](db::InboxItem item, std::function<void(db::PutOutcome)> done) {
        database.put(std::move(item), std::move(done));
    };
    intake->accounts = config.accounts;
    HealthFn health = [&database](std::function<void(db::InboxHealth)> done) { database.health(std::move(done)); };

    http::Router router;
    webhooks::add_whatsapp_routes(router, intake);
    webhooks::add_twilio_routes(router, intake);
    webhooks::add_vapi_routes(router, intake);
    add_health_routes(router, health, config.ready_max_lag);
    add_metrics_route(router, health, metrics);

    http::Server server(io, router, metrics,
                        http::Limits{config.body_limit, config.header_timeout, config.idle_timeout});
    asio::ip::tcp::endpoint endpoint;
    try {
        endpoint = server.start(config.listen_address, config.listen_port);
    } catch (const std::exception& e) {
        log::error("listen_failed", {{"address", config.listen_address}, {"port", config.listen_port},
                                     {"error", e.what()}});
        return 1;
    }
    database.start();

    nlohmann::json account_names = nlohmann::json::array();
    for (const auto& account : config.accounts) account_names.push_back(account.name);
    log::info("listening", {{"address", endpoint.address().to_string()}, {"port", endpoint.port()},
                            {"threads", config.threads}, {"workers", config.db.workers},
                            {"accounts", account_names}, {"version", version}});

    // SIGTERM/SIGINT: stop accepting, finish requests in progress, then the database layer
    // (puts in flight, the current ingest batch). A second signal stops at once.
    std::atomic<int> exit_status{0};
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(const boost::system::error_code&, int)> on_signal;
    bool stopping = false;
    on_signal = [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (stopping) {
            log::warn("stopping_now", {{"signal", signal}});
            exit_status = 1;
            io.stop();
            return;
        }
        stopping = true;
        log::info("stopping", {{"signal", signal}});
        signals.async_wait(on_signal);
        server.stop([&] {
            database.stop([&] {
                log::info("stopped");
                signals.cancel();
                io.stop();
            });
        });
    };
    signals.async_wait(on_signal);

    std::vector<std::thread> threads;
    for (int i = 1; i < config.threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& thread : threads) thread.join();
    return exit_status;
}
