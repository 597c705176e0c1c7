// One HTTP/1.1 connection (Beast's advanced server shape): reads a request, lets the router
// answer it, writes the response, and loops while keep-alive holds. Requests on a connection
// are answered one at a time, in order (pipelined requests wait in the buffer).
#pragma once

#include "http/message.hpp"
#include "http/session_shared.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace convo::sidecar::http {

class Session : public std::enable_shared_from_this<Session> {
public:
    // `socket` must run on its own strand (the listener gives each connection one).
    Session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<SessionShared> shared);
    ~Session();

    void run();
    // Graceful stop: an idle connection closes now; a request in progress is answered with
    // Connection: close.
    void shutdown();

private:
    enum class State { idle, reading, handling, writing, closing };

    void do_read();
    void on_first_bytes(boost::beast::error_code ec, std::size_t bytes);
    void read_request();
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    void read_body();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void handle();
    void reject(bhttp::status status, std::string_view why);
    void send(Response response);
    void record();
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void do_close();
    void on_drain(boost::beast::error_code ec, std::size_t bytes);
    void fail(boost::beast::error_code ec, const char* what);

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    Response response_;
    std::shared_ptr<SessionShared> shared_;

    State state_ = State::reading;
    bool stopping_ = false;
    bool close_after_ = false;   // this response ends the connection (errors, HTTP/1.0, stop)
    bool keep_alive_ = false;    // what the request asked for
    unsigned version_ = 11;
    std::string_view route_;
    std::chrono::steady_clock::time_point received_;
};

}  // namespace convo::sidecar::http
