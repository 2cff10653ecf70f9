"""The cycle check of `make lint` finds cycles, also through several modules, and only them."""

from devkit.import_cycles import _components, cycles


def test_strongly_connected_modules_are_one_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    found = sorted(sorted(c) for c in _components(edges))
    assert found == [["a", "b", "c"], ["d"], ["e"], ["f"]]


def test_the_cli_has_no_cycle() -> None:
    assert cycles(["cli"]) == []
