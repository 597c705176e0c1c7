\set k random(1, 1000000)
SELECT convo.cache_try_lock('debounce', 'media:' || :k, '5 minutes');
