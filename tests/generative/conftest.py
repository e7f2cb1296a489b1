"""Generative tests train their judge classifier once per session, in a private cache folder."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def classifier_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gymforge-cache")
    previous = os.environ.get("GYMFORGE_CACHE")
    os.environ["GYMFORGE_CACHE"] = str(folder)  # subprocesses (tests.helpers.gymforge) inherit it
    yield folder
    if previous is None:
        os.environ.pop("GYMFORGE_CACHE", None)
    else:
        os.environ["GYMFORGE_CACHE"] = previous
