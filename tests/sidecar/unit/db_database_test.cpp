// The database layer against a real PostgreSQL with convo installed. Skipped unless
// CONVO_TEST_DATABASE_URL holds a libpq conninfo for such a database (superuser, or a role
// that may call the convo functions). The restart test also needs CONVO_TEST_PG_RESTART: a
// shell command that restarts that server (e.g. pg_ctl -D ... -m fast -w restart).
//
// The test thread checks results with plain blocking libpq; the Database under test runs on
// its own io_context with two threads, as in the sidecar.
#include "db/database.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace db = convo::sidecar::db;
using namespace std::chrono_literals;

namespace {

std::string database_url() {
    const char* v = std::getenv("CONVO_TEST_DATABASE_URL");
    return v ? v : "";
}

// A blocking connection for the test's own checks.
class Sql {
public:
    explicit Sql(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
        if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
    }
    ~Sql() { PQfinish(conn_); }
    // First column of the first row ("" when no row), failing the test on an error.
    std::string value(const std::string& sql, std::vector<std::string> params = {}) {
        std::vector<const char*> values;
        for (auto& p : params) values.push_back(p.c_str());
        PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                   nullptr, nullptr, 0);
        const auto status = PQresultStatus(r);
        std::string out;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
        } else if (status == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
            out = PQgetvalue(r, 0, 0);
        }
        PQclear(r);
        return out;
    }

private:
    PGconn* conn_;
};

// An io_context on two threads, as the sidecar runs it.
class Loop {
public:
    Loop() : guard_(io.get_executor()) {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io.run(); });
    }
    ~Loop() {
        guard_.reset();
        io.stop();
        for (auto& t : threads_) t.join();
    }
    boost::asio::io_context io;

private:
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

db::DbConfig config_for(const std::string& url) {
    db::DbConfig c;
    c.conninfo = url;
    c.pool_size = 4;
    c.workers = 0;
    c.put_timeout = 5000ms;
    c.connect_timeout = 2000ms;
    c.reconnect_max_delay = 500ms;
    c.poll_interval = 500ms;
    return c;
}

db::PutOutcome put_and_wait(db::Database& d, db::InboxItem item, std::chrono::milliseconds limit = 10s) {
    auto promise = std::make_shared<std::promise<db::PutOutcome>>();
    auto future = promise->get_future();
    d.put(std::move(item), [promise](db::PutOutcome o) { promise->set_value(std::move(o)); });
    if (future.wait_for(limit) != std::future_status::ready) {
        ADD_FAILURE() << "put callback not called within " << limit.count() << " ms";
        return {};
    }
    return future.get();
}

db::InboxHealth health_and_wait(db::Database& d) {
    auto promise = std::make_shared<std::promise<db::InboxHealth>>();
    auto future = promise->get_future();
    d.health([promise](db::InboxHealth h) { promise->set_value(std::move(h)); });
    if (future.wait_for(10s) != std::future_status::ready) {
        ADD_FAILURE() << "health callback not called";
        return {};
    }
    return future.get();
}

bool stop_and_wait(db::Database& d) {
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();
    d.stop([promise] { promise->set_value(); });
    return future.wait_for(15s) == std::future_status::ready;
}

class DatabaseTest : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = database_url();
        if (url_.empty()) GTEST_SKIP() << "CONVO_TEST_DATABASE_URL is not set";
        sql_ = std::make_unique<Sql>(url_);
    }
    std::string url_;
    std::unique_ptr<Sql> sql_;
};

}  // namespace

