#include "db/inbox_writer.hpp"

#include "db/pg_array.hpp"
#include "db/pg_text.hpp"
#include "log.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

namespace convo::sidecar::db {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {
constexpr const char* put_statement = "put_batch";
constexpr const char* put_sql = "SELECT convo.inbox_put_batch($1::text[], $2::text[], $3::text[], $4::boolean)";
constexpr std::chrono::milliseconds first_retry{50};
// A group's bodies travel as one array parameter: far below PostgreSQL's 1 GB message limit,
// and one slow statement does not hold many large bodies.
constexpr std::size_t max_group_bytes = 16u << 20;

bool known_source(std::string_view s) { return s == "whatsapp" || s == "twilio" || s == "vapi"; }
}  // namespace

InboxWriter::InboxWriter(asio::io_context& io, DbConfig config, std::shared_ptr<Counters> counters)
    : io_(io),
      strand_(asio::make_strand(io)),
      config_(std::move(config)),
      counters_(std::move(counters)),
      timeout_timer_(strand_),
      health_timer_(strand_) {
    if (config_.pool_size < 1) config_.pool_size = 1;
    if (config_.max_group < 1) config_.max_group = 1;
    for (int i = 0; i < config_.pool_size; ++i) {
        auto slot = std::unique_ptr<Slot>(new Slot{
            std::make_shared<PgConnection>(strand_, config_.conninfo, config_.connect_timeout),
            Backoff(first_retry, config_.reconnect_max_delay), asio::steady_timer(strand_)});
        slots_.push_back(std::move(slot));
    }
    counters_->pool_size += config_.pool_size;
}

void InboxWriter::on_committed(std::function<void()> wake) { on_committed_ = std::move(wake); }

void InboxWriter::start() {
    asio::post(strand_, [self = shared_from_this()] {
        for (std::size_t i = 0; i < self->slots_.size(); ++i) {
            const std::weak_ptr<InboxWriter> weak = self;
            self->slots_[i]->conn->on_lost([weak, i](std::string error) {
                if (auto s = weak.lock()) s->slot_failed(i, "connection lost: " + error);
            });
            self->connect_slot(i);
        }
    });
}

// Connections ----------------------------------------------------------------------------------

void InboxWriter::connect_slot(std::size_t i) {
    if (stopped_) return;
    auto& slot = *slots_[i];
    slot.conn->connect([self = shared_from_this(), i](std::string error) {
        if (self->stopped_) {
            self->slots_[i]->conn->close();
            return;
        }
        if (!error.empty()) {
            self->slot_failed(i, error);
            return;
        }
        // The group statement is prepared once per connection; until then the slot is unused.
        self->slots_[i]->conn->run(
            [](PGconn* c) { return PQsendPrepare(c, put_statement, put_sql, 3, nullptr); },
            [self, i](PgResult r) {
                if (!r.ok) {
                    self->slots_[i]->conn->close();
                    self->slot_failed(i, "prepare: " + r.error);
                    return;
                }
                auto& s = *self->slots_[i];
                if (s.ever_connected) {
                    ++self->counters_->reconnects;
                    log::info("db_reconnected", {{"role", "pool"}, {"connection", i}});
                }
                s.ever_connected = true;
                s.usable = true;
                s.down = false;
                s.backoff.reset();
                ++self->counters_->pool_connected;
                self->dispatch();
            });
    });
}

void InboxWriter::slot_failed(std::size_t i, const std::string& error) {
    auto& slot = *slots_[i];
    if (slot.usable) --counters_->pool_connected;
    slot.usable = false;
    slot.down = true;
    last_error_ = error;
    if (stopped_) return;
    const auto delay = slot.backoff.next();
    log::warn("db_connection_failed", {{"role", "pool"}, {"connection", i}, {"error", error},
                                       {"retry_ms", delay.count()}});
    // With no connection at all, waiting is pointless: the webhook gets its 503 now and the
    // sender retries later.
    if (all_down()) {
        fail_waiting("database unavailable: " + error);
        answer_health(InboxHealth{false, 0, 0, 0, error});
    }
    slot.retry_timer.expires_after(delay);
    slot.retry_timer.async_wait(asio::bind_executor(strand_, [self = shared_from_this(), i](boost::system::error_code ec) {
        if (!ec) self->connect_slot(i);
    }));
    maybe_stopped();
}

bool InboxWriter::all_down() const {
    for (const auto& s : slots_)
        if (!s->down) return false;
    return true;
}

// Puts -----------------------------------------------------------------------------------------

void InboxWriter::put(InboxItem item, std::function<void(PutOutcome)> done) {
    auto p = std::make_shared<Put>();
    p->item = std::move(item);
    p->done = std::move(done);
    p->deadline = clock::now() + config_.put_timeout;
    asio::post(strand_, [self = shared_from_this(), p = std::move(p)]() mutable { self->enqueue(std::move(p)); });
}

void InboxWriter::enqueue(PutPtr p) {
    // Checked one by one so that one bad put cannot make a whole group's statement fail.
    std::string refusal;
    if (stopping_) refusal = "stopping";
    else if (!known_source(p->item.source)) refusal = "unknown source";
    else if (!is_pg_text(p->item.body)) refusal = "body is not valid UTF-8 text without NUL";
    else if (!is_pg_text(p->item.dead_reason)) refusal = "dead reason is not valid UTF-8 text without NUL";
    else if (all_down()) refusal = "database unavailable: " + last_error_;
    if (!refusal.empty()) {
        finish(*p, PutOutcome{false, 0, refusal});
        return;
    }
    waiting_.push_back(p);
    deadlines_.push_back(std::move(p));
    arm_timeout();
    dispatch();
    sync_counters();
}

void InboxWriter::dispatch() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        auto& slot = *slots_[i];
        if (!slot.usable || !slot.conn->ready()) continue;
        if (!health_waiters_.empty() && !health_running_) {
            run_health(i);
            continue;
        }
        while (!waiting_.empty() && waiting_.front()->finished) waiting_.pop_front();
        if (waiting_.empty()) break;
        send_group(i);
    }
    sync_counters();
}

