"""One test per endpoint (``path`` is parametrised by conftest.py), each asserting on its stored answer."""


def test_endpoint(answers: dict[str, int], path: str) -> None:
    assert answers[path] == 200
