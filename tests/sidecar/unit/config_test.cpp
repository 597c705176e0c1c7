// Configuration from the environment: defaults, each variable, bad values, secrets.
#include "config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

using convo::sidecar::Config;
using convo::sidecar::load_config;
using Env = std::map<std::string, std::string>;

namespace {

const std::string url = "host=/tmp dbname=convo";

// A file removed when the test ends.
class TempFile {
public:
    explicit TempFile(const std::string& content) {
        char name[] = "/tmp/convo-config-test-XXXXXX";
        int fd = mkstemp(name);
        if (fd < 0) throw std::runtime_error("mkstemp");
        close(fd);
        path_ = name;
        std::ofstream(path_, std::ios::binary) << content;
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// The message of the std::invalid_argument load_config raises for `env` ("" if none).
std::string error_of(const Env& env) {
    try {
        load_config(env);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Config, Defaults) {
    Config c = load_config({{"CONVO_SIDECAR_DATABASE_URL", url}});
    EXPECT_EQ(c.listen_address, "127.0.0.1");
    EXPECT_EQ(c.listen_port, 8080);
    EXPECT_EQ(c.threads, 2);
    EXPECT_EQ(c.body_limit, 1048576u);
    EXPECT_EQ(c.header_timeout.count(), 10000);
    EXPECT_EQ(c.idle_timeout.count(), 60000);
    EXPECT_EQ(c.ready_max_lag.count(), 60);
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.db.conninfo, url);
    EXPECT_EQ(c.db.pool_size, 4);
    EXPECT_EQ(c.db.max_group, 1000);
    EXPECT_EQ(c.db.put_timeout.count(), 5000);
    EXPECT_EQ(c.db.workers, 1);
    EXPECT_EQ(c.db.worker_batch, 100);
    EXPECT_EQ(c.db.poll_interval.count(), 2000);
    EXPECT_TRUE(c.accounts.empty());
}

TEST(Config, DatabaseUrlIsRequired) {
    EXPECT_NE(error_of({}).find("CONVO_SIDECAR_DATABASE_URL"), std::string::npos);
    EXPECT_NE(error_of({{"CONVO_SIDECAR_DATABASE_URL", ""}}).find("CONVO_SIDECAR_DATABASE_URL"), std::string::npos);
}

TEST(Config, EachVariable) {
    Config c = load_config({{"CONVO_SIDECAR_DATABASE_URL", url},
                            {"CONVO_SIDECAR_LISTEN", "0.0.0.0:0"},
                            {"CONVO_SIDECAR_THREADS", "3"},
                            {"CONVO_SIDECAR_POOL_SIZE", "7"},
                            {"CONVO_SIDECAR_MAX_GROUP", "50"},
                            {"CONVO_SIDECAR_PUT_TIMEOUT_MS", "1500"},
                            {"CONVO_SIDECAR_CONNECT_TIMEOUT_MS", "900"},
                            {"CONVO_SIDECAR_WORKERS", "0"},
                            {"CONVO_SIDECAR_WORKER_BATCH", "10"},
                            {"CONVO_SIDECAR_POLL_MS", "250"},
                            {"CONVO_SIDECAR_RECONNECT_MAX_MS", "800"},
                            {"CONVO_SIDECAR_BODY_LIMIT", "4096"},
                            {"CONVO_SIDECAR_HEADER_TIMEOUT_MS", "300"},
                            {"CONVO_SIDECAR_IDLE_TIMEOUT_MS", "400"},
                            {"CONVO_SIDECAR_READY_MAX_LAG_S", "5"},
                            {"CONVO_SIDECAR_LOG_LEVEL", "debug"}});
    EXPECT_EQ(c.listen_address, "0.0.0.0");
    EXPECT_EQ(c.listen_port, 0);
    EXPECT_EQ(c.threads, 3);
    EXPECT_EQ(c.db.pool_size, 7);
    EXPECT_EQ(c.db.max_group, 50);
    EXPECT_EQ(c.db.put_timeout.count(), 1500);
    EXPECT_EQ(c.db.connect_timeout.count(), 900);
    EXPECT_EQ(c.db.workers, 0);
    EXPECT_EQ(c.db.worker_batch, 10);
    EXPECT_EQ(c.db.poll_interval.count(), 250);
    EXPECT_EQ(c.db.reconnect_max_delay.count(), 800);
    EXPECT_EQ(c.body_limit, 4096u);
    EXPECT_EQ(c.header_timeout.count(), 300);
    EXPECT_EQ(c.idle_timeout.count(), 400);
    EXPECT_EQ(c.ready_max_lag.count(), 5);
    EXPECT_EQ(c.log_level, "debug");
}

TEST(Config, Ipv6Listen) {
    Config c = load_config({{"CONVO_SIDECAR_DATABASE_URL", url}, {"CONVO_SIDECAR_LISTEN", "[::1]:9000"}});
    EXPECT_EQ(c.listen_address, "::1");
    EXPECT_EQ(c.listen_port, 9000);
}

TEST(Config, MalformedValuesNameTheVariable) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"CONVO_SIDECAR_THREADS", "two"},          {"CONVO_SIDECAR_THREADS", "0"},
        {"CONVO_SIDECAR_THREADS", "2x"},           {"CONVO_SIDECAR_THREADS", " 2"},
        {"CONVO_SIDECAR_POOL_SIZE", "-1"},         {"CONVO_SIDECAR_MAX_GROUP", "1e3"},
        {"CONVO_SIDECAR_PUT_TIMEOUT_MS", "5s"},    {"CONVO_SIDECAR_WORKERS", "-2"},
        {"CONVO_SIDECAR_WORKER_BATCH", "0"},       {"CONVO_SIDECAR_POLL_MS", "99999999999999999999"},
        {"CONVO_SIDECAR_BODY_LIMIT", "1MB"},       {"CONVO_SIDECAR_HEADER_TIMEOUT_MS", "0"},
        {"CONVO_SIDECAR_IDLE_TIMEOUT_MS", "x"},    {"CONVO_SIDECAR_READY_MAX_LAG_S", "-1"},
        {"CONVO_SIDECAR_LOG_LEVEL", "verbose"},    {"CONVO_SIDECAR_LISTEN", "8080"},
        {"CONVO_SIDECAR_LISTEN", "localhost:80"},  {"CONVO_SIDECAR_LISTEN", "127.0.0.1:65536"},
        {"CONVO_SIDECAR_LISTEN", "127.0.0.1:"},    {"CONVO_SIDECAR_LISTEN", "[::1:80"},
        {"CONVO_SIDECAR_CONNECT_TIMEOUT_MS", "1.5"}, {"CONVO_SIDECAR_RECONNECT_MAX_MS", "-5"},
    };
    for (const auto& [name, value] : bad) {
        std::string message = error_of({{"CONVO_SIDECAR_DATABASE_URL", url}, {name, value}});
        EXPECT_NE(message.find(name), std::string::npos) << name << "=" << value << ": " << message;
    }
}

