"""Persistence of the emulator: the `Store` interface and its SQLite implementation, and
CloudWorks' own tables (`CloudWorksStore`)."""

from .cloudworks import CloudWorksStore
from .protocol import (
    DataReader,
    DataTransaction,
    EncodedRows,
    FileReader,
    FileSnapshot,
    ItemLookup,
    ModelData,
    Store,
)
from .records import (
    OBJECT_ID_PREFIX,
    DumpRecord,
    GrantRecord,
    ModelRecord,
    ObjectKind,
    TaskOutcome,
    TaskRecord,
    UploadState,
    UserRecord,
    WorkspaceRecord,
)
from .sqlite import KEY_SEPARATOR, SqliteModelData, SqliteStore

__all__ = [
    "KEY_SEPARATOR",
    "OBJECT_ID_PREFIX",
    "CloudWorksStore",
    "DataReader",
    "DataTransaction",
    "DumpRecord",
    "EncodedRows",
    "FileReader",
    "FileSnapshot",
    "GrantRecord",
    "ItemLookup",
    "ModelData",
    "ModelRecord",
    "ObjectKind",
    "SqliteModelData",
    "SqliteStore",
    "Store",
    "TaskOutcome",
    "TaskRecord",
    "UploadState",
    "UserRecord",
    "WorkspaceRecord",
]
