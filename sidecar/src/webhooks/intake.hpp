// What the webhook handlers share: the accounts whose secrets they check, and the durable
// inbox write that must succeed before a webhook is acknowledged.
//
// The write is a function (main binds it to db::Database::put) so handlers can be tested with
// a stand-in for the database.
#pragma once

#include "config.hpp"
#include "db/database.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace convo::sidecar::webhooks {

using PutFn = std::function<void(db::InboxItem, std::function<void(db::PutOutcome)>)>;

struct Intake {
    PutFn put;
    std::vector<AccountSecrets> accounts;

    // True if `check` holds for the account named by the path segment `account`, or, when the
    // path names none, for any configured account. An unknown name matches nothing.
    bool any_account(std::string_view account, const std::function<bool(const AccountSecrets&)>& check) const;
};

// Stores `body` in the inbox as `source` (a string literal), then answers `ok()`; 503 if it is not committed. A
// body that is not valid UTF-8 or holds NUL is stored dead, base64-encoded, with the reason.
void store(const Intake& intake, std::string_view source, std::string body, http::Respond respond,
           http::Response (*ok)());

// A rejected signature or token: logged (account and reason, never the value), answered 401.
void reject_unauthorized(std::string_view source, std::string_view account, std::string_view reason,
                         const http::Respond& respond);

void add_whatsapp_routes(http::Router& router, std::shared_ptr<const Intake> intake);
void add_twilio_routes(http::Router& router, std::shared_ptr<const Intake> intake);
void add_vapi_routes(http::Router& router, std::shared_ptr<const Intake> intake);

}  // namespace convo::sidecar::webhooks
