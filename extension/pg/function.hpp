// CONVO_FUNCTION(name) declares a SQL-callable function whose body is C++:
//
//   CONVO_FUNCTION(convo_free_window) { ... return datum; }
//
// The body may throw; the shim catches everything and raises it as a PostgreSQL ERROR with
// the right SQLSTATE, from a frame where no C++ object is alive any more.
#pragma once

#include "pg/guard.hpp"

namespace convo::pg {

using CppFunction = Datum (*)(FunctionCallInfo);

// Calls fn; any exception becomes ERROR. Defined out of line so that the ereport happens in a
// frame of its own with only trivially destructible locals.
Datum call_cpp(CppFunction fn, FunctionCallInfo fcinfo);

}  // namespace convo::pg

#define CONVO_FUNCTION(name)                                                      \
    extern "C" {                                                                  \
    PG_FUNCTION_INFO_V1(name);                                                    \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                                     \
    }                                                                             \
    static Datum name##_cpp(FunctionCallInfo fcinfo);                             \
    Datum name(PG_FUNCTION_ARGS) { return convo::pg::call_cpp(name##_cpp, fcinfo); } \
    static Datum name##_cpp(FunctionCallInfo fcinfo)
