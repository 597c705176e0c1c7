// One HTTP connection (see session.hpp).
#include "http/session.hpp"

#include "log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

namespace convo::sidecar::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// How long a closing connection waits for the client to finish sending before the socket is
// closed (closing with unread bytes would reset the connection and lose the last response).
constexpr std::chrono::seconds linger{1};

}  // namespace

Session::Session(asio::ip::tcp::socket&& socket, std::shared_ptr<SessionShared> shared)
    : stream_(std::move(socket)), shared_(std::move(shared)) {}

Session::~Session() {
    std::function<void()> on_idle;
    {
        std::lock_guard lock(shared_->mutex);
        shared_->live.erase(this);
        if (shared_->stopping && shared_->live.empty()) on_idle = std::move(shared_->on_idle);
    }
    if (on_idle) asio::post(shared_->executor, std::move(on_idle));
}

void Session::run() {
    // Start on the connection's strand: every step of this session runs there.
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
}

void Session::shutdown() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
        self->stopping_ = true;
        if (self->state_ == State::idle) self->stream_.cancel();
    });
}

void Session::do_read() {
    parser_.emplace();
    parser_->body_limit(shared_->limits.body_limit);
    close_after_ = false;
    if (buffer_.size() > 0) {
        // A pipelined request already buffered: it is under way.
        read_request();
        return;
    }
    // Before each request, the first included: wait for its first bytes under the idle timeout;
    // the header timeout starts with them. Clients that open a pool of connections (load
    // balancers, Meta's senders) would otherwise see unused ones closed under them.
    state_ = State::idle;
    if (stopping_) return do_close();
    stream_.expires_after(shared_->limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
}

void Session::on_first_bytes(beast::error_code ec, std::size_t bytes) {
    if (ec) return fail(ec, "idle");
    buffer_.commit(bytes);
    read_request();
}

// The header first: a client that sent "Expect: 100-continue" (curl does above 1 KB) waits
// for an interim 100 before its body. A declared length over the limit fails here, so such a
// client gets its 413 without sending the body.
void Session::read_request() {
    state_ = State::reading;
    stream_.expires_after(shared_->limits.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
}

void Session::on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read(ec, 0);
    const auto& request = parser_->get();
    const bool expects_continue = request.version() >= 11 && !parser_->is_done() &&
                                  beast::iequals(request[bhttp::field::expect], "100-continue");
    if (!expects_continue) return read_body();
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(interim.data(), interim.size()),
                      [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                          if (write_ec) return self->fail(write_ec, "write");
                          self->read_body();
                      });
}

void Session::read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t) {
    received_ = std::chrono::steady_clock::now();
    if (ec == bhttp::error::end_of_stream) return do_close();
    if (ec == bhttp::error::body_limit) return reject(bhttp::status::payload_too_large, "body over the limit");
    if (ec == bhttp::error::header_limit) {
        return reject(bhttp::status::request_header_fields_too_large, "header over the limit");
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::partial_message) {
        return reject(bhttp::status::bad_request, "malformed request");
    }
    if (ec) return fail(ec, "read");

    const auto& request = parser_->get();
    if (request.method() == bhttp::verb::post && !parser_->content_length() && !parser_->chunked()) {
        return reject(bhttp::status::length_required, "POST without Content-Length");
    }
    handle();
}

void Session::handle() {
    state_ = State::handling;
    auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    version_ = request.version();
    // The handler may answer from any thread: the response comes back to this strand.
    Respond respond = [self = shared_from_this()](Response response) {
        asio::post(self->stream_.get_executor(),
                   [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
    };
    route_ = shared_->router.dispatch(request, respond);
}

void Session::reject(bhttp::status status, std::string_view why) {
    state_ = State::handling;
    close_after_ = true;
    keep_alive_ = false;
    version_ = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    route_ = parser_ && parser_->is_header_done() ? shared_->router.label(parser_->get().target()) : "other";
    std::string body(why);
    body.push_back('\n');
    send(make_response(status, "text/plain", std::move(body)));
}

void Session::send(Response response) {
    response_ = std::move(response);
    response_.version(version_);
    response_.keep_alive(keep_alive_ && !close_after_ && !stopping_);
    response_.prepare_payload();
    record();
    do_write();
}

void Session::record() {
    // Counted when the response is ready, so a client that got it sees it in /metrics.
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - received_).count();
    unsigned status = response_.result_int();
    shared_->metrics.request(route_, status, seconds);
    if (spdlog::default_logger_raw()->should_log(spdlog::level::debug)) {
        // The path only: a query string may carry a verify token.
        std::string_view method, path;
        if (parser_ && parser_->is_header_done()) {
            method = parser_->get().method_string();
            path = target_path(parser_->get().target());
        }
        log::debug("request", {{"method", method}, {"path", path}, {"status", status}, {"ms", seconds * 1000},
                               {"bytes", response_.body().size()}});
    }
}

void Session::do_write() {
    state_ = State::writing;
    stream_.expires_after(shared_->limits.header_timeout);
    bhttp::async_write(stream_, response_, beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    if (!response_.keep_alive()) return do_close();
    response_ = {};
    do_read();
}

void Session::do_close() {
    state_ = State::closing;
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) return;
    buffer_.clear();
    stream_.expires_after(linger);
    stream_.async_read_some(buffer_.prepare(4096), beast::bind_front_handler(&Session::on_drain, shared_from_this()));
}

void Session::on_drain(beast::error_code ec, std::size_t) {
    if (ec) {
        stream_.socket().close(ec);
        return;
    }
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096), beast::bind_front_handler(&Session::on_drain, shared_from_this()));
}

void Session::fail(beast::error_code ec, const char* what) {
    // Timeouts, resets and cancellation end the connection; nothing to answer.
    if (ec == asio::error::operation_aborted) return;
    log::debug("connection_closed", {{"during", what}, {"reason", ec.message()}});
}

}  // namespace convo::sidecar::http
