// Webhook secrets per account (see config_secrets.hpp).
#include "config_secrets.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <stdexcept>

namespace convo::sidecar {
namespace {

bool valid_account_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// A secret from NAME or from the file named by NAME_FILE (one trailing newline dropped).
std::optional<std::string> read_secret(const ConfigSource& source, const std::string& name) {
    auto direct = source.get(name);
    auto path = source.get(name + "_FILE");
    if (direct && path) throw std::invalid_argument("set only one of " + name + " and " + name + "_FILE");
    if (direct) return direct;
    if (!path) return std::nullopt;
    std::string value = read_config_file(*path, name + "_FILE");
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (value.empty()) throw std::invalid_argument(name + "_FILE: the file " + *path + " is empty");
    return value;
}

std::optional<AccountSecrets> env_account(const ConfigSource& source) {
    AccountSecrets account;
    account.name = "default";
    bool any = false;
    const auto take = [&](const char* name, std::string& into) {
        if (auto value = read_secret(source, name)) {
            into = std::move(*value);
            any = true;
        }
    };
    take("CONVO_META_APP_SECRET", account.meta_app_secret);
    take("CONVO_META_VERIFY_TOKEN", account.meta_verify_token);
    take("CONVO_TWILIO_AUTH_TOKEN", account.twilio_auth_token);
    take("CONVO_TWILIO_PUBLIC_URL", account.twilio_public_url);
    take("CONVO_VAPI_SECRET", account.vapi_secret);
    if (!any) return std::nullopt;
    return account;
}

std::vector<AccountSecrets> file_accounts(const ConfigSource& source) {
    const std::string variable = "CONVO_SIDECAR_SECRETS_FILE";
    auto path = source.get(variable);
    if (!path) return {};
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(read_config_file(*path, variable));
    } catch (const nlohmann::json::parse_error& e) {
        // e.what() quotes the text around the error, which may be a secret: give the offset only.
        throw std::invalid_argument(variable + ": " + *path + " is not valid JSON (error at byte " +
                                    std::to_string(e.byte) + ")");
    }
    if (!doc.is_object() || !doc.contains("accounts") || !doc["accounts"].is_array()) {
        throw std::invalid_argument(variable + ": " + *path + " must be an object with an \"accounts\" array");
    }
    static const std::set<std::string> keys = {"name", "meta_app_secret", "meta_verify_token",
                                               "twilio_auth_token", "twilio_public_url", "vapi_secret"};
    std::vector<AccountSecrets> accounts;
    for (std::size_t i = 0; i < doc["accounts"].size(); ++i) {
        const auto& entry = doc["accounts"][i];
        const std::string where = variable + ": accounts[" + std::to_string(i) + "]";
        if (!entry.is_object()) throw std::invalid_argument(where + " must be an object");
        for (const auto& [key, value] : entry.items()) {
            if (!keys.count(key)) throw std::invalid_argument(where + " has an unknown key \"" + key + "\"");
            if (!value.is_string()) throw std::invalid_argument(where + "." + key + " must be a string");
        }
        const auto field = [&entry](const char* key) {
            return entry.contains(key) ? entry[key].get<std::string>() : std::string();
        };
        AccountSecrets account;
        account.name = field("name");
        if (account.name.empty()) throw std::invalid_argument(where + " has no \"name\"");
        account.meta_app_secret = field("meta_app_secret");
        account.meta_verify_token = field("meta_verify_token");
        account.twilio_auth_token = field("twilio_auth_token");
        account.twilio_public_url = field("twilio_public_url");
        account.vapi_secret = field("vapi_secret");
        accounts.push_back(std::move(account));
    }
    return accounts;
}

// Checks one account and normalises its Twilio URL (no trailing slash).
void check_account(AccountSecrets& account) {
    const std::string where = "account \"" + account.name + "\"";
    if (!valid_account_name(account.name)) {
        throw std::invalid_argument("account names are 1-64 letters, digits, '_' or '-' (CONVO_SIDECAR_SECRETS_FILE)");
    }
    auto& url = account.twilio_public_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (!account.twilio_auth_token.empty() && url.empty()) {
        throw std::invalid_argument(where + ": a Twilio auth token needs twilio_public_url (CONVO_TWILIO_PUBLIC_URL)");
    }
    if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        throw std::invalid_argument(where + ": twilio_public_url (CONVO_TWILIO_PUBLIC_URL) must start with http:// or https://");
    }
    if (url.find_first_of("?#") != std::string::npos) {
        throw std::invalid_argument(where + ": twilio_public_url (CONVO_TWILIO_PUBLIC_URL) must be an origin or origin+path, without query");
    }
}

}  // namespace

std::vector<AccountSecrets> load_accounts(const ConfigSource& source) {
    std::vector<AccountSecrets> accounts = file_accounts(source);
    if (auto account = env_account(source)) accounts.push_back(std::move(*account));
    std::set<std::string> names;
    for (auto& account : accounts) {
        check_account(account);
        if (!names.insert(account.name).second) {
            throw std::invalid_argument("account \"" + account.name +
                                        "\" is configured twice (CONVO_SIDECAR_SECRETS_FILE and the CONVO_META_*/"
                                        "CONVO_TWILIO_*/CONVO_VAPI_SECRET variables, or twice in the file)");
        }
    }
    return accounts;
}

}  // namespace convo::sidecar
