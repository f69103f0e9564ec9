"""Fixtures of the model tests: an empty registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta_strategy.models.registry import ModelRegistry


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    """An empty model registry in ``tmp_path``."""
    return ModelRegistry(tmp_path / "models.sqlite")
