// The HTTP server and webhook handlers over a real socket, with a stand-in for the database
// (the inbox write and health are functions). The full contract against PostgreSQL is tested
// from outside (tests/sidecar); this covers the server's own edges under the sanitizers.
#include "health.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "metrics/sidecar_metrics.hpp"
#include "webhooks/intake.hpp"
#include "webhooks/signature.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace convo::sidecar;
using namespace std::chrono_literals;

namespace {

// The server on an ephemeral port, two I/O threads, puts recorded and answered as told.
class Harness {
public:
    explicit Harness(std::chrono::milliseconds header_timeout = 2000ms, std::chrono::milliseconds put_delay = 0ms)
        : put_delay_(put_delay), metrics_(nullptr) {
        auto intake = std::make_shared<webhooks::Intake>();
        AccountSecrets account;
        account.name = "default";
        account.meta_app_secret = "app-secret";
        account.meta_verify_token = "verify-me";
        account.twilio_auth_token = "12345";
        account.twilio_public_url = "https://hooks.example";
        account.vapi_secret = "vapi-secret";
        intake->accounts.push_back(account);
        intake->put = [this](db::InboxItem item, std::function<void(db::PutOutcome)> done) {
            {
                std::lock_guard lock(mutex_);
                items_.push_back(item);
            }
            auto timer = std::make_shared<asio::steady_timer>(io_, put_delay_);
            timer->async_wait([this, timer, done = std::move(done)](auto) {
                db::PutOutcome outcome;
                outcome.committed = commit_;
                outcome.error = commit_ ? "" : "database down";
                done(outcome);
            });
        };
        HealthFn health = [this](std::function<void(db::InboxHealth)> done) {
            asio::post(io_, [done = std::move(done)] {
                db::InboxHealth inbox;
                inbox.reachable = true;
                inbox.pending = 2;
                done(inbox);
            });
        };
        webhooks::add_whatsapp_routes(router_, intake);
        webhooks::add_twilio_routes(router_, intake);
        webhooks::add_vapi_routes(router_, intake);
        add_health_routes(router_, health, std::chrono::seconds(60));
        add_metrics_route(router_, health, metrics_);
        server_ = std::make_unique<http::Server>(io_, router_, metrics_, http::Limits{1000, header_timeout, 500ms});
        port_ = server_->start("127.0.0.1", 0).port();
        work_.emplace(io_.get_executor());
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }

    ~Harness() {
        if (!stopped_) stop();
        work_.reset();
        for (auto& thread : threads_) thread.join();
    }

    void stop() {
        std::promise<void> done;
        server_->stop([&done] { done.set_value(); });
        EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
        stopped_ = true;
    }

    tcp::socket connect() {
        tcp::socket socket(client_io_);
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        return socket;
    }

    std::vector<db::InboxItem> items() {
        std::lock_guard lock(mutex_);
        return items_;
    }

    std::atomic<bool> commit_{true};

private:
    std::chrono::milliseconds put_delay_;
    asio::io_context io_;
    asio::io_context client_io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    metrics::SidecarMetrics metrics_;
    http::Router router_;
    std::unique_ptr<http::Server> server_;
    unsigned short port_ = 0;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::vector<db::InboxItem> items_;
    bool stopped_ = false;
};

struct Reply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    std::string allow;
    bool keep_alive = false;
};

Reply read_reply(tcp::socket& socket, boost::beast::flat_buffer& buffer) {
    bhttp::response<bhttp::string_body> response;
    bhttp::read(socket, buffer, response);
    return {response.result_int(), response.body(), std::string(response[bhttp::field::content_type]),
            std::string(response[bhttp::field::allow]), response.keep_alive()};
}

Reply roundtrip(Harness& harness, const std::string& raw) {
    auto socket = harness.connect();
    asio::write(socket, asio::buffer(raw));
    boost::beast::flat_buffer buffer;
    return read_reply(socket, buffer);
}

std::string post(const std::string& path, const std::string& body, const std::string& headers) {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           headers + "\r\n" + body;
}

