"""How reporting is reached: the HTTP routers (api, lists, admin, the domain metrics), the
query parameters of a scope, the one error mapping, and the event subscription."""
