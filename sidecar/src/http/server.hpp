// The HTTP server: a listener that accepts connections, each on its own strand, and the live
// sessions it stops gracefully.
#pragma once

#include "http/router.hpp"
#include "http/session_shared.hpp"
#include "metrics/sidecar_metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>

namespace convo::sidecar::http {

class Server {
public:
    Server(boost::asio::io_context& io, const Router& router, metrics::SidecarMetrics& metrics, Limits limits);
    ~Server();

    // Binds and listens (throws boost::system::system_error on failure); returns the bound
    // endpoint (the real port when asked for port 0) and starts accepting.
    boost::asio::ip::tcp::endpoint start(const std::string& address, unsigned short port);

    // Stops accepting, closes idle connections, lets requests in progress finish, then calls
    // `done` once (on the io_context) when no connection is left.
    void stop(std::function<void()> done);

private:
    class Listener;
    boost::asio::io_context& io_;
    std::shared_ptr<SessionShared> shared_;
    std::shared_ptr<Listener> listener_;
};

}  // namespace convo::sidecar::http
