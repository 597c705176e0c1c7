// Prometheus text format: label escaping, cumulative histogram buckets, the sidecar's metrics.
#include "metrics/registry.hpp"
#include "metrics/sidecar_metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace convo::sidecar::metrics;

TEST(Metrics, LabelValuesAreEscaped) {
    EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n"), R"(a\\b\"c\n)");
    Registry registry;
    registry.counter("x_total", "Help with \\ and\nnewline", {"path"}).with({"say \"hi\"\n"}).inc(3);
    EXPECT_EQ(registry.render(),
              "# HELP x_total Help with \\\\ and\\nnewline\n"
              "# TYPE x_total counter\n"
              "x_total{path=\"say \\\"hi\\\"\\n\"} 3\n");
}

TEST(Metrics, CountersByLabels) {
    Registry registry;
    auto& family = registry.counter("r_total", "R", {"route", "status"});
    family.with({"/a", "200"}).inc();
    family.with({"/a", "200"}).inc();
    family.with({"/a", "404"}).inc();
    // Label values that would collide if simply concatenated stay apart.
    family.with({"/a2", "00"}).inc(5);
    std::string text = registry.render();
    EXPECT_NE(text.find("r_total{route=\"/a\",status=\"200\"} 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("r_total{route=\"/a\",status=\"404\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("r_total{route=\"/a2\",status=\"00\"} 5\n"), std::string::npos) << text;
    EXPECT_THROW(family.with({"/a"}), std::logic_error);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    Registry registry;
    auto& family = registry.histogram("d_seconds", "D", {"route"}, {0.1, 0.01, 1});
    auto& h = family.with({"/x"});
    h.observe(0.005);
    h.observe(0.01);   // on a bound: counts in that bucket (le is inclusive)
    h.observe(0.5);
    h.observe(7);
    EXPECT_EQ(registry.render(),
              "# HELP d_seconds D\n"
              "# TYPE d_seconds histogram\n"
              "d_seconds_bucket{route=\"/x\",le=\"0.01\"} 2\n"
              "d_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
              "d_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
              "d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
              "d_seconds_sum{route=\"/x\"} 7.515\n"
              "d_seconds_count{route=\"/x\"} 4\n");
}

TEST(Metrics, ThreadSafeUpdates) {
    Registry registry;
    auto& family = registry.counter("c_total", "C", {"k"});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&family] {
            static const char* keys[] = {"0", "1", "2"};
            for (int i = 0; i < 10000; ++i) family.with({keys[i % 3]}).inc();
        });
    }
    for (auto& thread : threads) thread.join();
    std::string text = registry.render();
    EXPECT_NE(text.find("c_total{k=\"0\"} 13336\n"), std::string::npos) << text;
    EXPECT_NE(text.find("c_total{k=\"1\"} 13332\n"), std::string::npos) << text;
}

TEST(Metrics, FormatValue) {
    EXPECT_EQ(format_value(0.005), "0.005");
    EXPECT_EQ(format_value(0.0005), "0.0005");
    EXPECT_EQ(format_value(2), "2");
    EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
}

TEST(SidecarMetrics, RendersEveryContractMetric) {
    convo::sidecar::db::Counters counters;
    counters.puts_committed = 5;
    counters.pool_size = 4;
    SidecarMetrics metrics(&counters);
    metrics.request("/webhook/whatsapp", 200, 0.0015);
    metrics.request("/webhook/whatsapp", 401, 0.0001);
    convo::sidecar::db::InboxHealth inbox;
    inbox.reachable = true;
    inbox.pending = 3;
    inbox.dead = 1;
    inbox.oldest_pending_seconds = 2.5;
    std::string text = metrics.render(&inbox);
    for (const char* line : {
             "convo_sidecar_http_requests_total{route=\"/webhook/whatsapp\",status=\"200\"} 1\n",
             "convo_sidecar_http_requests_total{route=\"/webhook/whatsapp\",status=\"401\"} 1\n",
             "convo_sidecar_http_request_duration_seconds_bucket{route=\"/webhook/whatsapp\",le=\"0.002\"} 2\n",
             "convo_sidecar_http_request_duration_seconds_count{route=\"/webhook/whatsapp\"} 2\n",
             "convo_sidecar_inbox_puts_total{result=\"committed\"} 5\n",
             "convo_sidecar_inbox_puts_total{result=\"failed\"} 0\n",
             "convo_sidecar_commit_groups_total 0\n",
             "convo_sidecar_ingest_total{result=\"done\"} 0\n",
             "convo_sidecar_ingest_total{result=\"retry\"} 0\n",
             "convo_sidecar_ingest_total{result=\"dead\"} 0\n",
             "convo_sidecar_ingest_errors_total 0\n",
             "convo_sidecar_inbox_pending 3\n",
             "convo_sidecar_inbox_dead 1\n",
             "convo_sidecar_inbox_oldest_pending_seconds 2.5\n",
             "convo_sidecar_pool_connections{state=\"configured\"} 4\n",
             "convo_sidecar_pool_connections{state=\"connected\"} 0\n",
             "convo_sidecar_pool_connections{state=\"busy\"} 0\n",
             "convo_sidecar_puts_waiting 0\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
    inbox.reachable = false;
    EXPECT_EQ(metrics.render(&inbox).find("convo_sidecar_inbox_pending"), std::string::npos);
}
