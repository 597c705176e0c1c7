// convo-sidecar's external contract, over real HTTP against a running sidecar, with its
// database checked through libpq. tests/scenarios/sidecar_http.sh starts both and runs this.
//
// Environment (every test skips when CONVO_SIDECAR_URL or CONVO_TEST_DATABASE_URL is missing):
//   CONVO_SIDECAR_URL                  host:port of the sidecar
//   CONVO_TEST_DATABASE_URL            libpq conninfo of the sidecar's database
//   CONVO_META_APP_SECRET, CONVO_META_VERIFY_TOKEN, CONVO_TWILIO_AUTH_TOKEN,
//   CONVO_TWILIO_PUBLIC_URL, CONVO_VAPI_SECRET   the secrets the sidecar was started with
//   CONVO_TEST_PHONE_NUMBER_ID, CONVO_TEST_DISPLAY_PHONE_NUMBER   the account the tests register
//   CONVO_SIDECAR_HEADER_TIMEOUT_MS, CONVO_SIDECAR_BODY_LIMIT     as given to the sidecar
#include "http_client.hpp"
#include "signing.hpp"
#include "test_database.hpp"
#include "whatsapp_payload.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace convo::sidecar_tests {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

struct Settings {
    std::string host, port, conninfo;
    std::string app_secret = env_or("CONVO_META_APP_SECRET", "");
    std::string verify_token = env_or("CONVO_META_VERIFY_TOKEN", "");
    std::string twilio_token = env_or("CONVO_TWILIO_AUTH_TOKEN", "");
    std::string twilio_url = env_or("CONVO_TWILIO_PUBLIC_URL", "");
    std::string vapi_secret = env_or("CONVO_VAPI_SECRET", "");
    std::string phone_number_id = env_or("CONVO_TEST_PHONE_NUMBER_ID", "100200300499");
    std::string display_phone = env_or("CONVO_TEST_DISPLAY_PHONE_NUMBER", "15550100299");
    std::chrono::milliseconds header_timeout{std::stoll(env_or("CONVO_SIDECAR_HEADER_TIMEOUT_MS", "10000"))};
    std::size_t body_limit = std::stoull(env_or("CONVO_SIDECAR_BODY_LIMIT", "1048576"));
};

std::optional<Settings> settings() {
    std::string url = env_or("CONVO_SIDECAR_URL", "");
    std::string conninfo = env_or("CONVO_TEST_DATABASE_URL", "");
    auto colon = url.rfind(':');
    if (url.empty() || conninfo.empty() || colon == std::string::npos) return std::nullopt;
    Settings s;
    s.host = url.substr(0, colon);
    s.port = url.substr(colon + 1);
    s.conninfo = conninfo;
    return s;
}

// A wamid no other test or run uses.
std::string unique_id(const std::string& tag) {
    static std::atomic<int> counter{0};
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return "wamid.HTTPTEST." + tag + "." + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) +
           "." + std::to_string(counter++);
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The sum of a Prometheus metric's samples whose label set contains every one of `labels`.
double metric(const std::string& text, const std::string& name, const std::vector<std::string>& labels = {}) {
    double sum = 0;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name, 0) != 0) continue;
        auto rest = line.substr(name.size());
        if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;  // a longer name
        bool all = true;
        for (const auto& l : labels) all = all && rest.find(l) != std::string::npos;
        if (!all) continue;
        sum += std::stod(rest.substr(rest.rfind(' ') + 1));
    }
    return sum;
}

