SELECT convo.cache_get('response', 'hot');
