# PostgreSQL 15 with convo, pg_cron and pg_trgm, ready for `CREATE EXTENSION convo`.
#
#   docker build -f docker/postgres.Dockerfile -t convo-postgres .     (from the repository root)
#
# The official image is Debian bookworm with the PGDG packages, the same family convo is built
# and tested on.
FROM postgres:15-bookworm AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        make g++ postgresql-server-dev-15 nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Makefile convo.control ./
COPY extension ./extension
COPY sql ./sql
# Installs into a staging root so the runtime stage copies exactly what `make install` wrote.
RUN make -j"$(nproc)" && make install DESTDIR=/staging


FROM postgres:15-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15-cron \
 && rm -rf /var/lib/apt/lists/*

# convo, pg_cron and its jobs live in one database. The settings are passed on the command
# line so that the entrypoint's first, temporary server (which runs the init script) has them.
ENV POSTGRES_DB=convo

COPY --from=build /staging/usr/lib/postgresql/15/lib/ /usr/lib/postgresql/15/lib/
COPY --from=build /staging/usr/share/postgresql/15/extension/ /usr/share/postgresql/15/extension/

COPY docker/postgres-init.sh /docker-entrypoint-initdb.d/10-convo.sh
# Changing POSTGRES_DB means changing cron.database_name here too.
CMD ["postgres", "-c", "shared_preload_libraries=pg_cron", "-c", "cron.database_name=convo"]
