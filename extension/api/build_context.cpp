// SQL API: convo.build_context(conversation_id, options) — the one call an assistant makes
// before each LLM request.
//
// Hit: one index probe reads the conversation's window columns, both context versions and the
// cached context; the window is computed now and added. Miss: the reads of context_reads.cpp
// (the conversation once, then contact + profile + cart in one statement, the history, the
// route), the assembly of core/context_assembly.cpp, the jsonb of context_json.cpp; the context
// is stored with the versions read first, and returned.
#include <optional>
#include <string>
#include <vector>

#include "api/build_context.hpp"
#include "api/context_json.hpp"
#include "core/context_assembly.hpp"
#include "core/context_options.hpp"
#include "pg/entry.hpp"
#include "pg/jsonb_merge.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {

Datum build_context(FunctionCallInfo fcinfo, const ReleaseReads& reads) {
    auto id = pg::arg_uuid(fcinfo, 0);
    if (!id) throw Error(sqlstate::null_value, "convo.build_context: conversation_id must not be NULL");
    auto options_text = pg::arg_jsonb_text(fcinfo, 1);
    Micros now = pg::transaction_now();

    pg::Spi spi;
    ContextOptions opt = parse_context_options(options_text, reads.limits(spi));
    std::string options_key = opt.cache_key();
    ContextHead head = read_head(spi, *id, options_key);
    WindowState window = compute_window(head.window, now);
    if (head.cached) {
        spi.finish();
        return pg::merge_objects(*head.cached, write_live_part(window, true));
    }

    ContextValues values = reads.values(spi, head);
    const ProfileValues& profile = values.profile;
    Transcript transcript =
        make_transcript(read_history(spi, head, opt.history.value_or(profile.history_length), reads.messages));
    if (transcript.latest_customer < 0)
        if (auto latest = read_latest_customer_message(spi, head, reads.messages))
            add_latest_customer_message(transcript, *latest);
    Route route = reads.route(spi, head, profile, transcript.latest_text());
    const ToolSet& tools = read_tools(spi, head, profile.tools);
    std::optional<std::vector<Order>> orders;
    if (opt.include_orders) orders = read_orders(spi, head);

    PromptFields fields{profile.business_name.value_or(head.account_name), values.customer.name.value_or(""),
                        values.cart.prompt_line, head.current_step.value_or(""), profile.step_instruction,
                        profile.style};
    FittedPrompt prompt = assemble_prompt(profile.system_template, fields, std::move(transcript), tools.tokens,
                                          static_cast<std::size_t>(opt.max_tokens.value_or(profile.token_budget)));

    // Written in SPI's memory, kept, then copied out before SPI's memory goes.
    Datum built = write_context({prompt, tools, route, head.contact_id, values.customer, values.cart,
                                 orders ? &*orders : nullptr});
    // A context routed to a cached answer is not kept: the answer may expire on its own.
    if (!route.cached_answer && !pg::transaction_read_only())
        store_context(spi, head, options_key, values.cart.expires_at, built);
    std::vector<char> context = pg::varlena_copy(built);
    spi.finish();
    return pg::merge_objects(pg::varlena_datum(context), write_live_part(window, false));
}

}  // namespace convo::api

// The C symbol of 0.2.0's SQL; 0.1.0's (convo_build_context) is build_context_0_1.cpp.
CONVO_FUNCTION(convo_build_context_0_2) {
    static const convo::api::ReleaseReads reads{convo::api::context_limits, convo::api::read_context_values,
                                                convo::api::read_route, convo::api::MessagesTable::current};
    return convo::api::build_context(fcinfo, reads);
}
