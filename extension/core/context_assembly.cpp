// Prompt assembly (see context_assembly.hpp).
#include "core/context_assembly.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/token_estimate.hpp"
#include "core/cpp_only.hpp"

namespace convo {
namespace {

std::string with_text(std::string tag, const OptionalString& text) {
    if (text && !text->empty()) tag += " " + *text;
    return tag;
}

std::string payload_string(const std::string& payload_json, const char* object, const char* key) {
    auto doc = nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) return {};
    auto it = doc.find(object);
    if (it == doc.end() || !it->is_object()) return {};
    auto v = it->find(key);
    return v != it->end() && v->is_string() ? v->get<std::string>() : std::string{};
}

bool payload_flag(const std::string& payload_json, const char* object, const char* key) {
    auto doc = nlohmann::json::parse(payload_json, nullptr, false);
    if (!doc.is_object() || !doc.contains(object) || !doc[object].is_object()) return false;
    auto v = doc[object].find(key);
    return v != doc[object].end() && v->is_boolean() && v->get<bool>();
}

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t message_tokens(const ChatMessage& m) {
    return estimate_tokens(m.content) + kTokensPerMessage;
}

}  // namespace

std::string message_text(const HistoryMessage& m) {
    const std::string& t = m.type;
    if (t == "text" || t == "interactive" || t == "button") return m.body.value_or("");
    if (t == "image" || t == "video" || t == "sticker") return with_text("[" + t + "]", m.body);
    if (t == "audio")
        return payload_flag(m.payload_json, "audio", "voice") ? "[voice note]" : "[audio]";
    if (t == "document") {
        std::string name = payload_string(m.payload_json, "document", "filename");
        return with_text(name.empty() ? "[document]" : "[document: " + name + "]", m.body);
    }
    if (t == "location") return with_text("[location]", m.body);
    if (t == "contacts") return with_text("[contact card]", m.body);
    if (t == "reaction")
        return m.body && !m.body->empty() ? "[reaction " + *m.body + "]" : "[reaction removed]";
    if (t == "template") {
        std::string name = payload_string(m.payload_json, "template", "name");
        return name.empty() ? "[template]" : "[template: " + name + "]";
    }
    if (t == "system") return with_text("[notice]", m.body);
    if (t == "order") return with_text("[order]", m.body);
    if (t == "unsupported") return "[unsupported message]";
    if (t == "deleted") return "[message deleted]";
    return with_text("[" + t + "]", m.body);
}

