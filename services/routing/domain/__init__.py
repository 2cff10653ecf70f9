"""Routing's rules, pure: the city model and its checks, judging, locating, dispatch and its
candidates, duplicates, the policy and an issue's routing state. No Kafka, MongoDB or HTTP."""
