"""Plan -> dependency graph -> bounded-concurrency executor with retries and stale checks."""
