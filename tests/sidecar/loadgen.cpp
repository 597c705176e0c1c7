// convo-loadgen: signed WhatsApp text webhooks against a running convo-sidecar, as Meta sends
// them, with the numbers a capacity test needs.
//
//   convo-loadgen --target 127.0.0.1:8080 --rate 1000 --duration 20 --connections 16
//   convo-loadgen --target 127.0.0.1:8080 --count 10000            (as fast as possible)
//
// Open loop: webhook i is due at start + i/rate whatever the server does, and its latency is
// measured from that due time, so a stalled server shows up as latency instead of as a lower
// send rate (no coordinated omission). With no --rate, every free connection sends at once.
//
// Like Meta, a webhook that gets no answer, a connection error or a 5xx is sent again after a
// backoff (reconnecting as needed) until it gets a 200; other statuses are counted and given up.
// The server may die and come back: connections are re-established with a capped backoff.
//
// The app secret comes from --secret or, better (not visible in ps), CONVO_META_APP_SECRET.
// Prints one JSON object with the summary on stdout; --progress adds one JSON line a second on
// stderr. --acked-file writes the wamid of every acknowledged webhook, one a line.
#include "signing.hpp"
#include "whatsapp_payload.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::string port = "8080";
    std::string path = "/webhook/whatsapp";
    std::uint64_t count = 0;        // 0: from rate * duration, or unbounded within duration
    double duration_s = 0;          // 0: until count
    double rate = 0;                // webhooks per second; 0: as fast as possible
    int connections = 8;
    std::string secret;
    std::string phone_number_id = "100200300400";
    std::string display_phone_number = "15550100200";
    int contacts = 1000;            // customers the messages come from (round robin)
    std::string wamid_prefix;       // default: wamid.LG<start time>.
    std::string acked_file;
    int timeout_ms = 10000;         // no answer within this: counted as no-answer, retried
    int backoff_ms = 100;           // first retry delay, doubling per attempt
    int backoff_max_ms = 1000;
    double max_wait_s = 300;        // after the last webhook is due, give up on unacked ones
    bool progress = false;
};

[[noreturn]] void usage(const std::string& error) {
    std::cerr << "convo-loadgen: " << error << "\n"
              << "usage: convo-loadgen --target HOST:PORT [--path P] [--count N] [--duration S] [--rate R]\n"
                 "         [--connections K] [--secret S (or env CONVO_META_APP_SECRET)] [--phone-number-id ID]\n"
                 "         [--display-phone-number D] [--contacts N] [--wamid-prefix P] [--acked-file F]\n"
                 "         [--timeout-ms MS] [--backoff-ms MS] [--backoff-max-ms MS] [--max-wait S] [--progress]\n";
    std::exit(2);
}

double number(const std::string& name, const std::string& value) {
    try {
        std::size_t used = 0;
        double v = std::stod(value, &used);
        if (used != value.size() || v < 0) throw std::invalid_argument(name);
        return v;
    } catch (const std::exception&) {
        usage(name + " must be a non-negative number");
    }
}

Options parse(int argc, char** argv) {
    Options o;
    if (const char* s = std::getenv("CONVO_META_APP_SECRET")) o.secret = s;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--progress") {
            o.progress = true;
            continue;
        }
        std::string value;
        if (auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            usage(arg + " needs a value");
        }
        if (arg == "--target") {
            auto colon = value.rfind(':');
            if (colon == std::string::npos) usage("--target is HOST:PORT");
            o.host = value.substr(0, colon);
            o.port = value.substr(colon + 1);
        } else if (arg == "--path") o.path = value;
        else if (arg == "--count") o.count = static_cast<std::uint64_t>(number(arg, value));
        else if (arg == "--duration") o.duration_s = number(arg, value);
        else if (arg == "--rate") o.rate = number(arg, value);
        else if (arg == "--connections") o.connections = std::max(1, static_cast<int>(number(arg, value)));
        else if (arg == "--secret") o.secret = value;
        else if (arg == "--phone-number-id") o.phone_number_id = value;
        else if (arg == "--display-phone-number") o.display_phone_number = value;
        else if (arg == "--contacts") o.contacts = std::max(1, static_cast<int>(number(arg, value)));
        else if (arg == "--wamid-prefix") o.wamid_prefix = value;
        else if (arg == "--acked-file") o.acked_file = value;
        else if (arg == "--timeout-ms") o.timeout_ms = static_cast<int>(number(arg, value));
        else if (arg == "--backoff-ms") o.backoff_ms = static_cast<int>(number(arg, value));
        else if (arg == "--backoff-max-ms") o.backoff_max_ms = static_cast<int>(number(arg, value));
        else if (arg == "--max-wait") o.max_wait_s = number(arg, value);
        else usage("unknown option " + arg);
    }
    if (o.secret.empty()) usage("no app secret: --secret or CONVO_META_APP_SECRET");
    if (o.count == 0 && o.duration_s == 0) usage("give --count or --duration");
    if (o.count == 0 && o.rate > 0) o.count = static_cast<std::uint64_t>(std::llround(o.rate * o.duration_s));
    if (o.wamid_prefix.empty()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
        o.wamid_prefix = "wamid.LG" + std::to_string(ms) + ".";
    }
    return o;
}

