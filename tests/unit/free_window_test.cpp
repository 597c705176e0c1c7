// compute_window (core/free_window.hpp): the 24 h service window and the 72 h entry point
// window, at and around their edges.
#include "core/free_window.hpp"

#include <gtest/gtest.h>

namespace convo {
namespace {

// 2025-10-29 13:00:00 UTC, a customer's inbound message.
constexpr Micros kInbound = 1'761'742'800 * kMicrosPerSecond;
constexpr Micros kMicro = 1;
constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kHour = kMicrosPerHour;
constexpr std::int64_t kDaySeconds = 86'400;

WindowInputs inbound_at(Micros t) { return WindowInputs{t, std::nullopt, std::nullopt}; }

// A conversation that came in through an entry point and was answered at `reply`.
WindowInputs entry_point(Micros entered, OptionalMicros reply) {
    return WindowInputs{entered, entered, reply};
}

TEST(ServiceWindow, NoInboundEverIsClosed) {
    WindowState w = compute_window(WindowInputs{}, kInbound);
    EXPECT_FALSE(w.open);
    EXPECT_FALSE(w.expires_at.has_value());
    EXPECT_EQ(w.seconds_left, 0);
    EXPECT_FALSE(w.entry_point_until.has_value());
    EXPECT_TRUE(w.template_required);
}

TEST(ServiceWindow, OpenAtTheInboundMessageWithAFullDay) {
    WindowState w = compute_window(inbound_at(kInbound), kInbound);
    EXPECT_TRUE(w.open);
    ASSERT_TRUE(w.expires_at.has_value());
    EXPECT_EQ(*w.expires_at, kInbound + 24 * kHour);
    EXPECT_EQ(w.seconds_left, kDaySeconds);
    EXPECT_FALSE(w.template_required);
}

TEST(ServiceWindow, OpenOneMicrosecondBefore24Hours) {
    WindowState w = compute_window(inbound_at(kInbound), kInbound + 24 * kHour - kMicro);
    EXPECT_TRUE(w.open);
    EXPECT_FALSE(w.template_required);
    // Less than a whole second is left: seconds_left rounds down.
    EXPECT_EQ(w.seconds_left, 0);
}

TEST(ServiceWindow, ClosedAtExactly24Hours) {
    WindowState w = compute_window(inbound_at(kInbound), kInbound + 24 * kHour);
    EXPECT_FALSE(w.open);
    EXPECT_TRUE(w.template_required);
    EXPECT_EQ(w.seconds_left, 0);
    ASSERT_TRUE(w.expires_at.has_value());
    EXPECT_EQ(*w.expires_at, kInbound + 24 * kHour);
}

TEST(ServiceWindow, ClosedOneMicrosecondAfter24Hours) {
    WindowState w = compute_window(inbound_at(kInbound), kInbound + 24 * kHour + kMicro);
    EXPECT_FALSE(w.open);
    EXPECT_TRUE(w.template_required);
    EXPECT_EQ(w.seconds_left, 0);
}

TEST(ServiceWindow, OneSecondLeftOneSecondBefore24Hours) {
    WindowState w = compute_window(inbound_at(kInbound), kInbound + 24 * kHour - kSecond);
    EXPECT_TRUE(w.open);
    EXPECT_EQ(w.seconds_left, 1);
}

TEST(ServiceWindow, ClosedOneSecondAfter24Hours) {
    WindowState w = compute_window(inbound_at(kInbound), kInbound + 24 * kHour + kSecond);
    EXPECT_FALSE(w.open);
    EXPECT_TRUE(w.template_required);
    EXPECT_EQ(w.seconds_left, 0);
    ASSERT_TRUE(w.expires_at.has_value());
    EXPECT_EQ(*w.expires_at, kInbound + 24 * kHour);
}

TEST(ServiceWindow, InboundFromTheFutureLeavesAtMostADay) {
    // The payload's timestamp is an hour ahead of our clock.
    WindowState w = compute_window(inbound_at(kInbound + kHour), kInbound);
    EXPECT_TRUE(w.open);
    EXPECT_EQ(w.seconds_left, kDaySeconds);
    // expires_at still says what the payload implies; only the promise is capped.
    ASSERT_TRUE(w.expires_at.has_value());
    EXPECT_EQ(*w.expires_at, kInbound + 25 * kHour);
}

TEST(ServiceWindow, InboundOneMicrosecondInTheFutureLeavesExactlyADay) {
    WindowState w = compute_window(inbound_at(kInbound + kMicro), kInbound);
    EXPECT_TRUE(w.open);
    EXPECT_EQ(w.seconds_left, kDaySeconds);
}

TEST(EntryPoint, NoneWithoutAReply) {
    WindowState w = compute_window(entry_point(kInbound, std::nullopt), kInbound + kHour);
    EXPECT_FALSE(w.entry_point_until.has_value());
    EXPECT_TRUE(w.open);  // the service window is untouched
}

TEST(EntryPoint, NoneWithoutAnEntryPoint) {
    WindowInputs in{kInbound, std::nullopt, kInbound + kHour};
    WindowState w = compute_window(in, kInbound + 2 * kHour);
    EXPECT_FALSE(w.entry_point_until.has_value());
}

TEST(EntryPoint, NoneBeforeTheReply) {
    Micros reply = kInbound + kHour;
    WindowState w = compute_window(entry_point(kInbound, reply), reply - kMicro);
    EXPECT_FALSE(w.entry_point_until.has_value());
}

TEST(EntryPoint, ReplyWithin24HoursOpens72HoursFromTheReply) {
    Micros reply = kInbound + kHour;
    for (Micros at : {reply, reply + kSecond, reply + 24 * kHour, reply + 72 * kHour - kSecond,
                      reply + 72 * kHour - kMicro}) {
        WindowState w = compute_window(entry_point(kInbound, reply), at);
        ASSERT_TRUE(w.entry_point_until.has_value()) << "at reply + " << (at - reply) << " us";
        EXPECT_EQ(*w.entry_point_until, reply + 72 * kHour);
    }
}

TEST(EntryPoint, ReplyRightAtTheEntryCounts) {
    WindowState w = compute_window(entry_point(kInbound, kInbound), kInbound);
    ASSERT_TRUE(w.entry_point_until.has_value());
    EXPECT_EQ(*w.entry_point_until, kInbound + 72 * kHour);
}

TEST(EntryPoint, ReplyOneMicrosecondBefore24HoursCounts) {
    Micros reply = kInbound + 24 * kHour - kMicro;
    WindowState w = compute_window(entry_point(kInbound, reply), reply);
    ASSERT_TRUE(w.entry_point_until.has_value());
    EXPECT_EQ(*w.entry_point_until, reply + 72 * kHour);
}

TEST(EntryPoint, ReplyAtOrAfter24HoursOpensNothing) {
    for (Micros reply : {kInbound + 24 * kHour, kInbound + 24 * kHour + kMicro,
                         kInbound + 24 * kHour + kSecond, kInbound + 48 * kHour}) {
        WindowState w = compute_window(entry_point(kInbound, reply), reply + kHour);
        EXPECT_FALSE(w.entry_point_until.has_value())
            << "reply at entry + " << (reply - kInbound) << " us";
    }
}

TEST(EntryPoint, ReplyBeforeTheEntryOpensNothing) {
    WindowState w = compute_window(entry_point(kInbound, kInbound - kMicro), kInbound);
    EXPECT_FALSE(w.entry_point_until.has_value());
}

TEST(EntryPoint, EndsAtReplyPlus72Hours) {
    Micros reply = kInbound + kHour;
    for (Micros at :
         {reply + 72 * kHour, reply + 72 * kHour + kMicro, reply + 72 * kHour + kSecond}) {
        WindowState w = compute_window(entry_point(kInbound, reply), at);
        EXPECT_FALSE(w.entry_point_until.has_value()) << "at reply + " << (at - reply) << " us";
    }
}

TEST(EntryPoint, DoesNotOpenTheServiceWindow) {
    // Two days after the customer's message: the entry point runs, free-form stays closed.
    Micros reply = kInbound + kHour;
    WindowState w = compute_window(entry_point(kInbound, reply), kInbound + 48 * kHour);
    ASSERT_TRUE(w.entry_point_until.has_value());
    EXPECT_FALSE(w.open);
    EXPECT_TRUE(w.template_required);
    EXPECT_EQ(w.seconds_left, 0);
}

}  // namespace
}  // namespace convo
