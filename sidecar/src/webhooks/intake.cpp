// The inbox write behind every webhook, and account selection (see intake.hpp).
#include "webhooks/intake.hpp"

#include "db/pg_text.hpp"
#include "log.hpp"
#include "webhooks/body_text.hpp"

namespace convo::sidecar::webhooks {

bool Intake::any_account(std::string_view account, const std::function<bool(const AccountSecrets&)>& check) const {
    for (const auto& secrets : accounts) {
        if (!account.empty() && secrets.name != account) continue;
        if (check(secrets)) return true;
    }
    return false;
}

void store(const Intake& intake, std::string_view source, std::string body, http::Respond respond,
           http::Response (*ok)()) {
    db::InboxItem item;
    item.source = std::string(source);
    std::string problem = db::pg_text_problem(body);
    if (problem.empty()) {
        item.body = std::move(body);
    } else {
        // Kept for inspection, never ingested: text columns take neither bad UTF-8 nor NUL.
        log::warn("body_not_text", {{"source", source}, {"reason", problem}});
        item.body = base64_encode(body);
        item.dead_reason = problem + "; the body is stored base64-encoded";
    }
    intake.put(std::move(item), [respond = std::move(respond), ok, source](db::PutOutcome outcome) {
        if (outcome.committed) return respond(ok());
        log::warn("inbox_put_failed", {{"source", source}, {"error", outcome.error}});
        auto response = http::make_response(http::bhttp::status::service_unavailable, "text/plain",
                                            "not stored, try again\n");
        response.set(http::bhttp::field::retry_after, "1");
        respond(std::move(response));
    });
}

void reject_unauthorized(std::string_view source, std::string_view account, std::string_view reason,
                         const http::Respond& respond) {
    log::warn("webhook_rejected", {{"source", source}, {"account", account.empty() ? "(any)" : account},
                                   {"reason", reason}});
    respond(http::make_response(http::bhttp::status::unauthorized, "text/plain", "unauthorized\n"));
}

}  // namespace convo::sidecar::webhooks
