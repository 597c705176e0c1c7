// One PostgreSQL connection driven by Asio: libpq in non-blocking mode, its socket watched
// through a stream_descriptor. Connects with a timeout, runs one statement at a time, reports
// notifications and a broken connection. No libpq call here waits on the network.
//
// Every member function must be called on the executor given to the constructor (a strand);
// callbacks run there too, posted (never from inside the call that was given them).
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/io_context.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace convo::sidecar::db {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

struct PgResult {
    bool ok = false;               // the statement succeeded (autocommit: it is committed)
    bool connection_lost = false;  // the connection broke: the outcome is unknown
    bool sent = false;             // false: the statement never left (safe to run elsewhere)
    std::string error;             // when !ok; libpq's or the server's message
    std::string sqlstate;          // server errors only
    std::shared_ptr<PGresult> result;  // the statement's result when ok
};

class PgConnection : public std::enable_shared_from_this<PgConnection> {
public:
    enum class State { idle, connecting, ready, busy };

    PgConnection(Strand strand, std::string conninfo, std::chrono::milliseconds connect_timeout);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    // Starts connecting (state idle only). done("") once ready; done(error) when it failed
    // (state idle again).
    void connect(std::function<void(std::string error)> done);

    // Sends one statement (state ready only): `send` calls one PQsend* function on the
    // connection and returns its result. done gets the outcome; a lost connection closes it
    // (state idle) before done runs, and on_lost is not called for it.
    void run(std::function<int(PGconn*)> send, std::function<void(PgResult)> done);

    // Called when the connection breaks while no statement runs (server shutdown, network).
    // The connection is closed (state idle) before.
    void on_lost(std::function<void(std::string error)> handler) { on_lost_ = std::move(handler); }
    // Called with the channel of each notification received (LISTEN).
    void on_notify(std::function<void(std::string channel)> handler) { on_notify_ = std::move(handler); }

    // Closes at once; a statement in flight completes with connection_lost.
    void close();

    State state() const { return state_; }
    bool ready() const { return state_ == State::ready; }

private:
    void assign_socket();
    void wait_connect(PostgresPollingStatusType want);
    void on_connect_event(std::uint64_t generation);
    void finish_connect(std::string error);
    void arm_read();
    void arm_write();
    void on_readable(std::uint64_t generation, boost::system::error_code ec);
    void on_writable(std::uint64_t generation, boost::system::error_code ec);
    void flush();
    void collect();
    void complete(PgResult result);
    void broken(std::string error);
    void teardown();
    std::string last_error() const;

    Strand strand_;
    std::string conninfo_;
    std::chrono::milliseconds connect_timeout_;
    boost::asio::posix::stream_descriptor socket_;
    boost::asio::steady_timer connect_timer_;
    PGconn* conn_ = nullptr;
    State state_ = State::idle;
    std::uint64_t generation_ = 0;  // bumped on every close: late handlers of an old socket see it
    bool read_armed_ = false;
    bool write_armed_ = false;
    bool flushing_ = false;
    std::function<void(std::string)> connect_done_;
    std::function<void(PgResult)> run_done_;
    PgResult pending_;  // what the statement in flight has produced so far
    std::function<void(std::string)> on_lost_;
    std::function<void(std::string)> on_notify_;
};

}  // namespace convo::sidecar::db
