\set k random(1, 100000)
SELECT convo.cache_put('media', 'p' || :k, '{"url": "https://lookaside.example/media/1", "mime_type": "image/jpeg", "file_size": 48213}');
