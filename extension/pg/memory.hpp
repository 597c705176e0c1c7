// Memory contexts from C++: which one is current, and a scope that makes another current.
#pragma once

#include "pg/declarations.hpp"

namespace convo::pg {

// The current memory context, e.g. the caller's, remembered before SPI_connect switches away.
MemoryContext current_memory_context();

// Makes a memory context current for the scope's life (e.g. to build a result in the caller's
// context while SPI's is current), and switches back however the scope ends. Switching is a
// plain assignment in PostgreSQL: it cannot fail.
class MemoryContextScope {
public:
    explicit MemoryContextScope(MemoryContext context);
    ~MemoryContextScope();
    MemoryContextScope(const MemoryContextScope&) = delete;
    MemoryContextScope& operator=(const MemoryContextScope&) = delete;

private:
    MemoryContext previous_;
};

}  // namespace convo::pg