void InboxWriter::send_group(std::size_t i) {
    std::vector<PutPtr> group;
    group.reserve(std::min<std::size_t>(waiting_.size(), static_cast<std::size_t>(config_.max_group)));
    std::size_t bytes = 0;
    while (!waiting_.empty() && group.size() < static_cast<std::size_t>(config_.max_group) &&
           (group.empty() || bytes + waiting_.front()->item.body.size() <= max_group_bytes)) {
        if (!waiting_.front()->finished) {
            bytes += waiting_.front()->item.body.size();
            group.push_back(std::move(waiting_.front()));
        }
        waiting_.pop_front();
    }
    std::vector<std::optional<std::string_view>> sources, bodies, reasons;
    sources.reserve(group.size());
    bodies.reserve(group.size());
    reasons.reserve(group.size());
    bool any_dead = false;
    for (const auto& p : group) {
        sources.emplace_back(p->item.source);
        bodies.emplace_back(p->item.body);
        if (p->item.dead_reason.empty()) {
            reasons.emplace_back(std::nullopt);
        } else {
            reasons.emplace_back(p->item.dead_reason);
            any_dead = true;
        }
    }
    // libpq copies the parameters into its buffer during the send call.
    auto params = std::make_shared<std::vector<std::string>>();
    params->push_back(text_array_literal(sources));
    params->push_back(text_array_literal(bodies));
    params->push_back(any_dead ? text_array_literal(reasons) : std::string());
    // With workers of its own this process wakes them itself (see on_committed): no NOTIFY,
    // which would make concurrent groups wait for each other's WAL flush.
    const char* notify = on_committed_ ? "false" : "true";
    ++counters_->pool_busy;
    slots_[i]->conn->run(
        [params, any_dead, notify](PGconn* c) {
            const char* values[4] = {(*params)[0].c_str(), (*params)[1].c_str(),
                                     any_dead ? (*params)[2].c_str() : nullptr, notify};
            return PQsendQueryPrepared(c, put_statement, 4, values, nullptr, nullptr, 0);
        },
        [self = shared_from_this(), i, group = std::move(group)](PgResult r) mutable {
            self->group_done(i, std::move(group), std::move(r));
        });
}

