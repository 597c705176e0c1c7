// Memory contexts from C++ (see memory.hpp).
#include "pg/memory.hpp"

#include "pg/postgres.hpp"

namespace convo::pg {

MemoryContext current_memory_context() { return CurrentMemoryContext; }

MemoryContextScope::MemoryContextScope(MemoryContext context)
    : previous_(MemoryContextSwitchTo(context)) {}

MemoryContextScope::~MemoryContextScope() { MemoryContextSwitchTo(previous_); }

}  // namespace convo::pg
