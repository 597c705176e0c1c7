// The sidecar's configuration: environment variables, optionally a file of the same
// KEY=VALUE lines (CONVO_SIDECAR_CONFIG_FILE; the environment wins over the file).
//
//   CONVO_SIDECAR_LISTEN            address:port to listen on            127.0.0.1:8080
//   CONVO_SIDECAR_THREADS           I/O threads                          2
//   CONVO_SIDECAR_DATABASE_URL      libpq conninfo or URI                (required)
//   CONVO_SIDECAR_POOL_SIZE         connections for webhook writes       4
//   CONVO_SIDECAR_MAX_GROUP         most webhooks committed together     1000
//   CONVO_SIDECAR_PUT_TIMEOUT_MS    commit wait before a 503             5000
//   CONVO_SIDECAR_CONNECT_TIMEOUT_MS database connection attempt limit   3000
//   CONVO_SIDECAR_RECONNECT_MAX_MS  reconnect backoff cap                2000
//   CONVO_SIDECAR_WORKERS           ingest workers (0: none)             1
//   CONVO_SIDECAR_WORKER_BATCH      inbox items per ingest call          100
//   CONVO_SIDECAR_POLL_MS           ingest poll when no NOTIFY comes     2000
//   CONVO_SIDECAR_BODY_LIMIT        largest request body, bytes          1048576
//   CONVO_SIDECAR_HEADER_TIMEOUT_MS a request from its first byte       10000
//   CONVO_SIDECAR_IDLE_TIMEOUT_MS   wait for a request's first byte      60000
//   CONVO_SIDECAR_READY_MAX_LAG_S   /health/ready fails above this lag   60
//   CONVO_SIDECAR_LOG_LEVEL         trace|debug|info|warn|error|off      info
//
// Unset and empty are the same. Durations are whole milliseconds (seconds for _S), >= 1.
//
// Secrets, per account (a name of letters, digits, '_' or '-' chosen by the operator):
//   CONVO_SIDECAR_SECRETS_FILE      JSON file: {"accounts": [{"name": ..., "meta_app_secret": ...,
//                                   "meta_verify_token": ..., "twilio_auth_token": ...,
//                                   "twilio_public_url": ..., "vapi_secret": ...}]}
//   or, for a single account named "default", the variables CONVO_META_APP_SECRET,
//   CONVO_META_VERIFY_TOKEN, CONVO_TWILIO_AUTH_TOKEN, CONVO_TWILIO_PUBLIC_URL, CONVO_VAPI_SECRET
//   (each may also be given as <NAME>_FILE: the path of a file holding the value).
// A webhook path may name its account (/webhook/whatsapp/<name>); without a name every
// account's secret is tried.
#pragma once

#include "db/db_config.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace convo::sidecar {

struct AccountSecrets {
    std::string name;
    std::string meta_app_secret;     // empty: this account takes no Meta webhooks
    std::string meta_verify_token;
    std::string twilio_auth_token;
    std::string twilio_public_url;   // the URL Twilio signs, as configured in its console
    std::string vapi_secret;         // expected X-Vapi-Secret value
};

struct Config {
    std::string listen_address = "127.0.0.1";
    unsigned short listen_port = 8080;
    int threads = 2;
    std::size_t body_limit = 1 << 20;
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds idle_timeout{60000};
    std::chrono::seconds ready_max_lag{60};
    std::string log_level = "info";
    db::DbConfig db;
    std::vector<AccountSecrets> accounts;
};

// Reads the configuration from `env` (name -> value; main passes the process environment).
// Missing required values or malformed numbers raise std::invalid_argument naming the variable,
// never its value.
Config load_config(const std::map<std::string, std::string>& env);

}  // namespace convo::sidecar
