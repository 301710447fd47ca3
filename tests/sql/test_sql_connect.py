"""Driver glue: the token reaches the driver only as SQL_COPT_SS_ACCESS_TOKEN, never as text.

A fake driver module records what `connect` hands it. With mssql-python installed (it is an
optional dependency, absent in CI), one more test connects the real driver to a closed loopback
port to show its failure arrives as one clear SqlConnectError.
"""

from __future__ import annotations

import struct
import types
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from identity_reconciler.apply.sql_connector import default_connector
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.sql_connect import (
    SQL_COPT_SS_ACCESS_TOKEN,
    SqlConnectError,
    SqlDriverMissing,
    connect,
    connection_string,
    load_driver,
    token_struct,
)

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2RhdGFiYXNlIn0.c2lnbmF0dXJl"


class Credential:
    def __init__(self, fail: bool = False) -> None:
        self.scopes: list[str] = []
        self.fail = fail

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        if self.fail:
            raise ClientAuthenticationError(f"no credential worked\nBearer {JWT}")
        return AccessToken(JWT, 4102444800)


def fake_driver(name: str, error: Exception | None = None) -> tuple[types.ModuleType, list[Any]]:
    calls: list[Any] = []
    module = types.ModuleType(name)

    def driver_connect(conn_str: str, **kwargs: Any) -> object:
        calls.append((conn_str, kwargs))
        if error is not None:
            raise error
        return object()

    module.connect = driver_connect  # type: ignore[attr-defined]
    return module, calls


def test_token_struct_is_length_prefixed_utf16le() -> None:
    packed = token_struct("abc€")
    (size,) = struct.unpack("<I", packed[:4])
    assert size == len(packed) - 4 == 8
    assert packed[4:].decode("utf-16-le") == "abc€"


def test_connection_string_braces_values_and_holds_no_secret() -> None:
    assert connection_string("s.database.windows.net", "app;db}") == (
        "Server=tcp:s.database.windows.net,1433;Database={app;db}}};Encrypt=yes;"
        "TrustServerCertificate=no;"
    )
    with_driver = connection_string("s", "d", odbc_driver="ODBC Driver 18 for SQL Server")
    assert with_driver.startswith("Driver={ODBC Driver 18 for SQL Server};Server=tcp:s,1433;")


@pytest.mark.parametrize(
    ("cloud", "scope"),
    [("azure", "https://database.windows.net/.default"),
     ("azure-china", "https://database.chinacloudapi.cn/.default")],
)
def test_mssql_python_gets_the_token_as_a_preconnect_attribute(cloud: str, scope: str) -> None:
    module, calls = fake_driver("mssql_python")
    cred = Credential()
    connect("s.database.windows.net", "appdb", cred, cloud=cloud, driver=module, timeout=7)
    assert cred.scopes == [scope]
    ((conn_str, kwargs),) = calls
    assert JWT not in conn_str
    assert "Driver=" not in conn_str  # mssql-python brings its own
    assert kwargs == {
        "autocommit": False,
        "attrs_before": {SQL_COPT_SS_ACCESS_TOKEN: token_struct(JWT)},
        "timeout": 7,
    }


def test_pyodbc_names_the_odbc_driver() -> None:
    module, calls = fake_driver("pyodbc")
    connect("s", "appdb", Credential(), driver=module)
    assert calls[0][0].startswith("Driver={ODBC Driver 18 for SQL Server};")


def test_driver_failure_is_one_clear_error_without_the_token() -> None:
    module, _ = fake_driver("pyodbc", RuntimeError(f"Login failed (18456) for token {JWT}"))
    with pytest.raises(SqlConnectError) as info:
        connect("s", "appdb", Credential(), driver=module)
    message = str(info.value)
    assert message.startswith("cannot connect to database 'appdb' on s with pyodbc: Login failed")
    assert JWT not in message


def test_token_failure_is_one_clear_error_without_the_token() -> None:
    module, calls = fake_driver("mssql_python")
    with pytest.raises(SqlConnectError) as info:
        connect("s", "appdb", Credential(fail=True), driver=module)
    assert str(info.value) == "cannot get an Entra token for Azure SQL: no credential worked"
    assert calls == []


def test_unknown_cloud_is_refused() -> None:
    module, _ = fake_driver("mssql_python")
    with pytest.raises(SqlConnectError, match="no Azure SQL endpoint is known for cloud 'mars'"):
        connect("s", "appdb", Credential(), cloud="mars", driver=module)


def test_missing_driver_says_what_to_install() -> None:
    with pytest.raises(SqlDriverMissing) as info:
        load_driver(("identity_reconciler_no_such_driver",))
    assert str(info.value) == (
        "install mssql-python to manage SQL users (pip install mssql-python)"
    )


def test_no_connector_on_the_local_emulator() -> None:
    local = Session(cloud="local", arm_endpoint="https://127.0.0.1:1", scope="s",
                    credential=Credential())
    assert default_connector(local) is None
    cloud = Session(cloud="azure", arm_endpoint="https://management.azure.com", scope="s",
                    credential=Credential())
    assert callable(default_connector(cloud))


def test_real_mssql_python_failure_is_a_clear_error() -> None:
    driver = pytest.importorskip("mssql_python")
    with pytest.raises(SqlConnectError) as info:
        connect("127.0.0.1", "appdb", Credential(), driver=driver, timeout=2)
    assert str(info.value).startswith("cannot connect to database 'appdb' on 127.0.0.1 with ")
    assert JWT not in str(info.value)