class SidecarHttp : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = settings();
        if (!s) GTEST_SKIP() << "CONVO_SIDECAR_URL and CONVO_TEST_DATABASE_URL are not set";
        cfg = *s;
        db.emplace(cfg.conninfo);
        db->value("SELECT convo.register_account('Sidecar HTTP test', $1, $2)", {cfg.phone_number_id, cfg.display_phone});
    }

    HttpClient client() {
        HttpClient c(cfg.host, cfg.port);
        EXPECT_TRUE(c.connect()) << "cannot connect to the sidecar at " << cfg.host << ":" << cfg.port;
        return c;
    }

    // One request on a new connection; a transport error fails the test.
    Response call(Request req, std::chrono::milliseconds timeout = 10s) {
        auto c = client();
        beast::error_code ec;
        auto res = c.exchange(std::move(req), ec, timeout);
        EXPECT_FALSE(ec) << "no answer: " << ec.message();
        return res;
    }

    Response get(const std::string& target) { return call(HttpClient::request(http::verb::get, target)); }

    Request whatsapp_request(const std::string& body, std::optional<std::string> signature = std::nullopt,
                             const std::string& target = "/webhook/whatsapp") {
        std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
        headers["X-Hub-Signature-256"] = signature ? *signature : meta_signature(cfg.app_secret, body);
        if (signature && signature->empty()) headers.erase("X-Hub-Signature-256");
        return HttpClient::request(http::verb::post, target, body, headers);
    }

    std::string text_notification(const std::string& wamid, const std::string& text_json,
                                  std::optional<std::string> phone_number_id = std::nullopt) {
        TextMessage m;
        m.phone_number_id = phone_number_id.value_or(cfg.phone_number_id);
        m.display_phone_number = cfg.display_phone;
        m.wa_id = "5491155500001";
        m.profile_name = "HTTP Test";
        m.wamid = wamid;
        m.timestamp = unix_now();
        m.text_json = text_json;
        return whatsapp_text_notification(m);
    }

    long long last_inbox_id() { return db->number("SELECT coalesce(max(inbox_id), 0) FROM convo.inbox"); }

    // The inbox rows stored after `before` (ids, oldest first).
    std::vector<std::string> inbox_ids_after(long long before) {
        return db->column("SELECT inbox_id FROM convo.inbox WHERE inbox_id > $1 ORDER BY inbox_id",
                          {std::to_string(before)});
    }

    // Waits until the inbox rows after `before` are all done or dead.
    bool drained_after(long long before, std::chrono::milliseconds timeout = 15s) {
        return TestDatabase::poll(
            [&] {
                return db->number("SELECT count(*) FROM convo.inbox WHERE inbox_id > $1 AND state IN ('pending', 'processing')",
                                  {std::to_string(before)}) == 0;
            },
            timeout);
    }

    long long message_count(const std::string& wamid) {
        return db->number("SELECT count(*) FROM convo.messages WHERE wamid = $1", {wamid});
    }

    bool message_arrives(const std::string& wamid) {
        return TestDatabase::poll([&] { return message_count(wamid) > 0; });
    }

    // Sends one signed body expected to be stored dead or dead-lettered: waits for exactly one
    // new inbox row, dead with a reason. Returns its last_error.
    std::string expect_dead_row(const std::string& body, const char* what) {
        auto before = last_inbox_id();
        auto res = call(whatsapp_request(body));
        EXPECT_EQ(res.result_int(), 200u) << what;
        auto ids = inbox_ids_after(before);
        EXPECT_EQ(ids.size(), 1u) << what << ": one inbox row, committed before the 200";
        if (ids.size() != 1) return {};
        bool dead = TestDatabase::poll([&] { return db->text("SELECT state FROM convo.inbox WHERE inbox_id = $1", {ids[0]}) == "dead"; });
        EXPECT_TRUE(dead) << what << ": the inbox row is "
                          << db->text("SELECT state FROM convo.inbox WHERE inbox_id = $1", {ids[0]}) << ", not dead";
        auto reason = db->text("SELECT last_error FROM convo.inbox WHERE inbox_id = $1", {ids[0]});
        EXPECT_FALSE(reason.empty()) << what << ": a dead row says why";
        return reason;
    }

    Settings cfg;
    std::optional<TestDatabase> db;
};

// ---- GET verification handshake ----------------------------------------------------------

TEST_F(SidecarHttp, VerificationWithTheRightTokenEchoesTheChallenge) {
    auto res = get("/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=" + form_encode(cfg.verify_token) +
                   "&hub.challenge=1158201444");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "1158201444");
    EXPECT_EQ(std::string(res[http::field::content_type]).rfind("text/plain", 0), 0u) << res[http::field::content_type];
}

TEST_F(SidecarHttp, VerificationWithAWrongTokenIsForbidden) {
    auto res = get("/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=not-" + form_encode(cfg.verify_token) +
                   "&hub.challenge=1158201444");
    EXPECT_EQ(res.result_int(), 403u);
    EXPECT_EQ(res.body().find("1158201444"), std::string::npos) << "the challenge must not be echoed";
    EXPECT_EQ(get("/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1").result_int(), 403u) << "no token";
}

