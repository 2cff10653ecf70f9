"""The console's rules: who its users are, what an office may do now, how a refusal reads,
the two languages. Pure: no HTTP, no database."""
