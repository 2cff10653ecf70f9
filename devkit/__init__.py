"""Running Huiyin on one machine: find or start the infrastructure, start the services as
processes. Used by `make run`, the end-to-end tests and the benchmarks; not by the services."""
