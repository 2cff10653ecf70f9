"""How routing is reached: its read-only HTTP views and its subscription to the issue log."""