TEST_F(SidecarHttp, VerificationWithAnotherModeOrNoChallengeIsForbidden) {
    auto token = form_encode(cfg.verify_token);
    EXPECT_EQ(get("/webhook/whatsapp?hub.mode=unsubscribe&hub.verify_token=" + token + "&hub.challenge=7").result_int(), 403u);
    EXPECT_EQ(get("/webhook/whatsapp?hub.verify_token=" + token + "&hub.challenge=7").result_int(), 403u);
    EXPECT_EQ(get("/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=" + token).result_int(), 403u);
}

// ---- POST signatures ---------------------------------------------------------------------

TEST_F(SidecarHttp, WrongMissingOrMalformedSignatureIsUnauthorizedAndNothingIsStored) {
    auto body = text_notification(unique_id("sig"), "unsigned");
    auto before = last_inbox_id();
    EXPECT_EQ(call(whatsapp_request(body, meta_signature("wrong secret", body))).result_int(), 401u) << "wrong secret";
    EXPECT_EQ(call(whatsapp_request(body, meta_signature(cfg.app_secret, body + " "))).result_int(), 401u) << "other bytes";
    EXPECT_EQ(call(whatsapp_request(body, std::string())).result_int(), 401u) << "missing";
    auto good = meta_signature(cfg.app_secret, body);
    EXPECT_EQ(call(whatsapp_request(body, good.substr(7))).result_int(), 401u) << "no sha256= prefix";
    EXPECT_EQ(call(whatsapp_request(body, "sha1=" + good.substr(7))).result_int(), 401u) << "sha1= prefix";
    EXPECT_EQ(call(whatsapp_request(body, "sha256=zz" + good.substr(9))).result_int(), 401u) << "not hex";
    EXPECT_EQ(call(whatsapp_request(body, good.substr(0, good.size() - 2))).result_int(), 401u) << "too short";
    EXPECT_EQ(call(whatsapp_request(body, "sha256=")).result_int(), 401u) << "empty digest";
    EXPECT_TRUE(inbox_ids_after(before).empty()) << "a request with a bad signature stored something";
}

TEST_F(SidecarHttp, AccountPathPicksThatAccountsSecret) {
    auto wamid = unique_id("acct");
    auto body = text_notification(wamid, "by account path");
    EXPECT_EQ(call(whatsapp_request(body, std::nullopt, "/webhook/whatsapp/default")).result_int(), 200u)
        << "/webhook/whatsapp/<account> with that account's secret";
    EXPECT_TRUE(message_arrives(wamid));
}

// ---- Bodies ------------------------------------------------------------------------------

TEST_F(SidecarHttp, ValidTextMessageIsAcknowledgedAndIngested) {
    auto wamid = unique_id("text");
    auto res = call(whatsapp_request(text_notification(wamid, "Hola, \\u00bftienen turnos para ma\\u00f1ana?")));
    EXPECT_EQ(res.result_int(), 200u);
    ASSERT_TRUE(message_arrives(wamid)) << "the message never reached convo.messages";
    EXPECT_EQ(db->text("SELECT body FROM convo.messages WHERE wamid = $1", {wamid}), "Hola, ¿tienen turnos para mañana?");
}

TEST_F(SidecarHttp, BodyOverTheLimitIs413AndTheConnectionCloses) {
    std::string body(cfg.body_limit + 1, 'x');
    auto c = client();
    std::ostringstream head;
    head << "POST /webhook/whatsapp HTTP/1.1\r\nHost: sidecar.test\r\nContent-Type: application/json\r\n"
         << "X-Hub-Signature-256: " << meta_signature(cfg.app_secret, body) << "\r\nContent-Length: " << body.size()
         << "\r\n\r\n";
    beast::error_code ec;
    c.write_raw(head.str(), ec);
    ASSERT_FALSE(ec) << ec.message();
    // The server may answer from the header alone; then sending the body is pointless (and a
    // reset could eat the answer). Otherwise it needs to see the bytes over the limit.
    Response res = c.read_response(ec, 500ms);
    if (ec == beast::error::timeout) {
        c = client();
        c.write_raw(head.str() + body, ec, 10s);
        res = c.read_response(ec);
    }
    ASSERT_FALSE(ec) << "no answer to an oversized body: " << ec.message();
    EXPECT_EQ(res.result_int(), 413u);
    EXPECT_TRUE(c.closed_by_peer(3s)) << "the connection stays open after a 413";
}

