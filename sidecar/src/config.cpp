// Configuration from the environment (see config.hpp for every variable and its default).
#include "config.hpp"

#include "config_secrets.hpp"
#include "config_source.hpp"

#include <boost/asio/ip/address.hpp>

#include <array>
#include <charconv>
#include <stdexcept>
#include <string_view>

namespace convo::sidecar {
namespace {

// An integer variable within [min, max]; unset keeps `fallback`. The message never holds the value.
long long read_integer(const ConfigSource& source, const std::string& name, long long fallback,
                       long long min, long long max) {
    auto text = source.get(name);
    if (!text) return fallback;
    long long value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size() || value < min || value > max) {
        throw std::invalid_argument(name + " must be an integer from " + std::to_string(min) +
                                    " to " + std::to_string(max));
    }
    return value;
}

// "host:port" or "[v6-address]:port"; the host must be a numeric address.
void read_listen(const ConfigSource& source, Config& config) {
    const std::string name = "CONVO_SIDECAR_LISTEN";
    auto text = source.get(name);
    if (!text) return;
    std::string_view listen = *text;
    auto colon = listen.rfind(':');
    const auto bad = [&name] {
        return std::invalid_argument(name + " must be address:port (an IP address, [v6]:port for IPv6)");
    };
    if (colon == std::string_view::npos || colon == 0) throw bad();
    std::string_view host = listen.substr(0, colon);
    std::string_view port = listen.substr(colon + 1);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') throw bad();
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address(std::string(host), ec);
    if (ec) throw bad();
    unsigned value = 0;
    auto [end, pec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (pec != std::errc{} || end != port.data() + port.size() || port.empty() || value > 65535) throw bad();
    config.listen_address = std::string(host);
    config.listen_port = static_cast<unsigned short>(value);
}

void read_log_level(const ConfigSource& source, Config& config) {
    static constexpr std::array<std::string_view, 6> levels = {"trace", "debug", "info", "warn", "error", "off"};
    auto text = source.get("CONVO_SIDECAR_LOG_LEVEL");
    if (!text) return;
    for (auto level : levels) {
        if (*text == level) {
            config.log_level = *text;
            return;
        }
    }
    throw std::invalid_argument("CONVO_SIDECAR_LOG_LEVEL must be one of trace, debug, info, warn, error, off");
}

std::chrono::milliseconds read_ms(const ConfigSource& source, const std::string& name,
                                  std::chrono::milliseconds fallback, long long min = 1) {
    return std::chrono::milliseconds(read_integer(source, name, fallback.count(), min, 24LL * 3600 * 1000));
}

}  // namespace

Config load_config(const std::map<std::string, std::string>& env) {
    ConfigSource source(env);
    Config config;

    read_listen(source, config);
    read_log_level(source, config);
    config.threads = static_cast<int>(read_integer(source, "CONVO_SIDECAR_THREADS", config.threads, 1, 256));
    config.body_limit = static_cast<std::size_t>(
        read_integer(source, "CONVO_SIDECAR_BODY_LIMIT", static_cast<long long>(config.body_limit), 1, 1LL << 30));
    config.header_timeout = read_ms(source, "CONVO_SIDECAR_HEADER_TIMEOUT_MS", config.header_timeout);
    config.idle_timeout = read_ms(source, "CONVO_SIDECAR_IDLE_TIMEOUT_MS", config.idle_timeout);
    config.ready_max_lag = std::chrono::seconds(
        read_integer(source, "CONVO_SIDECAR_READY_MAX_LAG_S", config.ready_max_lag.count(), 0, 365LL * 24 * 3600));

    auto& db = config.db;
    auto url = source.get("CONVO_SIDECAR_DATABASE_URL");
    if (!url) throw std::invalid_argument("CONVO_SIDECAR_DATABASE_URL is required (a libpq connection string or URI)");
    db.conninfo = *url;
    db.pool_size = static_cast<int>(read_integer(source, "CONVO_SIDECAR_POOL_SIZE", db.pool_size, 1, 256));
    db.max_group = static_cast<int>(read_integer(source, "CONVO_SIDECAR_MAX_GROUP", db.max_group, 1, 100000));
    db.put_timeout = read_ms(source, "CONVO_SIDECAR_PUT_TIMEOUT_MS", db.put_timeout);
    db.connect_timeout = read_ms(source, "CONVO_SIDECAR_CONNECT_TIMEOUT_MS", db.connect_timeout);
    db.workers = static_cast<int>(read_integer(source, "CONVO_SIDECAR_WORKERS", db.workers, 0, 64));
    db.worker_batch = static_cast<int>(read_integer(source, "CONVO_SIDECAR_WORKER_BATCH", db.worker_batch, 1, 100000));
    db.poll_interval = read_ms(source, "CONVO_SIDECAR_POLL_MS", db.poll_interval);
    db.reconnect_max_delay = read_ms(source, "CONVO_SIDECAR_RECONNECT_MAX_MS", db.reconnect_max_delay);

    config.accounts = load_accounts(source);
    return config;
}

}  // namespace convo::sidecar
