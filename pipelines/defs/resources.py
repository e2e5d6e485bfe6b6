"""Resources: the warehouse (a DuckDB file under READQ_HOME) and the data folder itself."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from readq.config import Home, home
from warehouse.connection import connection_config


class ReadqHome(dg.ConfigurableResource):
    """The data folder (landing, archive, warehouse, published snapshot)."""

    root: str

    @property
    def paths(self) -> Home:
        return Home(Path(self.root)).ensure()


def build_resources(data_home: Home | None = None) -> dict:
    h = (data_home or home()).ensure()
    return {
        "duckdb": DuckDBResource(database=str(h.warehouse), connection_config=connection_config()),
        "readq_home": ReadqHome(root=str(h.root)),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
