#include "db/pg_connection.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <utility>

namespace convo::sidecar::db {

namespace asio = boost::asio;
using wait = asio::posix::stream_descriptor::wait_type;

namespace {
std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}
}  // namespace

PgConnection::PgConnection(Strand strand, std::string conninfo, std::chrono::milliseconds connect_timeout)
    : strand_(std::move(strand)),
      conninfo_(std::move(conninfo)),
      connect_timeout_(connect_timeout),
      socket_(strand_),
      connect_timer_(strand_) {}

PgConnection::~PgConnection() { teardown(); }

std::string PgConnection::last_error() const {
    if (!conn_) return "no connection";
    auto s = trimmed(PQerrorMessage(conn_));
    return s.empty() ? "connection failed" : s;
}

void PgConnection::connect(std::function<void(std::string)> done) {
    if (state_ != State::idle) {
        asio::post(strand_, [done = std::move(done)] { done("connect: connection is not idle"); });
        return;
    }
    connect_done_ = std::move(done);
    state_ = State::connecting;
    const auto generation = ++generation_;
    conn_ = PQconnectStart(conninfo_.c_str());
    if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) {
        finish_connect(conn_ ? last_error() : "out of memory");
        return;
    }
    connect_timer_.expires_after(connect_timeout_);
    connect_timer_.async_wait(asio::bind_executor(
        strand_, [self = shared_from_this(), generation](boost::system::error_code ec) {
            if (ec || generation != self->generation_ || self->state_ != State::connecting) return;
            self->finish_connect("connection timed out");
        }));
    // libpq: start as if PQconnectPoll had asked to wait for the socket to be writable.
    wait_connect(PGRES_POLLING_WRITING);
}

// Re-wraps libpq's socket on every step of the handshake: libpq may close it and open
// another (next host, SSL or GSS fallback), possibly under the same number.
void PgConnection::assign_socket() {
    if (socket_.is_open()) socket_.release();
    const int fd = PQsocket(conn_);
    if (fd < 0) return;
    boost::system::error_code ec;
    socket_.assign(fd, ec);
}

void PgConnection::wait_connect(PostgresPollingStatusType want) {
    assign_socket();
    if (!socket_.is_open()) {
        finish_connect("no socket: " + last_error());
        return;
    }
    const auto generation = generation_;
    socket_.async_wait(want == PGRES_POLLING_READING ? wait::wait_read : wait::wait_write,
                       asio::bind_executor(strand_, [self = shared_from_this(), generation](boost::system::error_code ec) {
                           if (generation != self->generation_ || self->state_ != State::connecting) return;
                           if (ec) {
                               self->finish_connect(ec.message());
                               return;
                           }
                           self->on_connect_event(generation);
                       }));
}

void PgConnection::on_connect_event(std::uint64_t) {
    switch (PQconnectPoll(conn_)) {
        case PGRES_POLLING_READING: wait_connect(PGRES_POLLING_READING); break;
        case PGRES_POLLING_WRITING: wait_connect(PGRES_POLLING_WRITING); break;
        case PGRES_POLLING_OK: finish_connect(""); break;
        default: finish_connect(last_error()); break;
    }
}

void PgConnection::finish_connect(std::string error) {
    auto done = std::move(connect_done_);
    connect_done_ = nullptr;
    if (error.empty()) {
        connect_timer_.cancel();
        if (PQsetnonblocking(conn_, 1) != 0) error = last_error();
    }
    if (error.empty()) {
        assign_socket();
        state_ = State::ready;
        arm_read();
    } else {
        teardown();
    }
    if (done) asio::post(strand_, [done = std::move(done), error = std::move(error)] { done(error); });
}

void PgConnection::run(std::function<int(PGconn*)> send, std::function<void(PgResult)> done) {
    if (state_ != State::ready) {
        PgResult r;
        r.error = "connection is not ready";
        r.connection_lost = state_ == State::idle;
        asio::post(strand_, [done = std::move(done), r = std::move(r)] { done(r); });
        return;
    }
    state_ = State::busy;
    run_done_ = std::move(done);
    pending_ = PgResult{};
    if (!send(conn_)) {
        const auto error = last_error();
        if (PQstatus(conn_) == CONNECTION_BAD) {
            broken(error);
        } else {
            pending_.error = error;
            complete(std::move(pending_));
        }
        return;
    }
    pending_.sent = true;
    flushing_ = true;
    const auto generation = generation_;
    flush();
    if (generation == generation_) arm_read();
}

