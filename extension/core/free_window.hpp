// The WhatsApp customer-service window and the free entry point window.
//
//   window       a free-form message may be sent while `at` is before the customer's last
//                inbound message + 24 h. Only the customer opens or extends it.
//   entry point  a customer who came through a Click-to-WhatsApp ad or a Page button, and got
//                a business reply within 24 h, opens a 72 h free entry point window from that
//                reply: messages in it are free (templates included). It does not allow
//                free-form messages once the 24 h window has closed.
#pragma once

#include "core/time.hpp"

namespace convo {

inline constexpr Micros kServiceWindow = 24 * kMicrosPerHour;
inline constexpr Micros kEntryPointReplyDeadline = 24 * kMicrosPerHour;
inline constexpr Micros kEntryPointWindow = 72 * kMicrosPerHour;

// The conversation columns the window depends on.
struct WindowInputs {
    OptionalMicros last_inbound_at;
    OptionalMicros entry_point_at;          // when the customer came through the entry point
    OptionalMicros entry_point_replied_at;  // first business reply to it
};

struct WindowState {
    bool open = false;
    OptionalMicros expires_at;         // last inbound + 24 h; none when no inbound ever
    std::int64_t seconds_left = 0;     // whole seconds until expires_at, 0 when closed
    OptionalMicros entry_point_until;  // end of the 72 h window while it runs, else none
    bool template_required = true;     // !open: only an approved template may be sent
};

// The window at time `at`. O(1): looks only at the conversation's summary columns.
WindowState compute_window(const WindowInputs& in, Micros at);

}  // namespace convo
