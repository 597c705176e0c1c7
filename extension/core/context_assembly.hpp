// Assembling the prompt an assistant sends before each LLM request: the system message
// rendered from the bot profile's template, the recent history as chat messages, all of it
// fitted to a token budget.
//
//   budget   tokens the request may use: messages (each with its framing overhead) plus the
//            tool definitions; the reply is not counted.
//   trimming drop the oldest history first; never the system message nor the latest customer
//            message; that one is truncated only when it alone does not fit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/notification.hpp"

namespace convo {

// Tokens a chat message costs beyond its content (role and separators), and the priming of
// the reply, in the OpenAI chat format.
inline constexpr std::size_t kTokensPerMessage = 4;
inline constexpr std::size_t kTokensReplyPriming = 3;

// A stored message as history sees it.
struct HistoryMessage {
    bool inbound = true;
    std::string type;
    OptionalString body;
    std::string payload_json;  // for details a placeholder shows (file name, template name)
};

struct ChatMessage {
    std::string role;  // system, user, assistant
    std::string content;
};

// What a reader of the transcript sees of a message: its text, or a short placeholder for
// media ("[image] caption"), locations, reactions, templates...
std::string message_text(const HistoryMessage& m);

// Values for the template's placeholders. A line whose placeholders are all empty is dropped,
// so a template can mention the cart without printing "Cart: ." for an empty one.
struct PromptFields {
    std::string business_name;
    std::string customer_name;
    std::string cart;
    std::string step;
    std::string step_instruction;
    std::string style;
};

// Renders {{business_name}} {{customer_name}} {{cart}} {{step}} {{step_instruction}}
// {{style}}; unknown placeholders are left as written. Blank lines are dropped: the prompt is
// paid for on every request.
std::string render_system_prompt(std::string_view tmpl, const PromptFields& fields);

// The longest prefix of text (cut at a UTF-8 boundary) that fits in max_tokens, with an
// ellipsis when something was cut.
std::string truncate_to_tokens(std::string_view text, std::size_t max_tokens);

struct FittedPrompt {
    std::vector<ChatMessage> messages;  // system first, then history in chronological order
    std::size_t used = 0;               // estimated tokens: messages + tools + reply priming
    std::size_t limit = 0;
    std::size_t dropped = 0;            // history messages left out
    bool truncated = false;             // the latest customer message was cut to fit
    bool over_budget = false;           // system + tools + the kept minimum do not fit at all
};

// What is kept of the latest customer message when the system message and tools leave it
// no room: an assistant must still see what it answers.
inline constexpr std::size_t kMinLatestMessageTokens = 32;

// Fits system + history (chronological) + tools into budget. latest_customer is the index in
// history of the latest customer message, or -1.
FittedPrompt fit_to_budget(ChatMessage system, std::vector<ChatMessage> history,
                           long latest_customer, std::size_t tools_tokens, std::size_t budget);

// The history as chat messages, in reading order, and where the latest customer message is.
struct Transcript {
    std::vector<ChatMessage> messages;  // inbound -> user, outbound -> assistant, oldest first
    long latest_customer = -1;          // index in messages, -1 when the customer wrote nothing

    // What the customer wrote last, as the model sees it ("" when nothing): what routing reads.
    std::string latest_text() const;
};

// The transcript of the last messages, given newest first (as the index returns them).
Transcript make_transcript(const std::vector<HistoryMessage>& newest_first);

// Puts the latest customer message in front of a transcript that lacks it: it is always part
// of the context, even beyond the history length.
void add_latest_customer_message(Transcript& t, const HistoryMessage& m);

// The system message rendered from the profile's template, then the transcript, fitted to the
// budget with the tools' tokens counted.
FittedPrompt assemble_prompt(std::string_view system_template, const PromptFields& fields, Transcript transcript,
                             std::size_t tools_tokens, std::size_t budget);

}  // namespace convo
