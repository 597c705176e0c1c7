// The sidecar tests' view of the database (libpq, blocking): one connection, queries with text
// parameters returning the first column of the first row, and polling with a deadline (ingest
// runs in the sidecar's workers, some time after the webhook was acknowledged).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace convo::sidecar_tests {

class TestDatabase {
public:
    explicit TestDatabase(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str()), &PQfinish) {
        if (PQstatus(conn_.get()) != CONNECTION_OK)
            throw std::runtime_error(std::string("cannot connect to the test database: ") + PQerrorMessage(conn_.get()));
    }

    // The first column of the first row; nullopt for SQL NULL or no row. Throws on an error.
    std::optional<std::string> value(const std::string& sql, const std::vector<std::string>& params = {}) {
        auto rows = column(sql, params);
        if (rows.empty()) return std::nullopt;
        return rows.front();
    }

    std::string text(const std::string& sql, const std::vector<std::string>& params = {}) {
        return value(sql, params).value_or("");
    }

    long long number(const std::string& sql, const std::vector<std::string>& params = {}) {
        auto v = value(sql, params);
        return v ? std::stoll(*v) : 0;
    }

    // The first column of every row (NULLs left out).
    std::vector<std::string> column(const std::string& sql, const std::vector<std::string>& params = {}) {
        std::vector<const char*> values;
        for (const auto& p : params) values.push_back(p.c_str());
        std::unique_ptr<PGresult, decltype(&PQclear)> res(
            PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                         nullptr, 0),
            &PQclear);
        auto status = PQresultStatus(res.get());
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
            throw std::runtime_error(sql + ": " + PQresultErrorMessage(res.get()));
        std::vector<std::string> out;
        for (int r = 0; r < PQntuples(res.get()); ++r)
            if (!PQgetisnull(res.get(), r, 0)) out.emplace_back(PQgetvalue(res.get(), r, 0));
        return out;
    }

    // Asks `done` every 50 ms until it is true or `timeout` passes; returns its last answer.
    static bool poll(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            if (done()) return true;
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

private:
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

}  // namespace convo::sidecar_tests