TEST(Config, DefaultAccountFromVariables) {
    Config c = load_config({{"CONVO_SIDECAR_DATABASE_URL", url},
                            {"CONVO_META_APP_SECRET", "m-secret"},
                            {"CONVO_META_VERIFY_TOKEN", "v-token"},
                            {"CONVO_TWILIO_AUTH_TOKEN", "t-token"},
                            {"CONVO_TWILIO_PUBLIC_URL", "https://hooks.example/"},
                            {"CONVO_VAPI_SECRET", "vapi"}});
    ASSERT_EQ(c.accounts.size(), 1u);
    const auto& a = c.accounts[0];
    EXPECT_EQ(a.name, "default");
    EXPECT_EQ(a.meta_app_secret, "m-secret");
    EXPECT_EQ(a.meta_verify_token, "v-token");
    EXPECT_EQ(a.twilio_auth_token, "t-token");
    EXPECT_EQ(a.twilio_public_url, "https://hooks.example");  // trailing slash dropped
    EXPECT_EQ(a.vapi_secret, "vapi");
}

TEST(Config, FileVariants) {
    TempFile secret("from-file\n");
    Config c = load_config({{"CONVO_SIDECAR_DATABASE_URL", url}, {"CONVO_META_APP_SECRET_FILE", secret.path()}});
    ASSERT_EQ(c.accounts.size(), 1u);
    EXPECT_EQ(c.accounts[0].meta_app_secret, "from-file");

    std::string both = error_of({{"CONVO_SIDECAR_DATABASE_URL", url},
                                 {"CONVO_VAPI_SECRET", "hunter2"},
                                 {"CONVO_VAPI_SECRET_FILE", secret.path()}});
    EXPECT_NE(both.find("CONVO_VAPI_SECRET_FILE"), std::string::npos);
    EXPECT_EQ(both.find("hunter2"), std::string::npos);
    EXPECT_EQ(both.find("from-file"), std::string::npos);

    std::string missing = error_of({{"CONVO_SIDECAR_DATABASE_URL", url},
                                    {"CONVO_TWILIO_AUTH_TOKEN_FILE", "/nonexistent/token"}});
    EXPECT_NE(missing.find("CONVO_TWILIO_AUTH_TOKEN_FILE"), std::string::npos);
}

