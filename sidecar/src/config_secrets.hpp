// Webhook secrets per account: the single "default" account from CONVO_META_* / CONVO_TWILIO_* /
// CONVO_VAPI_SECRET (or their _FILE variants), and the accounts of CONVO_SIDECAR_SECRETS_FILE.
// Error messages name variables, files, accounts and keys, never a secret's value.
#pragma once

#include "config.hpp"
#include "config_source.hpp"

#include <vector>

namespace convo::sidecar {

std::vector<AccountSecrets> load_accounts(const ConfigSource& source);

}  // namespace convo::sidecar
