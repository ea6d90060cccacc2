"""The sync client, generated from `client/_async/` by `scripts/unasync.py`: do not edit."""
