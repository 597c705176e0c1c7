// Included last by every file under extension/api (make checks that it is): such a file reaches PostgreSQL only through extension/pg, so it
// can neither call a PostgreSQL function unguarded nor use a macro that may raise ERROR
// (PG_GETARG_*, PG_DETOAST_DATUM, CHECK_FOR_INTERRUPTS...). The compiler enforces it: if any
// header included before this one brought PostgreSQL's headers, the build stops here.
#pragma once

#ifdef POSTGRES_H
#error "this file must not see PostgreSQL's headers: call the wrappers of extension/pg (see pg/declarations.hpp)"
#endif
