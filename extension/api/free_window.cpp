// SQL API: convo.free_window(conversation_id, at) and convo.can_send_freeform(conversation_id).
// The rules live in core/free_window.cpp; this file reads the conversation's summary row.
#include "core/free_window.hpp"

#include "api/window_json.hpp"
#include "pg/entry.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {
namespace {

// One index probe (conversations_conversation_id). Row-level security applies: a caller of
// another account sees no row, exactly as if the conversation did not exist.
pg::KeptPlan read_window_inputs{
    "SELECT last_inbound_at, entry_point_at, entry_point_replied_at"
    "  FROM convo.conversations WHERE conversation_id = $1",
    1,
    {pg::oid::uuid}};

WindowInputs load_inputs(const pg::Uuid& conversation_id, const char* function) {
    pg::Spi spi;
    pg::Params params;
    params.uuid(conversation_id);
    pg::Rows rows = spi.execute(read_window_inputs, params, /*read_only=*/true, 1);
    if (rows.empty())
        throw Error(sqlstate::no_data_found,
                    std::string(function) + ": unknown conversation " + pg::uuid_to_string(conversation_id));
    WindowInputs in{rows.timestamptz(0, 1), rows.timestamptz(0, 2), rows.timestamptz(0, 3)};
    spi.finish();
    return in;
}

pg::Uuid required_uuid(FunctionCallInfo fcinfo, int n, const char* function, const char* what) {
    auto id = pg::arg_uuid(fcinfo, n);
    if (!id) throw Error(sqlstate::null_value, std::string(function) + ": " + what + " must not be NULL");
    return *id;
}

}  // namespace
}  // namespace convo::api

using namespace convo;

CONVO_FUNCTION(convo_free_window) {
    const char* fn = "convo.free_window";
    pg::Uuid id = api::required_uuid(fcinfo, 0, fn, "conversation_id");
    Micros at = pg::arg_timestamptz(fcinfo, 1).value_or(pg::transaction_now());
    WindowState w = compute_window(api::load_inputs(id, fn), at);

    pg::JsonbWriter out;
    api::write_window(out, w);
    return out.finish();
}

CONVO_FUNCTION(convo_can_send_freeform) {
    const char* fn = "convo.can_send_freeform";
    pg::Uuid id = api::required_uuid(fcinfo, 0, fn, "conversation_id");
    WindowState w = compute_window(api::load_inputs(id, fn), pg::transaction_now());
    return pg::bool_datum(w.open);
}
