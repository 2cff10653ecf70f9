"""What intake talks to: its MongoDB store, the shared rate-limit counters, the catalogue file."""
