"""bench/: the playground's speed and quality, measured side by side with what a user would run instead."""