void InboxWriter::group_done(std::size_t i, std::vector<PutPtr> group, PgResult r) {
    --counters_->pool_busy;
    if (r.ok && r.result && PQntuples(r.result.get()) == static_cast<int>(group.size())) {
        ++counters_->commit_groups;
        if (on_committed_ && std::any_of(group.begin(), group.end(),
                                         [](const PutPtr& p) { return p->item.dead_reason.empty(); }))
            on_committed_();
        for (std::size_t k = 0; k < group.size(); ++k) {
            const char* v = PQgetvalue(r.result.get(), static_cast<int>(k), 0);
            std::int64_t id = 0;
            std::from_chars(v, v + std::char_traits<char>::length(v), id);
            finish(*group[k], PutOutcome{true, id, {}});
        }
    } else if (!r.ok && !r.sent && r.connection_lost) {
        // The connection broke before the statement left: the puts go on the next free one.
        for (auto it = group.rbegin(); it != group.rend(); ++it)
            if (!(*it)->finished) waiting_.push_front(std::move(*it));
    } else {
        std::string error = r.ok ? "unexpected result of inbox_put_batch"
                                 : (r.connection_lost ? "connection lost: " : "") + r.error;
        log::warn("db_put_group_failed", {{"connection", i}, {"size", group.size()}, {"sqlstate", r.sqlstate},
                                          {"error", error}});
        for (auto& p : group) finish(*p, PutOutcome{false, 0, error});
    }
    if (r.connection_lost) {
        slots_[i]->conn->close();
        slot_failed(i, "connection lost: " + r.error);
    }
    dispatch();
    maybe_stopped();
}

void InboxWriter::finish(Put& p, PutOutcome outcome) {
    if (p.finished) return;
    p.finished = true;
    if (outcome.committed) ++counters_->puts_committed;
    else ++counters_->puts_failed;
    asio::post(io_, [done = std::move(p.done), outcome = std::move(outcome)] { done(outcome); });
    p.done = nullptr;
}

void InboxWriter::fail_waiting(const std::string& error) {
    for (auto& p : waiting_) finish(*p, PutOutcome{false, 0, error});
    waiting_.clear();
    sync_counters();
}

// One timer for all puts: arrival order is deadline order, so it always waits for the oldest.
void InboxWriter::arm_timeout() {
    if (timeout_armed_) return;
    while (!deadlines_.empty() && deadlines_.front()->finished) deadlines_.pop_front();
    if (deadlines_.empty()) return;
    timeout_armed_ = true;
    timeout_timer_.expires_at(deadlines_.front()->deadline);
    timeout_timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code) {
        self->timeout_armed_ = false;
        self->on_timeout();
    }));
}

void InboxWriter::on_timeout() {
    const auto now = clock::now();
    while (!deadlines_.empty() && (deadlines_.front()->finished || deadlines_.front()->deadline <= now)) {
        finish(*deadlines_.front(), PutOutcome{false, 0, "timeout"});
        deadlines_.pop_front();
    }
    arm_timeout();
    sync_counters();
    maybe_stopped();
}

void InboxWriter::sync_counters() {
    while (!waiting_.empty() && waiting_.front()->finished) waiting_.pop_front();
    counters_->puts_waiting = static_cast<std::int64_t>(waiting_.size());
}

// Health ---------------------------------------------------------------------------------------

