// Included last by pure C++ files of the core: they must not see PostgreSQL's headers, whose
// macros (snprintf, foreach, Max...) and longjmp-based errors do not mix with this code.
#pragma once

#ifdef POSTGRES_H
#error "convo core files are pure C++: include PostgreSQL headers only under extension/pg and extension/api"
#endif
