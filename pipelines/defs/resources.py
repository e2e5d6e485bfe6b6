"""Resources: the warehouse (a DuckDB file under READQ_HOME) and the data folder itself."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from readq.config import Home, home
from warehouse.connection import connection_config


class ReadqHome(dg.ConfigurableResource):
    """The data folder (landing, archive, warehouse, published snapshot)."""

    root: str

    @property
    def paths(self) -> Home:
        return Home(Path(self.root)).ensure()


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connection is closed when the block raises, too. (dagster-duckdb 0.29 closes
    it only on success: a failed asset leaves the connection open in the process, and the next one
    opened with other settings fails with "different configuration".)"""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        opened = super().get_connection()
        conn = opened.__enter__()
        try:
            yield conn
        finally:
            conn.close()


def build_resources(data_home: Home | None = None) -> dict:
    h = (data_home or home()).ensure()
    return {
        "duckdb": WarehouseResource(database=str(h.warehouse), connection_config=connection_config()),
        "readq_home": ReadqHome(root=str(h.root)),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
