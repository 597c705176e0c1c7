// The one build_context flow (build_context.cpp), with the reads that depend on which
// release's SQL the database runs: 0.2.0's own (context_reads.cpp) and 0.1.0's, frozen, for a
// database not upgraded yet (build_context_0_1.cpp).
#pragma once

#include <string>

#include "api/context_reads.hpp"
#include "core/context_options.hpp"
#include "pg/declarations.hpp"

namespace convo::api {

// What a release's schema changes in the reads; everything else is the same flow.
struct ReleaseReads {
    const ContextLimits& (*limits)(pg::Spi& spi);
    ContextValues (*values)(pg::Spi& spi, const ContextHead& head);
    Route (*route)(pg::Spi& spi, const ContextHead& head, const ProfileValues& profile, const std::string& text);
    MessagesTable messages;
};

// convo.build_context(conversation_id, options) for a SQL entry point: a hit, or a miss built
// from the release's reads, assembled, stored and returned.
Datum build_context(FunctionCallInfo fcinfo, const ReleaseReads& reads);

}  // namespace convo::api
