// The write pool: group commit of inbox puts, and the health query.
//
// Puts wait in one queue. Whenever a pool connection is free and puts are waiting, up to
// max_group of them leave at once as one convo.inbox_put_batch statement (autocommit: one
// transaction, one WAL flush). While it commits, the next puts gather and go on the next free
// connection: no timer delays a group. A put not committed within put_timeout fails with
// "timeout". Everything here runs on one strand; callbacks are posted to the io_context.
// With on_committed set, a committed group that holds something to ingest calls it instead
// of sending NOTIFY convo_inbox.
#pragma once

#include "db/backoff.hpp"
#include "db/database.hpp"
#include "db/pg_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace convo::sidecar::db {

class InboxWriter : public std::enable_shared_from_this<InboxWriter> {
public:
    InboxWriter(boost::asio::io_context& io, DbConfig config, std::shared_ptr<Counters> counters);

    // All thread-safe; see Database for the contract of each.
    // Before start(): called on the writer's strand after each group committed with at least
    // one body to ingest; the statement then skips its NOTIFY. Must be thread-safe and quick.
    void on_committed(std::function<void()> wake);
    void start();
    void put(InboxItem item, std::function<void(PutOutcome)> done);
    void health(std::function<void(InboxHealth)> done);
    void stop(std::function<void()> done);

private:
    struct Put {
        InboxItem item;
        std::function<void(PutOutcome)> done;
        std::chrono::steady_clock::time_point deadline;
        bool finished = false;
    };
    using PutPtr = std::shared_ptr<Put>;

    struct Slot {
        std::shared_ptr<PgConnection> conn;
        Backoff backoff;
        boost::asio::steady_timer retry_timer;
        bool usable = false;      // connected and the statement prepared
        bool down = false;        // its last connection attempt failed
        bool ever_connected = false;
    };

    void enqueue(PutPtr put);
    void connect_slot(std::size_t i);
    void slot_failed(std::size_t i, const std::string& error);
    void dispatch();
    void send_group(std::size_t i);
    void group_done(std::size_t i, std::vector<PutPtr> group, PgResult r);
    void run_health(std::size_t i);
    void answer_health(InboxHealth h);
    void finish(Put& put, PutOutcome outcome);
    void fail_waiting(const std::string& error);
    bool all_down() const;
    void arm_timeout();
    void on_timeout();
    void maybe_stopped();
    void sync_counters();

    boost::asio::io_context& io_;
    Strand strand_;
    DbConfig config_;
    std::shared_ptr<Counters> counters_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::deque<PutPtr> waiting_;    // not yet sent, in arrival order
    std::deque<PutPtr> deadlines_;  // every unfinished put, in arrival order (= deadline order)
    boost::asio::steady_timer timeout_timer_;
    bool timeout_armed_ = false;
    std::string last_error_ = "not connected yet";
    std::vector<std::function<void(InboxHealth)>> health_waiters_;
    bool health_running_ = false;
    std::uint64_t health_round_ = 0;
    boost::asio::steady_timer health_timer_;
    bool stopping_ = false;
    bool stopped_ = false;
    std::vector<std::function<void()>> stop_done_;
    std::function<void()> on_committed_;
};

}  // namespace convo::sidecar::db
