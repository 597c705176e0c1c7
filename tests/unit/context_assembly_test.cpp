// Prompt assembly: placeholders, template rendering, truncation, budget fitting.
#include "core/context_assembly.hpp"

#include <gtest/gtest.h>

#include "core/token_estimate.hpp"

namespace convo {
namespace {

TEST(MessageText, PlaceholdersPerType) {
    EXPECT_EQ(message_text({true, "text", "hola", "{}"}), "hola");
    EXPECT_EQ(message_text({true, "image", "rojo", "{}"}), "[image] rojo");
    EXPECT_EQ(message_text({true, "image", std::nullopt, "{}"}), "[image]");
    EXPECT_EQ(message_text({true, "audio", std::nullopt, R"({"audio": {"voice": true}})"}), "[voice note]");
    EXPECT_EQ(message_text({true, "audio", std::nullopt, "not json"}), "[audio]");
    EXPECT_EQ(message_text({true, "document", "ver", R"({"document": {"filename": "a.pdf"}})"}), "[document: a.pdf] ver");
    EXPECT_EQ(message_text({true, "reaction", "👍", "{}"}), "[reaction 👍]");
    EXPECT_EQ(message_text({true, "reaction", std::nullopt, "{}"}), "[reaction removed]");
    EXPECT_EQ(message_text({false, "template", "template:promo", R"({"template": {"name": "promo"}})"}), "[template: promo]");
    EXPECT_EQ(message_text({true, "unsupported", std::nullopt, "{}"}), "[unsupported message]");
    EXPECT_EQ(message_text({true, "deleted", std::nullopt, "{}"}), "[message deleted]");
    EXPECT_EQ(message_text({true, "interactive", "Talle 42", "{}"}), "Talle 42");
    EXPECT_EQ(message_text({true, "brand_new", std::nullopt, "{}"}), "[brand_new]");
}

TEST(SystemPrompt, RendersAndDropsEmptyLines) {
    PromptFields f{"Sol", "Ana", "", "checkout", "Confirm the address.", "Be brief."};
    std::string out = render_system_prompt(
        "You help {{customer_name}} at {{business_name}}.\nCart: {{cart}}\n\nStep {{step}}: {{step_instruction}}\n{{style}}\n{{unknown}}",
        f);
    EXPECT_EQ(out, "You help Ana at Sol.\nStep checkout: Confirm the address.\nBe brief.\n{{unknown}}");
    EXPECT_EQ(render_system_prompt("", f), "");
    EXPECT_EQ(render_system_prompt("{{cart}}", f), "");
    EXPECT_EQ(render_system_prompt("unclosed {{cart", f), "unclosed {{cart");
}

TEST(Truncate, FitsAndMarksTheCut) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "zapatos rojos ñandú ";
    std::string cut = truncate_to_tokens(text, 30);
    EXPECT_LE(estimate_tokens(cut), 30u);
    EXPECT_GT(estimate_tokens(cut), 20u);
    EXPECT_EQ(cut.substr(cut.size() - 3), "…");
    EXPECT_EQ(truncate_to_tokens("short", 30), "short");
    EXPECT_EQ(truncate_to_tokens(text, 0), "");
    // Never cuts inside a UTF-8 character.
    std::string emoji;
    for (int i = 0; i < 100; ++i) emoji += "😀";
    std::string e = truncate_to_tokens(emoji, 10);
    EXPECT_EQ((e.size() - 3) % 4, 0u);
}

std::vector<ChatMessage> history(int n) {
    std::vector<ChatMessage> h;
    for (int i = 0; i < n; ++i) h.push_back({i % 2 ? "assistant" : "user", "message number " + std::to_string(i)});
    return h;
}

TEST(Budget, KeepsEverythingWhenItFits) {
    FittedPrompt f = fit_to_budget({"system", "sys"}, history(6), 4, 0, 10000);
    EXPECT_EQ(f.messages.size(), 7u);
    EXPECT_EQ(f.dropped, 0u);
    EXPECT_FALSE(f.truncated);
    EXPECT_EQ(f.messages[0].role, "system");
    EXPECT_EQ(f.messages[1].content, "message number 0");
    EXPECT_LE(f.used, 10000u);
}

TEST(Budget, DropsOldestFirstWithoutGaps) {
    FittedPrompt all = fit_to_budget({"system", "sys"}, history(10), 8, 0, 100000);
    std::size_t per_message = (all.used - estimate_tokens("sys") - kTokensPerMessage - kTokensReplyPriming) / 10;
    std::size_t budget = all.used - 3 * per_message;
    FittedPrompt f = fit_to_budget({"system", "sys"}, history(10), 8, 0, budget);
    EXPECT_EQ(f.dropped, 3u);
    EXPECT_EQ(f.messages[1].content, "message number 3");
    EXPECT_EQ(f.messages.back().content, "message number 9");
    EXPECT_LE(f.used, budget);
}

TEST(Budget, ToolsCount) {
    FittedPrompt without = fit_to_budget({"system", "sys"}, history(4), 2, 0, 100000);
    FittedPrompt with = fit_to_budget({"system", "sys"}, history(4), 2, 500, 100000);
    EXPECT_EQ(with.used, without.used + 500);
}

TEST(Budget, LatestCustomerMessageIsKeptAndTruncatedIfAlone) {
    std::vector<ChatMessage> h = history(3);
    std::string big;
    for (int i = 0; i < 500; ++i) big += "necesito zapatos ";
    h.push_back({"user", big});
    h.push_back({"assistant", "ok"});
    FittedPrompt f = fit_to_budget({"system", "You are a shop assistant."}, h, 3, 0, 120);
    EXPECT_TRUE(f.truncated);
    ASSERT_EQ(f.messages.size(), 2u);
    EXPECT_EQ(f.messages[1].role, "user");
    EXPECT_LE(f.used, 120u);
    EXPECT_EQ(f.dropped, 4u);
}

TEST(Budget, OverBudgetKeepsAMinimumAndSaysSo) {
    std::string big(4000, 'x');
    FittedPrompt f = fit_to_budget({"system", "sys"}, {{"user", big}}, 0, 5000, 100);
    EXPECT_TRUE(f.over_budget);
    EXPECT_TRUE(f.truncated);
    EXPECT_GE(estimate_tokens(f.messages[1].content), kMinLatestMessageTokens - 2);
    EXPECT_LE(estimate_tokens(f.messages[1].content), kMinLatestMessageTokens);
}

TEST(Budget, SystemOnlyWithoutHistory) {
    FittedPrompt f = fit_to_budget({"system", "sys"}, {}, -1, 0, 100);
    ASSERT_EQ(f.messages.size(), 1u);
    EXPECT_EQ(f.dropped, 0u);
}

}  // namespace
}  // namespace convo