TEST(Config, TwilioTokenNeedsAPublicUrl) {
    std::string message = error_of({{"CONVO_SIDECAR_DATABASE_URL", url}, {"CONVO_TWILIO_AUTH_TOKEN", "t0ps3cret"}});
    EXPECT_NE(message.find("CONVO_TWILIO_PUBLIC_URL"), std::string::npos);
    EXPECT_EQ(message.find("t0ps3cret"), std::string::npos);
    message = error_of({{"CONVO_SIDECAR_DATABASE_URL", url},
                        {"CONVO_TWILIO_AUTH_TOKEN", "t0ps3cret"},
                        {"CONVO_TWILIO_PUBLIC_URL", "hooks.example"}});
    EXPECT_NE(message.find("CONVO_TWILIO_PUBLIC_URL"), std::string::npos);
}

TEST(Config, SecretsFile) {
    TempFile file(R"({"accounts": [
        {"name": "shop-1", "meta_app_secret": "s1", "meta_verify_token": "v1"},
        {"name": "shop_2", "twilio_auth_token": "t2", "twilio_public_url": "http://h:8080/tw", "vapi_secret": "x2"}]})");
    Config c = load_config({{"CONVO_SIDECAR_DATABASE_URL", url}, {"CONVO_SIDECAR_SECRETS_FILE", file.path()}});
    ASSERT_EQ(c.accounts.size(), 2u);
    EXPECT_EQ(c.accounts[0].name, "shop-1");
    EXPECT_EQ(c.accounts[0].meta_app_secret, "s1");
    EXPECT_EQ(c.accounts[0].meta_verify_token, "v1");
    EXPECT_EQ(c.accounts[1].name, "shop_2");
    EXPECT_EQ(c.accounts[1].twilio_public_url, "http://h:8080/tw");
    EXPECT_EQ(c.accounts[1].vapi_secret, "x2");
}

TEST(Config, SecretsFileErrorsNeverShowSecrets) {
    const std::vector<std::string> bad = {
        R"({"accounts": [{"name": "a", "meta_app_secret": "SUPERSECRET)",          // truncated JSON
        R"({"accounts": [{"name": "a", "meta_app_secret": "SUPERSECRET"} x]})",     // garbage after
        R"({"accounts": [{"name": "a b", "meta_app_secret": "SUPERSECRET"}]})",     // bad name
        R"({"accounts": [{"meta_app_secret": "SUPERSECRET"}]})",                    // no name
        R"({"accounts": [{"name": "a", "meta_app_secret": "SUPERSECRET", "extra": "SUPERSECRET"}]})",
        R"({"accounts": [{"name": "a", "meta_app_secret": ["SUPERSECRET"]}]})",
        R"({"accounts": [{"name": "a", "vapi_secret": "SUPERSECRET"}, {"name": "a", "vapi_secret": "SUPERSECRET"}]})",
        R"(["SUPERSECRET"])",
    };
    for (const auto& content : bad) {
        TempFile file(content);
        std::string message = error_of({{"CONVO_SIDECAR_DATABASE_URL", url}, {"CONVO_SIDECAR_SECRETS_FILE", file.path()}});
        EXPECT_NE(message, "") << content;
        EXPECT_NE(message.find("CONVO_SIDECAR_SECRETS_FILE"), std::string::npos) << message;
        EXPECT_EQ(message.find("SUPERSECRET"), std::string::npos) << message;
    }
}

TEST(Config, DefaultAccountTwiceIsAnError) {
    TempFile file(R"({"accounts": [{"name": "default", "vapi_secret": "a"}]})");
    std::string message = error_of({{"CONVO_SIDECAR_DATABASE_URL", url},
                                    {"CONVO_SIDECAR_SECRETS_FILE", file.path()},
                                    {"CONVO_VAPI_SECRET", "b"}});
    EXPECT_NE(message.find("default"), std::string::npos);
}

TEST(Config, ConfigFileUnderTheEnvironment) {
    TempFile file("# sidecar\nCONVO_SIDECAR_DATABASE_URL = \"host=/x dbname=y\"\n\nCONVO_SIDECAR_THREADS=4\n"
                  "CONVO_SIDECAR_POOL_SIZE=9\n");
    Config c = load_config({{"CONVO_SIDECAR_CONFIG_FILE", file.path()}, {"CONVO_SIDECAR_POOL_SIZE", "5"}});
    EXPECT_EQ(c.db.conninfo, "host=/x dbname=y");
    EXPECT_EQ(c.threads, 4);
    EXPECT_EQ(c.db.pool_size, 5);

    TempFile broken("CONVO_VAPI_SECRET=SUPERSECRET\nSUPERSECRET\n");
    std::string message = error_of({{"CONVO_SIDECAR_CONFIG_FILE", broken.path()}});
    EXPECT_NE(message.find("CONVO_SIDECAR_CONFIG_FILE"), std::string::npos);
    EXPECT_EQ(message.find("SUPERSECRET"), std::string::npos);
}
