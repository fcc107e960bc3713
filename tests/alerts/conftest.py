from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import App, Backend
from tests.fixtures.alerting import alerting_app


@pytest.fixture
async def alerting(backend: Backend) -> AsyncIterator[App]:
    async with alerting_app(backend) as app:
        yield app
