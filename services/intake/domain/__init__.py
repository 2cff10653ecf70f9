"""Intake's rules: who may do what, the status view, scope, privacy and masking, the catalogue,
and the errors they raise. Pure: no FastAPI, Kafka or MongoDB."""
