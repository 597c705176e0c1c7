# convo — PostgreSQL extension (PGXS) plus the developer commands.
#
#   make test    install what is missing, build, run every suite (pgTAP + C++)
#   make run     build, then a persistent local cluster under ./.convo with demo data, and
#                convo-sidecar (webhooks) in front of it
#   make stop    stop the sidecar and that cluster
#   make bench   benchmarks (tests/bench), printed side by side
#
# The extension itself: C++ sources under extension/, SQL parts under sql/,
# concatenated in the order below into the install script.

EXTENSION  = convo
# The version has one owner: the control file's default_version.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" convo.control)
MODULE_big = convo

SRCS = $(wildcard extension/core/*.cpp extension/pg/*.cpp extension/api/*.cpp)
OBJS = $(SRCS:.cpp=.o)

# Order matters: tables first, then the helpers several parts share, then functions, then roles
# and row-level security. Each part's header says what it needs.
SQL_PARTS = \
	sql/tables.sql \
	sql/common.sql \
	sql/accounts.sql \
	sql/message_triggers.sql \
	sql/free_window.sql \
	sql/ingest.sql \
	sql/outbound.sql \
	sql/outbox.sql \
	sql/inbox.sql \
	sql/bot_profiles.sql \
	sql/products.sql \
	sql/tools.sql \
	sql/response_cache.sql \
	sql/model_routing.sql \
	sql/context.sql \
	sql/cache.sql \
	sql/indexes.sql \
	sql/jobs.sql \
	sql/security.sql \
	sql/tool_access.sql \
	sql/backup.sql

DATA_built = sql/convo--$(EXTVERSION).sql
# Released install scripts are kept as they shipped (sql/releases), beside the upgrade chain
# (sql/convo--A--B.sql): ALTER EXTENSION convo UPDATE walks it, and the upgrade test installs
# each release and checks that the walk ends in the same schema as a fresh install.
DATA = $(wildcard sql/releases/convo--*.sql) $(wildcard sql/convo--*--*.sql)
EXTRA_CLEAN = build tests/boundary/*.o tests/boundary/*.so

PG_CONFIG ?= pg_config
INCLUDEDIR_SERVER := $(shell $(PG_CONFIG) --includedir-server)

# PostgreSQL headers are system headers for us: our warnings stay errors, theirs are not ours.
PG_CPPFLAGS += -Iextension -isystem $(INCLUDEDIR_SERVER)
PG_CXXFLAGS += -std=c++20 -Wall -Wextra -Werror -Wno-register -fvisibility=hidden
SHLIB_LINK  += -lstdc++

# Debian builds PostgreSQL with LLVM; its bitcode step ignores PG_CXXFLAGS and would
# compile our C++20 as C++14. JIT inlining of these functions is not worth that trap.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# Header changes rebuild everything: the tree is small and stale objects are worse.
$(OBJS): $(wildcard extension/*/*.hpp)

.PHONY: deps check-api unit sidecar tokenizer-check pgtap test run stop bench format

deps:
	scripts/install-deps.sh

# Every file under extension/api includes pg/api_only.hpp last, which stops the build if
# PostgreSQL's headers came in before it: api/ reaches PostgreSQL only through extension/pg.
check-api:
	@for f in extension/api/*.cpp; do \
		grep '^#include' "$$f" | tail -n 1 | grep -q '"pg/api_only.hpp"' || \
			{ echo "$$f: its last #include must be \"pg/api_only.hpp\"" >&2; exit 1; }; \
	done

# C++ unit tests of the pure core (no PostgreSQL), built with sanitizers.
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DCONVO_SANITIZE=ON > /dev/null
	cmake --build build -j2
	cd build && ctest --output-on-failure

# convo-sidecar and its test clients alone (the same build directory as `make unit`).
sidecar:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DCONVO_SANITIZE=ON > /dev/null
	cmake --build build -j2 --target convo-loadgen sidecar_http_test $(if $(wildcard sidecar/src/main.cpp),convo-sidecar)

# The token estimator against the real tokenizer (npm gpt-tokenizer, installed for this check
# only; the first run needs the npm registry): prints the error distribution, fails on a miss.
tokenizer-check:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DCONVO_SANITIZE=ON > /dev/null
	cmake --build build -j2 --target token_accuracy
	tests/tokenizer/check.sh build

# The scenarios start convo-sidecar and its test clients from the build directory of `make unit`.
pgtap: all install sidecar
	$(MAKE) -C tests/boundary
	CONVO_BUILD_DIR=build scripts/test-cluster.sh

test: deps check-api
	$(MAKE) all
	$(MAKE) -C tests/boundary
	$(MAKE) install
	$(MAKE) unit
	$(MAKE) tokenizer-check
	CONVO_BUILD_DIR=build scripts/test-cluster.sh

run: deps
	$(MAKE) all
	$(MAKE) install
	$(MAKE) sidecar
	CONVO_BUILD_DIR=build scripts/run-cluster.sh start

stop:
	scripts/run-cluster.sh stop

bench: deps
	$(MAKE) all
	$(MAKE) install
	tests/bench/run.sh
	tests/bench/cache.sh
	tests/bench/sidecar.sh

format:
	clang-format -i $(SRCS) $(wildcard extension/*/*.hpp tests/unit/*.cpp)
