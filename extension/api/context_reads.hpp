// What convo.build_context reads, statement by statement, into plain values (kept plans; SPI
// applies the caller's rights and row-level security).
//
//   head      the conversation, its account and the cached context: one index probe, all a
//             hit needs; on a miss also what the next reads are keyed by.
//   context   the contact, the profile the conversation follows (convo.effective_profile),
//             the current step's instruction and the open cart (convo.open_cart): one statement.
//   history   the last n messages, newest first; the latest customer message when none of
//             them is.
//   route     convo.route_text with the profile's models and the latest customer text.
//   tools     the profile's tool definitions, kept per backend.
//   orders    the last three, when asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/context_assembly.hpp"
#include "core/context_options.hpp"
#include "core/free_window.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

namespace convo::api {

// The bounds of the options (convo.limits()), read at the backend's first call.
const ContextLimits& context_limits(pg::Spi& spi);

struct ContextHead {
    pg::Uuid account_id{};
    pg::Uuid conversation_id{};
    pg::Uuid contact_id{};
    std::optional<pg::Uuid> bot_profile_id;  // none: the account's default
    std::optional<std::string> current_step;
    std::string account_name;
    std::string account_version_tag;         // the account's version and the transaction that wrote it
    WindowInputs window;
    std::int64_t conversation_version = 0;
    std::int64_t account_version = 0;
    std::optional<Datum> cached;             // the cached context when it is still valid (caller's memory)
};

// Raises P0002 for an unknown conversation (or another account's, under row-level security).
ContextHead read_head(pg::Spi& spi, const pg::Uuid& conversation_id, const std::string& options_key);

struct ProfileValues {
    std::string system_template;
    int history_length = 0;
    int token_budget = 0;
    std::optional<std::string> tools;           // text form of the text[] of tool names
    std::optional<std::string> simple_intents;  // text form of text[], none for the built-in list
    std::string small_model;
    std::string large_model;
    std::string style;
    std::optional<std::string> business_name;   // business_info.name, else the account's name
    std::string step_instruction;
};

struct Customer {
    std::optional<std::string> name;
    std::optional<std::string> wa_id;
    std::optional<std::string> user_id;
};

struct Cart {
    std::vector<char> summary;             // convo.open_cart's summary, as it is (a jsonb varlena)
    std::string prompt_line;               // "" for an empty cart
    std::optional<Micros> expires_at;
};

struct ContextValues {
    Customer customer;
    ProfileValues profile;
    Cart cart;
};

// Raises 55000 (convo.no_bot_profile) when the account has no profile for the conversation.
ContextValues read_context_values(pg::Spi& spi, const ContextHead& head);

// Which release's messages table a read sees: 0.1.0's has no deleted_at.
enum class MessagesTable { current, v0_1 };
std::vector<HistoryMessage> read_history(pg::Spi& spi, const ContextHead& head, int n,
                                         MessagesTable table = MessagesTable::current);
std::optional<HistoryMessage> read_latest_customer_message(pg::Spi& spi, const ContextHead& head,
                                                           MessagesTable table = MessagesTable::current);

struct Route {
    std::vector<char> model;     // route_text's answer, as it is (a jsonb varlena)
    bool cached_answer = false;  // tier "cached": an answer that may expire on its own
};
Route read_route(pg::Spi& spi, const ContextHead& head, const ProfileValues& profile, const std::string& text);

// A profile's tool definitions and the tokens they cost.
struct ToolSet {
    std::vector<char> definitions;  // a jsonb varlena; empty: no tools
    std::size_t tokens = 0;
};
const ToolSet& read_tools(pg::Spi& spi, const ContextHead& head, const std::optional<std::string>& tools);

struct Order {
    std::string id, status, total, currency, created_at;
};
std::vector<Order> read_orders(pg::Spi& spi, const ContextHead& head);

// Keeps a built context for the versions read in head. valid_until: when a part of it (the
// cart) expires by itself.
void store_context(pg::Spi& spi, const ContextHead& head, const std::string& options_key,
                   const std::optional<Micros>& valid_until, Datum context);

}  // namespace convo::api
