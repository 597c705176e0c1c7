// Twilio WhatsApp webhooks: form-encoded POSTs signed with X-Twilio-Signature.
#include "webhooks/intake.hpp"

#include "core/error.hpp"
#include "core/form_urlencoded.hpp"
#include "webhooks/signature.hpp"

#include <optional>

namespace convo::sidecar::webhooks {
namespace {

constexpr std::string_view source = "twilio";

http::Response ok() {
    return http::make_response(http::bhttp::status::ok, "text/xml",
                               R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
}

void receive(const Intake& intake, http::Request& request, const http::RouteMatch& match, http::Respond respond) {
    auto header = request.find("X-Twilio-Signature");
    if (header == request.end()) return reject_unauthorized(source, match.account, "missing X-Twilio-Signature", respond);
    std::string_view signature = header->value();
    std::string_view target = request.target();

    // Form bodies are signed by their parameters; JSON bodies by the bodySHA256 in the URL.
    FormParams params;
    std::optional<std::string> body_sha256;
    try {
        for (auto& [name, value] : parse_form_urlencoded(http::target_query(target))) {
            if (name == "bodySHA256") body_sha256 = std::move(value);
        }
        if (!body_sha256) params = parse_form_urlencoded(request.body());
    } catch (const convo::Error&) {
        respond(http::make_response(http::bhttp::status::bad_request, "text/plain", "malformed form encoding\n"));
        return;
    }
    const std::string& body = request.body();
    std::string url;
    bool valid = intake.any_account(match.account, [&](const AccountSecrets& account) {
        if (account.twilio_auth_token.empty()) return false;
        url.assign(account.twilio_public_url).append(target);
        return twilio_signature_valid(signature, account.twilio_auth_token, url, params,
                                      body_sha256 ? &*body_sha256 : nullptr, body);
    });
    if (!valid) return reject_unauthorized(source, match.account, "X-Twilio-Signature does not match", respond);
    store(intake, source, std::move(request.body()), std::move(respond), ok);
}

}  // namespace

void add_twilio_routes(http::Router& router, std::shared_ptr<const Intake> intake) {
    router.add(http::bhttp::verb::post, "/webhook/twilio",
               [intake](http::Request& request, const http::RouteMatch& match, http::Respond respond) {
                   receive(*intake, request, match, std::move(respond));
               }, true);
}

}  // namespace convo::sidecar::webhooks
