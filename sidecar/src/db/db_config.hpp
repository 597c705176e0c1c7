// Database settings of the sidecar (filled from the environment by config.cpp).
#pragma once

#include <chrono>
#include <string>

namespace convo::sidecar::db {

struct DbConfig {
    std::string conninfo;                                 // libpq connection string or URI
    int pool_size = 4;                                    // connections for puts and health
    int max_group = 1000;                                 // most puts in one commit
    std::chrono::milliseconds put_timeout{5000};          // then the webhook gets a 503
    std::chrono::milliseconds connect_timeout{3000};
    int workers = 1;                                      // ingest workers (own connections)
    int worker_batch = 100;                               // items per inbox_process call
    std::chrono::milliseconds poll_interval{2000};        // safety net when no NOTIFY arrives
    std::chrono::milliseconds reconnect_max_delay{2000};  // backoff cap while the database is down
};

}  // namespace convo::sidecar::db