TEST_F(SidecarHttp, TruncatedJsonIsAcknowledgedAndDeadLettered) {
    auto body = text_notification(unique_id("trunc"), "cut short");
    auto reason = expect_dead_row(body.substr(0, body.size() - 12), "truncated JSON");
    SCOPED_TRACE(reason);
}

TEST_F(SidecarHttp, JsonThatIsNotANotificationIsDeadLetteredNotRetriedForever) {
    auto before = last_inbox_id();
    auto reason = expect_dead_row(R"({"hello":"world","entry":"not an array"})", "not a notification");
    auto attempts = db->number("SELECT max(attempts) FROM convo.inbox WHERE inbox_id > $1", {std::to_string(before)});
    EXPECT_LE(attempts, 1) << "a body that can never be ingested was attempted " << attempts << " times";
}

TEST_F(SidecarHttp, NulEscapeInTextIsStoredWithoutTheNul) {
    auto wamid = unique_id("nul");
    EXPECT_EQ(call(whatsapp_request(text_notification(wamid, "before\\u0000after"))).result_int(), 200u);
    ASSERT_TRUE(message_arrives(wamid));
    EXPECT_EQ(db->text("SELECT body FROM convo.messages WHERE wamid = $1", {wamid}), "beforeafter");
}

TEST_F(SidecarHttp, InvalidUtf8IsAcknowledgedAndStoredDead) {
    auto body = text_notification(unique_id("utf8"), "bad \xC3\x28 bytes \xFF here");
    expect_dead_row(body, "invalid UTF-8");
    EXPECT_EQ(get("/health/live").result_int(), 200u) << "the sidecar survives invalid UTF-8";
}

TEST_F(SidecarHttp, RawNulByteIsAcknowledgedAndStoredDead) {
    auto body = text_notification(unique_id("rawnul"), std::string("raw ") + '\0' + " nul");
    expect_dead_row(body, "raw NUL byte");
}

TEST_F(SidecarHttp, LargeTextIsStoredWhole) {
    auto wamid = unique_id("large");
    std::string text;
    for (int i = 0; text.size() < 65536; ++i) text += "chunk " + std::to_string(i) + " of a long message. ";
    text.resize(65536);
    EXPECT_EQ(call(whatsapp_request(text_notification(wamid, text))).result_int(), 200u);
    ASSERT_TRUE(message_arrives(wamid));
    EXPECT_EQ(db->text("SELECT md5(body) FROM convo.messages WHERE wamid = $1", {wamid}),
              db->text("SELECT md5($1)", {text}));
}

TEST_F(SidecarHttp, UnknownPhoneNumberIdLandsInUnroutable) {
    auto wamid = unique_id("unroutable");
    std::string stranger = "9" + std::to_string(unix_now()) + "7";
    EXPECT_EQ(call(whatsapp_request(text_notification(wamid, "to nobody", stranger))).result_int(), 200u);
    EXPECT_TRUE(TestDatabase::poll([&] {
        return db->number("SELECT count(*) FROM convo.unroutable WHERE address = $1", {stranger}) == 1;
    })) << "no convo.unroutable row for phone_number_id " << stranger;
    EXPECT_EQ(message_count(wamid), 0);
}

TEST_F(SidecarHttp, SameWebhookTwiceAndTwentyAtOnceMakeOneMessage) {
    auto wamid = unique_id("dup");
    auto body = text_notification(wamid, "sent again and again");
    auto before = last_inbox_id();
    EXPECT_EQ(call(whatsapp_request(body)).result_int(), 200u);
    EXPECT_EQ(call(whatsapp_request(body)).result_int(), 200u);

    constexpr int parallel = 20;
    std::barrier start(parallel);
    std::vector<unsigned> statuses(parallel, 0);
    std::vector<std::thread> senders;
    for (int i = 0; i < parallel; ++i) {
        senders.emplace_back([&, i] {
            HttpClient c(cfg.host, cfg.port);
            if (!c.connect()) return;
            start.arrive_and_wait();
            beast::error_code ec;
            auto res = c.exchange(whatsapp_request(body), ec);
            if (!ec) statuses[i] = res.result_int();
        });
    }
    for (auto& t : senders) t.join();
    for (int i = 0; i < parallel; ++i) EXPECT_EQ(statuses[i], 200u) << "parallel sender " << i;
    ASSERT_TRUE(drained_after(before)) << "the inbox was not drained";
    EXPECT_EQ(message_count(wamid), 1);
}