std::string meta_signed(const std::string& body, const std::string& path = "/webhook/whatsapp") {
    return post(path, body, "X-Hub-Signature-256: sha256=" + webhooks::hmac_sha256_hex("app-secret", body) + "\r\n");
}

// True once the server has closed `socket` (reads EOF) within `within`.
bool closed_within(tcp::socket& socket, std::chrono::milliseconds within) {
    auto start = std::chrono::steady_clock::now();
    char byte;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&byte, 1), ec);
    return ec && std::chrono::steady_clock::now() - start <= within;
}

}  // namespace

TEST(HttpServer, SignedWhatsappIsStoredThenAcknowledged) {
    Harness harness;
    const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
    Reply reply = roundtrip(harness, meta_signed(body));
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.body, "OK");
    auto items = harness.items();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].source, "whatsapp");
    EXPECT_EQ(items[0].body, body);
    EXPECT_EQ(items[0].dead_reason, "");
    // Naming the account works; an unknown account verifies nothing.
    EXPECT_EQ(roundtrip(harness, meta_signed(body, "/webhook/whatsapp/default")).status, 200u);
    EXPECT_EQ(roundtrip(harness, meta_signed(body, "/webhook/whatsapp/other")).status, 401u);
}

TEST(HttpServer, BadSignaturesAre401) {
    Harness harness;
    EXPECT_EQ(roundtrip(harness, post("/webhook/whatsapp", "{}", "")).status, 401u);
    EXPECT_EQ(roundtrip(harness, post("/webhook/whatsapp", "{}", "X-Hub-Signature-256: sha256=00\r\n")).status, 401u);
    std::string other = "X-Hub-Signature-256: sha256=" + webhooks::hmac_sha256_hex("app-secret", "{ }") + "\r\n";
    EXPECT_EQ(roundtrip(harness, post("/webhook/whatsapp", "{}", other)).status, 401u);
    EXPECT_EQ(roundtrip(harness, post("/webhook/vapi", "{}", "X-Vapi-Secret: nope\r\n")).status, 401u);
    EXPECT_EQ(roundtrip(harness, post("/webhook/twilio", "A=1", "X-Twilio-Signature: x\r\n")).status, 401u);
    EXPECT_TRUE(harness.items().empty());
}

TEST(HttpServer, NotTextIsStoredDeadInBase64) {
    Harness harness;
    Reply reply = roundtrip(harness, meta_signed(std::string("{\"a\":\"\xC3\x28\"}")));
    EXPECT_EQ(reply.status, 200u);
    auto items = harness.items();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].dead_reason, "invalid UTF-8 sequence at byte 6; the body is stored base64-encoded");
    EXPECT_EQ(items[0].body, "eyJhIjoiwygifQ==");
}

TEST(HttpServer, UncommittedIs503) {
    Harness harness;
    harness.commit_ = false;
    EXPECT_EQ(roundtrip(harness, meta_signed("{}")).status, 503u);
}

TEST(HttpServer, VerificationHandshake) {
    Harness harness;
    auto get = [&](const std::string& query) {
        return roundtrip(harness, "GET /webhook/whatsapp?" + query + " HTTP/1.1\r\nHost: x\r\n\r\n");
    };
    Reply ok = get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444");
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(ok.body, "1158201444");
    EXPECT_EQ(ok.content_type, "text/plain");
    EXPECT_EQ(get("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1").status, 403u);
    EXPECT_EQ(get("hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1").status, 403u);
    EXPECT_EQ(get("hub.mode=subscribe&hub.verify_token=verify-me").status, 403u);
    EXPECT_EQ(get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=%zz").status, 403u);
}

TEST(HttpServer, TwilioAndVapi) {
    Harness harness;
    const std::string body = "Body=hi+there&From=whatsapp%3A%2B14155550100&MessageSid=SM1";
    const webhooks::FormParams params = {{"Body", "hi there"}, {"From", "whatsapp:+14155550100"}, {"MessageSid", "SM1"}};
    std::string signature = webhooks::twilio_signature("12345", "https://hooks.example/webhook/twilio?x=1", params);
    Reply reply = roundtrip(harness, post("/webhook/twilio?x=1", body, "X-Twilio-Signature: " + signature + "\r\n"));
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.content_type, "text/xml");
    EXPECT_EQ(reply.body, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
    EXPECT_EQ(roundtrip(harness, post("/webhook/twilio", "A=%zz", "X-Twilio-Signature: " + signature + "\r\n")).status,
              400u);

    reply = roundtrip(harness, post("/webhook/vapi", R"({"message":{}})", "X-Vapi-Secret: vapi-secret\r\n"));
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.body, "{}");
    EXPECT_EQ(reply.content_type, "application/json");
    auto items = harness.items();
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].source, "twilio");
    EXPECT_EQ(items[0].body, body);
    EXPECT_EQ(items[1].source, "vapi");
}

