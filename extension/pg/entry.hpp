// CONVO_FUNCTION(name) declares a SQL-callable function whose body is C++:
//
//   CONVO_FUNCTION(convo_free_window) { ... return datum; }
//
// The body may throw; the shim catches everything and raises it as a PostgreSQL ERROR with the
// right SQLSTATE, from a frame where no C++ object is alive any more. This header needs no
// PostgreSQL header: it writes out what PG_FUNCTION_INFO_V1 would.
#pragma once

#include "pg/declarations.hpp"
#include "pg/error.hpp"

namespace convo::pg {

// The layout of PostgreSQL's Pg_finfo_record (checked in function.cpp): version 1 calling
// convention.
struct FunctionInfoRecord {
    int api_version;
};

using CppFunction = Datum (*)(FunctionCallInfo);

// Calls fn; any exception becomes ERROR. Defined out of line so that the ereport happens in a
// frame of its own with only trivially destructible locals.
Datum call_cpp(CppFunction fn, FunctionCallInfo fcinfo);

}  // namespace convo::pg

#define CONVO_FUNCTION(name)                                                           \
    extern "C" {                                                                       \
    CONVO_EXPORT const convo::pg::FunctionInfoRecord* pg_finfo_##name(void);           \
    const convo::pg::FunctionInfoRecord* pg_finfo_##name(void) {                       \
        static const convo::pg::FunctionInfoRecord info{1};                            \
        return &info;                                                                  \
    }                                                                                  \
    CONVO_EXPORT Datum name(FunctionCallInfo fcinfo);                                  \
    }                                                                                  \
    static Datum name##_cpp(FunctionCallInfo fcinfo);                                  \
    Datum name(FunctionCallInfo fcinfo) { return convo::pg::call_cpp(name##_cpp, fcinfo); } \
    static Datum name##_cpp([[maybe_unused]] FunctionCallInfo fcinfo)