namespace convo {
namespace {

TEST(Transcript, ReadingOrderRolesAndLatestCustomerMessage) {
    // Newest first, as the index returns them.
    Transcript t = make_transcript({{false, "text", "¿Algo más?", "{}"},
                                    {true, "image", "este", "{}"},
                                    {false, "text", "Hola, ¿qué buscás?", "{}"},
                                    {true, "text", "Hola", "{}"}});
    ASSERT_EQ(t.messages.size(), 4u);
    EXPECT_EQ(t.messages[0].role, "user");
    EXPECT_EQ(t.messages[0].content, "Hola");
    EXPECT_EQ(t.messages[3].role, "assistant");
    EXPECT_EQ(t.latest_customer, 2);
    EXPECT_EQ(t.latest_text(), "[image] este");
}

TEST(Transcript, LatestCustomerMessageFromBeyondTheHistory) {
    Transcript t = make_transcript({{false, "text", "Gracias a vos", "{}"}});
    EXPECT_EQ(t.latest_customer, -1);
    EXPECT_EQ(t.latest_text(), "");
    add_latest_customer_message(t, {true, "audio", std::nullopt, R"({"audio": {"voice": true}})"});
    ASSERT_EQ(t.messages.size(), 2u);
    EXPECT_EQ(t.messages[0].role, "user");
    EXPECT_EQ(t.latest_customer, 0);
    EXPECT_EQ(t.latest_text(), "[voice note]");
    add_latest_customer_message(t, {true, "text", "again", "{}"});  // already there: nothing added
    EXPECT_EQ(t.messages.size(), 2u);
    EXPECT_EQ(make_transcript({}).latest_customer, -1);
}

TEST(AssemblePrompt, RendersTheTemplateAndFits) {
    PromptFields f{"Sol", "Ana", "3 items, 59.97 USD", "", "", "Be brief."};
    Transcript t = make_transcript({{true, "text", "¿Tienen el 42?", "{}"}});
    FittedPrompt p = assemble_prompt("Shop {{business_name}}.\nCart: {{cart}}.\nStep: {{step}}\n{{style}}", f,
                                     std::move(t), 10, 1000);
    ASSERT_EQ(p.messages.size(), 2u);
    EXPECT_EQ(p.messages[0].content, "Shop Sol.\nCart: 3 items, 59.97 USD.\nBe brief.");
    EXPECT_EQ(p.messages[1].content, "¿Tienen el 42?");
    EXPECT_LE(p.used, 1000u);
    EXPECT_FALSE(p.over_budget);
}

}  // namespace
}  // namespace convo
