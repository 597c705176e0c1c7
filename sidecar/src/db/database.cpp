#include "db/database.hpp"

#include "db/inbox_worker.hpp"
#include "db/inbox_writer.hpp"

#include <boost/asio/post.hpp>

#include <vector>

namespace convo::sidecar::db {

namespace asio = boost::asio;

struct Database::Impl {
    asio::io_context& io;
    // Shared with the parts: their handlers may outlive this object by a moment.
    std::shared_ptr<Counters> counters = std::make_shared<Counters>();
    std::shared_ptr<InboxWriter> writer;
    std::vector<std::shared_ptr<InboxWorker>> workers;
    std::atomic<bool> started{false};
    std::atomic<bool> stop_requested{false};

    Impl(asio::io_context& io_, DbConfig config) : io(io_) {
        writer = std::make_shared<InboxWriter>(io, config, counters);
        for (int i = 0; i < config.workers; ++i)
            workers.push_back(std::make_shared<InboxWorker>(io, config, counters, i));
        if (workers.empty()) return;  // another process ingests: the writer's NOTIFY wakes it
        std::vector<std::weak_ptr<InboxWorker>> weak(workers.begin(), workers.end());
        writer->on_committed([weak = std::move(weak)] {
            for (const auto& w : weak)
                if (auto worker = w.lock()) worker->wake();
        });
    }
};

Database::Database(asio::io_context& io, DbConfig config) : impl_(std::make_shared<Impl>(io, std::move(config))) {}

// Without a stop() first, waiting puts still get their answer and the connections close.
Database::~Database() {
    if (!impl_->stop_requested.exchange(true)) {
        impl_->writer->stop(nullptr);
        for (auto& w : impl_->workers) w->stop(nullptr);
    }
}

void Database::start() {
    if (impl_->started.exchange(true)) return;
    impl_->writer->start();
    for (auto& w : impl_->workers) w->start();
}

void Database::put(InboxItem item, std::function<void(PutOutcome)> done) { impl_->writer->put(std::move(item), std::move(done)); }

void Database::health(std::function<void(InboxHealth)> done) { impl_->writer->health(std::move(done)); }

void Database::stop(std::function<void()> done) {
    impl_->stop_requested = true;
    // Writer and workers stop side by side; `done` once the last of them has.
    auto remaining = std::make_shared<std::atomic<std::size_t>>(1 + impl_->workers.size());
    auto one_done = [remaining, done = std::move(done)] {
        if (--*remaining == 0 && done) done();
    };
    impl_->writer->stop(one_done);
    for (auto& w : impl_->workers) w->stop(one_done);
}

const Counters& Database::counters() const { return *impl_->counters; }

}  // namespace convo::sidecar::db
