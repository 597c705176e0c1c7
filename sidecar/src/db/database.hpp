// The sidecar's only door to PostgreSQL: durable inbox writes for the ack path, the
// ingest workers, and the health query. Everything here is asynchronous on the caller's
// io_context (libpq in non-blocking mode, its socket watched by Asio): no call blocks an
// I/O thread.
//
//   put       -> grouped with the other puts waiting at that moment into one transaction
//                (group commit: one WAL flush for many webhooks); the callback learns whether
//                the row is committed. Only then may the webhook be acknowledged.
//   workers   -> woken by this process's commits (its puts then send no NOTIFY, which would
//                serialize concurrent commits), by NOTIFY convo_inbox from other writers, or
//                every poll interval as a safety net; run convo.inbox_process(batch) until the
//                inbox has nothing due.
//   health    -> convo.inbox_stats() on a pooled connection, with a timeout.
#pragma once

#include "db/db_config.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace convo::sidecar::db {

// A webhook body to store. `dead_reason` non-empty stores it as dead on arrival (kept for
// inspection, never ingested): a body that can never be ingested, e.g. not valid UTF-8.
struct InboxItem {
    std::string source;  // whatsapp | twilio | vapi
    std::string body;    // valid UTF-8 without NUL bytes (PostgreSQL text)
    std::string dead_reason;
};

struct PutOutcome {
    bool committed = false;   // true only after COMMIT succeeded
    std::int64_t inbox_id = 0;
    std::string error;        // why not committed (database down, timeout, ...); no secrets
};

struct InboxHealth {
    bool reachable = false;
    std::int64_t pending = 0;               // pending + processing
    std::int64_t dead = 0;
    double oldest_pending_seconds = 0;
    std::string error;                      // set when not reachable
};

// Read by /metrics at scrape time; written by the database layer only.
struct Counters {
    std::atomic<std::uint64_t> puts_committed{0};
    std::atomic<std::uint64_t> puts_failed{0};
    std::atomic<std::uint64_t> commit_groups{0};        // transactions that carried puts
    std::atomic<std::uint64_t> ingest_done{0};
    std::atomic<std::uint64_t> ingest_retry{0};
    std::atomic<std::uint64_t> ingest_dead{0};
    std::atomic<std::uint64_t> worker_errors{0};        // inbox_process calls that failed
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<std::int64_t> pool_size{0};             // connections configured
    std::atomic<std::int64_t> pool_connected{0};        // currently connected
    std::atomic<std::int64_t> pool_busy{0};             // currently running a statement
    std::atomic<std::int64_t> puts_waiting{0};          // puts queued for the next group
};

class Database {
public:
    Database(boost::asio::io_context& io, DbConfig config);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Connects the pool and starts the workers (config.workers of them; 0 = none). Returns at
    // once; connections that fail are retried in the background with a capped backoff.
    void start();

    // Thread-safe. `done` is called exactly once, on a thread running `io`, never inline.
    // Not committed within config.put_timeout -> committed=false (the caller answers 503;
    // the row may still commit later: the sender's retry is deduplicated by ingest).
    void put(InboxItem item, std::function<void(PutOutcome)> done);

    // Thread-safe. `done` is called exactly once, on a thread running `io`, never inline.
    void health(std::function<void(InboxHealth)> done);

    // Graceful stop: no new puts (they fail at once), waits for puts in flight and for each
    // worker's current batch, then closes the connections and calls `done` (once, on `io`).
    void stop(std::function<void()> done);

    const Counters& counters() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace convo::sidecar::db