void InboxWriter::health(std::function<void(InboxHealth)> done) {
    asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
        bool any_usable = false;
        for (const auto& s : self->slots_) any_usable = any_usable || s->usable;
        if (self->stopped_ || !any_usable) {
            InboxHealth h;
            h.error = self->stopped_ ? "stopped" : self->last_error_;
            asio::post(self->io_, [done = std::move(done), h = std::move(h)] { done(h); });
            return;
        }
        self->health_waiters_.push_back(std::move(done));
        if (self->health_waiters_.size() == 1) {
            const auto round = self->health_round_;
            self->health_timer_.expires_after(self->config_.connect_timeout);
            self->health_timer_.async_wait(asio::bind_executor(self->strand_, [self, round](boost::system::error_code ec) {
                if (!ec && round == self->health_round_) self->answer_health(InboxHealth{false, 0, 0, 0, "timeout"});
            }));
        }
        self->dispatch();
    });
}

void InboxWriter::run_health(std::size_t i) {
    health_running_ = true;
    ++counters_->pool_busy;
    const auto round = health_round_;
    slots_[i]->conn->run(
        [](PGconn* c) {
            return PQsendQueryParams(c, "SELECT convo.inbox_stats()", 0, nullptr, nullptr, nullptr, nullptr, 0);
        },
        [self = shared_from_this(), i, round](PgResult r) {
            --self->counters_->pool_busy;
            self->health_running_ = false;
            InboxHealth h;
            if (r.ok && r.result && PQntuples(r.result.get()) == 1) {
                try {
                    const auto j = nlohmann::json::parse(PQgetvalue(r.result.get(), 0, 0));
                    h.reachable = true;
                    h.pending = j.value("pending", std::int64_t{0});
                    h.dead = j.value("dead", std::int64_t{0});
                    h.oldest_pending_seconds = j.value("oldest_pending_seconds", 0.0);
                } catch (const std::exception& e) {
                    h.error = std::string("unreadable inbox_stats: ") + e.what();
                }
            } else {
                h.error = r.ok ? "unexpected result of inbox_stats" : r.error;
            }
            if (round == self->health_round_) self->answer_health(std::move(h));
            if (r.connection_lost) {
                self->slots_[i]->conn->close();
                self->slot_failed(i, "connection lost: " + r.error);
            }
            self->dispatch();
            self->maybe_stopped();
        });
}

void InboxWriter::answer_health(InboxHealth h) {
    ++health_round_;
    health_timer_.cancel();
    for (auto& done : health_waiters_) asio::post(io_, [done = std::move(done), h] { done(h); });
    health_waiters_.clear();
}

// Stop -----------------------------------------------------------------------------------------

void InboxWriter::stop(std::function<void()> done) {
    asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
        self->stopping_ = true;
        if (done) self->stop_done_.push_back(std::move(done));
        if (self->stopped_) {
            for (auto& d : self->stop_done_) asio::post(self->io_, std::move(d));
            self->stop_done_.clear();
            return;
        }
        self->maybe_stopped();
    });
}

// Stopped once nothing waits and no statement runs: the connections close, `done` runs.
void InboxWriter::maybe_stopped() {
    if (!stopping_ || stopped_) return;
    while (!waiting_.empty() && waiting_.front()->finished) waiting_.pop_front();
    if (!waiting_.empty() || health_running_) return;
    for (const auto& s : slots_)
        if (s->conn->state() == PgConnection::State::busy) return;
    stopped_ = true;
    answer_health(InboxHealth{false, 0, 0, 0, "stopped"});
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        auto& s = *slots_[i];
        s.retry_timer.cancel();
        if (s.usable) --counters_->pool_connected;
        s.usable = false;
        s.conn->close();
    }
    timeout_timer_.cancel();
    sync_counters();
    for (auto& d : stop_done_) asio::post(io_, std::move(d));
    stop_done_.clear();
}

}  // namespace convo::sidecar::db
