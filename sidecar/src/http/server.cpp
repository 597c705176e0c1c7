// Listener and graceful stop (see server.hpp).
#include "http/server.hpp"

#include "http/session.hpp"
#include "log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include <vector>

namespace convo::sidecar::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Server::Listener : public std::enable_shared_from_this<Server::Listener> {
public:
    Listener(asio::io_context& io, std::shared_ptr<SessionShared> shared)
        : io_(io), acceptor_(asio::make_strand(io)), shared_(std::move(shared)) {}

    tcp::endpoint open(const tcp::endpoint& endpoint) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
        return acceptor_.local_endpoint();
    }

    void do_accept() {
        // The new connection gets its own strand.
        acceptor_.async_accept(asio::make_strand(io_), beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void close() {
        asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->acceptor_.close(ec);
        });
    }

private:
    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            // Out of descriptors and the like: keep accepting; the client retries.
            log::warn("accept_failed", {{"reason", ec.message()}});
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            auto session = std::make_shared<Session>(std::move(socket), shared_);
            bool stopping;
            {
                std::lock_guard lock(shared_->mutex);
                stopping = shared_->stopping;
                if (!stopping) shared_->live.emplace(session.get(), session);
            }
            if (!stopping) session->run();
        }
        do_accept();
    }

    asio::io_context& io_;
    tcp::acceptor acceptor_;
    std::shared_ptr<SessionShared> shared_;
};

Server::Server(asio::io_context& io, const Router& router, metrics::SidecarMetrics& metrics, Limits limits)
    : io_(io), shared_(std::make_shared<SessionShared>(router, metrics, limits, io.get_executor())) {}

Server::~Server() = default;

tcp::endpoint Server::start(const std::string& address, unsigned short port) {
    listener_ = std::make_shared<Listener>(io_, shared_);
    auto bound = listener_->open(tcp::endpoint(asio::ip::make_address(address), port));
    listener_->do_accept();
    return bound;
}

void Server::stop(std::function<void()> done) {
    if (listener_) listener_->close();
    std::vector<std::shared_ptr<Session>> sessions;
    bool idle;
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopping = true;
        for (auto& [raw, weak] : shared_->live) {
            if (auto session = weak.lock()) sessions.push_back(std::move(session));
        }
        idle = shared_->live.empty();
        if (!idle) shared_->on_idle = std::move(done);
    }
    if (idle) {
        asio::post(io_, std::move(done));
        return;
    }
    for (auto& session : sessions) session->shutdown();
}

}  // namespace convo::sidecar::http
