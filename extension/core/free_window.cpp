// The WhatsApp customer-service window rules (see free_window.hpp).
#include "core/free_window.hpp"

#include <algorithm>

#include "core/cpp_only.hpp"

namespace convo {

WindowState compute_window(const WindowInputs& in, Micros at) {
    WindowState w;
    if (in.last_inbound_at) {
        w.expires_at = *in.last_inbound_at + kServiceWindow;
        w.open = at < *w.expires_at;
        if (w.open) {
            // A payload timestamp ahead of our clock (skew) must not promise more than 24 h.
            Micros left = std::min(*w.expires_at - at, kServiceWindow);
            w.seconds_left = left / kMicrosPerSecond;
        }
    }
    w.template_required = !w.open;

    if (in.entry_point_at && in.entry_point_replied_at &&
        *in.entry_point_replied_at >= *in.entry_point_at &&
        *in.entry_point_replied_at < *in.entry_point_at + kEntryPointReplyDeadline) {
        Micros until = *in.entry_point_replied_at + kEntryPointWindow;
        if (at >= *in.entry_point_replied_at && at < until) w.entry_point_until = until;
    }
    return w;
}

}  // namespace convo
