// Meta WhatsApp Cloud API webhooks: the GET verification handshake and signed POSTs.
#include "webhooks/intake.hpp"

#include "core/error.hpp"
#include "core/form_urlencoded.hpp"
#include "log.hpp"
#include "webhooks/signature.hpp"

namespace convo::sidecar::webhooks {
namespace {

constexpr std::string_view source = "whatsapp";

http::Response ok() { return http::make_response(http::bhttp::status::ok, "text/plain", "OK"); }

// GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C -> 200 with C when T matches.
void verify(const Intake& intake, const http::Request& request, const http::RouteMatch& match,
            const http::Respond& respond) {
    std::string mode, token, challenge;
    try {
        for (auto& [name, value] : parse_form_urlencoded(http::target_query(request.target()))) {
            if (name == "hub.mode") mode = std::move(value);
            else if (name == "hub.verify_token") token = std::move(value);
            else if (name == "hub.challenge") challenge = std::move(value);
        }
    } catch (const convo::Error&) {
        mode.clear();  // a malformed query verifies nothing
    }
    bool valid = mode == "subscribe" && !challenge.empty() && !token.empty() &&
                 intake.any_account(match.account, [&token](const AccountSecrets& account) {
                     return !account.meta_verify_token.empty() && secret_equals(token, account.meta_verify_token);
                 });
    if (!valid) {
        log::warn("verification_rejected", {{"source", source},
                                            {"account", match.account.empty() ? "(any)" : match.account}});
        respond(http::make_response(http::bhttp::status::forbidden, "text/plain", "forbidden\n"));
        return;
    }
    auto response = http::make_response(http::bhttp::status::ok, "text/plain", std::move(challenge));
    response.set("X-Content-Type-Options", "nosniff");
    respond(std::move(response));
}

// POST with X-Hub-Signature-256 over the raw body.
void receive(const Intake& intake, http::Request& request, const http::RouteMatch& match, http::Respond respond) {
    auto header = request.find("X-Hub-Signature-256");
    if (header == request.end()) return reject_unauthorized(source, match.account, "missing X-Hub-Signature-256", respond);
    std::string_view signature = header->value();
    const std::string& body = request.body();
    bool valid = intake.any_account(match.account, [&](const AccountSecrets& account) {
        return meta_signature_valid(signature, account.meta_app_secret, body);
    });
    if (!valid) return reject_unauthorized(source, match.account, "X-Hub-Signature-256 does not match", respond);
    store(intake, source, std::move(request.body()), std::move(respond), ok);
}

}  // namespace

void add_whatsapp_routes(http::Router& router, std::shared_ptr<const Intake> intake) {
    router.add(http::bhttp::verb::get, "/webhook/whatsapp",
               [intake](http::Request& request, const http::RouteMatch& match, http::Respond respond) {
                   verify(*intake, request, match, respond);
               }, true);
    router.add(http::bhttp::verb::post, "/webhook/whatsapp",
               [intake](http::Request& request, const http::RouteMatch& match, http::Respond respond) {
                   receive(*intake, request, match, std::move(respond));
               }, true);
}

}  // namespace convo::sidecar::webhooks
