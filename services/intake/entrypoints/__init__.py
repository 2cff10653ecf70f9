"""How requests and events come in: the native HTTP API, Open311, the log consumer."""
