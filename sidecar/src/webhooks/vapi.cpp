// Vapi server messages: POSTs carrying the shared secret in X-Vapi-Secret.
#include "webhooks/intake.hpp"

#include "webhooks/signature.hpp"

namespace convo::sidecar::webhooks {
namespace {

constexpr std::string_view source = "vapi";

http::Response ok() { return http::make_response(http::bhttp::status::ok, "application/json", "{}"); }

void receive(const Intake& intake, http::Request& request, const http::RouteMatch& match, http::Respond respond) {
    auto header = request.find("X-Vapi-Secret");
    if (header == request.end()) return reject_unauthorized(source, match.account, "missing X-Vapi-Secret", respond);
    std::string_view given = header->value();
    bool valid = intake.any_account(match.account, [given](const AccountSecrets& account) {
        return !account.vapi_secret.empty() && secret_equals(given, account.vapi_secret);
    });
    if (!valid) return reject_unauthorized(source, match.account, "X-Vapi-Secret does not match", respond);
    store(intake, source, std::move(request.body()), std::move(respond), ok);
}

}  // namespace

void add_vapi_routes(http::Router& router, std::shared_ptr<const Intake> intake) {
    router.add(http::bhttp::verb::post, "/webhook/vapi",
               [intake](http::Request& request, const http::RouteMatch& match, http::Respond respond) {
                   receive(*intake, request, match, std::move(respond));
               }, true);
}

}  // namespace convo::sidecar::webhooks