std::string render_system_prompt(std::string_view tmpl, const PromptFields& f) {
    const std::pair<std::string_view, const std::string*> fields[] = {
        {"business_name", &f.business_name}, {"customer_name", &f.customer_name},
        {"cart", &f.cart}, {"step", &f.step}, {"step_instruction", &f.step_instruction},
        {"style", &f.style}};

    std::string out;
    std::size_t pos = 0;
    while (pos <= tmpl.size()) {
        std::size_t eol = tmpl.find('\n', pos);
        if (eol == std::string_view::npos) eol = tmpl.size();
        std::string_view line = tmpl.substr(pos, eol - pos);
        pos = eol + 1;

        std::string rendered;
        int placeholders = 0;
        int empty = 0;
        std::size_t i = 0;
        while (i < line.size()) {
            std::size_t open = line.find("{{", i);
            std::size_t close = open == std::string_view::npos ? open : line.find("}}", open + 2);
            if (close == std::string_view::npos) {
                rendered.append(line.substr(i));
                break;
            }
            rendered.append(line.substr(i, open - i));
            std::string_view name = line.substr(open + 2, close - open - 2);
            const std::string* value = nullptr;
            for (const auto& [key, v] : fields)
                if (key == name) value = v;
            if (value) {
                ++placeholders;
                if (value->empty()) ++empty;
                rendered.append(*value);
            } else {
                rendered.append(line.substr(open, close + 2 - open));
            }
            i = close + 2;
        }
        if (placeholders > 0 && empty == placeholders) continue;  // nothing to say on this line
        if (rendered.find_first_not_of(" \t\r") == std::string::npos) continue;  // condensed: no blank lines
        out.append(rendered);
        out.push_back('\n');
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

std::string truncate_to_tokens(std::string_view text, std::size_t max_tokens) {
    if (estimate_tokens(text) <= max_tokens) return std::string(text);
    static constexpr std::string_view kEllipsis = "…";
    if (max_tokens <= estimate_tokens(kEllipsis)) return {};
    // Longest prefix that fits: the estimate grows with the prefix, so bisect on its length.
    std::size_t lo = 0, hi = text.size();
    std::string candidate;
    while (lo < hi) {
        std::size_t mid = lo + (hi - lo + 1) / 2;
        while (mid > lo && mid < text.size() && is_utf8_continuation(text[mid])) --mid;
        if (mid == lo) break;
        candidate.assign(text.substr(0, mid));
        candidate.append(kEllipsis);
        if (estimate_tokens(candidate) <= max_tokens)
            lo = mid;
        else
            hi = mid - 1;
    }
    std::string out(text.substr(0, lo));
    out.append(kEllipsis);
    return out;
}

FittedPrompt fit_to_budget(ChatMessage system, std::vector<ChatMessage> history,
                           long latest_customer, std::size_t tools_tokens, std::size_t budget) {
    FittedPrompt fit;
    fit.limit = budget;
    std::size_t used = message_tokens(system) + tools_tokens + kTokensReplyPriming;
    std::vector<bool> keep(history.size(), false);

    if (latest_customer >= 0 && static_cast<std::size_t>(latest_customer) < history.size()) {
        ChatMessage& latest = history[latest_customer];
        std::size_t cost = message_tokens(latest);
        if (used + cost > budget) {
            std::size_t room = budget > used + kTokensPerMessage ? budget - used - kTokensPerMessage : 0;
            latest.content = truncate_to_tokens(latest.content, std::max(room, kMinLatestMessageTokens));
            fit.truncated = true;
            cost = message_tokens(latest);
        }
        used += cost;
        keep[latest_customer] = true;
    }
    // Newest first; the first message that does not fit ends the history (no gaps).
    for (std::size_t i = history.size(); i-- > 0;) {
        if (keep[i]) continue;
        std::size_t cost = message_tokens(history[i]);
        if (fit.truncated || used + cost > budget) break;
        used += cost;
        keep[i] = true;
    }

    fit.messages.push_back(std::move(system));
    for (std::size_t i = 0; i < history.size(); ++i) {
        if (keep[i])
            fit.messages.push_back(std::move(history[i]));
        else
            ++fit.dropped;
    }
    fit.used = used;
    fit.over_budget = used > budget;
    return fit;
}

std::string Transcript::latest_text() const {
    return latest_customer >= 0 ? messages[static_cast<std::size_t>(latest_customer)].content : std::string{};
}

Transcript make_transcript(const std::vector<HistoryMessage>& newest_first) {
    Transcript t;
    t.messages.reserve(newest_first.size());
    for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
        if (it->inbound) t.latest_customer = static_cast<long>(t.messages.size());
        t.messages.push_back({it->inbound ? "user" : "assistant", message_text(*it)});
    }
    return t;
}

void add_latest_customer_message(Transcript& t, const HistoryMessage& m) {
    if (t.latest_customer >= 0) return;  // already there
    t.messages.insert(t.messages.begin(), {"user", message_text(m)});
    t.latest_customer = 0;
}

FittedPrompt assemble_prompt(std::string_view system_template, const PromptFields& fields, Transcript transcript,
                             std::size_t tools_tokens, std::size_t budget) {
    ChatMessage system{"system", render_system_prompt(system_template, fields)};
    return fit_to_budget(std::move(system), std::move(transcript.messages), transcript.latest_customer, tools_tokens,
                         budget);
}

}  // namespace convo