TEST_F(DatabaseTest, ThousandConcurrentPutsAllCommitWithDistinctIdsAndExactBodies) {
    Loop loop;
    db::Database d(loop.io, config_for(url_));
    d.start();

    // Bodies that an array literal must carry exactly, among ordinary ones.
    const std::vector<std::string> odd = {
        R"({"a":"q\"uote"})", "back\\slash\\", "{brace},{comma}", "line\nbreak\r\n\ttab", "NULL", "",
        R"({"text":{"body":"nul\u0000byte"}})", "'); DROP TABLE convo.inbox; --", "ñandú 👋🏽",
        "{\"pad\":\"" + std::string(65536, 'x') + "\"}", "\"", "\\\"", "{", "}", ",", " leading and trailing "};
    constexpr int n = 1000;
    const std::string tag = "t" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    std::vector<std::string> bodies(n);
    for (int i = 0; i < n; ++i) bodies[i] = (i < static_cast<int>(odd.size()) ? odd[i] : "{\"i\":" + std::to_string(i) + "}") + tag;

    std::mutex m;
    std::condition_variable cv;
    int answered = 0;
    std::vector<db::PutOutcome> outcomes(n);
    // Four threads put at once, as the HTTP side does from its I/O threads.
    std::vector<std::thread> putters;
    for (int t = 0; t < 4; ++t) {
        putters.emplace_back([&, t] {
            for (int i = t; i < n; i += 4) {
                d.put(db::InboxItem{i % 3 == 0 ? "whatsapp" : (i % 3 == 1 ? "twilio" : "vapi"), bodies[i], {}},
                      [&, i](db::PutOutcome o) {
                          std::lock_guard lock(m);
                          outcomes[i] = std::move(o);
                          ++answered;
                          cv.notify_all();
                      });
            }
        });
    }
    for (auto& t : putters) t.join();
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return answered == n; })) << answered << " of " << n << " answered";
    }
    std::set<std::int64_t> ids;
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(outcomes[i].committed) << "put " << i << ": " << outcomes[i].error;
        ids.insert(outcomes[i].inbox_id);
    }
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(n)) << "ids are distinct";
    // Each id holds exactly the body that was put with it.
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(sql_->value("SELECT body FROM convo.inbox WHERE inbox_id = $1", {std::to_string(outcomes[i].inbox_id)}),
                  bodies[i])
            << "put " << i;
    }
    EXPECT_EQ(sql_->value("SELECT count(*) FROM convo.inbox WHERE state = 'pending' AND right(body, length($1)) = $1", {tag}),
              std::to_string(n));
    const auto& c = d.counters();
    EXPECT_EQ(c.puts_committed.load(), static_cast<std::uint64_t>(n));
    EXPECT_EQ(c.puts_failed.load(), 0u);
    EXPECT_GE(c.commit_groups.load(), 1u);
    EXPECT_LE(c.commit_groups.load(), static_cast<std::uint64_t>(n));
    std::printf("[ info ] %d puts in %llu commit groups\n", n, static_cast<unsigned long long>(c.commit_groups.load()));
    EXPECT_TRUE(stop_and_wait(d));
    EXPECT_EQ(d.counters().pool_connected.load(), 0);
    // Not left for the workers of the other tests to wade through.
    sql_->value("DELETE FROM convo.inbox WHERE right(body, length($1)) = $1", {tag});
}

TEST_F(DatabaseTest, DeadReasonStoresADeadRowAndBadTextIsRefusedAlone) {
    Loop loop;
    db::Database d(loop.io, config_for(url_));
    d.start();
    const auto dead = put_and_wait(d, {"whatsapp", "\\xff (escaped bytes)", "body is not valid UTF-8"});
    ASSERT_TRUE(dead.committed) << dead.error;
    EXPECT_EQ(sql_->value("SELECT state || '|' || last_error FROM convo.inbox WHERE inbox_id = $1", {std::to_string(dead.inbox_id)}),
              "dead|body is not valid UTF-8");

    // Put at the same moment: the bad ones fail, the good one still commits.
    auto bad_utf8 = std::async(std::launch::async, [&] { return put_and_wait(d, {"whatsapp", "\xff\xfe", {}}); });
    auto bad_nul = std::async(std::launch::async, [&] { return put_and_wait(d, {"vapi", std::string("a\0b", 3), {}}); });
    auto bad_source = std::async(std::launch::async, [&] { return put_and_wait(d, {"sms", "{}", {}}); });
    auto good = std::async(std::launch::async, [&] { return put_and_wait(d, {"vapi", "{}", {}}); });
    EXPECT_FALSE(bad_utf8.get().committed);
    EXPECT_FALSE(bad_nul.get().committed);
    const auto src = bad_source.get();
    EXPECT_FALSE(src.committed);
    EXPECT_EQ(src.error, "unknown source");
    EXPECT_TRUE(good.get().committed);
    EXPECT_TRUE(stop_and_wait(d));
}

