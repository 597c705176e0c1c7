// The window as JSON (see window_json.hpp).
#include "api/window_json.hpp"

#include "pg/api_only.hpp"  // last

namespace convo::api {

void write_window(pg::JsonbWriter& out, const WindowState& w) {
    out.begin_object();
    out.key("open");
    out.boolean(w.open);
    out.key("expires_at");
    out.optional_timestamptz(w.expires_at);
    out.key("seconds_left");
    out.int64(w.seconds_left);
    out.key("entry_point_until");
    out.optional_timestamptz(w.entry_point_until);
    out.key("template_required");
    out.boolean(w.template_required);
    out.end_object();
}

}  // namespace convo::api
