"""`apply_once` across OS processes: two writers of the same documents, each applying every
event in an order of its own (as two instances do during a rebalance, or intake's API beside
its consumer). Every event lands exactly once: `$inc` counts it, `$push` lists it."""

import subprocess
import sys
from collections import Counter

import pytest
from pymongo import MongoClient

from devkit.infra import REPO, Endpoints

pytestmark = pytest.mark.integration

EVENTS, DOCUMENTS = 240, 4
WORKER = "tests.integration.apply_once_worker"


def test_two_processes_apply_each_event_once(servers: Endpoints, namespace: str) -> None:
    database = f"{namespace}_apply"
    arguments = [servers.mongo_url, database, str(EVENTS), str(DOCUMENTS)]
    workers = [
        subprocess.Popen([sys.executable, "-m", WORKER, *arguments, str(seed)], cwd=REPO)
        for seed in (1, 2)
    ]
    assert [worker.wait(timeout=240) for worker in workers] == [0, 0]
    client: MongoClient[dict[str, object]] = MongoClient(servers.mongo_url)
    try:
        documents = list(client[database]["docs"].find())
        assert len(documents) == DOCUMENTS
        for document in documents:
            expected = {f"e{n}" for n in range(EVENTS) if f"d{n % DOCUMENTS}" == document["_id"]}
            order = document["order"]
            assert isinstance(order, list)
            assert Counter(order) == Counter(expected)  # none lost, none twice
            assert document["n"] == len(expected)
            assert sorted(document["_applied"]) == sorted(expected)  # type: ignore[call-overload]
    finally:
        client.drop_database(database)
        client.close()