TEST_F(DatabaseTest, HealthReportsTheInbox) {
    Loop loop;
    db::Database d(loop.io, config_for(url_));
    d.start();
    ASSERT_TRUE(put_and_wait(d, {"vapi", "{}", {}}).committed);
    const auto h = health_and_wait(d);
    EXPECT_TRUE(h.reachable) << h.error;
    EXPECT_GE(h.pending, 1);
    EXPECT_EQ(std::to_string(h.dead), sql_->value("SELECT count(*) FROM convo.inbox WHERE state = 'dead'"));
    EXPECT_GE(h.oldest_pending_seconds, 0.0);
    EXPECT_TRUE(stop_and_wait(d));
}

TEST_F(DatabaseTest, UnreachableDatabaseFailsPutsWithinTheTimeout) {
    Loop loop;
    auto c = config_for("host=/nonexistent-convo-socket-dir port=1 dbname=x user=postgres");
    c.put_timeout = 800ms;
    db::Database d(loop.io, c);
    d.start();
    const auto started = std::chrono::steady_clock::now();
    const auto o = put_and_wait(d, {"whatsapp", "{}", {}}, 5s);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_FALSE(o.committed);
    EXPECT_FALSE(o.error.empty());
    EXPECT_LE(took, 800ms + 300ms) << "answered after the put timeout";
    // Later puts fail at once: every connection is known to be down.
    std::this_thread::sleep_for(200ms);
    const auto t2 = std::chrono::steady_clock::now();
    const auto o2 = put_and_wait(d, {"whatsapp", "{}", {}}, 5s);
    EXPECT_FALSE(o2.committed);
    EXPECT_NE(o2.error.find("database unavailable"), std::string::npos) << o2.error;
    EXPECT_LE(std::chrono::steady_clock::now() - t2, 100ms);
    const auto h = health_and_wait(d);
    EXPECT_FALSE(h.reachable);
    EXPECT_FALSE(h.error.empty());
    EXPECT_TRUE(stop_and_wait(d));
}

