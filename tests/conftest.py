"""Shared test set-up: headless pygame, one torch thread (small networks run fastest that way on 2 cores),
and the `slow` learning checks, skipped unless --slow is given (CI gives it)."""

import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import torch  # after the SDL variables, before any test imports pygame through gymnasium

torch.set_num_threads(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the slow learning checks (CI does)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow learning check: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