// ---- Connections -------------------------------------------------------------------------

TEST_F(SidecarHttp, SlowClientIsCutOffWhileOthersAreServed) {
    auto slow = client();
    std::string request = "POST /webhook/whatsapp HTTP/1.1\r\nHost: sidecar.test\r\nContent-Length: 10\r\n\r\n0123456789";
    std::atomic<bool> stop{false};
    std::atomic<int> fast_ok{0}, fast_bad{0};
    std::atomic<long long> fast_worst_us{0};
    std::thread fast([&] {
        auto c = client();
        while (!stop) {
            auto t0 = Clock::now();
            beast::error_code ec;
            auto res = c.exchange(HttpClient::request(http::verb::get, "/health/live"), ec, 5s);
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
            if (ec || res.result_int() != 200) {
                ++fast_bad;
                c.connect();
            } else {
                ++fast_ok;
            }
            if (us > fast_worst_us) fast_worst_us = us;
            std::this_thread::sleep_for(100ms);
        }
    });

    auto t0 = Clock::now();
    auto give_up = t0 + cfg.header_timeout + 5s;
    bool closed = false;
    for (std::size_t i = 0; i < request.size() && Clock::now() < give_up && !closed; ++i) {
        beast::error_code ec;
        slow.write_raw(request.substr(i, 1), ec);
        // One byte a second, looking for the close every 50 ms meanwhile.
        for (auto next = Clock::now() + 1s; !ec && !closed && Clock::now() < next;) {
            std::this_thread::sleep_for(50ms);
            closed = slow.peer_closed_now();
        }
        if (ec) closed = true;
    }
    auto elapsed = Clock::now() - t0;
    stop = true;
    fast.join();

    EXPECT_TRUE(closed) << "a client sending one byte a second was never cut off";
    EXPECT_LE(elapsed, cfg.header_timeout + 2s) << "cut off after "
                                               << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                                               << " ms, timeout " << cfg.header_timeout.count() << " ms";
    EXPECT_GE(elapsed, cfg.header_timeout * 8 / 10) << "cut off before the header timeout";
    EXPECT_GT(fast_ok.load(), 5);
    EXPECT_EQ(fast_bad.load(), 0) << "another client's requests failed meanwhile";
    EXPECT_LT(fast_worst_us.load(), 500000) << "another client waited " << fast_worst_us.load() << " µs";
}

TEST_F(SidecarHttp, TenThousandRequestsOnOneKeepAliveConnection) {
    auto c = client();
    int ok = 0;
    for (int i = 0; i < 10000; ++i) {
        beast::error_code ec;
        auto res = c.exchange(HttpClient::request(http::verb::get, "/health/live"), ec);
        if (ec) {
            ADD_FAILURE() << "request " << i << " on the kept-alive connection: " << ec.message();
            break;
        }
        ok += res.result_int() == 200;
    }
    EXPECT_EQ(ok, 10000);
}

TEST_F(SidecarHttp, PostWithoutContentLengthIs411) {
    auto c = client();
    auto body = text_notification(unique_id("nolength"), "no length");
    std::string request = "POST /webhook/whatsapp HTTP/1.1\r\nHost: sidecar.test\r\nContent-Type: application/json\r\n"
                          "X-Hub-Signature-256: " + meta_signature(cfg.app_secret, body) + "\r\n\r\n";
    beast::error_code ec;
    c.write_raw(request, ec);
    ASSERT_FALSE(ec);
    auto res = c.read_response(ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 411u);
}

