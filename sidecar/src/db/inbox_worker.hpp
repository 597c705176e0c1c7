// One ingest worker: its own connection, LISTEN convo_inbox, and convo.inbox_process(batch)
// called again as long as the last call found something to do; then it sleeps until a
// notification arrives (from another process's writer), this process's writer wakes it, or
// the poll interval passes (the safety net for a missed one).
// Failures are counted, backed off and, when the connection broke, reconnected.
#pragma once

#include "db/backoff.hpp"
#include "db/database.hpp"
#include "db/pg_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace convo::sidecar::db {

class InboxWorker : public std::enable_shared_from_this<InboxWorker> {
public:
    InboxWorker(boost::asio::io_context& io, DbConfig config, std::shared_ptr<Counters> counters, int index);

    void start();  // thread-safe
    void wake();   // thread-safe: something was committed to the inbox
    // Thread-safe: lets the current inbox_process call finish, then closes; `done` on io.
    void stop(std::function<void()> done);

private:
    enum class State { connecting, setting_up, processing, idle, waiting_retry, stopped };

    void connect();
    void setup(int step);
    void process();
    void processed(PgResult r);
    void retry_later(const std::string& error, bool reconnect);
    void sleep(std::chrono::milliseconds d);
    void woken();
    void finish_stop();

    boost::asio::io_context& io_;
    Strand strand_;
    DbConfig config_;
    std::shared_ptr<Counters> counters_;
    int index_;
    std::shared_ptr<PgConnection> conn_;
    Backoff backoff_;
    boost::asio::steady_timer timer_;
    State state_ = State::stopped;
    bool reconnect_on_wake_ = false;
    bool notified_ = false;
    bool stopping_ = false;
    bool ever_connected_ = false;
    std::vector<std::function<void()>> stop_done_;
};

}  // namespace convo::sidecar::db
