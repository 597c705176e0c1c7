// A small blocking HTTP/1.1 client for the sidecar tests: one connection, every operation with
// a deadline (Beast's tcp_stream timeouts, driven by a private io_context), and raw byte writes
// for requests a well-behaved client library would refuse to send.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace convo::sidecar_tests {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class HttpClient {
public:
    HttpClient(std::string host, std::string port)
        : host_(std::move(host)), port_(std::move(port)), io_(std::make_unique<asio::io_context>()),
          stream_(std::make_unique<beast::tcp_stream>(*io_)) {}

    // Connects (again); false on failure.
    bool connect(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        beast::error_code ec;
        beast::get_lowest_layer(*stream_).close();
        buffer_.consume(buffer_.size());
        auto endpoints = tcp::resolver(*io_).resolve(host_, port_, ec);
        if (ec) return false;
        stream_->expires_after(timeout);
        stream_->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
        run();
        if (!ec) stream_->socket().set_option(tcp::no_delay(true));
        return !ec;
    }

    // A request with the usual headers (Host, Content-Length) filled in.
    static Request request(http::verb method, std::string target, std::string body = {},
                           std::map<std::string, std::string> headers = {}) {
        Request req{method, target, 11};
        req.set(http::field::host, "sidecar.test");
        for (auto& [name, value] : headers) req.set(name, value);
        req.body() = std::move(body);
        if (method != http::verb::get || !req.body().empty()) req.prepare_payload();
        return req;
    }

    // Sends `req` and reads the answer; ec set on a transport error or timeout.
    Response exchange(Request req, beast::error_code& ec, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        ec = {};
        stream_->expires_after(timeout);
        http::async_write(*stream_, req, [&](beast::error_code e, std::size_t) { ec = e; });
        run();
        if (ec) return {};
        return read_response(ec, timeout);
    }

    // Writes bytes as they are; ec set when the peer is gone or the deadline passes.
    void write_raw(const std::string& bytes, beast::error_code& ec,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        ec = {};
        stream_->expires_after(timeout);
        asio::async_write(*stream_, asio::buffer(bytes), [&](beast::error_code e, std::size_t) { ec = e; });
        run();
    }

    Response read_response(beast::error_code& ec, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        ec = {};
        parser_ = std::make_unique<http::response_parser<http::string_body>>();
        parser_->body_limit(64 << 20);
        stream_->expires_after(timeout);
        http::async_read(*stream_, buffer_, *parser_, [&](beast::error_code e, std::size_t) { ec = e; });
        run();
        if (ec) return {};
        return parser_->release();
    }

    // Whether the peer closes the connection within `timeout` (bytes it sends first are read
    // and dropped). False when it is still open at the deadline.
    bool closed_by_peer(std::chrono::milliseconds timeout) {
        if (buffer_.size() > 0) buffer_.consume(buffer_.size());
        auto deadline = std::chrono::steady_clock::now() + timeout;
        char scratch[4096];
        // A timer that cancels the read rather than the stream's own timeout, which would close
        // the socket and make the next write fail as if the server had closed it.
        auto& socket = stream_->socket();
        stream_->expires_never();
        while (std::chrono::steady_clock::now() < deadline) {
            beast::error_code ec;
            bool timed_out = false, read_done = false;
            asio::steady_timer timer(*io_, deadline);
            timer.async_wait([&](beast::error_code e) {
                if (e || read_done) return;
                timed_out = true;
                socket.cancel();
            });
            socket.async_read_some(asio::buffer(scratch), [&](beast::error_code e, std::size_t) {
                ec = e;
                read_done = true;
                timer.cancel();
            });
            run();
            if (timed_out) return false;
            if (ec) return true;  // eof, reset: closed
        }
        return false;
    }

    // Whether the peer has closed the connection, without waiting (bytes it sent are dropped).
    // Unlike closed_by_peer, never closes the connection itself.
    bool peer_closed_now() {
        auto& socket = stream_->socket();
        beast::error_code ec;
        socket.non_blocking(true, ec);
        char scratch[4096];
        while (true) {
            socket.read_some(asio::buffer(scratch), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) break;
            if (ec) return true;
        }
        socket.non_blocking(false, ec);
        return false;
    }

    void close() {
        beast::error_code ignored;
        stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_->close();
    }

private:
    void run() {
        io_->restart();
        io_->run();
    }

    std::string host_, port_;
    // Behind pointers so a client can be moved (handed out by a helper, replaced by a new one).
    std::unique_ptr<asio::io_context> io_;
    std::unique_ptr<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    std::unique_ptr<http::response_parser<http::string_body>> parser_;
};

}  // namespace convo::sidecar_tests
