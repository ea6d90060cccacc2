"""The client written once, async: the source that the sync client (`client/_sync/`) is made from.

One module per domain (`workspaces`, `files`, `actions`, `tasks`, `alm`), each a namespace over
a runner (`runner.AsyncRunner`); `driver` performs the core's flows; `client` names the
namespaces. `scripts/unasync.py` generates `client/_sync/` from these files.
"""
