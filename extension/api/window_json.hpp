// The window as JSON, the same for convo.free_window and convo.build_context.
#pragma once

#include "core/free_window.hpp"
#include "pg/values.hpp"

namespace convo::api {

// Writes {open, expires_at, seconds_left, entry_point_until, template_required} at the
// writer's current position (as a value after a key, or as the whole document).
void write_window(pg::JsonbWriter& out, const WindowState& w);

}  // namespace convo::api
