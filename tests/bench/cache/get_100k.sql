\set k random(1, 100000)
SELECT convo.cache_get('response', 'k' || :k);