TEST_F(DatabaseTest, UnansweredConnectTimesOut) {
    // A local socket that listens but never answers: the TCP connection is made, the
    // PostgreSQL handshake never completes. The connect timeout, then the put fails.
    boost::asio::io_context silent_io;
    boost::asio::ip::tcp::acceptor silent(silent_io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    Loop loop;
    auto c = config_for("host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) +
                        " dbname=x user=postgres sslmode=disable");
    c.put_timeout = 2000ms;
    c.connect_timeout = 300ms;
    db::Database d(loop.io, c);
    d.start();
    const auto started = std::chrono::steady_clock::now();
    const auto o = put_and_wait(d, {"whatsapp", "{}", {}}, 5s);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_FALSE(o.committed);
    EXPECT_NE(o.error.find("timed out"), std::string::npos) << o.error;
    EXPECT_GE(took, 250ms);
    EXPECT_LE(took, 1s);
    EXPECT_TRUE(stop_and_wait(d));
}

TEST_F(DatabaseTest, PutsSucceedAgainAfterAServerRestart) {
    const char* restart = std::getenv("CONVO_TEST_PG_RESTART");
    if (!restart || !*restart) GTEST_SKIP() << "CONVO_TEST_PG_RESTART is not set";
    Loop loop;
    auto c = config_for(url_);
    c.workers = 1;
    db::Database d(loop.io, c);
    d.start();
    ASSERT_TRUE(put_and_wait(d, {"vapi", "before restart", {}}).committed);

    // Puts keep arriving while the server restarts; some fail (503), none hang.
    std::atomic<bool> done{false};
    std::atomic<int> answered{0}, issued{0};
    std::thread putter([&] {
        while (!done) {
            ++issued;
            d.put({"vapi", "during restart", {}}, [&](db::PutOutcome) { ++answered; });
            std::this_thread::sleep_for(5ms);
        }
    });
    ASSERT_EQ(std::system(restart), 0) << "restart command failed";
    std::this_thread::sleep_for(200ms);
    done = true;
    putter.join();

    db::PutOutcome after;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        after = put_and_wait(d, {"vapi", "after restart", {}});
        if (after.committed) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(after.committed) << after.error;
    sql_ = std::make_unique<Sql>(url_);  // the test's own connection died with the server
    EXPECT_EQ(sql_->value("SELECT body FROM convo.inbox WHERE inbox_id = $1", {std::to_string(after.inbox_id)}), "after restart");
    // Every put issued during the restart got its answer.
    const auto wait_until = std::chrono::steady_clock::now() + 10s;
    while (answered < issued && std::chrono::steady_clock::now() < wait_until) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(answered.load(), issued.load());
    EXPECT_GE(d.counters().reconnects.load(), 1u);
    EXPECT_TRUE(stop_and_wait(d));
}

namespace {
// A one-message WhatsApp notification for the account registered with phone_number_id.
nlohmann::json text_notification(const std::string& phone_number_id, const std::string& wamid) {
    return {
        {"object", "whatsapp_business_account"},
        {"entry",
         {{{"id", "w"},
           {"changes",
            {{{"field", "messages"},
              {"value",
               {{"messaging_product", "whatsapp"},
                {"metadata", {{"display_phone_number", "17790001"}, {"phone_number_id", phone_number_id}}},
                {"contacts", {{{"wa_id", "5491177900001"}, {"profile", {{"name", "Db Test"}}}}}},
                {"messages",
                 {{{"from", "5491177900001"},
                   {"id", wamid},
                   {"timestamp", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count())},
                   {"type", "text"},
                   {"text", {{"body", "hola \"sidecar\" \\ {ok}"}}}}}}}}}}}}}}};
}

std::string unique_wamid() {
    return "wamid.dbtest." + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

// A started Database with one ingest worker whose poll comes far beyond the deadline of the
// tests that use it (worker_deadline): only a wake-up can start an ingest in time. The
// deadline leaves room for a backlog other tests may have left in the inbox (FIFO).
db::DbConfig one_worker_without_poll(const std::string& url) {
    auto c = config_for(url);
    c.workers = 1;
    c.poll_interval = 300s;
    return c;
}
constexpr std::chrono::milliseconds worker_deadline = 30s;

struct OneWorker {
    explicit OneWorker(const std::string& url) : d(loop.io, one_worker_without_poll(url)) {
        d.start();
        std::this_thread::sleep_for(300ms);  // the worker is connected, listening, and found nothing due
    }
    Loop loop;  // declared first: it outlives the database
    db::Database d;
};

const std::string worker_test_phone_number_id = "7790001";

// What `query` answers once `done` holds for it, or its last answer after `within`.
template <class Done>
std::string value_when(Sql& sql, const std::string& query, const std::vector<std::string>& params, Done done,
                       std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    std::string value = sql.value(query, params);
    while (!done(value) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        value = sql.value(query, params);
    }
    return value;
}
}  // namespace

// The worker is woken by this process's own commit (its put sends no NOTIFY).
TEST_F(DatabaseTest, WorkerIngestsAStoredWhatsAppPayload) {
    const std::string& phone_number_id = worker_test_phone_number_id;
    sql_->value("SELECT convo.register_account('Sidecar DB Test', $1, '17790001')", {phone_number_id});
    OneWorker w(url_);
    const std::string wamid = unique_wamid();
    const auto o = put_and_wait(w.d, {"whatsapp", text_notification(phone_number_id, wamid).dump(), {}});
    ASSERT_TRUE(o.committed) << o.error;
    const auto body = value_when(*sql_, "SELECT body FROM convo.messages WHERE wamid = $1", {wamid},
                                 [](const std::string& v) { return !v.empty(); }, worker_deadline);
    EXPECT_EQ(body, "hola \"sidecar\" \\ {ok}");
    EXPECT_EQ(sql_->value("SELECT state FROM convo.inbox WHERE inbox_id = $1", {std::to_string(o.inbox_id)}), "done");
    EXPECT_GE(w.d.counters().ingest_done.load(), 1u);
    EXPECT_TRUE(stop_and_wait(w.d));
}

// A body another writer stores (convo.inbox_put, which notifies) wakes the worker through LISTEN.
TEST_F(DatabaseTest, WorkerIsWokenByAnotherWritersNotification) {
    const std::string& phone_number_id = worker_test_phone_number_id;
    sql_->value("SELECT convo.register_account('Sidecar DB Test', $1, '17790001')", {phone_number_id});
    OneWorker w(url_);
    const std::string wamid = unique_wamid();
    const auto id = sql_->value("SELECT convo.inbox_put('whatsapp', $1)", {text_notification(phone_number_id, wamid).dump()});
    const auto state = value_when(*sql_, "SELECT state FROM convo.inbox WHERE inbox_id = $1", {id},
                                  [](const std::string& v) { return v == "done"; }, worker_deadline);
    EXPECT_EQ(state, "done");
    EXPECT_EQ(sql_->value("SELECT count(*) FROM convo.messages WHERE wamid = $1", {wamid}), "1");
    EXPECT_TRUE(stop_and_wait(w.d));
}

TEST_F(DatabaseTest, StopFinishesAndRefusesLaterPuts) {
    Loop loop;
    auto c = config_for(url_);
    c.workers = 2;
    db::Database d(loop.io, c);
    d.start();
    // Puts in flight when stop is asked still get their answer (committed).
    std::vector<std::future<db::PutOutcome>> inflight;
    for (int i = 0; i < 50; ++i) {
        auto p = std::make_shared<std::promise<db::PutOutcome>>();
        inflight.push_back(p->get_future());
        d.put({"vapi", "in flight at stop", {}}, [p](db::PutOutcome o) { p->set_value(std::move(o)); });
    }
    EXPECT_TRUE(stop_and_wait(d));
    for (auto& f : inflight) {
        ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
        const auto o = f.get();
        EXPECT_TRUE(o.committed) << o.error;
    }
    const auto after = put_and_wait(d, {"vapi", "after stop", {}});
    EXPECT_FALSE(after.committed);
    EXPECT_EQ(after.error, "stopping");
    EXPECT_FALSE(health_and_wait(d).reachable);
    EXPECT_EQ(d.counters().pool_connected.load(), 0);
}

// Figures, not a check: run with CONVO_TEST_DB_BENCH=1. A closed loop of 256 puts in flight
// for the rate, then an open loop at 1,000 puts/s for the commit latency.
TEST_F(DatabaseTest, GroupCommitRateAndLatency) {
    if (!std::getenv("CONVO_TEST_DB_BENCH")) GTEST_SKIP() << "CONVO_TEST_DB_BENCH is not set";
    Loop loop;
    db::Database d(loop.io, config_for(url_));
    d.start();
    ASSERT_TRUE(put_and_wait(d, {"vapi", "warm-up", {}}).committed);
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"pad":")" +
                             std::string(600, 'p') + "\",\"bench\":\"" +
                             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "\"}";

    // Closed loop: every answer issues the next put.
    {
        constexpr int total = 20000, in_flight = 256;
        std::atomic<int> issued{0}, answered{0}, failed{0};
        std::promise<void> all;
        std::function<void()> one;
        one = [&] {
            if (issued++ >= total) return;
            d.put({"whatsapp", body, {}}, [&](db::PutOutcome o) {
                if (!o.committed) ++failed;
                if (++answered == total) all.set_value();
                one();
            });
        };
        const auto groups_before = d.counters().commit_groups.load();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < in_flight; ++i) one();
        ASSERT_EQ(all.get_future().wait_for(60s), std::future_status::ready);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("[ bench ] closed loop: %d puts, %d in flight: %.0f puts/s, %llu groups, %d failed\n", total,
                    in_flight, total / s,
                    static_cast<unsigned long long>(d.counters().commit_groups.load() - groups_before), failed.load());
        EXPECT_EQ(failed.load(), 0);
    }
    // Open loop at 1,000/s for 3 s: latency from put() to the callback.
    {
        constexpr int total = 3000;
        std::vector<double> ms(total);
        std::atomic<int> answered{0};
        std::promise<void> all;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < total; ++i) {
            std::this_thread::sleep_until(t0 + std::chrono::microseconds(1000) * i);
            const auto sent = std::chrono::steady_clock::now();
            d.put({"whatsapp", body, {}}, [&, i, sent](db::PutOutcome o) {
                ms[i] = o.committed ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count() : 1e9;
                if (++answered == total) all.set_value();
            });
        }
        ASSERT_EQ(all.get_future().wait_for(30s), std::future_status::ready);
        std::sort(ms.begin(), ms.end());
        std::printf("[ bench ] open loop 1000/s: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", ms[total / 2],
                    ms[total * 99 / 100], ms.back());
    }
    EXPECT_TRUE(stop_and_wait(d));
    sql_->value("DELETE FROM convo.inbox WHERE body = $1", {body});
}