TEST_F(SidecarHttp, Http10RequestIsAnsweredAndClosed) {
    auto c = client();
    beast::error_code ec;
    c.write_raw("GET /health/live HTTP/1.0\r\n\r\n", ec);
    ASSERT_FALSE(ec);
    auto res = c.read_response(ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(c.closed_by_peer(2s)) << "an HTTP/1.0 connection without keep-alive stays open";
}

TEST_F(SidecarHttp, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    EXPECT_EQ(get("/nope").result_int(), 404u);
    auto res = call(HttpClient::request(http::verb::delete_, "/webhook/whatsapp"));
    EXPECT_EQ(res.result_int(), 405u);
    EXPECT_FALSE(std::string(res[http::field::allow]).empty()) << "405 without Allow";
}

// ---- Twilio and Vapi ---------------------------------------------------------------------

TEST_F(SidecarHttp, TwilioSignedFormGetsTwimlAndAMessage) {
    std::string sid = "SM" + std::to_string(unix_now()) + std::to_string(std::rand() % 100000) + "0123456789abcdef";
    std::vector<std::pair<std::string, std::string>> form{
        {"SmsMessageSid", sid},  {"NumMedia", "0"},   {"ProfileName", "Twilio Tester"},
        {"MessageType", "text"}, {"SmsSid", sid},     {"WaId", "5491155500002"},
        {"SmsStatus", "received"}, {"Body", "Hola desde Twilio & co = 100%"},
        {"To", "whatsapp:+" + cfg.display_phone},     {"NumSegments", "1"},
        {"MessageSid", sid},     {"AccountSid", "AC00000000000000000000000000000000"},
        {"From", "whatsapp:+5491155500002"},          {"ApiVersion", "2010-04-01"}};
    auto body = form_body(form);
    auto signature = twilio_signature(cfg.twilio_token, cfg.twilio_url + "/webhook/twilio", form);
    auto res = call(HttpClient::request(http::verb::post, "/webhook/twilio", body,
                                        {{"Content-Type", "application/x-www-form-urlencoded"},
                                         {"X-Twilio-Signature", signature}}));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(std::string(res[http::field::content_type]).rfind("text/xml", 0), 0u) << res[http::field::content_type];
    EXPECT_EQ(res.body(), R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
    ASSERT_TRUE(message_arrives(sid));
    EXPECT_EQ(db->text("SELECT body FROM convo.messages WHERE wamid = $1", {sid}), "Hola desde Twilio & co = 100%");
}

TEST_F(SidecarHttp, TwilioWrongOrMissingSignatureIsUnauthorized) {
    std::vector<std::pair<std::string, std::string>> form{{"MessageSid", "SMbad"}, {"Body", "x"}};
    auto body = form_body(form);
    auto wrong = twilio_signature(cfg.twilio_token + "x", cfg.twilio_url + "/webhook/twilio", form);
    auto other_url = twilio_signature(cfg.twilio_token, cfg.twilio_url + "/webhook/other", form);
    auto before = last_inbox_id();
    for (const auto& sig : {wrong, other_url, std::string()}) {
        std::map<std::string, std::string> headers{{"Content-Type", "application/x-www-form-urlencoded"}};
        if (!sig.empty()) headers["X-Twilio-Signature"] = sig;
        EXPECT_EQ(call(HttpClient::request(http::verb::post, "/webhook/twilio", body, headers)).result_int(), 401u)
            << "signature '" << sig << "'";
    }
    EXPECT_TRUE(inbox_ids_after(before).empty());
}

TEST_F(SidecarHttp, VapiWithTheSecretIsStoredWithoutItUnauthorized) {
    std::string body = R"({"message":{"type":"status-update","status":"in-progress","call":{"id":")" +
                       unique_id("vapi") + R"("}}})";
    auto before = last_inbox_id();
    auto send = [&](std::optional<std::string> secret) {
        std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
        if (secret) headers["X-Vapi-Secret"] = *secret;
        return call(HttpClient::request(http::verb::post, "/webhook/vapi", body, headers));
    };
    EXPECT_EQ(send(std::nullopt).result_int(), 401u);
    EXPECT_EQ(send(cfg.vapi_secret + "x").result_int(), 401u);
    EXPECT_TRUE(inbox_ids_after(before).empty());
    auto res = send(cfg.vapi_secret);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "{}");
    EXPECT_EQ(std::string(res[http::field::content_type]).rfind("application/json", 0), 0u);
    auto ids = inbox_ids_after(before);
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(db->text("SELECT source FROM convo.inbox WHERE inbox_id = $1", {ids[0]}), "vapi");
    EXPECT_EQ(db->text("SELECT body FROM convo.inbox WHERE inbox_id = $1", {ids[0]}), body);
}

// ---- Health and metrics ------------------------------------------------------------------