void PgConnection::flush() {
    const int r = PQflush(conn_);
    if (r < 0) {
        broken(last_error());
    } else if (r == 0) {
        flushing_ = false;
    } else {
        arm_write();
    }
}

void PgConnection::arm_read() {
    if (read_armed_ || !socket_.is_open()) return;
    read_armed_ = true;
    const auto generation = generation_;
    socket_.async_wait(wait::wait_read, asio::bind_executor(strand_, [self = shared_from_this(), generation](
                                                                         boost::system::error_code ec) {
                           self->on_readable(generation, ec);
                       }));
}

void PgConnection::arm_write() {
    if (write_armed_ || !socket_.is_open()) return;
    write_armed_ = true;
    const auto generation = generation_;
    socket_.async_wait(wait::wait_write, asio::bind_executor(strand_, [self = shared_from_this(), generation](
                                                                          boost::system::error_code ec) {
                           self->on_writable(generation, ec);
                       }));
}

void PgConnection::on_writable(std::uint64_t generation, boost::system::error_code ec) {
    if (generation != generation_) return;
    write_armed_ = false;
    if (ec) {
        broken(ec.message());
        return;
    }
    if (flushing_) flush();
}

void PgConnection::on_readable(std::uint64_t generation, boost::system::error_code ec) {
    if (generation != generation_) return;
    read_armed_ = false;
    if (ec) {
        broken(ec.message());
        return;
    }
    if (!PQconsumeInput(conn_)) {
        broken(last_error());
        return;
    }
    while (PGnotify* n = PQnotifies(conn_)) {
        std::string channel = n->relname;
        PQfreemem(n);
        if (on_notify_) asio::post(strand_, [handler = on_notify_, channel = std::move(channel)] { handler(channel); });
    }
    if (state_ == State::busy) {
        // The server may wait for us to read before it takes the rest of a large statement.
        if (flushing_) flush();
        if (generation != generation_) return;
        collect();
        if (generation != generation_) return;
    } else if (PQstatus(conn_) == CONNECTION_BAD) {
        broken(last_error());
        return;
    }
    arm_read();
}

void PgConnection::collect() {
    while (!PQisBusy(conn_)) {
        PGresult* raw = PQgetResult(conn_);
        if (!raw) {
            complete(std::move(pending_));
            return;
        }
        std::shared_ptr<PGresult> result(raw, PQclear);
        const auto status = PQresultStatus(raw);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            if (pending_.error.empty()) {
                pending_.ok = true;
                pending_.result = std::move(result);
            }
        } else {
            pending_.ok = false;
            pending_.result.reset();
            pending_.error = trimmed(PQresultErrorMessage(raw));
            if (pending_.error.empty()) pending_.error = PQresStatus(status);
            const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
            pending_.sqlstate = state ? state : "";
        }
    }
}

void PgConnection::complete(PgResult result) {
    state_ = State::ready;
    auto done = std::move(run_done_);
    run_done_ = nullptr;
    if (done) asio::post(strand_, [done = std::move(done), result = std::move(result)] { done(result); });
}

void PgConnection::broken(std::string error) {
    const auto was = state_;
    auto done = std::move(run_done_);
    run_done_ = nullptr;
    const bool sent = pending_.sent;
    teardown();
    if (was == State::busy && done) {
        PgResult r;
        r.connection_lost = true;
        r.sent = sent;
        r.error = std::move(error);
        asio::post(strand_, [done = std::move(done), r = std::move(r)] { done(r); });
    } else if (was == State::ready && on_lost_) {
        asio::post(strand_, [handler = on_lost_, error = std::move(error)] { handler(error); });
    }
}

void PgConnection::close() {
    if (state_ == State::connecting) {
        finish_connect("closed");
    } else if (state_ == State::busy) {
        auto done = std::move(run_done_);
        run_done_ = nullptr;
        const bool sent = pending_.sent;
        teardown();
        if (done) {
            PgResult r;
            r.connection_lost = true;
            r.sent = sent;
            r.error = "closed";
            asio::post(strand_, [done = std::move(done), r = std::move(r)] { done(r); });
        }
    } else {
        teardown();
    }
}

// The descriptor gives the socket back before PQfinish closes it: closed once, by libpq.
void PgConnection::teardown() {
    ++generation_;
    connect_timer_.cancel();
    if (socket_.is_open()) socket_.release();
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    read_armed_ = write_armed_ = flushing_ = false;
    state_ = State::idle;
}

}  // namespace convo::sidecar::db
