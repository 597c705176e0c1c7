-- The round trip alone, with the same \set as the other variants (pgbench 15 also needs one:
-- without a meta-command it logs a fast transaction's latency as 0).
\set n random(1, :count)
SELECT 1;
