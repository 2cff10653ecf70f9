"""Reporting's rules, pure: the facts of an issue and their view, rates, rankings, the lists,
durations, the scope of a read and the periods. No FastAPI, Kafka or MongoDB here."""