TEST(HttpServer, RoutingErrors) {
    Harness harness;
    EXPECT_EQ(roundtrip(harness, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").status, 404u);
    Reply reply = roundtrip(harness, "DELETE /webhook/whatsapp HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(reply.status, 405u);
    EXPECT_EQ(reply.allow, "GET, POST");
    EXPECT_EQ(roundtrip(harness, "GET /webhook/vapi HTTP/1.1\r\nHost: x\r\n\r\n").allow, "POST");
    EXPECT_EQ(roundtrip(harness, "POST /webhook/vapi HTTP/1.1\r\nHost: x\r\n\r\n").status, 411u);
    EXPECT_EQ(roundtrip(harness, "GARBAGE\r\n\r\n").status, 400u);
}

TEST(HttpServer, BodyOverTheLimitIs413AndCloses) {
    Harness harness;
    auto socket = harness.connect();
    std::string body(5000, 'a');
    asio::write(socket, asio::buffer(meta_signed(body)));
    boost::beast::flat_buffer buffer;
    Reply reply = read_reply(socket, buffer);
    EXPECT_EQ(reply.status, 413u);
    EXPECT_FALSE(reply.keep_alive);
    EXPECT_TRUE(closed_within(socket, 3s));
    // Chunked bodies are held to the same limit.
    socket = harness.connect();
    std::string chunked = "POST /webhook/vapi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) chunked += "1f4\r\n" + std::string(500, 'b') + "\r\n";
    chunked += "0\r\n\r\n";
    asio::write(socket, asio::buffer(chunked));
    EXPECT_EQ(read_reply(socket, buffer).status, 413u);
    EXPECT_TRUE(harness.items().empty());
}

// "Expect: 100-continue": the interim 100 comes before the body is sent; a declared body over
// the limit gets its 413 at once, without a 100 and without the body.
TEST(HttpServer, ExpectContinueGetsAnInterim100) {
    Harness harness;
    const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
    const std::string request = meta_signed(body);
    const auto head_end = request.find("\r\n\r\n");
    auto socket = harness.connect();
    asio::write(socket, asio::buffer(request.substr(0, head_end) + "\r\nExpect: 100-continue\r\n\r\n"));
    pollfd readable{socket.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&readable, 1, 2000), 1) << "no interim response within 2 s";
    boost::beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::empty_body> interim_parser;
    bhttp::read_header(socket, buffer, interim_parser);
    EXPECT_EQ(interim_parser.get().result(), bhttp::status::continue_);
    asio::write(socket, asio::buffer(body));
    EXPECT_EQ(read_reply(socket, buffer).status, 200u);
    ASSERT_EQ(harness.items().size(), 1u);
    EXPECT_EQ(harness.items()[0].body, body);

    auto big = harness.connect();
    asio::write(big, asio::buffer(std::string("POST /webhook/vapi HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                                              "Expect: 100-continue\r\n\r\n")));
    boost::beast::flat_buffer big_buffer;
    EXPECT_EQ(read_reply(big, big_buffer).status, 413u);
    EXPECT_EQ(harness.items().size(), 1u);
}

TEST(HttpServer, KeepAliveAndHttp10) {
    Harness harness;
    auto socket = harness.connect();
    boost::beast::flat_buffer buffer;
    for (int i = 0; i < 3; ++i) {
        asio::write(socket, asio::buffer(meta_signed("{}")));
        Reply reply = read_reply(socket, buffer);
        EXPECT_EQ(reply.status, 200u);
        EXPECT_TRUE(reply.keep_alive);
    }
    // Two pipelined requests, answered in order.
    asio::write(socket, asio::buffer(std::string("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n") +
                                     "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(read_reply(socket, buffer).status, 200u);
    EXPECT_EQ(read_reply(socket, buffer).status, 404u);

    auto old = harness.connect();
    asio::write(old, asio::buffer(std::string("GET /health/live HTTP/1.0\r\n\r\n")));
    boost::beast::flat_buffer old_buffer;
    Reply reply = read_reply(old, old_buffer);
    EXPECT_EQ(reply.status, 200u);
    EXPECT_FALSE(reply.keep_alive);
    EXPECT_TRUE(closed_within(old, 3s));
}

TEST(HttpServer, IncompleteRequestTimesOut) {
    Harness harness(300ms);
    auto slow = harness.connect();
    asio::write(slow, asio::buffer(std::string("POST /webhook/vapi HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")));
    // Another client is served meanwhile.
    EXPECT_EQ(roundtrip(harness, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n").status, 200u);
    EXPECT_TRUE(closed_within(slow, 2s));
    auto silent = harness.connect();
    EXPECT_TRUE(closed_within(silent, 2s));  // after the idle timeout (500 ms)
}

// The header timeout starts with a request's first bytes: a connection opened ahead of use,
// silent for longer than it, is still served.
TEST(HttpServer, NewConnectionWaitsUnderTheIdleTimeout) {
    Harness harness(100ms);  // idle timeout 500 ms
    auto socket = harness.connect();
    std::this_thread::sleep_for(300ms);
    boost::beast::flat_buffer buffer;
    asio::write(socket, asio::buffer(std::string("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")));
    EXPECT_EQ(read_reply(socket, buffer).status, 200u);
}

TEST(HttpServer, IdleKeepAliveConnectionCloses) {
    Harness harness;  // idle timeout 500 ms
    auto socket = harness.connect();
    boost::beast::flat_buffer buffer;
    asio::write(socket, asio::buffer(std::string("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")));
    EXPECT_EQ(read_reply(socket, buffer).status, 200u);
    EXPECT_TRUE(closed_within(socket, 2s));
}

TEST(HttpServer, HealthAndMetrics) {
    Harness harness;
    Reply health = roundtrip(harness, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(health.status, 200u);
    EXPECT_NE(health.body.find(R"("status":"ok")"), std::string::npos) << health.body;
    EXPECT_NE(health.body.find(R"("pending":2)"), std::string::npos) << health.body;
    EXPECT_EQ(roundtrip(harness, "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n").status, 200u);
    roundtrip(harness, meta_signed("{}"));
    Reply metrics = roundtrip(harness, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(metrics.body.find(R"(convo_sidecar_http_requests_total{route="/webhook/whatsapp",status="200"} 1)"),
              std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("convo_sidecar_inbox_pending 2\n"), std::string::npos);
}

TEST(HttpServer, StopFinishesRequestsInProgressAndClosesIdleConnections) {
    Harness harness(2000ms, 400ms);  // each put takes 400 ms
    auto idle = harness.connect();
    auto busy = harness.connect();
    asio::write(busy, asio::buffer(meta_signed("{}")));
    std::this_thread::sleep_for(100ms);
    auto started = std::chrono::steady_clock::now();
    std::thread stopper([&harness] { harness.stop(); });
    boost::beast::flat_buffer buffer;
    Reply reply = read_reply(busy, buffer);
    EXPECT_EQ(reply.status, 200u);
    EXPECT_FALSE(reply.keep_alive);
    EXPECT_TRUE(closed_within(idle, 2s));
    stopper.join();
    EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
}