TEST_F(SidecarHttp, HealthReportsTheDatabaseAndTheInbox) {
    const std::string dead_rows = "SELECT count(*) FROM convo.inbox WHERE state = 'dead'";
    auto dead_before = db->number(dead_rows);
    auto res = get("/health");
    auto dead_after = db->number(dead_rows);
    ASSERT_EQ(res.result_int(), 200u);
    auto j = nlohmann::json::parse(res.body());
    EXPECT_EQ(j.value("status", ""), "ok") << res.body();
    EXPECT_EQ(j.value("version", ""), "0.1.0");
    EXPECT_EQ(j["database"].value("reachable", false), true) << res.body();
    EXPECT_TRUE(j["inbox"]["pending"].is_number_integer()) << res.body();
    EXPECT_TRUE(j["inbox"]["dead"].is_number_integer()) << res.body();
    EXPECT_TRUE(j["inbox"]["oldest_pending_seconds"].is_number()) << res.body();
    EXPECT_GE(j["inbox"].value("dead", -1), dead_before) << res.body();
    EXPECT_LE(j["inbox"].value("dead", -1), dead_after) << res.body();
}

TEST_F(SidecarHttp, LiveAndReady) {
    auto live = get("/health/live");
    EXPECT_EQ(live.result_int(), 200u);
    EXPECT_EQ(nlohmann::json::parse(live.body()).value("status", ""), "live");
    auto ready = get("/health/ready");
    EXPECT_EQ(ready.result_int(), 200u) << ready.body();
    EXPECT_EQ(nlohmann::json::parse(ready.body()).value("status", ""), "ready");
}

TEST_F(SidecarHttp, MetricsCountersMove) {
    auto first = get("/metrics");
    ASSERT_EQ(first.result_int(), 200u);
    EXPECT_EQ(std::string(first[http::field::content_type]).rfind("text/plain", 0), 0u);
    for (const char* name :
         {"convo_sidecar_http_requests_total", "convo_sidecar_http_request_duration_seconds_bucket",
          "convo_sidecar_http_request_duration_seconds_sum", "convo_sidecar_http_request_duration_seconds_count",
          "convo_sidecar_inbox_puts_total", "convo_sidecar_commit_groups_total", "convo_sidecar_ingest_total",
          "convo_sidecar_ingest_errors_total", "convo_sidecar_inbox_pending", "convo_sidecar_inbox_dead",
          "convo_sidecar_inbox_oldest_pending_seconds", "convo_sidecar_pool_connections", "convo_sidecar_puts_waiting"})
        EXPECT_NE(first.body().find(std::string("\n") + name), std::string::npos) << name << " missing from /metrics";

    auto wamid = unique_id("metrics");
    EXPECT_EQ(call(whatsapp_request(text_notification(wamid, "counted"))).result_int(), 200u);
    EXPECT_EQ(call(whatsapp_request("{}", meta_signature("wrong", "{}"))).result_int(), 401u);
    ASSERT_TRUE(message_arrives(wamid));
    auto second = get("/metrics");
    const auto& a = first.body();
    const auto& b = second.body();
    EXPECT_GE(metric(b, "convo_sidecar_http_requests_total", {"status=\"200\""}),
              metric(a, "convo_sidecar_http_requests_total", {"status=\"200\""}) + 1);
    EXPECT_GE(metric(b, "convo_sidecar_http_requests_total", {"status=\"401\""}),
              metric(a, "convo_sidecar_http_requests_total", {"status=\"401\""}) + 1);
    EXPECT_GE(metric(b, "convo_sidecar_inbox_puts_total", {"result=\"committed\""}),
              metric(a, "convo_sidecar_inbox_puts_total", {"result=\"committed\""}) + 1);
    EXPECT_GE(metric(b, "convo_sidecar_commit_groups_total"), metric(a, "convo_sidecar_commit_groups_total") + 1);
    EXPECT_TRUE(TestDatabase::poll([&] {
        auto now = get("/metrics").body();
        return metric(now, "convo_sidecar_ingest_total", {"result=\"done\""}) >=
               metric(a, "convo_sidecar_ingest_total", {"result=\"done\""}) + 1;
    })) << "ingest_total{result=\"done\"} did not move";
    EXPECT_GE(metric(b, "convo_sidecar_http_request_duration_seconds_count"),
              metric(a, "convo_sidecar_http_request_duration_seconds_count") + 2);
    EXPECT_GT(metric(b, "convo_sidecar_pool_connections", {"state=\"connected\""}), 0);
    EXPECT_GT(metric(b, "convo_sidecar_pool_connections", {"state=\"configured\""}), 0);
}

}  // namespace
}  // namespace convo::sidecar_tests
