#include "db/inbox_worker.hpp"

#include "log.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

namespace convo::sidecar::db {

namespace asio = boost::asio;

namespace {
constexpr const char* process_statement = "process";
constexpr const char* process_sql = "SELECT convo.inbox_process($1::int)";
}  // namespace

InboxWorker::InboxWorker(asio::io_context& io, DbConfig config, std::shared_ptr<Counters> counters, int index)
    : io_(io),
      strand_(asio::make_strand(io)),
      config_(std::move(config)),
      counters_(std::move(counters)),
      index_(index),
      conn_(std::make_shared<PgConnection>(strand_, config_.conninfo, config_.connect_timeout)),
      backoff_(std::chrono::milliseconds(100), config_.reconnect_max_delay),
      timer_(strand_) {
    if (config_.worker_batch < 1) config_.worker_batch = 1;
}

void InboxWorker::start() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->stopping_) return;
        const std::weak_ptr<InboxWorker> weak = self;
        self->conn_->on_notify([weak](const std::string&) {
            if (auto s = weak.lock()) s->woken();
        });
        self->conn_->on_lost([weak](const std::string& error) {
            if (auto s = weak.lock()) s->retry_later("connection lost: " + error, true);
        });
        self->connect();
    });
}

void InboxWorker::connect() {
    if (stopping_) {
        finish_stop();
        return;
    }
    state_ = State::connecting;
    conn_->connect([self = shared_from_this()](std::string error) {
        if (!error.empty()) {
            self->retry_later(error, true);
            return;
        }
        self->setup(0);
    });
}

// LISTEN first, so that nothing committed after the first inbox_process call goes unnoticed.
void InboxWorker::setup(int step) {
    if (stopping_) {
        finish_stop();
        return;
    }
    state_ = State::setting_up;
    if (step == 2) {
        if (ever_connected_) {
            ++counters_->reconnects;
            log::info("db_reconnected", {{"role", "worker"}, {"worker", index_}});
        }
        ever_connected_ = true;
        backoff_.reset();
        notified_ = true;  // whatever came in while disconnected
        state_ = State::idle;
        woken();
        return;
    }
    conn_->run(
        [step](PGconn* c) {
            return step == 0 ? PQsendQueryParams(c, "LISTEN convo_inbox", 0, nullptr, nullptr, nullptr, nullptr, 0)
                             : PQsendPrepare(c, process_statement, process_sql, 1, nullptr);
        },
        [self = shared_from_this(), step](PgResult r) {
            if (!r.ok) {
                self->retry_later((step == 0 ? "listen: " : "prepare: ") + r.error, true);
                return;
            }
            self->setup(step + 1);
        });
}

void InboxWorker::wake() {
    asio::post(strand_, [self = shared_from_this()] {
        if (!self->stopping_) self->woken();
    });
}

void InboxWorker::woken() {
    notified_ = true;
    if (state_ != State::idle) return;  // processing: it loops once more; otherwise it will start
    timer_.cancel();
    process();
}

void InboxWorker::process() {
    if (stopping_) {
        finish_stop();
        return;
    }
    state_ = State::processing;
    notified_ = false;
    const auto batch = std::to_string(config_.worker_batch);
    conn_->run(
        [batch](PGconn* c) {
            const char* values[1] = {batch.c_str()};
            return PQsendQueryPrepared(c, process_statement, 1, values, nullptr, nullptr, 0);
        },
        [self = shared_from_this()](PgResult r) { self->processed(std::move(r)); });
}

void InboxWorker::processed(PgResult r) {
    if (!r.ok || !r.result || PQntuples(r.result.get()) != 1) {
        ++counters_->worker_errors;
        retry_later(r.ok ? "unexpected result of inbox_process" : r.error, r.connection_lost);
        return;
    }
    std::int64_t done = 0, retry = 0, dead = 0;
    try {
        const auto j = nlohmann::json::parse(PQgetvalue(r.result.get(), 0, 0));
        done = j.value("done", std::int64_t{0});
        retry = j.value("retry", std::int64_t{0});
        dead = j.value("dead", std::int64_t{0});
    } catch (const std::exception& e) {
        ++counters_->worker_errors;
        retry_later(std::string("unreadable inbox_process result: ") + e.what(), false);
        return;
    }
    counters_->ingest_done += static_cast<std::uint64_t>(done);
    counters_->ingest_retry += static_cast<std::uint64_t>(retry);
    counters_->ingest_dead += static_cast<std::uint64_t>(dead);
    backoff_.reset();
    if (stopping_) {
        finish_stop();
    } else if (done + retry + dead > 0 || notified_) {
        // More may be due: go again at once (posted, so other work on the strand interleaves).
        state_ = State::idle;
        asio::post(strand_, [self = shared_from_this()] {
            if (self->state_ == State::idle) self->process();
        });
    } else {
        sleep(config_.poll_interval);
    }
}

void InboxWorker::sleep(std::chrono::milliseconds d) {
    state_ = State::idle;
    timer_.expires_after(d);
    timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && self->state_ == State::idle) self->process();
    }));
}

void InboxWorker::retry_later(const std::string& error, bool reconnect) {
    if (state_ == State::stopped) return;
    if (reconnect) conn_->close();
    if (stopping_) {
        finish_stop();
        return;
    }
    const auto delay = backoff_.next();
    log::warn("db_worker_error", {{"worker", index_}, {"error", error}, {"reconnect", reconnect},
                                  {"retry_ms", delay.count()}});
    state_ = State::waiting_retry;
    timer_.expires_after(delay);
    timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this(), reconnect](boost::system::error_code ec) {
        if (ec || self->state_ != State::waiting_retry) return;
        if (reconnect || !self->conn_->ready()) {
            self->connect();
        } else {
            self->state_ = State::idle;
            self->process();
        }
    }));
}

void InboxWorker::stop(std::function<void()> done) {
    asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
        self->stopping_ = true;
        if (done) self->stop_done_.push_back(std::move(done));
        // A running inbox_process call finishes first; anything else stops now.
        if (self->state_ != State::processing) self->finish_stop();
    });
}

void InboxWorker::finish_stop() {
    state_ = State::stopped;
    timer_.cancel();
    conn_->close();
    for (auto& d : stop_done_) asio::post(io_, std::move(d));
    stop_done_.clear();
}

}  // namespace convo::sidecar::db
