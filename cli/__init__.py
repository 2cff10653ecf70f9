"""`huiyin`: the operators' command line. It speaks to the services' HTTP APIs only (and,
for the dead-letter topic, which no service serves, to Kafka)."""