// One webhook: where it stands. The body is rebuilt from the index on every attempt.
struct Webhook {
    Clock::time_point due;
    int attempts = 0;
    bool done = false;   // acked, or given up after a status that is not retried
    bool acked = false;
};

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// p-th percentile (nearest rank) of sorted values, in milliseconds.
double percentile_ms(const std::vector<double>& sorted_us, double p) {
    if (sorted_us.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted_us.size())));
    return sorted_us[std::min(sorted_us.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
}

std::string latency_json(std::vector<double>& us) {
    std::sort(us.begin(), us.end());
    char buf[256];
    std::snprintf(buf, sizeof buf, R"({"count":%zu,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f})",
                  us.size(), percentile_ms(us, 50), percentile_ms(us, 90), percentile_ms(us, 99),
                  us.empty() ? 0.0 : us.back() / 1000.0);
    return buf;
}

class LoadGenerator {
public:
    explicit LoadGenerator(Options o) : opt_(std::move(o)), timer_(io_) {
        // Resolved once: a dying server must not turn into DNS lookups.
        endpoints_ = tcp::resolver(io_).resolve(opt_.host, opt_.port);
        for (int i = 0; i < opt_.connections; ++i) conns_.push_back(std::make_unique<Conn>(io_, i));
        if (opt_.count > 0) hooks_.reserve(opt_.count);
    }

    int run() {
        start_ = Clock::now();
        last_progress_ = start_;
        pump();
        io_.run();
        return report();
    }

private:
    enum class State { down, connecting, idle, busy };

    struct Conn {
        Conn(asio::io_context& io, int i) : socket(io), index(i) {}
        tcp::socket socket;
        int index;
        State state = State::down;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::response<http::string_body> res;
        std::size_t current = 0;            // the webhook in flight
        Clock::time_point sent_at;
        Clock::time_point reconnect_at{};
        int failures = 0;                   // consecutive connection failures, for the backoff
        std::uint64_t generation = 0;       // bumped on close: stale handlers see a new number
    };

    // Everything that is due now: new webhooks, retries, timeouts, reconnects, sends. Then sleep
    // until the next due time (at most 20 ms, for timeouts and reconnects).
    void pump() {
        auto now = Clock::now();
        schedule_new(now);
        while (!retries_.empty() && retries_.top().first <= now) {
            ready_.push_back(retries_.top().second);
            retries_.pop();
        }
        for (auto& c : conns_) {
            if (c->state == State::busy && now - c->sent_at > std::chrono::milliseconds(opt_.timeout_ms)) {
                ++no_answer_;
                fail_in_flight(*c);
                close(*c, now);
            }
        }
        dispatch(now);
        if (opt_.progress && now - last_progress_ >= 1s) {
            last_progress_ = now;
            progress(now);
        }
        if (finished(now)) {
            for (auto& c : conns_) close(*c, now);
            timer_.cancel();
            return;
        }
        auto next = now + 20ms;
        if (opt_.rate > 0 && !generation_over(now)) next = std::min(next, due_time(hooks_.size()));
        if (!retries_.empty()) next = std::min(next, retries_.top().first);
        timer_.expires_at(next);
        timer_.async_wait([this](beast::error_code ec) {
            if (!ec) pump();
        });
    }

    Clock::time_point due_time(std::uint64_t i) const {
        return start_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(i) / opt_.rate));
    }

    bool generation_over(Clock::time_point now) const {
        if (opt_.count > 0 && hooks_.size() >= opt_.count) return true;
        return opt_.duration_s > 0 && now - start_ >= std::chrono::duration<double>(opt_.duration_s);
    }

    void schedule_new(Clock::time_point now) {
        if (opt_.rate <= 0) return;  // as fast as possible: made on demand in dispatch
        while (!generation_over(now) && due_time(hooks_.size()) <= now) {
            ready_.push_back(hooks_.size());
            hooks_.push_back(Webhook{due_time(hooks_.size())});
        }
    }

    bool finished(Clock::time_point now) {
        if (!generation_over(now)) return false;
        if (done_ == hooks_.size()) return true;
        if (!wait_started_) {
            wait_started_ = true;
            wait_start_ = now;
        }
        return now - wait_start_ > std::chrono::duration<double>(opt_.max_wait_s);
    }

    void dispatch(Clock::time_point now) {
        for (auto& cp : conns_) {
            Conn& c = *cp;
            if (c.state == State::down && now >= c.reconnect_at && !idle_forever(now)) connect(c);
            if (c.state != State::idle) continue;
            if (ready_.empty() && opt_.rate <= 0 && !generation_over(now)) {
                ready_.push_back(hooks_.size());
                hooks_.push_back(Webhook{now});
            }
            if (ready_.empty()) continue;
            std::size_t i = ready_.front();
            ready_.pop_front();
            send(c, i, now);
        }
    }

    // Nothing left to send now or later: connections need not come back.
    bool idle_forever(Clock::time_point now) const {
        return generation_over(now) && ready_.empty() && retries_.empty();
    }

    void connect(Conn& c) {
        c.state = State::connecting;
        auto gen = c.generation;
        asio::async_connect(c.socket, endpoints_, [this, &c, gen](beast::error_code ec, const tcp::endpoint&) {
            if (gen != c.generation) return;
            auto now = Clock::now();
            if (ec) {
                ++connect_errors_;
                ++c.failures;
                close(c, now);
                return;
            }
            ++connects_;
            c.failures = 0;
            c.socket.set_option(tcp::no_delay(true));
            c.state = State::idle;
            dispatch(now);
        });
    }

    std::string body(std::size_t i) const {
        convo::sidecar_tests::TextMessage m;
        m.phone_number_id = opt_.phone_number_id;
        m.display_phone_number = opt_.display_phone_number;
        auto contact = static_cast<std::uint64_t>(i % static_cast<std::size_t>(opt_.contacts));
        m.wa_id = std::to_string(5491100000000ULL + contact);
        m.profile_name = "Load Customer " + std::to_string(contact);
        m.wamid = wamid(i);
        m.timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
        m.text_json = "Hola, \\u00bftienen turnos para ma\\u00f1ana? Pedido n\\u00famero " + std::to_string(i);
        return convo::sidecar_tests::whatsapp_text_notification(m);
    }

    std::string wamid(std::size_t i) const { return opt_.wamid_prefix + std::to_string(i); }

    void send(Conn& c, std::size_t i, Clock::time_point now) {
        Webhook& h = hooks_[i];
        if (h.attempts == 0) {
            ++sent_;
            last_first_send_ = now;
        }
        ++h.attempts;
        ++attempts_;
        c.state = State::busy;
        c.current = i;
        c.sent_at = now;
        c.req = {};
        c.req.method(http::verb::post);
        c.req.target(opt_.path);
        c.req.version(11);
        c.req.set(http::field::host, opt_.host);
        c.req.set(http::field::user_agent, "facebookexternalua");
        c.req.set(http::field::content_type, "application/json");
        c.req.body() = body(i);
        c.req.set("X-Hub-Signature-256", convo::sidecar_tests::meta_signature(opt_.secret, c.req.body()));
        c.req.keep_alive(true);
        c.req.prepare_payload();
        auto gen = c.generation;
        http::async_write(c.socket, c.req, [this, &c, gen](beast::error_code ec, std::size_t) {
            if (gen != c.generation) return;
            if (ec) return lost_connection(c);
            c.res = {};
            http::async_read(c.socket, c.buffer, c.res, [this, &c, gen](beast::error_code ec2, std::size_t) {
                if (gen != c.generation) return;
                if (ec2) return lost_connection(c);
                on_response(c);
            });
        });
    }

    void lost_connection(Conn& c) {
        auto now = Clock::now();
        ++no_answer_;
        ++c.failures;
        fail_in_flight(c);
        close(c, now);
        dispatch(now);
    }

    void on_response(Conn& c) {
        auto now = Clock::now();
        Webhook& h = hooks_[c.current];
        unsigned status = c.res.result_int();
        ++statuses_[status];
        c.state = State::idle;
        if (status == 200) {
            h.acked = h.done = true;
            ++done_;
            double us = micros(now - h.due);
            final_us_.push_back(us);
            if (h.attempts == 1) first_us_.push_back(us);
            acked_.push_back(c.current);
            last_ack_ = now;
        } else if (status >= 500) {
            retry(c.current, now);
        } else {
            h.done = true;  // a 4xx is a bug on one side or the other: retrying will not fix it
            ++done_;
        }
        if (!c.res.keep_alive()) close(c, now, false);
        dispatch(now);
    }

    void fail_in_flight(Conn& c) {
        if (c.state == State::busy) retry(c.current, Clock::now());
    }

    void retry(std::size_t i, Clock::time_point now) {
        int exp = std::min(hooks_[i].attempts - 1, 16);
        auto delay = std::min<std::int64_t>(static_cast<std::int64_t>(opt_.backoff_ms) << exp, opt_.backoff_max_ms);
        retries_.push({now + std::chrono::milliseconds(delay), i});
    }

    // Closes the socket; `backoff` delays the reconnect when the server seems to be down.
    void close(Conn& c, Clock::time_point now, bool backoff = true) {
        ++c.generation;
        beast::error_code ignored;
        c.socket.shutdown(tcp::socket::shutdown_both, ignored);
        c.socket.close(ignored);
        c.buffer.consume(c.buffer.size());
        c.state = State::down;
        int exp = std::min(c.failures, 5);
        c.reconnect_at = backoff && c.failures > 0 ? now + std::min(std::chrono::milliseconds(25 << exp),
                                                                     std::chrono::milliseconds(opt_.backoff_max_ms))
                                                   : now;
    }

    void progress(Clock::time_point now) {
        std::size_t busy = 0;
        for (auto& c : conns_) busy += c->state == State::busy;
        std::fprintf(stderr,
                     R"({"t_s":%.1f,"sent":%zu,"acked":%zu,"in_flight":%zu,"queued":%zu,"retrying":%zu,"status_503":%llu,"no_answer":%llu,"connect_errors":%llu})"
                     "\n",
                     std::chrono::duration<double>(now - start_).count(), sent_, acked_.size(), busy, ready_.size(),
                     retries_.size(), static_cast<unsigned long long>(status_count(503)),
                     static_cast<unsigned long long>(no_answer_), static_cast<unsigned long long>(connect_errors_));
    }

    std::uint64_t status_count(unsigned s) const {
        auto it = statuses_.find(s);
        return it == statuses_.end() ? 0 : it->second;
    }

    int report() {
        auto end = Clock::now();
        if (!opt_.acked_file.empty()) {
            std::ofstream out(opt_.acked_file);
            for (std::size_t i : acked_) out << wamid(i) << '\n';
            if (!out) {
                std::cerr << "convo-loadgen: cannot write " << opt_.acked_file << "\n";
                return 1;
            }
        }
        std::uint64_t other = 0;
        std::string statuses;
        for (auto [s, n] : statuses_) {
            if (s != 200 && s != 503) other += n;
            statuses += (statuses.empty() ? "" : ",") + ("\"" + std::to_string(s) + "\":" + std::to_string(n));
        }
        double gen_s = std::chrono::duration<double>(last_first_send_ - start_).count();
        double total_s = std::chrono::duration<double>(end - start_).count();
        std::size_t unacked = hooks_.size() - acked_.size();
        std::printf(
            R"({"target":"%s:%s","rate_requested":%.1f,"connections":%d,"sent":%zu,"acked":%zu,"unacked":%zu,)"
            R"("attempts":%llu,"status_200":%llu,"status_503":%llu,"status_other":%llu,"statuses":{%s},)"
            R"("no_answer":%llu,"connect_errors":%llu,"connects":%llu,)"
            R"("latency_first_attempt":%s,"latency_final":%s,)"
            R"("achieved_rate":%.1f,"ack_rate":%.1f,"elapsed_s":%.3f})"
            "\n",
            opt_.host.c_str(), opt_.port.c_str(), opt_.rate, opt_.connections, sent_, acked_.size(), unacked,
            static_cast<unsigned long long>(attempts_), static_cast<unsigned long long>(status_count(200)),
            static_cast<unsigned long long>(status_count(503)), static_cast<unsigned long long>(other),
            statuses.c_str(), static_cast<unsigned long long>(no_answer_),
            static_cast<unsigned long long>(connect_errors_), static_cast<unsigned long long>(connects_),
            latency_json(first_us_).c_str(), latency_json(final_us_).c_str(),
            gen_s > 0 ? static_cast<double>(sent_) / gen_s : 0.0,
            total_s > 0 ? static_cast<double>(acked_.size()) / total_s : 0.0, total_s);
        std::fflush(stdout);
        return unacked == 0 ? 0 : 1;
    }

    Options opt_;
    asio::io_context io_;
    asio::steady_timer timer_;
    tcp::resolver::results_type endpoints_;
    std::vector<std::unique_ptr<Conn>> conns_;
    std::vector<Webhook> hooks_;
    std::deque<std::size_t> ready_;
    using Due = std::pair<Clock::time_point, std::size_t>;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> retries_;
    Clock::time_point start_, last_progress_, last_ack_, last_first_send_, wait_start_;
    bool wait_started_ = false;
    std::size_t sent_ = 0, done_ = 0;
    std::uint64_t attempts_ = 0, no_answer_ = 0, connect_errors_ = 0, connects_ = 0;
    std::map<unsigned, std::uint64_t> statuses_;
    std::vector<double> first_us_, final_us_;
    std::vector<std::size_t> acked_;
};

}  // namespace

int main(int argc, char** argv) {
    try {
        return LoadGenerator(parse(argc, argv)).run();
    } catch (const std::exception& e) {
        std::cerr << "convo-loadgen: " << e.what() << "\n";
        return 2;
    }
}
